"""Slow mode: at most one message every N seconds per participant (Haven's own).

A heated evening in a support room calms down when people can't fire off
messages back to back. Moderators are exempt. A message sent too soon is
refused with ``policy-violation`` (RFC 6120 §8.3.3.12) saying how long to
wait; nothing is broadcast.
"""

from __future__ import annotations

import math

from muc.errors import MucError
from muc.hooks import HookBus
from muc.roles import Role
from muc.room import GroupchatContext
from muc.roomconfig import FieldSpec


def _valid(value: object) -> str | None:
    if isinstance(value, int) and value > 3600:
        return "at most 3600 seconds"
    return None


FIELDS = (
    FieldSpec("haven#slowmode", "slow_mode", "text-single",
              "Slow mode: seconds between two messages of one person (0: off)",
              validate=_valid),
)


def check_pace(ctx: GroupchatContext) -> None:
    """groupchat 45 (after the voice gate, before safety checks)."""
    seconds = ctx.room.config.slow_mode
    o = ctx.occupant
    if not seconds or o.role is Role.MODERATOR or ctx.body is None:
        return
    now = ctx.room.clock.now().timestamp()
    wait = o.last_message + seconds - now
    if o.last_message and wait > 0:
        raise MucError("policy-violation",
                       f"This room is in slow mode: one message every {seconds} seconds. "
                       f"Please wait {math.ceil(wait)} more second(s).")
    o.last_message = now


def register(bus: HookBus) -> None:
    bus.add("groupchat", check_pace, priority=45)
