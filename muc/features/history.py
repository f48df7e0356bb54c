"""Discussion history on entering (XEP-0045 §7.2.13–§7.2.14).

History is sent after the self-presence and before the subject, each message
with XEP-0203 delay from the room's bare JID, within the joiner's
``<history/>`` limits and the room's ``muc#maxhistoryfetch``.
"""

from __future__ import annotations

from muc.hooks import HookBus
from muc.room import Joined
from muc.roomconfig import FieldSpec


def _valid_length(value: object) -> str | None:
    if isinstance(value, int) and value > 1000:
        return "at most 1000 messages"
    return None


FIELDS = (
    FieldSpec("muc#maxhistoryfetch", "history_length", "text-single",
              "Messages of history sent on entering", validate=_valid_length),
    FieldSpec("haven#retention", "retention_days", "text-single",
              "Days the archive keeps messages (0: the service's default)"),
)


def send_history(ev: Joined) -> None:
    """joined 50."""
    room = ev.room
    limit = min(room.config.history_length, room.settings.max_history_fetch)
    for entry in room.history.select(ev.history, room.clock.now(), limit):
        room.sender.history(ev.jid, entry.stanza, entry.stamp, room.jid)


def register(bus: HookBus) -> None:
    bus.add("joined", send_history, priority=50)
