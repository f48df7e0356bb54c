"""Room occupant limit (XEP-0045 §7.2.9).

§7.2.9: "If the room has reached its maximum number of occupants, the service
SHOULD deny access to the room and inform the user of the restriction; this
is done by returning a presence stanza of type 'error' specifying a
<service-unavailable/> error condition." Owners and admins may still enter
(§7.2.9: "the service MAY allow … admins and owners").
"""

from __future__ import annotations

from muc.errors import MucError
from muc.hooks import HookBus
from muc.roles import Affiliation
from muc.room import JoinRequest
from muc.roomconfig import FieldSpec

FIELDS = (
    FieldSpec("muc#roomconfig_maxusers", "max_users", "text-single",
              "Maximum number of occupants (0: no limit)"),
)


def check_capacity(req: JoinRequest) -> None:
    """pre-join -40."""
    limit = req.room.config.max_users
    if not limit or req.affiliation.rank >= Affiliation.ADMIN.rank:
        return
    if req.room.occupant_by_nick(req.nick) is not None:
        return  # another session of a present occupant
    if req.room.occupant_count >= limit:
        raise MucError("service-unavailable",
                       f"This room is full ({limit} people); please try again later.")


def register(bus: HookBus) -> None:
    bus.add("pre-join", check_capacity, priority=-40)
