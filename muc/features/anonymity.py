"""Who sees real JIDs (XEP-0045 §7.2.3 non-anonymous, §7.2.4 semi-anonymous).

The rule itself is :meth:`muc.room.Room.can_see_jids`; this module owns the
``muc#roomconfig_whois`` field. Haven's default is semi-anonymous.
"""

from __future__ import annotations

from muc.config import WHOIS_VALUES
from muc.hooks import HookBus
from muc.roomconfig import FieldSpec

FIELDS = (
    FieldSpec("muc#roomconfig_whois", "whois", "list-single",
              "Who may discover real JIDs",
              options=tuple((v, v.capitalize()) for v in WHOIS_VALUES)),
)


def register(bus: HookBus) -> None:
    """No hooks."""
