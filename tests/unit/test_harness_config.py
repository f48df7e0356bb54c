"""The harness's config writers (TOML for Haven, Prosody and ejabberd configs): no servers."""

from __future__ import annotations

import tomllib
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.harness.client import TestClient, is_message, is_presence, status_codes
from tests.harness.component import DEFAULT_ROOMS, HavenProcess, dump_toml
from tests.harness.servers import EjabberdServer, ProsodyServer, free_ports

REPO = Path(__file__).resolve().parents[2]


def fake_server(**kw: object) -> SimpleNamespace:
    """An object with the attributes HavenProcess and TestClient read."""
    base = {
        "domain": "localhost",
        "host": "127.0.0.1",
        "c2s_port": 5222,
        "component_port": 5347,
        "component_domain": "rooms.localhost",
        "component_secret": "s3cret",
        "component_connections": 1,
        "needs_registration": False,
    }
    base.update(kw)
    return SimpleNamespace(**base)


def test_dump_toml_round_trips() -> None:
    data = {
        "top": 1,
        "component": {"jid": "rooms.localhost", "port": 5347, "flag": True, "skip": None},
        "service": {"admins": ["a@b", "c@d"], "name": 'Q"uote\\ \n\t\x7f é 😀', "ratio": 0.5},
        "nested": {"inner": {"k": "v"}, "inline": [{"a": 1}, {"b": [1, 2]}]},
        "rooms": [{"id": "one", "max_users": 3}, {"id": "two", "public": False}],
    }
    parsed = tomllib.loads(dump_toml(data))
    expected = dict(data)
    expected["component"] = {"jid": "rooms.localhost", "port": 5347, "flag": True}
    assert parsed == expected


def test_haven_config_matches_the_agreed_schema(tmp_path: Path) -> None:
    haven = HavenProcess(
        fake_server(),
        workdir=tmp_path,
        service_overrides={"room_creation": "anyone"},
    )
    cfg = tomllib.loads(haven.write_config().read_text())
    assert cfg["component"] == {
        "jid": "rooms.localhost",
        "secret": "s3cret",
        "server_host": "127.0.0.1",
        "server_port": 5347,
    }
    assert cfg["database"] == {"url": f"sqlite:///{tmp_path}/haven.db"}
    assert cfg["database"]["url"].startswith("sqlite:////")
    assert cfg["service"] == {
        "name": "Haven",
        "admins": ["admin@localhost"],
        "room_creation": "anyone",
        "log_level": "DEBUG",
    }
    assert [r["id"] for r in cfg["rooms"]] == ["anxiety", "grief"]
    assert cfg["rooms"] == DEFAULT_ROOMS
    assert set(cfg["rooms"][0]) == {
        "id", "name", "description", "guidelines", "subject", "language", "public",
        "persistent", "moderated", "members_only", "max_users", "allowpm", "whois",
    }  # fmt: skip
    assert haven.room("grief") == "grief@rooms.localhost"


def test_haven_config_connections_for_balanced_domains(tmp_path: Path) -> None:
    haven = HavenProcess(fake_server(component_connections=8), workdir=tmp_path, rooms=[])
    cfg = tomllib.loads(haven.write_config().read_text())
    assert cfg["component"]["connections"] == 8
    assert "rooms" not in cfg


def test_prosody_config_renders(tmp_path: Path) -> None:
    server = ProsodyServer(component_secret="xyz")
    server.workdir = tmp_path
    server.log_path = tmp_path / "prosody.log"
    server.c2s_port, server.component_port, server.http_port = free_ports(3)
    text = server.render_config()
    assert f"c2s_ports = {{ {server.c2s_port} }}" in text
    assert 'Component "rooms.localhost"\n    component_secret = "xyz"' in text
    assert 'Component "conference.localhost" "muc"' in text
    assert 'authentication = "insecure"' in text
    assert 'storage = "memory"' in text
    assert "${" not in text
    deploy = (REPO / "deploy" / "prosody-component.cfg.lua").read_text()
    assert 'Component "rooms.example.org"' in deploy
    assert "component_secret" in deploy


def test_ejabberd_config_renders() -> None:
    server = EjabberdServer(component_secret="xyz")
    server.c2s_port, server.component_port = 15222, 15347
    text = server.render_config()
    assert "${" not in text
    assert text.count('ip: "127.0.0.1"') == 2
    assert "module: ejabberd_service" in text
    assert '"rooms.localhost":\n        password: "xyz"' in text
    assert "type: bare_destination" in text and "component_number: 8" in text
    assert server.component_connections == 8
    unbalanced = EjabberdServer(component_number=None)
    assert "domain_balancing" not in unbalanced.render_config()
    assert unbalanced.component_connections == 1
    ctl = server.render_ctl_config()
    assert "EJABBERD_CONFIG_PATH=" not in ctl and "EJABBERD_PID_PATH=" not in ctl
    assert "inet_dist_use_interface {127,0,0,1}" in ctl
    deploy = (REPO / "deploy" / "ejabberd-component.yml").read_text()
    for line in ("module: ejabberd_service", "type: bare_destination", "component_number: 8"):
        assert line in deploy


def test_predicates_and_status_codes() -> None:
    client = TestClient(fake_server(), "alice")
    pres = client.parse(
        "<presence from='r@rooms.localhost/Al'><x xmlns='http://jabber.org/protocol/muc#user'>"
        "<status code='110'/><status code='170'/></x></presence>"
    )
    assert status_codes(pres) == {110, 170}
    assert is_presence(pres, frm="r@rooms.localhost", codes=[110])
    assert is_presence(pres, frm="r@rooms.localhost/Al", ptype="available")
    assert not is_presence(pres, frm="r@rooms.localhost/Bo")
    msg = client.parse(
        "<message from='r@rooms.localhost/Al' type='groupchat'><body>hi</body></message>"
    )
    assert is_message(msg, mtype="groupchat", body="hi")
    assert not is_message(pres)
    with pytest.raises(ValueError):
        client.parse("<foo/>")


async def test_expect_keeps_unmatched_stanzas() -> None:
    client = TestClient(fake_server(), "alice")
    for body in ("a", "b", "c"):
        client._incoming(client.parse(f"<message type='chat'><body>{body}</body></message>"))
    got = await client.expect(lambda s: is_message(s, body="b"), timeout=0.1)
    assert got["body"] == "b"
    assert [s["body"] for s in client.inbox] == ["a", "c"]
    assert len(client.received) == 3
    with pytest.raises(AssertionError, match="no matching stanza"):
        await client.expect(lambda s: is_message(s, body="zzz"), timeout=0.05)
    with pytest.raises(AssertionError, match="unexpected stanza"):
        await client.expect_nothing(lambda s: is_message(s, body="a"), timeout=0.05)
    await client.expect_nothing(lambda s: is_message(s, body="b"), timeout=0.05)
    assert len(client.drain()) == 2 and client.inbox == []
