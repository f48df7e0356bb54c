"""One routing table and one error boundary for every incoming stanza.

Stanza kind x target (the service, a room, an occupant) decides the handler.
Each handler runs inside :meth:`Router.guard`: a :class:`MucError` becomes an
error reply with its condition and text; anything unexpected is logged with
its traceback and answered with ``internal-server-error``. The stream never
dies because of one stanza, and error stanzas are never answered.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from slixmpp import Iq, Message, Presence
from slixmpp.jid import JID, InvalidJID
from slixmpp.plugins.xep_0082 import parse as parse_datetime
from slixmpp.xmlstream import StanzaBase

from component import admin, disco, mam, owner
from component import hats as hat_commands
from component.adhoc import NS_COMMANDS, AdhocCommands
from component.owner import NS_DATA, submitted_values
from component.sender import NS_MUC, NS_MUC_USER, presence_payload
from muc.errors import MucError
from muc.history import HistoryRequest
from muc.service import MucService

log = logging.getLogger(__name__)

NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"
NS_PING = "urn:xmpp:ping"
NS_MUC_REQUEST = "http://jabber.org/protocol/muc#request"
NS_MODERATE = "urn:xmpp:message-moderate:1"
NS_RETRACT = "urn:xmpp:message-retract:1"
NS_MODERATE_0 = "urn:xmpp:message-moderate:0"
NS_RETRACT_0 = "urn:xmpp:message-retract:0"
NS_FASTEN = "urn:xmpp:fasten:0"

# XEP-0045 §18.1.2 (Ghost Users): "the delivery-related errors are gone,
# item-not-found, recipient-unavailable, redirect, remote-server-not-found
# and remote-server-timeout". service-unavailable is what a server returns for
# a groupchat message to a resource that went offline (RFC 6121 §8.5.3.2.1).
GHOST_CONDITIONS = frozenset({
    "gone", "item-not-found", "recipient-unavailable", "redirect",
    "remote-server-not-found", "remote-server-timeout", "service-unavailable",
})


def _int_attr(el: Any, name: str) -> int | None:
    raw = el.get(name) if el is not None else None
    if raw is None:
        return None
    try:
        return max(int(raw), 0)
    except ValueError:
        return None  # §7.2.14 limits are hints; an unusable one is ignored


def parse_history(join: Any) -> HistoryRequest:
    """The ``<history/>`` child of a MUC join, XEP-0045 §7.2.14."""
    el = join.find(f"{{{NS_MUC}}}history") if join is not None else None
    if el is None:
        return HistoryRequest()
    since: datetime | None = None
    if el.get("since"):
        try:
            since = parse_datetime(el.get("since"))
        except (ValueError, TypeError):
            since = None
    return HistoryRequest(maxstanzas=_int_attr(el, "maxstanzas"),
                          maxchars=_int_attr(el, "maxchars"),
                          seconds=_int_attr(el, "seconds"), since=since)


def _jid_attr(el: Any, name: str) -> str:
    """A JID attribute, validated (RFC 7622); ``jid-malformed`` if it isn't one."""
    raw = el.get(name) or ""
    try:
        jid = JID(raw)
    except InvalidJID as exc:
        raise MucError("jid-malformed", f"'{raw}' is not a valid address.") from exc
    if not jid.domain:
        raise MucError("jid-malformed", f"The <{el.tag.split('}')[-1]}/> needs a '{name}' "
                                        f"address.")
    return jid.full


def error_condition(stanza: StanzaBase) -> str:
    """The defined condition of an error stanza ('' if none)."""
    err = stanza.xml.find(f"{{{stanza.namespace}}}error")
    if err is None:
        return ""
    for child in err:
        if child.tag.startswith(f"{{{NS_STANZAS}}}") and not child.tag.endswith("}text"):
            return child.tag.split("}", 1)[1]
    return ""


class Router:
    """Dispatches stanzas from the component stream to the MUC service."""

    def __init__(self, send_raw: Callable[[str], None], ns: str, service: MucService,
                 archive: Any = None) -> None:
        self.archive = archive  # the database engine MAM queries read (in a thread)
        self.commands = AdhocCommands(hat_commands.COMMANDS)
        self.send_raw = send_raw
        self.service = service
        self.domain = service.domain
        self.ns = ns

    # ------------------------------------------------------------ boundary
    def guard(self, stanza: StanzaBase, handler: Callable[[StanzaBase], None]) -> None:
        """Run ``handler``; turn failures into an error reply to the sender."""
        try:
            handler(stanza)
        except MucError as exc:
            self.reply_error(stanza, exc)
        except Exception:
            log.exception("Unexpected failure handling a %s from %s", stanza.name,
                          stanza["from"])
            self.reply_error(stanza, MucError(
                "internal-server-error",
                "Something went wrong on our side; the service keeps running, please "
                "try again."))

    def reply_error(self, stanza: StanzaBase, exc: MucError) -> None:
        """RFC 6120 §8.3: an error reply, ``by`` the room (XEP-0045 examples)."""
        if stanza["type"] == "error" or (stanza.name == "iq" and stanza["type"] in
                                         ("result", "error")):
            return
        kind = stanza.name
        frm = stanza["to"].full or self.domain
        to = stanza["from"].full
        by = stanza["to"].bare or self.domain
        sid = stanza["id"]
        idattr = f" id={quoteattr(sid)}" if sid else ""
        extra = f"<x xmlns='{NS_MUC}'/>" if kind == "presence" else ""
        text = (f"<text xmlns='{NS_STANZAS}' xml:lang='en'>{escape(exc.text)}</text>"
                if exc.text else "")
        self.send_raw(
            f"<{kind} from={quoteattr(frm)} to={quoteattr(to)}{idattr} type='error'>{extra}"
            f"<error type='{exc.etype}' by={quoteattr(by)}>"
            f"<{exc.condition} xmlns='{NS_STANZAS}'/>{text}</error></{kind}>")

    # ------------------------------------------------------------ entry points
    def on_presence(self, pres: Presence) -> None:
        self.guard(pres, self._presence)

    def on_message(self, msg: Message) -> None:
        self.guard(msg, self._message)

    def on_iq(self, iq: Iq) -> None:
        if iq["type"] in ("get", "set"):
            self.guard(iq, self._iq)

    # ------------------------------------------------------------ presence
    def _presence(self, pres: Presence) -> None:
        to: JID = pres["to"]
        frm: JID = pres["from"]
        ptype = pres["type"]
        if not to.user:
            return  # presence to the service itself: nothing to do
        room = to.bare
        if ptype == "error":
            if error_condition(pres) in GHOST_CONDITIONS:
                self.service.delivery_error(room, frm.full)
            return
        if ptype in ("subscribe", "subscribed", "unsubscribe", "unsubscribed", "probe"):
            return
        if not frm.resource:
            raise MucError("bad-request", "Presence to a room must come from a full JID.")
        if not to.resource:
            if ptype == "unavailable":
                return
            # §7.2.1: "If the user does not specify a room nickname … the service
            # MUST return a <jid-malformed/> error".
            raise MucError("jid-malformed",
                           "Choose a nickname: join as room@service/nickname.")
        payload = presence_payload(pres, self.ns)
        if ptype == "unavailable":
            self.service.presence(room, to.resource, frm.full, payload, available=False)
            return
        join = pres.xml.find(f"{{{NS_MUC}}}x")
        password_el = join.find(f"{{{NS_MUC}}}password") if join is not None else None
        self.service.presence(
            room, to.resource, frm.full, payload,
            password=password_el.text if password_el is not None else None,
            history=parse_history(join), muc_join=join is not None,
        )

    # ------------------------------------------------------------ messages
    def _message(self, msg: Message) -> None:
        to: JID = msg["to"]
        frm: JID = msg["from"]
        mtype = msg["type"]
        if mtype == "error":
            if to.user and error_condition(msg) in GHOST_CONDITIONS:
                self.service.delivery_error(to.bare, frm.full)
            return
        if not to.user:
            raise MucError("service-unavailable",
                           "This is a chat room service: join a room to talk.")
        room = to.bare
        if to.resource:
            self.service.private(room, to.resource, frm.full, msg, mtype)
            return
        if mtype != "groupchat":
            self._room_message(msg, room)
            return
        body_el = msg.xml.find(f"{{{self.ns}}}body")
        subject_el = msg.xml.find(f"{{{self.ns}}}subject")
        if msg.xml.find(f"{{{self.ns}}}thread") is not None:
            subject_el = None  # §8.1: subject with a thread is a message, not a change
        self.service.groupchat(
            room, frm.full, msg,
            (body_el.text or "") if body_el is not None else None,
            (subject_el.text or "") if subject_el is not None else None,
        )

    def _room_message(self, msg: Message, room: str) -> None:
        """A non-groupchat message to the room: invitation, decline (§7.8.2), voice
        request (§7.13) or a moderator's voice approval (§8.6)."""
        self.service.require_room(room)
        frm = msg["from"].full
        x = msg.xml.find(f"{{{NS_MUC_USER}}}x")
        if x is not None:
            invites = x.findall(f"{{{NS_MUC_USER}}}invite")
            declines = x.findall(f"{{{NS_MUC_USER}}}decline")
            if not invites and not declines:
                raise MucError("bad-request", "Expected an <invite/> or a <decline/>.")
            for el in invites:
                self.service.invite(room, frm, _jid_attr(el, "to"),
                                    el.findtext(f"{{{NS_MUC_USER}}}reason"))
            for el in declines:
                self.service.decline(room, frm, _jid_attr(el, "to"),
                                     el.findtext(f"{{{NS_MUC_USER}}}reason"))
            return
        form = msg.xml.find(f"{{{NS_DATA}}}x")
        if form is not None:
            values = submitted_values(form)
            if values.get("FORM_TYPE") != [NS_MUC_REQUEST]:
                raise MucError("bad-request", "Unknown form; expected a muc#request form.")
            if "muc#request_allow" in values:
                allow = (values["muc#request_allow"] or [""])[0].strip().lower() in ("1", "true")
                nick = (values.get("muc#roomnick") or [""])[0]
                if not nick:
                    raise MucError("bad-request", "The approval form needs muc#roomnick.")
                self.service.answer_voice_request(room, frm, nick, allow)
                return
            if values.get("muc#role") not in (["participant"], None):
                raise MucError("not-acceptable", "Only voice (participant) can be requested.")
            self.service.request_voice(room, frm)
            return
        raise MucError("bad-request", "Messages to the room must be of type groupchat.")

    # ------------------------------------------------------------ iq
    def _iq(self, iq: Iq) -> None:
        to: JID = iq["to"]
        payload = iq.get_payload()
        if len(payload) != 1:
            raise MucError("bad-request", "An IQ request must carry exactly one payload.")
        tag = payload[0].tag
        if tag == f"{{{NS_PING}}}ping" and iq["type"] == "get":
            self._ping(iq)
            return
        if not to.user:
            if tag == f"{{{disco.NS_INFO}}}query" and iq["type"] == "get":
                disco.service_info(iq, self.service)
            elif tag == f"{{{disco.NS_ITEMS}}}query" and iq["type"] == "get":
                disco.service_items(iq, self.service)
            else:
                raise MucError("service-unavailable",
                               "The chat room service does not answer that request.")
            return
        if to.resource:
            raise MucError("service-unavailable",
                           "Requests to other occupants are not forwarded by this service "
                           "(it keeps members' clients private).")
        room = self.service.require_room(to.bare)
        if tag == f"{{{disco.NS_INFO}}}query" and iq["type"] == "get":
            disco.room_info(iq, self.service, room, self.commands)
        elif tag == f"{{{disco.NS_ITEMS}}}query" and iq["type"] == "get":
            disco.room_items(iq, room, self.commands)
        elif tag == f"{{{NS_COMMANDS}}}command" and iq["type"] == "set":
            self.commands.handle(iq, room)
        elif tag in {f"{{{ns}}}query" for ns in mam.NAMESPACES} and self.archive is not None:
            mam.handle(iq, room, self.archive, tag[1:].split("}")[0], self.reply_error)
        elif tag == f"{{{owner.NS_OWNER}}}query":
            owner.handle(iq, self.service, room)
        elif tag == f"{{{admin.NS_ADMIN}}}query":
            admin.handle(iq, self.service, room)
        elif tag in (f"{{{NS_MODERATE}}}moderate", f"{{{NS_FASTEN}}}apply-to") \
                and iq["type"] == "set":
            self._moderate(iq, payload[0])
        else:
            raise MucError("feature-not-implemented",
                           f"This room does not support {tag.split('}')[0][1:]} requests.")

    def _moderate(self, iq: Iq, el: Any) -> None:
        """XEP-0425: ``<moderate id=…>`` (:1) or ``<apply-to id=…><moderate/>`` (:0)."""
        if el.tag == f"{{{NS_FASTEN}}}apply-to":
            inner = el.find(f"{{{NS_MODERATE_0}}}moderate")
            if inner is None or inner.find(f"{{{NS_RETRACT_0}}}retract") is None:
                raise MucError("feature-not-implemented",
                               "Only moderated retraction can be applied to a message.")
        else:
            inner = el
            if inner.find(f"{{{NS_RETRACT}}}retract") is None:
                raise MucError("bad-request", "A moderation request must contain <retract/>.")
        reason = inner.findtext(f"{{{NS_MODERATE_0 if inner is not el else NS_MODERATE}}}reason")
        self.service.moderate(iq["to"].bare, iq["from"].full, el.get("id", ""), reason)
        iq.reply(clear=True).send()

    def _ping(self, iq: Iq) -> None:
        """XEP-0199 ping of the service or a room; XEP-0410 self-ping of an occupant.

        XEP-0410 §4: a client pings its own occupant JID; if it is not joined the
        service answers ``not-acceptable`` so the client knows to rejoin.
        """
        to: JID = iq["to"]
        if to.user:
            room = self.service.require_room(to.bare)
            if to.resource:
                sender = room.occupant_by_jid(iq["from"].full)
                if sender is None:
                    raise MucError("not-acceptable", "You are not in this room; rejoin it.")
                if room.occupant_by_nick(to.resource) is None:
                    raise MucError("item-not-found", "Nobody with that nickname is here.")
        iq.reply(clear=True).send()
