"""Predicates and readers for MUC stanzas as a client receives them.

They read the raw XML of slixmpp stanzas so that the assertions say exactly
what is on the wire (XEP-0045 §7, XEP-0359, XEP-0421, XEP-0203).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

NS_MUC_USER = "http://jabber.org/protocol/muc#user"
NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"
NS_SID = "urn:xmpp:sid:0"
NS_OID = "urn:xmpp:occupant-id:0"
NS_DELAY = "urn:xmpp:delay"

Pred = Callable[[Any], bool]


def kind(stanza: Any) -> str:
    return stanza.xml.tag.split("}", 1)[-1]


def codes(stanza: Any) -> set[int]:
    """Status codes in the stanza's muc#user <x/>."""
    x = stanza.xml.find(f"{{{NS_MUC_USER}}}x")
    if x is None:
        return set()
    return {int(s.get("code")) for s in x.findall(f"{{{NS_MUC_USER}}}status")}


def item(stanza: Any) -> dict[str, str]:
    """Attributes of the muc#user <item/> (empty dict if none)."""
    x = stanza.xml.find(f"{{{NS_MUC_USER}}}x")
    el = x.find(f"{{{NS_MUC_USER}}}item") if x is not None else None
    return dict(el.attrib) if el is not None else {}


def error(stanza: Any) -> tuple[str, str, str]:
    """(type, condition, text) of an error stanza."""
    err = next((c for c in stanza.xml if c.tag.endswith("}error")), None)
    assert err is not None, f"not an error stanza: {stanza}"
    cond, text = "", ""
    for c in err:
        if c.tag == f"{{{NS_STANZAS}}}text":
            text = c.text or ""
        elif c.tag.startswith(f"{{{NS_STANZAS}}}"):
            cond = c.tag.split("}", 1)[1]
    return err.get("type", ""), cond, text


def stanza_id(stanza: Any) -> tuple[str, str] | None:
    el = stanza.xml.find(f"{{{NS_SID}}}stanza-id")
    return (el.get("id"), el.get("by")) if el is not None else None


def occupant_id(stanza: Any) -> str | None:
    el = stanza.xml.find(f"{{{NS_OID}}}occupant-id")
    return el.get("id") if el is not None else None


def delay(stanza: Any) -> dict[str, str] | None:
    el = stanza.xml.find(f"{{{NS_DELAY}}}delay")
    return dict(el.attrib) if el is not None else None


def body(stanza: Any) -> str | None:
    el = next((c for c in stanza.xml if c.tag.endswith("}body")), None)
    return el.text if el is not None else None


def subject(stanza: Any) -> str | None:
    el = next((c for c in stanza.xml if c.tag.endswith("}subject")), None)
    return (el.text or "") if el is not None else None


def frm(stanza: Any) -> str:
    return stanza.xml.get("from", "")


def presence_from(jid: str, *, available: bool | None = None) -> Pred:
    def pred(s: Any) -> bool:
        if kind(s) != "presence" or frm(s) != jid or s.xml.get("type") == "error":
            return False
        if available is None:
            return True
        return (s.xml.get("type") != "unavailable") == available

    return pred


def self_presence(jid: str) -> Pred:
    return lambda s: presence_from(jid)(s) and 110 in codes(s)


def groupchat(body_text: str | None = None, sender: str | None = None) -> Pred:
    def pred(s: Any) -> bool:
        if kind(s) != "message" or s.xml.get("type") != "groupchat":
            return False
        if body_text is not None and body(s) != body_text:
            return False
        return sender is None or frm(s) == sender

    return pred


def subject_message(room: str | None = None) -> Pred:
    return lambda s: (
        kind(s) == "message"
        and s.xml.get("type") == "groupchat"
        and subject(s) is not None
        and body(s) is None
        and (room is None or frm(s).split("/")[0] == room)
    )


def error_reply(stanza_kind: str, sid: str | None = None) -> Pred:
    return lambda s: (
        kind(s) == stanza_kind
        and s.xml.get("type") == "error"
        and (sid is None or s.xml.get("id") == sid)
    )


def history_before(client: Any, subject_stanza: Any) -> list[Any]:
    """The delayed groupchat messages (join history, §7.2.13) received before the subject."""
    received = client.received
    return [s for s in received[: received.index(subject_stanza)]
            if groupchat()(s) and delay(s) is not None and body(s) is not None]


def carries_jid(stanza: Any, bare_jid: str) -> bool:
    """True if the serialized stanza mentions ``bare_jid`` anywhere except its 'to'."""
    xml = stanza.xml
    attrs = {k: v for k, v in xml.attrib.items() if k != "to"}
    if any(bare_jid in v for v in attrs.values()):
        return True
    return any(
        bare_jid in (v or "")
        for el in xml.iter()
        if el is not xml
        for v in [*el.attrib.values(), el.text]
    )
