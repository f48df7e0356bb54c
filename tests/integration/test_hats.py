"""Hats (XEP-0317) managed with ad-hoc commands (XEP-0050) and shown in presence."""

from __future__ import annotations

import pytest

from tests.integration.muc_helpers import error, presence_from

pytestmark = pytest.mark.integration

CMD = "http://jabber.org/protocol/commands"
DATA = "jabber:x:data"
HATS = "urn:xmpp:hats:0"
NODE = "urn:xmpp:hats:commands"


def worn(stanza) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    el = stanza.xml.find(f"{{{HATS}}}hats")
    return [] if el is None else [(h.get("uri"), h.get("title")) for h in el]


def submit(room: str, node: str, sid: str | None, **fields: str) -> str:
    sess = f" sessionid='{sid}'" if sid else ""
    xml = "".join(f"<field var='{k}'><value>{v}</value></field>" for k, v in fields.items())
    return (f"<iq type='set' to='{room}' id='{node}-{sid or 'direct'}'><command xmlns='{CMD}' "
            f"node='{node}'{sess}><x xmlns='{DATA}' type='submit'><field var='FORM_TYPE'>"
            f"<value>{NODE}</value></field>{xml}</x></command></iq>")


async def test_owner_creates_and_assigns_a_hat_everyone_sees_it(
        xmpp_server, haven, connect) -> None:
    """§3.2 create (form flow), §3.5 assign: the wearer's presence carries the hat."""
    room = haven.room("anxiety")
    admin, alice, bob = await connect("admin"), await connect("alice"), await connect("bob")
    await admin.join(room, "Mod")
    await alice.join(room, "Alice")
    await bob.join(room, "Bob")
    listed = await admin.iq(f"<iq type='get' to='{room}' id='l1'><query xmlns="
                            f"'http://jabber.org/protocol/disco#items' node='{CMD}'/></iq>")
    nodes = {i.get("node") for i in listed.xml.iter("{http://jabber.org/protocol/disco#items}item")}
    assert {f"{NODE}:create", f"{NODE}:assign", f"{NODE}:list"} <= nodes
    start = await admin.iq(f"<iq type='set' to='{room}' id='c1'><command xmlns='{CMD}' "
                           f"node='{NODE}:create' action='execute'/></iq>")
    cmd = start.xml.find(f"{{{CMD}}}command")
    assert cmd.get("status") == "executing"
    assert {f.get("var") for f in cmd.iter(f"{{{DATA}}}field")} >= {"hats#title", "hats#uri"}
    done = await admin.iq(submit(room, f"{NODE}:create", cmd.get("sessionid"),
                                 **{"hats#title": "Peer supporter",
                                    "hats#uri": "urn:haven:hats:peer", "hats#hue": "120"}))
    assert done.xml.find(f"{{{CMD}}}command").get("status") == "completed"
    alice_jid = (await admin.expect(presence_from(f"{room}/Alice"))).xml.find(
        "{http://jabber.org/protocol/muc#user}x/{http://jabber.org/protocol/muc#user}item"
    ).get("jid").split("/")[0]
    res = await admin.iq(submit(room, f"{NODE}:assign", None,
                                **{"hats#jid": alice_jid, "hats#uri": "urn:haven:hats:peer"}))
    assert res.xml.get("type") == "result", res
    seen = await bob.expect(lambda s: presence_from(f"{room}/Alice")(s) and worn(s))
    assert worn(seen) == [("urn:haven:hats:peer", "Peer supporter")]
    # A newcomer sees the hat on entering.
    carol = await connect("carol")
    await carol.join(room, "Carol")
    assert worn(await carol.expect(presence_from(f"{room}/Alice"))) == [
        ("urn:haven:hats:peer", "Peer supporter")]
    # §3.3: destroying the hat takes it off.
    await admin.iq(submit(room, f"{NODE}:destroy", None, **{"hats#uri": "urn:haven:hats:peer"}))
    bare = await bob.expect(lambda s: presence_from(f"{room}/Alice")(s) and not worn(s))
    assert bare is not None


async def test_hat_commands_are_for_admins_and_hats_cant_be_forged(
        xmpp_server, haven, connect) -> None:
    room = haven.room("anxiety")
    alice, bob = await connect("alice"), await connect("bob")
    await alice.join(room, "Alice")
    await bob.join(room, "Bob")
    res = await alice.iq(submit(room, f"{NODE}:create", None,
                                **{"hats#title": "Boss", "hats#uri": "urn:x:boss"}))
    assert error(res)[1] == "forbidden" and error(res)[2]
    alice.send_raw(f"<presence to='{room}/Alice'><hats xmlns='{HATS}'><hat uri='urn:x:boss' "
                   f"title='Moderator'/></hats></presence>")
    upd = await bob.expect(presence_from(f"{room}/Alice"))
    assert worn(upd) == []
