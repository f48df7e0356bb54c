"""Who may send private messages (XEP-0045 §7.5, ``muc#roomconfig_allowpm``).

Values: ``anyone``, ``participants`` (participants and moderators),
``moderators``, ``none``. Haven's default is ``moderators``, and in Haven a
moderator is on at least one end: a member can reach a moderator privately,
a moderator can reach anyone, but members can't message each other. This
keeps unwanted private contact hard, which a peer-support room needs.
"""

from __future__ import annotations

from muc.config import ALLOWPM_VALUES
from muc.errors import MucError
from muc.hooks import HookBus
from muc.roles import Role
from muc.room import PrivateContext
from muc.roomconfig import FieldSpec

FIELDS = (
    FieldSpec("muc#roomconfig_allowpm", "allowpm", "list-single",
              "Who may send private messages",
              options=tuple((v, v.capitalize()) for v in ALLOWPM_VALUES)),
)


def pm_allowed(policy: str, sender: Role, recipient: Role) -> bool:
    """Whether a PM from a ``sender`` role to a ``recipient`` role passes ``policy``."""
    if policy == "anyone":
        return sender is not Role.NONE
    if policy == "participants":
        return sender in (Role.PARTICIPANT, Role.MODERATOR)
    if policy == "moderators":
        return Role.MODERATOR in (sender, recipient)
    return False


def check_pm(ctx: PrivateContext) -> None:
    """private 50."""
    policy = ctx.room.config.allowpm
    if pm_allowed(policy, ctx.sender.role, ctx.recipient.role):
        return
    if policy == "moderators":
        text = ("Private messages in this room go to or from moderators only; you can "
                "message a moderator.")
    elif policy == "participants":
        text = "Visitors can't send private messages in this room."
    else:
        text = "Private messages are turned off in this room."
    raise MucError("not-allowed", text)


def register(bus: HookBus) -> None:
    bus.add("private", check_pm, priority=50)
