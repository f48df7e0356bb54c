"""Nickname rules on entering and on changing nickname (XEP-0045 §7.2.1, §7.6).

The nickname is enforced per the PRECIS Nickname profile (RFC 8266, see
:mod:`muc.nick`); if enforcement changed it, the occupant gets the enforced
nick and status 210. §7.6.3: "If the service modifies the user's nickname in
accordance with local service policies, it MUST include a MUC status code of
210 in the presence stanza sent to the user."
"""

from __future__ import annotations

from muc.errors import MucError
from muc.hooks import HookBus
from muc.nick import NickError, enforce
from muc.room import JoinRequest


def check_nick(req: JoinRequest) -> None:
    """pre-join 2: an empty or unusable nickname is ``jid-malformed`` (§7.2.1)."""
    try:
        req.nick = enforce(req.nick)
    except NickError as exc:
        raise MucError("jid-malformed", str(exc)) from exc


def register(bus: HookBus) -> None:
    bus.add("pre-join", check_nick, priority=2)
