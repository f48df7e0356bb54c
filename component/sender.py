"""The Sender: turns the domain's output into XML on the component stream.

The hot path (ARCHITECTURE: "Build the outgoing stanza once; per recipient
change only ``to``"): a groupchat message is serialized once, and each copy
is the same string with the recipient's ``to`` spliced in after
``<message``, written with ``send_raw``. Presence payloads arrive already
serialized (see :func:`presence_payload`), so an in-room presence is a few
string joins.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any
from xml.etree import ElementTree as ET
from xml.sax.saxutils import escape, quoteattr

from slixmpp import Message, Presence
from slixmpp.plugins.xep_0004 import Form
from slixmpp.xmlstream import tostring

from muc.ports import OutGroupchat, OutPresence, OutPrivate, Retraction

NS_MUC = "http://jabber.org/protocol/muc"
NS_MUC_USER = "http://jabber.org/protocol/muc#user"
NS_SID = "urn:xmpp:sid:0"
NS_OCCUPANT_ID = "urn:xmpp:occupant-id:0"
NS_DELAY = "urn:xmpp:delay"
NS_ADDRESS = "http://jabber.org/protocol/address"
NS_MUC_REQUEST = "http://jabber.org/protocol/muc#request"
NS_HATS = "urn:xmpp:hats:0"
NS_RETRACT = "urn:xmpp:message-retract:1"
NS_MODERATE = "urn:xmpp:message-moderate:1"
NS_RETRACT_0 = "urn:xmpp:message-retract:0"
NS_MODERATE_0 = "urn:xmpp:message-moderate:0"
NS_FASTEN = "urn:xmpp:fasten:0"

# Children a client may not forge in what the room relays: the room's own
# stanza-id (XEP-0359 §5 "MUST … remove any <stanza-id/> … by the room"),
# occupant-id (XEP-0421 §4 "MUST … remove"), muc#user (items carry real
# JIDs and status codes only the room may set), delay (fake history), and
# extended addresses (XEP-0033 ofrom spoofing), and hats (XEP-0317: only the
# room assigns them).
_STRIP_ALWAYS = {f"{{{NS_OCCUPANT_ID}}}occupant-id", f"{{{NS_MUC_USER}}}x",
                 f"{{{NS_DELAY}}}delay", f"{{{NS_ADDRESS}}}addresses", f"{{{NS_MUC}}}x",
                 "{urn:xmpp:hats:0}hats"}


def stamp(dt: datetime) -> str:
    """XEP-0082 DateTime profile, UTC with 'Z'."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _strip(xml: ET.Element, room: str) -> None:
    for child in list(xml):
        if child.tag in _STRIP_ALWAYS or (
            child.tag == f"{{{NS_SID}}}stanza-id" and child.get("by") in (room, None)
        ):
            xml.remove(child)


def presence_payload(pres: Presence, ns: str) -> str:
    """The presence children an occupant shares with the room, serialized once.

    Drops the MUC join element and anything only the room may set (see
    ``_STRIP_ALWAYS``); keeps show, status, priority, caps, avatars, idle….
    """
    parts = []
    for child in pres.xml:
        if child.tag in _STRIP_ALWAYS or child.tag.endswith("}error"):
            continue
        parts.append(tostring(child, xmlns=ns))
    return "".join(parts)


def _muc_user_x(p: OutPresence) -> str:
    item = p.item
    attrs = f" affiliation={quoteattr(item.affiliation)} role={quoteattr(item.role)}"
    if item.jid:
        attrs += f" jid={quoteattr(item.jid)}"
    if item.nick:
        attrs += f" nick={quoteattr(item.nick)}"
    inner = ""
    if item.actor_nick:
        inner += f"<actor nick={quoteattr(item.actor_nick)}/>"
    if item.reason:
        inner += f"<reason>{escape(item.reason)}</reason>"
    out = f"<x xmlns='{NS_MUC_USER}'><item{attrs}"
    out += f">{inner}</item>" if inner else "/>"
    out += "".join(f"<status code='{c}'/>" for c in p.codes)
    if p.destroy is not None:
        d = p.destroy
        dattr = f" jid={quoteattr(d.jid)}" if d.jid else ""
        dinner = f"<reason>{escape(d.reason)}</reason>" if d.reason else ""
        dinner += f"<password>{escape(d.password)}</password>" if d.password else ""
        out += f"<destroy{dattr}>{dinner}</destroy>" if dinner else f"<destroy{dattr}/>"
    return out + "</x>"


class XmppSender:
    """:class:`muc.ports.Sender` over a slixmpp component stream."""

    def __init__(self, send_raw: Callable[[str], None], ns: str) -> None:
        self.send_raw = send_raw
        self.ns = ns

    # ------------------------------------------------------------ presence
    def presence(self, p: OutPresence) -> None:
        head = f"<presence from={quoteattr(p.frm)} to={quoteattr(p.to)}"
        if not p.available:
            head += " type='unavailable'"
        body = p.payload or ""
        if p.status and "<status" not in body:
            body += f"<status>{escape(p.status)}</status>"
        body += _muc_user_x(p)
        if p.occupant_id:
            body += f"<occupant-id xmlns='{NS_OCCUPANT_ID}' id={quoteattr(p.occupant_id)}/>"
        if p.hats:
            body += f"<hats xmlns='{NS_HATS}'>" + "".join(
                f"<hat uri={quoteattr(h.uri)} title={quoteattr(h.title)}"
                + (f" hue={quoteattr(h.hue)}" if h.hue else "") + "/>" for h in p.hats
            ) + "</hats>"
        self.send_raw(f"{head}>{body}</presence>")

    # ------------------------------------------------------------ messages
    def _restamp(self, payload: Message | None, frm: str, room: str, mtype: str) -> ET.Element:
        if payload is None:
            xml = ET.Element(f"{{{self.ns}}}message")
        else:
            xml = copy.deepcopy(payload.xml)
            _strip(xml, room)
        xml.attrib.pop("to", None)
        xml.set("from", frm)
        xml.set("type", mtype)
        return xml

    def groupchat(self, recipients: Sequence[str], msg: OutGroupchat) -> str:
        xml = self._restamp(msg.payload, msg.frm, msg.room, "groupchat")
        if msg.subject is not None and xml.find(f"{{{self.ns}}}subject") is None:
            ET.SubElement(xml, f"{{{self.ns}}}subject").text = msg.subject
        ET.SubElement(xml, f"{{{NS_SID}}}stanza-id", id=msg.stanza_id, by=msg.room)
        if msg.occupant_id:
            ET.SubElement(xml, f"{{{NS_OCCUPANT_ID}}}occupant-id", id=msg.occupant_id)
        stanza = tostring(xml, xmlns=self.ns)
        rest = stanza[len("<message"):]
        send = self.send_raw
        for to in recipients:
            send(f"<message to={quoteattr(to)}{rest}")
        return stanza

    def history(self, to: str, stanza: str, stamp_: datetime, room: str) -> None:
        """§7.2.13: the stored stanza, with ``<delay from=room stamp=…/>`` added."""
        delay = f"<delay xmlns='{NS_DELAY}' from={quoteattr(room)} stamp='{stamp(stamp_)}'/>"
        rest = stanza[len("<message"):]
        if rest.endswith("/>"):
            rest = rest[:-2] + ">" + delay + "</message>"
        else:
            rest = rest[: -len("</message>")] + delay + "</message>"
        self.send_raw(f"<message to={quoteattr(to)}{rest}")

    def subject(self, to: str, frm: str, subject: str, stamp_: datetime | None = None,
                room: str = "") -> None:
        """§7.2.15: the subject, with delay from the room when it was last set."""
        text = f"<subject>{escape(subject)}</subject>" if subject else "<subject/>"
        if stamp_ is not None:
            text += (f"<delay xmlns='{NS_DELAY}' from={quoteattr(room or frm.split('/')[0])} "
                     f"stamp='{stamp(stamp_)}'/>")
        self.send_raw(f"<message from={quoteattr(frm)} to={quoteattr(to)} type='groupchat'>"
                      f"{text}</message>")

    def private(self, recipients: Sequence[str], msg: OutPrivate) -> None:
        payload: Any = msg.payload
        mtype = payload["type"] if payload is not None and payload["type"] else "chat"
        xml = self._restamp(payload, msg.frm, msg.frm.split("/", 1)[0], mtype)
        # §7.5: "The service SHOULD add the <x/> element if the message does not
        # contain it already" (stripped above if forged, so always add a clean one).
        ET.SubElement(xml, f"{{{NS_MUC_USER}}}x")
        if msg.occupant_id:
            ET.SubElement(xml, f"{{{NS_OCCUPANT_ID}}}occupant-id", id=msg.occupant_id)
        rest = tostring(xml, xmlns=self.ns)[len("<message"):]
        for to in recipients:
            self.send_raw(f"<message to={quoteattr(to)}{rest}")

    def retraction(self, recipients: Sequence[str], r: Retraction) -> None:
        """XEP-0425 §3: one message from the room, in the :1 form and the legacy :0
        form (``apply-to``), so clients of either version hide the message."""
        reason = f"<reason>{escape(r.reason)}</reason>" if r.reason else ""
        by_oid = (f"<occupant-id xmlns='{NS_OCCUPANT_ID}' id={quoteattr(r.by_occupant_id)}/>"
                  if r.by_occupant_id else "")
        rest = (
            f" from={quoteattr(r.room)} type='groupchat' id={quoteattr(r.message_id)}>"
            f"<retract xmlns='{NS_RETRACT}' id={quoteattr(r.stanza_id)}>"
            f"<moderated xmlns='{NS_MODERATE}' by={quoteattr(r.by)}>{by_oid}</moderated>"
            f"{reason}</retract>"
            f"<apply-to xmlns='{NS_FASTEN}' id={quoteattr(r.stanza_id)}>"
            f"<moderated xmlns='{NS_MODERATE_0}' by={quoteattr(r.by)}>"
            f"<retract xmlns='{NS_RETRACT_0}'/>{reason}</moderated></apply-to>"
            f"<body>A moderator removed a message.</body>"
            f"<fallback xmlns='urn:xmpp:fallback:0' for='{NS_RETRACT}'/>"
            f"</message>"
        )
        for to in recipients:
            self.send_raw(f"<message to={quoteattr(to)}{rest}")

    def invite(self, to: str, room: str, inviter: str, reason: str | None,
               password: str | None) -> None:
        """§7.8.2: the room's invitation, ``from`` the inviter's occupant JID."""
        inner = f"<reason>{escape(reason)}</reason>" if reason else ""
        pw = f"<password>{escape(password)}</password>" if password else ""
        self.send_raw(f"<message from={quoteattr(room)} to={quoteattr(to)}>"
                      f"<x xmlns='{NS_MUC_USER}'><invite from={quoteattr(inviter)}>{inner}"
                      f"</invite>{pw}</x></message>")

    def decline(self, to: str, room: str, invitee: str, reason: str | None) -> None:
        """§7.8.2: a decline, relayed to the inviter."""
        inner = f"<reason>{escape(reason)}</reason>" if reason else ""
        self.send_raw(f"<message from={quoteattr(room)} to={quoteattr(to)}>"
                      f"<x xmlns='{NS_MUC_USER}'><decline from={quoteattr(invitee)}>{inner}"
                      f"</decline></x></message>")

    def voice_request(self, to: str, room: str, requester_jid: str, nick: str) -> None:
        """§8.6: the voice approval form, built with slixmpp's XEP-0004 Form."""
        form = Form()
        form["type"] = "form"
        form["title"] = "Voice request"
        form["instructions"] = (f"{nick} asks to speak. To approve, tick \"Grant voice to "
                                f"this person?\" and submit; to skip, cancel.")
        form.add_field(var="FORM_TYPE", ftype="hidden", value=NS_MUC_REQUEST)
        form.add_field(var="muc#role", ftype="list-single", label="Requested role",
                       value="participant")
        form.add_field(var="muc#jid", ftype="jid-single", label="User ID", value=requester_jid)
        form.add_field(var="muc#roomnick", ftype="text-single", label="Room Nickname",
                       value=nick)
        form.add_field(var="muc#request_allow", ftype="boolean",
                       label="Grant voice to this person?", value=False)
        self.send_raw(f"<message from={quoteattr(room)} to={quoteattr(to)}>"
                      f"{tostring(form.xml, xmlns=self.ns)}</message>")

    def tombstone(self, r: Retraction) -> str:
        """XEP-0425 §4: what history and the archive keep instead of the message."""
        reason = f"<reason>{escape(r.reason)}</reason>" if r.reason else ""
        author = (f"<occupant-id xmlns='{NS_OCCUPANT_ID}' id={quoteattr(r.author_occupant_id)}/>"
                  if r.author_occupant_id else "")
        by_oid = (f"<occupant-id xmlns='{NS_OCCUPANT_ID}' id={quoteattr(r.by_occupant_id)}/>"
                  if r.by_occupant_id else "")
        return (
            f"<message from={quoteattr(r.room + '/' + r.author_nick)} type='groupchat'>"
            f"{author}<stanza-id xmlns='{NS_SID}' by={quoteattr(r.room)} "
            f"id={quoteattr(r.stanza_id)}/>"
            f"<retracted xmlns='{NS_RETRACT}' stamp='{stamp(r.stamp)}'>"
            f"<moderated xmlns='{NS_MODERATE}' by={quoteattr(r.by)}>{by_oid}</moderated>"
            f"{reason}</retracted></message>"
        )

    def status(self, to: str, room: str, codes: tuple[int, ...]) -> None:
        """§10.2.1: "a message … containing a status code of 104" from the room."""
        inner = "".join(f"<status code='{c}'/>" for c in codes)
        self.send_raw(f"<message from={quoteattr(room)} to={quoteattr(to)} type='groupchat'>"
                      f"<x xmlns='{NS_MUC_USER}'>{inner}</x></message>")
