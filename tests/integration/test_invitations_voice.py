"""Mediated invitations (§7.8.2) and voice requests (§7.13, §8.6) on real servers."""

from __future__ import annotations

import pytest

from tests.integration.muc_helpers import codes, error, error_reply, groupchat, item

pytestmark = pytest.mark.integration

MUC_USER = "http://jabber.org/protocol/muc#user"
DATA = "jabber:x:data"
OWNER = "http://jabber.org/protocol/muc#owner"


def invitation(s) -> bool:  # type: ignore[no-untyped-def]
    return s.xml.find(f"{{{MUC_USER}}}x/{{{MUC_USER}}}invite") is not None


async def configure(client, room: str, **fields: str) -> None:  # type: ignore[no-untyped-def]
    xml = "".join(f"<field var='{k}'><value>{v}</value></field>" for k, v in fields.items())
    res = await client.iq(f"<iq type='set' to='{room}' id='cfg-{len(xml)}'><query "
                          f"xmlns='{OWNER}'><x xmlns='{DATA}' type='submit'>{xml}</x>"
                          f"</query></iq>")
    assert res.xml.get("type") == "result", res


async def test_moderator_invites_and_the_invitee_declines(xmpp_server, haven, connect) -> None:
    """§7.8.2: the invitation comes from the room with the inviter's occupant JID (never its
    real JID); a decline goes back to the inviter."""
    room = haven.room("anxiety")
    # Bob is online (initial presence), so his server delivers to his bare JID.
    admin, bob = await connect("admin"), await connect("bob", initial_presence=True)
    await admin.join(room, "Mod")
    admin.send_raw(f"<message to='{room}'><x xmlns='{MUC_USER}'><invite to='{bob.bare}'>"
                   f"<reason>Come and talk</reason></invite></x></message>")
    inv = await bob.expect(invitation)
    assert inv.xml.get("from") == room
    el = inv.xml.find(f"{{{MUC_USER}}}x/{{{MUC_USER}}}invite")
    assert el.get("from") == f"{room}/Mod"
    assert el.findtext(f"{{{MUC_USER}}}reason") == "Come and talk"
    assert "admin@" not in str(inv)
    bob.send_raw(f"<message to='{room}'><x xmlns='{MUC_USER}'><decline to='{room}/Mod'>"
                 f"<reason>Not tonight</reason></decline></x></message>")
    dec = await admin.expect(lambda s: s.xml.find(f"{{{MUC_USER}}}x/{{{MUC_USER}}}decline")
                             is not None)
    d = dec.xml.find(f"{{{MUC_USER}}}x/{{{MUC_USER}}}decline")
    assert d.get("from") == bob.bare and d.findtext(f"{{{MUC_USER}}}reason") == "Not tonight"


async def test_invitation_rules(xmpp_server, haven, connect) -> None:
    """Participants can't invite unless the room allows it; a bad JID is jid-malformed;
    in a members-only room an admin's invitation makes the invitee a member."""
    room = haven.room("lounge")
    admin, alice = await connect("admin"), await connect("alice")
    bob = await connect("bob", initial_presence=True)
    await admin.join(room, "Mod")
    await alice.join(room, "Alice")
    alice.send_raw(f"<message to='{room}' id='i1'><x xmlns='{MUC_USER}'>"
                   f"<invite to='{bob.bare}'/></x></message>")
    err = await alice.expect(error_reply("message", "i1"))
    assert error(err)[1] == "forbidden" and error(err)[2]
    admin.send_raw(f"<message to='{room}' id='i2'><x xmlns='{MUC_USER}'>"
                   f"<invite to='not a jid@@'/></x></message>")
    assert error(await admin.expect(error_reply("message", "i2")))[1] == "jid-malformed"
    await configure(admin, room, **{"muc#roomconfig_membersonly": "1"})
    admin.send_raw(f"<message to='{room}'><x xmlns='{MUC_USER}'><invite to='{bob.bare}'/>"
                   f"</x></message>")
    await bob.expect(invitation)
    own = await bob.join(room, "Bob")
    assert 110 in codes(own) and item(own)["affiliation"] == "member"


async def test_voice_request_and_approval(xmpp_server, haven, connect) -> None:
    """§7.13/§8.6: a visitor asks, moderators get the form, approval grants voice;
    a second request right away is refused politely."""
    room = haven.room("lounge")
    admin, alice = await connect("admin"), await connect("alice")
    await admin.join(room, "Mod")
    await configure(admin, room, **{"muc#roomconfig_moderatedroom": "1"})
    own = await alice.join(room, "Alice")
    assert item(own)["role"] == "visitor"
    alice.send_raw(f"<message to='{room}' type='groupchat' id='v0'><body>hello?</body>"
                   f"</message>")
    assert error(await alice.expect(error_reply("message", "v0")))[1] == "forbidden"
    request = (f"<x xmlns='{DATA}' type='submit'><field var='FORM_TYPE'><value>"
               f"http://jabber.org/protocol/muc#request</value></field><field var='muc#role'>"
               f"<value>participant</value></field></x>")
    alice.send_raw(f"<message to='{room}' id='v1'>{request}</message>")
    form_msg = await admin.expect(lambda s: s.xml.find(f"{{{DATA}}}x") is not None)
    fields = {f.get("var"): f.findtext(f"{{{DATA}}}value")
              for f in form_msg.xml.find(f"{{{DATA}}}x").findall(f"{{{DATA}}}field")}
    assert fields["muc#roomnick"] == "Alice" and fields["muc#request_allow"] in ("0", "false")
    assert fields["muc#jid"].startswith("alice@")  # moderators may see it
    alice.send_raw(f"<message to='{room}' id='v2'>{request}</message>")
    err = await alice.expect(error_reply("message", "v2"))
    assert error(err)[1] == "policy-violation" and "recently" in error(err)[2]
    admin.send_raw(
        f"<message to='{room}'><x xmlns='{DATA}' type='submit'><field var='FORM_TYPE'><value>"
        f"http://jabber.org/protocol/muc#request</value></field><field var='muc#roomnick'>"
        f"<value>Alice</value></field><field var='muc#request_allow'><value>true</value>"
        f"</field></x></message>")
    voiced = await alice.expect(lambda s: s.xml.get("from") == f"{room}/Alice"
                                and item(s).get("role") == "participant")
    assert 110 in codes(voiced)
    alice.groupchat(room, "thank you")
    await admin.expect(groupchat("thank you"))
