"""Who sent the room's recent messages: stanza-id -> sender, kept in memory.

Moderation needs to know, for a stanza-id a moderator points at, which
occupant sent it (XEP-0425 retraction) and, for someone who already left,
their real JID (a ban by occupant-id or by a nickname seen in history). The
archive has this too, but reading it would put a database call on the event
loop; this bounded index answers from memory and is refilled from the
archive at start-up.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from muc.nick import NickError, fold

DEFAULT_SIZE = 2000


@dataclass(slots=True)
class SentMessage:
    """One broadcast groupchat message's sender, never shown to members."""

    stanza_id: str
    occupant_id: str | None
    nick: str
    bare_jid: str
    stamp: datetime
    retracted: bool = False


class RecentMessages:
    """The last ``size`` messages of a room, by stanza-id."""

    def __init__(self, size: int = DEFAULT_SIZE, entries: Iterable[SentMessage] = ()) -> None:
        self.size = size
        self._by_id: OrderedDict[str, SentMessage] = OrderedDict()
        for e in entries:
            self.add(e)

    def add(self, entry: SentMessage) -> None:
        self._by_id[entry.stanza_id] = entry
        while len(self._by_id) > self.size:
            self._by_id.popitem(last=False)

    def drop_before(self, cutoff: datetime) -> None:
        """Forget senders of messages older than ``cutoff`` (retention)."""
        while self._by_id:
            first = next(iter(self._by_id.values()))
            if first.stamp >= cutoff:
                break
            self._by_id.popitem(last=False)

    def get(self, stanza_id: str) -> SentMessage | None:
        return self._by_id.get(stanza_id)

    def __len__(self) -> int:
        return len(self._by_id)

    def jid_for_occupant_id(self, occupant_id: str) -> str | None:
        """The real bare JID behind an occupant-id seen in recent messages."""
        for e in reversed(self._by_id.values()):
            if e.occupant_id == occupant_id:
                return e.bare_jid
        return None

    def jid_for_nick(self, nick: str) -> str | None:
        """The real bare JID of the latest sender of that nickname (RFC 8266 comparison)."""
        key = fold(nick)
        for e in reversed(self._by_id.values()):
            try:
                if fold(e.nick) == key:
                    return e.bare_jid
            except NickError:
                continue
        return None
