"""Slow mode (Haven) and presence broadcast by role (muc#roomconfig_presencebroadcast)."""

from __future__ import annotations

import pytest

from muc.errors import MucError
from muc.ports import RecordingSender
from muc.roles import Affiliation
from muc.service import MucService
from tests.unit.support import (
    OWNER,
    FakeClock,
    RoomProvisioner,
    groupchats,
    join,
    leave,
    presences,
    presences_from,
    say,
)

ALICE, BOB, MOD = "alice@example/a", "bob@example/b", f"{OWNER}/o"


def test_slow_mode_refuses_a_second_message_too_soon(
        svc: MucService, provision: RoomProvisioner, clock: FakeClock,
        sender: RecordingSender) -> None:
    """One message every N seconds per participant; policy-violation says how long to wait."""
    room = provision("calm", slow_mode=30)
    join(svc, room, "Alice", ALICE)
    say(svc, room, ALICE, "first")
    clock.advance(10)
    with pytest.raises(MucError) as info:
        say(svc, room, ALICE, "second")
    assert info.value.condition == "policy-violation"
    assert "20 more second" in info.value.text
    assert [m.payload for _, m in groupchats(sender)] == ["first"]
    clock.advance(21)
    say(svc, room, ALICE, "third")
    assert [m.payload for _, m in groupchats(sender)] == ["first", "third"]


def test_slow_mode_spares_moderators_and_other_people(
        svc: MucService, provision: RoomProvisioner, sender: RecordingSender) -> None:
    room = provision("calm", slow_mode=60)
    join(svc, room, "Mod", MOD)
    join(svc, room, "Alice", ALICE)
    join(svc, room, "Bob", BOB)
    for text in ("m1", "m2", "m3"):
        say(svc, room, MOD, text)
    say(svc, room, ALICE, "a1")
    say(svc, room, BOB, "b1")
    assert len(groupchats(sender)) == 5


def test_slow_mode_value_is_validated(svc: MucService, provision: RoomProvisioner) -> None:
    room = provision("calm")
    join(svc, room, "Mod", MOD)
    with pytest.raises(MucError) as info:
        svc.submit_config(room.jid, MOD, {"haven#slowmode": ["7200"]})
    assert info.value.condition == "not-acceptable" and "3600" in info.value.text
    svc.submit_config(room.jid, MOD, {"haven#slowmode": ["15"]})
    assert room.config.slow_mode == 15


def test_lurking_visitors_are_seen_only_by_moderators(
        svc: MucService, provision: RoomProvisioner, sender: RecordingSender) -> None:
    """§10.2 presencebroadcast without 'visitor': a visitor's join, updates and exit
    reach moderators and itself only; once given voice, everyone sees it."""
    room = provision("quiet", moderated=True, presence_broadcast=["moderator", "participant"])
    join(svc, room, "Mod", MOD)
    room.set_affiliation("bob@example", Affiliation.MEMBER)
    join(svc, room, "Bob", BOB)
    sender.clear()
    join(svc, room, "Lurker", ALICE)
    seen_by = {p.to for p in presences_from(sender, f"{room.jid}/Lurker")}
    assert seen_by == {MOD, ALICE}
    # The lurker still sees everyone else.
    assert {p.frm for p in presences(sender, ALICE)} >= {f"{room.jid}/Mod", f"{room.jid}/Bob"}
    sender.clear()
    leave(svc, room, "Lurker", ALICE)
    assert {p.to for p in presences_from(sender, f"{room.jid}/Lurker")} == {MOD, ALICE}


def test_voice_makes_a_lurker_visible(
        svc: MucService, provision: RoomProvisioner, sender: RecordingSender) -> None:
    from muc.admin import AdminItem

    room = provision("quiet", moderated=True, presence_broadcast=["moderator", "participant"])
    join(svc, room, "Mod", MOD)
    room.set_affiliation("bob@example", Affiliation.MEMBER)
    join(svc, room, "Bob", BOB)
    join(svc, room, "Lurker", ALICE)
    sender.clear()
    svc.admin_set(room.jid, MOD, [AdminItem(nick="Lurker", role="participant")])
    assert BOB in {p.to for p in presences_from(sender, f"{room.jid}/Lurker")}
    sender.clear()
    leave(svc, room, "Lurker", ALICE)
    gone = [p for p in presences_from(sender, f"{room.jid}/Lurker") if p.to == BOB]
    assert len(gone) == 1 and not gone[0].available


def test_invitation_uses_the_occupant_jid_and_password(
        svc: MucService, provision: RoomProvisioner, sender: RecordingSender) -> None:
    """§7.8.2: from the inviter's occupant JID, with the room password."""
    room = provision("circle", password="s3cret")
    join(svc, room, "Mod", MOD, password="s3cret")
    svc.invite(room.jid, MOD, "bob@example", "join us")
    assert sender.of("invite") == [("bob@example", f"{room.jid}/Mod", "join us", "s3cret")]


def test_invitation_rules(svc: MucService, provision: RoomProvisioner) -> None:
    room = provision("circle")
    join(svc, room, "Alice", ALICE)
    with pytest.raises(MucError) as info:
        svc.invite(room.jid, ALICE, "bob@example", None)
    assert info.value.condition == "forbidden" and info.value.text
    with pytest.raises(MucError) as info:
        svc.invite(room.jid, BOB, "carol@example", None)
    assert info.value.condition == "not-acceptable"
    room.config.allow_invites = True
    svc.invite(room.jid, ALICE, "bob@example", None)


def test_members_only_invitation_by_an_admin_grants_membership(
        svc: MucService, provision: RoomProvisioner, store) -> None:  # type: ignore[no-untyped-def]
    room = provision("private", members_only=True)
    join(svc, room, "Mod", MOD)
    svc.invite(room.jid, MOD, "bob@example/phone", None)
    assert room.affiliation_of("bob@example") is Affiliation.MEMBER
    assert store.affiliations[(room.jid, "bob@example")] == "member"


def test_voice_request_goes_to_moderators_and_is_rate_limited(
        svc: MucService, provision: RoomProvisioner, sender: RecordingSender,
        clock: FakeClock) -> None:
    """§7.13/§8.6: the approval form reaches each moderator session; approving grants
    voice; asking again within five minutes is refused."""
    room = provision("quiet", moderated=True)
    join(svc, room, "Mod", MOD)
    join(svc, room, "Alice", ALICE)
    svc.request_voice(room.jid, ALICE)
    assert sender.of("voice_request") == [(MOD, ALICE, "Alice")]
    clock.advance(60)
    with pytest.raises(MucError) as info:
        svc.request_voice(room.jid, ALICE)
    assert info.value.condition == "policy-violation"
    svc.answer_voice_request(room.jid, MOD, "Alice", allow=True)
    assert room.occupant_by_nick("Alice").role.value == "participant"
    with pytest.raises(MucError) as info:
        svc.request_voice(room.jid, ALICE)
    assert info.value.condition == "not-acceptable"


def test_retraction_replaces_history_and_archive_with_a_tombstone(
        svc: MucService, provision: RoomProvisioner, sender: RecordingSender,
        store) -> None:  # type: ignore[no-untyped-def]
    """XEP-0425: moderators only; broadcast to all; history and archive keep the tombstone."""
    room = provision("calm")
    join(svc, room, "Mod", MOD)
    join(svc, room, "Alice", ALICE)
    say(svc, room, ALICE, "hurtful words")
    sid = groupchats(sender)[-1][1].stanza_id
    with pytest.raises(MucError) as info:
        svc.moderate(room.jid, ALICE, sid, None)
    assert info.value.condition == "forbidden"
    with pytest.raises(MucError) as info:
        svc.moderate(room.jid, MOD, "unknown", None)
    assert info.value.condition == "item-not-found"
    svc.moderate(room.jid, MOD, sid, "guidelines")
    (recipients, r), = sender.of("retraction")
    assert set(recipients) == {MOD, ALICE} and r.stanza_id == sid and r.reason == "guidelines"
    assert r.by == f"{room.jid}/Mod" and r.author_nick == "Alice"
    assert all("hurtful" not in e.stanza for e in room.history)
    archived = [m for m in store.messages if m.stanza_id == sid]
    assert archived[0].body is None and "hurtful" not in archived[0].stanza


def test_moderation_actions_land_in_the_audit_trail(
        svc: MucService, provision: RoomProvisioner, sender: RecordingSender,
        store) -> None:  # type: ignore[no-untyped-def]
    """Who, what, whom, when, why: kick, ban, role and retraction are all recorded."""
    from muc.admin import AdminItem

    room = provision("calm")
    join(svc, room, "Mod", MOD)
    join(svc, room, "Alice", ALICE)
    join(svc, room, "Bob", BOB)
    say(svc, room, ALICE, "spam")
    sid = groupchats(sender)[-1][1].stanza_id
    svc.moderate(room.jid, MOD, sid, "spam")
    svc.admin_set(room.jid, MOD, [AdminItem(nick="Alice", role="none", reason="rude")])
    svc.admin_set(room.jid, MOD, [AdminItem(jid="bob@example", affiliation="outcast",
                                            reason="threats")])
    got = [(e.actor, e.action, e.target, e.reason) for e in store.audited]
    assert got == [
        (OWNER, "retract", "alice@example", "spam"),
        (OWNER, "kick", "alice@example", "rude"),
        (OWNER, "ban", "bob@example", "threats"),
    ]
    assert all(e.room == room.jid and e.at == room.clock.now() for e in store.audited)


def test_retention_forgets_old_messages_in_memory_and_archive(
        svc: MucService, provision: RoomProvisioner, clock: FakeClock,
        store) -> None:  # type: ignore[no-untyped-def]
    """Per-room retention_days, else the service default (30); 0 days in both: forever."""
    short = provision("short", retention_days=2)
    default = provision("default")
    join(svc, short, "Alice", ALICE)
    join(svc, default, "Alice", ALICE)
    say(svc, short, ALICE, "old short")
    say(svc, default, ALICE, "old default")
    clock.advance(days=3)
    say(svc, short, ALICE, "new short")
    svc.purge_expired()
    assert [m.body for m in store.messages if m.room == short.jid] == ["new short"]
    assert len(short.history) == 1 and len(default.history) == 1
    assert [m.body for m in store.messages if m.room == default.jid] == ["old default"]
    clock.advance(days=28)
    svc.purge_expired()
    assert not [m for m in store.messages if m.room == default.jid]
    assert len(default.history) == 0
