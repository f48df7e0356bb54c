"""Voice requests from visitors and their approval, XEP-0045 §7.13 and §8.6.

§7.13: "To request voice, a visitor SHOULD send a <message/> stanza containing
a data form to the room itself". §8.6: "The service then SHOULD forward the
request to the room's moderator(s)" as a form with ``muc#request_allow``; a
moderator who submits it with that field true grants voice. Requests are
limited to one per occupant every ``REQUEST_INTERVAL`` seconds, so moderators
can't be flooded.
"""

from __future__ import annotations

from muc.admin import AdminItem, admin_set
from muc.errors import MucError
from muc.hooks import HookBus
from muc.roles import Role
from muc.room import Room

REQUEST_INTERVAL = 300


def request_voice(room: Room, jid: str) -> None:
    """A visitor asks for voice; every moderator session gets the approval form."""
    o = room.occupant_by_jid(jid)
    if o is None:
        raise MucError("not-acceptable", "Join the room before asking for voice.")
    if o.role is not Role.VISITOR:
        raise MucError("not-acceptable", "You can already speak in this room.")
    now = room.clock.now().timestamp()
    if o.voice_requested and now - o.voice_requested < REQUEST_INTERVAL:
        wait = int(REQUEST_INTERVAL - (now - o.voice_requested))
        raise MucError("policy-violation", f"You asked for voice recently; the moderators have "
                                           f"been told. You can ask again in {wait} seconds.")
    moderators = [to for m in room.occupants() if m.role is Role.MODERATOR for to in m.sessions]
    if not moderators:
        raise MucError("service-unavailable", "No moderator is in the room right now; please "
                                              "try again later.")
    o.voice_requested = now
    for to in moderators:
        room.sender.voice_request(to, room.jid, o.shown_jid(), o.nick)


def answer_voice_request(room: Room, moderator_jid: str, nick: str, allow: bool) -> None:
    """A moderator submitted the approval form (§8.6)."""
    if not allow:
        return
    admin_set(room, moderator_jid, [AdminItem(nick=nick, role="participant",
                                              reason="Voice request approved")])


def register(bus: HookBus) -> None:
    """No hooks: requests arrive as data-form messages (see MucService)."""
