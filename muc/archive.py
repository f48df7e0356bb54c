"""The room archive as XEP-0313 (MAM) sees it: who may read it, and what a query asks.

XEP-0313 §6.1.2 (MUC Archives): "A MUC archive MUST check that the user
requesting the archive has the right to enter it at the time of the query …
In a members-only chat room, only owners, admins or members can query a room
archive. In the case of open MUC rooms, the MUC archives can generally be
accessed by any users … who do not have an affiliation of 'outcast'". The
query itself runs off the event loop (:mod:`muc.storage.archive`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from muc.errors import MucError
from muc.roles import Affiliation
from muc.room import Room, bare

MAX_PAGE = 100  # XEP-0313 §4.3.1: "a server MAY place a reasonable limit"


@dataclass(frozen=True)
class ArchiveQuery:
    """One MAM query against one room's archive."""

    room: str
    start: datetime | None = None
    end: datetime | None = None
    with_nick: str | None = None  # 'with' = an occupant JID room/nick
    before_id: str | None = None
    after_id: str | None = None
    ids: tuple[str, ...] = ()
    max: int = MAX_PAGE
    after: str | None = None  # RSM <after/>
    before: str | None = None  # RSM <before/>; "" asks for the last page
    flip: bool = False


@dataclass
class ArchivePage:
    """One page of results, oldest first (before any flip)."""

    items: list[tuple[str, datetime, str]] = field(default_factory=list)  # id, stamp, stanza
    complete: bool = True
    count: int = 0
    first_index: int | None = None


def check_access(room: Room, requester_jid: str) -> None:
    """Raise ``forbidden`` if ``requester_jid`` may not read ``room``'s archive."""
    if not room.config.logging:
        raise MucError("item-not-found", "This room keeps no archive.")
    aff = room.affiliation_of(bare(requester_jid))
    if aff is Affiliation.OUTCAST:
        raise MucError("forbidden", "You are banned from this room.")
    if room.config.members_only and aff.rank < Affiliation.MEMBER.rank:
        raise MucError("forbidden", "This room's archive is for its members only.")
    if room.config.password and room.occupant_by_jid(requester_jid) is None \
            and aff.rank < Affiliation.MEMBER.rank:
        raise MucError("forbidden", "Join this password-protected room to read its archive.")
