"""The MUC service: the registry of rooms and the entry points the edge calls.

One :class:`MucService` serves one MUC domain. The component translates each
incoming stanza into one call here; everything the service says goes out
through the :class:`muc.ports.Sender`. Raising :class:`MucError` means "reply
to the sender with this error".
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from muc import admin, features, retraction
from muc.admin import AdminItem, ListEntry
from muc.config import RoomConfig, ServiceSettings
from muc.errors import MucError
from muc.features import invitations, voice_requests
from muc.history import HistoryEntry, HistoryRequest
from muc.hooks import HookBus
from muc.ids import new_stanza_id
from muc.ports import Clock, Persistence, Sender
from muc.recent import SentMessage
from muc.roles import Affiliation
from muc.room import Room, bare
from muc.roomconfig import FieldRegistry

log = logging.getLogger(__name__)


class SystemClock:
    """Wall-clock time in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass
class StoredRoom:
    """A room as loaded from the database at start-up."""

    jid: str
    config: dict[str, Any]
    subject: str = ""
    subject_from: str = ""
    affiliations: dict[str, str] = field(default_factory=dict)
    history: list[HistoryEntry] = field(default_factory=list)
    subject_at: datetime | None = None
    affiliation_reasons: dict[str, str] = field(default_factory=dict)
    recent: list[SentMessage] = field(default_factory=list)


class MucService:
    """Rooms of one MUC domain, with Haven's creation policy."""

    def __init__(
        self,
        domain: str,
        settings: ServiceSettings,
        sender: Sender,
        store: Persistence,
        clock: Clock | None = None,
        new_id: Callable[[], str] = new_stanza_id,
    ) -> None:
        self.domain = domain
        self.settings = settings
        self.sender = sender
        self.store = store
        self.clock = clock or SystemClock()
        self.new_id = new_id
        self.bus = HookBus()
        self.fields = FieldRegistry()
        features.install(self.bus, self.fields)
        self.rooms: dict[str, Room] = {}

    # ------------------------------------------------------------------ rooms
    def _make_room(self, jid: str, config: RoomConfig, **kwargs: Any) -> Room:
        room = Room(jid, config, bus=self.bus, sender=self.sender, store=self.store,
                    clock=self.clock, settings=self.settings, new_id=self.new_id,
                    on_empty=self._room_emptied, **kwargs)
        self.rooms[jid] = room
        return room

    def load(self, stored: Iterable[StoredRoom]) -> None:
        """Bring stored rooms to life at start-up (called before connecting)."""
        for s in stored:
            affs = {jid: Affiliation(a) for jid, a in s.affiliations.items()}
            self._make_room(s.jid, RoomConfig.from_dict(s.config), affiliations=affs,
                            affiliation_reasons=s.affiliation_reasons, recent=s.recent,
                            subject=s.subject, subject_from=s.subject_from,
                            subject_at=s.subject_at,
                            history=s.history)

    def provision(self, localpart: str, config: RoomConfig, subject: str | None = None,
                  owners: Iterable[str] = ()) -> Room:
        """Create or update a room from the config file (operator's word is final).

        Called at start-up for each ``[[rooms]]`` entry; the room becomes
        persistent and unlocked, its config replaced by the file's.
        """
        jid = f"{localpart}@{self.domain}"
        room = self.rooms.get(jid)
        if room is None:
            room = self._make_room(jid, config)
        else:
            # The file wins, except for what is managed live: XEP-0317 hats.
            config.hats, config.hat_assignments = room.config.hats, room.config.hat_assignments
            room.config = config
            room.history.resize(config.history_length)
        if subject is not None and subject != room.subject:
            room.subject, room.subject_from = subject, ""
            room.subject_at = self.clock.now()
        room.locked = False
        room.persist()
        for owner in owners:
            room.set_affiliation(owner, Affiliation.OWNER)
        return room

    def room(self, jid: str) -> Room | None:
        return self.rooms.get(jid)

    def require_room(self, jid: str) -> Room:
        """The room, or ``item-not-found`` (XEP-0045 §7.2.11 / RFC 6120 §8.3.3.7)."""
        room = self.rooms.get(jid)
        if room is None:
            raise MucError("item-not-found", f"There is no room called {jid}.")
        return room

    def _room_emptied(self, room: Room) -> None:
        """The last occupant left: temporary and unconfigured rooms go away (§10.1.1)."""
        if room.locked or not room.config.persistent:
            log.info("Room %s is empty and not persistent; destroying it", room.jid)
            room.destroy()
            self.rooms.pop(room.jid, None)

    def public_rooms(self) -> list[Room]:
        """Rooms listed in disco#items (§6.3): public, unlocked, sorted by JID."""
        return sorted((r for r in self.rooms.values() if r.config.public and not r.locked),
                      key=lambda r: r.jid)

    def may_create(self, bare_jid: str) -> bool:
        policy = self.settings.room_creation
        return policy == "anyone" or (policy == "admins" and self.settings.is_admin(bare_jid))

    # ------------------------------------------------------------------ presence
    def presence(self, room_jid: str, nick: str, full_jid: str, payload: Any, *,
                 available: bool = True, password: str | None = None,
                 history: HistoryRequest | None = None, muc_join: bool = True) -> None:
        """Presence to ``room/nick`` (§7.2, §7.6, §7.7, §7.14)."""
        room = self.rooms.get(room_jid)
        if not available:
            if room is not None:
                room.leave(full_jid, payload)
            return
        if room is None:
            self._create_by_join(room_jid, nick, full_jid, payload, history)
            return
        room.handle_presence(full_jid, nick, payload, password=password, history=history,
                             muc_join=muc_join)

    def _create_by_join(self, room_jid: str, nick: str, full_jid: str, payload: Any,
                        history: HistoryRequest | None) -> None:
        """§10.1.1: entering a room that doesn't exist creates it, if policy allows."""
        policy = self.settings.room_creation
        if policy == "nobody":
            raise MucError("item-not-found", f"There is no room called {room_jid}.")
        if not self.may_create(bare(full_jid)):
            raise MucError("not-allowed",
                           "Only the service's administrators can create new rooms here.")
        localpart = room_jid.split("@", 1)[0]
        room = self._make_room(room_jid, RoomConfig(name=localpart), locked=True,
                               affiliations={bare(full_jid): Affiliation.OWNER})
        try:
            room.join(full_jid, nick, payload, history=history, created=True)
        except MucError:
            self.rooms.pop(room_jid, None)
            raise
        room.audit(full_jid, "create")
        log.info("Room %s created (locked until configured)", room_jid)

    def delivery_error(self, room_jid: str, full_jid: str) -> None:
        """The server bounced a stanza we sent to ``full_jid``: remove the ghost."""
        room = self.rooms.get(room_jid)
        if room is not None and room.remove_ghost(full_jid):
            log.info("Removed a ghost session from %s", room_jid)

    # ------------------------------------------------------------------ messages
    def groupchat(self, room_jid: str, full_jid: str, payload: Any, body: str | None,
                  subject: str | None) -> None:
        """§7.4 / §8.1."""
        self.require_room(room_jid).handle_groupchat(full_jid, payload, body, subject)

    def private(self, room_jid: str, nick: str, full_jid: str, payload: Any,
                mtype: str) -> None:
        """§7.5."""
        self.require_room(room_jid).handle_private(full_jid, nick, payload, mtype)

    # ------------------------------------------------------------------ admin
    def admin_set(self, room_jid: str, full_jid: str, items: list[AdminItem]) -> None:
        """§8–§10: role and affiliation changes (``muc#admin`` set)."""
        admin.admin_set(self.require_room(room_jid), full_jid, items)

    def admin_list(self, room_jid: str, full_jid: str, *, role: str | None = None,
                   affiliation: str | None = None) -> list[ListEntry]:
        """§8.5, §9.2, §9.5, §9.8, §10.5, §10.8: read a role or affiliation list."""
        return admin.admin_list(self.require_room(room_jid), full_jid, role=role,
                                affiliation=affiliation)

    def moderate(self, room_jid: str, full_jid: str, stanza_id: str,
                 reason: str | None) -> None:
        """XEP-0425: a moderator retracts a message."""
        retraction.moderate(self.require_room(room_jid), full_jid, stanza_id, reason)

    def invite(self, room_jid: str, full_jid: str, invitee: str, reason: str | None) -> None:
        """§7.8.2 mediated invitation."""
        invitations.invite(self.require_room(room_jid), full_jid, invitee, reason)

    def decline(self, room_jid: str, full_jid: str, inviter: str, reason: str | None) -> None:
        """§7.8.2 the invitee declines."""
        invitations.decline(self.require_room(room_jid), full_jid, inviter, reason)

    def request_voice(self, room_jid: str, full_jid: str) -> None:
        """§7.13 a visitor asks for voice."""
        voice_requests.request_voice(self.require_room(room_jid), full_jid)

    def answer_voice_request(self, room_jid: str, full_jid: str, nick: str,
                             allow: bool) -> None:
        """§8.6 a moderator approves (or not) a voice request."""
        voice_requests.answer_voice_request(self.require_room(room_jid), full_jid, nick, allow)

    # ------------------------------------------------------------------ owner
    def require_owner(self, room_jid: str, full_jid: str) -> Room:
        """§10: only owners configure or destroy; others get ``forbidden``."""
        room = self.require_room(room_jid)
        if room.affiliation_of(bare(full_jid)) is not Affiliation.OWNER:
            raise MucError("forbidden", "Only the room's owners can do that.")
        return room

    def submit_config(self, room_jid: str, full_jid: str,
                      values: dict[str, list[str]] | None) -> None:
        """§10.1.2 (instant room: empty submit), §10.1.3 and §10.2 (submitted form)."""
        room = self.require_owner(room_jid, full_jid)
        new = self.fields.apply_submission(room.config, values or {})
        changed = sorted(k for k, v in new.to_dict().items() if room.config.to_dict()[k] != v)
        room.audit(full_jid, "configure", changed=[c for c in changed if c != "password"])
        if room.locked:
            room.config = new
            room.history.resize(new.history_length)
            room.unlock()
            log.info("Room %s unlocked by its owner", room_jid)
        else:
            room.apply_config(new)
        if not new.persistent and room.is_empty():
            self._room_emptied(room)

    def cancel_config(self, room_jid: str, full_jid: str) -> None:
        """§10.1.3: an owner cancelling the initial configuration destroys the room."""
        room = self.require_owner(room_jid, full_jid)
        if room.locked:
            self.destroy(room_jid, full_jid, reason="The owner cancelled the room's creation.")

    def destroy(self, room_jid: str, full_jid: str, reason: str | None = None,
                alternate: str | None = None, password: str | None = None) -> None:
        """§10.9: an owner destroys the room."""
        room = self.require_owner(room_jid, full_jid)
        room.audit(full_jid, "destroy", reason=reason, alternate=alternate)
        room.destroy(reason=reason, alternate=alternate, password=password)
        self.rooms.pop(room_jid, None)
        log.info("Room %s destroyed by its owner", room_jid)

    def purge_expired(self) -> None:
        """Retention: forget messages older than each room's limit, in memory and in
        the archive (queued for the writer thread). Called periodically, never per
        message."""
        now = self.clock.now()
        for room in self.rooms.values():
            days = room.config.retention_days or self.settings.retention_days
            if days <= 0:
                continue
            cutoff = now - timedelta(days=days)
            room.history.drop_before(cutoff)
            room.recent.drop_before(cutoff)
            if room.config.persistent and room.config.logging:
                self.store.purge(room.jid, cutoff)

    def shutdown(self) -> None:
        """§11.2: tell every occupant the service is going away (status 332)."""
        for room in list(self.rooms.values()):
            room.shutdown()
