"""Shared pytest fixtures: private XMPP servers, Haven processes, database URLs.

Fixtures (see tests/harness/ for the classes):

- ``prosody`` / ``ejabberd`` (session): a started :class:`ProsodyServer` / :class:`EjabberdServer`.
- ``xmpp_server`` (session, params ``prosody`` and ``ejabberd``): each test using it runs on both.
- ``haven_factory``: ``haven_factory(server, **HavenProcess_kwargs)`` starts Haven; stopped at the
  end of the test.
- ``sqlite_url``: a SQLite file in ``tmp_path``. ``pg_url``: the local PostgreSQL ``test``
  database. ``pg_db_url``: a fresh PostgreSQL database for one test, dropped afterwards.

Policy when something is missing (server binary, PostgreSQL): skip, but fail when the ``CI``
environment variable is set. Tests using a server fixture get the ``integration`` marker and those
using PostgreSQL the ``postgres`` marker, so ``pytest -m "not integration"`` runs the fast ones.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NoReturn

import pytest

from tests.harness.component import HavenProcess
from tests.harness.servers import EjabberdServer, ProsodyServer, XMPPServer

PG_URL = os.environ.get("HAVEN_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")

SERVER_FIXTURES = {"prosody", "ejabberd", "xmpp_server", "haven_factory"}
PG_FIXTURES = {"pg_url", "pg_db_url"}
INTEGRATION_DIR = Path(__file__).parent / "integration"


def in_ci() -> bool:
    """True when running in CI (the ``CI`` environment variable is set and not false)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def missing(what: str) -> NoReturn:
    """Skip the test, or fail it in CI, because ``what`` is not available."""
    if in_ci():
        pytest.fail(f"{what} (CI is set, so this fails instead of skipping)", pytrace=False)
    pytest.skip(what)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark tests by the fixtures they use (integration, postgres)."""
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        if names & SERVER_FIXTURES or INTEGRATION_DIR in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.integration)
        if names & PG_FIXTURES:
            item.add_marker(pytest.mark.postgres)


# -- XMPP servers ----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def prosody() -> Iterator[ProsodyServer]:
    """A private Prosody for the whole session (insecure auth: any user/password logs in)."""
    if ProsodyServer.binary() is None:
        missing("prosody is not installed (scripts/install-deps)")
    server = ProsodyServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def ejabberd() -> Iterator[EjabberdServer]:
    """A private ejabberd node for the whole session (accounts via ``register``)."""
    if EjabberdServer.binary() is None:
        missing("ejabberd is not installed (scripts/install-deps)")
    server = EjabberdServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session", params=["prosody", "ejabberd"])
def xmpp_server(request: pytest.FixtureRequest) -> XMPPServer:
    """Prosody, then ejabberd: a test using this fixture runs once on each."""
    return request.getfixturevalue(request.param)


# -- Haven -----------------------------------------------------------------------------------------


@pytest.fixture
def haven_factory(tmp_path: Path) -> Iterator[Callable[..., HavenProcess]]:
    """``haven_factory(server, start=True, **kwargs)`` -> a (started) :class:`HavenProcess`.

    Its files are under ``tmp_path/haven-N``; every process is stopped at the end of the test.
    """
    procs: list[HavenProcess] = []

    def factory(server: Any, start: bool = True, **kwargs: Any) -> HavenProcess:
        kwargs.setdefault("workdir", tmp_path / f"haven-{len(procs) + 1}")
        proc = HavenProcess(server, **kwargs)
        procs.append(proc)
        if start:
            proc.start()
        return proc

    yield factory
    for proc in procs:
        proc.stop()
        proc.cleanup()


# -- databases -------------------------------------------------------------------------------------


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """SQLAlchemy URL of a new SQLite file in ``tmp_path``."""
    return f"sqlite:///{tmp_path / 'haven.db'}"


def _psycopg_dsn(url: str) -> str:
    """``postgresql+psycopg://...`` -> ``postgresql://...`` for psycopg itself."""
    scheme, _, rest = url.partition("://")
    return f"postgresql://{rest}" if scheme.startswith("postgresql") else url


@pytest.fixture(scope="session")
def pg_url() -> str:
    """URL of the local PostgreSQL ``test`` database (skipped, or failed in CI, if unreachable)."""
    try:
        import psycopg
    except ImportError:
        missing("psycopg is not installed")
    try:
        with psycopg.connect(_psycopg_dsn(PG_URL), connect_timeout=5) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        missing(f"PostgreSQL unreachable at {PG_URL}: {exc}")
    return PG_URL


@pytest.fixture
def pg_db_url(pg_url: str) -> Iterator[str]:
    """URL of a new, empty PostgreSQL database for one test; dropped afterwards."""
    import psycopg

    name = f"haven_test_{secrets.token_hex(6)}"
    admin_dsn = _psycopg_dsn(pg_url)
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = pg_url.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
