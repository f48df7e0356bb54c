"""Moderated message retraction, XEP-0425 (``urn:xmpp:message-moderate:1`` and ``:0``).

XEP-0425 §3: "If the moderator is allowed to moderate the message, the MUC
will send a message stanza to all participants (including the moderator),
indicating that the message has been retracted and by whom." §4: the archive
"replaces the message contents … with a <retracted/> element" (a tombstone);
§5: the service "SHOULD prevent further distribution of a moderated retracted
message", so the join history and the archive keep only the tombstone.
"""

from __future__ import annotations

from muc.errors import MucError
from muc.ports import Retraction
from muc.roles import Role
from muc.room import Room


def moderate(room: Room, actor_jid: str, stanza_id: str, reason: str | None) -> None:
    """A moderator retracts the message the room stamped with ``stanza_id``."""
    actor = room.occupant_by_jid(actor_jid)
    if actor is None or actor.role is not Role.MODERATOR:
        raise MucError("forbidden", "Only moderators can retract other people's messages.")
    if not stanza_id:
        raise MucError("bad-request", "Say which message to retract (its stanza-id).")
    sent = room.recent.get(stanza_id)
    if sent is None:
        raise MucError("item-not-found",
                       "No message with that id in this room (or it is too old to retract).")
    now = room.clock.now()
    r = Retraction(room=room.jid, stanza_id=stanza_id, author_nick=sent.nick,
                   author_occupant_id=sent.occupant_id, by=room.occupant_jid(actor.nick),
                   by_occupant_id=actor.occupant_id, reason=reason, stamp=now,
                   message_id=room.new_id())
    room.sender.retraction(room.all_jids(), r)
    tombstone = room.sender.tombstone(r)
    room.history.replace(stanza_id, tombstone)
    sent.retracted = True
    room.store.retract(room.jid, stanza_id, tombstone)
    room.audit(actor_jid, "retract", target=sent.bare_jid, reason=reason,
               stanza_id=stanza_id, nick=sent.nick)
