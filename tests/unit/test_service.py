"""The service: room creation policy and the creation flow (XEP-0045 §10.1), room
lifecycle (temporary rooms §7.14, cancel §10.1.3), start-up loading and provisioning,
and the public room list (§6.3)."""

from __future__ import annotations

import pytest

from muc.config import RoomConfig
from muc.errors import MucError
from muc.history import HistoryEntry
from muc.ports import MemoryPersistence, RecordingSender
from muc.roles import Affiliation
from muc.service import MucService, StoredRoom
from tests.unit.support import (
    ADMIN_JID,
    ALICE_JID,
    BOB_JID,
    DOMAIN,
    OWNER_JID,
    T0,
    RoomProvisioner,
    ServiceFactory,
    join,
    leave,
    only,
    presences,
    say,
)

NEW = f"new@{DOMAIN}"


# --------------------------------------------------------------------------- policy
def test_admins_policy_lets_admins_create(
    service: ServiceFactory, sender: RecordingSender, store: MemoryPersistence
) -> None:
    """§10.1.1 (room_creation = admins): a service admin creates a locked room, gets
    201 and owner/moderator; nothing is stored while it is locked."""
    svc = service()
    join(svc, NEW, "Admin", ADMIN_JID)
    room = svc.room(NEW)
    assert room is not None and room.locked
    p = only(presences(sender, ADMIN_JID))
    assert sorted(p.codes) == [110, 170, 201]
    assert (p.item.affiliation, p.item.role) == ("owner", "moderator")
    assert room.affiliation_of("admin@example") is Affiliation.OWNER
    assert NEW not in store.rooms and store.affiliations == {}


def test_admins_policy_refuses_others(service: ServiceFactory, sender: RecordingSender) -> None:
    """§10.1.1: "If access is restricted and a user attempts to create a room, the
    service MUST return a <not-allowed/> error"."""
    svc = service()
    with pytest.raises(MucError) as info:
        join(svc, NEW, "Alice", ALICE_JID)
    assert (info.value.condition, info.value.etype) == ("not-allowed", "cancel")
    assert svc.room(NEW) is None and sender.sent == []


def test_anyone_policy(service: ServiceFactory) -> None:
    """room_creation = anyone: the creator becomes the room's owner."""
    svc = service(room_creation="anyone")
    join(svc, NEW, "Alice", ALICE_JID)
    room = svc.room(NEW)
    assert room is not None and room.affiliations == {"alice@example": Affiliation.OWNER}
    assert room.config.name == "new"


def test_nobody_policy_is_item_not_found_even_for_admins(service: ServiceFactory) -> None:
    """room_creation = nobody: unknown rooms just don't exist (§7.2.11)."""
    svc = service(room_creation="nobody")
    for jid in (ALICE_JID, ADMIN_JID):
        with pytest.raises(MucError) as info:
            join(svc, NEW, "X", jid)
        assert info.value.condition == "item-not-found"
    assert svc.room(NEW) is None


def test_failed_creating_join_leaves_no_room(service: ServiceFactory) -> None:
    """A creating join refused by the pre-join checks (empty nick) creates nothing."""
    svc = service(room_creation="anyone")
    with pytest.raises(MucError) as info:
        join(svc, NEW, "  ", ALICE_JID)
    assert info.value.condition == "jid-malformed"
    assert svc.room(NEW) is None


# --------------------------------------------------------------------------- §10.1
def test_instant_room_unlocks_on_empty_submit(
    service: ServiceFactory, sender: RecordingSender, store: MemoryPersistence
) -> None:
    """§10.1.2: an empty submit (values=None) accepts the defaults and unlocks the
    room; it is stored with its owner and others can enter."""
    svc = service(room_creation="anyone")
    join(svc, NEW, "Alice", ALICE_JID)
    with pytest.raises(MucError):
        join(svc, NEW, "Bob", BOB_JID)
    svc.submit_config(NEW, ALICE_JID, None)
    room = svc.room(NEW)
    assert room is not None and not room.locked
    assert store.rooms[NEW][0] == room.config.to_dict()
    assert store.affiliations == {(NEW, "alice@example"): "owner"}
    sender.clear()
    join(svc, NEW, "Bob", BOB_JID)
    assert room.occupant_by_nick("Bob") is not None
    assert 201 not in only(p for p in presences(sender, BOB_JID) if 110 in p.codes).codes


def test_reserved_room_configured_by_form(
    service: ServiceFactory, store: MemoryPersistence
) -> None:
    """§10.1.3: the submitted form configures and unlocks the new room."""
    svc = service(room_creation="anyone")
    join(svc, NEW, "Alice", ALICE_JID)
    svc.submit_config(
        NEW,
        ALICE_JID,
        {"muc#roomconfig_membersonly": ["1"], "muc#roomconfig_roomname": ["New room"]},
    )
    room = svc.room(NEW)
    assert room is not None and not room.locked
    assert room.config.members_only and room.config.name == "New room"
    assert store.rooms[NEW][0]["members_only"] is True
    with pytest.raises(MucError) as info:
        join(svc, NEW, "Bob", BOB_JID)
    assert info.value.condition == "registration-required"


def test_locked_room_is_not_listed(service: ServiceFactory) -> None:
    """§6.3 / §10.1.1: a locked room "does not officially exist" and isn't listed."""
    svc = service(room_creation="anyone")
    join(svc, NEW, "Alice", ALICE_JID)
    assert svc.public_rooms() == []
    svc.submit_config(NEW, ALICE_JID, None)
    assert [r.jid for r in svc.public_rooms()] == [NEW]


def test_cancel_destroys_the_locked_room(
    service: ServiceFactory, sender: RecordingSender, store: MemoryPersistence
) -> None:
    """§10.1.3: an owner cancelling the initial configuration destroys the room; the
    creator is told with <destroy/>."""
    svc = service(room_creation="anyone")
    join(svc, NEW, "Alice", ALICE_JID)
    sender.clear()
    svc.cancel_config(NEW, ALICE_JID)
    assert svc.room(NEW) is None
    p = only(sender.of("presence"))
    assert (p.to, p.available) == (ALICE_JID, False) and p.destroy is not None
    assert NEW in store.deleted


def test_cancel_on_an_unlocked_room_changes_nothing(
    svc: MucService, provision: RoomProvisioner, sender: RecordingSender
) -> None:
    """§10.2: cancelling a later configuration form keeps the room as it is."""
    room = provision()
    svc.cancel_config(room.jid, OWNER_JID)
    assert svc.room(room.jid) is room and not room.destroyed and sender.sent == []


def test_creator_leaving_a_locked_room_destroys_it(
    service: ServiceFactory, store: MemoryPersistence
) -> None:
    """§10.1.1: a room never configured goes away with its last occupant."""
    svc = service(room_creation="anyone")
    join(svc, NEW, "Alice", ALICE_JID)
    leave(svc, NEW, "Alice", ALICE_JID)
    assert svc.room(NEW) is None and NEW in store.deleted


def test_temporary_room_destroyed_when_empty(
    service: ServiceFactory, store: MemoryPersistence
) -> None:
    """§7.14: "If the room is not persistent and this occupant is the last to exit,
    the service is responsible for destroying the room"."""
    svc = service(room_creation="anyone")
    join(svc, NEW, "Alice", ALICE_JID)
    svc.submit_config(NEW, ALICE_JID, {"muc#roomconfig_persistentroom": ["0"]})
    room = svc.room(NEW)
    assert room is not None and NEW not in store.rooms
    join(svc, NEW, "Bob", BOB_JID)
    leave(svc, NEW, "Alice", ALICE_JID)
    assert svc.room(NEW) is room
    leave(svc, NEW, "Bob", BOB_JID)
    assert svc.room(NEW) is None and room.destroyed


def test_persistent_room_survives_being_empty(svc: MucService, provision: RoomProvisioner) -> None:
    """§10.2 persistent rooms stay when the last occupant leaves."""
    room = provision()
    join(svc, room, "Alice", ALICE_JID)
    leave(svc, room, "Alice", ALICE_JID)
    assert svc.room(room.jid) is room and not room.destroyed


def test_only_owners_submit_or_cancel(service: ServiceFactory) -> None:
    """§10.1.3 / §10.2: non-owners -> forbidden; service admins act as owners (§5.2)."""
    svc = service(room_creation="anyone")
    join(svc, NEW, "Alice", ALICE_JID)
    for call in (
        lambda: svc.submit_config(NEW, BOB_JID, None),
        lambda: svc.cancel_config(NEW, BOB_JID),
    ):
        with pytest.raises(MucError) as info:
            call()
        assert info.value.condition == "forbidden"
    svc.submit_config(NEW, ADMIN_JID, None)
    room = svc.room(NEW)
    assert room is not None and not room.locked


def test_owner_actions_on_unknown_room_are_item_not_found(svc: MucService) -> None:
    """RFC 6120 §8.3.3.7: configuring or destroying a room that doesn't exist."""
    with pytest.raises(MucError) as info:
        svc.submit_config(NEW, ADMIN_JID, None)
    assert info.value.condition == "item-not-found"


# --------------------------------------------------------------------------- start-up
def test_load_brings_stored_rooms_back(svc: MucService, sender: RecordingSender) -> None:
    """Persistence: stored rooms come back unlocked with config, subject, affiliations
    and history, which is served to the next joiner (§7.2.13, §7.2.15)."""
    svc.load(
        [
            StoredRoom(
                jid=f"kept@{DOMAIN}",
                config=RoomConfig(members_only=True).to_dict(),
                subject="Still here",
                subject_from="Owner",
                affiliations={"alice@example": "member", "owner@example": "owner"},
                history=[HistoryEntry("<message>old</message>", T0, "s-old")],
            )
        ]
    )
    room = svc.room(f"kept@{DOMAIN}")
    assert room is not None and not room.locked and room.config.members_only
    assert room.affiliation_of("alice@example") is Affiliation.MEMBER
    join(svc, room, "Alice", ALICE_JID)
    assert sender.of("history") == [(ALICE_JID, "<message>old</message>", T0)]
    assert sender.of("subject") == [(ALICE_JID, f"{room.jid}/Owner", "Still here")]


def test_provision_creates_a_persistent_unlocked_room(
    svc: MucService, store: MemoryPersistence
) -> None:
    """The config file's [[rooms]]: stored, unlocked, owners set."""
    room = svc.provision(
        "support", RoomConfig(name="Support"), subject="Hello", owners=["owner@example"]
    )
    assert room.jid == f"support@{DOMAIN}" and not room.locked
    assert (room.subject, room.subject_from) == ("Hello", "")
    assert store.rooms[room.jid] == (room.config.to_dict(), "Hello", "")
    assert store.affiliations == {(room.jid, "owner@example"): "owner"}


def test_provision_again_replaces_config_and_keeps_the_room(
    svc: MucService, store: MemoryPersistence
) -> None:
    """Provisioning an existing room: the operator's config wins, occupants and
    history stay, an unchanged subject keeps who set it."""
    room = svc.provision("support", RoomConfig(), subject="Hello")
    join(svc, room, "Owner", OWNER_JID)
    svc.groupchat(room.jid, OWNER_JID, "x", "x", None)
    room.subject_from = "Owner"
    again = svc.provision("support", RoomConfig(moderated=True, history_length=5), subject="Hello")
    assert again is room and room.config.moderated
    assert room.occupant_count == 1 and len(room.history) == 1
    assert room.subject_from == "Owner"
    svc.provision("support", RoomConfig(), subject="New topic")
    assert (room.subject, room.subject_from) == ("New topic", "")
    assert store.rooms[room.jid][1] == "New topic"


def test_public_rooms_are_sorted_and_exclude_hidden(
    svc: MucService, provision: RoomProvisioner
) -> None:
    """§6.3: disco#items lists public rooms only."""
    provision("zeta")
    provision("alpha")
    provision("hidden", public=False)
    assert [r.jid for r in svc.public_rooms()] == [f"alpha@{DOMAIN}", f"zeta@{DOMAIN}"]


def test_shutdown_reaches_every_room(
    svc: MucService, provision: RoomProvisioner, sender: RecordingSender
) -> None:
    """§11.2: every occupant of every room gets 332."""
    a, b = provision("a"), provision("b")
    join(svc, a, "Alice", ALICE_JID)
    join(svc, b, "Bob", BOB_JID)
    sender.clear()
    svc.shutdown()
    assert sorted((p.to, p.frm) for p in sender.of("presence")) == [
        (ALICE_JID, f"{a.jid}/Alice"),
        (BOB_JID, f"{b.jid}/Bob"),
    ]
    assert all(332 in p.codes for p in sender.of("presence"))


def test_messages_route_to_the_right_room(
    svc: MucService, provision: RoomProvisioner, sender: RecordingSender
) -> None:
    """Rooms are independent: a message in one doesn't reach another's occupants."""
    a, b = provision("a"), provision("b")
    join(svc, a, "Alice", ALICE_JID)
    join(svc, b, "Bob", BOB_JID)
    sender.clear()
    say(svc, a, ALICE_JID, "only a")
    recipients, msg = only(sender.of("groupchat"))
    assert recipients == (ALICE_JID,) and msg.room == a.jid
    with pytest.raises(MucError):
        say(svc, b, ALICE_JID, "not in b")
