"""Feature modules on the hook bus: the documented priority bands (muc/hooks.py),
the interplay of pre-join checks (XEP-0045 §7.2.17 lists the conditions, not an
order) and each feature's rule in isolation."""

from __future__ import annotations

import pytest

from muc import features
from muc.config import ALLOWPM_VALUES, RoomConfig
from muc.errors import MucError
from muc.features import (
    banned,
    history,
    locked,
    max_users,
    members_only,
    message_size,
    moderated,
    nick_conflict,
    nick_rules,
    password,
    private_messages,
    slow_mode,
    subject,
)
from muc.hooks import HookBus
from muc.ports import RecordingSender
from muc.roles import Affiliation, Role
from muc.room import JoinRequest, Room
from muc.roomconfig import FieldRegistry
from muc.service import MucService
from tests.unit.support import (
    ALICE_JID,
    BOB_JID,
    OWNER_JID,
    FakeClock,
    RoomProvisioner,
    join,
)


def test_pre_join_checks_run_in_the_documented_order(svc: MucService) -> None:
    """muc/hooks.py: nick rules 2, locked 0, banned -10, members-only -15,
    password -20, nickname conflict -30, max users -40."""
    assert svc.bus.handlers("pre-join") == [
        nick_rules.check_nick,
        locked.check_locked,
        banned.check_banned,
        members_only.check_member,
        password.check_password,
        nick_conflict.check_conflict,
        max_users.check_capacity,
    ]


def test_message_and_join_hooks_in_the_documented_order(svc: MucService) -> None:
    """muc/hooks.py: groupchat size 60, voice 50, slow mode 45, subject 20; joined history 50 then
    subject 20 (§7.1: history before subject); private allowpm 50; nick-change conflict."""
    assert svc.bus.handlers("groupchat") == [
        message_size.check_size,
        moderated.check_voice,
        slow_mode.check_pace,
        subject.change_subject,
    ]
    assert svc.bus.handlers("joined") == [history.send_history, subject.send_subject]
    assert svc.bus.handlers("private") == [private_messages.check_pm]
    assert svc.bus.handlers("nick-change") == [nick_conflict.check_conflict]


def test_install_declares_every_owner_form_field() -> None:
    """§10.2: every muc#roomconfig field Haven offers maps to a RoomConfig attribute."""
    bus, fields = HookBus(), FieldRegistry()
    features.install(bus, fields)
    by_var = {f.var: f.attr for f in fields}
    assert by_var == {
        "muc#roomconfig_whois": "whois",
        "muc#roomconfig_roomname": "name",
        "muc#roomconfig_roomdesc": "description",
        "haven#guidelines": "guidelines",
        "muc#roomconfig_lang": "language",
        "muc#roomconfig_publicroom": "public",
        "muc#roomconfig_persistentroom": "persistent",
        "muc#roomconfig_enablelogging": "logging",
        "muc#roomconfig_contactjid": "contacts",
        "muc#roomconfig_maxusers": "max_users",
        "muc#roomconfig_membersonly": "members_only",
        "muc#roomconfig_roomsecret": "password",
        "muc#maxhistoryfetch": "history_length",
        "muc#roomconfig_moderatedroom": "moderated",
        "muc#roomconfig_changesubject": "change_subject",
        "muc#roomconfig_allowpm": "allowpm",
        "muc#roomconfig_presencebroadcast": "presence_broadcast",
        "haven#slowmode": "slow_mode",
        "muc#roomconfig_allowinvites": "allow_invites",
        "haven#invitemember": "invite_makes_member",
        "muc#roomconfig_getmemberlist": "getmemberlist",
        "haven#retention": "retention_days",
    }
    assert set(by_var.values()) <= set(RoomConfig().to_dict())


def refusal(svc: MucService, room: Room, nick: str, jid: str, password_: str | None = None) -> str:
    with pytest.raises(MucError) as info:
        join(svc, room, nick, jid, password=password_)
    return info.value.condition


def test_banned_wins_over_members_only_and_password(
    provision: RoomProvisioner, svc: MucService
) -> None:
    """§7.2.7: an outcast learns it is banned, not that a password is missing."""
    room = provision(members_only=True, password="pw")
    room.set_affiliation("alice@example", Affiliation.OUTCAST)
    assert refusal(svc, room, "Alice", ALICE_JID) == "forbidden"


def test_members_only_wins_over_password(provision: RoomProvisioner, svc: MucService) -> None:
    """§7.2.6 before §7.2.5: a non-member needn't try passwords."""
    room = provision(members_only=True, password="pw")
    assert refusal(svc, room, "Alice", ALICE_JID, "pw") == "registration-required"


def test_password_checked_before_nick_conflict(provision: RoomProvisioner, svc: MucService) -> None:
    """§7.2.5 before §7.2.8: without the password nobody learns which nicks are present."""
    room = provision(password="pw")
    join(svc, room, "Alice", ALICE_JID, password="pw")
    assert refusal(svc, room, "Alice", BOB_JID) == "not-authorized"
    assert refusal(svc, room, "Alice", BOB_JID, "pw") == "conflict"


def test_nick_conflict_before_full_room(provision: RoomProvisioner, svc: MucService) -> None:
    """§7.2.8 before §7.2.9 in Haven's bands."""
    room = provision(max_users=1)
    join(svc, room, "Alice", ALICE_JID)
    assert refusal(svc, room, "Alice", BOB_JID) == "conflict"
    assert refusal(svc, room, "Bob", BOB_JID) == "service-unavailable"


def test_unusable_nick_is_reported_first(provision: RoomProvisioner, svc: MucService) -> None:
    """§7.2.1: an empty nick is jid-malformed whatever else the room requires."""
    room = provision(members_only=True, password="pw")
    room.set_affiliation("alice@example", Affiliation.OUTCAST)
    assert refusal(svc, room, "", ALICE_JID) == "jid-malformed"


def test_pre_join_handler_may_rewrite_the_nick(room: Room) -> None:
    """§7.2.2: the nick rules store the enforced nick on the request for later checks."""
    req = JoinRequest(
        room=room,
        jid=ALICE_JID,
        nick=" Ａlice ",
        requested_nick=" Ａlice ",
        password=None,
        affiliation=Affiliation.NONE,
    )
    nick_rules.check_nick(req)
    assert (req.nick, req.requested_nick) == ("Alice", " Ａlice ")


@pytest.mark.parametrize("policy", ALLOWPM_VALUES)
def test_pm_allowed_truth_table(policy: str) -> None:
    """§7.5 allowpm as a pure function of the two roles."""
    roles = (Role.VISITOR, Role.PARTICIPANT, Role.MODERATOR)
    table = {(s, r): private_messages.pm_allowed(policy, s, r) for s in roles for r in roles}
    if policy == "anyone":
        assert all(table.values())
    elif policy == "participants":
        assert table == {(s, r): s is not Role.VISITOR for s, r in table}
    elif policy == "moderators":
        assert table == {(s, r): Role.MODERATOR in (s, r) for s, r in table}
    else:
        assert not any(table.values())


def test_voice_gate_lets_participants_speak_in_unmoderated_room(
    room: Room, svc: MucService, sender: RecordingSender
) -> None:
    """§5.1.2 + §7.4: in an unmoderated room a newcomer is a participant and speaks."""
    join(svc, room, "Alice", ALICE_JID)
    alice = room.occupant_by_nick("Alice")
    assert alice is not None and alice.role is Role.PARTICIPANT
    svc.groupchat(room.jid, ALICE_JID, "hello", "hello", None)
    assert len(sender.of("groupchat")) == 1


def test_history_sent_from_room_with_stamp(
    room: Room, svc: MucService, sender: RecordingSender, clock: FakeClock
) -> None:
    """§7.2.13: history is sent with its original stamp (the Sender adds the XEP-0203
    delay from the room JID) to the joining session only."""
    join(svc, room, "Owner", OWNER_JID)
    svc.groupchat(room.jid, OWNER_JID, "old", "old", None)
    stamp = clock.now()
    clock.advance(60)
    join(svc, room, "Alice", ALICE_JID)
    ((to, stanza, when),) = [h for h in sender.of("history") if h[0] == ALICE_JID]
    assert (to, when) == (ALICE_JID, stamp)
    assert "old" in stanza
