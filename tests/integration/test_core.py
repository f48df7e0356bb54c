"""The core MUC suite, run through a real Prosody and a real ejabberd.

Each test starts the Haven component as a subprocess connected to the server
and drives it with real slixmpp client connections, asserting on the stanzas
the clients receive (XEP-0045 §7, XEP-0359, XEP-0421, XEP-0203, XEP-0030).
"""

from __future__ import annotations

import pytest

from tests.integration.muc_helpers import (
    body,
    codes,
    delay,
    error,
    error_reply,
    groupchat,
    item,
    occupant_id,
    presence_from,
    self_presence,
    stanza_id,
    subject,
    subject_message,
)

pytestmark = pytest.mark.integration


async def test_join_order_and_status_codes(xmpp_server, haven, connect) -> None:
    """§7.1 order: others' presence, self-presence (110, 170), history, subject last."""
    room = haven.room("anxiety")
    alice = await connect("alice")
    bob = await connect("bob")
    await alice.join(room, "Alice")
    bob.drain()
    self_pres = await bob.join(room, "Bob")
    assert {110, 170} <= codes(self_pres)
    assert 100 not in codes(self_pres)  # semi-anonymous
    assert item(self_pres)["role"] == "participant"
    assert item(self_pres)["affiliation"] == "none"
    assert item(self_pres)["jid"].startswith("bob@")  # one's own JID is fine
    seen = [s for s in bob.received if s.xml.get("from", "").startswith(room)]
    kinds = [(s.xml.tag.split("}")[1], s.xml.get("from")) for s in seen]
    i_alice = kinds.index(("presence", f"{room}/Alice"))
    i_self = kinds.index(("presence", f"{room}/Bob"))
    assert i_alice < i_self
    subj = await bob.expect(subject_message(room))
    assert subject(subj) == "Welcome to Anxiety"
    stamp = delay(subj)  # §7.2.15: stamped with when the subject was last set
    assert stamp is not None and stamp["from"] == room
    assert seen.index(self_pres) < bob.received.index(subj)


async def test_presence_broadcast_and_update(xmpp_server, haven, connect) -> None:
    """§7.2.3 join broadcast and §7.7 presence update reach every occupant."""
    room = haven.room("anxiety")
    alice, bob = await connect("alice"), await connect("bob")
    await alice.join(room, "Alice")
    await bob.join(room, "Bob")
    joined = await alice.expect(presence_from(f"{room}/Bob", available=True))
    assert item(joined)["role"] == "participant"
    assert "jid" not in item(joined)
    bob.send_raw(f"<presence to='{room}/Bob'><show>away</show><status>brb</status></presence>")
    upd = await alice.expect(
        lambda s: (
            presence_from(f"{room}/Bob")(s) and s.xml.findtext("{jabber:client}show") == "away"
        )
    )
    assert upd.xml.findtext("{jabber:client}status") == "brb"
    bob.send_raw(f"<presence to='{room}/Bob' type='unavailable'><status>bye</status></presence>")
    gone = await alice.expect(presence_from(f"{room}/Bob", available=False))
    assert item(gone)["role"] == "none"
    own = await bob.expect(presence_from(f"{room}/Bob", available=False))
    assert 110 in codes(own)


async def test_message_fanout_with_stanza_and_occupant_ids(xmpp_server, haven, connect) -> None:
    """§7.4 broadcast; XEP-0359 stanza-id by the room; XEP-0421 occupant-id per sender."""
    room = haven.room("anxiety")
    alice, bob, carol = await connect("alice"), await connect("bob"), await connect("carol")
    for c, n in ((alice, "Alice"), (bob, "Bob"), (carol, "Carol")):
        await c.join(room, n)
    mid = alice.groupchat(room, "hello everyone")
    got = [
        await c.expect(groupchat("hello everyone", f"{room}/Alice")) for c in (alice, bob, carol)
    ]
    ids = {stanza_id(m) for m in got}
    assert len(ids) == 1
    sid, by = ids.pop()
    assert by == room and sid
    assert {occupant_id(m) for m in got} == {occupant_id(got[0])}
    assert got[0].xml.get("id") == mid  # the reflection keeps the client's id
    bob.groupchat(room, "hi Alice")
    from_bob = await carol.expect(groupchat("hi Alice"))
    assert occupant_id(from_bob) != occupant_id(got[0])
    assert stanza_id(from_bob)[0] != sid


async def test_forged_ids_are_replaced(xmpp_server, haven, connect) -> None:
    """XEP-0359 §5 / XEP-0421 §4: a client can't forge the room's stanza-id or occupant-id."""
    room = haven.room("anxiety")
    alice, bob = await connect("alice"), await connect("bob")
    await alice.join(room, "Alice")
    await bob.join(room, "Bob")
    alice.send_raw(
        f"<message to='{room}' type='groupchat' id='forge'><body>forged</body>"
        f"<stanza-id xmlns='urn:xmpp:sid:0' by='{room}' id='fake-id'/>"
        f"<occupant-id xmlns='urn:xmpp:occupant-id:0' id='fake-occupant'/></message>"
    )
    msg = await bob.expect(groupchat("forged"))
    assert stanza_id(msg)[0] != "fake-id"
    assert occupant_id(msg) != "fake-occupant"
    assert len(msg.xml.findall("{urn:xmpp:sid:0}stanza-id")) == 1


async def test_history_on_rejoin_honours_limits(xmpp_server, haven, connect) -> None:
    """§7.2.13 history with XEP-0203 delay from the room; §7.2.14 maxstanzas / maxchars."""
    room = haven.room("anxiety")
    alice = await connect("alice")
    await alice.join(room, "Alice")
    for i in range(4):
        alice.groupchat(room, f"message {i}")
        await alice.expect(groupchat(f"message {i}"))
    bob = await connect("bob")
    await bob.join(room, "Bob", history={"maxstanzas": 2})
    subj = await bob.expect(subject_message(room))
    hist = [
        s
        for s in bob.received[: bob.received.index(subj)]
        if groupchat()(s) and s.xml.get("from") != room
    ]
    assert [h.xml.findtext("{jabber:client}body") for h in hist] == ["message 2", "message 3"]
    for h in hist:
        d = delay(h)
        assert d is not None and d["from"] == room and d["stamp"].endswith("Z")
        assert stanza_id(h) is not None
    carol = await connect("carol")
    await carol.join(room, "Carol", history={"maxchars": 0})
    subj = await carol.expect(subject_message(room))
    assert not [s for s in carol.received if groupchat()(s) and delay(s) and body(s) is not None]


async def test_nickname_change(xmpp_server, haven, connect) -> None:
    """§7.6.3: unavailable with 303 and the new nick, then presence from the new nick."""
    room = haven.room("anxiety")
    alice, bob = await connect("alice"), await connect("bob")
    await alice.join(room, "Alice")
    await bob.join(room, "Bob")
    alice.send_raw(f"<presence to='{room}/Ally'/>")
    old = await bob.expect(presence_from(f"{room}/Alice", available=False))
    assert 303 in codes(old) and item(old)["nick"] == "Ally"
    new = await bob.expect(presence_from(f"{room}/Ally", available=True))
    assert item(new)["role"] == "participant"
    own_old = await alice.expect(presence_from(f"{room}/Alice", available=False))
    assert {110, 303} <= codes(own_old)
    await alice.expect(self_presence(f"{room}/Ally"))
    # §7.6.2: the new nick is taken.
    alice.send_raw(f"<presence to='{room}/Bob' id='nc1'/>")
    err = await alice.expect(error_reply("presence"))
    assert error(err)[1] == "conflict" and error(err)[2]


async def test_several_sessions_share_one_nickname(xmpp_server, haven, connect) -> None:
    """Two resources of one account under one nick: one occupant, both get messages."""
    room = haven.room("anxiety")
    phone = await connect("alice", resource="phone")
    laptop = await connect("alice", resource="laptop")
    bob = await connect("bob")
    await bob.join(room, "Bob")
    await phone.join(room, "Alice")
    await bob.expect(presence_from(f"{room}/Alice", available=True))
    second = await laptop.join(room, "Alice")
    assert 110 in codes(second)
    await bob.expect_nothing(presence_from(f"{room}/Alice"), timeout=1)
    bob.groupchat(room, "to both")
    await phone.expect(groupchat("to both"))
    await laptop.expect(groupchat("to both"))
    laptop.send_raw(f"<presence to='{room}/Alice' type='unavailable'/>")
    await laptop.expect(presence_from(f"{room}/Alice", available=False))
    await bob.expect_nothing(presence_from(f"{room}/Alice", available=False), timeout=1)
    phone.send_raw(f"<presence to='{room}/Alice' type='unavailable'/>")
    await bob.expect(presence_from(f"{room}/Alice", available=False))


async def test_private_messages_follow_allowpm(xmpp_server, haven, connect) -> None:
    """§7.5 with Haven's default allowpm=moderators: members reach moderators, not each other."""
    room = haven.room("anxiety")
    alice, bob, admin = await connect("alice"), await connect("bob"), await connect("admin")
    await alice.join(room, "Alice")
    await bob.join(room, "Bob")
    mod = await admin.join(room, "Mod")
    assert item(mod)["role"] == "moderator"
    alice.send_raw(f"<message to='{room}/Bob' type='chat' id='pm1'><body>psst</body></message>")
    err = await alice.expect(error_reply("message", "pm1"))
    assert error(err)[1] == "not-allowed" and "moderator" in error(err)[2]
    await bob.expect_nothing(lambda s: s.xml.get("type") == "chat", timeout=1)
    alice.send_raw(f"<message to='{room}/Mod' type='chat' id='pm2'><body>help</body></message>")
    pm = await admin.expect(lambda s: s.xml.get("type") == "chat" and s.xml.get("id") == "pm2")
    assert pm.xml.get("from") == f"{room}/Alice"
    assert pm.xml.find("{http://jabber.org/protocol/muc#user}x") is not None
    assert occupant_id(pm)
    admin.send_raw(f"<message to='{room}/Bob' type='chat' id='pm3'><body>hi</body></message>")
    await bob.expect(lambda s: s.xml.get("type") == "chat" and s.xml.get("id") == "pm3")
    alice.send_raw(f"<message to='{room}/Nobody' type='chat' id='pm4'><body>?</body></message>")
    assert error(await alice.expect(error_reply("message", "pm4")))[1] == "item-not-found"
    alice.send_raw(f"<message to='{room}/Mod' type='groupchat' id='pm5'><body>?</body></message>")
    assert error(await alice.expect(error_reply("message", "pm5")))[1] == "bad-request"


async def test_semi_anonymous_room_never_leaks_real_jids(xmpp_server, haven, connect) -> None:
    """§7.2.4: only moderators receive real JIDs; members never do, in any stanza."""
    room = haven.room("anxiety")
    alice, bob, admin = await connect("alice"), await connect("bob"), await connect("admin")
    await alice.join(room, "Alice")
    await admin.join(room, "Mod")
    await bob.join(room, "Bob")
    alice.groupchat(room, "hello")
    bob.send_raw(f"<presence to='{room}/Bob'><show>dnd</show></presence>")
    bob.send_raw(f"<presence to='{room}/Bobby'/>")
    await alice.expect(presence_from(f"{room}/Bobby"))
    await bob.expect(groupchat("hello"))
    mod_view = await admin.expect(presence_from(f"{room}/Bobby"))
    assert item(mod_view)["jid"].startswith("bob@")
    from tests.integration.muc_helpers import carries_jid

    for stanza in alice.received:
        if stanza.xml.get("from", "").startswith(room):
            assert not carries_jid(stanza, "bob@"), stanza
            assert not carries_jid(stanza, "admin@"), stanza
    for stanza in bob.received:
        if stanza.xml.get("from", "").startswith(room):
            assert not carries_jid(stanza, "alice@"), stanza


async def test_non_anonymous_room_shows_jids_with_status_100(xmpp_server, haven, connect) -> None:
    """§7.2.3: in a non-anonymous room everyone sees real JIDs and gets status 100."""
    room = haven.room("open")
    alice, bob = await connect("alice"), await connect("bob")
    await alice.join(room, "Alice")
    own = await bob.join(room, "Bob")
    assert 100 in codes(own)
    other = await alice.expect(presence_from(f"{room}/Bob"))
    assert item(other)["jid"].startswith("bob@")


async def test_join_errors(xmpp_server, haven, connect) -> None:
    """§7.2.17 conditions, each with a human-readable text."""
    room = haven.room("anxiety")
    alice, bob = await connect("alice"), await connect("bob")
    await alice.join(room, "Alice")
    cases = [
        (f"{room}/Alice", "conflict"),
        (f"nosuchroom@{haven.domain}/Bob", "not-allowed"),  # creation is admins-only
        (room, "jid-malformed"),
        (f"{haven.room('small')}/Bob", None),
    ]
    for to, cond in cases[:3]:
        bob.send_raw(f"<presence to='{to}'><x xmlns='http://jabber.org/protocol/muc'/></presence>")
        err = await bob.expect(error_reply("presence"))
        _etype, econd, text = error(err)
        assert econd == cond, (to, econd)
        assert text, f"no text for {cond}"
        assert err.xml.find("{http://jabber.org/protocol/muc}x") is not None
    # max_users = 1: the second joiner is refused with service-unavailable (§7.2.9).
    small = haven.room("small")
    await alice.join(small, "Alice")
    res = await bob.join(small, "Bob")
    assert res.xml.get("type") == "error" and error(res)[1] == "service-unavailable"


async def test_message_errors(xmpp_server, haven, connect) -> None:
    """Non-occupant (not-acceptable), unknown room (item-not-found), too long (policy-violation)."""
    room = haven.room("anxiety")
    alice, bob = await connect("alice"), await connect("bob")
    await alice.join(room, "Alice")
    bob.send_raw(f"<message to='{room}' type='groupchat' id='e1'><body>hi</body></message>")
    assert error(await bob.expect(error_reply("message", "e1")))[1] == "not-acceptable"
    await alice.expect_nothing(groupchat("hi"), timeout=0.5)
    bob.send_raw(
        f"<message to='ghost@{haven.domain}' type='groupchat' id='e2'><body>x</body></message>"
    )
    assert error(await bob.expect(error_reply("message", "e2")))[1] == "item-not-found"
    await bob.join(room, "Bob")
    long = "x" * 20_000
    bob.send_raw(f"<message to='{room}' type='groupchat' id='e3'><body>{long}</body></message>")
    _etype, cond, text = error(await bob.expect(error_reply("message", "e3")))
    assert cond == "policy-violation" and "too long" in text
    bob.groupchat(room, "still here")
    await alice.expect(groupchat("still here"))  # the service kept running
    bob.send_raw(f"<message to='{room}' type='groupchat' id='e4'><subject>mine</subject></message>")
    assert error(await bob.expect(error_reply("message", "e4")))[1] == "forbidden"


async def test_subject_change_by_moderator(xmpp_server, haven, connect) -> None:
    """§8.1: a moderator changes the subject; everyone receives it."""
    room = haven.room("anxiety")
    admin, bob = await connect("admin"), await connect("bob")
    await admin.join(room, "Mod")
    await bob.join(room, "Bob")
    admin.send_raw(
        f"<message to='{room}' type='groupchat'><subject>Tonight: sleep</subject></message>"
    )
    msg = await bob.expect(lambda s: subject_message(room)(s) and subject(s) == "Tonight: sleep")
    assert msg.xml.get("from") == f"{room}/Mod"


async def test_ghost_is_removed_with_333(xmpp_server, haven, connect) -> None:
    """§18.1.2 / §11.1: a delivery error from an occupant's JID removes it (status 333)."""
    room = haven.room("anxiety")
    alice, bob = await connect("alice"), await connect("bob")
    await alice.join(room, "Alice")
    await bob.join(room, "Bob")
    alice.send_raw(
        f"<message to='{room}' type='error'><error type='cancel'>"
        f"<recipient-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
        f"</error></message>"
    )
    gone = await bob.expect(presence_from(f"{room}/Alice", available=False))
    assert 333 in codes(gone)
    alice.send_raw(f"<message to='{room}' type='groupchat' id='g1'><body>?</body></message>")
    assert error(await alice.expect(error_reply("message", "g1")))[1] == "not-acceptable"


async def test_pings(xmpp_server, haven, connect) -> None:
    """XEP-0199 ping of service and room; XEP-0410 self-ping joined and not joined."""
    room = haven.room("anxiety")
    alice = await connect("alice")
    ping = "<ping xmlns='urn:xmpp:ping'/>"
    for to in (haven.domain, room):
        res = await alice.iq(f"<iq type='get' to='{to}' id='p-{to}'>{ping}</iq>")
        assert res.xml.get("type") == "result"
    res = await alice.iq(f"<iq type='get' to='{room}/Alice' id='sp1'>{ping}</iq>")
    assert res.xml.get("type") == "error" and error(res)[1] == "not-acceptable"
    await alice.join(room, "Alice")
    res = await alice.iq(f"<iq type='get' to='{room}/Alice' id='sp2'>{ping}</iq>")
    assert res.xml.get("type") == "result"


async def test_service_disco(xmpp_server, haven, connect) -> None:
    """§6.1/§6.2 identity and features; §6.3 public rooms with XEP-0059 paging."""
    alice = await connect("alice")
    info = await alice.iq(
        f"<iq type='get' to='{haven.domain}' id='i1'>"
        f"<query xmlns='http://jabber.org/protocol/disco#info'/></iq>"
    )
    q = info.xml.find("{http://jabber.org/protocol/disco#info}query")
    ident = q.find("{http://jabber.org/protocol/disco#info}identity")
    assert (ident.get("category"), ident.get("type")) == ("conference", "text")
    feats = {f.get("var") for f in q.findall("{http://jabber.org/protocol/disco#info}feature")}
    assert "http://jabber.org/protocol/muc" in feats
    items_ns = "http://jabber.org/protocol/disco#items"
    rsm = "http://jabber.org/protocol/rsm"
    res = await alice.iq(
        f"<iq type='get' to='{haven.domain}' id='i2'><query xmlns='{items_ns}'/></iq>"
    )
    all_jids = [i.get("jid") for i in res.xml.iter(f"{{{items_ns}}}item")]
    assert haven.room("anxiety") in all_jids and haven.room("hidden") not in all_jids
    assert all_jids == sorted(all_jids)
    collected, after = [], None
    while True:
        a = f"<after>{after}</after>" if after else ""
        page = await alice.iq(
            f"<iq type='get' to='{haven.domain}' id='pg{len(collected)}'>"
            f"<query xmlns='{items_ns}'><set xmlns='{rsm}'><max>2</max>{a}"
            f"</set></query></iq>"
        )
        jids = [i.get("jid") for i in page.xml.iter(f"{{{items_ns}}}item")]
        s = next(page.xml.iter(f"{{{rsm}}}set"))
        assert int(s.findtext(f"{{{rsm}}}count")) == len(all_jids)
        collected += jids
        if len(jids) < 2 or len(collected) == len(all_jids):
            break
        after = s.findtext(f"{{{rsm}}}last")
    assert collected == all_jids


async def test_room_disco(xmpp_server, haven, connect) -> None:
    """§6.4: room identity, muc_* features and the muc#roominfo form."""
    alice = await connect("alice")
    room = haven.room("anxiety")
    await alice.join(room, "Alice")
    res = await alice.iq(
        f"<iq type='get' to='{room}' id='r1'>"
        f"<query xmlns='http://jabber.org/protocol/disco#info'/></iq>"
    )
    ns = "http://jabber.org/protocol/disco#info"
    q = res.xml.find(f"{{{ns}}}query")
    assert q.find(f"{{{ns}}}identity").get("name") == "Anxiety"
    feats = {f.get("var") for f in q.findall(f"{{{ns}}}feature")}
    assert {
        "http://jabber.org/protocol/muc",
        "muc_public",
        "muc_persistent",
        "muc_semianonymous",
        "muc_unmoderated",
        "muc_open",
        "muc_unsecured",
        "urn:xmpp:sid:0",
        "urn:xmpp:occupant-id:0",
    } <= feats
    form = q.find("{jabber:x:data}x")
    fields = {
        f.get("var"): [v.text for v in f.findall("{jabber:x:data}value")]
        for f in form.findall("{jabber:x:data}field")
    }
    assert fields["FORM_TYPE"] == ["http://jabber.org/protocol/muc#roominfo"]
    assert fields["muc#roominfo_description"] == ["Talk about living with anxiety"]
    assert fields["muc#roominfo_subject"] == ["Welcome to Anxiety"]
    assert fields["muc#roominfo_occupants"] == ["1"]
    assert fields["muc#roominfo_lang"] == ["en"]
    res = await alice.iq(
        f"<iq type='get' to='nothere@{haven.domain}' id='r2'>"
        f"<query xmlns='http://jabber.org/protocol/disco#info'/></iq>"
    )
    assert error(res)[1] == "item-not-found"
