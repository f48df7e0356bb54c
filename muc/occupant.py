"""Occupants and their sessions: live state, never stored.

XEP-0045 allows one occupant (one nickname) to be present from several
resources of the same bare JID (Haven follows Prosody here): each resource is
a :class:`Session`; the occupant's broadcast presence is the latest one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from muc.roles import Affiliation, Role


@dataclass(slots=True)
class Session:
    """One joined resource of an occupant."""

    jid: str  # the real full JID
    payload: Any = None  # the session's presence children (show, status, caps…)


@dataclass(slots=True)
class Occupant:
    """An entity present in a room under one nickname."""

    nick: str
    bare_jid: str
    role: Role
    affiliation: Affiliation
    occupant_id: str
    sessions: dict[str, Session] = field(default_factory=dict)
    latest: str = ""  # full JID of the session whose presence is broadcast
    announced: bool = False  # its presence has reached non-moderators
    voice_requested: float = 0.0  # when it last asked for voice (§7.13)
    last_message: float = 0.0  # monotonic-ish time of its last groupchat message (slow mode)

    @property
    def presence(self) -> Any:
        """The presence payload others see: the most recently updated session's."""
        session = self.sessions.get(self.latest)
        return session.payload if session else None

    @property
    def is_moderator(self) -> bool:
        return self.role is Role.MODERATOR

    def shown_jid(self) -> str:
        """The real JID shown to those allowed to see it (§7.2.3, §7.2.4)."""
        return self.latest or next(iter(self.sessions), self.bare_jid)
