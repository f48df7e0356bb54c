"""The one exception type the domain raises, carrying an XMPP stanza error.

RFC 6120 §8.3 defines the conditions and error types; XEP-0045 names which
condition applies to each MUC use case (e.g. §7.2.17 for entering a room).
The component's error boundary turns a :class:`MucError` into an error reply
to the sender; nothing in ``muc/`` builds error stanzas itself.
"""

from __future__ import annotations

# RFC 6120 §8.3.3: the default error type for each defined condition.
_DEFAULT_TYPE: dict[str, str] = {
    "bad-request": "modify",
    "conflict": "cancel",
    "feature-not-implemented": "cancel",
    "forbidden": "auth",
    "gone": "cancel",
    "internal-server-error": "wait",
    "item-not-found": "cancel",
    "jid-malformed": "modify",
    "not-acceptable": "modify",
    "not-allowed": "cancel",
    "not-authorized": "auth",
    "policy-violation": "modify",
    "recipient-unavailable": "wait",
    "redirect": "modify",
    "registration-required": "auth",
    "remote-server-not-found": "cancel",
    "remote-server-timeout": "wait",
    "resource-constraint": "wait",
    "service-unavailable": "cancel",
    "subscription-required": "auth",
    "undefined-condition": "cancel",
    "unexpected-request": "wait",
}


class MucError(Exception):
    """A stanza error: ``condition`` (RFC 6120 §8.3.3), human-readable ``text``.

    Raised anywhere in the domain; caught by the component's error boundary,
    which replies to the stanza's sender with ``<error type=…>`` and the text.
    """

    def __init__(self, condition: str, text: str, etype: str | None = None) -> None:
        if condition not in _DEFAULT_TYPE:
            raise ValueError(f"unknown stanza error condition {condition!r}")
        super().__init__(f"{condition}: {text}")
        self.condition = condition
        self.text = text
        self.etype = etype or _DEFAULT_TYPE[condition]
