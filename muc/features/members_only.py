"""Members-only rooms (XEP-0045 §7.2.6).

§7.2.6: "If the room is members-only but the user is not on the member list,
the service MUST deny access to the room and inform the user that they are
not allowed to enter the room; this is done by returning a presence stanza of
type 'error' specifying a <registration-required/> error condition."
"""

from __future__ import annotations

from muc.errors import MucError
from muc.hooks import HookBus
from muc.roles import OCCUPANT_ROLES, Affiliation, valid_roles
from muc.room import ConfigChange, JoinRequest
from muc.roomconfig import FieldSpec

FIELDS = (
    FieldSpec("muc#roomconfig_membersonly", "members_only", "boolean",
              "Only members may enter"),
    FieldSpec("muc#roomconfig_getmemberlist", "getmemberlist", "list-multi",
              "Roles that may retrieve the member list (§7.11)",
              options=tuple((r, r.capitalize()) for r in OCCUPANT_ROLES),
              validate=valid_roles),
)


def check_member(req: JoinRequest) -> None:
    """pre-join -15."""
    if req.room.config.members_only and req.affiliation.rank < Affiliation.MEMBER.rank:
        raise MucError("registration-required",
                       "This room is for members only; ask a moderator for membership.")


def remove_non_members(ev: ConfigChange) -> None:
    """config-changed: §10.2 "If … the room type is changed to members-only but there
    are non-members in the room, the service MUST remove any non-members from the room
    and include a status code of 322 in the presence unavailable stanzas sent to those
    users as well as any remaining occupants."
    """
    if ev.new.members_only and not ev.old.members_only:
        for o in list(ev.room.occupants()):
            if o.affiliation.rank < Affiliation.MEMBER.rank:
                ev.room.remove_occupant(o, (322,),
                                        status="This room is now for members only.")


def register(bus: HookBus) -> None:
    bus.add("pre-join", check_member, priority=-15)
    bus.add("config-changed", remove_non_members)
