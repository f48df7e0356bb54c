"""Entering a room: XEP-0045 §7.1 (order of events) and §7.2 (entering)."""

from __future__ import annotations

import pytest

from muc.errors import MucError
from muc.history import HistoryRequest
from muc.ports import OutPresence, RecordingSender
from muc.roles import Affiliation
from muc.room import Room
from muc.service import MucService
from tests.unit.support import (
    ADMIN_JID,
    ALICE2_JID,
    ALICE_JID,
    BOB_JID,
    CAROL_JID,
    DAVE_JID,
    OWNER_JID,
    RoomProvisioner,
    ServiceFactory,
    delivered,
    join,
    kinds,
    only,
    presences,
    presences_from,
    say,
)


def self_presence(sender: RecordingSender, to: str) -> OutPresence:
    """The one presence to ``to`` that carries status 110."""
    return only(p for p in presences(sender, to) if 110 in p.codes)


# --------------------------------------------------------------------------- order
def test_join_order_is_others_self_history_subject(
    svc: MucService, provision: RoomProvisioner, sender: RecordingSender
) -> None:
    """§7.1: presence of others, then self-presence, then history, then subject."""
    room = provision(subject="Welcome")
    join(svc, room, "Owner", OWNER_JID)
    join(svc, room, "Alice", ALICE_JID)
    say(svc, room, ALICE_JID, "first")
    sender.clear()

    join(svc, room, "Bob", BOB_JID, "<show>chat</show>")

    got = delivered(sender, BOB_JID)
    assert [k for k, _ in got] == ["presence", "presence", "presence", "history", "subject"]
    assert [v.frm for _, v in got[:3]] == [
        f"{room.jid}/Owner",
        f"{room.jid}/Alice",
        f"{room.jid}/Bob",
    ]
    assert 110 not in got[0][1].codes and 110 not in got[1][1].codes
    assert 110 in got[2][1].codes
    assert got[2][1].payload == "<show>chat</show>"
    to, stanza, stamp = got[3][1]
    assert (to, stamp) == (BOB_JID, svc.clock.now())
    assert "first" in stanza
    assert got[4][1] == (BOB_JID, room.jid, "Welcome")


def test_empty_subject_still_sent_last(
    room: Room, svc: MucService, sender: RecordingSender
) -> None:
    """§7.2.15: with no subject set the room still sends an empty subject, last."""
    join(svc, room, "Alice", ALICE_JID)
    assert kinds(sender, ALICE_JID) == ["presence", "subject"]
    assert sender.of("subject") == [(ALICE_JID, room.jid, "")]


def test_subject_comes_from_the_occupant_who_set_it(
    room: Room, svc: MucService, sender: RecordingSender
) -> None:
    """§7.2.15: the subject is sent from the occupant JID of whoever set it."""
    join(svc, room, "Owner", OWNER_JID)
    say(svc, room, OWNER_JID, body=None, subject="Be kind")
    join(svc, room, "Alice", ALICE_JID)
    assert sender.of("subject")[-1] == (ALICE_JID, f"{room.jid}/Owner", "Be kind")


def test_new_occupant_presence_reaches_everyone_before_its_self_presence(
    room: Room, svc: MucService, sender: RecordingSender
) -> None:
    """§7.2.2: the newcomer's presence goes to all occupants; its own copy comes last."""
    join(svc, room, "Owner", OWNER_JID)
    join(svc, room, "Alice", ALICE_JID)
    sender.clear()
    join(svc, room, "Bob", BOB_JID)

    from_bob = [p.to for p in presences_from(sender, f"{room.jid}/Bob")]
    assert sorted(from_bob) == sorted([OWNER_JID, ALICE_JID, BOB_JID])
    assert from_bob[-1] == BOB_JID
    for p in presences_from(sender, f"{room.jid}/Bob"):
        assert p.available
        assert p.item.role == "participant" and p.item.affiliation == "none"
        assert (110 in p.codes) == (p.to == BOB_JID)


# --------------------------------------------------------------------------- codes
def test_self_presence_codes_default_room(
    room: Room, svc: MucService, sender: RecordingSender
) -> None:
    """§7.2.2 + §7.2.12: 110, and 170 because Haven rooms log by default."""
    join(svc, room, "Alice", ALICE_JID)
    p = self_presence(sender, ALICE_JID)
    assert sorted(p.codes) == [110, 170]
    assert p.frm == f"{room.jid}/Alice"


def test_self_presence_without_logging(
    provision: RoomProvisioner, svc: MucService, sender: RecordingSender
) -> None:
    """§7.2.12: no 170 when the room keeps no log."""
    room = provision(logging=False)
    join(svc, room, "Alice", ALICE_JID)
    assert self_presence(sender, ALICE_JID).codes == (110,)


def test_non_anonymous_room_warns_with_100(
    provision: RoomProvisioner, svc: MucService, sender: RecordingSender
) -> None:
    """§7.2.3: entering a non-anonymous room gives status 100."""
    room = provision(whois="anyone")
    join(svc, room, "Alice", ALICE_JID)
    assert sorted(self_presence(sender, ALICE_JID).codes) == [100, 110, 170]


def test_room_creation_adds_201(service: ServiceFactory, sender: RecordingSender) -> None:
    """§10.1.1: the creator's self-presence carries 201."""
    svc = service(room_creation="anyone")
    join(svc, f"new@{svc.domain}", "Alice", ALICE_JID)
    p = self_presence(sender, ALICE_JID)
    assert sorted(p.codes) == [110, 170, 201]
    assert (p.item.affiliation, p.item.role) == ("owner", "moderator")


@pytest.mark.parametrize(
    ("asked", "got"),
    [
        ("  Carol  ", "Carol"),
        ("Ｃａｒｏｌ", "Carol"),
        ("Carol\u00a0\u00a0Ann", "Carol Ann"),
    ],
)
def test_enforced_nick_gets_210(
    room: Room, svc: MucService, sender: RecordingSender, asked: str, got: str
) -> None:
    """§7.2.2: when RFC 8266 enforcement changes the nick, self-presence has 210."""
    join(svc, room, asked, CAROL_JID)
    p = self_presence(sender, CAROL_JID)
    assert p.frm == f"{room.jid}/{got}"
    assert sorted(p.codes) == [110, 170, 210]
    assert room.occupant_by_nick(got) is not None


def test_unchanged_nick_has_no_210(room: Room, svc: MucService, sender: RecordingSender) -> None:
    """§7.2.2: 210 only when the service changed the nick."""
    join(svc, room, "Carol", CAROL_JID)
    assert 210 not in self_presence(sender, CAROL_JID).codes


# --------------------------------------------------------------------------- real JIDs
def test_semi_anonymous_jids_only_to_moderators_and_self(
    room: Room, svc: MucService, sender: RecordingSender
) -> None:
    """§7.2.4: in a semi-anonymous room only moderators (and the occupant) see real JIDs."""
    join(svc, room, "Owner", OWNER_JID)
    join(svc, room, "Alice", ALICE_JID)
    sender.clear()
    join(svc, room, "Bob", BOB_JID)

    by_to = {p.to: p for p in presences_from(sender, f"{room.jid}/Bob")}
    assert by_to[OWNER_JID].item.jid == BOB_JID  # moderator
    assert by_to[ALICE_JID].item.jid is None  # participant
    assert by_to[BOB_JID].item.jid == BOB_JID  # self

    roster = {p.frm: p for p in presences(sender, BOB_JID) if 110 not in p.codes}
    assert roster[f"{room.jid}/Owner"].item.jid is None
    assert roster[f"{room.jid}/Alice"].item.jid is None


def test_moderator_sees_everyones_jid_on_entering(
    room: Room, svc: MucService, sender: RecordingSender
) -> None:
    """§7.2.4: a moderator's occupant list carries the real JIDs."""
    join(svc, room, "Alice", ALICE_JID)
    join(svc, room, "Bob", BOB_JID)
    sender.clear()
    join(svc, room, "Owner", OWNER_JID)
    roster = {p.frm: p.item.jid for p in presences(sender, OWNER_JID) if 110 not in p.codes}
    assert roster == {f"{room.jid}/Alice": ALICE_JID, f"{room.jid}/Bob": BOB_JID}


def test_non_anonymous_room_shows_jids_to_all(
    provision: RoomProvisioner, svc: MucService, sender: RecordingSender
) -> None:
    """§7.2.3: in a non-anonymous room every occupant sees full JIDs."""
    room = provision(whois="anyone")
    join(svc, room, "Alice", ALICE_JID)
    sender.clear()
    join(svc, room, "Bob", BOB_JID)
    assert only(p for p in presences(sender, ALICE_JID)).item.jid == BOB_JID
    assert only(p for p in presences(sender, BOB_JID) if 110 not in p.codes).item.jid == ALICE_JID


def test_roles_and_affiliations_on_entering(
    provision: RoomProvisioner, svc: MucService, sender: RecordingSender
) -> None:
    """§5.1.2: owners/admins enter as moderators; in a moderated room, unaffiliated
    users as visitors and members as participants. Service admins count as owners."""
    room = provision(moderated=True)
    room.set_affiliation("bob@example", Affiliation.MEMBER)
    room.set_affiliation("carol@example", Affiliation.ADMIN)
    for nick, jid in [
        ("Owner", OWNER_JID),
        ("Alice", ALICE_JID),
        ("Bob", BOB_JID),
        ("Carol", CAROL_JID),
        ("Admin", ADMIN_JID),
    ]:
        join(svc, room, nick, jid)
    items = {
        jid: self_presence(sender, jid).item
        for jid in (OWNER_JID, ALICE_JID, BOB_JID, CAROL_JID, ADMIN_JID)
    }
    assert {j: (i.affiliation, i.role) for j, i in items.items()} == {
        OWNER_JID: ("owner", "moderator"),
        ALICE_JID: ("none", "visitor"),
        BOB_JID: ("member", "participant"),
        CAROL_JID: ("admin", "moderator"),
        ADMIN_JID: ("owner", "moderator"),
    }


def test_presence_carries_occupant_id(room: Room, svc: MucService, sender: RecordingSender) -> None:
    """XEP-0421 §4: every in-room presence carries the occupant's id."""
    join(svc, room, "Alice", ALICE_JID)
    alice = room.occupant_by_nick("Alice")
    assert alice is not None
    assert self_presence(sender, ALICE_JID).occupant_id == alice.occupant_id


# --------------------------------------------------------------------------- sessions
def test_second_session_same_nick_joins_the_same_occupant(
    room: Room, svc: MucService, sender: RecordingSender
) -> None:
    """§7.2.8: the same bare JID under the same nick is a second in-room session; it
    gets the full §7.1 sequence, nobody else is told, and messages reach both."""
    join(svc, room, "Owner", OWNER_JID)
    join(svc, room, "Alice", ALICE_JID)
    say(svc, room, OWNER_JID, "hello")
    sender.clear()

    join(svc, room, "Alice", ALICE2_JID)

    assert room.occupant_count == 2
    alice = room.occupant_by_nick("Alice")
    assert alice is not None and sorted(alice.sessions) == sorted([ALICE_JID, ALICE2_JID])
    assert kinds(sender, ALICE2_JID) == ["presence", "presence", "history", "subject"]
    assert sorted(self_presence(sender, ALICE2_JID).codes) == [110, 170]
    assert presences(sender, OWNER_JID) == [] and presences(sender, ALICE_JID) == []

    sender.clear()
    say(svc, room, OWNER_JID, "both of you")
    recipients, _ = only(sender.of("groupchat"))
    assert sorted(recipients) == sorted([OWNER_JID, ALICE_JID, ALICE2_JID])


def test_second_session_is_not_counted_against_max_users(
    provision: RoomProvisioner, svc: MucService
) -> None:
    """§7.2.9: a full room still lets a present occupant's other resource in."""
    room = provision(max_users=1)
    join(svc, room, "Alice", ALICE_JID)
    join(svc, room, "Alice", ALICE2_JID)
    assert room.occupant_by_jid(ALICE2_JID) is room.occupant_by_nick("Alice")


def test_second_session_with_case_variant_nick_gets_210(
    room: Room, svc: MucService, sender: RecordingSender
) -> None:
    """§7.2.2: joining as 'ALICE' lands on occupant 'Alice'; the service changed the
    nick the client asked for, so the self-presence must carry 210."""
    join(svc, room, "Alice", ALICE_JID)
    sender.clear()
    join(svc, room, "ALICE", ALICE2_JID)
    p = self_presence(sender, ALICE2_JID)
    assert p.frm == f"{room.jid}/Alice"
    assert 210 in p.codes


def test_rejoin_from_joined_session_resends_room_state(
    room: Room, svc: MucService, sender: RecordingSender
) -> None:
    """§7.2.1: a MUC join from an already-joined full JID is answered as a fresh join."""
    join(svc, room, "Owner", OWNER_JID)
    join(svc, room, "Alice", ALICE_JID)
    sender.clear()
    join(svc, room, "Alice", ALICE_JID, "<show>away</show>")
    assert room.occupant_count == 2
    assert kinds(sender, ALICE_JID)[-2:] == ["presence", "subject"]
    to_alice = presences(sender, ALICE_JID)
    assert sorted(to_alice[-1].codes) == [110, 170]  # the join's self-presence, last
    assert [p.frm for p in to_alice[-2:]] == [f"{room.jid}/Owner", f"{room.jid}/Alice"]
    # The owner learns about the new availability (the "MAY" of §7.2.1).
    assert only(presences(sender, OWNER_JID)).payload == "<show>away</show>"


def test_rejoin_sends_exactly_the_stanzas_of_a_fresh_join(
    room: Room, svc: MucService, sender: RecordingSender
) -> None:
    """§7.2.1: "it SHOULD send exactly the same stanzas to the client as if it actually
    just joined"; §7.2.2: self-presence only after the presence of all others."""
    join(svc, room, "Owner", OWNER_JID)
    join(svc, room, "Alice", ALICE_JID)
    sender.clear()
    join(svc, room, "Alice", ALICE_JID)
    got = presences(sender, ALICE_JID)
    assert [p.frm for p in got] == [f"{room.jid}/Owner", f"{room.jid}/Alice"]


# --------------------------------------------------------------------------- refusals
def refused(
    svc: MucService, room: Room | str, nick: str, jid: str, password: str | None = None
) -> MucError:
    """Join and return the MucError the service raised (fails if it let the user in)."""
    with pytest.raises(MucError) as info:
        join(svc, room, nick, jid, password=password)
    return info.value


def assert_nothing_sent_to(sender: RecordingSender, jid: str) -> None:
    assert delivered(sender, jid) == []


@pytest.mark.parametrize("nick", ["", "   ", "\u3000", "a\u0000b", "zero\u200bwidth", "x" * 49])
def test_unusable_nick_is_jid_malformed(
    room: Room, svc: MucService, sender: RecordingSender, nick: str
) -> None:
    """§7.2.1 / RFC 8266: no or unusable nickname -> jid-malformed (type modify)."""
    err = refused(svc, room, nick, ALICE_JID)
    assert (err.condition, err.etype) == ("jid-malformed", "modify")
    assert room.occupant_count == 0
    assert_nothing_sent_to(sender, ALICE_JID)


def test_locked_room_refuses_non_owner(service: ServiceFactory, sender: RecordingSender) -> None:
    """§7.2.10: entering a locked room (created, not configured) -> item-not-found,
    except for its owner."""
    svc = service(room_creation="anyone")
    jid = f"fresh@{svc.domain}"
    join(svc, jid, "Creator", ALICE_JID)
    err = refused(svc, jid, "Bob", BOB_JID)
    assert err.condition == "item-not-found"
    assert_nothing_sent_to(sender, BOB_JID)
    join(svc, jid, "Again", ALICE2_JID)  # another resource of the owner may enter
    assert svc.rooms[jid].occupant_count == 2


def test_outcast_is_forbidden(room: Room, svc: MucService, sender: RecordingSender) -> None:
    """§7.2.7: a banned user -> forbidden (type auth)."""
    room.set_affiliation("alice@example", Affiliation.OUTCAST)
    err = refused(svc, room, "Alice", ALICE_JID)
    assert (err.condition, err.etype) == ("forbidden", "auth")
    assert_nothing_sent_to(sender, ALICE_JID)


def test_members_only_requires_membership(provision: RoomProvisioner, svc: MucService) -> None:
    """§7.2.6: members-only room, not a member -> registration-required; members,
    admins, owners and service admins get in."""
    room = provision(members_only=True)
    assert refused(svc, room, "Alice", ALICE_JID).condition == "registration-required"
    room.set_affiliation("bob@example", Affiliation.MEMBER)
    room.set_affiliation("carol@example", Affiliation.ADMIN)
    join(svc, room, "Bob", BOB_JID)
    join(svc, room, "Carol", CAROL_JID)
    join(svc, room, "Owner", OWNER_JID)
    join(svc, room, "Admin", ADMIN_JID)
    assert room.occupant_count == 4


@pytest.mark.parametrize("password", [None, "", "wrong", "Secret"])
def test_password_missing_or_wrong_is_not_authorized(
    provision: RoomProvisioner,
    svc: MucService,
    sender: RecordingSender,
    password: str | None,
) -> None:
    """§7.2.5: missing or wrong password -> not-authorized (type auth)."""
    room = provision(password="secret")
    err = refused(svc, room, "Alice", ALICE_JID, password=password)
    assert (err.condition, err.etype) == ("not-authorized", "auth")
    assert_nothing_sent_to(sender, ALICE_JID)


def test_password_right_and_admins_exempt(provision: RoomProvisioner, svc: MucService) -> None:
    """§7.2.5: the right password lets a user in; owners, room admins and service
    admins enter without it."""
    room = provision(password="secret")
    room.set_affiliation("carol@example", Affiliation.ADMIN)
    join(svc, room, "Alice", ALICE_JID, password="secret")
    join(svc, room, "Owner", OWNER_JID)
    join(svc, room, "Carol", CAROL_JID)
    join(svc, room, "Admin", ADMIN_JID)
    assert room.occupant_count == 4


@pytest.mark.parametrize("nick", ["Alice", "alice", "ＡＬＩＣＥ", " Alice "])
def test_nick_in_use_by_another_user_is_conflict(
    room: Room, svc: MucService, sender: RecordingSender, nick: str
) -> None:
    """§7.2.8: nickname taken by another bare JID (RFC 8266 comparison) -> conflict."""
    join(svc, room, "Alice", ALICE_JID)
    sender.clear()
    err = refused(svc, room, nick, BOB_JID)
    assert (err.condition, err.etype) == ("conflict", "cancel")
    assert sender.sent == []
    assert room.occupant_count == 1


def test_full_room_is_service_unavailable(
    provision: RoomProvisioner, svc: MucService, sender: RecordingSender
) -> None:
    """§7.2.9: room at max_users -> service-unavailable; owners, admins and service
    admins still get in."""
    room = provision(max_users=2)
    room.set_affiliation("dave@example", Affiliation.ADMIN)
    join(svc, room, "Alice", ALICE_JID)
    join(svc, room, "Bob", BOB_JID)
    err = refused(svc, room, "Carol", CAROL_JID)
    assert (err.condition, err.etype) == ("service-unavailable", "cancel")
    assert_nothing_sent_to(sender, CAROL_JID)
    join(svc, room, "Owner", OWNER_JID)
    join(svc, room, "Dave", DAVE_JID)
    join(svc, room, "Admin", ADMIN_JID)
    assert room.occupant_count == 5


def test_room_with_space_again_admits(provision: RoomProvisioner, svc: MucService) -> None:
    """§7.2.9: once someone leaves, a full room admits again."""
    room = provision(max_users=1)
    join(svc, room, "Alice", ALICE_JID)
    assert refused(svc, room, "Bob", BOB_JID).condition == "service-unavailable"
    svc.presence(room.jid, "Alice", ALICE_JID, None, available=False)
    join(svc, room, "Bob", BOB_JID)
    assert room.occupant_by_nick("Bob") is not None


def test_history_limits_of_the_join_are_honoured(
    room: Room, svc: MucService, sender: RecordingSender
) -> None:
    """§7.2.14: a join's <history maxstanzas/> limits what is sent."""
    join(svc, room, "Owner", OWNER_JID)
    for i in range(5):
        say(svc, room, OWNER_JID, f"m{i}")
    join(svc, room, "Alice", ALICE_JID, history=HistoryRequest(maxstanzas=2))
    sent = [stanza for to, stanza, _ in sender.of("history") if to == ALICE_JID]
    assert len(sent) == 2 and "m3" in sent[0] and "m4" in sent[1]
