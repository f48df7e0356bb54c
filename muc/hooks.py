"""A small event bus with priorities: Prosody's MUC design, in Python.

Feature modules (``muc/features/*``) hook room events; the room core fires
them. Handlers run from high to low priority; the first handler that returns
something other than ``None`` stops the chain and its value is the result.
Raising :class:`muc.errors.MucError` objects to the action.

Priority bands, in one place (higher runs first):

``pre-join`` (a user asks to enter, XEP-0045 §7.2)
    nick rules 2..1, locked room 0, banned -10 (§7.2.7), members-only -15
    (§7.2.6), password -20 (§7.2.5), nickname conflict -30 (§7.2.8),
    max users -40 (§7.2.9).
``groupchat`` (an occupant sends a message to the room, §7.4)
    size limit 60, role gate 50, slow mode 45, safety checks 40..30, in-room commands 25,
    subject change 20 (§8.1).
``private`` (an occupant sends a private message, §7.5)
    allowpm policy 50.
``config-changed`` (an owner submitted a new configuration, §10.2)
    members-only removal (322).
``joined`` (a session has entered and got its self-presence)
    history 50 (§7.2.13), subject 20 (§7.2.15), guidelines 10.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

Handler = Callable[[Any], Any]


class HookBus:
    """Named events with prioritised handlers."""

    def __init__(self) -> None:
        self._handlers: dict[str, list[tuple[int, int, Handler]]] = defaultdict(list)
        self._seq = 0

    def on(self, event: str, priority: int = 0) -> Callable[[Handler], Handler]:
        """Decorator: call the function on ``event`` at ``priority``."""

        def register(fn: Handler) -> Handler:
            self.add(event, fn, priority)
            return fn

        return register

    def add(self, event: str, fn: Handler, priority: int = 0) -> None:
        """Register ``fn`` for ``event``; equal priorities keep insertion order."""
        self._seq += 1
        handlers = self._handlers[event]
        handlers.append((-priority, self._seq, fn))
        handlers.sort(key=lambda h: (h[0], h[1]))

    def fire(self, event: str, ctx: Any) -> Any:
        """Run the handlers of ``event`` with ``ctx``; return the first non-None result."""
        for _, _, fn in self._handlers.get(event, ()):
            result = fn(ctx)
            if result is not None:
                return result
        return None

    def handlers(self, event: str) -> list[Handler]:
        """The handlers of ``event`` in the order they run (for tests and docs)."""
        return [fn for _, _, fn in self._handlers.get(event, ())]
