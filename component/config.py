"""The service's TOML config file: loading and validation.

Every problem is reported as a :class:`ConfigError` whose text names the
table and key and says what is wrong, so ``haven run`` can print it instead
of a traceback. See ``deploy/haven.example.toml`` for a commented example.
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from slixmpp.jid import JID, InvalidJID

from muc.config import ALLOWPM_VALUES, ROOM_CREATION_VALUES, WHOIS_VALUES, RoomConfig
from muc.nick import NickError
from muc.roles import OCCUPANT_ROLES

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
LIVE_ONLY = {"hats", "hat_assignments"}  # managed in the running service, not in the file


class ConfigError(Exception):
    """The config file can't be used; ``str()`` is the message for the operator."""


@dataclass
class RoomSpec:
    """One ``[[rooms]]`` entry: a room the operator provisions."""

    localpart: str
    config: RoomConfig
    subject: str = ""
    owners: list[str] = field(default_factory=list)


@dataclass
class HavenConfig:
    """The whole validated config file."""

    jid: str
    secret: str
    server_host: str
    server_port: int
    database_url: str
    connections: int = 1
    name: str = "Haven"
    admins: list[str] = field(default_factory=list)
    room_creation: str = "admins"
    max_message_bytes: int = 10_000
    max_history_fetch: int = 50
    retention_days: float = 30.0
    purge_interval: float = 3600.0
    log_level: str = "INFO"
    rooms: list[RoomSpec] = field(default_factory=list)
    path: Path | None = None

    @property
    def occupant_id_secret(self) -> bytes:
        """A key for XEP-0421 ids derived from the component secret."""
        return hashlib.sha256(b"haven occupant-id\0" + self.secret.encode()).digest()


def _get(table: dict[str, Any], key: str, where: str, kind: type | tuple[type, ...],
         default: Any = ..., *, required: bool = False) -> Any:
    if key not in table:
        if required or default is ...:
            raise ConfigError(f"[{where}] {key} is missing")
        return default
    value = table[key]
    if (kind is int and isinstance(value, bool)) or not isinstance(value, kind):
        names = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
        raise ConfigError(f"[{where}] {key} must be a {names}, got {value!r}")
    return value


def _jid(value: str, where: str, *, bare: bool = True, domain_only: bool = False) -> str:
    try:
        jid = JID(value)
    except InvalidJID as exc:
        raise ConfigError(f"{where}: {value!r} is not a valid JID ({exc})") from exc
    if not value or (domain_only and (jid.user or jid.resource)):
        raise ConfigError(f"{where}: {value!r} must be a domain such as rooms.example.org")
    if bare and jid.resource:
        raise ConfigError(f"{where}: {value!r} must be a bare JID (no /resource)")
    return jid.full


def _non_negative(svc: dict[str, Any], key: str, default: float) -> float:
    value = _get(svc, key, "service", (int, float), default)
    if isinstance(value, bool) or value < 0:
        raise ConfigError(f"[service] {key} must be a number >= 0, got {value!r}")
    return float(value)


def _choice(value: str, allowed: tuple[str, ...], where: str) -> str:
    if value not in allowed:
        raise ConfigError(f"{where} must be one of {', '.join(allowed)}; got {value!r}")
    return value


def _room(entry: Any, index: int) -> RoomSpec:
    where = f"rooms[{index}]"
    if not isinstance(entry, dict):
        raise ConfigError(f"{where} must be a table ([[rooms]])")
    localpart = _get(entry, "id", where, str, required=True)
    try:
        node = JID(f"{localpart}@example.org").user
    except InvalidJID as exc:
        raise ConfigError(f"[{where}] id {localpart!r} can't be a room name: {exc}") from exc
    if not localpart or node != localpart:
        raise ConfigError(f"[{where}] id {localpart!r} must be lower-case and valid as the "
                          f"local part of a JID (e.g. 'anxiety')")
    defaults = RoomConfig()
    file_keys = {k: v for k, v in defaults.to_dict().items() if k not in LIVE_ONLY}
    known = {"id", "subject", "owners", *file_keys}
    unknown = sorted(set(entry) - known)
    if unknown:
        raise ConfigError(f"[{where}] unknown key(s): {', '.join(unknown)}")
    values: dict[str, Any] = {}
    for key, default in file_keys.items():
        if key not in entry:
            continue
        kind: type | tuple[type, ...] = type(default)
        value = _get(entry, key, where, kind)
        if kind is int and value < 0:
            raise ConfigError(f"[{where}] {key} must not be negative")
        values[key] = value
    if "allowpm" in values:
        _choice(values["allowpm"], ALLOWPM_VALUES, f"[{where}] allowpm")
    if "whois" in values:
        _choice(values["whois"], WHOIS_VALUES, f"[{where}] whois")
    for key in ("presence_broadcast", "getmemberlist"):
        for role in values.get(key, []):
            _choice(role, OCCUPANT_ROLES, f"[{where}] {key} entries")
    values.setdefault("name", localpart.capitalize())
    owners = [_jid(o, f"[{where}] owners") for o in _get(entry, "owners", where, list, [])]
    return RoomSpec(localpart, RoomConfig.from_dict(values),
                    _get(entry, "subject", where, str, ""), owners)


def parse(data: dict[str, Any], path: Path | None = None) -> HavenConfig:
    """Validate a parsed TOML document."""
    comp = data.get("component")
    if not isinstance(comp, dict):
        raise ConfigError("[component] table is missing (jid, secret, server_host, server_port)")
    jid = _jid(_get(comp, "jid", "component", str, required=True), "[component] jid",
               domain_only=True)
    secret = _get(comp, "secret", "component", str, required=True)
    if not secret.strip():
        raise ConfigError("[component] secret is empty: set the shared secret from the "
                          "server's component configuration")
    host = _get(comp, "server_host", "component", str, "127.0.0.1")
    port = _get(comp, "server_port", "component", int, 5347)
    if not 0 < port < 65536:
        raise ConfigError(f"[component] server_port {port} is not a TCP port")
    connections = _get(comp, "connections", "component", int, 1)
    if not 1 <= connections <= 64:
        raise ConfigError("[component] connections must be between 1 and 64 (ejabberd's "
                          "domain_balancing component_number; 1 on Prosody)")
    db = data.get("database", {})
    if not isinstance(db, dict):
        raise ConfigError("[database] must be a table")
    url = _get(db, "url", "database", str, "sqlite:///haven.db")
    svc = data.get("service", {})
    if not isinstance(svc, dict):
        raise ConfigError("[service] must be a table")
    admins = [_jid(a, "[service] admins") for a in _get(svc, "admins", "service", list, [])]
    creation = _choice(_get(svc, "room_creation", "service", str, "admins"),
                       ROOM_CREATION_VALUES, "[service] room_creation")
    level = _get(svc, "log_level", "service", str, "INFO").upper()
    _choice(level, LOG_LEVELS, "[service] log_level")
    rooms_raw = data.get("rooms", [])
    if not isinstance(rooms_raw, list):
        raise ConfigError("rooms must be an array of tables ([[rooms]])")
    rooms = [_room(r, i) for i, r in enumerate(rooms_raw)]
    seen: set[str] = set()
    for r in rooms:
        if r.localpart in seen:
            raise ConfigError(f"room id {r.localpart!r} is defined twice")
        seen.add(r.localpart)
    return HavenConfig(
        jid=jid, secret=secret, server_host=host, server_port=port, database_url=url,
        connections=connections,
        name=_get(svc, "name", "service", str, "Haven"), admins=admins,
        room_creation=creation,
        max_message_bytes=_get(svc, "max_message_bytes", "service", int, 10_000),
        max_history_fetch=_get(svc, "max_history_fetch", "service", int, 50),
        retention_days=_non_negative(svc, "retention_days", 30.0),
        purge_interval=_non_negative(svc, "purge_interval", 3600.0) or 3600.0,
        log_level=level, rooms=rooms, path=path,
    )


def load(path: str | Path) -> HavenConfig:
    """Read and validate the config file at ``path``."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise ConfigError(f"can't read config file {p}: {exc.strerror}") from exc
    try:
        data = tomllib.loads(raw.decode())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{p} is not valid TOML: {exc}") from exc
    return parse(data, p)


__all__ = ["ConfigError", "HavenConfig", "NickError", "RoomSpec", "load", "parse"]
