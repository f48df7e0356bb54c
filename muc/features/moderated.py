"""Moderated rooms and the voice gate (XEP-0045 §7.4, §5.1.1).

§7.4: "If the sender is a visitor (i.e., does not have voice in a moderated
room), the service MUST return a <forbidden/> error to the sender and MUST
NOT reflect the message to all occupants."
"""

from __future__ import annotations

from muc.errors import MucError
from muc.hooks import HookBus
from muc.roles import Role
from muc.room import GroupchatContext
from muc.roomconfig import FieldSpec

FIELDS = (
    FieldSpec("muc#roomconfig_moderatedroom", "moderated", "boolean",
              "Newcomers need voice to speak"),
)


def check_voice(ctx: GroupchatContext) -> None:
    """groupchat 50."""
    if ctx.occupant.role.rank < Role.PARTICIPANT.rank:
        raise MucError("forbidden",
                       "You can read this room but not speak yet: you need voice "
                       "from a moderator.")


def register(bus: HookBus) -> None:
    bus.add("groupchat", check_voice, priority=50)
