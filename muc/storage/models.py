"""SQLAlchemy 2 models: what Haven keeps in its database.

Durable state only (see ARCHITECTURE: state): rooms and their configuration,
affiliations, and the message archive the join history is served from.
Occupants and presence are live state and never stored. The schema is
changed only through Alembic migrations (``muc/storage/migrations``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# JIDs are at most 3 x 1023 bytes (RFC 7622 §3.1); bare JIDs 2 x 1023 + 1.
JID_LEN = 3071
BigId = BigInteger().with_variant(Integer, "sqlite")  # SQLite autoincrements INTEGER only


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _now() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class RoomRow(Base):
    """A persistent room: its JID, configuration (JSON) and current subject."""

    __tablename__ = "rooms"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    jid: Mapped[str] = mapped_column(String(JID_LEN), unique=True)
    config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    subject: Mapped[str] = mapped_column(Text, default="")
    subject_from: Mapped[str] = mapped_column(String(1023), default="")
    subject_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now, onupdate=_now)


class AffiliationRow(Base):
    """One bare JID's affiliation with one room (XEP-0045 §5.2)."""

    __tablename__ = "affiliations"
    __table_args__ = (UniqueConstraint("room_id", "jid", name="uq_affiliation_room_jid"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"))
    jid: Mapped[str] = mapped_column(String(JID_LEN))
    affiliation: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text, default="")


class AuditRow(Base):
    """One entry of the append-only, hash-chained audit log (see muc.audit)."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_at", "at"), Index("ix_audit_room", "room"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(JID_LEN))
    action: Mapped[str] = mapped_column(String(64))
    room: Mapped[str | None] = mapped_column(String(JID_LEN), nullable=True)
    target: Mapped[str | None] = mapped_column(String(JID_LEN), nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class MessageRow(Base):
    """A groupchat message as the room broadcast it (the archive)."""

    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_room_created", "room_id", "created_at"),
        Index("ix_messages_stanza_id", "stanza_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"))
    stanza_id: Mapped[str] = mapped_column(String(64))
    occupant_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    nick: Mapped[str] = mapped_column(String(1023))
    sender_jid: Mapped[str] = mapped_column(String(JID_LEN))
    body: Mapped[str | None] = mapped_column(Text, nullable=True)
    stanza: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
