"""A stand-in for Haven, to test the harness itself: ``python -m tests.harness.fake_component``.

It reads the same TOML config as Haven, connects to the server as the external component
(XEP-0114) with ``[component] connections`` streams (default 1), logs
``Haven component online`` once every handshake succeeded, answers disco#info
on its domain (identity ``conference/text``, name from ``[service] name``), echoes any
``<message>`` back to its sender with ``echo: `` before the body, and on SIGTERM/SIGINT closes
the stream and exits 0.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
import tomllib
from typing import Any

from slixmpp import ComponentXMPP, Message

log = logging.getLogger("fake_component")


class FakeHaven(ComponentXMPP):
    """Minimal component: disco#info identity and message echo."""

    def __init__(self, config: dict[str, Any]) -> None:
        comp = config["component"]
        super().__init__(comp["jid"], comp["secret"], comp["server_host"], comp["server_port"])
        self.service_name = config.get("service", {}).get("name", "Haven")
        self.online = asyncio.Event()
        self.register_plugin("xep_0030")
        self["xep_0030"].add_identity("conference", "text", name=self.service_name)
        self["xep_0030"].add_feature("http://jabber.org/protocol/muc")
        self.add_event_handler("session_start", self._on_start)
        self.add_event_handler("message", self._on_message)

    def _on_start(self, _event: Any) -> None:
        log.info("component stream authenticated as %s", self.boundjid)
        self.online.set()

    def _on_message(self, msg: Message) -> None:
        if msg["type"] == "error" or not msg["body"]:
            return
        reply = msg.reply(f"echo: {msg['body']}")
        reply.send()


async def run(config_path: str) -> int:
    """Connect, wait for a signal, disconnect; return the exit code."""
    with open(config_path, "rb") as f:
        config = tomllib.load(f)
    level = config.get("service", {}).get("log_level", "INFO")
    logging.basicConfig(
        level=getattr(logging, str(level).upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    count = int(config["component"].get("connections", 1))
    streams = [FakeHaven(config) for _ in range(count)]
    stop = asyncio.Event()
    lost = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    for xmpp in streams:
        xmpp.add_event_handler("disconnected", lambda _e: lost.set())
        xmpp.connect()
    online = asyncio.ensure_future(asyncio.gather(*(x.online.wait() for x in streams)))
    stopped = asyncio.ensure_future(stop.wait())
    broken = asyncio.ensure_future(lost.wait())
    await asyncio.wait([online, stopped, broken], return_when=asyncio.FIRST_COMPLETED)
    if online.done():
        log.info("Haven component online (%d connection(s))", count)
        await asyncio.wait([stopped, broken], return_when=asyncio.FIRST_COMPLETED)
    for task in (online, stopped, broken):
        task.cancel()
    if not stop.is_set():
        log.error("connection to the server lost")
        return 1
    log.info("shutting down")
    await asyncio.gather(*(x.disconnect(wait=2) for x in streams))
    return 0


def main() -> None:
    """Entry point: ``--config PATH``."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", required=True)
    args = parser.parse_args()
    sys.exit(asyncio.run(run(args.config)))


if __name__ == "__main__":
    main()
