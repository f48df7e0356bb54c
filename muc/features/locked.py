"""Locked rooms: created but not yet configured (XEP-0045 §7.2.10, §10.1.1).

§7.2.10: "If a user attempts to enter a room while it is 'locked' (i.e.,
before the room creator provides an initial configuration and therefore
before the room officially exists), the service MUST refuse entry and return
an <item-not-found/> error to the user." Owners may enter.
"""

from __future__ import annotations

from muc.errors import MucError
from muc.hooks import HookBus
from muc.roles import Affiliation
from muc.room import JoinRequest


def check_locked(req: JoinRequest) -> None:
    """pre-join 0."""
    if req.room.locked and req.affiliation is not Affiliation.OWNER:
        raise MucError("item-not-found",
                       "This room is being set up by its owner and can't be entered yet.")


def register(bus: HookBus) -> None:
    bus.add("pre-join", check_locked, priority=0)
