"""XEP-0313 Message Archive Management on room JIDs (``urn:xmpp:mam:2``, and ``:1``).

``get`` returns the query form (§4.1.5); ``set`` runs a query: the access
check runs at once on the loop, the database read in a worker thread, then
each result goes out as ``<message><result><forwarded>…`` with XEP-0203
delay (§4.2), and the IQ result carries ``<fin>`` with the RSM set (§4.3).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any
from xml.sax.saxutils import quoteattr

from slixmpp import Iq
from slixmpp.jid import JID, InvalidJID
from slixmpp.plugins.xep_0004 import Form
from slixmpp.plugins.xep_0082 import parse as parse_datetime

from component.owner import submitted_values
from component.sender import stamp
from muc.archive import MAX_PAGE, ArchiveQuery, check_access
from muc.errors import MucError
from muc.room import Room
from muc.storage.archive import UnknownId, query_archive

log = logging.getLogger(__name__)

NAMESPACES = ("urn:xmpp:mam:2", "urn:xmpp:mam:1")
NS_RSM = "http://jabber.org/protocol/rsm"
NS_DATA = "jabber:x:data"
NS_FORWARD = "urn:xmpp:forward:0"
NS_DELAY = "urn:xmpp:delay"

_running: set[asyncio.Future[None]] = set()  # queries in flight (kept referenced)


def query_form(ns: str) -> Form:
    """§4.1.5: the fields this archive understands."""
    form = Form()
    form["type"] = "form"
    form.add_field(var="FORM_TYPE", ftype="hidden", value=ns)
    form.add_field(var="with", ftype="jid-single", label="Occupant (room/nick)")
    form.add_field(var="start", ftype="text-single", label="Start (XEP-0082)")
    form.add_field(var="end", ftype="text-single", label="End (XEP-0082)")
    if ns == NAMESPACES[0]:
        form.add_field(var="before-id", ftype="text-single", label="Before this id")
        form.add_field(var="after-id", ftype="text-single", label="After this id")
        form.add_field(var="ids", ftype="text-multi", label="These ids")
    return form


def _time(values: dict[str, list[str]], var: str) -> datetime | None:
    raw = (values.get(var) or [""])[0].strip()
    if not raw:
        return None
    try:
        return parse_datetime(raw)
    except (ValueError, TypeError) as exc:
        raise MucError("bad-request", f"'{var}' must be an XEP-0082 date-time.") from exc


def parse_query(room: Room, query: Any, ns: str) -> ArchiveQuery:
    """The submitted form and RSM set, validated; ``bad-request`` with a text if not."""
    x = query.find(f"{{{NS_DATA}}}x")
    values = submitted_values(x) if x is not None else {}
    with_nick = None
    if (raw := (values.get("with") or [""])[0].strip()):
        try:
            jid = JID(raw)
        except InvalidJID as exc:
            raise MucError("jid-malformed", f"'{raw}' is not a valid address.") from exc
        if jid.bare != room.jid or not jid.resource:
            raise MucError("bad-request", "In a room archive, 'with' is an occupant "
                                          "address (room@service/nick).")
        with_nick = jid.resource
    rsm = query.find(f"{{{NS_RSM}}}set")
    page = MAX_PAGE
    after = before = None
    if rsm is not None:
        raw_max = rsm.findtext(f"{{{NS_RSM}}}max")
        if raw_max is not None:
            try:
                page = int(raw_max)
            except ValueError as exc:
                raise MucError("bad-request", "RSM <max/> must be a number.") from exc
            if page < 0:
                raise MucError("bad-request", "RSM <max/> can't be negative.")
            page = min(page, MAX_PAGE)
        after = rsm.findtext(f"{{{NS_RSM}}}after")
        before_el = rsm.find(f"{{{NS_RSM}}}before")
        if before_el is not None:
            before = before_el.text or ""
        if after is not None and before is not None:
            raise MucError("bad-request", "Use <after/> or <before/>, not both (use after-id "
                                          "and before-id for a range).")
    first = (lambda v: (values.get(v) or [""])[0].strip() or None)  # noqa: E731
    return ArchiveQuery(
        room=room.jid, start=_time(values, "start"), end=_time(values, "end"),
        with_nick=with_nick, before_id=first("before-id"), after_id=first("after-id"),
        ids=tuple(v.strip() for v in values.get("ids", []) if v.strip()), max=page,
        after=after, before=before,
        flip=query.find(f"{{{ns}}}flip-page") is not None,
    )


def handle(iq: Iq, room: Room, engine: Any, ns: str,
           reply_error: Callable[[Iq, MucError], None]) -> None:
    """A MAM request to a room: answer the form, or start the query."""
    if iq["type"] == "get":
        reply = iq.reply(clear=True)
        query = reply.xml.makeelement(f"{{{ns}}}query", {})
        query.append(query_form(ns).xml)
        reply.xml.append(query)
        reply.send()
        return
    check_access(room, iq["from"].full)
    query = iq.xml.find(f"{{{ns}}}query")
    q = parse_query(room, query, ns)
    queryid = query.get("queryid")
    task = asyncio.ensure_future(_run(iq, q, queryid, engine, ns, reply_error))
    _running.add(task)
    task.add_done_callback(_running.discard)


async def _run(iq: Iq, q: ArchiveQuery, queryid: str | None, engine: Any, ns: str,
               reply_error: Callable[[Iq, MucError], None]) -> None:
    try:
        page = await asyncio.to_thread(query_archive, engine, q)
    except UnknownId as exc:
        reply_error(iq, MucError("item-not-found", f"No archived message has the id {exc}."))
        return
    except Exception:
        log.exception("Archive query failed")
        reply_error(iq, MucError("internal-server-error", "The archive could not be read; "
                                                           "please try again."))
        return
    to, room = iq["from"].full, q.room
    qid = f" queryid={quoteattr(queryid)}" if queryid else ""
    items = list(reversed(page.items)) if q.flip else page.items
    send = iq.stream.send_raw
    for sid, at, stanza in items:
        inner = stanza.replace("<message", "<message xmlns='jabber:client'", 1)
        send(f"<message from={quoteattr(room)} to={quoteattr(to)}>"
             f"<result xmlns='{ns}'{qid} id={quoteattr(sid)}>"
             f"<forwarded xmlns='{NS_FORWARD}'><delay xmlns='{NS_DELAY}' stamp='{stamp(at)}'/>"
             f"{inner}</forwarded></result></message>")
    reply = iq.reply(clear=True)
    fin = reply.xml.makeelement(f"{{{ns}}}fin", {"complete": "true"} if page.complete else {})
    rset = fin.makeelement(f"{{{NS_RSM}}}set", {})
    if page.items:
        first = rset.makeelement(f"{{{NS_RSM}}}first", {"index": str(page.first_index or 0)})
        first.text = page.items[0][0]
        rset.append(first)
        last = rset.makeelement(f"{{{NS_RSM}}}last", {})
        last.text = page.items[-1][0]
        rset.append(last)
    count = rset.makeelement(f"{{{NS_RSM}}}count", {})
    count.text = str(page.count)
    rset.append(count)
    fin.append(rset)
    reply.xml.append(fin)
    reply.send()
