"""Room configuration: the owner form (XEP-0045 §10.1.3, §10.2, muc#roomconfig in
§16.5.3) parsed and validated, and the §10.2.1 change notifications."""

from __future__ import annotations

import pytest

from muc.config import RoomConfig
from muc.errors import MucError
from muc.ports import MemoryPersistence, RecordingSender
from muc.room import Room
from muc.roomconfig import FORM_TYPE
from muc.service import MucService
from tests.unit.support import (
    ALICE2_JID,
    ALICE_JID,
    OWNER_JID,
    RoomProvisioner,
    join,
    presences_from,
)


def submit(svc: MucService, values: dict[str, list[str]]) -> RoomConfig:
    """apply_submission on a default config."""
    return svc.fields.apply_submission(RoomConfig(), values)


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("1", True),
        ("true", True),
        (" TRUE ", True),
        ("0", False),
        ("false", False),
    ],
)
def test_boolean_values(svc: MucService, raw: str, value: bool) -> None:
    """XEP-0004 §3.3 boolean: 1/true and 0/false."""
    assert submit(svc, {"muc#roomconfig_moderatedroom": [raw]}).moderated is value


def test_typed_values_are_parsed(svc: MucService) -> None:
    """§10.2: each field lands on its RoomConfig attribute with the right type."""
    new = submit(
        svc,
        {
            "FORM_TYPE": [FORM_TYPE],
            "muc#roomconfig_roomname": ["Quiet corner"],
            "muc#roomconfig_maxusers": [" 25 "],
            "muc#maxhistoryfetch": ["0"],
            "muc#roomconfig_allowpm": ["participants"],
            "muc#roomconfig_whois": ["anyone"],
            "muc#roomconfig_contactjid": [" mod@example ", "", "help@example"],
            "haven#guidelines": ["Be kind.", "No advice on medication."],
            "muc#roomconfig_roomsecret": ["s3cret"],
            "muc#roomconfig_lang": ["pt-BR"],
        },
    )
    assert (new.name, new.max_users, new.history_length) == ("Quiet corner", 25, 0)
    assert (new.allowpm, new.whois, new.non_anonymous) == ("participants", "anyone", True)
    assert new.contacts == ["mod@example", "help@example"]
    assert new.guidelines == "Be kind.\nNo advice on medication."
    assert (new.password, new.language) == ("s3cret", "pt-BR")


def test_empty_submission_keeps_the_config(svc: MucService) -> None:
    """§10.1.2: an empty submit (instant room) accepts the current configuration."""
    config = RoomConfig(name="x", moderated=True)
    assert svc.fields.apply_submission(config, {}) == config


def test_submission_does_not_mutate_the_old_config(svc: MucService) -> None:
    """A new RoomConfig is returned so a failed or partial apply can't corrupt the room."""
    config = RoomConfig()
    new = svc.fields.apply_submission(config, {"muc#roomconfig_moderatedroom": ["1"]})
    assert new.moderated and not config.moderated


@pytest.mark.parametrize(
    "values",
    [
        {"muc#roomconfig_unknown": ["1"]},
        {"muc#roomconfig_moderatedroom": ["yes"]},
        {"muc#roomconfig_moderatedroom": []},
        {"muc#roomconfig_allowpm": ["everybody"]},
        {"muc#roomconfig_whois": ["nobody"]},
        {"muc#roomconfig_maxusers": ["-1"]},
        {"muc#roomconfig_maxusers": ["ten"]},
        {"muc#maxhistoryfetch": ["-5"]},
        {"muc#maxhistoryfetch": ["1001"]},
        {"muc#roomconfig_lang": ["not a language!"]},
    ],
)
def test_invalid_submissions_are_not_acceptable(
    svc: MucService, values: dict[str, list[str]]
) -> None:
    """§10.2: an unknown field, a bad boolean, a value outside a list-single's options,
    a negative or non-numeric number, or a failed validation -> not-acceptable."""
    with pytest.raises(MucError) as info:
        submit(svc, values)
    assert (info.value.condition, info.value.etype) == ("not-acceptable", "modify")
    assert info.value.text


def test_field_current_values_render_the_form(svc: MucService) -> None:
    """§10.2: the form shows the current values as XEP-0004 strings."""
    config = RoomConfig(moderated=True, max_users=7, contacts=["a@x", "b@x"], guidelines="one\ntwo")
    current = {f.var: f.current(config) for f in svc.fields}
    assert current["muc#roomconfig_moderatedroom"] == ["1"]
    assert current["muc#roomconfig_publicroom"] == ["1"]
    assert current["muc#roomconfig_membersonly"] == ["0"]
    assert current["muc#roomconfig_maxusers"] == ["7"]
    assert current["muc#roomconfig_contactjid"] == ["a@x", "b@x"]
    assert current["haven#guidelines"] == ["one", "two"]
    assert current["muc#roomconfig_allowpm"] == ["moderators"]


def test_form_round_trips(svc: MucService) -> None:
    """Submitting the form as rendered gives back the same configuration."""
    config = RoomConfig(
        name="n",
        moderated=True,
        max_users=3,
        allowpm="none",
        contacts=["a@x"],
        guidelines="g1\ng2",
        history_length=7,
    )
    values = {f.var: f.current(config) for f in svc.fields}
    assert svc.fields.apply_submission(RoomConfig(), values) == config


def test_config_dict_round_trip_ignores_unknown_keys() -> None:
    """Stored configs from newer or older versions load (unknown keys are dropped)."""
    config = RoomConfig(name="x", contacts=["a@x"])
    assert RoomConfig.from_dict({**config.to_dict(), "future_option": 1}) == config


# --------------------------------------------------------------------------- §10.2.1
@pytest.fixture
def occupied(room: Room, svc: MucService, sender: RecordingSender) -> Room:
    """The lobby with its owner and Alice (two sessions); sender cleared."""
    join(svc, room, "Owner", OWNER_JID)
    join(svc, room, "Alice", ALICE_JID)
    join(svc, room, "Alice", ALICE2_JID)
    sender.clear()
    return room


SESSIONS = sorted([OWNER_JID, ALICE_JID, ALICE2_JID])


def test_config_change_sends_104_to_every_session(
    occupied: Room, svc: MucService, sender: RecordingSender, store: MemoryPersistence
) -> None:
    """§10.2.1: any other configuration change -> a status message with 104 to all
    occupants; the new configuration is stored."""
    svc.submit_config(occupied.jid, OWNER_JID, {"muc#roomconfig_roomname": ["Renamed"]})
    assert sorted(to for to, _ in sender.of("status")) == SESSIONS
    assert {codes for _, codes in sender.of("status")} == {(104,)}
    assert occupied.config.name == "Renamed"
    assert store.rooms[occupied.jid][0]["name"] == "Renamed"


@pytest.mark.parametrize(
    ("values", "codes"),
    [
        ({"muc#roomconfig_whois": ["anyone"]}, (104, 172)),
        ({"muc#roomconfig_enablelogging": ["0"]}, (104, 171)),
    ],
)
def test_privacy_changes_add_their_code(
    occupied: Room,
    svc: MucService,
    sender: RecordingSender,
    values: dict[str, list[str]],
    codes: tuple[int, ...],
) -> None:
    """§10.2.1: now non-anonymous -> 172; logging now disabled -> 171."""
    svc.submit_config(occupied.jid, OWNER_JID, values)
    assert {c for _, c in sender.of("status")} == {codes}


def test_back_to_semi_anonymous_and_logging_sends_173_and_170(
    provision: RoomProvisioner, svc: MucService, sender: RecordingSender
) -> None:
    """§10.2.1: now semi-anonymous -> 173; logging now enabled -> 170."""
    room = provision(whois="anyone", logging=False)
    join(svc, room, "Owner", OWNER_JID)
    sender.clear()
    svc.submit_config(
        room.jid,
        OWNER_JID,
        {"muc#roomconfig_whois": ["moderators"], "muc#roomconfig_enablelogging": ["1"]},
    )
    assert sender.of("status") == [(OWNER_JID, (104, 173, 170))]


def test_invalid_submission_changes_nothing(
    occupied: Room, svc: MucService, sender: RecordingSender
) -> None:
    """§10.2: a refused form leaves the room as it was and notifies nobody."""
    before = occupied.config
    with pytest.raises(MucError):
        svc.submit_config(
            occupied.jid,
            OWNER_JID,
            {"muc#roomconfig_roomname": ["ok"], "muc#roomconfig_maxusers": ["-3"]},
        )
    assert occupied.config == before and sender.sent == []


def test_only_owners_configure(occupied: Room, svc: MucService, sender: RecordingSender) -> None:
    """§10.2: a non-owner submitting the form -> forbidden."""
    with pytest.raises(MucError) as info:
        svc.submit_config(occupied.jid, ALICE_JID, {"muc#roomconfig_roomname": ["mine"]})
    assert info.value.condition == "forbidden"
    assert sender.sent == []


def test_history_length_change_resizes_the_ring(occupied: Room, svc: MucService) -> None:
    """§10.2 muc#maxhistoryfetch: lowering it trims the kept history."""
    for i in range(5):
        svc.groupchat(occupied.jid, OWNER_JID, f"m{i}", f"m{i}", None)
    svc.submit_config(occupied.jid, OWNER_JID, {"muc#maxhistoryfetch": ["2"]})
    assert len(occupied.history) == 2


def test_making_a_room_temporary_forgets_it_in_storage(
    occupied: Room, svc: MucService, store: MemoryPersistence
) -> None:
    """§10.2 muc#roomconfig_persistentroom = 0: no longer stored; destroyed when the
    last occupant leaves (§7.14 note)."""
    svc.submit_config(occupied.jid, OWNER_JID, {"muc#roomconfig_persistentroom": ["0"]})
    assert occupied.jid not in store.rooms and occupied.jid in store.deleted
    assert svc.room(occupied.jid) is occupied
    for nick, jid in [("Owner", OWNER_JID), ("Alice", ALICE_JID), ("Alice", ALICE2_JID)]:
        svc.presence(occupied.jid, nick, jid, None, available=False)
    assert svc.room(occupied.jid) is None and occupied.destroyed


def test_making_a_temporary_room_persistent_stores_it(
    provision: RoomProvisioner, svc: MucService, store: MemoryPersistence
) -> None:
    """§10.2: persistent again -> the room and its affiliations are stored."""
    room = provision(persistent=False)
    join(svc, room, "Owner", OWNER_JID)
    store.rooms.clear()
    store.affiliations.clear()
    svc.submit_config(room.jid, OWNER_JID, {"muc#roomconfig_persistentroom": ["1"]})
    assert room.jid in store.rooms
    assert store.affiliations == {(room.jid, "owner@example"): "owner"}


def test_switching_to_members_only_removes_non_members_with_322(
    occupied: Room, svc: MucService, sender: RecordingSender
) -> None:
    """§10.2: "If as a result of a change in the room configuration the room type is
    changed to members-only but there are non-members in the room, the service MUST
    remove any non-members from the room and include a status code of 322 in the
    presence unavailable stanzas sent to those users as well as any remaining
    occupants." Alice (no affiliation) must go; the owner stays."""
    svc.submit_config(occupied.jid, OWNER_JID, {"muc#roomconfig_membersonly": ["1"]})
    assert occupied.occupant_by_nick("Alice") is None
    assert occupied.occupant_by_nick("Owner") is not None
    gone = presences_from(sender, f"{occupied.jid}/Alice")
    assert sorted(p.to for p in gone) == SESSIONS
    assert all(not p.available and 322 in p.codes and p.item.role == "none" for p in gone)
