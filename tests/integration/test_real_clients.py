"""A real, independent XMPP client uses Haven: go-sendxmpp (Debian) joins and speaks.

go-sendxmpp is a standard command-line client (go-xmpp); it refuses to log in
without TLS, so this Prosody offers STARTTLS with a self-signed certificate.
What it sends is checked from a slixmpp occupant's side, on the wire.
"""

from __future__ import annotations

import asyncio
import shutil

import pytest

from tests.conftest import missing
from tests.harness.client import TestClient
from tests.harness.servers import ProsodyServer
from tests.integration.conftest import ROOMS, Haven
from tests.integration.muc_helpers import (
    codes,
    groupchat,
    item,
    occupant_id,
    presence_from,
    stanza_id,
)

pytestmark = pytest.mark.integration


async def test_go_sendxmpp_joins_and_posts(haven_factory) -> None:
    """go-sendxmpp -c: it enters anxiety@ and its message reaches the other occupants."""
    binary = shutil.which("go-sendxmpp")
    if binary is None:
        missing("go-sendxmpp is not installed (scripts/install-deps)")
    with ProsodyServer(tls=True) as server:
        haven = Haven(haven_factory(server, rooms=ROOMS))
        room = haven.room("anxiety")
        async with TestClient(server, "bob") as bob:
            await bob.join(room, "Bob")
            proc = await asyncio.create_subprocess_exec(
                binary, "-u", f"gouser@{server.domain}", "-p", "any-password",
                "-j", f"127.0.0.1:{server.c2s_port}", "-n", "-c", "-a", "GoClient",
                "--timeout", "20", room,
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT)
            out, _ = await asyncio.wait_for(
                proc.communicate(b"hello from a real client\n"), timeout=60)
            assert proc.returncode == 0, out.decode(errors="replace")
            joined = await bob.expect(presence_from(f"{room}/GoClient"), timeout=10)
            assert "jid" not in item(joined)  # semi-anonymous: Bob can't see gouser@
            msg = await bob.expect(groupchat("hello from a real client", f"{room}/GoClient"))
            assert stanza_id(msg)[1] == room and occupant_id(msg)
            left = await bob.expect(presence_from(f"{room}/GoClient", available=False),
                                    timeout=20)
            assert 110 not in codes(left)
