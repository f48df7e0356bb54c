"""Nickname conflicts (XEP-0045 §7.2.8, §7.6.2).

§7.2.8: "If the room already contains another user with the nickname desired
by the user seeking to enter the room …, the service MUST deny access to the
room and inform the user of the conflict; this is done by returning a
presence stanza of type 'error' specifying a <conflict/> error condition."
The same bare JID under the same nickname is another session, not a conflict.
"""

from __future__ import annotations

from muc.errors import MucError
from muc.hooks import HookBus
from muc.room import JoinRequest


def check_conflict(req: JoinRequest) -> None:
    """pre-join -30 and nick-change -30."""
    holder = req.room.occupant_by_nick(req.nick)
    if holder is not None and holder.bare_jid != req.bare_jid:
        raise MucError("conflict",
                       f"The nickname '{req.nick}' is already in use in this room.")


def register(bus: HookBus) -> None:
    bus.add("pre-join", check_conflict, priority=-30)
    bus.add("nick-change", check_conflict, priority=-30)
