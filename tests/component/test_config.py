"""Config file validation: every mistake is a clear sentence, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from component.cli import main
from component.config import ConfigError, load, parse

BASE = {"component": {"jid": "rooms.example.org", "secret": "s3cret"}}


def with_(**tables: object) -> dict[str, object]:
    data: dict[str, object] = {k: dict(v) if isinstance(v, dict) else v for k, v in BASE.items()}
    data.update(tables)
    return data


def test_minimal_config_gets_haven_defaults() -> None:
    """Only jid and secret are required; the rest defaults to a safe service."""
    cfg = parse(with_(rooms=[{"id": "anxiety"}]))
    assert cfg.server_host == "127.0.0.1" and cfg.server_port == 5347
    assert cfg.database_url == "sqlite:///haven.db"
    assert cfg.room_creation == "admins"
    room = cfg.rooms[0]
    assert room.config.name == "Anxiety"
    assert room.config.allowpm == "moderators" and room.config.whois == "moderators"


@pytest.mark.parametrize(("data", "message"), [
    ({}, "[component] table is missing"),
    ({"component": {"jid": "rooms.example.org"}}, "[component] secret is missing"),
    ({"component": {"jid": "rooms.example.org", "secret": "  "}}, "secret is empty"),
    ({"component": {"jid": "user@rooms.example.org", "secret": "s"}}, "must be a domain"),
    ({"component": {"jid": "bad jid@@", "secret": "s"}}, "not a valid JID"),
    ({"component": {"jid": "r.example", "secret": "s", "server_port": 70000}}, "not a TCP port"),
    ({"component": {"jid": "r.example", "secret": "s", "server_port": "5347"}}, "must be a int"),
    (with_(service={"admins": ["not a jid@@"]}), "not a valid JID"),
    (with_(service={"room_creation": "everyone"}), "room_creation must be one of"),
    (with_(service={"log_level": "LOUD"}), "log_level must be one of"),
    (with_(rooms=[{"name": "no id"}]), "id is missing"),
    (with_(rooms=[{"id": "Anxiety Room"}]), "can't be a room name"),
    (with_(rooms=[{"id": "Anxiety"}]), "must be lower-case"),
    (with_(rooms=[{"id": "a", "allowpm": "friends"}]), "allowpm must be one of"),
    (with_(rooms=[{"id": "a", "whois": "all"}]), "whois must be one of"),
    (with_(rooms=[{"id": "a", "max_users": -1}]), "must not be negative"),
    (with_(rooms=[{"id": "a", "moderated": "yes"}]), "moderated must be a bool"),
    (with_(rooms=[{"id": "a", "colour": "blue"}]), "unknown key(s): colour"),
    (with_(rooms=[{"id": "a"}, {"id": "a"}]), "defined twice"),
])
def test_invalid_configs_say_what_is_wrong(data: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as exc:
        parse(data)
    assert message in str(exc.value)


def test_unreadable_and_invalid_toml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="can't read config file"):
        load(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[component\njid = 1")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load(bad)


def test_example_config_is_valid() -> None:
    """The commented example in deploy/ parses (it is what operators copy)."""
    cfg = load(Path(__file__).parents[2] / "deploy" / "haven.example.toml")
    assert cfg.jid == "rooms.example.org"
    assert [r.localpart for r in cfg.rooms] == ["anxiety", "grief"]
    assert cfg.rooms[1].config.moderated is True


def test_check_config_reports_unreachable_database(tmp_path: Path) -> None:
    """``haven check-config`` prints one clear line and exits non-zero, no traceback."""
    path = tmp_path / "haven.toml"
    path.write_text('[component]\njid = "rooms.example.org"\nsecret = "s"\n'
                    '[database]\nurl = "postgresql://nobody@127.0.0.1:1/nothing"\n')
    result = CliRunner().invoke(main, ["check-config", "--config", str(path)])
    assert result.exit_code == 1
    assert "database: can't reach the database" in result.output
    assert "Traceback" not in result.output


def test_run_refuses_a_missing_secret(tmp_path: Path) -> None:
    path = tmp_path / "haven.toml"
    path.write_text('[component]\njid = "rooms.example.org"\n')
    result = CliRunner().invoke(main, ["run", "--config", str(path)])
    assert result.exit_code == 1
    assert "config: [component] secret is missing" in result.output


def test_check_config_ok_and_db_commands(tmp_path: Path) -> None:
    path = tmp_path / "haven.toml"
    db = tmp_path / "h.db"
    path.write_text(f'[component]\njid = "rooms.example.org"\nsecret = "s"\n'
                    f'[database]\nurl = "sqlite:///{db}"\n[[rooms]]\nid = "grief"\n')
    runner = CliRunner()
    ok = runner.invoke(main, ["check-config", "--config", str(path)])
    assert ok.exit_code == 0 and "1 room(s)" in ok.output
    from admin_cli.main import cli as admin

    before = runner.invoke(admin, ["--config", str(path), "db", "current"])
    assert "current: (empty)" in before.output
    up = runner.invoke(admin, ["--config", str(path), "db", "upgrade"])
    assert up.exit_code == 0 and "revision 0002" in up.output
    listed = runner.invoke(admin, ["--config", str(path), "rooms", "list", "--json"])
    assert listed.exit_code == 0 and listed.output.strip() == "[]"


def test_check_config_does_not_create_sqlite_but_checks_its_folder(tmp_path: Path) -> None:
    """Checking changes nothing; a SQLite file in a missing folder is a clear error."""
    runner = CliRunner()
    good = tmp_path / "ok.toml"
    good.write_text(f'[component]\njid = "rooms.example.org"\nsecret = "s"\n'
                    f'[database]\nurl = "sqlite:///{tmp_path / "new.db"}"\n')
    assert runner.invoke(main, ["check-config", "--config", str(good)]).exit_code == 0
    assert not (tmp_path / "new.db").exists()
    bad = tmp_path / "bad.toml"
    bad.write_text(f'[component]\njid = "rooms.example.org"\nsecret = "s"\n'
                   f'[database]\nurl = "sqlite:///{tmp_path / "nope" / "h.db"}"\n')
    result = runner.invoke(main, ["check-config", "--config", str(bad)])
    assert result.exit_code == 1 and "doesn't exist or isn't writable" in result.output


def test_room_policy_keys_and_live_only_keys() -> None:
    cfg = parse(with_(rooms=[{"id": "a", "slow_mode": 10, "allow_invites": True,
                              "presence_broadcast": ["moderator", "participant"]}]))
    assert cfg.rooms[0].config.slow_mode == 10
    with pytest.raises(ConfigError, match="presence_broadcast entries must be one of"):
        parse(with_(rooms=[{"id": "a", "presence_broadcast": ["everyone"]}]))
    with pytest.raises(ConfigError, match="unknown key"):
        parse(with_(rooms=[{"id": "a", "hats": []}]))
