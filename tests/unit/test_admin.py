"""Role and affiliation changes and the admin lists (``muc#admin``), XEP-0045 §8–§10.

Everything goes through :meth:`MucService.admin_set` / :meth:`MucService.admin_list`
and is checked on what the :class:`RecordingSender` recorded and on what
:class:`MemoryPersistence` stored. Privileges follow the tables of §5.1.1 and
§5.2.1; section numbers count the ``<section2>`` elements of each ``<section1>``
(§8 moderator, §9 admin, §10 owner use cases).

Cast of the ``lobby`` fixture (an open, unmoderated, persistent room):

========  ===================  ===========  ============
nick      JID                  affiliation  role
========  ===================  ===========  ============
Owner     owner@example/desk   owner        moderator
Carol     carol@example/web    admin        moderator
Dave      dave@example/pc      member       participant
Alice     alice@example/phone  none         participant  (two sessions: phone, tablet)
          alice@example/tablet
Bob       bob@example/laptop   none         participant
========  ===================  ===========  ============

``admin@example`` is a service administrator (an owner of every room) and is not
in the room.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from muc.admin import AdminItem, ListEntry
from muc.errors import MucError
from muc.ports import MemoryPersistence, OutPresence, RecordingSender
from muc.roles import Affiliation, Role
from muc.room import Room
from muc.service import MucService
from tests.unit.support import (
    ADMIN,
    ADMIN_JID,
    ALICE2_JID,
    ALICE_JID,
    BOB_JID,
    CAROL_JID,
    DAVE_JID,
    OWNER,
    OWNER_JID,
    RoomProvisioner,
    join,
    only,
    presences,
    presences_from,
)

ALICE = "alice@example"
BOB = "bob@example"
CAROL = "carol@example"
DAVE = "dave@example"
ERIN = "erin@example"  # a second owner, absent
FRANK = "frank@example"  # a second admin, absent
NOBODY = "nobody@example"  # never seen in the room

ALL = (OWNER_JID, CAROL_JID, DAVE_JID, ALICE_JID, ALICE2_JID, BOB_JID)

KICKED, BANNED, AFFILIATION_REMOVED, SELF = 307, 301, 321, 110


# --------------------------------------------------------------------------- helpers
def populate(svc: MucService, room: Room) -> Room:
    """Carol admin, Dave member; everyone of the cast table joins."""
    room.set_affiliation(CAROL, Affiliation.ADMIN)
    room.set_affiliation(DAVE, Affiliation.MEMBER)
    join(svc, room, "Owner", OWNER_JID)
    join(svc, room, "Carol", CAROL_JID)
    join(svc, room, "Dave", DAVE_JID)
    join(svc, room, "Alice", ALICE_JID)
    join(svc, room, "Alice", ALICE2_JID)
    join(svc, room, "Bob", BOB_JID)
    return room


@pytest.fixture
def lobby(room: Room, svc: MucService, sender: RecordingSender) -> Room:
    """The open lobby with the whole cast present; sender cleared."""
    populate(svc, room)
    sender.clear()
    return room


@pytest.fixture
def stage(provision: RoomProvisioner, svc: MucService, sender: RecordingSender) -> Room:
    """A moderated room (§5.1.2: Alice and Bob enter as visitors); sender cleared."""
    room = populate(svc, provision("stage", moderated=True))
    sender.clear()
    return room


def item(**kwargs: Any) -> AdminItem:
    return AdminItem(**kwargs)


def act(svc: MucService, room: Room, actor: str, *items: AdminItem) -> None:
    """A ``muc#admin`` set from ``actor`` (full JID) carrying ``items``."""
    svc.admin_set(room.jid, actor, list(items))


def expect_error(condition: str, call: Callable[..., Any], *args: Any, **kwargs: Any) -> MucError:
    """Run ``call``; it must raise MucError ``condition`` with a human-readable text."""
    with pytest.raises(MucError) as info:
        call(*args, **kwargs)
    err = info.value
    assert err.condition == condition, f"expected {condition}, got {err.condition}: {err.text}"
    assert err.text.strip(), "a MucError must carry a non-empty text"
    return err


def refused(condition: str, svc: MucService, room: Room, actor: str,
            *items: AdminItem) -> MucError:
    """``act`` must fail with ``condition``."""
    return expect_error(condition, act, svc, room, actor, *items)


def occ(room: Room, nick: str) -> tuple[Role, Affiliation]:
    """(role, affiliation) of a present occupant."""
    o = room.occupant_by_nick(nick)
    assert o is not None, f"{nick} is not in the room"
    return o.role, o.affiliation


def snapshot(room: Room, store: MemoryPersistence) -> tuple[Any, ...]:
    """Everything an admin request could change: affiliations, stored rows, occupants."""
    return (
        dict(room.affiliations),
        dict(store.affiliations),
        {o.nick: (o.role, o.affiliation, tuple(o.sessions)) for o in room.occupants()},
    )


def stored(store: MemoryPersistence, room: Room, jid: str) -> str | None:
    return store.affiliations.get((room.jid, jid))


def from_nick(sender: RecordingSender, room: Room, nick: str) -> list[OutPresence]:
    return presences_from(sender, f"{room.jid}/{nick}")


def assert_broadcast(sent: list[OutPresence], subject_jids: tuple[str, ...],
                     recipients: tuple[str, ...] = ALL) -> None:
    """One presence to every session in ``recipients``; 110 exactly for the subject's."""
    assert sorted(p.to for p in sent) == sorted(recipients)
    for p in sent:
        assert (SELF in p.codes) == (p.to in subject_jids), p


# --------------------------------------------------------------------------- §8.2 kick
def test_kick_sends_307_to_everyone_and_110_only_to_the_kicked(
    lobby: Room, svc: MucService, sender: RecordingSender
) -> None:
    """§8.2: unavailable + 307 to the kicked (with 110) and to all remaining occupants,
    carrying the reason and the actor's nick; the occupant is gone."""
    act(svc, lobby, OWNER_JID, item(nick="Bob", role="none", reason="Flooding"))
    sent = from_nick(sender, lobby, "Bob")
    assert_broadcast(sent, (BOB_JID,))
    for p in sent:
        assert not p.available
        assert KICKED in p.codes
        assert p.item.role == "none"
        assert p.item.reason == "Flooding"
        assert p.item.actor_nick == "Owner"
    assert lobby.occupant_by_nick("Bob") is None
    assert lobby.occupant_by_jid(BOB_JID) is None
    assert lobby.occupant_count == 4


def test_kick_reaches_every_session_of_the_kicked(
    lobby: Room, svc: MucService, sender: RecordingSender
) -> None:
    """§8.2: "to each kicked occupant": both of Alice's sessions get 307 + 110."""
    act(svc, lobby, CAROL_JID, item(nick="alice", role="none"))  # nick lookup is folded
    sent = from_nick(sender, lobby, "Alice")
    assert_broadcast(sent, (ALICE_JID, ALICE2_JID))
    assert all(not p.available and KICKED in p.codes for p in sent)
    assert all(p.item.actor_nick == "Carol" and p.item.reason is None for p in sent)
    assert lobby.occupant_by_jid(ALICE_JID) is None
    assert lobby.occupant_by_jid(ALICE2_JID) is None


def test_kick_by_a_granted_moderator(
    lobby: Room, svc: MucService, sender: RecordingSender
) -> None:
    """§5.1.1: any moderator may kick a participant of the same affiliation."""
    act(svc, lobby, OWNER_JID, item(nick="Bob", role="moderator"))
    sender.clear()
    act(svc, lobby, BOB_JID, item(nick="Alice", role="none"))
    assert lobby.occupant_by_nick("Alice") is None
    assert all(p.item.actor_nick == "Bob" for p in from_nick(sender, lobby, "Alice"))


def test_participant_cannot_kick(lobby: Room, svc: MucService, sender: RecordingSender) -> None:
    """§5.1.1: kicking is a moderator privilege; a participant gets forbidden."""
    refused("forbidden", svc, lobby, BOB_JID, item(nick="Alice", role="none"))
    assert lobby.occupant_by_nick("Alice") is not None
    assert sender.sent == []


def test_an_admin_kicking_an_owner_is_not_allowed(
    lobby: Room, svc: MucService, sender: RecordingSender
) -> None:
    """§8.2: "if … a moderator who is a member or admin attempts to kick an owner, the
    service MUST deny the request and return a <not-allowed/> error"."""
    refused("not-allowed", svc, lobby, CAROL_JID, item(nick="Owner", role="none"))
    assert occ(lobby, "Owner")[0] is Role.MODERATOR
    assert sender.sent == []


def test_an_owner_may_kick_an_admin(lobby: Room, svc: MucService) -> None:
    """§8.2: "A user cannot be kicked by a moderator with a lower affiliation": an owner's
    is higher than an admin's, so the kick goes through (the admin may come back)."""
    svc.admin_set(lobby.jid, OWNER_JID, [AdminItem(nick="Carol", role="none")])
    assert lobby.occupant_by_nick("Carol") is None


def test_temporary_room_emptied_by_a_removal_is_destroyed(
    provision: RoomProvisioner, svc: MucService, sender: RecordingSender,
    store: MemoryPersistence
) -> None:
    """§10.1 / §7.14: a temporary room goes away with its last occupant, also when that
    occupant was removed by an admin action.

    A *kick* can never empty a room here (the kicker is a present moderator and may
    not kick themself), so the last occupant is removed by a service admin's ban
    (§9.1), which needs no presence in the room.
    """
    temp = provision("temp", persistent=False)
    join(svc, temp, "Bob", BOB_JID)
    sender.clear()
    act(svc, temp, ADMIN_JID, item(jid=BOB, affiliation="outcast"))
    p = only(presences(sender))
    assert p.to == BOB_JID and not p.available and p.codes == (SELF, BANNED)
    assert svc.room(temp.jid) is None
    assert temp.destroyed
    assert temp.jid in store.deleted
    expect_error("item-not-found", act, svc, temp, ADMIN_JID, item(jid=BOB, affiliation="none"))


# ------------------------------------------------------------------ §8.3, §8.4 voice
def test_grant_voice_to_a_visitor(stage: Room, svc: MucService, sender: RecordingSender) -> None:
    """§8.3: role participant; updated (available) presence to all occupants."""
    assert occ(stage, "Bob") == (Role.VISITOR, Affiliation.NONE)
    act(svc, stage, OWNER_JID, item(nick="Bob", role="participant", reason="Welcome"))
    sent = from_nick(sender, stage, "Bob")
    assert_broadcast(sent, (BOB_JID,))
    for p in sent:
        assert p.available
        assert p.item.role == "participant" and p.item.affiliation == "none"
        assert p.item.reason == "Welcome"
        assert p.item.actor_nick == "Owner"
    assert occ(stage, "Bob") == (Role.PARTICIPANT, Affiliation.NONE)


def test_revoke_voice_from_a_participant(
    stage: Room, svc: MucService, sender: RecordingSender
) -> None:
    """§8.4: role visitor; updated presence to all; real JIDs only to moderators (§7.2.3)."""
    assert occ(stage, "Dave") == (Role.PARTICIPANT, Affiliation.MEMBER)
    act(svc, stage, CAROL_JID, item(nick="Dave", role="visitor"))
    sent = from_nick(sender, stage, "Dave")
    assert_broadcast(sent, (DAVE_JID,))
    for p in sent:
        assert p.available and p.item.role == "visitor" and p.item.affiliation == "member"
        moderator_or_self = p.to in (OWNER_JID, CAROL_JID, DAVE_JID)
        assert (p.item.jid == DAVE_JID) == moderator_or_self
    assert occ(stage, "Dave") == (Role.VISITOR, Affiliation.MEMBER)


def test_setting_the_current_role_again_sends_nothing(
    stage: Room, svc: MucService, sender: RecordingSender
) -> None:
    """§8.5: only the delta matters; an unchanged role is no presence update."""
    act(svc, stage, OWNER_JID, item(nick="Bob", role="visitor"))
    assert sender.sent == []


@pytest.mark.parametrize("target", ["Owner", "Carol"])
def test_moderator_cannot_revoke_voice_from_owner_or_admin(
    stage: Room, svc: MucService, sender: RecordingSender, target: str
) -> None:
    """§8.4: "a service MUST NOT allow the voice privileges of an admin or owner to be
    removed by anyone" (not-allowed), even by an owner."""
    actor = OWNER_JID if target == "Carol" else CAROL_JID
    refused("not-allowed", svc, stage, actor, item(nick=target, role="visitor"))
    assert occ(stage, target)[0] is Role.MODERATOR
    assert sender.sent == []


@pytest.mark.parametrize("role", ["participant", "visitor", "moderator", "none"])
def test_participants_cannot_change_roles(
    stage: Room, svc: MucService, sender: RecordingSender, store: MemoryPersistence,
    role: str
) -> None:
    """§5.1.1: only moderators grant/revoke voice or kick; a participant gets forbidden."""
    before = snapshot(stage, store)
    refused("forbidden", svc, stage, DAVE_JID, item(nick="Bob", role=role))
    assert snapshot(stage, store) == before
    assert sender.sent == []


def test_absent_actor_cannot_change_roles(stage: Room, svc: MucService) -> None:
    """§8: roles are changed by moderators, i.e. occupants; even a room owner who is
    not present has no role and gets forbidden."""
    refused("forbidden", svc, stage, "owner@example/elsewhere",
            item(nick="Bob", role="participant"))


@pytest.mark.parametrize("role", ["visitor", "none"], ids=["revoke-voice", "kick"])
def test_moderator_cannot_lower_a_higher_or_equal_affiliation(
    stage: Room, svc: MucService, sender: RecordingSender, role: str
) -> None:
    """§8.2, §8.4: Bob (no affiliation, granted moderator) vs Dave (member)."""
    act(svc, stage, OWNER_JID, item(nick="Bob", role="moderator"))
    sender.clear()
    refused("not-allowed", svc, stage, BOB_JID, item(nick="Dave", role=role))
    assert occ(stage, "Dave") == (Role.PARTICIPANT, Affiliation.MEMBER)


def test_plain_moderator_kicking_an_admin_is_not_allowed(
    lobby: Room, svc: MucService
) -> None:
    """§8.2: a member moderator kicking an admin: not-allowed (not forbidden)."""
    act(svc, lobby, OWNER_JID, item(nick="Dave", role="moderator"))
    refused("not-allowed", svc, lobby, DAVE_JID, item(nick="Carol", role="none"))


# ------------------------------------------------------------ §9.6, §9.7 moderator
def test_admin_grants_and_revokes_moderator(
    lobby: Room, svc: MucService, sender: RecordingSender
) -> None:
    """§9.6 (role moderator) and §9.7 (back to participant), presence to all each time."""
    act(svc, lobby, CAROL_JID, item(nick="Bob", role="moderator", reason="Helper"))
    sent = from_nick(sender, lobby, "Bob")
    assert_broadcast(sent, (BOB_JID,))
    assert all(p.available and p.item.role == "moderator" and p.item.reason == "Helper"
               and p.item.actor_nick == "Carol" for p in sent)
    assert occ(lobby, "Bob") == (Role.MODERATOR, Affiliation.NONE)
    sender.clear()
    act(svc, lobby, OWNER_JID, item(nick="Bob", role="participant"))
    sent = from_nick(sender, lobby, "Bob")
    assert_broadcast(sent, (BOB_JID,))
    assert all(p.available and p.item.role == "participant" for p in sent)
    assert occ(lobby, "Bob") == (Role.PARTICIPANT, Affiliation.NONE)


def test_plain_moderator_cannot_grant_or_revoke_moderator(
    lobby: Room, svc: MucService, sender: RecordingSender, store: MemoryPersistence
) -> None:
    """§9.6, §9.7 are admin use cases; §9: anyone else gets forbidden."""
    act(svc, lobby, OWNER_JID, item(nick="Bob", role="moderator"),
        item(nick="Dave", role="moderator"))
    sender.clear()
    before = snapshot(lobby, store)
    refused("forbidden", svc, lobby, BOB_JID, item(nick="Alice", role="moderator"))
    refused("forbidden", svc, lobby, BOB_JID, item(nick="Dave", role="participant"))
    assert snapshot(lobby, store) == before
    assert sender.sent == []


@pytest.mark.parametrize("actor", [CAROL_JID, OWNER_JID], ids=["admin", "owner"])
def test_moderator_status_of_owner_or_admin_cannot_be_revoked(
    lobby: Room, svc: MucService, sender: RecordingSender, actor: str
) -> None:
    """§9.7: "an admin MUST NOT be allowed to revoke moderator status from a user whose
    affiliation is 'owner' or 'admin'" (not-allowed)."""
    target = "Owner" if actor == CAROL_JID else "Carol"
    refused("not-allowed", svc, lobby, actor, item(nick=target, role="participant"))
    assert occ(lobby, target)[0] is Role.MODERATOR
    assert sender.sent == []


# --------------------------------------------------------------------------- §9.1 ban
def test_ban_of_a_present_occupant(
    lobby: Room, svc: MucService, sender: RecordingSender, store: MemoryPersistence
) -> None:
    """§9.1: outcast stored by bare JID; 301 to the banned (110) and all remaining, with
    item affiliation outcast, reason and actor; a later join is refused (§7.2.7)."""
    act(svc, lobby, CAROL_JID, item(jid=BOB_JID, affiliation="outcast", reason="Spam"))
    sent = from_nick(sender, lobby, "Bob")
    assert_broadcast(sent, (BOB_JID,))
    for p in sent:
        assert not p.available
        assert BANNED in p.codes
        assert p.item.affiliation == "outcast" and p.item.role == "none"
        assert p.item.reason == "Spam" and p.item.actor_nick == "Carol"
    assert lobby.occupant_by_nick("Bob") is None
    assert lobby.affiliations[BOB] is Affiliation.OUTCAST  # bare JID (§9.1)
    assert stored(store, lobby, BOB) == "outcast"
    sender.clear()
    expect_error("forbidden", join, svc, lobby, "Bobby", "bob@example/other")
    assert lobby.occupant_by_jid("bob@example/other") is None


def test_ban_removes_every_session(
    lobby: Room, svc: MucService, sender: RecordingSender
) -> None:
    """§9.1: "remove any banned users who are in the room": both of Alice's sessions."""
    act(svc, lobby, OWNER_JID, item(nick="Alice", affiliation="outcast"))
    sent = from_nick(sender, lobby, "Alice")
    assert_broadcast(sent, (ALICE_JID, ALICE2_JID))
    assert all(BANNED in p.codes and not p.available for p in sent)
    assert lobby.occupant_by_nick("Alice") is None
    assert lobby.affiliations[ALICE] is Affiliation.OUTCAST


def test_ban_of_an_absent_jid_is_only_stored(
    lobby: Room, svc: MucService, sender: RecordingSender, store: MemoryPersistence
) -> None:
    """§9.2: the ban list is by bare JID; nobody present, so no presence at all."""
    act(svc, lobby, CAROL_JID, item(jid=f"{NOBODY}/res", affiliation="outcast", reason="Troll"))
    assert sender.sent == []
    assert lobby.affiliations[NOBODY] is Affiliation.OUTCAST
    assert lobby.affiliation_reasons[NOBODY] == "Troll"
    assert stored(store, lobby, NOBODY) == "outcast"
    assert lobby.occupant_count == 5
    expect_error("forbidden", join, svc, lobby, "Nobody", f"{NOBODY}/res")


def test_unban(lobby: Room, svc: MucService, store: MemoryPersistence) -> None:
    """§9.2: affiliation none removes a ban (and the stored row)."""
    act(svc, lobby, CAROL_JID, item(jid=NOBODY, affiliation="outcast"))
    act(svc, lobby, CAROL_JID, item(jid=NOBODY, affiliation="none"))
    assert NOBODY not in lobby.affiliations
    assert stored(store, lobby, NOBODY) is None
    join(svc, lobby, "Nobody", f"{NOBODY}/res")
    assert lobby.occupant_by_nick("Nobody") is not None


@pytest.mark.parametrize("target", [OWNER, FRANK], ids=["owner", "other-admin"])
def test_admin_cannot_ban_an_owner_or_admin(
    lobby: Room, svc: MucService, sender: RecordingSender, store: MemoryPersistence,
    target: str
) -> None:
    """§9.1: "a user cannot be banned by an admin with a lower affiliation … if an admin
    attempts to ban an owner, the service MUST … return a <not-allowed/> error"; §5.2.1:
    an admin can't change another admin either."""
    lobby.set_affiliation(FRANK, Affiliation.ADMIN)
    before = snapshot(lobby, store)
    refused("not-allowed", svc, lobby, CAROL_JID, item(jid=target, affiliation="outcast"))
    assert snapshot(lobby, store) == before
    assert sender.sent == []


@pytest.mark.parametrize("actor", [DAVE_JID, BOB_JID], ids=["member", "none"])
def test_non_admins_cannot_ban(
    lobby: Room, svc: MucService, store: MemoryPersistence, actor: str
) -> None:
    """§9: admin requests from a non-admin are forbidden, even from a moderator."""
    act(svc, lobby, OWNER_JID, item(nick="Bob", role="moderator"))
    before = snapshot(lobby, store)
    refused("forbidden", svc, lobby, actor, item(jid=ALICE, affiliation="outcast"))
    assert snapshot(lobby, store) == before


@pytest.mark.parametrize("actor,target", [(OWNER_JID, OWNER), (CAROL_JID, CAROL)],
                         ids=["owner", "admin"])
def test_banning_oneself_is_a_conflict(
    lobby: Room, svc: MucService, store: MemoryPersistence, actor: str, target: str
) -> None:
    """§9.1: self-ban → conflict, nothing changed (a co-owner exists, so §10.4 is moot)."""
    lobby.set_affiliation(ERIN, Affiliation.OWNER)
    before = snapshot(lobby, store)
    refused("conflict", svc, lobby, actor, item(jid=target, affiliation="outcast"))
    assert snapshot(lobby, store) == before


# ------------------------------------------------------------ §9.3, §9.4 membership
def test_grant_membership_to_a_present_user(
    lobby: Room, svc: MucService, sender: RecordingSender, store: MemoryPersistence
) -> None:
    """§9.3: stored as member; updated presence (affiliation member) to all occupants."""
    act(svc, lobby, CAROL_JID, item(jid=BOB, affiliation="member", reason="Regular"))
    sent = from_nick(sender, lobby, "Bob")
    assert_broadcast(sent, (BOB_JID,))
    for p in sent:
        assert p.available
        assert p.item.affiliation == "member" and p.item.role == "participant"
        assert p.item.reason == "Regular" and p.item.actor_nick == "Carol"
    assert occ(lobby, "Bob") == (Role.PARTICIPANT, Affiliation.MEMBER)
    assert stored(store, lobby, BOB) == "member"


def test_grant_membership_to_an_absent_user_is_only_stored(
    lobby: Room, svc: MucService, sender: RecordingSender, store: MemoryPersistence
) -> None:
    """§9.3: "If the user is in the room" – here they aren't: no presence."""
    act(svc, lobby, OWNER_JID, item(jid=NOBODY, affiliation="member"))
    assert sender.sent == []
    assert lobby.affiliations[NOBODY] is Affiliation.MEMBER
    assert stored(store, lobby, NOBODY) == "member"


def test_revoke_membership_in_an_open_room(
    lobby: Room, svc: MucService, sender: RecordingSender, store: MemoryPersistence
) -> None:
    """§9.4: affiliation none, stored row gone; updated presence to all, user stays."""
    act(svc, lobby, CAROL_JID, item(jid=DAVE, affiliation="none"))
    sent = from_nick(sender, lobby, "Dave")
    assert_broadcast(sent, (DAVE_JID,))
    assert all(p.available and p.item.affiliation == "none" for p in sent)
    assert occ(lobby, "Dave") == (Role.PARTICIPANT, Affiliation.NONE)
    assert DAVE not in lobby.affiliations
    assert stored(store, lobby, DAVE) is None


def test_revoke_membership_in_a_members_only_room_removes_with_321(
    provision: RoomProvisioner, svc: MucService, sender: RecordingSender,
    store: MemoryPersistence
) -> None:
    """§9.4: "If the room is members-only, the service MUST remove the user from the
    room, including a status code of 321"; it SHOULD send only the unavailable
    presence, not a de-affiliation presence first."""
    club = provision("club", members_only=True)
    club.set_affiliation(DAVE, Affiliation.MEMBER)
    join(svc, club, "Owner", OWNER_JID)
    join(svc, club, "Dave", DAVE_JID)
    sender.clear()
    act(svc, club, OWNER_JID, item(jid=DAVE, affiliation="none", reason="Lapsed"))
    sent = from_nick(sender, club, "Dave")
    assert_broadcast(sent, (DAVE_JID,), (OWNER_JID, DAVE_JID))
    for p in sent:
        assert not p.available  # no available "affiliation none" presence first
        assert AFFILIATION_REMOVED in p.codes
        assert p.item.affiliation == "none" and p.item.role == "none"
        assert p.item.reason == "Lapsed" and p.item.actor_nick == "Owner"
    assert club.occupant_by_nick("Dave") is None
    assert stored(store, club, DAVE) is None
    expect_error("registration-required", join, svc, club, "Dave", DAVE_JID)


@pytest.mark.parametrize("actor", [DAVE_JID, BOB_JID], ids=["member", "none"])
def test_non_admins_cannot_change_membership(
    lobby: Room, svc: MucService, sender: RecordingSender, store: MemoryPersistence,
    actor: str
) -> None:
    """§9.3, §9.4 (admin use cases): forbidden for members and others."""
    before = snapshot(lobby, store)
    refused("forbidden", svc, lobby, actor, item(jid=NOBODY, affiliation="member"))
    refused("forbidden", svc, lobby, actor, item(jid=DAVE, affiliation="none"))
    assert snapshot(lobby, store) == before
    assert sender.sent == []


def test_membership_keeps_a_granted_moderator_role(
    lobby: Room, svc: MucService
) -> None:
    """§5.1 roles and affiliations are independent; §9.3 only changes the affiliation."""
    act(svc, lobby, OWNER_JID, item(nick="Bob", role="moderator"))
    act(svc, lobby, OWNER_JID, item(jid=BOB, affiliation="member"))
    assert occ(lobby, "Bob") == (Role.MODERATOR, Affiliation.MEMBER)


# ------------------------------------------------------------------ §10.3–§10.8
def test_admin_cannot_grant_admin_or_owner(
    lobby: Room, svc: MucService, sender: RecordingSender, store: MemoryPersistence
) -> None:
    """§10.3, §10.6: "If the <user@host> of the 'from' address does not match the bare
    JID of a room owner, the service MUST return a <forbidden/> error"."""
    before = snapshot(lobby, store)
    refused("forbidden", svc, lobby, CAROL_JID, item(jid=BOB, affiliation="admin"))
    refused("forbidden", svc, lobby, CAROL_JID, item(jid=BOB, affiliation="owner"))
    refused("forbidden", svc, lobby, CAROL_JID, item(jid=NOBODY, affiliation="admin"))
    assert snapshot(lobby, store) == before
    assert sender.sent == []


def test_admin_cannot_revoke_an_admin(lobby: Room, svc: MucService) -> None:
    """§10.7 is an owner use case: "If the <user@host> of the 'from' address does not
    match the bare JID of a room owner, the service MUST return a <forbidden/> error"."""
    lobby.set_affiliation(FRANK, Affiliation.ADMIN)
    refused("forbidden", svc, lobby, CAROL_JID, item(jid=FRANK, affiliation="member"))
    assert lobby.affiliations[FRANK] is Affiliation.ADMIN


def test_owner_grants_admin(
    lobby: Room, svc: MucService, sender: RecordingSender, store: MemoryPersistence
) -> None:
    """§10.6: stored; presence with affiliation admin and role moderator to all."""
    act(svc, lobby, OWNER_JID, item(jid=BOB, affiliation="admin"))
    sent = from_nick(sender, lobby, "Bob")
    assert_broadcast(sent, (BOB_JID,))
    assert all(p.available and p.item.affiliation == "admin" and p.item.role == "moderator"
               for p in sent)
    assert occ(lobby, "Bob") == (Role.MODERATOR, Affiliation.ADMIN)
    assert stored(store, lobby, BOB) == "admin"


def test_owner_grants_owner(
    lobby: Room, svc: MucService, sender: RecordingSender, store: MemoryPersistence
) -> None:
    """§10.3: stored; presence with affiliation owner and role moderator to all."""
    act(svc, lobby, OWNER_JID, item(nick="Dave", affiliation="owner"))
    sent = from_nick(sender, lobby, "Dave")
    assert_broadcast(sent, (DAVE_JID,))
    assert all(p.item.affiliation == "owner" and p.item.role == "moderator" for p in sent)
    assert stored(store, lobby, DAVE) == "owner"


def test_owner_revokes_admin(
    stage: Room, svc: MucService, sender: RecordingSender, store: MemoryPersistence
) -> None:
    """§10.7: the ex-admin's role follows the new affiliation ("typically participant"):
    a member of a moderated room is a participant (§5.1.2)."""
    act(svc, stage, OWNER_JID, item(jid=CAROL, affiliation="member"))
    sent = from_nick(sender, stage, "Carol")
    assert_broadcast(sent, (CAROL_JID,))
    assert all(p.item.affiliation == "member" and p.item.role == "participant" for p in sent)
    assert occ(stage, "Carol") == (Role.PARTICIPANT, Affiliation.MEMBER)
    assert stored(store, stage, CAROL) == "member"


def test_owner_revokes_another_owner(
    lobby: Room, svc: MucService, store: MemoryPersistence
) -> None:
    """§10.4: an owner may revoke another owner (Haven allows it)."""
    lobby.set_affiliation(ERIN, Affiliation.OWNER)
    act(svc, lobby, OWNER_JID, item(jid=ERIN, affiliation="admin"))
    assert lobby.affiliations[ERIN] is Affiliation.ADMIN
    assert stored(store, lobby, ERIN) == "admin"


def test_last_owner_cannot_demote_themself(
    lobby: Room, svc: MucService, sender: RecordingSender, store: MemoryPersistence
) -> None:
    """§10.4, §10.5: "A service MUST NOT allow an owner to revoke his or her own owner
    status if there are no other owners; … MUST return a <conflict/> error"."""
    before = snapshot(lobby, store)
    for new in ("admin", "member", "none"):
        refused("conflict", svc, lobby, OWNER_JID, item(jid=OWNER, affiliation=new))
    assert snapshot(lobby, store) == before
    assert sender.sent == []


def test_owner_can_demote_themself_when_another_owner_exists(
    lobby: Room, svc: MucService, sender: RecordingSender, store: MemoryPersistence
) -> None:
    """§10.4: "a service SHOULD allow an owner to revoke his or her own owner status if
    there are other owners"."""
    lobby.set_affiliation(ERIN, Affiliation.OWNER)
    act(svc, lobby, OWNER_JID, item(jid=OWNER, affiliation="admin"))
    assert lobby.affiliations[OWNER] is Affiliation.ADMIN
    assert stored(store, lobby, OWNER) == "admin"
    sent = from_nick(sender, lobby, "Owner")
    assert_broadcast(sent, (OWNER_JID,))
    assert all(p.item.affiliation == "admin" and p.item.role == "moderator" for p in sent)


def test_one_request_cannot_remove_every_owner(
    lobby: Room, svc: MucService, store: MemoryPersistence
) -> None:
    """§10.5: modifying the owner list so that no owner remains is a conflict."""
    lobby.set_affiliation(ERIN, Affiliation.OWNER)
    before = snapshot(lobby, store)
    refused("conflict", svc, lobby, OWNER_JID, item(jid=ERIN, affiliation="admin"),
            item(jid=OWNER, affiliation="admin"))
    assert snapshot(lobby, store) == before


@pytest.mark.parametrize("new", ["none", "member", "admin", "outcast"])
def test_service_admins_affiliation_cannot_be_changed(
    lobby: Room, svc: MucService, store: MemoryPersistence, new: str
) -> None:
    """§5.2: service admins own every room; Haven refuses to change them (not-allowed)."""
    before = snapshot(lobby, store)
    refused("not-allowed", svc, lobby, OWNER_JID, item(jid=ADMIN, affiliation=new))
    refused("not-allowed", svc, lobby, OWNER_JID, item(jid=ADMIN_JID, affiliation=new))
    assert snapshot(lobby, store) == before


def test_service_admin_acts_as_owner_without_being_present(
    lobby: Room, svc: MucService, store: MemoryPersistence
) -> None:
    """§5.2 / §10: a service admin may grant admin even though not in the room."""
    act(svc, lobby, ADMIN_JID, item(jid=BOB, affiliation="admin"))
    assert occ(lobby, "Bob") == (Role.MODERATOR, Affiliation.ADMIN)
    assert stored(store, lobby, BOB) == "admin"


# ------------------------------------------------------------ several items (§9.5)
def test_several_items_are_all_applied(
    stage: Room, svc: MucService, sender: RecordingSender, store: MemoryPersistence
) -> None:
    """§8.5, §9.5, §10.5: a request carries the delta; every item takes effect."""
    act(svc, stage, OWNER_JID,
        item(nick="Bob", role="participant"),
        item(jid=ALICE, affiliation="member"),
        item(jid=NOBODY, affiliation="outcast"),
        item(nick="Dave", role="visitor"))
    assert occ(stage, "Bob") == (Role.PARTICIPANT, Affiliation.NONE)
    assert occ(stage, "Alice") == (Role.PARTICIPANT, Affiliation.MEMBER)
    assert occ(stage, "Dave") == (Role.VISITOR, Affiliation.MEMBER)
    assert stored(store, stage, ALICE) == "member"
    assert stored(store, stage, NOBODY) == "outcast"
    changed = {p.frm.rsplit("/", 1)[1] for p in presences(sender)}
    assert changed == {"Bob", "Alice", "Dave"}


@pytest.mark.parametrize("bad", [
    item(jid=BOB, affiliation="admin"),  # forbidden for an admin (§10.6)
    item(jid=OWNER, affiliation="outcast"),  # not-allowed (§9.1)
    item(nick="Ghost", role="none"),  # item-not-found
    item(nick="Owner", role="visitor"),  # not-allowed (§8.4)
    item(nick="Bob", role="wizard"),  # bad-request
], ids=["forbidden", "not-allowed-aff", "item-not-found", "not-allowed-role", "bad-request"])
def test_nothing_is_applied_when_one_item_is_invalid(
    lobby: Room, svc: MucService, sender: RecordingSender, store: MemoryPersistence,
    bad: AdminItem
) -> None:
    """§9.2: "the service SHOULD NOT apply any of the requested changes": the valid
    items before and after the bad one change nothing, and nothing is sent."""
    before = snapshot(lobby, store)
    with pytest.raises(MucError) as info:
        act(svc, lobby, CAROL_JID,
            item(nick="Alice", role="none"),
            item(jid=NOBODY, affiliation="outcast"),
            bad,
            item(jid=BOB, affiliation="member"),
            item(nick="Dave", role="moderator"))
    assert info.value.text.strip()
    assert snapshot(lobby, store) == before
    assert sender.sent == []


@pytest.mark.parametrize("first", [
    item(nick="Bob", role="none"),
    item(jid=BOB, affiliation="outcast"),
], ids=["kick", "ban"])
def test_no_presence_for_an_occupant_removed_earlier_in_the_request(
    stage: Room, svc: MucService, sender: RecordingSender, first: AdminItem
) -> None:
    """§8.2/§9.1: once removed, Bob must not reappear as available to the others."""
    act(svc, stage, OWNER_JID, first, item(nick="Bob", role="participant"))
    sent = from_nick(sender, stage, "Bob")
    assert sent and not any(p.available for p in sent)
    assert stage.occupant_by_nick("Bob") is None


# --------------------------------------------------------------------------- bad items
@pytest.mark.parametrize("bad", [
    item(role="participant"),  # no nick/jid
    item(affiliation="member"),  # no jid/nick
    item(nick="Bob", role="wizard"),
    item(nick="Bob", role="MODERATOR"),
    item(jid=BOB, affiliation="superuser"),
    item(nick="Bob", role="participant", affiliation="member"),
    item(nick="Bob"),  # neither role nor affiliation
    item(nick="Bob", reason="no change at all"),
], ids=["role-no-target", "aff-no-target", "unknown-role", "role-case", "unknown-aff",
        "both", "neither", "reason-only"])
def test_bad_items_are_bad_request(
    lobby: Room, svc: MucService, sender: RecordingSender, store: MemoryPersistence,
    bad: AdminItem
) -> None:
    """§8.5, §9.2: an item carries exactly one of role/affiliation, a valid value and a
    target; anything else is bad-request, whoever asks."""
    before = snapshot(lobby, store)
    refused("bad-request", svc, lobby, OWNER_JID, bad)
    assert snapshot(lobby, store) == before
    assert sender.sent == []


def test_empty_request_is_bad_request(lobby: Room, svc: MucService) -> None:
    """A set with no <item/> changes nothing: bad-request."""
    refused("bad-request", svc, lobby, OWNER_JID)


@pytest.mark.parametrize("bad", [
    item(nick="Ghost", role="none"),
    item(nick="Ghost", role="participant"),
    item(jid=NOBODY, role="moderator"),
    item(nick="Ghost", affiliation="member"),
], ids=["kick", "voice", "role-by-jid", "affiliation-by-nick"])
def test_unknown_nick_is_item_not_found(
    lobby: Room, svc: MucService, sender: RecordingSender, bad: AdminItem
) -> None:
    """§8.2: the target is an occupant; nobody by that nick → item-not-found."""
    refused("item-not-found", svc, lobby, OWNER_JID, bad)
    assert sender.sent == []


def test_unknown_room_is_item_not_found(svc: MucService) -> None:
    """RFC 6120 §8.3.3.7: a request to a room that doesn't exist."""
    expect_error("item-not-found", svc.admin_set, "nowhere@rooms.example", OWNER_JID,
                 [item(jid=BOB, affiliation="member")])
    expect_error("item-not-found", svc.admin_list, "nowhere@rooms.example", OWNER_JID,
                 affiliation="member")


# --------------------------------------------------------------------------- lists
def entries(svc: MucService, room: Room, actor: str, **kwargs: str) -> list[ListEntry]:
    return svc.admin_list(room.jid, actor, **kwargs)


def test_voice_list_for_a_moderator(stage: Room, svc: MucService) -> None:
    """§8.5: the voice list is the participants; each item has nick, role, jid, affiliation."""
    act(svc, stage, OWNER_JID, item(nick="Bob", role="participant"))
    got = entries(svc, stage, OWNER_JID, role="participant")
    assert sorted((e.nick, e.jid, e.role, e.affiliation) for e in got) == [
        ("Bob", BOB, "participant", "none"),
        ("Dave", DAVE, "participant", "member"),
    ]


def test_granted_moderator_reads_the_voice_list(lobby: Room, svc: MucService) -> None:
    """§8.5 is a moderator use case: a moderator without affiliation may read it."""
    act(svc, lobby, OWNER_JID, item(nick="Bob", role="moderator"))
    got = entries(svc, lobby, BOB_JID, role="participant")
    assert {e.nick for e in got} == {"Dave", "Alice"}


def test_moderator_list_for_an_admin(lobby: Room, svc: MucService) -> None:
    """§9.8: each item MUST include nick and role, MAY include jid and affiliation."""
    got = entries(svc, lobby, CAROL_JID, role="moderator")
    assert sorted((e.nick, e.jid, e.role, e.affiliation) for e in got) == [
        ("Carol", CAROL, "moderator", "admin"),
        ("Owner", OWNER, "moderator", "owner"),
    ]


@pytest.mark.parametrize("role", ["participant", "moderator"])
@pytest.mark.parametrize("actor", [DAVE_JID, BOB_JID, "owner@example/absent"],
                         ids=["member", "none", "absent-owner"])
def test_role_lists_need_a_moderator(
    lobby: Room, svc: MucService, actor: str, role: str
) -> None:
    """§8.5, §9.8: a non-moderator asking for a role list gets forbidden."""
    expect_error("forbidden", entries, svc, lobby, actor, role=role)


def test_plain_moderator_cannot_read_the_moderator_list(
    lobby: Room, svc: MucService
) -> None:
    """§9.8: the moderator list is for admins and owners."""
    act(svc, lobby, OWNER_JID, item(nick="Bob", role="moderator"))
    expect_error("forbidden", entries, svc, lobby, BOB_JID, role="moderator")


@pytest.mark.parametrize("actor", [CAROL_JID, OWNER_JID, ADMIN_JID],
                         ids=["admin", "owner", "service-admin"])
def test_ban_list_for_admins_and_owners(
    lobby: Room, svc: MucService, actor: str
) -> None:
    """§9.2: the ban list has jid, affiliation (and the reason); no nick for absentees."""
    act(svc, lobby, CAROL_JID, item(jid=NOBODY, affiliation="outcast", reason="Troll"))
    act(svc, lobby, CAROL_JID, item(jid=BOB, affiliation="outcast"))
    got = entries(svc, lobby, actor, affiliation="outcast")
    assert got == [
        ListEntry(jid=BOB, nick=None, role=None, affiliation="outcast", reason=None),
        ListEntry(jid=NOBODY, nick=None, role=None, affiliation="outcast", reason="Troll"),
    ]


def test_member_list_carries_nicks_of_present_members(
    lobby: Room, svc: MucService
) -> None:
    """§9.5: jid and affiliation for every member; nick for those currently present."""
    act(svc, lobby, CAROL_JID, item(jid=NOBODY, affiliation="member", reason="Invited"))
    got = entries(svc, lobby, CAROL_JID, affiliation="member")
    assert [(e.jid, e.nick, e.affiliation, e.reason) for e in got] == [
        (DAVE, "Dave", "member", None),
        (NOBODY, None, "member", "Invited"),
    ]


def test_ban_list_needs_an_admin(lobby: Room, svc: MucService) -> None:
    """§9.2: members, others and even granted moderators get forbidden."""
    act(svc, lobby, OWNER_JID, item(nick="Bob", role="moderator"))
    for actor in (DAVE_JID, ALICE_JID, BOB_JID):
        expect_error("forbidden", entries, svc, lobby, actor, affiliation="outcast")


def test_member_list_follows_getmemberlist(lobby: Room, svc: MucService) -> None:
    """§7.11 / muc#roomconfig_getmemberlist (Haven's default: moderators): a granted
    moderator may read it with JIDs; participants only when the room allows, and then
    without real JIDs in a semi-anonymous room (§7.2.4)."""
    act(svc, lobby, OWNER_JID, item(nick="Bob", role="moderator"))
    lobby.set_affiliation(ERIN, Affiliation.MEMBER)
    assert ERIN in [e.jid for e in entries(svc, lobby, BOB_JID, affiliation="member")]
    for actor in (DAVE_JID, ALICE_JID):
        expect_error("forbidden", entries, svc, lobby, actor, affiliation="member")
    lobby.config.getmemberlist = ["moderator", "participant"]
    seen = entries(svc, lobby, ALICE_JID, affiliation="member")
    assert all(e.jid is None for e in seen)


def test_admin_and_owner_lists_for_owners(lobby: Room, svc: MucService) -> None:
    """§10.5, §10.8: jid and affiliation, nick when present."""
    lobby.set_affiliation(ERIN, Affiliation.OWNER)
    owners = entries(svc, lobby, OWNER_JID, affiliation="owner")
    assert [(e.jid, e.nick, e.affiliation) for e in owners] == [
        (ERIN, None, "owner"),
        (OWNER, "Owner", "owner"),
    ]
    admins = entries(svc, lobby, ADMIN_JID, affiliation="admin")
    assert [(e.jid, e.nick, e.affiliation) for e in admins] == [(CAROL, "Carol", "admin")]


@pytest.mark.parametrize("aff", ["admin", "owner"])
@pytest.mark.parametrize("actor", [CAROL_JID, DAVE_JID, BOB_JID], ids=["admin", "member", "none"])
def test_admin_and_owner_lists_need_an_owner(
    lobby: Room, svc: MucService, aff: str, actor: str
) -> None:
    """§10.5, §10.8: "the service MUST return a <forbidden/> error" to non-owners
    (Haven does so in every room, not only semi-anonymous ones)."""
    expect_error("forbidden", entries, svc, lobby, actor, affiliation=aff)


@pytest.mark.parametrize("query", [
    {"role": "visitor"}, {"role": "none"}, {"role": "wizard"},
    {"affiliation": "none"}, {"affiliation": "superuser"}, {},
], ids=["visitors", "role-none", "unknown-role", "aff-none", "unknown-aff", "empty"])
def test_bad_list_queries_are_bad_request(
    lobby: Room, svc: MucService, query: dict[str, str]
) -> None:
    """Only the voice, moderator, ban, member, admin and owner lists exist."""
    expect_error("bad-request", entries, svc, lobby, OWNER_JID, **query)
