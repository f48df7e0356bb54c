"""The test harness itself, against real servers: logins, chat, component process control."""

from __future__ import annotations

import asyncio
import sys

import pytest

from tests.harness.client import TestClient, is_iq, is_message, is_presence
from tests.harness.component import HavenProcess, component_available
from tests.harness.servers import XMPPServer, port_open

FAKE_HAVEN = [sys.executable, "-m", "tests.harness.fake_component", "--config", "{config}"]
DISCO_INFO = "http://jabber.org/protocol/disco#info"


async def test_two_clients_exchange_chat(xmpp_server: XMPPServer) -> None:
    """Two accounts log in over plain TCP (SASL PLAIN) and exchange chat messages."""
    async with (
        TestClient(xmpp_server, "h-alice", "pw-alice") as alice,
        TestClient(xmpp_server, "h-bob", "pw-bob") as bob,
    ):
        assert alice.jid.bare == f"h-alice@{xmpp_server.domain}"
        msg_id = alice.message(bob.jid, "hello bob")
        got = await bob.expect(lambda s: is_message(s, frm=alice.jid, body="hello bob"))
        assert got["id"] == msg_id
        assert got["type"] == "chat"

        bob.message(alice.jid, "hi alice")
        await alice.expect(lambda s: is_message(s, frm=bob.bare, body="hi alice"))
        await alice.expect_nothing(lambda s: is_message(s), timeout=0.3)


async def test_inbox_keeps_unmatched_and_iq_helpers(xmpp_server: XMPPServer) -> None:
    """expect() takes only the match; iq() returns results and errors; disco is not answered."""
    async with (
        TestClient(xmpp_server, "h-carol", "pw") as carol,
        TestClient(xmpp_server, "h-dave", "pw", resource="desk") as dave,
    ):
        for i in range(3):
            carol.message(dave.jid, f"m{i}")
        second = await dave.expect(lambda s: is_message(s, body="m1"))
        assert second["body"] == "m1"
        await dave.expect(lambda s: is_message(s, body="m2"))
        # m0 arrived first, did not match, and is still there.
        assert [s["body"] for s in dave.inbox if is_message(s)] == ["m0"]
        assert [s["body"] for s in dave.received if is_message(s)] == ["m0", "m1", "m2"]
        assert len(dave.drain()) >= 1
        assert dave.inbox == []

        result = await carol.iq(
            f"<iq type='get' to='{xmpp_server.domain}'><query xmlns='{DISCO_INFO}'/></iq>"
        )
        assert result["type"] == "result"
        assert DISCO_INFO in result["disco_info"]["features"]

        error = await carol.iq(
            f"<iq type='get' to='nobody@{xmpp_server.domain}/x'><ping xmlns='urn:xmpp:ping'/></iq>"
        )
        assert error["type"] == "error"

        ping = await carol.iq(
            f"<iq type='get' to='{dave.jid.full}'><ping xmlns='urn:xmpp:ping'/></iq>"
        )
        assert ping["type"] == "result"

        # A disco query reaches the test (slixmpp does not answer it); raw iq responses
        # come back in the inbox.
        carol.send_raw(
            f"<iq type='get' id='raw-1' to='{dave.jid.full}'><query xmlns='{DISCO_INFO}'/></iq>"
        )
        query = await dave.expect(lambda s: is_iq(s, itype="get", ns=DISCO_INFO))
        reply = query.reply()
        reply.enable("disco_info")
        reply["disco_info"].add_feature("urn:example:test")
        dave.send(reply)
        answer = await carol.expect(lambda s: is_iq(s, itype="result") and s["id"] == "raw-1")
        assert "urn:example:test" in answer["disco_info"]["features"]


async def test_same_account_two_resources(xmpp_server: XMPPServer) -> None:
    """Two sessions of one account with different resources, with initial presence."""
    async with (
        TestClient(xmpp_server, "h-erin", "pw", resource="phone", initial_presence=True) as phone,
        TestClient(xmpp_server, "h-erin", "pw", resource="laptop", initial_presence=True) as laptop,
    ):
        assert phone.jid.bare == laptop.jid.bare
        assert phone.jid.resource == "phone"
        assert laptop.jid.resource == "laptop"
        # The first session sees the second one come online.
        await phone.expect(lambda s: is_presence(s, frm=laptop.jid.full, ptype="available"))
        laptop.message(phone.jid, "to myself")
        await phone.expect(lambda s: is_message(s, frm=laptop.jid, body="to myself"))


async def test_many_clients_concurrently(xmpp_server: XMPPServer) -> None:
    """Twenty clients connect at once in one event loop and each gets a message."""
    accounts = [(f"h-many{i}", f"pw-{i}-é") for i in range(20)]
    await xmpp_server.register_many_async(accounts)  # one batch (ejabberd), a no-op on Prosody
    clients = [TestClient(xmpp_server, user, pw) for user, pw in accounts]
    await asyncio.gather(*(c.connect() for c in clients))
    try:
        sender = clients[0]
        for c in clients[1:]:
            sender.message(c.jid, f"to {c.user}")
        await asyncio.gather(
            *(c.expect(lambda s, c=c: is_message(s, body=f"to {c.user}")) for c in clients[1:])
        )
    finally:
        await asyncio.gather(*(c.disconnect() for c in clients))


async def test_component_process_restart(xmpp_server: XMPPServer, tmp_path) -> None:
    """HavenProcess runs a stand-in component, restarts it mid-test, and stops it cleanly."""
    haven = HavenProcess(xmpp_server, command=FAKE_HAVEN, workdir=tmp_path / "fake")
    async with haven, TestClient(xmpp_server, "h-frank", "pw") as frank:
        room = haven.room_jid("anxiety")
        frank.message(room, "ping 1")
        echo = await frank.expect(lambda s: is_message(s, frm=room, body="echo: ping 1"))
        assert echo["type"] == "chat"
        info = await frank.iq(f"<iq type='get' to='{haven.jid}'><query xmlns='{DISCO_INFO}'/></iq>")
        assert info["type"] == "result"
        assert [i[0] for i in info["disco_info"]["identities"]] == ["conference"]

        assert await haven.restart_async() == 0
        # Several rooms, so that on ejabberd every balancing slot must be served again.
        for room_id in ("anxiety", "grief", "lounge", "depression"):
            frank.message(haven.room_jid(room_id), f"after restart {room_id}")
            await frank.expect(lambda s, r=room_id: is_message(s, body=f"echo: after restart {r}"))

        assert haven.kill() == -9
        await haven.start_async()
        frank.message(room, "ping 3")
        await frank.expect(lambda s: is_message(s, body="echo: ping 3"))
    assert haven.returncode == 0
    assert "Haven component online" in haven.log_text()


def test_server_ports_are_loopback(xmpp_server: XMPPServer) -> None:
    """The c2s and component ports answer on 127.0.0.1."""
    assert xmpp_server.host == "127.0.0.1"
    assert port_open(xmpp_server.c2s_port)
    assert port_open(xmpp_server.component_port)


@pytest.mark.skipif(
    not component_available(),
    reason="component/__main__.py does not exist yet (Haven is being written)",
)
async def test_real_haven_comes_online(xmpp_server: XMPPServer, haven_factory) -> None:
    """The real component starts, answers disco#info on its domain and stops with code 0."""
    haven = haven_factory(xmpp_server)
    async with TestClient(xmpp_server, "h-admin", "pw") as client:
        info = await client.iq(
            f"<iq type='get' to='{haven.jid}'><query xmlns='{DISCO_INFO}'/></iq>"
        )
        assert info["type"] == "result", info
    assert await haven.stop_async() == 0
