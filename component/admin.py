"""``muc#admin`` requests: role and affiliation changes and lists, XEP-0045 §8–§10.

Parses ``<query xmlns='http://jabber.org/protocol/muc#admin'>`` with one or
more ``<item/>`` into :class:`muc.admin.AdminItem` and renders list results;
the rules live in :mod:`muc.admin`.
"""

from __future__ import annotations

from xml.etree import ElementTree as ET

from slixmpp import Iq

from muc.admin import AdminItem
from muc.errors import MucError
from muc.room import Room
from muc.service import MucService

NS_ADMIN = "http://jabber.org/protocol/muc#admin"
NS_OCCUPANT_ID = "urn:xmpp:occupant-id:0"


def _items(query: ET.Element) -> list[ET.Element]:
    return query.findall(f"{{{NS_ADMIN}}}item")


def _occupant_id(item: ET.Element) -> str | None:
    """Haven's extension: ``<item affiliation='outcast'><occupant-id id='…'/></item>``."""
    el = item.find(f"{{{NS_OCCUPANT_ID}}}occupant-id")
    return el.get("id") if el is not None else None


def handle(iq: Iq, service: MucService, room: Room) -> None:
    """Answer a ``muc#admin`` get (a list) or set (changes)."""
    query = iq.xml.find(f"{{{NS_ADMIN}}}query")
    assert query is not None
    items = _items(query)
    requester = iq["from"].full
    if iq["type"] == "get":
        if len(items) != 1:
            raise MucError("bad-request", "Ask for one list: <item role='…'/> or "
                                          "<item affiliation='…'/>.")
        entries = service.admin_list(room.jid, requester, role=items[0].get("role"),
                                     affiliation=items[0].get("affiliation"))
        reply = iq.reply(clear=True)
        out = ET.SubElement(reply.xml, f"{{{NS_ADMIN}}}query")
        for e in entries:
            attrs = {k: v for k, v in (("affiliation", e.affiliation), ("role", e.role),
                                       ("jid", e.jid), ("nick", e.nick)) if v}
            item = ET.SubElement(out, f"{{{NS_ADMIN}}}item", attrs)
            if e.reason:
                ET.SubElement(item, f"{{{NS_ADMIN}}}reason").text = e.reason
        reply.send()
        return
    parsed = [
        AdminItem(jid=el.get("jid") or None, nick=el.get("nick") or None,
                  role=el.get("role") or None, affiliation=el.get("affiliation") or None,
                  reason=el.findtext(f"{{{NS_ADMIN}}}reason") or None,
                  occupant_id=_occupant_id(el))
        for el in items
    ]
    service.admin_set(room.jid, requester, parsed)
    iq.reply(clear=True).send()
