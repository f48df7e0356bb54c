"""Banned users can't enter (XEP-0045 §7.2.7).

§7.2.7: "If the user has been banned from the room (i.e., has an affiliation
of 'outcast'), the service MUST deny access to the room and inform the user
of the fact that they are banned; this is done by returning a presence stanza
of type 'error' specifying a <forbidden/> error condition".
"""

from __future__ import annotations

from muc.errors import MucError
from muc.hooks import HookBus
from muc.roles import Affiliation
from muc.room import JoinRequest


def check_banned(req: JoinRequest) -> None:
    """pre-join -10."""
    if req.affiliation is Affiliation.OUTCAST:
        raise MucError("forbidden", "You have been banned from this room.")


def register(bus: HookBus) -> None:
    bus.add("pre-join", check_banned, priority=-10)
