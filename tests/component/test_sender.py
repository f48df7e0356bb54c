"""The XML the Sender writes: one serialization, spliced per recipient.

Stream-level unit tests of ``component.sender`` (feed a parsed stanza in,
read the exact strings written), no network.
"""

from __future__ import annotations

from datetime import UTC, datetime
from xml.etree import ElementTree as ET

from slixmpp import Message
from slixmpp.componentxmpp import ComponentXMPP

from component.sender import XmppSender, presence_payload
from muc.ports import Destroy, Item, OutGroupchat, OutPresence, OutPrivate

NS = "jabber:component:accept"
ROOM = "anxiety@rooms.example"


def parse_out(raw: str) -> ET.Element:
    return ET.fromstring(raw.replace("<message ", f"<message xmlns='{NS}' ", 1)
                         .replace("<presence ", f"<presence xmlns='{NS}' ", 1))


def incoming(xml: str) -> Message:
    xmpp = ComponentXMPP("rooms.example", "s", "127.0.0.1", 5347)
    return Message(xmpp, ET.fromstring(xml))


def test_groupchat_is_serialized_once_and_spliced_per_recipient() -> None:
    out: list[str] = []
    msg = incoming(
        f"<message xmlns='{NS}' from='sam@example/phone' to='{ROOM}' type='groupchat' id='m1'>"
        f"<body>hi &amp; welcome</body><reply xmlns='urn:xmpp:reply:0' id='x'/>"
        f"<stanza-id xmlns='urn:xmpp:sid:0' by='{ROOM}' id='forged'/>"
        f"<occupant-id xmlns='urn:xmpp:occupant-id:0' id='forged'/>"
        f"<x xmlns='http://jabber.org/protocol/muc#user'><item jid='evil@x'/></x>"
        f"<delay xmlns='urn:xmpp:delay' from='{ROOM}' stamp='2000-01-01T00:00:00Z'/></message>")
    sender = XmppSender(out.append, NS)
    stored = sender.groupchat(["a@example/1", "b@example/2"], OutGroupchat(
        frm=f"{ROOM}/Sam", room=ROOM, payload=msg, stanza_id="S1", occupant_id="O1"))
    assert len(out) == 2
    assert out[0].startswith('<message to="a@example/1" ')
    assert out[0].split(" ", 2)[2] == out[1].split(" ", 2)[2]  # identical but for `to`
    el = parse_out(out[0])
    assert el.get("from") == f"{ROOM}/Sam" and el.get("id") == "m1"
    assert el.findtext(f"{{{NS}}}body") == "hi & welcome"
    sids = el.findall("{urn:xmpp:sid:0}stanza-id")
    assert [(s.get("id"), s.get("by")) for s in sids] == [("S1", ROOM)]
    assert [o.get("id") for o in el.findall("{urn:xmpp:occupant-id:0}occupant-id")] == ["O1"]
    assert el.find("{http://jabber.org/protocol/muc#user}x") is None  # forged item dropped
    assert el.find("{urn:xmpp:delay}delay") is None
    assert el.find("{urn:xmpp:reply:0}reply") is not None  # extensions kept
    assert "to=" not in stored.split(">", 1)[0]


def test_history_adds_delay_from_the_room() -> None:
    out: list[str] = []
    sender = XmppSender(out.append, NS)
    stored = f'<message from="{ROOM}/Sam" type="groupchat"><body>old</body></message>'
    sender.history("c@example/1", stored, datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), ROOM)
    el = parse_out(out[0])
    d = el.find("{urn:xmpp:delay}delay")
    assert d.get("from") == ROOM and d.get("stamp") == "2026-01-02T03:04:05.000Z"
    assert el.get("to") == "c@example/1"


def test_presence_items_codes_and_escaping() -> None:
    out: list[str] = []
    sender = XmppSender(out.append, NS)
    sender.presence(OutPresence(
        to="a@example/1", frm=f"{ROOM}/<Sam>", item=Item("owner", "moderator", jid="s@e/1",
                                                          reason="a & b"),
        available=False, payload="<status>bye</status>", codes=(110, 303),
        occupant_id="O", destroy=Destroy(jid="other@rooms.example", reason="moved")))
    el = parse_out(out[0])
    assert el.get("type") == "unavailable" and el.get("from") == f"{ROOM}/<Sam>"
    x = el.find("{http://jabber.org/protocol/muc#user}x")
    it = x.find("{http://jabber.org/protocol/muc#user}item")
    assert it.attrib == {"affiliation": "owner", "role": "moderator", "jid": "s@e/1"}
    assert it.findtext("{http://jabber.org/protocol/muc#user}reason") == "a & b"
    assert [s.get("code") for s in x.findall("{http://jabber.org/protocol/muc#user}status")] \
        == ["110", "303"]
    assert x.find("{http://jabber.org/protocol/muc#user}destroy").get("jid") == \
        "other@rooms.example"


def test_presence_payload_keeps_show_and_drops_muc_elements() -> None:
    xmpp = ComponentXMPP("rooms.example", "s", "127.0.0.1", 5347)
    from slixmpp import Presence
    pres = Presence(xmpp, ET.fromstring(
        f"<presence xmlns='{NS}' to='{ROOM}/Sam'><show>away</show>"
        f"<x xmlns='http://jabber.org/protocol/muc'><password>pw</password></x>"
        f"<c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='n' ver='v'/>"
        f"</presence>"))
    payload = presence_payload(pres, NS)
    assert "<show>away</show>" in payload and "caps" in payload
    assert "password" not in payload


def test_private_message_gets_muc_user_x() -> None:
    out: list[str] = []
    msg = incoming(f"<message xmlns='{NS}' from='sam@example/1' to='{ROOM}/Mod' type='chat' "
                   f"id='p1'><body>help</body></message>")
    XmppSender(out.append, NS).private(["mod@example/1"], OutPrivate(
        frm=f"{ROOM}/Sam", payload=msg, occupant_id="O"))
    el = parse_out(out[0])
    assert el.get("type") == "chat" and el.get("from") == f"{ROOM}/Sam"
    assert el.find("{http://jabber.org/protocol/muc#user}x") is not None
