"""Role and affiliation changes and the admin lists (``muc#admin``), XEP-0045 §8–§10.

One request may carry several items (§9.5, §10.5: "modify … list"); every
item is checked first, then all are applied, so a request is all or nothing.
Who may do what follows the privilege tables of §5.1.1 and §5.2.1:

- moderators kick (role none, §8.2), grant and revoke voice (§8.3, §8.4) and
  read the voice list (§8.5), but never touch an admin or owner (``not-allowed``);
- admins (and owners) ban (§9.1), grant and revoke membership (§9.3, §9.4),
  grant and revoke moderator (§9.6, §9.7), read the ban, member and moderator
  lists (§9.2, §9.5, §9.8); an admin can't change an admin or owner;
- owners grant and revoke admin and owner (§10.3–§10.8) and read those lists;
  a room keeps at least one owner (§10.4, ``conflict``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from muc.errors import MucError
from muc.nick import NickError
from muc.occupant import Occupant
from muc.roles import Affiliation, Role, default_role
from muc.room import Room, bare

BANNED = 301
KICKED = 307
AFFILIATION_REMOVED = 321


@dataclass(frozen=True)
class AdminItem:
    """One ``<item/>`` of a ``muc#admin`` set request."""

    jid: str | None = None
    nick: str | None = None
    role: str | None = None
    affiliation: str | None = None
    reason: str | None = None
    occupant_id: str | None = None  # Haven: target by XEP-0421 occupant-id


@dataclass(frozen=True)
class ListEntry:
    """One ``<item/>`` of a ``muc#admin`` list result."""

    jid: str | None
    nick: str | None
    role: str | None
    affiliation: str | None
    reason: str | None = None


@dataclass
class _Actor:
    jid: str
    affiliation: Affiliation
    occupant: Occupant | None

    @property
    def nick(self) -> str | None:
        return self.occupant.nick if self.occupant else None

    @property
    def is_moderator(self) -> bool:
        return self.occupant is not None and self.occupant.role is Role.MODERATOR


@dataclass
class _Change:
    item: AdminItem
    target_jid: str | None = None  # bare JID (affiliation changes)
    occupant: Occupant | None = None  # role changes, or the affiliated occupant if present
    role: Role | None = None
    affiliation: Affiliation | None = None
    extra: list[Occupant] = field(default_factory=list)


def _actor(room: Room, actor_jid: str) -> _Actor:
    return _Actor(actor_jid, room.affiliation_of(bare(actor_jid)),
                  room.occupant_by_jid(actor_jid))


def _parse_role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError as exc:
        raise MucError("bad-request", f"'{value}' is not a role.") from exc


def _parse_affiliation(value: str) -> Affiliation:
    try:
        return Affiliation(value)
    except ValueError as exc:
        raise MucError("bad-request", f"'{value}' is not an affiliation.") from exc


def _stored_owners(room: Room) -> set[str]:
    return {j for j, a in room.affiliations.items() if a is Affiliation.OWNER}


def _plan_role(room: Room, actor: _Actor, item: AdminItem) -> _Change:
    """Check one role change (§8.2–§8.4, §9.6–§9.7)."""
    role = _parse_role(item.role or "")
    if item.nick:
        target = room.occupant_by_nick(item.nick)
        if target is None:
            raise MucError("item-not-found", f"Nobody called '{item.nick}' is in this room.")
    elif item.jid:
        target = next((o for o in room.occupants() if o.bare_jid == bare(item.jid)), None)
        if target is None:
            raise MucError("item-not-found", "That person is not in this room.")
    else:
        raise MucError("bad-request", "A role change needs the occupant's nick.")
    if not actor.is_moderator:
        raise MucError("forbidden", "Only moderators can change roles in this room.")
    if role is Role.NONE:
        # §8.2: "A user cannot be kicked by a moderator with a lower affiliation"
        # (not-allowed); kicking oneself MAY be refused with conflict.
        if target is actor.occupant:
            raise MucError("conflict", "You can't kick yourself; leave the room instead.")
        if actor.affiliation.rank < target.affiliation.rank:
            raise MucError("not-allowed", f"{target.nick} has a higher affiliation than you "
                                          f"and can't be kicked by you.")
        if target.role is Role.MODERATOR and actor.affiliation.rank < Affiliation.ADMIN.rank:
            # §5.1.1: moderators "Kick Participants and Visitors"; a moderator is
            # removed only "by an admin or owner" (§5.1.3).
            raise MucError("not-allowed", f"{target.nick} is a moderator; only the room's "
                                          f"admins and owners can kick moderators.")
        return _Change(item, occupant=target, role=role)
    lowering = role.rank < target.role.rank
    if lowering and target.affiliation.rank >= Affiliation.ADMIN.rank:
        # §8.4: "a service MUST NOT allow the voice privileges of an admin or owner to be
        # removed by anyone … return a <not-allowed/> error".
        raise MucError("not-allowed", f"{target.nick} is an admin or owner of this room; "
                                      f"their role can't be lowered.")
    at_or_above = target.affiliation.rank >= actor.affiliation.rank and target is not actor.occupant
    if role is Role.VISITOR and lowering and at_or_above:
        # §8.4 (revoking voice): "A moderator MUST NOT be able to revoke voice from a user
        # whose affiliation is at or above the moderator's level" (not-allowed).
        raise MucError("not-allowed", f"{target.nick}'s voice can't be revoked by you (their "
                                      f"affiliation is at or above yours).")
    touches_moderator = Role.MODERATOR in (role, target.role) and role is not target.role
    if touches_moderator and actor.affiliation.rank < Affiliation.ADMIN.rank:
        raise MucError("forbidden", "Only the room's admins and owners can grant or revoke "
                                    "moderator status.")
    if lowering and at_or_above:
        # §8.4: "A moderator MUST NOT be able to revoke voice from a user whose
        # affiliation is at or above the moderator's level … nor … of an admin or owner".
        raise MucError("not-allowed", f"{target.nick}'s role can't be lowered by you (their "
                                      f"affiliation is at or above yours).")
    return _Change(item, occupant=target, role=role)


def _affiliation_target(room: Room, item: AdminItem) -> str:
    """The bare JID an affiliation item is about.

    Besides the standard ``jid``, Haven accepts a ``nick`` of someone present or
    seen in recent messages, or an XEP-0421 ``occupant-id``: in a semi-anonymous
    room this lets a moderator ban someone who already left without ever
    learning (or needing) their address.
    """
    if item.jid:
        return bare(item.jid)
    if item.occupant_id:
        present = next((o for o in room.occupants() if o.occupant_id == item.occupant_id),
                       None)
        jid = present.bare_jid if present else room.recent.jid_for_occupant_id(item.occupant_id)
        if jid is None:
            raise MucError("item-not-found", "No recent message or occupant has that "
                                             "occupant-id.")
        return jid
    if item.nick:
        occupant = room.occupant_by_nick(item.nick)
        if occupant is not None:
            return occupant.bare_jid
        try:
            jid = room.recent.jid_for_nick(item.nick)
        except NickError:
            jid = None
        if jid is None:
            raise MucError("item-not-found", f"Nobody called '{item.nick}' is here or wrote "
                                             f"here recently.")
        return jid
    raise MucError("bad-request", "An affiliation change needs a jid, a nick or an "
                                  "occupant-id.")


def _plan_affiliation(room: Room, actor: _Actor, item: AdminItem) -> _Change:
    """Check one affiliation change (§9.1, §9.3–§9.4, §10.3–§10.8)."""
    new = _parse_affiliation(item.affiliation or "")
    target_jid = _affiliation_target(room, item)
    if actor.affiliation.rank < Affiliation.ADMIN.rank:
        raise MucError("forbidden", "Only the room's admins and owners can change affiliations.")
    if new is Affiliation.OUTCAST and target_jid == bare(actor.jid):
        # §9.1: "If an admin or owner attempts to ban himself, the service MUST deny
        # the request and return a <conflict/> error".
        raise MucError("conflict", "You can't ban yourself.")
    current = room.affiliation_of(target_jid)
    if room.settings.is_admin(target_jid):
        raise MucError("not-allowed", "Service administrators own every room; their "
                                      "affiliation can't be changed here.")
    is_owner = actor.affiliation is Affiliation.OWNER
    touches_staff = max(new.rank, current.rank) >= Affiliation.ADMIN.rank
    if touches_staff and not is_owner:
        if new is Affiliation.OUTCAST:
            # §9.1: "if an admin attempts to ban an owner, the service MUST deny the
            # request and return a <not-allowed/> error".
            raise MucError("not-allowed", "An admin can't ban an admin or owner.")
        # §10.3–§10.8 are owner use cases: "If the <user@host> of the 'from' address does
        # not match the bare JID of a room owner, the service MUST return a <forbidden/>".
        raise MucError("forbidden", "Only owners can grant or revoke admin or owner status.")
    if current is Affiliation.OWNER and new is not Affiliation.OWNER \
            and _stored_owners(room) == {target_jid}:
        raise MucError("conflict", "The room must keep at least one owner; make someone else "
                                   "an owner first.")
    present = [o for o in room.occupants() if o.bare_jid == target_jid]
    return _Change(item, target_jid=target_jid, affiliation=new, extra=present)


def admin_set(room: Room, actor_jid: str, items: list[AdminItem]) -> None:
    """A ``muc#admin`` set: check every item, then apply them all (all or nothing)."""
    if not items:
        raise MucError("bad-request", "The request has no <item/>.")
    actor = _actor(room, actor_jid)
    plan: list[_Change] = []
    for item in items:
        if item.role and item.affiliation:
            raise MucError("bad-request", "An item changes a role or an affiliation, not both.")
        if item.role:
            plan.append(_plan_role(room, actor, item))
        elif item.affiliation:
            plan.append(_plan_affiliation(room, actor, item))
        else:
            raise MucError("bad-request", "Each item needs a role or an affiliation.")
    owners = _stored_owners(room)
    if owners:
        after = set(owners)
        for change in plan:
            if change.affiliation is Affiliation.OWNER and change.target_jid:
                after.add(change.target_jid)
            elif change.affiliation is not None:
                after.discard(change.target_jid or "")
        if not after:
            # §10.4: every room keeps at least one owner, whatever the request holds.
            raise MucError("conflict", "The room must keep at least one owner; make someone "
                                       "else an owner first.")
    for change in plan:
        if change.role is not None:
            _apply_role(room, actor, change)
            o = change.occupant
            assert o is not None
            room.audit(actor.jid, "kick" if change.role is Role.NONE else "role",
                       target=o.bare_jid, reason=change.item.reason, nick=o.nick,
                       role=change.role.value)
        else:
            _apply_affiliation(room, actor, change)
            assert change.affiliation is not None
            room.audit(actor.jid,
                       "ban" if change.affiliation is Affiliation.OUTCAST else "affiliation",
                       target=change.target_jid, reason=change.item.reason,
                       affiliation=change.affiliation.value)


def _apply_role(room: Room, actor: _Actor, change: _Change) -> None:
    o, role, reason = change.occupant, change.role, change.item.reason
    assert o is not None and role is not None
    if room.occupant_by_nick(o.nick) is not o:
        return  # kicked or banned by an earlier item of the same request
    if role is Role.NONE:
        room.remove_occupant(o, (KICKED,), reason=reason, actor_nick=actor.nick)
        return
    if o.role is role:
        return
    o.role = role
    room.broadcast_presence(o, reason=reason, actor_nick=actor.nick)


def _apply_affiliation(room: Room, actor: _Actor, change: _Change) -> None:
    new, jid, reason = change.affiliation, change.target_jid, change.item.reason or ""
    assert new is not None and jid is not None
    room.set_affiliation(jid, new, reason)
    for o in change.extra:
        if room.occupant_by_nick(o.nick) is not o:
            continue
        old, o.affiliation = o.affiliation, new
        if new is Affiliation.OUTCAST:
            room.remove_occupant(o, (BANNED,), reason=reason or None, actor_nick=actor.nick)
            continue
        if room.config.members_only and new.rank < Affiliation.MEMBER.rank:
            room.remove_occupant(o, (AFFILIATION_REMOVED,), reason=reason or None,
                                 actor_nick=actor.nick)
            continue
        o.role = _role_after(o, old, new, room.config.moderated)
        room.broadcast_presence(o, reason=reason or None, actor_nick=actor.nick)


def _role_after(o: Occupant, old: Affiliation, affiliation: Affiliation,
                moderated: bool) -> Role:
    """The role that goes with a new affiliation (§5.1.2), keeping granted voice/moderator."""
    base = default_role(affiliation, moderated)
    if base is Role.MODERATOR:
        return base
    if old.rank >= Affiliation.ADMIN.rank:
        return base  # an ex-admin loses the moderator role that came with it
    return Role(max(o.role, base, key=lambda r: r.rank))


def admin_list(room: Room, actor_jid: str, *, role: str | None = None,
               affiliation: str | None = None) -> list[ListEntry]:
    """A ``muc#admin`` get: the voice or moderator list (by role), or the ban,
    member, admin or owner list (by affiliation)."""
    actor = _actor(room, actor_jid)
    if role:
        wanted = _parse_role(role)
        if wanted not in (Role.PARTICIPANT, Role.MODERATOR):
            raise MucError("bad-request", "Only the voice and moderator lists can be requested.")
        if not actor.is_moderator:
            raise MucError("forbidden", "Only moderators can see that list.")
        if wanted is Role.MODERATOR and actor.affiliation.rank < Affiliation.ADMIN.rank:
            # §9.8: the moderator list is an admin use case.
            raise MucError("forbidden", "Only the room's admins and owners can see the "
                                        "moderator list.")
        return [ListEntry(o.bare_jid, o.nick, o.role.value, o.affiliation.value)
                for o in room.occupants() if o.role is wanted]
    if not affiliation:
        raise MucError("bad-request", "Ask for a list by role or by affiliation.")
    aff = _parse_affiliation(affiliation)
    if aff is Affiliation.NONE:
        raise MucError("bad-request", "There is no list of unaffiliated users.")
    needed = Affiliation.OWNER if aff.rank >= Affiliation.ADMIN.rank else Affiliation.ADMIN
    nicks = {o.bare_jid: o.nick for o in room.occupants()}
    reasons = room.affiliation_reasons
    if actor.affiliation.rank < needed.rank:
        occupant = actor.occupant
        if aff is Affiliation.MEMBER and occupant is not None \
                and occupant.role.value in room.config.getmemberlist:
            # §7.11: "If allowed in accordance with room configuration, an occupant MAY
            # be allowed to retrieve the list of room members". Real JIDs only go to
            # whoever may see them (§7.2.4): others get the members' nicknames.
            show = room.config.non_anonymous or occupant.is_moderator
            return [ListEntry(jid if show else None, nicks.get(jid), None, a.value)
                    for jid, a in sorted(room.affiliations.items())
                    if a is aff and (show or jid in nicks)]
        raise MucError("forbidden", f"Only the room's {needed.value}s can see that list.")
    return [ListEntry(jid, nicks.get(jid), None, a.value, reasons.get(jid) or None)
            for jid, a in sorted(room.affiliations.items()) if a is aff]
