"""Room nicknames: the PRECIS Nickname profile (RFC 8266 §2.2 enforcement, §2.4
comparison), as used for XEP-0045 §7.2.1 / §7.2.8."""

from __future__ import annotations

import pytest

from muc.nick import MAX_NICK_CHARS, NickError, enforce, fold


@pytest.mark.parametrize(
    ("raw", "enforced"),
    [
        ("Alice", "Alice"),
        ("  Alice  ", "Alice"),  # §2.2 rule 2b: trim
        ("St  Peter", "St Peter"),  # §2.2 rule 2c: collapse interior spaces
        ("St\u00a0Peter", "St Peter"),  # §2.2 rule 2a: non-ASCII space -> SPACE
        ("\u3000Sam\u2003Li\u3000", "Sam Li"),
        ("ＳＡＭ", "SAM"),  # width mapping through NFKC (§2.2 rule 1 and 4)
        ("e\u0301", "é"),  # NFKC composes
        ("ﬁsh", "fish"),  # compatibility ligature
        ("Ünïcödé ☕", "Ünïcödé ☕"),  # symbols are fine in FreeformClass
    ],
)
def test_enforcement(raw: str, enforced: str) -> None:
    """RFC 8266 §2.2: mapping, trimming, collapsing and NFKC."""
    assert enforce(raw) == enforced


@pytest.mark.parametrize(
    "raw",
    [
        "",
        " ",
        "\u00a0\u2003",
        "a\u0007b",
        "tab\there",
        "new\nline",
        "zw\u200bsp",
        "bidi\u202eoverride",
        "private\ue000use",
        "unassigned\U000e0fff",
    ],
)
def test_unusable_nicks_raise(raw: str) -> None:
    """RFC 8266 §2.2 / RFC 8264 §9: empty results and controls, format (ignorable),
    private-use and unassigned code points are rejected."""
    with pytest.raises(NickError):
        enforce(raw)


def test_length_limit() -> None:
    """Haven's limit: MAX_NICK_CHARS after enforcement (spaces trimmed first)."""
    assert enforce("x" * MAX_NICK_CHARS) == "x" * MAX_NICK_CHARS
    assert enforce(" " + "x" * MAX_NICK_CHARS + " ") == "x" * MAX_NICK_CHARS
    with pytest.raises(NickError):
        enforce("x" * (MAX_NICK_CHARS + 1))


def test_error_text_is_for_humans() -> None:
    """The NickError message becomes the stanza error text, so it explains the problem."""
    with pytest.raises(NickError, match="required"):
        enforce("   ")
    with pytest.raises(NickError, match="U\\+200B"):
        enforce("a\u200bb")


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Sam", "sam"),
        ("Sam", "ＳＡＭ"),
        ("  Sam ", "SAM"),
        ("Straße", "STRASSE"),
        ("Sam\u00a0Li", "sam li"),
    ],
)
def test_fold_matches_equivalent_nicks(a: str, b: str) -> None:
    """RFC 8266 §2.4: comparison is case-insensitive after enforcement."""
    assert fold(a) == fold(b)


@pytest.mark.parametrize(("a", "b"), [("Sam", "Sam2"), ("Sam Li", "SamLi"), ("é", "e")])
def test_fold_keeps_different_nicks_apart(a: str, b: str) -> None:
    """RFC 8266 §2.4: different nicknames stay different."""
    assert fold(a) != fold(b)


def test_fold_of_unusable_nick_raises() -> None:
    """fold() enforces first, so an empty nick has no comparison key."""
    with pytest.raises(NickError):
        fold("  ")


@pytest.mark.parametrize("raw", ["Alice", "  Bob  ", "ＳＡＭ", "a\u3000b"])
def test_enforce_is_stable_on_ordinary_input(raw: str) -> None:
    """Enforcing an enforced nick changes nothing (the common case)."""
    assert enforce(enforce(raw)) == enforce(raw)


@pytest.mark.parametrize("raw", ["\u00a8x", "a \u00a8", "x\u00a8 \u00a8"])
def test_enforce_is_idempotent_when_nfkc_produces_spaces(raw: str) -> None:
    """RFC 8264 §7: the rules are not necessarily idempotent, so an implementation
    SHOULD reapply them until the output is stable. U+00A8 (DIAERESIS) normalises to
    SPACE + U+0308, which leaves a leading or doubled space in the 'enforced' nick."""
    once = enforce(raw)
    assert enforce(once) == once
    assert once == once.strip() and "  " not in once
