"""Mediated invitations and declines, XEP-0045 §7.8.2.

§7.8.2: the room "MUST then add a 'from' address to the <invite/> element
whose value is the bare JID, full JID, or occupant JID of the inviter" (Haven
uses the occupant JID, so an invitation never reveals the inviter's address)
"and … SHOULD add the password if the room is password-protected". "If the
room is members-only, the service MAY also add the invitee to the member
list" (Haven does when ``haven#invitemember`` is on), and "Invitation
privileges in members-only rooms SHOULD be restricted to room admins".
A decline goes back through the room to the inviter's sessions.
"""

from __future__ import annotations

from muc.errors import MucError
from muc.hooks import HookBus
from muc.roles import Affiliation, Role
from muc.room import Room, bare
from muc.roomconfig import FieldSpec

FIELDS = (
    FieldSpec("muc#roomconfig_allowinvites", "allow_invites", "boolean",
              "Occupants may invite others (moderators always may)"),
    FieldSpec("haven#invitemember", "invite_makes_member", "boolean",
              "An invitation to a members-only room makes the invitee a member"),
)


def invite(room: Room, actor_jid: str, invitee: str, reason: str | None) -> None:
    """An occupant invites ``invitee`` (a JID) to the room."""
    o = room.occupant_by_jid(actor_jid)
    if o is None:
        raise MucError("not-acceptable", "Join the room before inviting others to it.")
    if room.config.members_only:
        if o.affiliation.rank < Affiliation.ADMIN.rank:
            raise MucError("forbidden", "In a members-only room only admins and owners can "
                                        "invite people.")
    elif not room.config.allow_invites and o.role is not Role.MODERATOR:
        raise MucError("forbidden", "Only moderators can invite people to this room.")
    target = bare(invitee)
    if room.affiliation_of(target) is Affiliation.OUTCAST:
        raise MucError("not-allowed", "That person is banned from this room.")
    if room.config.members_only and room.config.invite_makes_member \
            and room.affiliation_of(target).rank < Affiliation.MEMBER.rank:
        room.set_affiliation(target, Affiliation.MEMBER, "invited")
    room.sender.invite(invitee, room.jid, room.occupant_jid(o.nick), reason,
                       room.config.password or None)
    room.audit(actor_jid, "invite", target=target, reason=reason)


def decline(room: Room, invitee_jid: str, inviter: str, reason: str | None) -> None:
    """The invitee declines; tell the inviter (an occupant JID of this room)."""
    nick = inviter.split("/", 1)[1] if "/" in inviter else ""
    o = room.occupant_by_nick(nick) if inviter.split("/", 1)[0] == room.jid else None
    if o is None:
        raise MucError("item-not-found", "The person who invited you is no longer in the room.")
    for to in o.sessions:
        room.sender.decline(to, room.jid, bare(invitee_jid), reason)


def register(bus: HookBus) -> None:
    """No hooks: invitations arrive as messages to the room (see MucService.invite)."""
