"""Shared helpers for the ``muc/`` unit tests: a fake clock and sender queries.

Kept out of ``conftest.py`` so test modules can import them by name; the
fixtures that build services and rooms live in ``conftest.py``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from muc.history import HistoryRequest
from muc.ports import OutGroupchat, OutPresence, OutPrivate, RecordingSender
from muc.room import Room
from muc.service import MucService

DOMAIN = "rooms.example"
ADMIN = "admin@example"
ADMIN_JID = "admin@example/console"
OWNER = "owner@example"
OWNER_JID = "owner@example/desk"
ALICE_JID = "alice@example/phone"
ALICE2_JID = "alice@example/tablet"
BOB_JID = "bob@example/laptop"
CAROL_JID = "carol@example/web"
DAVE_JID = "dave@example/pc"

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


class ServiceFactory(Protocol):
    """The ``service`` fixture: build a MucService with settings overridden."""

    def __call__(self, **settings: Any) -> MucService: ...


class RoomProvisioner(Protocol):
    """The ``provision`` fixture: provision a room with RoomConfig overrides."""

    def __call__(
        self,
        localpart: str = "lobby",
        *,
        svc: MucService | None = None,
        subject: str | None = None,
        owners: tuple[str, ...] = (OWNER,),
        **config: Any,
    ) -> Room: ...


class FakeClock:
    """A :class:`muc.ports.Clock` that only moves when a test says so."""

    def __init__(self, start: datetime = T0) -> None:
        self.current = start

    def now(self) -> datetime:
        return self.current

    def advance(self, seconds: float = 0, **kwargs: float) -> datetime:
        """Move forward by ``seconds`` (plus any timedelta keyword); return the new time."""
        self.current += timedelta(seconds=seconds, **kwargs)
        return self.current


def join(
    svc: MucService,
    room: Room | str,
    nick: str,
    jid: str,
    payload: Any = None,
    *,
    password: str | None = None,
    history: HistoryRequest | None = None,
) -> None:
    """A MUC join presence (``<x xmlns='…/muc'/>``) from ``jid`` to ``room/nick``."""
    room_jid = room if isinstance(room, str) else room.jid
    svc.presence(room_jid, nick, jid, payload, password=password, history=history)


def leave(svc: MucService, room: Room | str, nick: str, jid: str, payload: Any = None) -> None:
    """An unavailable presence from ``jid`` to ``room/nick`` (§7.14)."""
    room_jid = room if isinstance(room, str) else room.jid
    svc.presence(room_jid, nick, jid, payload, available=False)


def say(
    svc: MucService,
    room: Room | str,
    jid: str,
    body: str | None = "hi",
    subject: str | None = None,
    payload: Any = None,
) -> None:
    """A groupchat message from ``jid`` to the room (§7.4)."""
    room_jid = room if isinstance(room, str) else room.jid
    svc.groupchat(room_jid, jid, payload if payload is not None else body, body, subject)


def recipients_of(kind: str, value: Any) -> tuple[str, ...]:
    """The full JIDs one recorded output went to."""
    if kind == "presence":
        return (value.to,)
    if kind in ("groupchat", "private"):
        return tuple(value[0])
    return (value[0],)


def delivered(sender: RecordingSender, to: str) -> list[tuple[str, Any]]:
    """Everything recorded for one session, in order, as (kind, value) pairs.

    For groupchat and private messages the value is the message object, for
    the others what the RecordingSender kept.
    """
    out: list[tuple[str, Any]] = []
    for kind, value in sender.sent:
        if to in recipients_of(kind, value):
            out.append((kind, value[1] if kind in ("groupchat", "private") else value))
    return out


def kinds(sender: RecordingSender, to: str) -> list[str]:
    """The sequence of output kinds one session received."""
    return [k for k, _ in delivered(sender, to)]


def presences(sender: RecordingSender, to: str | None = None) -> list[OutPresence]:
    """Recorded presences, optionally only those sent to ``to``."""
    return [p for p in sender.of("presence") if to is None or p.to == to]


def presences_from(sender: RecordingSender, frm: str) -> list[OutPresence]:
    """Recorded presences from one occupant JID."""
    return [p for p in sender.of("presence") if p.frm == frm]


def groupchats(sender: RecordingSender) -> list[tuple[tuple[str, ...], OutGroupchat]]:
    """Recorded groupchat fan-outs as (recipients, message)."""
    return list(sender.of("groupchat"))


def privates(sender: RecordingSender) -> list[tuple[tuple[str, ...], OutPrivate]]:
    """Recorded private messages as (recipients, message)."""
    return list(sender.of("private"))


def only(items: Iterable[Any]) -> Any:
    """The single element of ``items`` (fails the test otherwise)."""
    found = list(items)
    assert len(found) == 1, f"expected exactly one, got {len(found)}: {found!r}"
    return found[0]
