"""Presence after entering: availability (§7.7), nickname changes (§7.6), exiting
(§7.14), ghost removal (§11.1, §18.1.2), shutdown (§11.2) and destruction (§10.9)."""

from __future__ import annotations

import pytest

from muc.errors import MucError
from muc.ports import Destroy, MemoryPersistence, RecordingSender
from muc.room import Room
from muc.service import MucService
from tests.unit.support import (
    ALICE2_JID,
    ALICE_JID,
    BOB_JID,
    OWNER_JID,
    delivered,
    join,
    leave,
    only,
    presences,
    presences_from,
)


@pytest.fixture
def trio(room: Room, svc: MucService, sender: RecordingSender) -> Room:
    """The lobby with Owner (moderator), Alice and Bob (participants); sender cleared."""
    join(svc, room, "Owner", OWNER_JID)
    join(svc, room, "Alice", ALICE_JID, "<status>hi</status>")
    join(svc, room, "Bob", BOB_JID)
    sender.clear()
    return room


ALL = (OWNER_JID, ALICE_JID, BOB_JID)


# --------------------------------------------------------------------------- §7.7
def test_availability_change_is_broadcast_to_everyone(
    trio: Room, svc: MucService, sender: RecordingSender
) -> None:
    """§7.7: a presence update goes to every occupant, the occupant's own with 110."""
    svc.presence(trio.jid, "Alice", ALICE_JID, "<show>away</show>", muc_join=False)
    sent = presences_from(sender, f"{trio.jid}/Alice")
    assert sorted(p.to for p in sent) == sorted(ALL)
    for p in sent:
        assert p.available and p.payload == "<show>away</show>"
        assert (110 in p.codes) == (p.to == ALICE_JID)
        assert 170 not in p.codes  # join-only codes are not repeated
    assert trio.occupant_count == 3


def test_plain_presence_update_is_not_a_rejoin(
    trio: Room, svc: MucService, sender: RecordingSender
) -> None:
    """§7.7: a presence without the MUC <x/> is an update: no roster, no subject."""
    svc.presence(trio.jid, "Alice", ALICE_JID, "<show>dnd</show>", muc_join=False)
    assert [k for k, _ in delivered(sender, ALICE_JID)] == ["presence"]


# --------------------------------------------------------------------------- §7.6
def test_nick_change_sends_303_then_new_presence(
    trio: Room, svc: MucService, sender: RecordingSender
) -> None:
    """§7.6: to each occupant, unavailable from the old nick with 303 and the new nick
    in <item/>, then available from the new nick; 110 on the occupant's own copies."""
    svc.presence(trio.jid, "Alicia", ALICE_JID, "<show>chat</show>", muc_join=False)
    for to in ALL:
        got = presences(sender, to)
        assert len(got) == 2, to
        gone, back = got
        assert (gone.frm, gone.available, gone.item.nick) == (f"{trio.jid}/Alice", False, "Alicia")
        assert (back.frm, back.available, back.item.nick) == (f"{trio.jid}/Alicia", True, None)
        assert back.payload == "<show>chat</show>"
        own = to == ALICE_JID
        assert sorted(gone.codes) == ([110, 303] if own else [303])
        assert back.codes == ((110,) if own else ())
        assert gone.item.role == "participant"
    assert trio.occupant_by_nick("Alice") is None
    occupant = trio.occupant_by_nick("Alicia")
    assert occupant is not None and occupant.nick == "Alicia"


def test_nick_change_jids_follow_anonymity(
    trio: Room, svc: MucService, sender: RecordingSender
) -> None:
    """§7.6 with §7.2.4: the moderator sees the real JID in both presences, others don't."""
    svc.presence(trio.jid, "Alicia", ALICE_JID, None, muc_join=False)
    assert [p.item.jid for p in presences(sender, OWNER_JID)] == [ALICE_JID, ALICE_JID]
    assert [p.item.jid for p in presences(sender, BOB_JID)] == [None, None]


def test_nick_change_enforced_gets_210_for_self_only(
    trio: Room, svc: MucService, sender: RecordingSender
) -> None:
    """§7.6: if the service modifies the new nick it includes 210 for the user."""
    svc.presence(trio.jid, " Ａlicia ", ALICE_JID, None, muc_join=False)
    assert trio.occupant_by_nick("Alicia") is not None
    gone, back = presences(sender, ALICE_JID)
    assert gone.item.nick == "Alicia"
    assert sorted(back.codes) == [110, 210]
    assert all(210 not in p.codes for p in presences(sender, BOB_JID))


def test_nick_change_to_taken_nick_is_conflict(
    trio: Room, svc: MucService, sender: RecordingSender
) -> None:
    """§7.6: a nick used by someone else -> conflict; nothing changes, nothing sent."""
    with pytest.raises(MucError) as info:
        svc.presence(trio.jid, "BOB", ALICE_JID, None, muc_join=False)
    assert info.value.condition == "conflict"
    assert sender.sent == []
    alice = trio.occupant_by_jid(ALICE_JID)
    assert alice is not None and alice.nick == "Alice"


def test_nick_change_to_unusable_nick_is_jid_malformed(
    trio: Room, svc: MucService, sender: RecordingSender
) -> None:
    """§7.6 / RFC 8266: an empty new nick can't be used."""
    with pytest.raises(MucError) as info:
        svc.presence(trio.jid, "  ", ALICE_JID, None, muc_join=False)
    assert info.value.condition == "jid-malformed"
    assert sender.sent == []


def test_nick_change_with_several_sessions_is_not_acceptable(
    trio: Room, svc: MucService, sender: RecordingSender
) -> None:
    """§7.6 (locked-down nick -> not-acceptable): with two sessions under one nick a
    change from one of them is refused, so both keep the same nick."""
    join(svc, trio, "Alice", ALICE2_JID)
    sender.clear()
    with pytest.raises(MucError) as info:
        svc.presence(trio.jid, "Alicia", ALICE2_JID, None, muc_join=False)
    assert info.value.condition == "not-acceptable"
    assert sender.sent == []
    assert trio.occupant_by_nick("Alice") is not None


def test_case_only_nick_change_is_a_presence_update(
    trio: Room, svc: MucService, sender: RecordingSender
) -> None:
    """RFC 8266 §2.4: 'ALICE' is the same nickname as 'Alice', so no 303 is sent."""
    svc.presence(trio.jid, "ALICE", ALICE_JID, "<show>xa</show>", muc_join=False)
    assert all(303 not in p.codes and p.available for p in sender.of("presence"))
    assert only(presences(sender, BOB_JID)).frm == f"{trio.jid}/Alice"


# --------------------------------------------------------------------------- §7.14
def test_leaving_tells_everyone_role_none(
    trio: Room, svc: MucService, sender: RecordingSender
) -> None:
    """§7.14: unavailable to the leaver (110) and to the others, role 'none', with the
    leaver's status text."""
    leave(svc, trio, "Alice", ALICE_JID, "<status>bye</status>")
    sent = presences_from(sender, f"{trio.jid}/Alice")
    assert sorted(p.to for p in sent) == sorted(ALL)
    for p in sent:
        assert not p.available
        assert p.item.role == "none" and p.item.affiliation == "none"
        assert p.payload == "<status>bye</status>"
        assert p.codes == ((110,) if p.to == ALICE_JID else ())
    assert trio.occupant_by_nick("Alice") is None and trio.occupant_by_jid(ALICE_JID) is None
    assert trio.occupant_count == 2


def test_unavailable_presence_does_not_repeat_the_last_show(
    trio: Room, svc: MucService, sender: RecordingSender
) -> None:
    """§7.14: the unavailable presence carries what the leaver sent (here nothing), not
    its last <show/>; the same for a session of a multi-session occupant and a ghost."""
    join(svc, trio, "Alice", ALICE2_JID, "<show>away</show>")
    join(svc, trio, "Bob", BOB_JID, "<show>dnd</show>")
    sender.clear()
    leave(svc, trio, "Alice", ALICE2_JID)
    leave(svc, trio, "Alice", ALICE_JID)
    svc.delivery_error(trio.jid, BOB_JID)
    gone = [p for p in sender.of("presence") if not p.available]
    assert len(gone) == 1 + 3 + 2  # tablet alone; phone to all three; Bob to Owner and Bob
    assert all(not p.payload for p in gone)


def test_leaving_self_presence_is_last_to_the_leaver(
    trio: Room, svc: MucService, sender: RecordingSender
) -> None:
    """§7.14: the leaver gets exactly one presence, its own unavailable."""
    leave(svc, trio, "Bob", BOB_JID)
    p = only(presences(sender, BOB_JID))
    assert (p.frm, p.available, p.codes) == (f"{trio.jid}/Bob", False, (110,))


def test_leaving_one_of_two_sessions_keeps_the_occupant(
    trio: Room, svc: MucService, sender: RecordingSender
) -> None:
    """§7.2.8 multi-session: only the leaving session is told; the others see nothing."""
    join(svc, trio, "Alice", ALICE2_JID)
    sender.clear()
    leave(svc, trio, "Alice", ALICE2_JID)
    p = only(sender.of("presence"))
    assert (p.to, p.available, p.codes) == (ALICE2_JID, False, (110,))
    alice = trio.occupant_by_nick("Alice")
    assert alice is not None and list(alice.sessions) == [ALICE_JID]
    assert trio.occupant_by_jid(ALICE2_JID) is None


def test_shown_jid_follows_the_latest_session(
    trio: Room, svc: MucService, sender: RecordingSender
) -> None:
    """§7.2.4: moderators see the full JID of the session whose presence is shown."""
    join(svc, trio, "Alice", ALICE2_JID)
    join(svc, trio, "Alice", ALICE2_JID, "<show>away</show>")  # resync from the tablet
    sender.clear()
    svc.presence(trio.jid, "Alice", ALICE2_JID, "<show>dnd</show>", muc_join=False)
    assert only(presences(sender, OWNER_JID)).item.jid == ALICE2_JID
    leave(svc, trio, "Alice", ALICE2_JID)
    sender.clear()
    svc.presence(trio.jid, "Alice", ALICE_JID, "<show>chat</show>", muc_join=False)
    assert only(presences(sender, OWNER_JID)).item.jid == ALICE_JID


def test_leave_from_non_occupant_is_ignored(
    trio: Room, svc: MucService, sender: RecordingSender
) -> None:
    """§7.14 only concerns occupants; a stray unavailable changes nothing."""
    leave(svc, trio, "Stranger", "stranger@example/x")
    leave(svc, f"nowhere@{svc.domain}", "X", "stranger@example/x")
    assert sender.sent == []
    assert trio.occupant_count == 3


# --------------------------------------------------------------------------- §11.1
def test_ghost_is_removed_with_333(trio: Room, svc: MucService, sender: RecordingSender) -> None:
    """§11.1 / §18.1.2: a bounced stanza removes the session; 333 to everyone."""
    svc.delivery_error(trio.jid, BOB_JID)
    sent = presences_from(sender, f"{trio.jid}/Bob")
    assert sorted(p.to for p in sent) == sorted(ALL)
    for p in sent:
        assert not p.available and p.item.role == "none"
        assert sorted(p.codes) == ([110, 333] if p.to == BOB_JID else [333])
        assert p.status
    assert trio.occupant_by_nick("Bob") is None


def test_ghost_session_of_multi_session_occupant(
    trio: Room, svc: MucService, sender: RecordingSender
) -> None:
    """§11.1: removing one dead session of an occupant with two leaves the other."""
    join(svc, trio, "Alice", ALICE2_JID)
    sender.clear()
    svc.delivery_error(trio.jid, ALICE2_JID)
    p = only(sender.of("presence"))
    assert (p.to, sorted(p.codes)) == (ALICE2_JID, [110, 333])
    assert trio.occupant_by_nick("Alice") is not None


def test_delivery_error_for_unknown_session_is_ignored(
    trio: Room, svc: MucService, sender: RecordingSender
) -> None:
    """§18.1.2 applies to occupants only."""
    svc.delivery_error(trio.jid, "stranger@example/x")
    svc.delivery_error(f"nowhere@{svc.domain}", BOB_JID)
    assert sender.sent == []
    assert trio.remove_ghost("stranger@example/x") is False


# --------------------------------------------------------------------------- §11.2
def test_shutdown_sends_332_to_every_session(
    trio: Room, svc: MucService, sender: RecordingSender
) -> None:
    """§11.2: on shutdown each session gets its own unavailable presence with 110+332."""
    join(svc, trio, "Alice", ALICE2_JID)
    sender.clear()
    svc.shutdown()
    sent = sender.of("presence")
    assert sorted(p.to for p in sent) == sorted([*ALL, ALICE2_JID])
    for p in sent:
        assert not p.available
        assert sorted(p.codes) == [110, 332]
        assert p.status
        occupant = trio.occupant_by_jid(p.to)
        assert occupant is not None and p.frm == f"{trio.jid}/{occupant.nick}"


def test_shutdown_presence_has_role_none(
    trio: Room, svc: MucService, sender: RecordingSender
) -> None:
    """§7.14 (unavailable presence MUST have role 'none') and the §11.2 example."""
    svc.shutdown()
    assert {p.item.role for p in sender.of("presence")} == {"none"}


# --------------------------------------------------------------------------- §10.9
def test_destroy_tells_each_session_once_with_destroy(
    trio: Room, svc: MucService, sender: RecordingSender, store: MemoryPersistence
) -> None:
    """§10.9: one unavailable presence per session with <destroy/> (reason, alternate
    venue, password); no broadcast of everyone's departure; the room is gone."""
    join(svc, trio, "Alice", ALICE2_JID)
    sender.clear()
    svc.destroy(trio.jid, OWNER_JID, reason="Moved", alternate=f"new@{svc.domain}", password="pw")
    sent = sender.of("presence")
    assert sorted(p.to for p in sent) == sorted([*ALL, ALICE2_JID])
    for p in sent:
        assert not p.available
        assert p.destroy == Destroy(jid=f"new@{svc.domain}", reason="Moved", password="pw")
        assert (p.item.affiliation, p.item.role) == ("none", "none")
        assert 110 in p.codes
    assert trio.destroyed and trio.occupant_count == 0
    assert svc.room(trio.jid) is None
    assert trio.jid in store.deleted
    assert trio.jid not in store.rooms


def test_destroy_without_reason_still_has_destroy(
    trio: Room, svc: MucService, sender: RecordingSender
) -> None:
    """§10.9: <destroy/> is mandatory even with no reason or alternate venue."""
    svc.destroy(trio.jid, OWNER_JID)
    assert all(p.destroy == Destroy() for p in sender.of("presence"))


def test_only_owners_destroy(trio: Room, svc: MucService, sender: RecordingSender) -> None:
    """§10.9: a non-owner's destroy request -> forbidden; the room stays."""
    with pytest.raises(MucError) as info:
        svc.destroy(trio.jid, ALICE_JID)
    assert info.value.condition == "forbidden"
    assert sender.sent == [] and svc.room(trio.jid) is trio
