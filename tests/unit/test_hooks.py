"""The hook bus (muc/hooks.py): priorities, insertion order and short-circuit, the
mechanism every feature of the room relies on."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from muc.errors import MucError
from muc.hooks import HookBus


def recorder(log: list[str], name: str, result: Any = None) -> Callable[[Any], Any]:
    """A handler that logs its name and returns ``result``."""

    def handler(ctx: Any) -> Any:
        log.append(name)
        return result

    handler.__name__ = name
    return handler


def test_higher_priority_runs_first() -> None:
    """Handlers run from high to low priority, whatever the registration order."""
    bus, log = HookBus(), []
    bus.add("ev", recorder(log, "low"), priority=-10)
    bus.add("ev", recorder(log, "high"), priority=50)
    bus.add("ev", recorder(log, "mid"))
    assert bus.fire("ev", None) is None
    assert log == ["high", "mid", "low"]
    assert [h.__name__ for h in bus.handlers("ev")] == ["high", "mid", "low"]


def test_equal_priorities_keep_insertion_order() -> None:
    """Ties are broken by registration order."""
    bus, log = HookBus(), []
    for name in ("a", "b", "c"):
        bus.add("ev", recorder(log, name), priority=5)
    bus.fire("ev", None)
    assert log == ["a", "b", "c"]


def test_first_non_none_result_stops_the_chain() -> None:
    """A handler returning something other than None short-circuits; its value wins."""
    bus, log = HookBus(), []
    bus.add("ev", recorder(log, "first"), priority=3)
    bus.add("ev", recorder(log, "stopper", result="done"), priority=2)
    bus.add("ev", recorder(log, "never", result="other"), priority=1)
    assert bus.fire("ev", None) == "done"
    assert log == ["first", "stopper"]


@pytest.mark.parametrize("falsy", [False, 0, "", []])
def test_falsy_results_also_stop(falsy: Any) -> None:
    """Only None continues the chain; False or 0 are results."""
    bus, log = HookBus(), []
    bus.add("ev", recorder(log, "stopper", result=falsy), priority=1)
    bus.add("ev", recorder(log, "never"))
    assert bus.fire("ev", None) == falsy
    assert log == ["stopper"]


def test_raising_handler_aborts_the_action() -> None:
    """A MucError propagates to the caller and later handlers don't run."""
    bus, log = HookBus(), []

    def refuse(ctx: Any) -> None:
        log.append("refuse")
        raise MucError("forbidden", "no")

    bus.add("ev", refuse, priority=1)
    bus.add("ev", recorder(log, "after"))
    with pytest.raises(MucError) as info:
        bus.fire("ev", None)
    assert info.value.condition == "forbidden"
    assert log == ["refuse"]


def test_handlers_receive_the_context() -> None:
    """fire() passes the context object to each handler, which may mutate it."""
    bus = HookBus()
    ctx: dict[str, int] = {"n": 0}

    @bus.on("ev", priority=2)
    def double(c: dict[str, int]) -> None:
        c["n"] = c["n"] * 2 + 1

    @bus.on("ev", priority=1)
    def add(c: dict[str, int]) -> None:
        c["n"] += 10

    bus.fire("ev", ctx)
    assert ctx["n"] == 11
    assert bus.handlers("ev") == [double, add]


def test_events_are_independent_and_unknown_events_are_no_ops() -> None:
    """Handlers only run for their event; firing an unhooked event returns None."""
    bus, log = HookBus(), []
    bus.add("one", recorder(log, "one", result=1))
    assert bus.fire("two", None) is None
    assert bus.handlers("two") == []
    assert log == []
    assert bus.fire("one", None) == 1
