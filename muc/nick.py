"""Room nicknames: the PRECIS Nickname profile, RFC 8266.

RFC 8266 §2.2 (enforcement): map non-ASCII spaces to U+0020, trim leading and
trailing spaces and collapse runs of spaces, apply NFKC; the result must be
non-empty and use only FreeformClass code points (no controls, no ignorable
or unassigned code points). §2.4 (comparison) additionally case-folds, so
"Sam" and "ＳＡＭ" are the same nickname.
"""

from __future__ import annotations

import unicodedata

MAX_NICK_CHARS = 48

# General categories outside PRECIS FreeformClass (RFC 8264 §9.12–9.17):
# controls, unassigned, surrogates, private use, format (ignorable) code points.
_DISALLOWED_CATEGORIES = {"Cc", "Cn", "Cs", "Co", "Cf"}


class NickError(ValueError):
    """The nickname can't be used; the message says why, for the user."""


def enforce(nick: str) -> str:
    """Return the enforced form of ``nick`` (RFC 8266 §2.2) or raise NickError.

    RFC 8264 §7: the rules are applied until the result is stable (NFKC can
    produce new spaces, e.g. U+00A8 becomes SPACE + U+0308).
    """
    current = nick
    for _ in range(4):
        result = _enforce_once(current)
        if result == current:
            return result
        current = result
    raise NickError("This nickname can't be used: it doesn't settle into a stable form.")


def _enforce_once(nick: str) -> str:
    """One pass of the RFC 8266 §2.2 enforcement rules."""
    mapped = "".join(" " if unicodedata.category(c) == "Zs" else c for c in nick)
    mapped = " ".join(mapped.split(" "))
    collapsed = " ".join(part for part in mapped.split(" ") if part)
    normalized = unicodedata.normalize("NFKC", collapsed)
    if not normalized:
        raise NickError("A nickname is required (it can't be empty or only spaces).")
    if len(normalized) > MAX_NICK_CHARS:
        raise NickError(f"Nicknames can be at most {MAX_NICK_CHARS} characters long.")
    for ch in normalized:
        if unicodedata.category(ch) in _DISALLOWED_CATEGORIES or ch in "\r\n\t":
            raise NickError(
                f"Nicknames can't contain invisible or control characters (U+{ord(ch):04X})."
            )
    return normalized


def fold(nick: str) -> str:
    """Comparison key (RFC 8266 §2.4): enforced, case-folded, NFKC again."""
    return unicodedata.normalize("NFKC", enforce(nick).casefold())
