"""The write-behind queue: durable writes off the event loop, in batches.

ARCHITECTURE (the hot path): "archive writes go to a write-behind queue
drained by one writer in batches". The event loop only appends to a
thread-safe queue; one thread commits what has accumulated in a single
transaction. :meth:`WriteBehindStore.close` flushes before returning, so a
clean shutdown loses nothing the room has broadcast.
"""

from __future__ import annotations

import logging
import queue
import threading
from datetime import datetime
from typing import Any

from muc.audit import AuditEvent
from muc.ports import ArchivedMessage
from muc.storage.store import Store

log = logging.getLogger(__name__)

_STOP = ("stop", ())
BATCH = 500


class WriteBehindStore:
    """A :class:`muc.ports.Persistence` that queues writes for one writer thread."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._q: queue.Queue[tuple[str, tuple[Any, ...]]] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="haven-writer", daemon=True)
        self._thread.start()
        self.failed = 0

    # Persistence port -------------------------------------------------------
    def save_room(self, room: str, config: dict[str, Any], subject: str, subject_from: str,
                  subject_at: datetime | None = None) -> None:
        self._q.put(("save_room", (room, config, subject, subject_from, subject_at)))

    def delete_room(self, room: str) -> None:
        self._q.put(("delete_room", (room,)))

    def save_affiliation(self, room: str, jid: str, affiliation: str, reason: str = "") -> None:
        self._q.put(("save_affiliation", (room, jid, affiliation, reason)))

    def archive(self, msg: ArchivedMessage) -> None:
        self._q.put(("archive", (msg,)))

    def retract(self, room: str, stanza_id: str, tombstone: str) -> None:
        self._q.put(("retract", (room, stanza_id, tombstone)))

    def audit(self, event: AuditEvent) -> None:
        self._q.put(("audit", (event,)))

    def purge(self, room: str, before: datetime) -> None:
        self._q.put(("purge", (room, before)))

    # Control ------------------------------------------------------------------
    @property
    def pending(self) -> int:
        return self._q.qsize()

    def flush(self, timeout: float | None = None) -> None:
        """Block until everything queued so far is committed (or failed and logged)."""
        if not self._thread.is_alive():
            return  # closed: everything was flushed by close()
        done = threading.Event()
        self._q.put(("_mark", (done,)))
        done.wait(timeout)

    def close(self, timeout: float = 30.0) -> None:
        """Flush and stop the writer thread."""
        self._q.put(_STOP)
        self._thread.join(timeout)
        if self._thread.is_alive():
            log.error("The database writer did not finish within %ss; %d writes pending",
                      timeout, self._q.qsize())

    def _run(self) -> None:
        stop = False
        while not stop:
            batch = [self._q.get()]
            while len(batch) < BATCH:
                try:
                    batch.append(self._q.get_nowait())
                except queue.Empty:
                    break
            marks = [args[0] for op, args in batch if op == "_mark"]
            stop = any(op == "stop" for op, _ in batch)
            ops = [(op, args) for op, args in batch if op not in ("_mark", "stop")]
            if ops:
                self._commit(ops)
            for mark in marks:
                mark.set()

    def _commit(self, ops: list[tuple[str, tuple[Any, ...]]]) -> None:
        try:
            self.store.apply(ops)
            return
        except Exception:
            log.exception("Batch of %d writes failed; retrying one by one", len(ops))
        for op in ops:
            try:
                self.store.apply([op])
            except Exception:
                self.failed += 1
                log.exception("Write %s failed and was dropped", op[0])
