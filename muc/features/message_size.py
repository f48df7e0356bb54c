"""Oversized messages are refused (RFC 6120 §8.3.3.12 ``policy-violation``).

A support room is for conversation; a megabyte of text is a flood. The limit
is ``[service] max_message_bytes`` (UTF-8 bytes of the body).
"""

from __future__ import annotations

from muc.errors import MucError
from muc.hooks import HookBus
from muc.room import GroupchatContext


def check_size(ctx: GroupchatContext) -> None:
    """groupchat 60."""
    limit = ctx.room.settings.max_message_bytes
    if ctx.body is not None and limit and len(ctx.body.encode()) > limit:
        raise MucError("policy-violation",
                       f"Your message is too long ({len(ctx.body.encode())} bytes; the limit "
                       f"is {limit}). Please split it up.")


def register(bus: HookBus) -> None:
    bus.add("groupchat", check_size, priority=60)
