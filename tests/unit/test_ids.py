"""Identifiers the room assigns: XEP-0359 stanza-ids and XEP-0421 occupant-ids."""

from __future__ import annotations

import re
import uuid

from muc.ids import new_stanza_id, occupant_id, sequential_ids
from muc.ports import RecordingSender
from muc.room import Room
from muc.service import MucService
from tests.unit.support import ALICE2_JID, ALICE_JID, BOB_JID, RoomProvisioner, join, leave, say

ROOM_A, ROOM_B = "a@rooms.example", "b@rooms.example"


def oid_of(room: Room, nick: str) -> str:
    """The occupant-id of the occupant called ``nick``."""
    occupant = room.occupant_by_nick(nick)
    assert occupant is not None, nick
    return occupant.occupant_id


def test_stanza_ids_are_unique_uuids() -> None:
    """XEP-0359 §4: "the stanza ID MUST be unique … within the scope of the generating
    entity"; Haven uses random UUIDs."""
    made = {new_stanza_id() for _ in range(1000)}
    assert len(made) == 1000
    assert all(uuid.UUID(i).version == 4 for i in made)


def test_sequential_ids_for_tests() -> None:
    """The predictable generator counts from 1, per generator."""
    a, b = sequential_ids("x"), sequential_ids("y")
    assert [a(), a(), b(), a()] == ["x-1", "x-2", "y-1", "x-3"]


def test_occupant_id_is_stable_per_room_and_bare_jid() -> None:
    """XEP-0421 §4: the same user gets the same id in the same room every time."""
    assert occupant_id(b"k", ROOM_A, "alice@example") == occupant_id(b"k", ROOM_A, "alice@example")


def test_occupant_id_differs_across_rooms_users_and_secrets() -> None:
    """XEP-0421 §4: unique per user in a room, and (Haven) unlinkable across rooms;
    a different service secret gives different ids."""
    ids = {
        occupant_id(b"k", ROOM_A, "alice@example"),
        occupant_id(b"k", ROOM_B, "alice@example"),
        occupant_id(b"k", ROOM_A, "bob@example"),
        occupant_id(b"other", ROOM_A, "alice@example"),
    }
    assert len(ids) == 4


def test_occupant_id_reveals_nothing_and_is_url_safe() -> None:
    """XEP-0421 §4: the id must not allow deriving the real JID; it is a 144-bit MAC in
    unpadded URL-safe base64 (24 characters)."""
    oid = occupant_id(b"k", ROOM_A, "alice@example")
    assert re.fullmatch(r"[A-Za-z0-9_-]{24}", oid)
    assert "alice" not in oid


def test_occupant_id_survives_sessions_rejoins_and_nick_changes(
    room: Room, svc: MucService, sender: RecordingSender
) -> None:
    """XEP-0421 §4: the id follows the bare JID, not the resource, visit or nick."""
    join(svc, room, "Alice", ALICE_JID)
    first = oid_of(room, "Alice")
    join(svc, room, "Alice", ALICE2_JID)
    say(svc, room, ALICE2_JID, "from the tablet")
    assert sender.of("groupchat")[-1][1].occupant_id == first
    leave(svc, room, "Alice", ALICE2_JID)
    svc.presence(room.jid, "Alicia", ALICE_JID, None, muc_join=False)
    assert oid_of(room, "Alicia") == first
    leave(svc, room, "Alicia", ALICE_JID)
    join(svc, room, "Someone", ALICE2_JID)
    assert oid_of(room, "Someone") == first
    assert first == occupant_id(b"k", room.jid, "alice@example")


def test_occupant_ids_differ_between_rooms_and_users_in_a_service(
    provision: RoomProvisioner, svc: MucService
) -> None:
    """XEP-0421 §4 via the service: two rooms, two users, four distinct ids."""
    a, b = provision("a"), provision("b")
    for r in (a, b):
        join(svc, r, "Alice", ALICE_JID)
        join(svc, r, "Bob", BOB_JID)
    got = {oid_of(r, n) for r in (a, b) for n in ("Alice", "Bob")}
    assert len(got) == 4
