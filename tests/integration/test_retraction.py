"""Moderated message retraction (XEP-0425, :1 and legacy :0) on real servers."""

from __future__ import annotations

import pytest

from tests.integration.muc_helpers import (
    body,
    delay,
    error,
    groupchat,
    stanza_id,
    subject_message,
)

pytestmark = pytest.mark.integration

RETRACT = "urn:xmpp:message-retract:1"
MODERATE = "urn:xmpp:message-moderate:1"


def retraction_of(sid: str):  # type: ignore[no-untyped-def]
    return lambda s: (s.xml.tag.endswith("message")
                      and s.xml.find(f"{{{RETRACT}}}retract") is not None
                      and s.xml.find(f"{{{RETRACT}}}retract").get("id") == sid)


@pytest.mark.parametrize("version", ["1", "0"])
async def test_moderator_retracts_and_history_keeps_a_tombstone(
        xmpp_server, haven, connect, version) -> None:
    """XEP-0425 §3 broadcast (both forms in one message), §4 tombstone on rejoin."""
    room = haven.room("anxiety")
    admin, alice, bob = await connect("admin"), await connect("alice"), await connect("bob")
    await admin.join(room, "Mod")
    await alice.join(room, "Alice")
    await bob.join(room, "Bob")
    alice.groupchat(room, "something hurtful 4242")
    msg = await bob.expect(groupchat("something hurtful 4242"))
    sid = stanza_id(msg)[0]
    if version == "1":
        req = (f"<moderate xmlns='{MODERATE}' id='{sid}'><retract xmlns='{RETRACT}'/>"
               f"<reason>Against the guidelines</reason></moderate>")
    else:
        req = (f"<apply-to xmlns='urn:xmpp:fasten:0' id='{sid}'>"
               f"<moderate xmlns='urn:xmpp:message-moderate:0'>"
               f"<retract xmlns='urn:xmpp:message-retract:0'/>"
               f"<reason>Against the guidelines</reason></moderate></apply-to>")
    res = await admin.iq(f"<iq type='set' to='{room}' id='mod{version}'>{req}</iq>")
    assert res.xml.get("type") == "result", res
    for client in (admin, alice, bob):
        r = await client.expect(retraction_of(sid))
        assert r.xml.get("from") == room
        retract = r.xml.find(f"{{{RETRACT}}}retract")
        moderated = retract.find(f"{{{MODERATE}}}moderated")
        assert moderated.get("by") == f"{room}/Mod"
        assert retract.findtext(f"{{{RETRACT}}}reason") == "Against the guidelines"
        legacy = r.xml.find("{urn:xmpp:fasten:0}apply-to")
        assert legacy is not None and legacy.get("id") == sid
    carol = await connect("carol")
    await carol.join(room, "Carol")
    subj = await carol.expect(subject_message(room))
    before = carol.received[: carol.received.index(subj)]
    assert not any("something hurtful" in str(s) for s in carol.received)
    tomb = [s for s in before if delay(s) and s.xml.find(f"{{{RETRACT}}}retracted") is not None]
    assert len(tomb) == 1 and body(tomb[0]) is None
    assert stanza_id(tomb[0])[0] == sid


async def test_retraction_errors(xmpp_server, haven, connect) -> None:
    """Non-moderators get forbidden; an unknown stanza-id item-not-found (XEP-0425 §3.2)."""
    room = haven.room("anxiety")
    admin, alice = await connect("admin"), await connect("alice")
    await admin.join(room, "Mod")
    await alice.join(room, "Alice")
    admin.groupchat(room, "a fine message")
    sid = stanza_id(await alice.expect(groupchat("a fine message")))[0]
    req = f"<moderate xmlns='{MODERATE}' id='{sid}'><retract xmlns='{RETRACT}'/></moderate>"
    res = await alice.iq(f"<iq type='set' to='{room}' id='r1'>{req}</iq>")
    assert error(res)[1] == "forbidden" and error(res)[2]
    bad = req.replace(sid, "no-such-id")
    res = await admin.iq(f"<iq type='set' to='{room}' id='r2'>{bad}</iq>")
    assert error(res)[1] == "item-not-found" and error(res)[2]


async def test_retraction_survives_a_restart(xmpp_server, haven, connect) -> None:
    """The tombstone is what the archive keeps: after a restart history shows no text."""
    room = haven.room("grief")
    admin, alice = await connect("admin"), await connect("alice")
    await admin.join(room, "Mod")
    await alice.join(room, "Alice")
    alice.groupchat(room, "please remove me 9911")
    sid = stanza_id(await admin.expect(groupchat("please remove me 9911")))[0]
    req = f"<moderate xmlns='{MODERATE}' id='{sid}'><retract xmlns='{RETRACT}'/></moderate>"
    assert (await admin.iq(f"<iq type='set' to='{room}' id='r3'>{req}</iq>")).xml.get(
        "type") == "result"
    await admin.expect(retraction_of(sid))
    await haven.restart()
    bob = await connect("bob")
    await bob.join(room, "Bob")
    await bob.expect(subject_message(room))
    assert not any("please remove me" in str(s) for s in bob.received)
    assert any(s.xml.find(f"{{{RETRACT}}}retracted") is not None for s in bob.received)


@pytest.mark.parametrize("by", ["occupant-id", "nick"])
async def test_ban_someone_who_already_left(xmpp_server, haven, connect, by) -> None:
    """A moderator bans a member who left, by occupant-id or by the nick seen in
    history, without seeing their address; the ban holds when they come back."""
    from tests.integration.muc_helpers import occupant_id

    room = haven.room("anxiety")
    admin, alice = await connect("admin"), await connect("alice")
    await admin.join(room, "Mod")
    await alice.join(room, "Troll")
    alice.groupchat(room, "nasty words")
    seen = await admin.expect(groupchat("nasty words"))
    oid = occupant_id(seen)
    await alice.leave(room, "Troll")
    if by == "occupant-id":
        target = (f"<item affiliation='outcast'><occupant-id xmlns='urn:xmpp:occupant-id:0' "
                  f"id='{oid}'/><reason>harassment</reason></item>")
    else:
        target = "<item affiliation='outcast' nick='Troll'><reason>harassment</reason></item>"
    res = await admin.iq(f"<iq type='set' to='{room}' id='ban-{by}'><query "
                         f"xmlns='http://jabber.org/protocol/muc#admin'>{target}</query></iq>")
    assert res.xml.get("type") == "result", res
    back = await alice.join(room, "SomeoneElse")
    assert error(back)[1] == "forbidden"
