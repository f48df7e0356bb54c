"""Password-protected rooms (XEP-0045 §7.2.5).

§7.2.5: "If the room requires a password and the user did not supply one (or
the password provided is incorrect), the service MUST deny access to the room
and inform the user that they are unauthorized; this is done by returning a
presence stanza of type 'error' specifying a <not-authorized/> error".
Owners and admins enter without it.
"""

from __future__ import annotations

import hmac

from muc.errors import MucError
from muc.hooks import HookBus
from muc.roles import Affiliation
from muc.room import JoinRequest
from muc.roomconfig import FieldSpec

FIELDS = (
    FieldSpec("muc#roomconfig_roomsecret", "password", "text-private",
              "Password (empty: none)"),
)


def check_password(req: JoinRequest) -> None:
    """pre-join -20."""
    expected = req.room.config.password
    if not expected or req.affiliation.rank >= Affiliation.ADMIN.rank:
        return
    given = req.password or ""
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise MucError("not-authorized",
                       "This room needs a password." if not given else "Wrong room password.")


def register(bus: HookBus) -> None:
    bus.add("pre-join", check_password, priority=-20)
