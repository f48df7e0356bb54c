"""An asyncio XMPP test client (slixmpp) with an inbox of received stanzas.

Usage::

    async with TestClient(server, "alice", "pw") as alice:
        self_presence = await alice.join("anxiety@rooms.localhost", "Alice")
        msg_id = alice.groupchat("anxiety@rooms.localhost", "hello")
        echo = await alice.expect(lambda s: is_message(s, mtype="groupchat") and s["id"] == msg_id)

Every incoming message, presence and iq (except responses to iqs this client sent through
slixmpp, e.g. with :meth:`TestClient.iq`) is appended, as the slixmpp stanza object, to
:attr:`TestClient.inbox`. :meth:`TestClient.expect` removes and returns the oldest stanza
matching a predicate and leaves the others where they are.

The client connects over plain TCP to 127.0.0.1 (no TLS) and logs in with SASL PLAIN by
default; it sends no initial presence unless asked, fetches no roster, does not answer disco
queries (tests see them in the inbox) and does answer XEP-0199 pings.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any, Protocol

from slixmpp import JID, ClientXMPP, Iq, Message, Presence
from slixmpp.exceptions import IqError, IqTimeout
from slixmpp.xmlstream import StanzaBase
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

__all__ = [
    "MUC_NS",
    "MUC_USER_NS",
    "Predicate",
    "TestClient",
    "is_iq",
    "is_message",
    "is_presence",
    "status_codes",
]

log = logging.getLogger(__name__)

MUC_NS = "http://jabber.org/protocol/muc"
MUC_USER_NS = "http://jabber.org/protocol/muc#user"
CLIENT_NS = "jabber:client"

#: slixmpp plugins loaded in every test client (for their stanza interfaces).
PLUGINS = (
    "xep_0004",  # data forms
    "xep_0030",  # service discovery (its auto-answers are switched off)
    "xep_0045",  # MUC stanzas
    "xep_0059",  # result set management
    "xep_0199",  # ping (answered automatically)
    "xep_0203",  # delayed delivery
    "xep_0359",  # stanza-id / origin-id
    "xep_0421",  # occupant-id
)

Predicate = Callable[[StanzaBase], bool]

_resource_counter = itertools.count(1)


class ServerLike(Protocol):
    """What :class:`TestClient` needs from a server (see tests/harness/servers.py)."""

    domain: str
    host: str
    c2s_port: int
    needs_registration: bool

    async def ensure_account_async(self, user: str, password: str) -> None:
        """Create the account if the server needs one."""


# -- predicates ---------------------------------------------------------------------------------


def _jid_matches(actual: JID, expected: str | JID | None) -> bool:
    """Compare a stanza address with an expected one (a bare expectation matches any resource)."""
    if expected is None:
        return True
    exp = JID(expected)
    if exp.resource:
        return actual.full == exp.full
    return actual.bare == exp.bare


def status_codes(stanza: StanzaBase) -> set[int]:
    """MUC status codes (``<status code=.../>`` in the muc#user payload) of a stanza."""
    x = stanza.xml.find(f"{{{MUC_USER_NS}}}x")
    if x is None:
        return set()
    codes: set[int] = set()
    for status in x.findall(f"{{{MUC_USER_NS}}}status"):
        with contextlib.suppress(TypeError, ValueError):
            codes.add(int(status.get("code")))  # type: ignore[arg-type]
    return codes


def is_message(
    stanza: StanzaBase,
    *,
    frm: str | JID | None = None,
    mtype: str | None = None,
    body: str | None = None,
    id: str | None = None,
) -> bool:
    """True for a ``<message>`` matching every given field (None means any).

    ``frm`` without a resource matches any resource of that bare JID.
    """
    return (
        isinstance(stanza, Message)
        and _jid_matches(stanza["from"], frm)
        and (mtype is None or stanza["type"] == mtype)
        and (body is None or stanza["body"] == body)
        and (id is None or stanza["id"] == id)
    )


def is_presence(
    stanza: StanzaBase,
    *,
    frm: str | JID | None = None,
    ptype: str | None = None,
    codes: Iterable[int] = (),
) -> bool:
    """True for a ``<presence>`` from ``frm`` of type ``ptype`` carrying all status ``codes``.

    ``ptype`` is slixmpp's type: "available" (no type attribute), "unavailable", "error", ...
    """
    return (
        isinstance(stanza, Presence)
        and _jid_matches(stanza["from"], frm)
        and (ptype is None or stanza["type"] == ptype)
        and set(codes) <= status_codes(stanza)
    )


def is_iq(
    stanza: StanzaBase,
    *,
    frm: str | JID | None = None,
    itype: str | None = None,
    ns: str | None = None,
) -> bool:
    """True for an ``<iq>`` from ``frm`` of type ``itype`` whose child has namespace ``ns``."""
    if not isinstance(stanza, Iq):
        return False
    if not _jid_matches(stanza["from"], frm) or (itype is not None and stanza["type"] != itype):
        return False
    if ns is None:
        return True
    return any(child.tag.startswith(f"{{{ns}}}") for child in stanza.xml)


# -- the client ---------------------------------------------------------------------------------


class TestClient:
    """One XMPP client session on a test server.

    :param server: a started server from tests/harness/servers.py (anything with ``domain``,
        ``host``, ``c2s_port``, ``needs_registration`` and ``ensure_account_async``).
    :param user: local part of the account (``user@server.domain``).
    :param password: the account's password.
    :param resource: resource to bind (default: a unique ``test-N``).
    :param initial_presence: send initial presence after login (default: no).
    :param register: create the account first (default: when the server needs accounts).
    :param sasl_mech: SASL mechanism to use ("PLAIN" by default; None lets slixmpp choose).
    :param connect_timeout: seconds to wait for the session to start.
    :param answer_unhandled_iqs: let slixmpp answer iq get/set that no handler takes with
        ``feature-not-implemented`` (default: no answer; the iq only lands in the inbox).
    :param keep_received: keep every stanza in :attr:`received` (turn off for long load runs).
    """

    __test__ = False  # not a pytest test class

    def __init__(
        self,
        server: ServerLike,
        user: str,
        password: str = "pw",
        *,
        resource: str | None = None,
        initial_presence: bool = False,
        register: bool | None = None,
        sasl_mech: str | None = "PLAIN",
        connect_timeout: float = 15.0,
        answer_unhandled_iqs: bool = False,
        keep_received: bool = True,
    ) -> None:
        self.server = server
        self.user = user
        self.password = password
        self.resource = resource or f"test-{next(_resource_counter)}"
        self.initial_presence = initial_presence
        self.register = server.needs_registration if register is None else register
        self.connect_timeout = connect_timeout
        #: Received stanzas not yet consumed by :meth:`expect`, oldest first.
        self.inbox: list[StanzaBase] = []
        #: Every stanza received, in arrival order, consumed by :meth:`expect` or not.
        self.received: list[StanzaBase] = []
        self.keep_received = keep_received
        self._new_stanza = asyncio.Event()
        self._sent_iq_ids: set[str] = set()
        self._session: asyncio.Future[None] | None = None
        self.connected = False

        self.xmpp = ClientXMPP(
            f"{user}@{server.domain}/{self.resource}",
            password,
            sasl_mech=sasl_mech,
            plugin_config={
                "feature_mechanisms": {"unencrypted_plain": True, "unencrypted_scram": True},
            },
        )
        # Plain TCP only: no direct TLS, no STARTTLS even if offered.
        self.xmpp.enable_direct_tls = False
        self.xmpp.enable_starttls = False
        self.xmpp.enable_plaintext = True
        self.xmpp.use_ipv6 = False
        # Don't answer subscription requests behind the test's back.
        self.xmpp.auto_authorize = None
        self.xmpp.auto_subscribe = False
        for plugin in PLUGINS:
            self.xmpp.register_plugin(plugin)
        # Tests want to see disco queries, not have slixmpp answer them.
        self.xmpp.remove_handler("Disco Info")
        self.xmpp.remove_handler("Disco Items")
        if not answer_unhandled_iqs:
            self.xmpp.register_handler(
                Callback(
                    "TestClient swallow unhandled iq",
                    MatchXPath(f"{{{CLIENT_NS}}}iq"),
                    lambda _iq: None,
                )
            )
        self.xmpp.add_filter("in", self._incoming)
        self.xmpp.add_filter("out", self._outgoing)
        self.xmpp.add_event_handler("session_start", self._on_session_start)
        self.xmpp.add_event_handler("failed_all_auth", self._on_failure("authentication failed"))
        self.xmpp.add_event_handler("connection_failed", self._on_failure("connection failed"))
        self.xmpp.add_event_handler("stream_error", self._on_failure("stream error"))
        self.xmpp.add_event_handler("disconnected", self._on_disconnected)

    # -- identity ----------------------------------------------------------------------------

    @property
    def jid(self) -> JID:
        """The full JID bound for this session (as requested until the session starts)."""
        return self.xmpp.boundjid

    @property
    def bare(self) -> str:
        """The bare JID ``user@domain``."""
        return self.xmpp.boundjid.bare

    def __repr__(self) -> str:
        return f"<TestClient {self.jid.full}>"

    # -- connection --------------------------------------------------------------------------

    async def connect(self) -> TestClient:
        """Connect, authenticate, bind; send initial presence if asked. Raises on failure."""
        if self.register:
            await self.server.ensure_account_async(self.user, self.password)
        loop = asyncio.get_running_loop()
        self._session = loop.create_future()
        self.xmpp.connect(host=self.server.host, port=self.server.c2s_port)
        try:
            await asyncio.wait_for(asyncio.shield(self._session), self.connect_timeout)
        except BaseException as exc:
            self.xmpp.cancel_connection_attempt()
            self.xmpp.abort()
            self._stop_send_loop()
            if isinstance(exc, TimeoutError):
                raise AssertionError(
                    f"{self.user}@{self.server.domain}: no session after "
                    f"{self.connect_timeout}s on {self.server.host}:{self.server.c2s_port}"
                ) from None
            raise
        self.connected = True
        if self.initial_presence:
            self.xmpp.send_presence()
            # Servers echo initial presence to the sending resource (RFC 6121 §4.2.2): take it
            # out of the inbox so tests start clean.
            with contextlib.suppress(AssertionError):
                await self.expect(
                    lambda s: isinstance(s, Presence) and s["from"] == self.jid, timeout=2
                )
        return self

    async def disconnect(self, timeout: float = 5.0) -> None:
        """Close the stream (after sending what is queued) and wait for the connection to end."""
        if self.connected:
            self.connected = False
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.xmpp.disconnect(wait=timeout), timeout + 1)
            if self.xmpp.transport is not None:
                self.xmpp.abort()
        self.xmpp.cancel_connection_attempt()
        self._stop_send_loop()

    def abort(self) -> None:
        """Drop the TCP connection without closing the stream (a crashed client)."""
        self.connected = False
        self.xmpp.abort()
        self._stop_send_loop()

    def _stop_send_loop(self) -> None:
        task = self.xmpp._run_out_filters
        if task is not None and not task.done():
            task.cancel()

    async def __aenter__(self) -> TestClient:
        return await self.connect()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.disconnect()

    def _on_session_start(self, _event: Any) -> None:
        if self._session is not None and not self._session.done():
            self._session.set_result(None)

    def _on_failure(self, what: str) -> Callable[[Any], None]:
        def handler(event: Any) -> None:
            if self._session is not None and not self._session.done():
                self._session.set_exception(
                    AssertionError(f"{self.user}@{self.server.domain}: {what}: {event}")
                )

        return handler

    def _on_disconnected(self, reason: Any) -> None:
        self.connected = False
        if self._session is not None and not self._session.done():
            self._session.set_exception(
                AssertionError(f"{self.user}@{self.server.domain}: disconnected: {reason}")
            )

    # -- inbox -------------------------------------------------------------------------------

    def _outgoing(self, stanza: StanzaBase) -> StanzaBase:
        if isinstance(stanza, Iq) and stanza["type"] in ("get", "set") and stanza["id"]:
            self._sent_iq_ids.add(stanza["id"])
        return stanza

    def _incoming(self, stanza: StanzaBase) -> StanzaBase:
        if (
            isinstance(stanza, Iq)
            and stanza["type"] in ("result", "error")
            and stanza["id"] in self._sent_iq_ids
        ):
            # A response to a request sent through slixmpp: its sender gets it.
            self._sent_iq_ids.discard(stanza["id"])
            return stanza
        if isinstance(stanza, (Message, Presence, Iq)):
            self.inbox.append(stanza)
            if self.keep_received:
                self.received.append(stanza)
            self._new_stanza.set()
        return stanza

    def dump(self, stanzas: Iterable[StanzaBase] | None = None) -> str:
        """Readable XML of ``stanzas`` (default: the inbox), one per line."""
        items = list(self.inbox if stanzas is None else stanzas)
        if not items:
            return "  (nothing)"
        return "\n".join(f"  [{i}] {s}" for i, s in enumerate(items))

    async def expect(self, predicate: Predicate | None = None, timeout: float = 5.0) -> Any:
        """Remove and return the oldest inbox stanza matching ``predicate``; wait if needed.

        Non-matching stanzas stay in the inbox. ``predicate=None`` matches anything.

        :raises AssertionError: after ``timeout`` seconds, with a dump of the inbox.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            self._new_stanza.clear()
            for i, stanza in enumerate(self.inbox):
                if predicate is None or predicate(stanza):
                    del self.inbox[i]
                    return stanza
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(
                    f"{self.jid.full}: no matching stanza within {timeout}s "
                    f"({_describe(predicate)}); inbox:\n{self.dump()}"
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new_stanza.wait(), remaining)

    async def expect_all(self, predicate: Predicate, count: int, timeout: float = 5.0) -> list[Any]:
        """Expect ``count`` matching stanzas (in arrival order) within one ``timeout``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        found: list[Any] = []
        for _ in range(count):
            try:
                found.append(await self.expect(predicate, max(0.0, deadline - loop.time())))
            except AssertionError as exc:
                raise AssertionError(f"got {len(found)} of {count}: {exc}") from None
        return found

    async def expect_nothing(
        self, predicate: Predicate | None = None, timeout: float = 1.0
    ) -> None:
        """Assert that no stanza matching ``predicate`` is (or arrives) in the inbox.

        :raises AssertionError: at the first matching stanza, which is left in the inbox.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            self._new_stanza.clear()
            for stanza in self.inbox:
                if predicate is None or predicate(stanza):
                    raise AssertionError(
                        f"{self.jid.full}: unexpected stanza ({_describe(predicate)}): {stanza}"
                    )
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new_stanza.wait(), remaining)

    def drain(self) -> list[StanzaBase]:
        """Empty the inbox and return what was in it."""
        items, self.inbox = self.inbox, []
        return items

    async def settle(self, quiet: float = 0.3, timeout: float = 5.0) -> list[StanzaBase]:
        """Wait until nothing arrives for ``quiet`` seconds (at most ``timeout``), then drain."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            self._new_stanza.clear()
            try:
                await asyncio.wait_for(
                    self._new_stanza.wait(), min(quiet, max(0.0, deadline - loop.time()))
                )
            except TimeoutError:
                break
        return self.drain()

    # -- sending -----------------------------------------------------------------------------

    def parse(self, xml: str) -> StanzaBase:
        """Turn an XML string into a slixmpp stanza object of this stream (jabber:client)."""
        wrapper = ET.fromstring(f"<wrapper xmlns='{CLIENT_NS}'>{xml}</wrapper>")
        children = list(wrapper)
        if len(children) != 1:
            raise ValueError(f"expected one stanza, got {len(children)}: {xml!r}")
        elem = children[0]
        kinds: dict[str, type[StanzaBase]] = {"iq": Iq, "message": Message, "presence": Presence}
        name = elem.tag.rpartition("}")[2]
        cls = kinds.get(name)
        if cls is None:
            raise ValueError(f"not a stanza: {name}")
        return cls(self.xmpp, xml=elem)

    def send(self, stanza: StanzaBase) -> None:
        """Send a slixmpp stanza object (queued in order with everything else)."""
        self.xmpp.send(stanza)

    def send_raw(self, xml: str) -> None:
        """Send raw XML as is. Goes through the same queue as :meth:`send`, so order is kept.

        Responses to an iq sent this way land in the inbox.
        """
        self.xmpp.send(xml)

    async def iq(self, iq: Iq | str, timeout: float = 5.0) -> Iq:
        """Send an iq (stanza or XML string) and return the response, result or error.

        An id is added if missing. Only a timeout raises (AssertionError).
        """
        stanza = self.parse(iq) if isinstance(iq, str) else iq
        if not isinstance(stanza, Iq):
            raise TypeError(f"not an iq: {stanza}")
        if not stanza["id"]:
            stanza["id"] = self.xmpp.new_id()
        try:
            return await stanza.send(timeout=timeout)
        except IqError as exc:
            return exc.iq
        except IqTimeout:
            raise AssertionError(
                f"{self.jid.full}: no response within {timeout}s to {stanza}"
            ) from None

    def message(self, to: str | JID, body: str, mtype: str = "chat", id: str | None = None) -> str:
        """Send a message with a body; return its id."""
        msg = self.xmpp.make_message(mto=JID(to), mbody=body, mtype=mtype)
        msg["id"] = id or self.xmpp.new_id()
        msg.send()
        return msg["id"]

    def groupchat(self, room: str | JID, body: str, id: str | None = None) -> str:
        """Send a groupchat message to ``room``; return its id."""
        return self.message(JID(room).bare, body, mtype="groupchat", id=id)

    def presence(self, to: str | JID | None = None, ptype: str | None = None, **kw: Any) -> None:
        """Send a presence (slixmpp ``make_presence`` keywords: pshow, pstatus, ppriority)."""
        pres = self.xmpp.make_presence(pto=JID(to) if to else None, ptype=ptype, **kw)
        pres.send()

    # -- MUC helpers -------------------------------------------------------------------------

    def join_stanza(
        self,
        room: str | JID,
        nick: str,
        history: dict[str, Any] | None = None,
        password: str | None = None,
    ) -> Presence:
        """The MUC join presence (XEP-0045 §7.2) for ``room/nick``, not sent."""
        pres = self.xmpp.make_presence(pto=JID(f"{JID(room).bare}/{nick}"))
        x = ET.SubElement(pres.xml, f"{{{MUC_NS}}}x")
        if password is not None:
            ET.SubElement(x, f"{{{MUC_NS}}}password").text = password
        if history is not None:
            ET.SubElement(x, f"{{{MUC_NS}}}history", {k: str(v) for k, v in history.items()})
        return pres

    async def join(
        self,
        room: str | JID,
        nick: str,
        history: dict[str, Any] | None = None,
        password: str | None = None,
        timeout: float = 5.0,
    ) -> Presence:
        """Join ``room`` as ``nick``; return the self-presence (status 110) or the error presence.

        ``history`` becomes ``<history .../>`` attributes, e.g. ``{"maxstanzas": 0}``.
        Other occupants' presences, history and subject stay in the inbox.
        """
        room_bare = JID(room).bare
        self.send(self.join_stanza(room_bare, nick, history=history, password=password))
        return await self.expect(
            lambda s: (
                isinstance(s, Presence)
                and s["from"].bare == room_bare
                and (s["type"] == "error" or 110 in status_codes(s))
            ),
            timeout,
        )

    async def leave(
        self, room: str | JID, nick: str, status: str | None = None, timeout: float = 5.0
    ) -> Presence:
        """Leave ``room``; return the room's unavailable self-presence (status 110)."""
        room_bare = JID(room).bare
        self.presence(f"{room_bare}/{nick}", ptype="unavailable", pstatus=status)
        return await self.expect(
            lambda s: (
                isinstance(s, Presence)
                and s["from"].bare == room_bare
                and (
                    s["type"] == "error" or (s["type"] == "unavailable" and 110 in status_codes(s))
                )
            ),
            timeout,
        )


def _describe(predicate: Predicate | None) -> str:
    if predicate is None:
        return "any stanza"
    name = getattr(predicate, "__qualname__", repr(predicate))
    code = getattr(predicate, "__code__", None)
    if code is not None:
        return f"{name} at {code.co_filename.rpartition('/')[2]}:{code.co_firstlineno}"
    return name
