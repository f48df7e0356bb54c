"""Storage: Alembic migrations, the Store's write batches and start-up loading, and
the write-behind writer, on SQLite and on PostgreSQL.

PostgreSQL tests run in a throw-away database created for this module (and reset to
an empty schema before each test); they are skipped when the server can't be reached,
unless CI is set, where that is a failure.
"""

from __future__ import annotations

import os
import secrets
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import psycopg
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from psycopg import sql
from sqlalchemy import func, inspect, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from muc.config import RoomConfig, ServiceSettings
from muc.history import HistoryRequest
from muc.ids import sequential_ids
from muc.ports import ArchivedMessage, RecordingSender
from muc.service import MucService
from muc.storage.models import AffiliationRow, Base, MessageRow, RoomRow
from muc.storage.store import StorageError, Store, alembic_config, make_engine, normalize_url
from muc.storage.writer import BATCH, WriteBehindStore

# The same variable as tests/conftest.py: the admin database new ones are created from.
PG_URL = make_url(os.environ.get("HAVEN_TEST_PG_URL",
                                 "postgresql+psycopg://postgres@127.0.0.1:5432/test"))

ROOM = "lobby@rooms.example"
OTHER = "other@rooms.example"
T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


# --------------------------------------------------------------------------- fixtures
def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _pg_connect(dbname: str) -> psycopg.Connection[Any]:
    return psycopg.connect(host=PG_URL.host or "127.0.0.1", port=PG_URL.port or 5432,
                           user=PG_URL.username or "postgres", password=PG_URL.password,
                           dbname=dbname, autocommit=True, connect_timeout=5)


@pytest.fixture(scope="module")
def haven_pg_database() -> Iterator[str]:
    """A uniquely named PostgreSQL database for this module; dropped afterwards."""
    try:
        admin = _pg_connect(PG_URL.database or "test")
    except psycopg.OperationalError as exc:
        if _in_ci():
            pytest.fail(f"PostgreSQL at {PG_URL.host}:{PG_URL.port} is required in CI: {exc}")
        pytest.skip(f"PostgreSQL at {PG_URL.host}:{PG_URL.port} not reachable: {exc}")
    name = f"haven_test_{secrets.token_hex(6)}"
    with admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            yield name
        finally:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)))


def _reset_pg(dbname: str) -> None:
    """Empty the database: what a fresh install sees."""
    with _pg_connect(dbname) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database: a temporary SQLite file, or the module's PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'haven.db'}"
    name = request.getfixturevalue("haven_pg_database")
    _reset_pg(name)
    return PG_URL.set(drivername="postgresql+psycopg", database=name).render_as_string(
        hide_password=False)


@pytest.fixture
def empty_store(db_url: str) -> Iterator[Store]:
    """A Store on an empty database (no migrations applied)."""
    s = Store(db_url)
    try:
        yield s
    finally:
        s.dispose()


@pytest.fixture
def db(empty_store: Store) -> Store:
    """A Store migrated to head."""
    empty_store.upgrade()
    return empty_store


class SettableClock:
    """A muc.ports.Clock whose time the test sets."""

    def __init__(self) -> None:
        self.current = T0

    def now(self) -> datetime:
        return self.current


def msg(i: int, room: str = ROOM, *, stamp: datetime | None = None) -> ArchivedMessage:
    """Archived message ``i`` of ``room``, stamped T0 + i seconds unless given."""
    return ArchivedMessage(
        room=room, stanza_id=f"sid-{i}", stamp=stamp or T0 + timedelta(seconds=i),
        nick=f"nick{i % 3}", occupant_id=f"occ-{i % 3}", sender_jid=f"user{i % 3}@example",
        body=f"body {i}", stanza=f"<message id='{i}'><body>body {i}</body></message>",
    )


def save_room(room: str = ROOM, **config: Any) -> tuple[str, tuple[Any, ...]]:
    """A save_room write op with RoomConfig overrides."""
    return ("save_room", (room, RoomConfig(**config).to_dict(), "Subject", "Owner"))


def count(store: Store, model: type[Base]) -> int:
    """Rows of one table."""
    with Session(store.engine) as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


# --------------------------------------------------------------------------- migrations
def test_upgrade_from_empty_database_to_head(empty_store: Store) -> None:
    """Alembic: an empty database migrates to head and has the three tables."""
    assert empty_store.current_revision() is None
    empty_store.upgrade()
    assert empty_store.current_revision() == empty_store.head_revision() is not None
    tables = set(inspect(empty_store.engine).get_table_names())
    assert {"rooms", "affiliations", "messages", "alembic_version"} <= tables


def test_upgrade_is_idempotent_and_keeps_data(db: Store) -> None:
    """Running the start-up upgrade again is a no-op: same revision, data kept."""
    db.apply([save_room(), ("archive", (msg(1),))])
    db.upgrade()
    db.upgrade()
    assert db.current_revision() == db.head_revision()
    assert db.count_messages(ROOM) == 1


def test_downgrade_to_base_and_back(db: Store) -> None:
    """The migrations' downgrade drops everything; upgrading again works."""
    db.apply([save_room(), ("archive", (msg(1),))])
    command.downgrade(alembic_config(db.engine), "base")
    assert db.current_revision() is None
    assert not {"rooms", "affiliations", "messages"} & set(
        inspect(db.engine).get_table_names())
    db.upgrade()
    assert db.current_revision() == db.head_revision()
    assert db.load_rooms() == []
    db.apply([save_room(), ("archive", (msg(2),))])
    assert db.count_messages(ROOM) == 1


def test_models_match_the_migrations(db: Store) -> None:
    """Alembic autogenerate finds no difference between models.py and the migrated
    schema (a model change without a migration fails here)."""
    with db.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []


# --------------------------------------------------------------------------- round trips
def test_room_affiliations_and_history_round_trip(db: Store) -> None:
    """save_room / save_affiliation / archive through apply come back from load_rooms."""
    config = RoomConfig(name="Lobby ☕", moderated=True, contacts=["a@x", "b@x"],
                        guidelines="Be kind.\nListen.")
    db.apply([
        ("save_room", (ROOM, config.to_dict(), "Welcome ☕", "Owner")),
        ("save_affiliation", (ROOM, "owner@example", "owner", "")),
        ("save_affiliation", (ROOM, "bad@example", "outcast", "spam")),
        *[("archive", (msg(i),)) for i in range(3)],
    ])
    (room,) = db.load_rooms()
    assert room.jid == ROOM
    assert RoomConfig.from_dict(room.config) == config
    assert (room.subject, room.subject_from) == ("Welcome ☕", "Owner")
    assert room.affiliations == {"owner@example": "owner", "bad@example": "outcast"}
    assert [h.stanza_id for h in room.history] == ["sid-0", "sid-1", "sid-2"]
    assert room.history[1].stanza == msg(1).stanza
    assert room.history[1].stamp == msg(1).stamp


def test_save_room_updates_in_place(db: Store) -> None:
    """A second save_room updates the row (config, subject), never duplicates it."""
    db.apply([save_room(name="one")])
    db.apply([("save_room", (ROOM, RoomConfig(name="two").to_dict(), "New", "Mod"))])
    (room,) = db.load_rooms()
    assert (room.config["name"], room.subject, room.subject_from) == ("two", "New", "Mod")
    assert count(db, RoomRow) == 1


def test_affiliation_update_and_removal(db: Store) -> None:
    """save_affiliation replaces an affiliation; 'none' removes it."""
    db.apply([save_room(), ("save_affiliation", (ROOM, "a@x", "member", ""))])
    db.apply([("save_affiliation", (ROOM, "a@x", "admin", "promoted"))])
    assert db.load_rooms()[0].affiliations == {"a@x": "admin"}
    db.apply([("save_affiliation", (ROOM, "a@x", "none", "")),
              ("save_affiliation", (ROOM, "never@x", "none", ""))])
    assert db.load_rooms()[0].affiliations == {}
    assert count(db, AffiliationRow) == 0


def test_writes_for_unknown_rooms_are_skipped(db: Store) -> None:
    """Temporary rooms aren't stored: their archive and affiliation writes are
    dropped without failing the batch they are in."""
    db.apply([save_room(), ("archive", (msg(1, OTHER),)),
              ("save_affiliation", (OTHER, "a@x", "owner", "")), ("archive", (msg(2),))])
    assert db.count_messages() == 1 and db.count_messages(OTHER) == 0
    assert count(db, AffiliationRow) == 0


def test_room_created_and_used_in_one_batch(db: Store) -> None:
    """A batch may create a room and write to it (the writer batches freely)."""
    db.apply([save_room(OTHER), ("save_affiliation", (OTHER, "a@x", "owner", "")),
              ("archive", (msg(1, OTHER),))])
    assert db.count_messages(OTHER) == 1
    assert db.load_rooms()[0].affiliations == {"a@x": "owner"}


def test_delete_room_removes_affiliations_and_messages(db: Store) -> None:
    """delete_room takes the room's affiliations and archive with it, nothing else."""
    db.apply([save_room(), save_room(OTHER),
              ("save_affiliation", (ROOM, "a@x", "owner", "")),
              ("save_affiliation", (OTHER, "a@x", "owner", "")),
              *[("archive", (msg(i),)) for i in range(4)], ("archive", (msg(9, OTHER),))])
    db.apply([("delete_room", (ROOM,)), ("delete_room", ("never@rooms.example",))])
    assert [r.jid for r in db.load_rooms()] == [OTHER]
    assert db.count_messages(ROOM) == 0 and db.count_messages() == 1
    with Session(db.engine) as s:
        assert s.scalars(select(AffiliationRow.room_id)).all() == [
            s.scalar(select(RoomRow.id).where(RoomRow.jid == OTHER))]
        assert s.scalar(select(func.count()).select_from(MessageRow)) == 1


def test_delete_then_recreate_in_one_batch(db: Store) -> None:
    """A room destroyed and created again before the writer ran starts empty."""
    db.apply([save_room(), ("archive", (msg(1),))])
    db.apply([("delete_room", (ROOM,)), save_room(name="again"), ("archive", (msg(2),))])
    (room,) = db.load_rooms()
    assert room.config["name"] == "again"
    assert [h.stanza_id for h in room.history] == ["sid-2"]


def test_history_is_oldest_first_and_limited_by_history_length(db: Store) -> None:
    """Start-up history: the newest history_length messages, oldest first."""
    db.apply([save_room(history_length=3), *[("archive", (msg(i),)) for i in range(7)]])
    (room,) = db.load_rooms()
    assert [h.stanza_id for h in room.history] == ["sid-4", "sid-5", "sid-6"]
    assert db.count_messages(ROOM) == 7  # the archive keeps everything


def test_history_limited_by_the_limit_argument(db: Store) -> None:
    """load_rooms(history_limit) caps every room's history ([service] max_history_fetch)."""
    db.apply([save_room(history_length=20), *[("archive", (msg(i),)) for i in range(7)]])
    (room,) = db.load_rooms(history_limit=2)
    assert [h.stanza_id for h in room.history] == ["sid-5", "sid-6"]


def test_history_length_zero_loads_no_history(db: Store) -> None:
    """history_length 0: no history at all."""
    db.apply([save_room(history_length=0), ("archive", (msg(1),))])
    assert db.load_rooms()[0].history == []


def test_histories_are_per_room(db: Store) -> None:
    """Each room loads its own messages."""
    db.apply([save_room(), save_room(OTHER), ("archive", (msg(1),)),
              ("archive", (msg(2, OTHER),)), ("archive", (msg(3),))])
    loaded = {r.jid: [h.stanza_id for h in r.history] for r in db.load_rooms()}
    assert loaded == {ROOM: ["sid-1", "sid-3"], OTHER: ["sid-2"]}


def test_timestamps_come_back_timezone_aware_utc(db: Store) -> None:
    """Stamps are stored as instants and read back aware, in UTC, to the microsecond
    (XEP-0203 delay stamps are UTC)."""
    plus_two = timezone(timedelta(hours=2))
    stamp = datetime(2026, 3, 1, 14, 30, 15, 123456, tzinfo=plus_two)
    db.apply([save_room(), ("archive", (msg(1, stamp=stamp),))])
    (entry,) = db.load_rooms()[0].history
    assert entry.stamp == stamp
    assert entry.stamp.utcoffset() == timedelta(0)
    assert entry.stamp.replace(tzinfo=None) == datetime(2026, 3, 1, 12, 30, 15, 123456)


def test_naive_timestamp_fails_the_whole_batch(db: Store) -> None:
    """apply() is one transaction: a bad write (naive datetime) rolls back the batch."""
    naive = msg(2, stamp=datetime(2026, 1, 1, 12, 0))  # naive, on purpose
    with pytest.raises(Exception, match="naive"):
        db.apply([save_room(), ("archive", (msg(1),)), ("archive", (naive,))])
    assert db.load_rooms() == [] and db.count_messages() == 0


def test_count_messages(db: Store) -> None:
    """count_messages counts one room's archive or all of it."""
    db.apply([save_room(), save_room(OTHER), *[("archive", (msg(i),)) for i in range(3)],
              ("archive", (msg(5, OTHER),))])
    assert (db.count_messages(ROOM), db.count_messages(OTHER), db.count_messages()) == (3, 1, 4)
    assert db.count_messages("missing@rooms.example") == 0


def test_check_passes_on_a_reachable_database(db: Store) -> None:
    """Store.check() connects once and raises nothing when all is well."""
    assert db.check() is None


# --------------------------------------------------------------------------- urls
def test_normalize_url() -> None:
    """postgresql:// and postgres:// URLs get the psycopg 3 driver; others unchanged."""
    assert normalize_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_url("sqlite:///x.db") == "sqlite:///x.db"


def test_bad_url_is_a_storage_error() -> None:
    """A URL SQLAlchemy can't parse becomes a StorageError with the URL in the text."""
    with pytest.raises(StorageError, match="not valid"):
        make_engine("not a url")


def test_unreachable_database_is_a_storage_error() -> None:
    """check() turns a connection failure into a StorageError for the operator."""
    s = Store("postgresql://postgres@127.0.0.1:1/none")
    try:
        with pytest.raises(StorageError, match="can't reach the database"):
            s.check()
    finally:
        s.dispose()


# --------------------------------------------------------------------------- writer
@pytest.fixture
def writer(db: Store) -> Iterator[WriteBehindStore]:
    """A WriteBehindStore on the migrated database, closed after the test."""
    w = WriteBehindStore(db)
    try:
        yield w
    finally:
        w.close(timeout=30)


def test_close_loses_nothing(db: Store) -> None:
    """Write-behind: many archive writes (several batches), then close(): all stored
    and the writer thread has stopped."""
    w = WriteBehindStore(db)
    w.save_room(ROOM, RoomConfig().to_dict(), "", "")
    n = BATCH * 2 + 37
    for i in range(n):
        w.archive(msg(i))
    w.close(timeout=60)
    assert not w._thread.is_alive()
    assert w.failed == 0 and w.pending == 0
    assert db.count_messages(ROOM) == n


def test_flush_makes_writes_visible(db: Store, writer: WriteBehindStore) -> None:
    """flush() returns once everything queued before it is committed."""
    writer.save_room(ROOM, RoomConfig().to_dict(), "Hi", "")
    writer.save_affiliation(ROOM, "a@x", "owner")
    for i in range(10):
        writer.archive(msg(i))
    writer.flush(timeout=30)
    assert db.count_messages(ROOM) == 10
    assert db.load_rooms()[0].affiliations == {"a@x": "owner"}
    writer.delete_room(ROOM)
    writer.flush(timeout=30)
    assert db.load_rooms() == [] and db.count_messages() == 0


def test_writes_from_many_threads(db: Store, writer: WriteBehindStore) -> None:
    """The queue is thread-safe: concurrent producers lose nothing."""
    writer.save_room(ROOM, RoomConfig().to_dict(), "", "")

    def produce(base: int) -> None:
        for i in range(100):
            writer.archive(msg(base + i))

    threads = [threading.Thread(target=produce, args=(k * 1000,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    writer.flush(timeout=30)
    assert db.count_messages(ROOM) == 400


def test_archive_for_unknown_room_is_silently_skipped(db: Store,
                                                      writer: WriteBehindStore) -> None:
    """A temporary room's messages are not stored and are not counted as failures."""
    writer.save_room(ROOM, RoomConfig().to_dict(), "", "")
    writer.archive(msg(1, OTHER))
    writer.archive(msg(2))
    writer.flush(timeout=30)
    assert writer.failed == 0
    assert db.count_messages() == 1


def test_failing_write_does_not_block_the_others(db: Store,
                                                 writer: WriteBehindStore) -> None:
    """A write that raises (naive stamp) is dropped and counted; the rest of its batch
    is retried one by one and committed."""
    writer.save_room(ROOM, RoomConfig().to_dict(), "", "")
    writer.archive(msg(1))
    writer.archive(msg(2, stamp=datetime(2026, 1, 1)))  # naive, on purpose
    writer.archive(msg(3))
    writer.flush(timeout=30)
    assert writer.failed == 1
    assert db.count_messages(ROOM) == 2
    writer.archive(msg(4))
    writer.flush(timeout=30)
    assert db.count_messages(ROOM) == 3


# --------------------------------------------------------------------------- restart
def test_service_restart_serves_history_from_the_database(db: Store) -> None:
    """End to end: a MucService writing through WriteBehindStore; after the writer is
    closed, a new service loaded from the database serves the same room, affiliations,
    subject and history (§7.2.13, oldest first, original stamps) to a new joiner."""
    settings = ServiceSettings(admins=frozenset({"admin@example"}), occupant_id_secret=b"k")
    clock = SettableClock()
    sender = RecordingSender()
    writer = WriteBehindStore(db)
    svc = MucService("rooms.example", settings, sender, writer, clock,
                     new_id=sequential_ids("sid"))
    room = svc.provision("lobby", RoomConfig(history_length=3), subject="Welcome",
                         owners=["owner@example"])
    svc.presence(room.jid, "Owner", "owner@example/desk", None)
    svc.presence(room.jid, "Alice", "alice@example/phone", None)
    for i in range(5):
        clock.current = T0 + timedelta(minutes=i)
        svc.groupchat(room.jid, "alice@example/phone", f"m{i}", f"m{i}", None)
    svc.groupchat(room.jid, "owner@example/desk", None, None, "New topic")
    writer.close(timeout=30)
    assert writer.failed == 0
    assert db.count_messages(room.jid) == 5

    restarted = Store(db.url)
    try:
        sender2 = RecordingSender()
        writer2 = WriteBehindStore(restarted)
        svc2 = MucService("rooms.example", settings, sender2, writer2, clock,
                          new_id=sequential_ids("sid2"))
        svc2.load(restarted.load_rooms(history_limit=settings.max_history_fetch))
        room2 = svc2.room(room.jid)
        assert room2 is not None and not room2.locked
        assert room2.config == room.config
        assert room2.affiliations == room.affiliations
        assert (room2.subject, room2.subject_from) == ("New topic", "Owner")
        svc2.presence(room.jid, "Bob", "bob@example/laptop", None,
                      history=HistoryRequest(maxstanzas=10))
        history = sender2.of("history")
        assert [stanza for _, stanza, _ in history] == [e.stanza for e in room.history]
        assert [stamp for _, _, stamp in history] == [
            T0 + timedelta(minutes=i) for i in (2, 3, 4)]
        assert all(stamp.tzinfo is not None for _, _, stamp in history)
        assert sender2.of("subject") == [
            ("bob@example/laptop", f"{room.jid}/Owner", "New topic")]
        writer2.close(timeout=30)
    finally:
        restarted.dispose()
