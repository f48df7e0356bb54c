"""The owner's room configuration form and room destruction, XEP-0045 §10.

§10.1.2 instant room (an empty ``submit``), §10.1.3 reserved room (get the
form, submit it, or ``cancel``), §10.2 subsequent configuration, §10.9
destroying a room. Forms are slixmpp XEP-0004 ``Form`` stanzas; fields come
from the feature modules (:mod:`muc.roomconfig`).
"""

from __future__ import annotations

from slixmpp import Iq
from slixmpp.plugins.xep_0004 import Form

from muc.errors import MucError
from muc.room import Room
from muc.roomconfig import FORM_TYPE
from muc.service import MucService

NS_OWNER = "http://jabber.org/protocol/muc#owner"
NS_DATA = "jabber:x:data"


def config_form(service: MucService, room: Room) -> Form:
    """§10.2: the form with every field's current value."""
    form = Form()
    form["type"] = "form"
    form["title"] = f"Configuration of {room.config.name or room.jid}"
    form["instructions"] = ("Set up this room. Haven rooms are semi-anonymous by default: "
                            "only moderators see members' addresses.")
    form.add_field(var="FORM_TYPE", ftype="hidden", value=FORM_TYPE)
    for spec in service.fields:
        values = spec.current(room.config)
        multi = spec.ftype in ("jid-multi", "text-multi", "list-multi")
        field = form.add_field(var=spec.var, ftype=spec.ftype, label=spec.label,
                               value=values if multi else values[0])
        for value, label in spec.options:
            field.add_option(label=label, value=value)
    return form


def submitted_values(x: object) -> dict[str, list[str]]:
    """Raw string values of a submitted form, by field var (no type coercion)."""
    values: dict[str, list[str]] = {}
    for field in x.findall(f"{{{NS_DATA}}}field"):  # type: ignore[attr-defined]
        var = field.get("var")
        if not var:
            raise MucError("bad-request", "Every submitted form field needs a 'var'.")
        values[var] = [v.text or "" for v in field.findall(f"{{{NS_DATA}}}value")]
    return values


def handle(iq: Iq, service: MucService, room: Room) -> None:
    """A ``muc#owner`` query: get the form, submit/cancel it, or destroy the room."""
    requester = iq["from"].full
    query = iq.xml.find(f"{{{NS_OWNER}}}query")
    x = query.find(f"{{{NS_DATA}}}x")
    destroy = query.find(f"{{{NS_OWNER}}}destroy")
    if iq["type"] == "get":
        service.require_owner(room.jid, requester)
        reply = iq.reply(clear=True)
        reply_query = reply.xml.makeelement(f"{{{NS_OWNER}}}query", {})
        reply_query.append(config_form(service, room).xml)
        reply.xml.append(reply_query)
        reply.send()
        return
    if destroy is not None:
        reason_el = destroy.find(f"{{{NS_OWNER}}}reason")
        password_el = destroy.find(f"{{{NS_OWNER}}}password")
        service.destroy(room.jid, requester,
                        reason=reason_el.text if reason_el is not None else None,
                        alternate=destroy.get("jid") or None,
                        password=password_el.text if password_el is not None else None)
    elif x is not None and x.get("type") == "cancel":
        service.cancel_config(room.jid, requester)
    elif x is not None and x.get("type") == "submit":
        values = submitted_values(x)
        form_type = values.get("FORM_TYPE")
        if form_type and form_type != [FORM_TYPE]:
            raise MucError("bad-request", f"This is not a {FORM_TYPE} form.")
        service.submit_config(room.jid, requester, values)
    else:
        raise MucError("bad-request",
                       "Expected a submitted or cancelled data form, or <destroy/>.")
    iq.reply(clear=True).send()
