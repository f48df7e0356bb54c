"""The domain's ports: what ``muc/`` needs from the outside, as protocols.

The domain never touches the XMPP stream. Everything it emits goes through a
:class:`Sender`, implemented by the component (XML on the wire) and by a
recording fake in unit tests. Payloads the domain forwards untouched (a
client's presence children, a message's extensions) are opaque to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from muc.audit import AuditEvent


@dataclass(frozen=True, slots=True)
class Item:
    """The ``<item/>`` of a muc#user presence, XEP-0045 §7.2.3."""

    affiliation: str
    role: str
    jid: str | None = None  # only where the recipient may see it (§7.2.3 / §7.2.4)
    nick: str | None = None  # new nick, on a nickname change (§7.6.3, status 303)
    reason: str | None = None
    actor_nick: str | None = None


@dataclass(frozen=True, slots=True)
class Hat:
    """A label worn in a room (XEP-0317): unique URI, title, optional hue."""

    uri: str
    title: str
    hue: str | None = None


@dataclass(frozen=True, slots=True)
class Destroy:
    """``<destroy/>`` in the unavailable presence of a destroyed room, §10.9."""

    jid: str | None = None
    reason: str | None = None
    password: str | None = None


@dataclass(frozen=True, slots=True)
class OutPresence:
    """One in-room presence to one session (XEP-0045 §7.2.3)."""

    to: str
    frm: str
    item: Item
    available: bool = True
    payload: Any = None  # the occupant's own presence children (show, status, caps…)
    codes: tuple[int, ...] = ()
    occupant_id: str | None = None
    destroy: Destroy | None = None
    status: str | None = None  # text for an unavailable presence the service makes
    hats: tuple[Hat, ...] = ()  # XEP-0317 hats the occupant wears


@dataclass(frozen=True, slots=True)
class OutGroupchat:
    """A groupchat message as the room broadcasts it (XEP-0045 §7.4)."""

    frm: str  # room@service/nick
    room: str
    payload: Any  # the sender's message (body and extensions), re-stamped by the Sender
    stanza_id: str  # XEP-0359, assigned by the room
    occupant_id: str | None  # XEP-0421
    subject: str | None = None  # set for a subject change with no payload (§8.1)


@dataclass(frozen=True, slots=True)
class Retraction:
    """A moderator's retraction of one message (XEP-0425)."""

    room: str
    stanza_id: str  # the room's stanza-id of the retracted message
    author_nick: str
    author_occupant_id: str | None
    by: str  # room/nick of the moderator
    by_occupant_id: str | None
    reason: str | None
    stamp: datetime
    message_id: str  # id of the retraction message the room sends


@dataclass(frozen=True, slots=True)
class OutPrivate:
    """A private message between occupants (XEP-0045 §7.5)."""

    frm: str
    payload: Any
    occupant_id: str | None


class Sender(Protocol):
    """Where the domain's output goes. Implemented by ``component.sender``."""

    def presence(self, p: OutPresence) -> None:
        """Send one in-room presence."""

    def groupchat(self, recipients: Sequence[str], msg: OutGroupchat) -> str:
        """Fan one groupchat message out to every full JID in ``recipients``.

        Returns the serialized stanza (without ``to``) as it was broadcast, so
        the room can keep it for history and the archive.
        """

    def history(self, to: str, stanza: str, stamp: datetime, room: str) -> None:
        """Send a stored groupchat stanza with XEP-0203 delay (§7.2.13)."""

    def subject(self, to: str, frm: str, subject: str, stamp: datetime | None = None,
                room: str = "") -> None:
        """Send the room subject (§7.2.15), the last step of a join.

        ``stamp`` is when it was last set (sent as XEP-0203 delay from ``room``).
        """

    def private(self, recipients: Sequence[str], msg: OutPrivate) -> None:
        """Deliver a private message to the sessions of one occupant (§7.5)."""

    def status(self, to: str, room: str, codes: tuple[int, ...]) -> None:
        """A body-less message from the room carrying status codes (§10.2.1)."""

    def retraction(self, recipients: Sequence[str], r: Retraction) -> None:
        """Tell every occupant that a message was retracted (XEP-0425 §3)."""

    def invite(self, to: str, room: str, inviter: str, reason: str | None,
               password: str | None) -> None:
        """A mediated invitation from the room (§7.8.2); ``inviter`` is an occupant JID."""

    def decline(self, to: str, room: str, invitee: str, reason: str | None) -> None:
        """Tell an inviter that ``invitee`` declined (§7.8.2)."""

    def voice_request(self, to: str, room: str, requester_jid: str, nick: str) -> None:
        """The voice-approval form for one moderator session (§8.6)."""

    def tombstone(self, r: Retraction) -> str:
        """The stored stanza that replaces a retracted message (XEP-0425 §4)."""


class Clock(Protocol):
    """Time source; a fixed clock in tests."""

    def now(self) -> datetime: ...


@dataclass
class RecordingSender:
    """A Sender that records everything: for unit tests of ``muc/``."""

    sent: list[tuple[str, Any]] = field(default_factory=list)

    def presence(self, p: OutPresence) -> None:
        self.sent.append(("presence", p))

    def groupchat(self, recipients: Sequence[str], msg: OutGroupchat) -> str:
        self.sent.append(("groupchat", (tuple(recipients), msg)))
        return f"<message from='{msg.frm}' stanza-id='{msg.stanza_id}'>{msg.payload}</message>"

    def history(self, to: str, stanza: str, stamp: datetime, room: str) -> None:
        self.sent.append(("history", (to, stanza, stamp)))

    def subject(self, to: str, frm: str, subject: str, stamp: datetime | None = None,
                room: str = "") -> None:
        self.sent.append(("subject", (to, frm, subject)))

    def private(self, recipients: Sequence[str], msg: OutPrivate) -> None:
        self.sent.append(("private", (tuple(recipients), msg)))

    def status(self, to: str, room: str, codes: tuple[int, ...]) -> None:
        self.sent.append(("status", (to, codes)))

    def retraction(self, recipients: Sequence[str], r: Retraction) -> None:
        self.sent.append(("retraction", (tuple(recipients), r)))

    def invite(self, to: str, room: str, inviter: str, reason: str | None,
               password: str | None) -> None:
        self.sent.append(("invite", (to, inviter, reason, password)))

    def decline(self, to: str, room: str, invitee: str, reason: str | None) -> None:
        self.sent.append(("decline", (to, invitee, reason)))

    def voice_request(self, to: str, room: str, requester_jid: str, nick: str) -> None:
        self.sent.append(("voice_request", (to, requester_jid, nick)))

    def tombstone(self, r: Retraction) -> str:
        return f"<message from='{r.room}/{r.author_nick}'><retracted id='{r.stanza_id}'/></message>"

    def of(self, kind: str) -> list[Any]:
        """Everything recorded of one kind, in order."""
        return [v for k, v in self.sent if k == kind]

    def clear(self) -> None:
        self.sent.clear()


@dataclass(frozen=True, slots=True)
class ArchivedMessage:
    """A groupchat message as stored: what the room broadcast, plus who sent it."""

    room: str
    stanza_id: str
    stamp: datetime
    nick: str
    occupant_id: str | None
    sender_jid: str  # real bare JID: for moderation and erasure, never shown to members
    body: str | None
    stanza: str


class Persistence(Protocol):
    """Durable writes the domain asks for. Never blocks the caller.

    Implemented by :class:`muc.storage.writer.WriteBehindStore` (a queue drained
    by one writer thread in batches) and by :class:`MemoryPersistence` in tests.
    """

    def save_room(self, room: str, config: dict[str, Any], subject: str, subject_from: str,
                  subject_at: datetime | None = None) -> None:
        """Create or update a room's row (``subject_at``: when the subject was set)."""

    def delete_room(self, room: str) -> None:
        """Remove a room and everything stored about it."""

    def save_affiliation(self, room: str, jid: str, affiliation: str, reason: str = "") -> None:
        """Store one affiliation; ``none`` removes it."""

    def archive(self, msg: ArchivedMessage) -> None:
        """Append one broadcast message to the room's archive."""

    def retract(self, room: str, stanza_id: str, tombstone: str) -> None:
        """Replace an archived message by its tombstone (body erased)."""

    def audit(self, event: AuditEvent) -> None:
        """Append one action to the hash-chained audit log."""

    def purge(self, room: str, before: datetime) -> None:
        """Delete a room's archived messages older than ``before`` (retention)."""


@dataclass
class MemoryPersistence:
    """Persistence that keeps calls in lists: for unit tests."""

    rooms: dict[str, tuple[dict[str, Any], str, str]] = field(default_factory=dict)
    affiliations: dict[tuple[str, str], str] = field(default_factory=dict)
    messages: list[ArchivedMessage] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    audited: list[AuditEvent] = field(default_factory=list)

    def save_room(self, room: str, config: dict[str, Any], subject: str, subject_from: str,
                  subject_at: datetime | None = None) -> None:
        self.rooms[room] = (config, subject, subject_from)

    def delete_room(self, room: str) -> None:
        self.rooms.pop(room, None)
        self.deleted.append(room)

    def save_affiliation(self, room: str, jid: str, affiliation: str, reason: str = "") -> None:
        if affiliation == "none":
            self.affiliations.pop((room, jid), None)
        else:
            self.affiliations[(room, jid)] = affiliation

    def archive(self, msg: ArchivedMessage) -> None:
        self.messages.append(msg)

    def audit(self, event: AuditEvent) -> None:
        self.audited.append(event)

    def purge(self, room: str, before: datetime) -> None:
        self.messages = [m for m in self.messages if m.room != room or m.stamp >= before]

    def retract(self, room: str, stanza_id: str, tombstone: str) -> None:
        self.messages = [
            ArchivedMessage(m.room, m.stanza_id, m.stamp, m.nick, m.occupant_id, m.sender_jid,
                            None, tombstone)
            if (m.room, m.stanza_id) == (room, stanza_id) else m
            for m in self.messages
        ]
