"""Whose presence the room broadcasts (``muc#roomconfig_presencebroadcast``, XEP-0045 §10.2).

A list of roles; an occupant whose role is not on it is seen only by
moderators (and itself). Removing ``visitor`` lets newcomers lurk unseen in
a moderated room until a moderator gives them voice. The rule is applied in
:meth:`muc.room.Room._presence_to`; this module owns the form field.
"""

from __future__ import annotations

from muc.hooks import HookBus
from muc.roomconfig import FieldSpec

ROLES = ("moderator", "participant", "visitor")


def _valid(value: object) -> str | None:
    unknown = [v for v in value if v not in ROLES] if isinstance(value, list) else []
    return f"unknown role(s): {', '.join(unknown)}" if unknown else None


FIELDS = (
    FieldSpec("muc#roomconfig_presencebroadcast", "presence_broadcast", "list-multi",
              "Roles whose presence is shown to everyone",
              options=tuple((r, r.capitalize()) for r in ROLES), validate=_valid),
)


def register(bus: HookBus) -> None:
    """No hooks: the room core reads the setting."""
