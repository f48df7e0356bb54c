"""Discussion history held by a room, and the ``<history/>`` limits of a join.

XEP-0045 §7.2.13: history is sent after presence and before the subject; each
message is stamped with XEP-0203 delay from the room's JID. §7.2.14 (Managing
Discussion History) lets the joiner limit it with ``maxchars``, ``maxstanzas``,
``seconds`` and ``since``; "the service MUST send the smallest amount of
traffic that meets any combination of the above criteria".
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One broadcast groupchat message, as serialized when it was sent."""

    stanza: str
    stamp: datetime
    stanza_id: str


@dataclass(frozen=True, slots=True)
class HistoryRequest:
    """The joiner's ``<history/>`` element, parsed (all optional)."""

    maxstanzas: int | None = None
    maxchars: int | None = None
    seconds: int | None = None
    since: datetime | None = None


class HistoryRing:
    """The last ``size`` messages of a room, oldest first."""

    def __init__(self, size: int, entries: Iterable[HistoryEntry] = ()) -> None:
        self._entries: deque[HistoryEntry] = deque(entries if size > 0 else (),
                                                   maxlen=max(size, 1))
        self.size = size

    def append(self, entry: HistoryEntry) -> None:
        if self.size > 0:
            self._entries.append(entry)

    def resize(self, size: int) -> None:
        self._entries = deque(self._entries if size > 0 else (), maxlen=max(size, 1))
        self.size = size

    def replace(self, stanza_id: str, stanza: str) -> bool:
        """Swap the stored stanza of one entry (a retraction's tombstone)."""
        for i, e in enumerate(self._entries):
            if e.stanza_id == stanza_id:
                self._entries[i] = HistoryEntry(stanza, e.stamp, e.stanza_id)
                return True
        return False

    def drop_before(self, cutoff: datetime) -> int:
        """Forget entries older than ``cutoff`` (retention); return how many."""
        before = len(self._entries)
        while self._entries and self._entries[0].stamp < cutoff:
            self._entries.popleft()
        return before - len(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._entries)

    def select(self, req: HistoryRequest, now: datetime, limit: int) -> list[HistoryEntry]:
        """Entries to send for ``req``: every limit applies at once (§7.2.14).

        ``limit`` is the room's own cap (muc#maxhistoryfetch); a joiner can ask
        for less, never more.
        """
        entries = list(self._entries)
        maxstanzas = limit if req.maxstanzas is None else min(req.maxstanzas, limit)
        if maxstanzas <= 0:
            return []
        entries = entries[-maxstanzas:]
        if req.seconds is not None:
            cutoff = now - timedelta(seconds=max(req.seconds, 0))
            entries = [e for e in entries if e.stamp >= cutoff]
        if req.since is not None:
            entries = [e for e in entries if e.stamp > req.since]
        if req.maxchars is not None:
            budget = max(req.maxchars, 0)
            kept: list[HistoryEntry] = []
            for e in reversed(entries):
                budget -= len(e.stanza)
                if budget < 0:
                    break
                kept.append(e)
            entries = list(reversed(kept))
        return entries
