"""Fixtures for the integration suite: a Haven process per test, client factory.

``haven`` starts the component against ``xmpp_server`` (so each test runs on
Prosody and on ejabberd) with the rooms below and a fresh SQLite database;
``@pytest.mark.haven(room_creation="anyone")`` overrides ``[service]`` keys.
``connect("alice")`` logs a real client in (registering it where needed) and
logs it out at the end of the test.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from tests.harness.client import TestClient
from tests.harness.component import GUIDELINES, HavenProcess

ROOMS: list[dict[str, Any]] = [
    {"id": "anxiety", "name": "Anxiety", "description": "Talk about living with anxiety",
     "guidelines": GUIDELINES, "subject": "Welcome to Anxiety", "language": "en"},
    {"id": "grief", "name": "Grief", "description": "For anyone living with a loss",
     "guidelines": GUIDELINES, "subject": "Share as much or as little as you like."},
    {"id": "open", "name": "Open circle", "description": "A non-anonymous room",
     "whois": "anyone", "allowpm": "anyone"},
    {"id": "small", "name": "One to one", "max_users": 1},
    {"id": "hidden", "name": "Staff room", "public": False},
    {"id": "lounge", "name": "Lounge"},
]


class Haven:
    """The component under test, with async stop/start so clients keep reading."""

    def __init__(self, proc: HavenProcess) -> None:
        self.proc = proc
        self.domain = proc.domain

    def room(self, room_id: str) -> str:
        return self.proc.room_jid(room_id)

    async def stop(self) -> int | None:
        return await self.proc.stop_async()

    async def start(self) -> None:
        await self.proc.start_async()

    async def restart(self) -> int | None:
        return await self.proc.restart_async()

    def log(self) -> str:
        return self.proc.log_path.read_text(errors="replace")


@pytest.fixture
def haven(request: pytest.FixtureRequest, xmpp_server: Any,
          haven_factory: Callable[..., HavenProcess]) -> Haven:
    marker = request.node.get_closest_marker("haven")
    overrides = dict(marker.kwargs) if marker else {}
    return Haven(haven_factory(xmpp_server, rooms=ROOMS, service_overrides=overrides))


@pytest.fixture
async def connect(xmpp_server: Any) -> AsyncIterator[Callable[..., Awaitable[TestClient]]]:
    clients: list[TestClient] = []

    async def factory(user: str, resource: str | None = None, **kwargs: Any) -> TestClient:
        client = TestClient(xmpp_server, user, "pw", resource=resource, **kwargs)
        await client.connect()
        clients.append(client)
        return client

    yield factory
    for client in clients:
        await client.disconnect()
