"""Service discovery (XEP-0030) for the service and its rooms, XEP-0045 §6.

Built with slixmpp's disco, data-form (XEP-0004/XEP-0128) and RSM (XEP-0059)
stanza classes; answered by the router, not slixmpp's disco plugin, because
every room JID is answered dynamically from live state.
"""

from __future__ import annotations

from slixmpp import Iq
from slixmpp.plugins.xep_0004 import Form
from slixmpp.plugins.xep_0030.stanza import DiscoInfo, DiscoItems
from slixmpp.plugins.xep_0059.stanza import Set
from slixmpp.xmlstream import register_stanza_plugin

from component.adhoc import NS_COMMANDS, AdhocCommands
from muc.errors import MucError
from muc.roles import Affiliation
from muc.room import Room
from muc.roomconfig import ROOMINFO_TYPE
from muc.service import MucService

NS_INFO = "http://jabber.org/protocol/disco#info"
NS_ITEMS = "http://jabber.org/protocol/disco#items"
NS_MUC = "http://jabber.org/protocol/muc"

MAX_PAGE = 100  # XEP-0059: the most items one disco#items page carries

SERVICE_FEATURES = (
    NS_MUC,
    NS_INFO,
    NS_ITEMS,
    "http://jabber.org/protocol/rsm",
    "urn:xmpp:ping",
    "urn:xmpp:occupant-id:0",
    "urn:xmpp:sid:0",
)


def register() -> None:
    """Make the disco payloads available on Iq (called once at start-up)."""
    register_stanza_plugin(Iq, DiscoInfo)
    register_stanza_plugin(Iq, DiscoItems)
    register_stanza_plugin(DiscoItems, Set)
    register_stanza_plugin(DiscoInfo, Form, iterable=True)


def service_info(iq: Iq, service: MucService) -> None:
    """§6.2: identity conference/text and the service's features."""
    if iq["disco_info"]["node"]:
        raise MucError("item-not-found", "This service has no disco nodes.")
    reply = iq.reply(clear=True)
    info = reply["disco_info"]
    info.add_identity("conference", "text", name=service.settings.name)
    for feature in SERVICE_FEATURES:
        info.add_feature(feature)
    reply.send()


def service_items(iq: Iq, service: MucService) -> None:
    """§6.3: the public rooms, paged with XEP-0059 RSM."""
    rooms = service.public_rooms()
    req = iq["disco_items"]
    rsm = req.xml.find("{http://jabber.org/protocol/rsm}set")
    start, end = 0, len(rooms)
    if rsm is not None:
        rset = req["rsm"]
        try:
            page = min(int(rset["max"]), MAX_PAGE) if rset["max"] else MAX_PAGE
        except ValueError as exc:
            raise MucError("bad-request", "RSM <max/> must be a number.") from exc
        jids = [r.jid for r in rooms]
        if rset["after"]:
            if rset["after"] not in jids:
                raise MucError("item-not-found", "The RSM 'after' item is not in the list.")
            start = jids.index(rset["after"]) + 1
            end = min(start + page, len(rooms))
        elif rset.xml.find("{http://jabber.org/protocol/rsm}before") is not None:
            before = rset["before"]
            if before and before not in jids:
                raise MucError("item-not-found", "The RSM 'before' item is not in the list.")
            end = jids.index(before) if before else len(rooms)
            start = max(end - page, 0)
        else:
            end = min(page, len(rooms))
    reply = iq.reply(clear=True)
    items = reply["disco_items"]
    page_rooms = rooms[start:end]
    for room in page_rooms:
        items.add_item(room.jid, name=room.config.name or room.jid.split("@")[0])
    if rsm is not None:
        out = items["rsm"]
        out["count"] = str(len(rooms))
        if page_rooms:
            out["first"] = page_rooms[0].jid
            out["first_index"] = str(start)
            out["last"] = page_rooms[-1].jid
    reply.send()


def room_features(room: Room) -> list[str]:
    """§6.4 features, one of each pair, from the room's live config."""
    c = room.config
    return [
        NS_MUC,
        NS_INFO,
        NS_ITEMS,
        "urn:xmpp:ping",
        "urn:xmpp:occupant-id:0",
        "urn:xmpp:sid:0",
        "http://jabber.org/protocol/muc#stable_id",
        "urn:xmpp:message-moderate:1",
        "urn:xmpp:message-moderate:0",
        "urn:xmpp:message-retract:1",
        "urn:xmpp:hats:0",
        *(("urn:xmpp:mam:2", "urn:xmpp:mam:2#extended", "urn:xmpp:mam:1")
          if c.logging else ()),
        NS_COMMANDS,
        "muc_public" if c.public else "muc_hidden",
        "muc_persistent" if c.persistent else "muc_temporary",
        "muc_membersonly" if c.members_only else "muc_open",
        "muc_moderated" if c.moderated else "muc_unmoderated",
        "muc_nonanonymous" if c.non_anonymous else "muc_semianonymous",
        "muc_passwordprotected" if c.password else "muc_unsecured",
    ]


def room_info(iq: Iq, service: MucService, room: Room, commands: AdhocCommands) -> None:
    """§6.4: identity, features and the ``muc#roominfo`` form (or a command node's
    identity, XEP-0050 §2.2)."""
    if room.locked and room.affiliation_of(iq["from"].bare) is not Affiliation.OWNER:
        raise MucError("item-not-found", f"There is no room called {room.jid}.")
    node = iq["disco_info"]["node"]
    if node:
        cmd = next((c for c in commands.listed(room, iq["from"].full) if c.node == node), None)
        if cmd is None:
            raise MucError("item-not-found", "This room has no such disco node.")
        reply = iq.reply(clear=True)
        reply["disco_info"]["node"] = node
        reply["disco_info"].add_identity("automation", "command-node", name=cmd.name)
        reply["disco_info"].add_feature(NS_COMMANDS)
        reply["disco_info"].add_feature("jabber:x:data")
        reply.send()
        return
    reply = iq.reply(clear=True)
    info = reply["disco_info"]
    info.add_identity("conference", "text", name=room.config.name or room.jid.split("@")[0])
    for feature in room_features(room):
        info.add_feature(feature)
    form = Form()
    form["type"] = "result"
    form.add_field(var="FORM_TYPE", ftype="hidden", value=ROOMINFO_TYPE)
    for spec in service.fields.roominfo():
        values = spec.current(room.config)
        if spec.ftype in ("jid-multi", "text-multi"):
            form.add_field(var=spec.roominfo, ftype=spec.ftype, label=spec.label, value=values)
        else:
            form.add_field(var=spec.roominfo, label=spec.label, value=values[0])
    form.add_field(var="muc#roominfo_subject", label="Current subject", value=room.subject)
    form.add_field(var="muc#roominfo_subjectmod", ftype="boolean",
                   label="Occupants may change the subject", value=room.config.change_subject)
    form.add_field(var="muc#roominfo_occupants", label="Number of occupants",
                   value=str(room.occupant_count))
    form.add_field(var="muc#maxhistoryfetch", label="Messages of history on entering",
                   value=str(room.config.history_length))
    form.add_field(var="muc#roomconfig_allowpm", label="Who may send private messages",
                   value=room.config.allowpm)
    info.append(form)
    reply.send()


def room_items(iq: Iq, room: Room, commands: AdhocCommands) -> None:
    """§6.5: occupants are not listed, so nicknames can't be collected unseen.

    §6.5: "the service MAY return an empty <query/> element"; Haven always does,
    for every room, whatever the requester's role. On the node
    ``http://jabber.org/protocol/commands`` it lists the ad-hoc commands the
    requester may run (XEP-0050 §2.1).
    """
    node = iq["disco_items"]["node"]
    reply = iq.reply(clear=True)
    items = reply["disco_items"]
    if node == NS_COMMANDS:
        items["node"] = node
        for cmd in commands.listed(room, iq["from"].full):
            items.add_item(room.jid, node=cmd.node, name=cmd.name)
    elif node:
        raise MucError("item-not-found", "This room has no such disco node.")
    else:
        reply.enable("disco_items")
    reply.send()
