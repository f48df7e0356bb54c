"""Whose presence the room broadcasts (``muc#roomconfig_presencebroadcast``, XEP-0045 §10.2).

A list of roles; an occupant whose role is not on it is seen only by
moderators (and itself). Removing ``visitor`` lets newcomers lurk unseen in
a moderated room until a moderator gives them voice. The rule is applied in
:meth:`muc.room.Room._presence_to`; this module owns the form field.
"""

from __future__ import annotations

from muc.hooks import HookBus
from muc.roles import OCCUPANT_ROLES, valid_roles
from muc.roomconfig import FieldSpec

FIELDS = (
    FieldSpec("muc#roomconfig_presencebroadcast", "presence_broadcast", "list-multi",
              "Roles whose presence is shown to everyone",
              options=tuple((r, r.capitalize()) for r in OCCUPANT_ROLES), validate=valid_roles),
)


def register(bus: HookBus) -> None:
    """No hooks: the room core reads the setting."""
