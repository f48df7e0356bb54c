"""Room features, one module each, wired to the room core through hooks.

:func:`install` registers every feature on a bus and its owner-form fields
on a registry. Order doesn't matter: priorities decide (see ``muc.hooks``).
"""

from __future__ import annotations

from muc.features import (
    anonymity,
    banned,
    history,
    identity,
    invitations,
    locked,
    max_users,
    members_only,
    message_size,
    moderated,
    nick_conflict,
    nick_rules,
    password,
    presence_broadcast,
    private_messages,
    slow_mode,
    subject,
    voice_requests,
)
from muc.hooks import HookBus
from muc.roomconfig import FieldRegistry

ALL = (
    anonymity,
    identity,
    nick_rules,
    locked,
    banned,
    members_only,
    password,
    nick_conflict,
    max_users,
    message_size,
    moderated,
    subject,
    history,
    private_messages,
    presence_broadcast,
    slow_mode,
    invitations,
    voice_requests,
)


def install(bus: HookBus, fields: FieldRegistry) -> None:
    """Hook every feature into ``bus`` and declare its form fields in ``fields``."""
    for feature in ALL:
        feature.register(bus)
        fields.add(*getattr(feature, "FIELDS", ()))
