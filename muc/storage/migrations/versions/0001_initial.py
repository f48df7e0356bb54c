"""Initial schema: rooms, affiliations, messages.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "rooms",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("jid", sa.String(length=3071), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("subject_from", sa.String(length=1023), nullable=False),
        sa.Column("subject_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("jid"),
    )
    op.create_table(
        "affiliations",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("room_id", BigId, nullable=False),
        sa.Column("jid", sa.String(length=3071), nullable=False),
        sa.Column("affiliation", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["room_id"], ["rooms.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("room_id", "jid", name="uq_affiliation_room_jid"),
    )
    op.create_table(
        "messages",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("room_id", BigId, nullable=False),
        sa.Column("stanza_id", sa.String(length=64), nullable=False),
        sa.Column("occupant_id", sa.String(length=64), nullable=True),
        sa.Column("nick", sa.String(length=1023), nullable=False),
        sa.Column("sender_jid", sa.String(length=3071), nullable=False),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("stanza", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["room_id"], ["rooms.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_messages_room_created", "messages", ["room_id", "created_at"])
    op.create_index("ix_messages_stanza_id", "messages", ["stanza_id"])


def downgrade() -> None:
    op.drop_index("ix_messages_stanza_id", table_name="messages")
    op.drop_index("ix_messages_room_created", table_name="messages")
    op.drop_table("messages")
    op.drop_table("affiliations")
    op.drop_table("rooms")
