"""Synchronous database access: start-up loading, migrations and write batches.

Nothing here runs on the event loop while the service is serving: rooms are
loaded before the stream connects, and writes run on the writer thread
(:mod:`muc.storage.writer`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, delete, event, func, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.orm import Session

from muc.audit import GENESIS, AuditEvent, chain_hash
from muc.history import HistoryEntry
from muc.ports import ArchivedMessage
from muc.recent import DEFAULT_SIZE as RECENT_SIZE
from muc.recent import SentMessage
from muc.service import StoredRoom
from muc.storage.models import AffiliationRow, AuditRow, MessageRow, RoomRow

log = logging.getLogger(__name__)


class StorageError(Exception):
    """The database can't be used; the message says why, for the operator."""


def normalize_url(url: str) -> str:
    """Accept ``postgresql://`` and pick the psycopg 3 driver for it."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets WAL and a busy timeout for the CLI."""
    try:
        parsed = make_url(normalize_url(url))
    except ArgumentError as exc:
        raise StorageError(f"database URL {url!r} is not valid: {exc}") from exc
    kwargs: dict[str, Any] = {"future": True}
    if parsed.get_backend_name() == "sqlite":
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
    else:
        kwargs["pool_pre_ping"] = True
    try:
        engine = create_engine(parsed, **kwargs)
    except Exception as exc:  # missing driver, bad options
        raise StorageError(f"can't use database {parsed.render_as_string()}: {exc}") from exc
    if parsed.get_backend_name() == "sqlite":

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

    return engine


def alembic_config(engine: Engine) -> Config:
    """Alembic configured from code: migrations ship inside the package."""
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("muc.storage") / "migrations"))
    cfg.attributes["engine"] = engine
    return cfg


class Store:
    """The database behind one Haven service (or one admin CLI invocation)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)

    def check(self) -> None:
        """Connect once; raise :class:`StorageError` with a clear text if we can't.

        A SQLite file that doesn't exist yet is not created: its folder must exist
        and be writable (the first ``upgrade`` creates it).
        """
        url = self.engine.url
        if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
            path = Path(url.database)
            if not path.exists():
                folder = path.parent.resolve()
                if not folder.is_dir() or not os.access(folder, os.W_OK):
                    raise StorageError(f"can't create the SQLite database {path}: folder "
                                       f"{folder} doesn't exist or isn't writable")
                return
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except SQLAlchemyError as exc:
            raise StorageError(f"can't reach the database: {exc.__class__.__name__}: "
                               f"{str(exc.orig if hasattr(exc, 'orig') else exc).strip()}"
                               ) from exc

    def upgrade(self) -> None:
        """Apply Alembic migrations up to head (on start, and ``haven db upgrade``)."""
        command.upgrade(alembic_config(self.engine), "head")

    def current_revision(self) -> str | None:
        with self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def head_revision(self) -> str | None:
        return ScriptDirectory.from_config(alembic_config(self.engine)).get_current_head()

    def dispose(self) -> None:
        self.engine.dispose()

    # ------------------------------------------------------------------ reads
    def load_rooms(self, history_limit: int = 50) -> list[StoredRoom]:
        """Every stored room with affiliations and its most recent history."""
        out: list[StoredRoom] = []
        with Session(self.engine) as s:
            for row in s.scalars(select(RoomRow).order_by(RoomRow.id)):
                aff_rows = s.scalars(
                    select(AffiliationRow).where(AffiliationRow.room_id == row.id))
                aff_list = list(aff_rows)
                affs = {a.jid: a.affiliation for a in aff_list}
                reasons = {a.jid: a.reason for a in aff_list if a.reason}
                limit = int(row.config.get("history_length", history_limit) or 0)
                limit = min(limit, history_limit)
                msgs = list(s.scalars(
                    select(MessageRow).where(MessageRow.room_id == row.id)
                    .order_by(MessageRow.id.desc()).limit(limit)
                )) if limit > 0 else []
                history = [HistoryEntry(m.stanza, m.created_at, m.stanza_id)
                           for m in reversed(msgs)]
                senders = s.execute(
                    select(MessageRow.stanza_id, MessageRow.occupant_id, MessageRow.nick,
                           MessageRow.sender_jid, MessageRow.created_at, MessageRow.body)
                    .where(MessageRow.room_id == row.id)
                    .order_by(MessageRow.id.desc()).limit(RECENT_SIZE)).all()
                recent = [SentMessage(sid, oid, nick, jid, at, retracted=body is None)
                          for sid, oid, nick, jid, at, body in reversed(senders)]
                out.append(StoredRoom(row.jid, dict(row.config), row.subject, row.subject_from,
                                      affs, history, row.subject_at, reasons, recent))
        return out

    def count_messages(self, room: str | None = None) -> int:
        with Session(self.engine) as s:
            q = select(func.count(MessageRow.id))
            if room is not None:
                q = q.join(RoomRow, RoomRow.id == MessageRow.room_id).where(RoomRow.jid == room)
            return int(s.scalar(q) or 0)

    # ------------------------------------------------------------------ writes
    def apply(self, ops: Iterable[tuple[str, tuple[Any, ...]]]) -> None:
        """Apply a batch of write operations in one transaction."""
        with Session(self.engine) as s, s.begin():
            ids: dict[str, int] = {}
            for op, args in ops:
                getattr(self, f"_op_{op}")(s, ids, *args)

    @staticmethod
    def _room_id(s: Session, ids: dict[str, int], jid: str) -> int | None:
        if jid not in ids:
            rid = s.scalar(select(RoomRow.id).where(RoomRow.jid == jid))
            if rid is None:
                return None
            ids[jid] = rid
        return ids[jid]

    def _op_save_room(self, s: Session, ids: dict[str, int], jid: str,
                      config: dict[str, Any], subject: str, subject_from: str,
                      subject_at: datetime | None = None) -> None:
        row = s.scalar(select(RoomRow).where(RoomRow.jid == jid))
        if row is None:
            row = RoomRow(jid=jid, config=config, subject=subject, subject_from=subject_from,
                          subject_at=subject_at)
            s.add(row)
            s.flush()
        else:
            row.config, row.subject, row.subject_from = config, subject, subject_from
            row.subject_at = subject_at
        ids[jid] = row.id

    def _op_delete_room(self, s: Session, ids: dict[str, int], jid: str) -> None:
        rid = self._room_id(s, ids, jid)
        if rid is None:
            return
        s.execute(delete(MessageRow).where(MessageRow.room_id == rid))
        s.execute(delete(AffiliationRow).where(AffiliationRow.room_id == rid))
        s.execute(delete(RoomRow).where(RoomRow.id == rid))
        ids.pop(jid, None)

    def _op_save_affiliation(self, s: Session, ids: dict[str, int], room: str, jid: str,
                             affiliation: str, reason: str) -> None:
        rid = self._room_id(s, ids, room)
        if rid is None:
            log.warning("Affiliation for unknown room %s not stored", room)
            return
        row = s.scalar(select(AffiliationRow).where(AffiliationRow.room_id == rid,
                                                   AffiliationRow.jid == jid))
        if affiliation == "none":
            if row is not None:
                s.delete(row)
        elif row is None:
            s.add(AffiliationRow(room_id=rid, jid=jid, affiliation=affiliation, reason=reason))
        else:
            row.affiliation, row.reason = affiliation, reason

    def _op_retract(self, s: Session, ids: dict[str, int], room: str, stanza_id: str,
                    tombstone: str) -> None:
        rid = self._room_id(s, ids, room)
        if rid is None:
            return
        s.execute(update(MessageRow)
                  .where(MessageRow.room_id == rid, MessageRow.stanza_id == stanza_id)
                  .values(body=None, stanza=tombstone))

    def _op_audit(self, s: Session, ids: dict[str, int], event: AuditEvent) -> None:
        if s.get_bind().dialect.name == "postgresql":
            # Serialize appenders (service and CLI) so the chain never forks.
            s.execute(text("LOCK TABLE audit_log IN SHARE ROW EXCLUSIVE MODE"))
        prev = s.scalar(select(AuditRow.hash).order_by(AuditRow.id.desc()).limit(1)) or GENESIS
        s.add(AuditRow(at=event.at, actor=event.actor, action=event.action, room=event.room,
                       target=event.target, reason=event.reason, details=event.details,
                       prev_hash=prev, hash=chain_hash(prev, event)))
        s.flush()

    def audit_entries(self, limit: int | None = None) -> list[AuditRow]:
        """The audit log, oldest first (``limit``: the newest N)."""
        with Session(self.engine) as s:
            q = select(AuditRow).order_by(AuditRow.id.desc())
            if limit:
                q = q.limit(limit)
            return list(reversed(s.scalars(q).all()))

    def verify_audit(self) -> tuple[bool, int | None]:
        """Recompute the chain; return (intact, id of the first bad entry)."""
        prev = GENESIS
        with Session(self.engine) as s:
            for row in s.scalars(select(AuditRow).order_by(AuditRow.id)):
                event = AuditEvent(at=row.at, actor=row.actor, action=row.action, room=row.room,
                                   target=row.target, reason=row.reason,
                                   details=dict(row.details or {}))
                if row.prev_hash != prev or row.hash != chain_hash(prev, event):
                    return False, row.id
                prev = row.hash
        return True, None

    def _op_purge(self, s: Session, ids: dict[str, int], room: str, before: datetime) -> None:
        rid = self._room_id(s, ids, room)
        if rid is not None:
            s.execute(delete(MessageRow).where(MessageRow.room_id == rid,
                                               MessageRow.created_at < before))

    def _op_archive(self, s: Session, ids: dict[str, int], msg: ArchivedMessage) -> None:
        rid = self._room_id(s, ids, msg.room)
        if rid is None:
            return  # a temporary room: nothing is stored
        s.add(MessageRow(room_id=rid, stanza_id=msg.stanza_id, occupant_id=msg.occupant_id,
                         nick=msg.nick, sender_jid=msg.sender_jid, body=msg.body,
                         stanza=msg.stanza, created_at=msg.stamp))
