"""Wiring: config -> database -> MUC service -> component stream, and shutdown.

Start-up order: validate config, reach the database and migrate it, load the
stored rooms, provision the configured ones, then connect. On SIGTERM or
SIGINT: tell occupants the service is going away (status 332), flush the
write-behind queue, close the stream and exit 0.
"""

from __future__ import annotations

import asyncio
import logging
import signal

from component import adhoc, disco
from component.config import HavenConfig
from component.routing import Router
from component.sender import XmppSender
from component.stream import StreamPool
from muc.config import ServiceSettings
from muc.service import MucService
from muc.storage.store import Store
from muc.storage.writer import WriteBehindStore

log = logging.getLogger("haven")


class HavenApp:
    """One running Haven service."""

    def __init__(self, cfg: HavenConfig) -> None:
        self.cfg = cfg
        self.store = Store(cfg.database_url)
        self.store.check()
        self.store.upgrade()
        self.writer = WriteBehindStore(self.store)
        self.xmpp = StreamPool(cfg.jid, cfg.secret, cfg.server_host, cfg.server_port,
                               cfg.connections)
        disco.register()
        adhoc.register()
        settings = ServiceSettings(
            name=cfg.name, admins=frozenset(cfg.admins), room_creation=cfg.room_creation,  # type: ignore[arg-type]
            max_message_bytes=cfg.max_message_bytes, max_history_fetch=cfg.max_history_fetch,
            occupant_id_secret=cfg.occupant_id_secret, retention_days=cfg.retention_days,
        )
        self.sender = XmppSender(self.xmpp.send_raw_safe, self.xmpp.default_ns)
        self.service = MucService(cfg.jid, settings, self.sender, self.writer)
        self.service.load(self.store.load_rooms(cfg.max_history_fetch))
        for spec in cfg.rooms:
            self.service.provision(spec.localpart, spec.config, subject=spec.subject,
                                   owners=spec.owners)
        self.xmpp.route(Router(self.xmpp.send_raw_safe, self.xmpp.default_ns, self.service,
                               archive=self.store.engine))
        self._stop = asyncio.Event()
        log.info("Serving %d room(s) on %s", len(self.service.rooms), cfg.jid)

    def request_stop(self) -> None:
        self._stop.set()

    async def run(self) -> int:
        """Connect and serve until asked to stop; returns the exit code."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.request_stop)
        self.xmpp.connect()
        purger = asyncio.ensure_future(self._purge_periodically())
        stopper = asyncio.ensure_future(self._stop.wait())
        while not self._stop.is_set():
            await asyncio.wait([stopper], timeout=0.5)
            if self.xmpp.fatal:
                log.error("Stopping: %s", self.xmpp.fatal)
                await self.shutdown()
                return 2
        purger.cancel()
        await self.shutdown()
        return 0

    async def _purge_periodically(self) -> None:
        """Archive retention, off the hot path: at start, then every purge_interval."""
        while True:
            try:
                self.service.purge_expired()
            except Exception:
                log.exception("Retention purge failed; will retry")
            await asyncio.sleep(self.cfg.purge_interval)

    async def shutdown(self) -> None:
        """§11.2 status 332 to occupants, flush storage, close the stream."""
        log.info("Shutting down")
        if self.xmpp.online:
            self.service.shutdown()
        self.writer.close()
        await self.xmpp.stop()
        self.store.dispose()
        log.info("Stopped cleanly")
