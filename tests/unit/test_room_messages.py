"""Messages in a room: groupchat (§7.4), subject changes (§7.3, §8.1) and private
messages (§7.5) with Haven's allowpm policy."""

from __future__ import annotations

from datetime import timedelta

import pytest

from muc.errors import MucError
from muc.ports import ArchivedMessage, MemoryPersistence, RecordingSender
from muc.roles import Affiliation
from muc.room import Room
from muc.service import MucService
from tests.unit.support import (
    ALICE2_JID,
    ALICE_JID,
    BOB_JID,
    CAROL_JID,
    DAVE_JID,
    OWNER_JID,
    FakeClock,
    RoomProvisioner,
    ServiceFactory,
    join,
    only,
    say,
)


@pytest.fixture
def trio(room: Room, svc: MucService, sender: RecordingSender) -> Room:
    """The lobby with Owner (moderator), Alice and Bob (participants); sender cleared."""
    join(svc, room, "Owner", OWNER_JID)
    join(svc, room, "Alice", ALICE_JID)
    join(svc, room, "Bob", BOB_JID)
    sender.clear()
    return room


# --------------------------------------------------------------------------- §7.4
def test_groupchat_is_reflected_to_every_session(
    trio: Room, svc: MucService, sender: RecordingSender
) -> None:
    """§7.4: the message goes to all occupants (the sender too), from its occupant JID,
    with a room-assigned XEP-0359 stanza-id and the XEP-0421 occupant-id."""
    join(svc, trio, "Alice", ALICE2_JID)
    sender.clear()
    say(svc, trio, ALICE_JID, "hello", payload="<body>hello</body>")
    recipients, msg = only(sender.of("groupchat"))
    assert sorted(recipients) == sorted([OWNER_JID, ALICE_JID, ALICE2_JID, BOB_JID])
    alice = trio.occupant_by_nick("Alice")
    assert alice is not None
    assert (msg.frm, msg.room, msg.payload) == (f"{trio.jid}/Alice", trio.jid, "<body>hello</body>")
    assert msg.stanza_id == "sid-1"
    assert msg.occupant_id == alice.occupant_id
    assert msg.subject is None


def test_each_message_gets_a_new_stanza_id(
    trio: Room, svc: MucService, sender: RecordingSender
) -> None:
    """XEP-0359 §4: stanza-ids are unique per message."""
    for _ in range(3):
        say(svc, trio, BOB_JID)
    assert [m.stanza_id for _, m in sender.of("groupchat")] == ["sid-1", "sid-2", "sid-3"]


def test_groupchat_from_non_occupant_is_not_acceptable(
    trio: Room, svc: MucService, sender: RecordingSender, store: MemoryPersistence
) -> None:
    """§7.4: "If the sender is not an occupant of the room, the service SHOULD return a
    <not-acceptable/> error" and not reflect it."""
    with pytest.raises(MucError) as info:
        say(svc, trio, CAROL_JID, "let me in")
    assert (info.value.condition, info.value.etype) == ("not-acceptable", "modify")
    assert sender.sent == [] and store.messages == [] and len(trio.history) == 0


def test_groupchat_to_unknown_room_is_item_not_found(svc: MucService) -> None:
    """RFC 6120 §8.3.3.7: a message to a room that doesn't exist."""
    with pytest.raises(MucError) as info:
        say(svc, f"nowhere@{svc.domain}", ALICE_JID)
    assert info.value.condition == "item-not-found"


def test_visitor_in_moderated_room_is_forbidden(
    provision: RoomProvisioner,
    svc: MucService,
    sender: RecordingSender,
    store: MemoryPersistence,
) -> None:
    """§7.4: a visitor (no voice in a moderated room) gets <forbidden/>, nothing is
    reflected; members (participants) and moderators speak."""
    room = provision(moderated=True)
    room.set_affiliation("bob@example", Affiliation.MEMBER)
    join(svc, room, "Owner", OWNER_JID)
    join(svc, room, "Alice", ALICE_JID)
    join(svc, room, "Bob", BOB_JID)
    sender.clear()
    with pytest.raises(MucError) as info:
        say(svc, room, ALICE_JID, "may I?")
    assert (info.value.condition, info.value.etype) == ("forbidden", "auth")
    assert sender.sent == [] and store.messages == []
    say(svc, room, BOB_JID, "member speaking")
    say(svc, room, OWNER_JID, "moderator speaking")
    assert len(sender.of("groupchat")) == 2


def test_oversized_body_is_policy_violation(
    service: ServiceFactory, provision: RoomProvisioner, sender: RecordingSender
) -> None:
    """RFC 6120 §8.3.3.12: a body over max_message_bytes (UTF-8 bytes, not characters)
    is refused with policy-violation; a body at the limit passes."""
    svc = service(max_message_bytes=10)
    room = provision(svc=svc)
    join(svc, room, "Alice", ALICE_JID)
    sender.clear()
    with pytest.raises(MucError) as info:
        say(svc, room, ALICE_JID, "é" * 6)  # 6 characters, 12 bytes
    assert info.value.condition == "policy-violation"
    assert sender.of("groupchat") == []
    say(svc, room, ALICE_JID, "é" * 5)  # exactly 10 bytes
    assert len(sender.of("groupchat")) == 1


def test_zero_max_message_bytes_means_no_limit(
    service: ServiceFactory, provision: RoomProvisioner, sender: RecordingSender
) -> None:
    """Haven: max_message_bytes = 0 disables the size check."""
    svc = service(max_message_bytes=0)
    room = provision(svc=svc)
    join(svc, room, "Alice", ALICE_JID)
    say(svc, room, ALICE_JID, "x" * 100_000)
    assert len(sender.of("groupchat")) == 1


def test_message_fills_history_and_archive(
    trio: Room,
    svc: MucService,
    sender: RecordingSender,
    store: MemoryPersistence,
    clock: FakeClock,
) -> None:
    """§7.2.13: what the room broadcast is kept for history, and archived with the
    sender's real bare JID (never shown), nick, occupant-id, body and stamp."""
    say(svc, trio, ALICE_JID, "one")
    clock.advance(5)
    say(svc, trio, BOB_JID, "two")
    alice, bob = trio.occupant_by_nick("Alice"), trio.occupant_by_nick("Bob")
    assert alice is not None and bob is not None
    entries = list(trio.history)
    assert [e.stanza_id for e in entries] == ["sid-1", "sid-2"]
    assert entries[0].stamp == clock.now() - timedelta(seconds=5)
    assert "one" in entries[0].stanza and "two" in entries[1].stanza
    first = store.messages[0]
    assert first == ArchivedMessage(
        room=trio.jid,
        stanza_id="sid-1",
        stamp=entries[0].stamp,
        nick="Alice",
        occupant_id=alice.occupant_id,
        sender_jid="alice@example",
        body="one",
        stanza=entries[0].stanza,
    )
    assert [(m.nick, m.sender_jid, m.body) for m in store.messages] == [
        ("Alice", "alice@example", "one"),
        ("Bob", "bob@example", "two"),
    ]


def test_history_ring_keeps_only_history_length(
    provision: RoomProvisioner, svc: MucService, store: MemoryPersistence
) -> None:
    """muc#maxhistoryfetch: the ring holds the last history_length messages; the
    archive keeps everything."""
    room = provision(history_length=3)
    join(svc, room, "Alice", ALICE_JID)
    for i in range(5):
        say(svc, room, ALICE_JID, f"m{i}")
    assert [e.stanza_id for e in room.history] == ["sid-3", "sid-4", "sid-5"]
    assert len(store.messages) == 5


def test_room_without_logging_archives_nothing(
    provision: RoomProvisioner, svc: MucService, store: MemoryPersistence
) -> None:
    """§10.2.1 (171: "room logging is now disabled") and RoomConfig.logging ("the room
    keeps an archive"): with logging off the join history still works but nothing,
    in particular no real JID, is written to the archive."""
    room = provision(logging=False)
    join(svc, room, "Alice", ALICE_JID)
    say(svc, room, ALICE_JID, "off the record")
    assert len(room.history) == 1
    assert store.messages == []


# --------------------------------------------------------------------------- §8.1
def test_moderator_changes_subject(
    trio: Room, svc: MucService, sender: RecordingSender, store: MemoryPersistence
) -> None:
    """§8.1: a message with <subject/> and no <body/> from a moderator changes the
    subject: broadcast to all, stored, and not part of history (§7.2.13)."""
    say(svc, trio, OWNER_JID, body=None, subject="Be kind", payload="<subject>Be kind</subject>")
    recipients, msg = only(sender.of("groupchat"))
    assert sorted(recipients) == sorted([OWNER_JID, ALICE_JID, BOB_JID])
    assert (msg.frm, msg.subject) == (f"{trio.jid}/Owner", "Be kind")
    assert (trio.subject, trio.subject_from) == ("Be kind", "Owner")
    assert len(trio.history) == 0 and store.messages == []
    assert store.rooms[trio.jid][1:] == ("Be kind", "Owner")


def test_participant_may_not_change_subject(
    trio: Room, svc: MucService, sender: RecordingSender
) -> None:
    """§7.3 / §8.1: a participant without the right -> forbidden."""
    with pytest.raises(MucError) as info:
        say(svc, trio, ALICE_JID, body=None, subject="mine now")
    assert info.value.condition == "forbidden"
    assert sender.sent == [] and trio.subject == ""


def test_participant_changes_subject_when_allowed(
    provision: RoomProvisioner, svc: MucService, sender: RecordingSender
) -> None:
    """§7.3: with muc#roomconfig_changesubject participants may change it."""
    room = provision(change_subject=True)
    join(svc, room, "Alice", ALICE_JID)
    say(svc, room, ALICE_JID, body=None, subject="Tea time")
    assert (room.subject, room.subject_from) == ("Tea time", "Alice")
    assert only(sender.of("groupchat"))[1].subject == "Tea time"


def test_visitor_may_not_change_subject_even_when_allowed(
    provision: RoomProvisioner, svc: MucService
) -> None:
    """§7.3: the right is for participants; a visitor has no voice."""
    room = provision(change_subject=True, moderated=True)
    join(svc, room, "Alice", ALICE_JID)
    with pytest.raises(MucError) as info:
        say(svc, room, ALICE_JID, body=None, subject="hi")
    assert info.value.condition == "forbidden"
    assert room.subject == ""


def test_message_with_body_and_subject_is_a_normal_message(
    trio: Room, svc: MucService, store: MemoryPersistence
) -> None:
    """§7.2.15 note: only a <subject/> without <body/> is a subject change."""
    say(svc, trio, ALICE_JID, body="text", subject="not a topic")
    assert trio.subject == ""
    assert [m.body for m in store.messages] == ["text"]


def test_clearing_the_subject(trio: Room, svc: MucService, sender: RecordingSender) -> None:
    """§8.1: an empty <subject/> clears it; the next joiner gets an empty subject."""
    say(svc, trio, OWNER_JID, body=None, subject="x")
    say(svc, trio, OWNER_JID, body=None, subject="")
    join(svc, trio, "Carol", CAROL_JID)
    assert sender.of("subject")[-1] == (CAROL_JID, f"{trio.jid}/Owner", "")


# --------------------------------------------------------------------------- §7.5
@pytest.fixture
def roles_room(provision: RoomProvisioner, svc: MucService, sender: RecordingSender) -> Room:
    """A moderated room with a moderator, two participants (members) and a visitor."""
    room = provision("pm", moderated=True)
    room.set_affiliation("bob@example", Affiliation.MEMBER)
    room.set_affiliation("carol@example", Affiliation.MEMBER)
    join(svc, room, "Mod", OWNER_JID)
    join(svc, room, "Part", BOB_JID)
    join(svc, room, "Part2", CAROL_JID)
    join(svc, room, "Vis", DAVE_JID)
    sender.clear()
    return room


JID_OF = {"Mod": OWNER_JID, "Part": BOB_JID, "Part2": CAROL_JID, "Vis": DAVE_JID}

PM_MATRIX = [
    # policy, sender, recipient, allowed
    *[
        ("anyone", s, r, True)
        for s, r in [
            ("Vis", "Part"),
            ("Part", "Part2"),
            ("Mod", "Vis"),
            ("Part", "Mod"),
            ("Vis", "Mod"),
        ]
    ],
    ("participants", "Part", "Part2", True),
    ("participants", "Part", "Vis", True),
    ("participants", "Mod", "Vis", True),
    ("participants", "Vis", "Part", False),
    ("participants", "Vis", "Mod", False),
    ("moderators", "Part", "Mod", True),
    ("moderators", "Vis", "Mod", True),
    ("moderators", "Mod", "Part", True),
    ("moderators", "Mod", "Vis", True),
    ("moderators", "Part", "Part2", False),
    ("moderators", "Part", "Vis", False),
    ("moderators", "Vis", "Part", False),
    ("none", "Mod", "Part", False),
    ("none", "Part", "Mod", False),
    ("none", "Part", "Part2", False),
]


@pytest.mark.parametrize(("policy", "frm", "to", "allowed"), PM_MATRIX)
def test_private_message_policy(
    roles_room: Room,
    svc: MucService,
    sender: RecordingSender,
    policy: str,
    frm: str,
    to: str,
    allowed: bool,
) -> None:
    """§7.5 with muc#roomconfig_allowpm: anyone / participants (sender has voice) /
    moderators (Haven: sender or recipient is a moderator) / none; refused -> not-allowed."""
    roles_room.config.allowpm = policy  # type: ignore[assignment]
    if allowed:
        svc.private(roles_room.jid, to, JID_OF[frm], f"<body>to {to}</body>", "chat")
        recipients, msg = only(sender.of("private"))
        assert recipients == (JID_OF[to],)
        assert msg.frm == f"{roles_room.jid}/{frm}"
        assert msg.payload == f"<body>to {to}</body>"
        occupant = roles_room.occupant_by_nick(frm)
        assert occupant is not None and msg.occupant_id == occupant.occupant_id
    else:
        with pytest.raises(MucError) as info:
            svc.private(roles_room.jid, to, JID_OF[frm], "<body>psst</body>", "chat")
        assert (info.value.condition, info.value.etype) == ("not-allowed", "cancel")
        assert sender.sent == []


def test_default_pm_policy_is_moderators(room: Room) -> None:
    """Haven's default: private messages only to or from moderators."""
    assert room.config.allowpm == "moderators"


def test_private_message_reaches_every_session(
    trio: Room, svc: MucService, sender: RecordingSender
) -> None:
    """§7.2.8: private messages are RECOMMENDED to go to all of the user's resources."""
    join(svc, trio, "Alice", ALICE2_JID)
    sender.clear()
    svc.private(trio.jid, "alice", OWNER_JID, "<body>hi</body>", "chat")
    recipients, _ = only(sender.of("private"))
    assert sorted(recipients) == sorted([ALICE_JID, ALICE2_JID])


def test_private_message_of_type_groupchat_is_bad_request(
    trio: Room, svc: MucService, sender: RecordingSender
) -> None:
    """§7.5: a private message of type groupchat -> bad-request (type modify)."""
    with pytest.raises(MucError) as info:
        svc.private(trio.jid, "Alice", OWNER_JID, "<body>x</body>", "groupchat")
    assert (info.value.condition, info.value.etype) == ("bad-request", "modify")
    assert sender.sent == []


def test_private_message_to_unknown_nick_is_item_not_found(
    trio: Room, svc: MucService, sender: RecordingSender
) -> None:
    """§7.5: no occupant with that nick -> item-not-found."""
    with pytest.raises(MucError) as info:
        svc.private(trio.jid, "Nobody", OWNER_JID, "<body>x</body>", "chat")
    assert info.value.condition == "item-not-found"
    assert sender.sent == []


def test_private_message_from_non_occupant_is_not_acceptable(
    trio: Room, svc: MucService, sender: RecordingSender
) -> None:
    """§7.5 / §7.4: only occupants send private messages through the room."""
    with pytest.raises(MucError) as info:
        svc.private(trio.jid, "Alice", CAROL_JID, "<body>x</body>", "chat")
    assert info.value.condition == "not-acceptable"
    assert sender.sent == []
