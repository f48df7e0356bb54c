"""The audit log: appended by the writer, hash-chained, tampering detected; CLI access."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from admin_cli.main import cli
from muc.audit import AuditEvent
from muc.storage.store import Store
from muc.storage.writer import WriteBehindStore

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path) -> str:  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'audit.db'}"
    return request.getfixturevalue("pg_db_url")


def fill(url: str, n: int = 5) -> Store:
    store = Store(url)
    store.upgrade()
    writer = WriteBehindStore(store)
    for i in range(n):
        writer.audit(AuditEvent(at=T0 + timedelta(minutes=i), actor="mod@example",
                                action="kick" if i % 2 else "ban", room="a@rooms.example",
                                target=f"user{i}@example", reason=f"reason {i}",
                                details={"n": i}))
    writer.close()
    return store


def test_entries_are_chained_and_verify(db_url: str) -> None:
    store = fill(db_url)
    rows = store.audit_entries()
    assert [r.target for r in rows] == [f"user{i}@example" for i in range(5)]
    assert rows[0].prev_hash == "0" * 64
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(rows))
    assert store.verify_audit() == (True, None)


@pytest.mark.parametrize("tamper", [
    "UPDATE audit_log SET reason = 'nothing happened' WHERE id = 3",
    "DELETE FROM audit_log WHERE id = 2",
    "UPDATE audit_log SET actor = 'someone@else' WHERE id = 5",
])
def test_tampering_is_detected(db_url: str, tamper: str) -> None:
    store = fill(db_url)
    with store.engine.begin() as conn:
        conn.execute(text(tamper))
    ok, bad = store.verify_audit()
    assert not ok and bad is not None


def test_cli_lists_and_verifies(db_url: str) -> None:
    store = fill(db_url)
    runner = CliRunner()
    out = runner.invoke(cli, ["--database-url", db_url, "audit", "list", "--action", "ban",
                              "--json"])
    assert out.exit_code == 0
    import json
    data = json.loads(out.output)
    assert [d["target"] for d in data] == ["user0@example", "user2@example", "user4@example"]
    assert runner.invoke(cli, ["--database-url", db_url, "audit", "verify"]).exit_code == 0
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE audit_log SET target = 'x' WHERE id = 1"))
    bad = runner.invoke(cli, ["--database-url", db_url, "audit", "verify"])
    assert bad.exit_code == 1 and "breaks at entry 1" in bad.output


def test_purge_deletes_only_older_messages_of_one_room(db_url: str) -> None:
    """Retention: the writer's purge op removes a room's messages older than the cutoff."""
    from muc.ports import ArchivedMessage

    store = Store(db_url)
    store.upgrade()
    writer = WriteBehindStore(store)
    for room in ("a@rooms.example", "b@rooms.example"):
        writer.save_room(room, {}, "", "")
        for i in range(4):
            writer.archive(ArchivedMessage(room, f"{room}-{i}", T0 + timedelta(days=i), "n",
                                           None, "x@example", f"m{i}", "<message/>"))
    writer.purge("a@rooms.example", T0 + timedelta(days=2))
    writer.close()
    assert store.count_messages("a@rooms.example") == 2
    assert store.count_messages("b@rooms.example") == 4
