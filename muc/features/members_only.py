"""Members-only rooms (XEP-0045 §7.2.6).

§7.2.6: "If the room is members-only but the user is not on the member list,
the service MUST deny access to the room and inform the user that they are
not allowed to enter the room; this is done by returning a presence stanza of
type 'error' specifying a <registration-required/> error condition."
"""

from __future__ import annotations

from muc.errors import MucError
from muc.hooks import HookBus
from muc.roles import Affiliation
from muc.room import JoinRequest
from muc.roomconfig import FieldSpec

FIELDS = (
    FieldSpec("muc#roomconfig_membersonly", "members_only", "boolean",
              "Only members may enter"),
)


def check_member(req: JoinRequest) -> None:
    """pre-join -15."""
    if req.room.config.members_only and req.affiliation.rank < Affiliation.MEMBER.rank:
        raise MucError("registration-required",
                       "This room is for members only; ask a moderator for membership.")


def register(bus: HookBus) -> None:
    bus.add("pre-join", check_member, priority=-15)
