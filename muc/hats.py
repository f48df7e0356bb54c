"""Hats: labels such as "Peer supporter" or "Counsellor" worn in a room, XEP-0317.

XEP-0317 §3.1: hats are signalled in the occupant's presence; "Every hat is
uniquely identified by its URI" and carries a title and an optional hue.
Owners and admins define hats (§3.2 create/update, §3.3 destroy) and assign
them to people by bare JID (§3.5 assign, §3.6 remove); "When a hat is
destroyed, it is automatically removed from all the JIDs where it was
assigned", wearers' presence is re-broadcast, and "When any change is
applied to the hats list the room SHOULD broadcast" status 104. Hats and
assignments are part of the room's stored configuration.
"""

from __future__ import annotations

from muc.errors import MucError
from muc.ports import Hat
from muc.roles import Affiliation
from muc.room import Room, bare

MAX_TITLE = 64


def hats(room: Room) -> dict[str, Hat]:
    """The hats defined in ``room``, by URI."""
    return {h["uri"]: Hat(h["uri"], h["title"], h.get("hue")) for h in room.config.hats}


def require_admin(room: Room, actor_jid: str) -> None:
    """Hat commands are for the room's admins and owners (XEP-0317 §3: "Admin")."""
    if room.affiliation_of(bare(actor_jid)).rank < Affiliation.ADMIN.rank:
        raise MucError("forbidden", "Only the room's admins and owners can manage hats.")


def _check_hat(uri: str, title: str, hue: str | None) -> None:
    if not uri or ":" not in uri or any(c.isspace() for c in uri):
        raise MucError("not-acceptable", "A hat needs a URI, e.g. urn:haven:hats:peer-supporter.")
    if not title.strip() or len(title) > MAX_TITLE:
        raise MucError("not-acceptable", f"A hat needs a title of 1 to {MAX_TITLE} characters.")
    if hue:
        try:
            value = float(hue)
        except ValueError as exc:
            raise MucError("not-acceptable", "The hue is an angle from 0 to 360.") from exc
        if not 0 <= value < 360:
            raise MucError("not-acceptable", "The hue is an angle from 0 to 360.")


def _wearers_changed(room: Room, jids: set[str]) -> None:
    for o in list(room.occupants()):
        if o.bare_jid in jids:
            room.broadcast_presence(o)
    room.status_message((104,))
    room.persist()


def define(room: Room, actor_jid: str, uri: str, title: str, hue: str | None) -> None:
    """§3.2: create a hat, or update the one with that URI."""
    require_admin(room, actor_jid)
    _check_hat(uri, title, hue)
    entry = {"uri": uri, "title": title.strip(), "hue": hue or None}
    room.config.hats = [h for h in room.config.hats if h["uri"] != uri] + [entry]
    wearers = {j for j, uris in room.config.hat_assignments.items() if uri in uris}
    room.audit(actor_jid, "hat-define", target=uri, title=title)
    _wearers_changed(room, wearers)


def destroy(room: Room, actor_jid: str, uri: str) -> None:
    """§3.3: remove a hat from the room and from everyone wearing it."""
    require_admin(room, actor_jid)
    if uri not in hats(room):
        raise MucError("item-not-found", "This room has no such hat.")
    room.config.hats = [h for h in room.config.hats if h["uri"] != uri]
    wearers = set()
    for jid, uris in list(room.config.hat_assignments.items()):
        if uri in uris:
            wearers.add(jid)
            rest = [u for u in uris if u != uri]
            if rest:
                room.config.hat_assignments[jid] = rest
            else:
                del room.config.hat_assignments[jid]
    room.audit(actor_jid, "hat-destroy", target=uri)
    _wearers_changed(room, wearers)


def assign(room: Room, actor_jid: str, jid: str, uri: str) -> None:
    """§3.5: put a hat on someone (by bare JID)."""
    require_admin(room, actor_jid)
    if uri not in hats(room):
        raise MucError("item-not-found", "This room has no such hat; create it first.")
    target = bare(jid)
    worn = room.config.hat_assignments.setdefault(target, [])
    if uri not in worn:
        worn.append(uri)
    room.audit(actor_jid, "hat-assign", target=target, hat=uri)
    _wearers_changed(room, {target})


def unassign(room: Room, actor_jid: str, jid: str, uri: str) -> None:
    """§3.6: take a hat off someone."""
    require_admin(room, actor_jid)
    target = bare(jid)
    worn = room.config.hat_assignments.get(target, [])
    if uri not in worn:
        raise MucError("item-not-found", "That person doesn't wear that hat here.")
    worn.remove(uri)
    if not worn:
        del room.config.hat_assignments[target]
    room.audit(actor_jid, "hat-unassign", target=target, hat=uri)
    _wearers_changed(room, {target})


def assigned(room: Room) -> list[tuple[str, Hat]]:
    """§3.7: every (bare JID, hat) pair, for admins."""
    defined = hats(room)
    return [(jid, defined[u]) for jid, uris in sorted(room.config.hat_assignments.items())
            for u in uris if u in defined]
