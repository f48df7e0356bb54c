"""The audit trail: every moderation and administration action, hash-chained.

Each entry records who (the actor's real bare JID, or an OS user for the
CLI), what, whom, where, when and why. Entries are appended by the writer
thread; each stores the SHA-256 of the previous entry's hash and its own
canonical content, so :func:`muc.storage.store.Store.verify_audit` detects an
edited, deleted or reordered row. The admin CLI reads it; members never do.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

GENESIS = "0" * 64


@dataclass(frozen=True)
class AuditEvent:
    """One action, before it is chained into the log."""

    at: datetime
    actor: str
    action: str  # e.g. "kick", "ban", "role", "affiliation", "retract", "configure"
    room: str | None = None
    target: str | None = None  # bare JID, nick or stanza-id the action was about
    reason: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


def canonical(event: AuditEvent) -> str:
    """The exact text that is hashed: stable key order, UTC ISO time."""
    return json.dumps({
        "at": event.at.isoformat(), "actor": event.actor, "action": event.action,
        "room": event.room, "target": event.target, "reason": event.reason,
        "details": event.details,
    }, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def chain_hash(prev_hash: str, event: AuditEvent) -> str:
    """hash_n = SHA-256(hash_{n-1} || canonical(event_n))."""
    return hashlib.sha256((prev_hash + canonical(event)).encode()).hexdigest()
