"""Identifiers the room assigns: XEP-0359 stanza-ids and XEP-0421 occupant-ids."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import uuid
from base64 import urlsafe_b64encode
from collections.abc import Callable


def new_stanza_id() -> str:
    """A fresh, globally unique stanza-id (XEP-0359 §4: unique and stable)."""
    return str(uuid.uuid4())


def sequential_ids(prefix: str = "id") -> Callable[[], str]:
    """Predictable ids for unit tests."""
    counter = itertools.count(1)
    return lambda: f"{prefix}-{next(counter)}"


def occupant_id(secret: bytes, room_jid: str, bare_jid: str) -> str:
    """XEP-0421 occupant-id: HMAC-SHA256 of the real bare JID, keyed per room.

    XEP-0421 §4: "The occupant identifier MUST be … unique to the room … and
    MUST NOT allow … to derive the real JID". Keying by service secret *and*
    room JID means the same person's ids can't be linked across rooms.
    """
    key = hmac.new(secret, room_jid.encode(), hashlib.sha256).digest()
    mac = hmac.new(key, bare_jid.encode(), hashlib.sha256).digest()
    return urlsafe_b64encode(mac[:18]).decode().rstrip("=")
