"""Private XMPP servers (Prosody, ejabberd) for Haven's integration tests.

Each server runs in a fresh temporary directory, on free ports on 127.0.0.1, and is
configured with the external component ``rooms.localhost`` (the domain Haven serves) and the
server's own MUC on ``conference.localhost`` (a reference for comparisons).

Both classes share one interface::

    with ProsodyServer() as server:          # or EjabberdServer()
        server.register("alice", "pw")       # no-op on Prosody's insecure auth
        print(server.c2s_port, server.component_port, server.component_secret)

See SERVERS.md (shared notes) for the facts this module relies on.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import itertools
import os
import re
import secrets
import shutil
import signal
import socket
import string
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import ClassVar

__all__ = [
    "EjabberdServer",
    "ProsodyServer",
    "ServerStartError",
    "XMPPServer",
    "free_ports",
    "wait_for_ports",
]

HERE = Path(__file__).resolve().parent
LOOPBACK = "127.0.0.1"

# Keep temporary directories of stopped servers (for post-mortem debugging).
KEEP_ENV = "HAVEN_KEEP_SERVER_DIRS"


class ServerStartError(RuntimeError):
    """A server did not start (or did not stop) as expected; the message holds the log tail."""


def free_ports(count: int) -> list[int]:
    """Return ``count`` distinct TCP ports that are free on 127.0.0.1 right now.

    All sockets are held open until every port is chosen, so the ports differ from each other.
    Another process could still take one before the server binds it; that race is accepted.
    """
    socks: list[socket.socket] = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind((LOOPBACK, 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def port_open(port: int, host: str = LOOPBACK, timeout: float = 0.5) -> bool:
    """Return True if a TCP connection to ``host:port`` is accepted."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_for_ports(
    ports: list[int],
    timeout: float,
    alive: object = None,
    host: str = LOOPBACK,
) -> None:
    """Wait until every port in ``ports`` accepts connections.

    :param alive: optional callable returning False when the process died (stops waiting).
    :raises TimeoutError: when the deadline passes or ``alive()`` turns False.
    """
    deadline = time.monotonic() + timeout
    pending = list(ports)
    while pending:
        if callable(alive) and not alive():
            raise TimeoutError(f"process exited while waiting for ports {pending}")
        pending = [p for p in pending if not port_open(p, host)]
        if not pending:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"ports {pending} on {host} not accepting connections")
        time.sleep(0.1)


def tail(path: Path, lines: int = 60) -> str:
    """Return the last ``lines`` lines of a text file (or a note if it does not exist)."""
    try:
        text = path.read_text(errors="replace")
    except OSError as exc:
        return f"<no {path}: {exc}>"
    return "\n".join(text.splitlines()[-lines:])


def render_template(name: str, values: dict[str, object]) -> str:
    """Render ``tests/harness/<name>`` (a :class:`string.Template` using ``${key}``)."""
    template = string.Template((HERE / name).read_text())
    return template.substitute({k: str(v) for k, v in values.items()})


class XMPPServer:
    """Common interface of the private test servers.

    Attributes available after :meth:`start`: ``domain``, ``component_domain``,
    ``component_secret``, ``muc_domain``, ``host``, ``c2s_port``, ``component_port``,
    ``log_path``, ``workdir``.
    """

    #: Short name ("prosody" or "ejabberd").
    name: ClassVar[str] = "xmpp"

    def __init__(
        self,
        *,
        domain: str = "localhost",
        component_domain: str = "rooms.localhost",
        component_secret: str | None = None,
        muc_domain: str = "conference.localhost",
        log_level: str | None = None,
        start_timeout: float = 60.0,
        keep_workdir: bool | None = None,
    ) -> None:
        self.domain = domain
        self.component_domain = component_domain
        self.component_secret = component_secret or secrets.token_urlsafe(24)
        self.muc_domain = muc_domain
        self.host = LOOPBACK
        self.log_level = log_level
        self.start_timeout = start_timeout
        self.keep_workdir = bool(os.environ.get(KEEP_ENV)) if keep_workdir is None else keep_workdir
        self.c2s_port = 0
        self.component_port = 0
        self.workdir: Path | None = None
        self.log_path: Path = Path(os.devnull)
        self._accounts: set[tuple[str, str]] = set()
        self._accounts_lock = threading.Lock()
        self._running = False
        #: True when accounts must exist (:meth:`register`) before a client can log in.
        self.needs_registration = True
        #: How many component connections Haven must open for ``component_domain`` to work.
        self.component_connections = 1

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> XMPPServer:
        """Start the server; return once its c2s and component ports accept connections."""
        raise NotImplementedError

    def stop(self) -> None:
        """Stop the server and remove its temporary directory (idempotent)."""
        raise NotImplementedError

    @property
    def running(self) -> bool:
        """True between a successful :meth:`start` and :meth:`stop`."""
        return self._running

    def __enter__(self) -> XMPPServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} {self.domain} c2s={self.host}:{self.c2s_port} "
            f"component={self.component_domain}@{self.host}:{self.component_port}>"
        )

    # -- accounts ----------------------------------------------------------------------------

    def register(self, user: str, password: str) -> None:
        """Create the account ``user@domain`` (idempotent)."""
        raise NotImplementedError

    def register_many(self, accounts: Iterable[tuple[str, str]]) -> None:
        """Create several accounts (``(user, password)`` pairs); servers may batch this."""
        for user, password in accounts:
            self.ensure_account(user, password)

    async def register_many_async(self, accounts: Iterable[tuple[str, str]]) -> None:
        """:meth:`register_many` without blocking the event loop."""
        if self.needs_registration:
            await asyncio.to_thread(self.register_many, list(accounts))

    def ensure_account(self, user: str, password: str) -> None:
        """Call :meth:`register` once per (user, password) for this server run."""
        key = (user, password)
        with self._accounts_lock:
            if key in self._accounts:
                return
        self.register(user, password)
        with self._accounts_lock:
            self._accounts.add(key)

    async def ensure_account_async(self, user: str, password: str) -> None:
        """Like :meth:`ensure_account`, without blocking the event loop."""
        if not self.needs_registration:
            return
        with self._accounts_lock:
            if (user, password) in self._accounts:
                return
        await asyncio.to_thread(self.ensure_account, user, password)

    # -- helpers -----------------------------------------------------------------------------

    def jid(self, user: str, resource: str | None = None) -> str:
        """Return ``user@domain`` (or ``user@domain/resource``)."""
        bare = f"{user}@{self.domain}"
        return f"{bare}/{resource}" if resource else bare

    def log_tail(self, lines: int = 60) -> str:
        """The last lines of the server log."""
        return tail(self.log_path, lines)

    def _make_workdir(self, prefix: str) -> Path:
        # Not under pytest's tmp_path: those folders are 0700 root-only, and ejabberd runs as
        # its own user.
        self.workdir = Path(tempfile.mkdtemp(prefix=prefix))
        return self.workdir

    def _remove_workdir(self) -> None:
        if self.workdir is not None and not self.keep_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)


class ProsodyServer(XMPPServer):
    """A private Prosody (``prosody -F``) for tests.

    By default ``authentication = "insecure"`` and ``storage = "memory"``: any user name and
    password logs in, so :meth:`register` does nothing. With
    ``authentication="internal_hashed"`` accounts are stored on disk and :meth:`register` runs
    ``prosodyctl register``.

    :param http: also load ``websocket`` and ``bosh`` on a free HTTP port (``http_port``).
    :param tls: offer STARTTLS with a self-signed certificate (for real clients that refuse
        to log in without TLS, such as go-sendxmpp); plain login stays allowed.
    """

    name = "prosody"

    def __init__(
        self,
        *,
        authentication: str = "insecure",
        http: bool = False,
        tls: bool = False,
        log_level: str = "debug",
        **kwargs: object,
    ) -> None:
        super().__init__(log_level=log_level, **kwargs)  # type: ignore[arg-type]
        if authentication not in ("insecure", "internal_hashed", "internal_plain"):
            raise ValueError(f"unsupported authentication {authentication!r}")
        self.authentication = authentication
        self.http = http
        self.tls = tls
        self.http_port = 0
        self.config_path: Path | None = None
        self.stdout_path: Path | None = None
        self.proc: subprocess.Popen[bytes] | None = None
        # The insecure mode accepts any user and password.
        self.needs_registration = authentication != "insecure"

    @staticmethod
    def binary() -> str | None:
        """Path of the ``prosody`` executable, or None."""
        return shutil.which("prosody")

    def render_config(self) -> str:
        """Return the Prosody configuration for the current ports and paths."""
        assert self.workdir is not None
        extra = ""
        if self.http:
            extra = '    "http";\n    "websocket";\n    "bosh";\n'
        if self.tls:
            extra += '    "tls";\n'
        return render_template(
            "prosody.cfg.lua.tmpl",
            {
                "pidfile": self.workdir / "prosody.pid",
                "data_path": self.workdir / "data",
                "certs_path": self.workdir / "certs",
                "log_level": self.log_level,
                "log_path": self.log_path,
                "c2s_port": self.c2s_port,
                "component_port": self.component_port,
                "http_ports": self.http_port if self.http else "",
                "extra_modules": extra,
                "authentication": self.authentication,
                "storage": "memory" if self.authentication == "insecure" else "internal",
                "domain": self.domain,
                "component_domain": self.component_domain,
                "component_secret": self.component_secret,
                "muc_domain": self.muc_domain,
            },
        )

    def start(self) -> ProsodyServer:
        """Start Prosody in the foreground as a child process and wait for its ports."""
        if self._running:
            return self
        binary = self.binary()
        if binary is None:
            raise ServerStartError("prosody is not installed (run scripts/install-deps)")
        workdir = self._make_workdir("haven-prosody-")
        (workdir / "data").mkdir()
        (workdir / "certs").mkdir()
        if self.tls:
            self._make_certificate(workdir / "certs")
        self.log_path = workdir / "prosody.log"
        self.stdout_path = workdir / "prosody.stdout"
        self.c2s_port, self.component_port, self.http_port = free_ports(3)
        self.config_path = workdir / "prosody.cfg.lua"
        self.config_path.write_text(self.render_config())
        self._spawn()
        self._running = True
        atexit.register(self.stop)
        return self

    def _make_certificate(self, folder: Path) -> None:
        """A self-signed certificate for ``domain``, for clients that insist on STARTTLS."""
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
             "-subj", f"/CN={self.domain}", "-keyout", str(folder / f"{self.domain}.key"),
             "-out", str(folder / f"{self.domain}.crt")],
            check=True, capture_output=True, timeout=60,
        )

    def _spawn(self) -> None:
        """Run Prosody on the current config and wait until its ports accept connections."""
        binary = self.binary()
        assert binary is not None and self.config_path is not None and self.workdir is not None
        workdir = self.workdir
        with open(self.stdout_path or Path(os.devnull), "ab") as out:
            self.proc = subprocess.Popen(
                [binary, "-F", "--config", str(self.config_path)],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=workdir,
                start_new_session=True,
            )
        ports = [self.c2s_port, self.component_port]
        if self.http:
            ports.append(self.http_port)
        try:
            wait_for_ports(ports, self.start_timeout, alive=lambda: self.proc.poll() is None)
        except TimeoutError as exc:
            msg = self._failure(f"Prosody did not start: {exc}")
            self._terminate()
            self._remove_workdir()
            raise ServerStartError(msg) from None

    def restart(self, down_for: float = 0.0) -> None:
        """Stop and start the same Prosody (same config, data and ports), as an operator's
        ``systemctl restart prosody`` would; every connection drops meanwhile."""
        self._terminate()
        if down_for:
            time.sleep(down_for)
        self._spawn()

    def _failure(self, what: str) -> str:
        rc = self.proc.poll() if self.proc else None
        return (
            f"{what} (exit code {rc}); config {self.config_path}\n"
            f"--- prosody stdout ---\n{tail(self.stdout_path or Path(os.devnull), 20)}\n"
            f"--- {self.log_path} ---\n{self.log_tail()}"
        )

    def _terminate(self) -> None:
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)

    def stop(self) -> None:
        """Stop Prosody (SIGTERM, then SIGKILL after 10 s) and remove its directory."""
        atexit.unregister(self.stop)
        self._terminate()
        self.proc = None
        if self._running or self.workdir is not None:
            self._remove_workdir()
        self._running = False
        with self._accounts_lock:
            self._accounts.clear()

    def register(self, user: str, password: str) -> None:
        """Create an account; a no-op with ``authentication = "insecure"``."""
        if not self.needs_registration:
            return
        assert self.config_path is not None, "start() first"
        prosodyctl = shutil.which("prosodyctl") or "prosodyctl"
        res = subprocess.run(
            [
                prosodyctl,
                "--config",
                str(self.config_path),
                "register",
                user,
                self.domain,
                password,
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if res.returncode != 0:
            raise RuntimeError(f"prosodyctl register {user} failed: {res.stdout}{res.stderr}")


def _erl_bin(text: str) -> str:
    """An Erlang binary literal holding ``text`` as UTF-8 (safe for any characters)."""
    return "<<" + ",".join(str(b) for b in text.encode()) + ">>"


def _ejabberdctl_binary() -> str | None:
    return shutil.which("ejabberdctl") or (
        "/usr/sbin/ejabberdctl" if os.access("/usr/sbin/ejabberdctl", os.X_OK) else None
    )


class EjabberdServer(XMPPServer):
    """A private ejabberd node for tests, run through ``ejabberdctl`` as the ejabberd user.

    The node gets its own config folder (a copy of Debian's ``ejabberdctl.cfg`` without
    ``EJABBERD_CONFIG_PATH`` and ``EJABBERD_PID_PATH``), spool, logs and a unique node name;
    the Erlang distribution listens on loopback only. Accounts are created with
    ``ejabberdctl register`` (about a second each).
    """

    name = "ejabberd"
    #: Debian's ejabberdctl settings, copied (minus two lines) into each node's config folder.
    system_ctl_config = Path("/etc/ejabberd/ejabberdctl.cfg")
    system_inetrc = Path("/etc/ejabberd/inetrc")
    run_user = "ejabberd"

    def __init__(
        self,
        *,
        component_number: int | None = 8,
        log_level: str = "info",
        **kwargs: object,
    ) -> None:
        super().__init__(log_level=log_level, **kwargs)  # type: ignore[arg-type]
        if component_number is not None and component_number < 2:
            raise ValueError("component_number must be >= 2 (or None: no domain_balancing)")
        #: ``domain_balancing`` slots for the component domain (None: no balancing).
        self.component_number = component_number
        self.component_connections = component_number or 1
        self.node = ""
        self.config_dir: Path | None = None
        self.spool_dir: Path | None = None
        self.logs_dir: Path | None = None
        self._ctl = _ejabberdctl_binary()

    @staticmethod
    def binary() -> str | None:
        """Path of ``ejabberdctl``, or None."""
        return _ejabberdctl_binary()

    # -- configuration -------------------------------------------------------------------------

    def render_config(self) -> str:
        """Return ejabberd.yml for the current ports."""
        text = render_template(
            "ejabberd.yml.tmpl",
            {
                "domain": self.domain,
                "log_level": self.log_level,
                "c2s_port": self.c2s_port,
                "component_port": self.component_port,
                "component_domain": self.component_domain,
                "component_secret": self.component_secret,
                "component_number": self.component_number or 0,
                "muc_domain": self.muc_domain,
            },
        )
        if self.component_number is None:
            text = re.sub(
                r"## BEGIN domain_balancing\n.*?## END domain_balancing\n", "", text, flags=re.S
            )
        return text

    def render_ctl_config(self) -> str:
        """Return ejabberdctl.cfg: Debian's, minus the config/pid paths, loopback-only."""
        try:
            base = self.system_ctl_config.read_text()
        except OSError:
            base = 'ERL_OPTIONS="-env ERL_CRASH_DUMP_BYTES 0"\n'
        kept = [
            line
            for line in base.splitlines()
            if not re.match(r"\s*(export\s+)?(EJABBERD_CONFIG_PATH|EJABBERD_PID_PATH)=", line)
        ]
        kept += [
            "",
            "# Added by Haven's test harness: Erlang distribution and epmd on loopback only.",
            'ERL_OPTIONS="$ERL_OPTIONS -kernel inet_dist_use_interface {127,0,0,1}"',
            "ERL_EPMD_ADDRESS=127.0.0.1",
            "EJABBERD_BYPASS_WARNINGS=true",
            "",
        ]
        return "\n".join(kept)

    def _ctl_cmd(self, *args: str) -> list[str]:
        assert self._ctl and self.config_dir and self.spool_dir and self.logs_dir
        return [
            self._ctl,
            "--config-dir",
            str(self.config_dir),
            "--spool",
            str(self.spool_dir),
            "--logs",
            str(self.logs_dir),
            "--node",
            self.node,
            *args,
        ]

    def ctl(self, *args: str, timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
        """Run ``ejabberdctl <args>`` against this node and return the completed process."""
        return subprocess.run(
            self._ctl_cmd(*args),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            stdin=subprocess.DEVNULL,
            cwd="/",
        )

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> EjabberdServer:
        """Start the node (``ejabberdctl start`` + ``started``) and wait for its ports."""
        if self._running:
            return self
        if self._ctl is None:
            raise ServerStartError("ejabberd is not installed (run scripts/install-deps)")
        workdir = self._make_workdir("haven-ejabberd-")
        self.config_dir = workdir / "conf"
        self.spool_dir = workdir / "spool"
        self.logs_dir = workdir / "logs"
        for d in (self.config_dir, self.spool_dir, self.logs_dir):
            d.mkdir()
        self.log_path = self.logs_dir / "ejabberd.log"
        self.node = f"haven{os.getpid()}x{secrets.token_hex(3)}@localhost"
        self.c2s_port, self.component_port = free_ports(2)
        (self.config_dir / "ejabberd.yml").write_text(self.render_config())
        (self.config_dir / "ejabberdctl.cfg").write_text(self.render_ctl_config())
        if self.system_inetrc.exists():
            shutil.copy(self.system_inetrc, self.config_dir / "inetrc")
        else:
            (self.config_dir / "inetrc").write_text(
                '{lookup,["file","native"]}.\n'
                '{host,{127,0,0,1}, ["localhost","hostalias"]}.\n'
                '{file, resolv, "/etc/resolv.conf"}.\n'
            )
        workdir.chmod(0o755)
        subprocess.run(["chown", "-R", f"{self.run_user}:", str(workdir)], check=True)

        try:
            res = self.ctl("start")
            if res.returncode != 0:
                raise ServerStartError(f"ejabberdctl start failed: {res.stdout}{res.stderr}")
            res = self.ctl("started", timeout=self.start_timeout + 10)
            if res.returncode != 0:
                raise ServerStartError(f"ejabberdctl started failed: {res.stdout}{res.stderr}")
            wait_for_ports(
                [self.c2s_port, self.component_port],
                self.start_timeout,
                alive=lambda: bool(self._beam_pids()),
            )
        except (ServerStartError, TimeoutError, subprocess.TimeoutExpired) as exc:
            msg = self._failure(f"ejabberd did not start: {exc}")
            self._stop_node()
            self._remove_workdir()
            raise ServerStartError(msg) from None
        self._running = True
        atexit.register(self.stop)
        return self

    def _failure(self, what: str) -> str:
        parts = [f"{what}; node {self.node}, config {self.config_dir}"]
        if self.logs_dir is not None:
            for name in ("ejabberd.log", "error.log", "crash.log"):
                path = self.logs_dir / name
                if path.exists():
                    parts.append(f"--- {path} ---\n{tail(path, 40)}")
        return "\n".join(parts)

    def _beam_pids(self) -> list[int]:
        """PIDs of the beam process(es) running this node (matched by its unique name).

        Reads /proc directly (no dependency on procps' pgrep); ejabberdctl helper shells and
        short-lived ctl nodes (other names, or not beam) are not matched.
        """
        if not self.node:
            return []
        own: list[int] = []
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                with open(f"/proc/{entry.name}/cmdline", "rb") as f:
                    args = f.read().decode(errors="replace").split("\0")
                exe = os.readlink(f"/proc/{entry.name}/exe")
            except OSError:
                continue
            if "beam" not in os.path.basename(exe):
                continue
            for flag, value in itertools.pairwise(args):
                if flag in ("-sname", "-name") and value == self.node:
                    own.append(int(entry.name))
                    break
        return own

    def _stop_node(self) -> None:
        """``ejabberdctl stop`` + ``stopped``; kill the node's beam if it is still there."""
        if not self.node or self._ctl is None:
            return
        if self._beam_pids():
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.ctl("stop", timeout=60)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.ctl("stopped", timeout=90)
        deadline = time.monotonic() + 10
        while (pids := self._beam_pids()) and time.monotonic() < deadline:
            time.sleep(0.2)
        for sig in (signal.SIGTERM, signal.SIGKILL):
            pids = self._beam_pids()
            if not pids:
                break
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, sig)
            time.sleep(2)

    def stop(self) -> None:
        """Stop the node for real (no beam process left) and remove its directory."""
        atexit.unregister(self.stop)
        self._stop_node()
        if self.workdir is not None:
            self._remove_workdir()
        self._running = False
        with self._accounts_lock:
            self._accounts.clear()

    # -- accounts ------------------------------------------------------------------------------

    def register_many(self, accounts: Iterable[tuple[str, str]]) -> None:
        """Create many accounts with one Erlang RPC call (about a second for hundreds).

        Existing accounts are kept. Runs a hidden Erlang node as the ejabberd user (whose
        cookie the server uses) that calls ``ejabberd_auth:try_register/3`` on this node.
        """
        todo = list(dict.fromkeys(accounts))
        if not todo:
            return
        pairs = ",".join(f"{{{_erl_bin(u)},{_erl_bin(p)}}}" for u, p in todo)
        expr = (
            f"N = '{self.node}', H = {_erl_bin(self.domain)}, "
            "R = [{U, rpc:call(N, ejabberd_auth, try_register, [U, H, P])} "
            f"|| {{U, P}} <- [{pairs}]], "
            "Bad = [X || {_, Res} = X <- R, Res =/= ok, Res =/= {error, exists}], "
            'io:format("~p~n", [Bad]), '
            "halt(case Bad of [] -> 0; _ -> 1 end)."
        )
        erl = shutil.which("erl") or "/usr/bin/erl"
        cmd = [
            "su", "-s", "/bin/sh", "-c", '"$0" "$@"', self.run_user, "--",
            erl, "-sname", f"havenreg{secrets.token_hex(4)}@localhost", "-hidden",
            "-noinput", "-noshell", "-kernel", "inet_dist_use_interface", "{127,0,0,1}",
            "-eval", expr,
        ]  # fmt: skip
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False, cwd="/")
        if res.returncode != 0:
            raise RuntimeError(
                f"registering {len(todo)} accounts failed ({res.returncode}): "
                f"{res.stdout[-2000:]}{res.stderr[-2000:]}"
            )
        with self._accounts_lock:
            self._accounts.update(todo)

    def register(self, user: str, password: str) -> None:
        """``ejabberdctl register user domain password``; an existing account is kept."""
        res = self.ctl("register", user, self.domain, password)
        out = f"{res.stdout}{res.stderr}"
        if res.returncode != 0 and "already registered" not in out:
            raise RuntimeError(f"ejabberdctl register {user} failed ({res.returncode}): {out}")
