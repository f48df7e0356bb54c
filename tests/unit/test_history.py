"""Discussion history: the room's ring and the joiner's <history/> limits
(XEP-0045 §7.2.13 Discussion History, §7.2.14 Managing Discussion History)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from muc.history import HistoryEntry, HistoryRequest, HistoryRing
from muc.ports import RecordingSender
from muc.room import Room
from muc.service import MucService
from tests.unit.support import (
    ALICE_JID,
    OWNER_JID,
    T0,
    FakeClock,
    RoomProvisioner,
    ServiceFactory,
    join,
    say,
)


def entry(i: int, *, seconds_ago: int = 0, size: int = 10) -> HistoryEntry:
    """Entry ``i`` with a stanza of exactly ``size`` characters."""
    stanza = f"<m{i}>".ljust(size, ".")
    return HistoryEntry(
        stanza=stanza, stamp=T0 - timedelta(seconds=seconds_ago), stanza_id=f"id-{i}"
    )


def ids(entries: list[HistoryEntry]) -> list[str]:
    return [e.stanza_id for e in entries]


@pytest.fixture
def ring() -> HistoryRing:
    """Five entries one minute apart, the newest at T0, each 10 characters."""
    return HistoryRing(20, [entry(i, seconds_ago=60 * (4 - i)) for i in range(5)])


# --------------------------------------------------------------------------- ring
def test_ring_keeps_the_newest_size_entries() -> None:
    """The ring is bounded by history_length and drops the oldest first."""
    r = HistoryRing(3)
    for i in range(5):
        r.append(entry(i))
    assert ids(list(r)) == ["id-2", "id-3", "id-4"] and len(r) == 3


def test_ring_constructed_from_stored_entries_keeps_the_newest() -> None:
    """Loaded history longer than the ring keeps the most recent ones, oldest first."""
    r = HistoryRing(2, [entry(i) for i in range(4)])
    assert ids(list(r)) == ["id-2", "id-3"]


def test_ring_of_size_zero_keeps_nothing() -> None:
    """history_length 0: no history at all."""
    r = HistoryRing(0)
    r.append(entry(1))
    assert len(r) == 0


def test_resize_shrinks_and_grows() -> None:
    """§10.2: changing muc#maxhistoryfetch resizes the ring, keeping the newest."""
    r = HistoryRing(5, [entry(i) for i in range(5)])
    r.resize(2)
    assert ids(list(r)) == ["id-3", "id-4"]
    r.resize(4)
    r.append(entry(5))
    r.append(entry(6))
    r.append(entry(7))
    assert ids(list(r)) == ["id-4", "id-5", "id-6", "id-7"]
    r.resize(0)
    assert len(r) == 0


# --------------------------------------------------------------------------- select
def test_no_limits_sends_up_to_the_room_cap(ring: HistoryRing) -> None:
    """§7.2.14: service/room defaults apply when the joiner asks nothing."""
    assert ids(ring.select(HistoryRequest(), T0, 50)) == [f"id-{i}" for i in range(5)]
    assert ids(ring.select(HistoryRequest(), T0, 2)) == ["id-3", "id-4"]


@pytest.mark.parametrize(
    ("maxstanzas", "cap", "expected"),
    [
        (0, 50, []),
        (1, 50, ["id-4"]),
        (3, 50, ["id-2", "id-3", "id-4"]),
        (99, 2, ["id-3", "id-4"]),
    ],
)
def test_maxstanzas_never_exceeds_the_cap(
    ring: HistoryRing, maxstanzas: int, cap: int, expected: list[str]
) -> None:
    """§7.2.14 maxstanzas: the newest N, and never more than the room allows."""
    assert ids(ring.select(HistoryRequest(maxstanzas=maxstanzas), T0, cap)) == expected


@pytest.mark.parametrize(
    ("maxchars", "expected"),
    [
        (0, []),  # "If the client wishes to receive no history, it MUST set maxchars to 0"
        (9, []),  # never a truncated stanza
        (10, ["id-4"]),
        (29, ["id-3", "id-4"]),
        (30, ["id-2", "id-3", "id-4"]),
        (10_000, ["id-0", "id-1", "id-2", "id-3", "id-4"]),
    ],
)
def test_maxchars_counts_whole_stanzas(
    ring: HistoryRing, maxchars: int, expected: list[str]
) -> None:
    """§7.2.14 maxchars: "the largest number of complete stanzas that results in a
    number of characters less than or equal to the 'maxchars' value"."""
    assert ids(ring.select(HistoryRequest(maxchars=maxchars), T0, 50)) == expected


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (0, ["id-4"]),
        (59, ["id-4"]),
        (60, ["id-3", "id-4"]),
        (180, ["id-1", "id-2", "id-3", "id-4"]),
    ],
)
def test_seconds_limits_by_age(ring: HistoryRing, seconds: int, expected: list[str]) -> None:
    """§7.2.14 seconds: only messages sent within the last N seconds."""
    assert ids(ring.select(HistoryRequest(seconds=seconds), T0, 50)) == expected


def test_since_is_strictly_after(ring: HistoryRing) -> None:
    """§7.2.14 since: messages received since the given UTC datetime."""
    since = T0 - timedelta(seconds=120)  # the stamp of id-2
    assert ids(ring.select(HistoryRequest(since=since), T0, 50)) == ["id-3", "id-4"]
    assert ids(ring.select(HistoryRequest(since=since - timedelta(microseconds=1)), T0, 50)) == [
        "id-2",
        "id-3",
        "id-4",
    ]
    assert ring.select(HistoryRequest(since=T0), T0, 50) == []


def test_limits_combine_to_the_smallest(ring: HistoryRing) -> None:
    """§7.2.14: "the smallest amount of traffic that meets any combination" of limits."""
    req = HistoryRequest(maxstanzas=4, seconds=200, maxchars=25)
    assert ids(ring.select(req, T0, 50)) == ["id-3", "id-4"]
    req = HistoryRequest(maxstanzas=1, since=T0 - timedelta(hours=1))
    assert ids(ring.select(req, T0, 50)) == ["id-4"]


def test_cap_of_zero_sends_nothing(ring: HistoryRing) -> None:
    """A room cap of 0 (history_length 0) sends nothing whatever the joiner asks."""
    assert ring.select(HistoryRequest(maxstanzas=5), T0, 0) == []


# --------------------------------------------------------------------------- on join
def fill(svc: MucService, room: Room, clock: FakeClock, n: int) -> None:
    """The owner says m0..m(n-1), ten seconds apart."""
    join(svc, room, "Owner", OWNER_JID)
    for i in range(n):
        say(svc, room, OWNER_JID, f"m{i}")
        clock.advance(10)


def history_bodies(sender: RecordingSender, to: str) -> list[str]:
    return [
        stanza.split(">", 1)[1].split("<", 1)[0]
        for jid, stanza, _ in sender.of("history")
        if jid == to
    ]


def test_join_history_capped_by_room_history_length(
    provision: RoomProvisioner, svc: MucService, sender: RecordingSender, clock: FakeClock
) -> None:
    """§7.2.13: the room decides how many messages at most (muc#maxhistoryfetch)."""
    room = provision(history_length=3)
    fill(svc, room, clock, 6)
    join(svc, room, "Alice", ALICE_JID, history=HistoryRequest(maxstanzas=10))
    assert history_bodies(sender, ALICE_JID) == ["m3", "m4", "m5"]


def test_join_history_capped_by_service_max_history_fetch(
    service: ServiceFactory,
    provision: RoomProvisioner,
    sender: RecordingSender,
    clock: FakeClock,
) -> None:
    """§7.2.14: "taking into account service-level … defaults" ([service]
    max_history_fetch)."""
    svc = service(max_history_fetch=2)
    room = provision(svc=svc, history_length=20)
    fill(svc, room, clock, 5)
    join(svc, room, "Alice", ALICE_JID)
    assert history_bodies(sender, ALICE_JID) == ["m3", "m4"]


def test_join_history_by_seconds_and_maxchars(
    room: Room, svc: MucService, sender: RecordingSender, clock: FakeClock
) -> None:
    """§7.2.14 on a real join: seconds uses the room clock; maxchars=0 means none."""
    fill(svc, room, clock, 5)  # now is 10 s after m4, m3 was 20 s ago
    join(svc, room, "Alice", ALICE_JID, history=HistoryRequest(seconds=20))
    assert history_bodies(sender, ALICE_JID) == ["m3", "m4"]
    sender.clear()
    join(svc, room, "Bob", "bob@example/x", history=HistoryRequest(maxchars=0))
    assert history_bodies(sender, "bob@example/x") == []
    assert sender.of("subject")  # the subject still comes


def test_history_oldest_first_with_original_stamps(
    room: Room, svc: MucService, sender: RecordingSender, clock: FakeClock
) -> None:
    """§7.2.13: history in chronological order, each with when it was sent."""
    fill(svc, room, clock, 3)
    join(svc, room, "Alice", ALICE_JID)
    stamps = [stamp for jid, _, stamp in sender.of("history") if jid == ALICE_JID]
    assert stamps == [T0, T0 + timedelta(seconds=10), T0 + timedelta(seconds=20)]
