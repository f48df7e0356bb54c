"""The room subject: sent last on entering, changed by who the room allows.

XEP-0045 §7.2.15: "After the room has optionally sent the discussion history to
the new occupant, it SHALL send the current room subject … In addition, the
subject SHOULD be stamped with XEP-0203 information … to indicate the time at
which the subject was last modified. … If there is no subject set, the room
MUST return an empty <subject/> element."

§8.1: "only a message that contains a <subject/> but no <body/> element shall
be considered a subject change" (nor one with a <thread/>); "If someone without
appropriate privileges attempts to change the room subject, the service MUST
return a message of type "error" specifying a <forbidden/> error condition"
(``muc#roomconfig_changesubject`` lets participants do it).
"""

from __future__ import annotations

from muc.errors import MucError
from muc.hooks import HookBus
from muc.roles import Role
from muc.room import GroupchatContext, Joined
from muc.roomconfig import FieldSpec

FIELDS = (
    FieldSpec("muc#roomconfig_changesubject", "change_subject", "boolean",
              "Participants may change the subject"),
)


def change_subject(ctx: GroupchatContext) -> bool | None:
    """groupchat 20: a message with <subject/> and no body is a subject change."""
    if ctx.subject is None or ctx.body is not None:
        return None
    o = ctx.occupant
    allowed = o.role is Role.MODERATOR or (
        ctx.room.config.change_subject and o.role is Role.PARTICIPANT
    )
    if not allowed:
        raise MucError("forbidden", "Only moderators may change the subject of this room.")
    ctx.room.set_subject(o, ctx.subject, ctx.payload)
    return True


def send_subject(ev: Joined) -> None:
    """joined 20: the subject, the last step of entering (§7.1 item 4)."""
    room = ev.room
    frm = room.occupant_jid(room.subject_from) if room.subject_from else room.jid
    room.sender.subject(ev.jid, frm, room.subject, room.subject_at, room.jid)


def register(bus: HookBus) -> None:
    bus.add("groupchat", change_subject, priority=20)
    bus.add("joined", send_subject, priority=20)
