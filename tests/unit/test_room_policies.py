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
