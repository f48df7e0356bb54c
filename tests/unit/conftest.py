"""Fixtures for the ``muc/`` unit tests: a fixed clock, the recording fakes and
a service factory. Nothing here touches the network or a database."""

from __future__ import annotations

from typing import Any

import pytest

from muc.config import RoomConfig, ServiceSettings
from muc.ids import sequential_ids
from muc.ports import MemoryPersistence, RecordingSender
from muc.room import Room
from muc.service import MucService
from tests.unit.support import ADMIN, DOMAIN, OWNER, FakeClock, RoomProvisioner, ServiceFactory


@pytest.fixture
def clock() -> FakeClock:
    """A clock fixed at 2026-01-01T12:00Z; ``clock.advance(s)`` moves it."""
    return FakeClock()


@pytest.fixture
def sender() -> RecordingSender:
    return RecordingSender()


@pytest.fixture
def store() -> MemoryPersistence:
    return MemoryPersistence()


@pytest.fixture
def service(sender: RecordingSender, store: MemoryPersistence, clock: FakeClock) -> ServiceFactory:
    """Factory: ``service(room_creation="anyone", ...)`` builds a MucService.

    Keyword arguments override :class:`ServiceSettings` fields; every service
    shares the test's sender, store and clock, and stanza-ids are ``sid-1``…
    """

    def make(**settings: Any) -> MucService:
        values: dict[str, Any] = {"admins": frozenset({ADMIN}), "occupant_id_secret": b"k"}
        values.update(settings)
        return MucService(
            DOMAIN, ServiceSettings(**values), sender, store, clock, new_id=sequential_ids("sid")
        )

    return make


@pytest.fixture
def svc(service: ServiceFactory) -> MucService:
    """A service with default settings (room creation by admins only)."""
    return service()


@pytest.fixture
def provision(svc: MucService) -> RoomProvisioner:
    """Helper: provision a room as the config file would (persistent, unlocked).

    ``provision("lobby", moderated=True, subject="Hi")``: keyword arguments
    other than ``svc``, ``subject`` and ``owners`` are RoomConfig fields.
    """

    default = svc

    def make(
        localpart: str = "lobby",
        *,
        svc: MucService | None = None,
        subject: str | None = None,
        owners: tuple[str, ...] = (OWNER,),
        **config: Any,
    ) -> Room:
        return (svc or default).provision(
            localpart, RoomConfig(**config), subject=subject, owners=owners
        )

    return make


@pytest.fixture
def room(provision: RoomProvisioner) -> Room:
    """``lobby@rooms.example``: Haven's default config, owned by owner@example."""
    return provision()
