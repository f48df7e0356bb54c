"""Run the Haven component under test as a subprocess.

:class:`HavenProcess` writes a TOML config for a given test server into a temporary folder,
starts ``python -m component --config PATH`` (the same as ``haven run --config PATH``) with
its stdout/stderr in a log file, and waits for the line ``Haven component online``::

    with HavenProcess(server) as haven:       # or: async with HavenProcess(server) as haven
        ...                                    # rooms anxiety@ and grief@rooms.localhost
        haven.restart()                        # stop (SIGTERM) + start, same config and DB
    assert haven.returncode == 0
"""

from __future__ import annotations

import asyncio
import copy
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol

__all__ = [
    "DEFAULT_ROOMS",
    "READY_MARKER",
    "REPO_ROOT",
    "HavenProcess",
    "HavenStartError",
    "component_available",
    "dump_toml",
]

REPO_ROOT = Path(__file__).resolve().parents[2]
#: The log line fragment Haven prints once its component stream is authenticated.
READY_MARKER = "Haven component online"

GUIDELINES = (
    "This is a peer-support room: we are peers, not professionals. Nothing here is medical "
    "advice. Be kind, listen, and do not share other people's stories outside the room. "
    "If you are in immediate danger, contact your local emergency number."
)

#: The rooms a :class:`HavenProcess` configures unless told otherwise.
DEFAULT_ROOMS: list[dict[str, Any]] = [
    {
        "id": "anxiety",
        "name": "Anxiety",
        "description": "Peer support for living with anxiety and panic.",
        "guidelines": GUIDELINES,
        "subject": "Welcome. Take a breath; you are among peers.",
        "language": "en",
        "public": True,
        "persistent": True,
        "moderated": False,
        "members_only": False,
        "max_users": 50,
        "allowpm": "moderators",
        "whois": "moderators",
    },
    {
        "id": "grief",
        "name": "Grief",
        "description": "A quiet room for people living with loss.",
        "guidelines": GUIDELINES,
        "subject": "Share as much or as little as you like.",
        "language": "en",
        "public": True,
        "persistent": True,
        "moderated": False,
        "members_only": False,
        "max_users": 50,
        "allowpm": "moderators",
        "whois": "moderators",
    },
]


class HavenStartError(RuntimeError):
    """Haven exited or did not report ready in time; the message holds the log tail."""


class ComponentServer(Protocol):
    """What :class:`HavenProcess` needs from a server (see tests/harness/servers.py)."""

    domain: str
    host: str
    component_port: int
    component_domain: str
    component_secret: str


def component_available() -> bool:
    """True once the ``component`` package can be run with ``python -m component``."""
    return (REPO_ROOT / "component" / "__main__.py").exists()


# -- TOML -----------------------------------------------------------------------------------------

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
}


def _toml_key(key: str) -> str:
    return key if _BARE_KEY.match(key) else _toml_str(key)


def _toml_str(value: str) -> str:
    out = []
    for ch in value:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return _toml_str(value)
    if isinstance(value, Path):
        return _toml_str(str(value))
    if isinstance(value, Mapping):
        items = [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items() if v is not None]
        return "{ " + ", ".join(items) + " }" if items else "{}"
    if isinstance(value, Sequence):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} to TOML: {value!r}")


def _is_table_array(value: Any) -> bool:
    return (
        isinstance(value, Sequence)
        and not isinstance(value, str)
        and len(value) > 0
        and all(isinstance(v, Mapping) for v in value)
    )


def _dump_table(table: Mapping[str, Any], prefix: str, lines: list[str]) -> None:
    # Plain keys first, then sub-tables, then arrays of tables (TOML needs that order).
    for key, value in table.items():
        if value is None or isinstance(value, Mapping) or _is_table_array(value):
            continue
        lines.append(f"{_toml_key(key)} = {_toml_value(value)}")
    for key, value in table.items():
        if isinstance(value, Mapping):
            name = f"{prefix}{_toml_key(key)}"
            lines.extend(["", f"[{name}]"])
            _dump_table(value, f"{name}.", lines)
    for key, value in table.items():
        if _is_table_array(value):
            name = f"{prefix}{_toml_key(key)}"
            for item in value:
                lines.extend(["", f"[[{name}]]"])
                _dump_table(item, f"{name}.", lines)


def dump_toml(data: Mapping[str, Any]) -> str:
    """Serialize a dict of str/int/float/bool/list/dict to TOML (None values are left out)."""
    lines: list[str] = []
    _dump_table(data, "", lines)
    return "\n".join(lines).lstrip("\n") + "\n"


# -- the process ----------------------------------------------------------------------------------


class HavenProcess:
    """The Haven component as a child process, configured for a test server.

    :param server: a started server (``component_domain``, ``component_secret``, ``host``,
        ``component_port``, ``domain``).
    :param db_url: SQLAlchemy URL of the database; default: a new SQLite file in the workdir.
    :param rooms: the ``[[rooms]]`` entries; default :data:`DEFAULT_ROOMS` (anxiety, grief).
    :param service_overrides: merged into ``[service]``.
    :param component_overrides: merged into ``[component]`` (e.g. another ``jid``).
    :param extra_config: more top-level tables/keys merged into the config.
    :param connections: component streams Haven must open (``[component] connections``);
        default ``server.component_connections`` (1 on Prosody; ejabberd's
        ``domain_balancing`` ``component_number``, 8). The key is written only when > 1.
    :param workdir: folder for config, log and SQLite file; default: a new temporary folder,
        removed by :meth:`cleanup` (called by the context managers).
    :param start_timeout: seconds to wait for ``Haven component online``.
    :param env: extra environment variables for the process.
    :param command: the command to run, ``{config}`` replaced by the config path; default
        ``[sys.executable, "-m", "component", "--config", "{config}"]``.
    """

    def __init__(
        self,
        server: ComponentServer,
        *,
        db_url: str | None = None,
        rooms: Sequence[Mapping[str, Any]] | None = None,
        service_overrides: Mapping[str, Any] | None = None,
        component_overrides: Mapping[str, Any] | None = None,
        extra_config: Mapping[str, Any] | None = None,
        connections: int | None = None,
        workdir: str | Path | None = None,
        start_timeout: float = 20.0,
        env: Mapping[str, str] | None = None,
        command: Sequence[str] | None = None,
    ) -> None:
        self.server = server
        self._own_workdir = workdir is None
        self.workdir = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="haven-run-"))
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.config_path = self.workdir / "haven.toml"
        self.log_path = self.workdir / "haven.log"
        self.db_url = db_url or f"sqlite:///{self.workdir / 'haven.db'}"
        self.rooms = [dict(r) for r in (DEFAULT_ROOMS if rooms is None else rooms)]
        self.service_overrides = dict(service_overrides or {})
        self.component_overrides = dict(component_overrides or {})
        self.extra_config = dict(extra_config or {})
        self.connections = (
            connections
            if connections is not None
            else int(getattr(server, "component_connections", 1) or 1)
        )
        self.start_timeout = start_timeout
        self.env = dict(env or {})
        self.command = list(command or [sys.executable, "-m", "component", "--config", "{config}"])
        self.proc: subprocess.Popen[bytes] | None = None
        #: Exit code of the last process that ended (None while running / never started).
        self.returncode: int | None = None
        self._log_offset = 0

    # -- config --------------------------------------------------------------------------------

    @property
    def jid(self) -> str:
        """The component's domain (``[component] jid``)."""
        return str(self.config()["component"]["jid"])

    @property
    def domain(self) -> str:
        """Same as :attr:`jid`: the component's domain."""
        return self.jid

    def room_jid(self, room_id: str) -> str:
        """``<room_id>@<component domain>``."""
        return f"{room_id}@{self.jid}"

    room = room_jid

    def config(self) -> dict[str, Any]:
        """The configuration as a dict (what :meth:`write_config` serializes)."""
        service: dict[str, Any] = {
            "name": "Haven",
            "admins": [f"admin@{self.server.domain}"],
            "room_creation": "admins",
            "log_level": "DEBUG",
        }
        service.update(self.service_overrides)
        component: dict[str, Any] = {
            "jid": self.server.component_domain,
            "secret": self.server.component_secret,
            "server_host": self.server.host,
            "server_port": self.server.component_port,
        }
        if self.connections > 1:
            component["connections"] = self.connections
        component.update(self.component_overrides)
        cfg: dict[str, Any] = {
            "component": component,
            "database": {"url": self.db_url},
            "service": service,
        }
        for key, value in self.extra_config.items():
            if isinstance(value, Mapping) and isinstance(cfg.get(key), dict):
                cfg[key].update(value)
            else:
                cfg[key] = copy.deepcopy(value)
        if self.rooms:
            cfg["rooms"] = copy.deepcopy(self.rooms)
        return cfg

    def write_config(self) -> Path:
        """Write the TOML config to :attr:`config_path` and return the path."""
        self.config_path.write_text(dump_toml(self.config()))
        return self.config_path

    # -- lifecycle -----------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """True while the child process is alive."""
        return self.proc is not None and self.proc.poll() is None

    @property
    def pid(self) -> int | None:
        """PID of the running process."""
        return self.proc.pid if self.proc is not None else None

    def start(self, timeout: float | None = None) -> HavenProcess:
        """Start Haven and wait until its log says ``Haven component online``.

        :raises HavenStartError: if it exits or stays silent for ``timeout`` seconds (default
            ``start_timeout``); the process is killed and the log tail is in the message.
        """
        if self.running:
            raise RuntimeError("Haven is already running")
        self.write_config()
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p
        )
        env["PYTHONUNBUFFERED"] = "1"
        env.update(self.env)
        args = [a.replace("{config}", str(self.config_path)) for a in self.command]
        self._log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        self.returncode = None
        with open(self.log_path, "ab") as log:
            log.write(f"=== harness: starting {' '.join(args)}\n".encode())
            log.flush()
            self.proc = subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.workdir,
                env=env,
                start_new_session=True,
            )
        deadline = time.monotonic() + (self.start_timeout if timeout is None else timeout)
        while True:
            if READY_MARKER in self.log_since_start():
                return self
            if self.proc.poll() is not None:
                self.returncode = self.proc.returncode
                raise HavenStartError(
                    f"Haven exited with code {self.returncode} before '{READY_MARKER}'; "
                    f"log {self.log_path}:\n{self.log_tail()}"
                )
            if time.monotonic() > deadline:
                self.kill()
                raise HavenStartError(
                    f"Haven did not log '{READY_MARKER}' within "
                    f"{self.start_timeout if timeout is None else timeout}s; "
                    f"log {self.log_path}:\n{self.log_tail()}"
                )
            time.sleep(0.05)

    def stop(self, timeout: float = 15.0) -> int | None:
        """Send SIGTERM and wait; SIGKILL after ``timeout`` s. Return the exit code.

        A clean shutdown should give 0 (asserting that is the test's business); -9 means it
        had to be killed. Returns None if it was never started.
        """
        proc = self.proc
        if proc is None:
            return self.returncode
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with open(self.log_path, "ab") as log:
                    log.write(f"=== harness: no exit {timeout}s after SIGTERM, killing\n".encode())
                proc.kill()
                proc.wait(timeout=10)
        self.returncode = proc.returncode
        self.proc = None
        return self.returncode

    def kill(self) -> int | None:
        """SIGKILL the process (a crash, no clean shutdown); return its exit code."""
        proc = self.proc
        if proc is None:
            return self.returncode
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        self.returncode = proc.returncode
        self.proc = None
        return self.returncode

    def restart(self, timeout: float | None = None) -> int | None:
        """:meth:`stop` then :meth:`start` (same config and database); return the exit code."""
        code = self.stop()
        self.start(timeout)
        return code

    async def start_async(self, timeout: float | None = None) -> HavenProcess:
        """:meth:`start` without blocking the event loop (clients keep reading)."""
        return await asyncio.to_thread(self.start, timeout)

    async def stop_async(self, timeout: float = 15.0) -> int | None:
        """:meth:`stop` without blocking the event loop."""
        return await asyncio.to_thread(self.stop, timeout)

    async def restart_async(self, timeout: float | None = None) -> int | None:
        """:meth:`restart` without blocking the event loop."""
        return await asyncio.to_thread(self.restart, timeout)

    def cleanup(self) -> None:
        """Stop if running; remove the workdir if this object created it."""
        if self.running:
            self.stop()
        if self._own_workdir and not os.environ.get("HAVEN_KEEP_SERVER_DIRS"):
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> HavenProcess:
        try:
            return self.start()
        except BaseException:
            self.cleanup()
            raise

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
        self.cleanup()

    async def __aenter__(self) -> HavenProcess:
        try:
            return await self.start_async()
        except BaseException:
            self.cleanup()
            raise

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop_async()
        self.cleanup()

    # -- logs ----------------------------------------------------------------------------------

    def log_text(self) -> str:
        """The whole log (all starts)."""
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def log_since_start(self) -> str:
        """The log written since the last :meth:`start`."""
        try:
            with open(self.log_path, "rb") as f:
                f.seek(self._log_offset)
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def log_tail(self, lines: int = 60) -> str:
        """The last ``lines`` lines of the log."""
        return "\n".join(self.log_text().splitlines()[-lines:])

    async def wait_for_log(self, fragment: str, timeout: float = 10.0) -> None:
        """Wait until ``fragment`` appears in the log since the last start.

        :raises AssertionError: after ``timeout`` seconds, with the log tail.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while fragment not in self.log_since_start():
            if loop.time() > deadline:
                raise AssertionError(
                    f"'{fragment}' not in Haven's log within {timeout}s:\n{self.log_tail()}"
                )
            await asyncio.sleep(0.05)
