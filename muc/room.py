"""The room core: occupants, presence and messages of one XEP-0045 room.

The core is small on purpose. It keeps the live state (occupants and their
sessions, history, subject) and fires events; the rules of each feature
(password, members-only, max users, PM policy, history, subject…) live in
``muc/features/`` and hook those events (see :mod:`muc.hooks` for the bands).

Every method runs synchronously on the event loop for one incoming stanza, so
a room needs no lock: no two stanzas are ever processed interleaved.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from muc.audit import AuditEvent
from muc.config import RoomConfig, ServiceSettings
from muc.errors import MucError
from muc.history import HistoryEntry, HistoryRequest, HistoryRing
from muc.hooks import HookBus
from muc.ids import occupant_id as make_occupant_id
from muc.nick import NickError, enforce, fold
from muc.occupant import Occupant, Session
from muc.ports import (
    ArchivedMessage,
    Clock,
    Destroy,
    Hat,
    Item,
    OutGroupchat,
    OutPresence,
    OutPrivate,
    Persistence,
    Sender,
)
from muc.recent import RecentMessages, SentMessage
from muc.roles import Affiliation, Role, default_role

# XEP-0045 §15 status codes used by the core.
NON_ANONYMOUS = 100
CONFIG_CHANGED = 104
SELF = 110
LOGGING = 170
CREATED = 201
NICK_MODIFIED = 210
NICK_CHANGED = 303
SHUTDOWN = 332
TECHNICAL_REMOVAL = 333


def bare(jid: str) -> str:
    """The bare part of a JID string."""
    return jid.split("/", 1)[0]


@dataclass
class JoinRequest:
    """What a user asks for when entering (XEP-0045 §7.2.1), with room context.

    Pre-join handlers read it and raise :class:`MucError` to refuse; they may
    change ``nick`` (status 210 is then sent, §7.2.2).
    """

    room: Room
    jid: str
    nick: str
    requested_nick: str
    password: str | None
    affiliation: Affiliation
    history: HistoryRequest = field(default_factory=HistoryRequest)
    payload: Any = None

    @property
    def bare_jid(self) -> str:
        return bare(self.jid)


@dataclass
class Joined:
    """Fired as ``joined`` once a session has its self-presence (§7.1 order)."""

    room: Room
    occupant: Occupant
    jid: str
    history: HistoryRequest
    new_occupant: bool


@dataclass
class GroupchatContext:
    """An occupant's groupchat message on its way through ``groupchat`` handlers."""

    room: Room
    occupant: Occupant
    jid: str
    payload: Any
    body: str | None
    subject: str | None  # present when the message carries <subject/>


@dataclass
class ConfigChange:
    """Fired as ``config-changed`` after an owner submitted a new configuration."""

    room: Room
    old: RoomConfig
    new: RoomConfig


@dataclass
class PrivateContext:
    """A private message (§7.5) on its way through ``private`` handlers."""

    room: Room
    sender: Occupant
    recipient: Occupant
    payload: Any


class Room:
    """One room: its configuration, affiliations, occupants and history."""

    def __init__(
        self,
        jid: str,
        config: RoomConfig,
        *,
        bus: HookBus,
        sender: Sender,
        store: Persistence,
        clock: Clock,
        settings: ServiceSettings,
        new_id: Callable[[], str],
        affiliations: dict[str, Affiliation] | None = None,
        affiliation_reasons: dict[str, str] | None = None,
        subject: str = "",
        subject_from: str = "",
        subject_at: datetime | None = None,
        history: list[HistoryEntry] | None = None,
        recent: list[SentMessage] | None = None,
        locked: bool = False,
        on_empty: Callable[[Room], None] | None = None,
    ) -> None:
        self.jid = jid
        self.config = config
        self.bus = bus
        self.sender = sender
        self.store = store
        self.clock = clock
        self.settings = settings
        self.new_id = new_id
        self.affiliations: dict[str, Affiliation] = dict(affiliations or {})
        self.affiliation_reasons: dict[str, str] = dict(affiliation_reasons or {})
        self.subject = subject
        self.subject_from = subject_from
        self.subject_at = subject_at
        self.history = HistoryRing(config.history_length, history or ())
        self.recent = RecentMessages(entries=recent or ())
        self.locked = locked  # §10.1.1: created, not yet configured
        self.destroyed = False
        self.on_empty = on_empty
        self._by_nick: dict[str, Occupant] = {}  # folded nick -> occupant
        self._by_jid: dict[str, Occupant] = {}  # real full JID -> occupant

    # ------------------------------------------------------------------ lookups
    def __repr__(self) -> str:
        return f"<Room {self.jid} occupants={len(self._by_nick)}>"

    def occupants(self) -> Iterator[Occupant]:
        return iter(self._by_nick.values())

    @property
    def occupant_count(self) -> int:
        return len(self._by_nick)

    def occupant_by_nick(self, nick: str) -> Occupant | None:
        try:
            return self._by_nick.get(fold(nick))
        except NickError:
            return None

    def occupant_by_jid(self, full_jid: str) -> Occupant | None:
        return self._by_jid.get(full_jid)

    def affiliation_of(self, bare_jid: str) -> Affiliation:
        """Stored affiliation; service admins count as owners (XEP-0045 §5.2)."""
        if self.settings.is_admin(bare_jid):
            return Affiliation.OWNER
        return self.affiliations.get(bare_jid, Affiliation.NONE)

    def occupant_jid(self, nick: str) -> str:
        return f"{self.jid}/{nick}"

    def all_jids(self) -> list[str]:
        """Every session's real full JID: the recipients of a broadcast."""
        return list(self._by_jid)

    def can_see_jids(self, viewer: Occupant, subject: Occupant) -> bool:
        """§7.2.3/§7.2.4: real JIDs go to moderators, or to all in non-anonymous rooms."""
        return viewer is subject or self.config.non_anonymous or viewer.is_moderator

    # ------------------------------------------------------------------ presence
    def _item(self, o: Occupant, viewer: Occupant, item_nick: str | None = None,
              reason: str | None = None, actor_nick: str | None = None) -> Item:
        return Item(
            affiliation=o.affiliation.value,
            role=o.role.value,
            jid=o.shown_jid() if self.can_see_jids(viewer, o) else None,
            nick=item_nick,
            reason=reason,
            actor_nick=actor_nick,
        )

    def _presence_to(
        self,
        o: Occupant,
        viewer: Occupant,
        to: str,
        *,
        available: bool = True,
        codes: tuple[int, ...] = (),
        nick: str | None = None,
        payload: Any = None,
        item_nick: str | None = None,
        reason: str | None = None,
        actor_nick: str | None = None,
        status: str | None = None,
    ) -> None:
        """Send ``o``'s in-room presence to one session ``to`` of ``viewer``.

        ``nick`` overrides the occupant JID's resource (the old nick on a change),
        ``item_nick`` is the new nick of a 303, ``status`` a text the service adds.
        Presence of a role outside ``muc#roomconfig_presencebroadcast`` reaches
        only the occupant and moderators, so lurking visitors can stay unseen.
        """
        if viewer is not o and not viewer.is_moderator:
            if available:
                if o.role.value not in self.config.presence_broadcast:
                    return
                o.announced = True
            elif not o.announced:
                return
        self.sender.presence(
            OutPresence(
                to=to,
                frm=self.occupant_jid(nick or o.nick),
                item=self._item(o, viewer, item_nick, reason, actor_nick),
                available=available,
                payload=o.presence if payload is None else payload,
                codes=((SELF, *codes) if viewer is o else codes),
                occupant_id=o.occupant_id,
                status=status,
                hats=self._hats_of(o) if available else (),
            )
        )

    def _hats_of(self, o: Occupant) -> tuple[Hat, ...]:
        """XEP-0317 hats worn by ``o`` in this room."""
        uris = self.config.hat_assignments.get(o.bare_jid)
        if not uris:
            return ()
        defined = {h["uri"]: h for h in self.config.hats}
        return tuple(Hat(u, defined[u]["title"], defined[u].get("hue"))
                     for u in uris if u in defined)

    def broadcast_presence(
        self, o: Occupant, *, skip_self: bool = False, **kwargs: Any
    ) -> None:
        """Send ``o``'s presence to every session of every occupant (§7.2.3, §7.7)."""
        for viewer in list(self._by_nick.values()):
            if skip_self and viewer is o:
                continue
            for to in viewer.sessions:
                self._presence_to(o, viewer, to, **kwargs)

    def join_codes(self, nick_modified: bool, created: bool) -> tuple[int, ...]:
        """Status codes of a self-presence on entering (§7.2.3, §7.2.12, §10.1.1)."""
        codes: list[int] = []
        if self.config.non_anonymous:
            codes.append(NON_ANONYMOUS)
        if self.config.logging:
            codes.append(LOGGING)
        if created:
            codes.append(CREATED)
        if nick_modified:
            codes.append(NICK_MODIFIED)
        return tuple(codes)

    def handle_presence(
        self,
        full_jid: str,
        nick: str,
        payload: Any,
        *,
        password: str | None = None,
        history: HistoryRequest | None = None,
        muc_join: bool = True,
        created: bool = False,
    ) -> None:
        """An available presence to ``room/nick``: a join, nick change or update.

        XEP-0045 §7.2 (entering), §7.6 (changing nickname), §7.7 (availability).
        """
        current = self._by_jid.get(full_jid)
        if current is None:
            self.join(full_jid, nick, payload, password=password,
                      history=history or HistoryRequest(), created=created)
            return
        try:
            same = fold(nick) == fold(current.nick)
        except NickError as exc:
            raise MucError("jid-malformed", str(exc)) from exc
        if same and muc_join and current.sessions.get(full_jid) is not None:
            # A client that rejoins without leaving (e.g. after a reconnect it did
            # not notice) gets exactly what a fresh entry gets, in the §7.1 order;
            # the others see only a presence update, and only if it changed.
            session = current.sessions[full_jid]
            changed = session.payload != payload
            session.payload = payload
            current.latest = full_jid
            if changed:
                self.broadcast_presence(current, skip_self=True)
            self._send_room_state(current, full_jid, history or HistoryRequest(), False,
                                  nick_modified=current.nick != nick)
            return
        if same:
            self.update_presence(full_jid, payload)
        else:
            self.change_nick(full_jid, nick, payload)

    def join(
        self,
        full_jid: str,
        nick: str,
        payload: Any,
        *,
        password: str | None = None,
        history: HistoryRequest | None = None,
        created: bool = False,
    ) -> Occupant:
        """Enter the room (§7.2). Raises MucError with the condition of §7.2.17."""
        history = history or HistoryRequest()
        req = JoinRequest(
            room=self,
            jid=full_jid,
            nick=nick,
            requested_nick=nick,
            password=password,
            affiliation=self.affiliation_of(bare(full_jid)),
            history=history,
            payload=payload,
        )
        self.bus.fire("pre-join", req)
        existing = self.occupant_by_nick(req.nick)
        if existing is not None:
            # Same bare JID under the same nick: another session (multi-session).
            existing.sessions[full_jid] = Session(full_jid, payload)
            self._by_jid[full_jid] = existing
            self._send_room_state(existing, full_jid, history, False,
                                  nick_modified=existing.nick != req.requested_nick)
            return existing
        role = default_role(req.affiliation, self.config.moderated)
        o = Occupant(
            nick=req.nick,
            bare_jid=req.bare_jid,
            role=role,
            affiliation=req.affiliation,
            occupant_id=make_occupant_id(self.settings.occupant_id_secret, self.jid,
                                         req.bare_jid),
            sessions={full_jid: Session(full_jid, payload)},
            latest=full_jid,
        )
        self._by_nick[fold(o.nick)] = o
        self._by_jid[full_jid] = o
        self._send_room_state(o, full_jid, history, True,
                              nick_modified=req.nick != req.requested_nick, created=created)
        return o

    def _send_room_state(
        self,
        o: Occupant,
        to: str,
        history: HistoryRequest,
        new_occupant: bool,
        *,
        nick_modified: bool,
        created: bool = False,
    ) -> None:
        """The §7.1 order: others' presence, own presence, history, subject."""
        for other in list(self._by_nick.values()):
            if other is not o:
                self._presence_to(other, o, to)
        codes = self.join_codes(nick_modified, created)
        if new_occupant:
            for viewer in list(self._by_nick.values()):
                if viewer is o:
                    continue
                for vto in viewer.sessions:
                    self._presence_to(o, viewer, vto)
        self._presence_to(o, o, to, codes=codes, payload=o.sessions[to].payload)
        self.bus.fire("joined", Joined(self, o, to, history, new_occupant))

    def update_presence(self, full_jid: str, payload: Any) -> None:
        """§7.7: an occupant changes availability; broadcast to everyone."""
        o = self._by_jid[full_jid]
        o.sessions[full_jid].payload = payload
        o.latest = full_jid
        self.broadcast_presence(o)

    def change_nick(self, full_jid: str, new_nick: str, payload: Any) -> None:
        """§7.6: unavailable with 303 from the old nick, then presence from the new."""
        o = self._by_jid[full_jid]
        if len(o.sessions) > 1:
            raise MucError(
                "not-acceptable",
                "You are in this room from several clients; leave from the others "
                "before changing your nickname.",
            )
        try:
            enforced = enforce(new_nick)
        except NickError as exc:
            raise MucError("jid-malformed", str(exc)) from exc
        req = JoinRequest(
            room=self, jid=full_jid, nick=enforced, requested_nick=new_nick, password=None,
            affiliation=o.affiliation, payload=payload,
        )
        self.bus.fire("nick-change", req)
        taken = self.occupant_by_nick(req.nick)
        if taken is not None and taken is not o:
            raise MucError("conflict", f"The nickname '{req.nick}' is already in use here.")
        old_nick = o.nick
        self.broadcast_presence(o, available=False, codes=(NICK_CHANGED,), nick=old_nick,
                                item_nick=req.nick)
        del self._by_nick[fold(old_nick)]
        o.nick = req.nick
        o.sessions[full_jid].payload = payload
        self._by_nick[fold(o.nick)] = o
        modified = (NICK_MODIFIED,) if req.nick != new_nick else ()
        for viewer in list(self._by_nick.values()):
            for vto in viewer.sessions:
                self._presence_to(o, viewer, vto, codes=modified if viewer is o else ())

    def leave(self, full_jid: str, payload: Any = None) -> None:
        """§7.14: an occupant session exits; the last session takes the occupant out."""
        o = self._by_jid.get(full_jid)
        if o is None:
            return
        self._remove_session(o, full_jid, payload=payload)

    def _remove_session(self, o: Occupant, full_jid: str, *, codes: tuple[int, ...] = (),
                        payload: Any = None, **extra: Any) -> None:
        del self._by_jid[full_jid]
        del o.sessions[full_jid]
        if o.sessions:
            # Other sessions stay: only this one is told it left (role none, §7.14).
            o.latest = next(iter(o.sessions)) if o.latest == full_jid else o.latest
            role, o.role = o.role, Role.NONE
            self._presence_to(o, o, full_jid, available=False, codes=codes,
                              payload=payload or "", **extra)
            o.role = role
            return
        del self._by_nick[fold(o.nick)]
        o.role = Role.NONE
        # An unavailable presence carries only what the leaver said (its status),
        # never its last show/caps.
        for viewer in [*self._by_nick.values(), o]:
            targets = [full_jid] if viewer is o else list(viewer.sessions)
            for to in targets:
                self._presence_to(o, viewer, to, available=False, codes=codes,
                                  payload=payload or "", **extra)
        if not self._by_nick and self.on_empty is not None:
            self.on_empty(self)

    def remove_ghost(self, full_jid: str) -> bool:
        """XEP-0045 §18.1.2 / §11.1: a delivery error removes the session (status 333)."""
        o = self._by_jid.get(full_jid)
        if o is None:
            return False
        self._remove_session(o, full_jid, codes=(TECHNICAL_REMOVAL,),
                             status="Removed: your client stopped answering.")
        return True

    def shutdown(self) -> None:
        """§11.2: the service shuts down; tell every occupant (status 332)."""
        for o in list(self._by_nick.values()):
            o.role = Role.NONE  # §11.2 example: role='none'
            for to in list(o.sessions):
                self._presence_to(o, o, to, available=False, codes=(SHUTDOWN,), payload="",
                                  status="The chat service is restarting; rejoin in a moment.")

    def destroy(self, reason: str | None = None, alternate: str | None = None,
                password: str | None = None) -> None:
        """§10.9: tell every occupant the room is gone, then forget it."""
        self.destroyed = True
        d = Destroy(jid=alternate, reason=reason, password=password)
        for o in list(self._by_nick.values()):
            o.role = Role.NONE
            for to in list(o.sessions):
                self.sender.presence(OutPresence(
                    to=to, frm=self.occupant_jid(o.nick),
                    item=Item(affiliation="none", role="none"), available=False,
                    codes=(SELF,), occupant_id=o.occupant_id, destroy=d,
                ))
        self._by_nick.clear()
        self._by_jid.clear()
        self.store.delete_room(self.jid)

    # ------------------------------------------------------------------ messages
    def _occupant_or_refuse(self, full_jid: str) -> Occupant:
        o = self._by_jid.get(full_jid)
        if o is None:
            # §7.4: "If the sender is not an occupant of the room, the service
            # SHOULD return a <not-acceptable/> error".
            raise MucError("not-acceptable", "You are not in this room; join it first.")
        return o

    def handle_groupchat(self, full_jid: str, payload: Any, body: str | None,
                         subject: str | None) -> None:
        """§7.4: a message to all occupants; handlers may refuse or consume it."""
        o = self._occupant_or_refuse(full_jid)
        ctx = GroupchatContext(self, o, full_jid, payload, body, subject)
        if self.bus.fire("groupchat", ctx) is not None:
            return
        self.broadcast_message(o, payload, body)

    def broadcast_message(self, o: Occupant, payload: Any, body: str | None) -> str:
        """Stamp, fan out, keep in history and queue for the archive (§7.4)."""
        stanza_id = self.new_id()
        now = self.clock.now()
        msg = OutGroupchat(frm=self.occupant_jid(o.nick), room=self.jid, payload=payload,
                           stanza_id=stanza_id, occupant_id=o.occupant_id)
        stanza = self.sender.groupchat(list(self._by_jid), msg)
        if body is None:
            return stanza_id  # chat states and the like: relayed, never kept
        self.history.append(HistoryEntry(stanza, now, stanza_id))
        self.recent.add(SentMessage(stanza_id, o.occupant_id, o.nick, o.bare_jid, now))
        if self.config.logging:
            # Only archived rooms store messages (and their senders' real JIDs);
            # a room with logging off keeps its recent history in memory only.
            self.store.archive(ArchivedMessage(
                room=self.jid, stanza_id=stanza_id, stamp=now, nick=o.nick,
                occupant_id=o.occupant_id, sender_jid=o.bare_jid, body=body, stanza=stanza,
            ))
        return stanza_id

    def set_subject(self, o: Occupant | None, subject: str, payload: Any) -> None:
        """§8.1: store and broadcast a new subject (not part of history, §7.2.13)."""
        self.subject = subject
        self.subject_from = o.nick if o else ""
        self.subject_at = self.clock.now()
        frm = self.occupant_jid(o.nick) if o else self.jid
        msg = OutGroupchat(frm=frm, room=self.jid, payload=payload, stanza_id=self.new_id(),
                           occupant_id=o.occupant_id if o else None, subject=subject)
        self.sender.groupchat(list(self._by_jid), msg)
        self.persist()

    def handle_private(self, full_jid: str, to_nick: str, payload: Any, mtype: str) -> None:
        """§7.5: a private message from one occupant to another."""
        sender = self._occupant_or_refuse(full_jid)
        if mtype == "groupchat":
            raise MucError("bad-request",
                           "A private message can't be of type groupchat; use chat.")
        recipient = self.occupant_by_nick(to_nick)
        if recipient is None:
            raise MucError("item-not-found", f"Nobody called '{to_nick}' is in this room.")
        self.bus.fire("private", PrivateContext(self, sender, recipient, payload))
        self.sender.private(list(recipient.sessions),
                            OutPrivate(frm=self.occupant_jid(sender.nick), payload=payload,
                                       occupant_id=sender.occupant_id))

    # ------------------------------------------------------------------ config
    def persist(self) -> None:
        """Queue this room's config and subject for storage (persistent rooms only)."""
        if self.config.persistent and not self.destroyed:
            self.store.save_room(self.jid, self.config.to_dict(), self.subject,
                                 self.subject_from, self.subject_at)

    def set_affiliation(self, jid: str, affiliation: Affiliation, reason: str = "") -> None:
        """Record an affiliation (§9, §10); live occupants pick it up."""
        if affiliation is Affiliation.NONE:
            self.affiliations.pop(jid, None)
            self.affiliation_reasons.pop(jid, None)
        else:
            self.affiliations[jid] = affiliation
            self.affiliation_reasons[jid] = reason
        if self.config.persistent:
            self.store.save_affiliation(self.jid, jid, affiliation.value, reason)

    def apply_config(self, new: RoomConfig) -> None:
        """§10.2: take a submitted configuration; status 104 (and 172/173) to occupants."""
        old = self.config
        self.config = new
        self.history.resize(new.history_length)
        was_persistent = old.persistent
        if new.persistent:
            self.persist()
            if not was_persistent:
                for jid, aff in self.affiliations.items():
                    self.store.save_affiliation(self.jid, jid, aff.value)
        elif was_persistent:
            self.store.delete_room(self.jid)
        codes = [CONFIG_CHANGED]
        if old.non_anonymous != new.non_anonymous:
            codes.append(172 if new.non_anonymous else 173)
        if old.logging != new.logging:
            codes.append(LOGGING if new.logging else 171)
        self.status_message(tuple(codes))
        self.bus.fire("config-changed", ConfigChange(self, old, new))

    def remove_occupant(self, o: Occupant, codes: tuple[int, ...], **extra: Any) -> None:
        """Take every session of ``o`` out of the room, telling everyone (e.g. 322)."""
        for jid in list(o.sessions):
            self._remove_session(o, jid, codes=codes, **extra)

    def status_message(self, codes: tuple[int, ...]) -> None:
        """A message from the room with only status codes (§10.2.1)."""
        for to in list(self._by_jid):
            self.sender.status(to, self.jid, codes)

    def unlock(self) -> None:
        """§10.1.2/§10.1.3: the owner accepted or submitted the config; open the room."""
        self.locked = False
        self.persist()
        for jid, aff in self.affiliations.items():
            if self.config.persistent:
                self.store.save_affiliation(self.jid, jid, aff.value)

    def audit(self, actor_jid: str, action: str, target: str | None = None,
              reason: str | None = None, **details: Any) -> None:
        """Record a moderation or administration action in the audit trail."""
        self.store.audit(AuditEvent(at=self.clock.now(), actor=bare(actor_jid), action=action,
                                    room=self.jid, target=target, reason=reason,
                                    details=details))

    def is_empty(self) -> bool:
        return not self._by_nick
