"""Owner-form fields (XEP-0045 §10.2, ``muc#roomconfig``) declared by features.

Each feature module declares the :class:`FieldSpec` of the config it owns;
the component renders them as a XEP-0004 form and parses submissions back
with :func:`apply_submission`, which validates every value.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from muc.config import RoomConfig
from muc.errors import MucError

FORM_TYPE = "http://jabber.org/protocol/muc#roomconfig"
ROOMINFO_TYPE = "http://jabber.org/protocol/muc#roominfo"

_TRUE = {"1", "true"}
_FALSE = {"0", "false"}


@dataclass(frozen=True)
class FieldSpec:
    """One owner-form field bound to one :class:`RoomConfig` attribute."""

    var: str
    attr: str
    ftype: str  # XEP-0004 §3.3 field type
    label: str
    options: tuple[tuple[str, str], ...] = ()  # (value, label) for list-single
    roominfo: str | None = None  # muc#roominfo var showing it in disco (§6.4)
    validate: Callable[[Any], str | None] | None = None  # returns an error text

    def current(self, config: RoomConfig) -> list[str]:
        """The field's value(s) as form strings."""
        value = getattr(config, self.attr)
        if self.ftype == "boolean":
            return ["1" if value else "0"]
        if self.ftype in ("jid-multi", "text-multi", "list-multi"):
            if isinstance(value, str):
                return value.splitlines() or [""]
            return [str(v) for v in value]
        return [str(value)]

    def parse(self, values: Sequence[str]) -> Any:
        """Turn submitted strings into the attribute's value, or raise MucError."""
        def bad(why: str) -> MucError:
            return MucError("not-acceptable", f"Field {self.var}: {why}")

        if self.ftype == "boolean":
            v = (values[0] if values else "").strip().lower()
            if v in _TRUE:
                return True
            if v in _FALSE:
                return False
            raise bad(f"expected a boolean (1/0/true/false), got {v!r}")
        if self.ftype in ("jid-multi", "list-multi"):
            return [v.strip() for v in values if v.strip()]
        if self.ftype == "text-multi":
            return "\n".join(values)
        value = values[0] if values else ""
        if self.ftype == "list-single" and value not in {o for o, _ in self.options}:
            allowed = ", ".join(o for o, _ in self.options)
            raise bad(f"{value!r} is not one of: {allowed}")
        current_type = type(getattr(RoomConfig(), self.attr))
        if current_type is int:
            try:
                number = int(value.strip() or "0")
            except ValueError as exc:
                raise bad(f"expected a whole number, got {value!r}") from exc
            if number < 0:
                raise bad("must not be negative")
            return number
        return value


class FieldRegistry:
    """All owner-form fields, in the order features registered them."""

    def __init__(self) -> None:
        self._fields: dict[str, FieldSpec] = {}

    def add(self, *specs: FieldSpec) -> None:
        for spec in specs:
            self._fields[spec.var] = spec

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._fields.values())

    def get(self, var: str) -> FieldSpec | None:
        return self._fields.get(var)

    def apply_submission(self, config: RoomConfig, values: dict[str, list[str]]) -> RoomConfig:
        """A new config from a submitted form (§10.1.3, §10.2); unknown fields refused."""
        changes: dict[str, Any] = {}
        for var, submitted in values.items():
            if var == "FORM_TYPE":
                continue
            spec = self._fields.get(var)
            if spec is None:
                raise MucError("not-acceptable", f"Unknown configuration field {var!r}.")
            value = spec.parse(submitted)
            if spec.validate is not None and (problem := spec.validate(value)):
                raise MucError("not-acceptable", f"Field {var}: {problem}")
            changes[spec.attr] = value
        return replace(config, **changes)

    def roominfo(self) -> Iterable[FieldSpec]:
        return (f for f in self._fields.values() if f.roominfo)
