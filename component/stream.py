"""The XEP-0114 component stream: connect, authenticate, reconnect.

A thin :class:`slixmpp.ComponentXMPP` with a short handler list (one callback
per stanza kind, all going to the router; slixmpp's client-side roster
tracking is removed) and reconnection with exponential back-off when the
server goes away; :class:`StreamPool` holds one or several such streams and
sends without ever raising when the link is down.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from slixmpp import ComponentXMPP
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

log = logging.getLogger(__name__)

MAX_BACKOFF = 30.0


class HavenComponent(ComponentXMPP):
    """The component's connection to Prosody or ejabberd."""

    def __init__(self, jid: str, secret: str, host: str, port: int, label: str = "") -> None:
        super().__init__(jid, secret, host, port)
        self.label = label
        self.whitespace_keepalive = True
        self.whitespace_keepalive_interval = 60
        self.online = asyncio.Event()
        self.stopping = False
        self.fatal: str | None = None
        self._backoff = 1.0
        self._reconnect_task: asyncio.Task[None] | None = None
        # slixmpp's client-oriented handlers track presence in a roster for
        # every JID we serve; a MUC must not (memory grows with every join).
        for name in ("IM", "IMError", "Presence"):
            self.remove_handler(name)
        self.add_event_handler("session_start", self._online)
        self.add_event_handler("disconnected", self._disconnected)
        self.add_event_handler("stream_error", self._stream_error)
        self.add_event_handler("connection_failed", self._connection_failed)

    def route(self, router: Any) -> None:
        """One callback per stanza kind, all into the router (ARCHITECTURE: routing)."""
        ns = self.default_ns
        self.register_handler(Callback("haven-presence", MatchXPath(f"{{{ns}}}presence"),
                                       router.on_presence))
        self.register_handler(Callback("haven-message", MatchXPath(f"{{{ns}}}message"),
                                       router.on_message))
        self.register_handler(Callback("haven-iq", MatchXPath(f"{{{ns}}}iq"), router.on_iq))

    # ------------------------------------------------------------ lifecycle
    def _online(self, _event: Any) -> None:
        self._backoff = 1.0
        self.online.set()
        self.event("haven_stream_online", self)

    def _stream_error(self, error: Any) -> None:
        condition = error["condition"]
        if condition == "not-authorized":
            self.fatal = ("the server refused the component's secret (stream error "
                          "not-authorized): check [component] secret and jid")
        elif condition == "conflict":
            log.error("The server says another component is already connected as %s",
                      self.boundjid)
        else:
            log.error("Stream error from the server: %s %s", condition, error["text"])

    def _connection_failed(self, error: Any) -> None:
        log.warning("Can't connect to %s:%s (%s); retrying", self.server_host,
                    self.server_port, error)

    def _disconnected(self, reason: Any) -> None:
        self.online.clear()
        self.event("haven_stream_offline", self)
        if self.stopping or self.fatal:
            return
        delay = self._backoff
        self._backoff = min(self._backoff * 2, MAX_BACKOFF)
        log.warning("Stream %s disconnected from the server (%s); reconnecting in %.0fs",
                    self.label, reason, delay)
        self._reconnect_task = asyncio.ensure_future(self._reconnect_after(delay))

    async def _reconnect_after(self, delay: float) -> None:
        await asyncio.sleep(delay)
        if not self.stopping:
            self.connect()

    def reschedule_connection_attempt(self) -> asyncio.Future | None:  # type: ignore[override]
        """Cap slixmpp's own back-off for failed connects at MAX_BACKOFF."""
        self._connect_loop_wait = min(self._connect_loop_wait, MAX_BACKOFF / 2)
        return super().reschedule_connection_attempt()

    async def stop(self) -> None:
        """Close the stream for good (no reconnect)."""
        self.stopping = True
        if self._reconnect_task is not None:
            self._reconnect_task.cancel()
        self.cancel_connection_attempt()
        if self.transport is not None:
            await self.disconnect(wait=2.0)


class StreamPool:
    """The component's streams to the server: one on Prosody, N on ejabberd.

    ejabberd's ``domain_balancing`` with ``component_number: N`` hashes each
    room JID onto one of N slots, one per component connection, and drops
    stanzas for a slot with no connection (see SERVERS.md). One Haven process
    therefore opens N streams; every stream feeds the same router, and replies
    may leave through any stream of the domain.
    """

    def __init__(self, jid: str, secret: str, host: str, port: int, count: int = 1) -> None:
        self.streams = [HavenComponent(jid, secret, host, port, label=f"{i + 1}/{count}")
                        for i in range(count)]
        self.jid = jid
        self.default_ns = self.streams[0].default_ns
        self.all_online = asyncio.Event()
        for stream in self.streams:
            stream.add_event_handler("haven_stream_online", self._changed)
            stream.add_event_handler("haven_stream_offline", self._changed)

    def _changed(self, stream: HavenComponent) -> None:
        online = sum(1 for s in self.streams if s.online.is_set())
        if online == len(self.streams):
            if not self.all_online.is_set():
                self.all_online.set()
                first = self.streams[0]
                log.info("Haven component online as %s (server %s:%s, %d stream%s)", self.jid,
                         first.server_host, first.server_port, online,
                         "" if online == 1 else "s")
        elif self.all_online.is_set():
            self.all_online.clear()
            log.warning("%d of %d streams online", online, len(self.streams))

    @property
    def online(self) -> bool:
        return any(s.online.is_set() for s in self.streams)

    @property
    def fatal(self) -> str | None:
        return next((s.fatal for s in self.streams if s.fatal), None)

    def route(self, router: Any) -> None:
        for stream in self.streams:
            stream.route(router)

    def connect(self) -> None:
        for stream in self.streams:
            stream.connect()

    def send_raw_safe(self, data: str) -> None:
        """Write on the first stream that is up (any stream of the domain may send)."""
        for stream in self.streams:
            transport = stream.transport
            if stream.online.is_set() and transport is not None and not transport.is_closing():
                transport.write(data.encode())
                return
        log.debug("No stream online; dropped an outgoing stanza")

    async def stop(self) -> None:
        await asyncio.gather(*(s.stop() for s in self.streams))
