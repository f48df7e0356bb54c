"""Moderation and the affiliation lists (muc#admin), run through a real Prosody and ejabberd.

Each test starts its own Haven and drives it with real clients. The service admin
(``admin@<domain>``, an owner of every room by configuration) joins as ``Mod`` and grants
the other affiliations and roles through ``http://jabber.org/protocol/muc#admin`` IQs;
the assertions are on what every client receives (XEP-0045 §8 Moderator Use Cases,
§9 Admin Use Cases, §10.3–§10.8 owner and admin lists, and the privilege tables of §5).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.muc_helpers import (
    NS_MUC_USER,
    Pred,
    carries_jid,
    codes,
    error,
    error_reply,
    groupchat,
    item,
    presence_from,
)

pytestmark = pytest.mark.integration

ADMIN = "http://jabber.org/protocol/muc#admin"
OWNER = "http://jabber.org/protocol/muc#owner"
DATA = "jabber:x:data"


# -- helpers ------------------------------------------------------------------------------------


def admin_iq(room: str, iq_id: str, items: str, itype: str = "set") -> str:
    """A muc#admin IQ to ``room`` whose query holds ``items`` (raw XML)."""
    return (
        f"<iq type='{itype}' to='{room}' id='{iq_id}'>"
        f"<query xmlns='{ADMIN}'>{items}</query></iq>"
    )


def config_form(room: str, iq_id: str, var: str, value: str = "1") -> str:
    """§10.2 owner configuration form setting one ``muc#roomconfig`` field."""
    return (
        f"<iq type='set' to='{room}' id='{iq_id}'><query xmlns='{OWNER}'>"
        f"<x xmlns='{DATA}' type='submit'>"
        f"<field var='FORM_TYPE'><value>http://jabber.org/protocol/muc#roomconfig</value></field>"
        f"<field var='{var}'><value>{value}</value></field>"
        f"</x></query></iq>"
    )


def moderate_room_form(room: str, iq_id: str) -> str:
    """The owner form turning ``muc#roomconfig_moderatedroom`` on."""
    return config_form(room, iq_id, "muc#roomconfig_moderatedroom")


def assert_result(res: Any) -> None:
    assert res.xml.get("type") == "result", f"expected a result, got {res}"


def assert_error(res: Any, *conditions: str, etype: str | None = None) -> str:
    """The IQ is an error with one of ``conditions`` and a human-readable text; returns it."""
    assert res.xml.get("type") == "error", f"expected {conditions}, got {res}"
    got_type, cond, text = error(res)
    assert cond in conditions, f"expected {conditions}, got {cond}: {res}"
    assert text.strip(), f"no <text/> with {cond}: {res}"
    if etype is not None:
        assert got_type == etype, f"error type {got_type!r}, expected {etype!r}: {res}"
    return cond


def item_el(stanza: Any) -> Any:
    x = stanza.xml.find(f"{{{NS_MUC_USER}}}x")
    return x.find(f"{{{NS_MUC_USER}}}item") if x is not None else None


def actor(stanza: Any) -> dict[str, str]:
    """Attributes of ``<x><item><actor/>`` (empty if absent)."""
    el = item_el(stanza)
    a = el.find(f"{{{NS_MUC_USER}}}actor") if el is not None else None
    return dict(a.attrib) if a is not None else {}


def reason(stanza: Any) -> str | None:
    """Text of ``<x><item><reason/>`` (None if absent)."""
    el = item_el(stanza)
    return el.findtext(f"{{{NS_MUC_USER}}}reason") if el is not None else None


def listed(res: Any) -> list[dict[str, str]]:
    """Items of a muc#admin list result: attributes plus ``reason`` when there is one."""
    assert_result(res)
    query = res.xml.find(f"{{{ADMIN}}}query")
    assert query is not None, f"no muc#admin query in {res}"
    out = []
    for el in query.findall(f"{{{ADMIN}}}item"):
        entry = dict(el.attrib)
        why = el.findtext(f"{{{ADMIN}}}reason")
        if why is not None:
            entry["reason"] = why
        out.append(entry)
    return out


def bare(jid: str) -> str:
    return jid.split("/", 1)[0]


def aff(jid: str, affiliation: str, why: str | None = None) -> str:
    """An affiliation ``<item/>`` by (bare) JID, with an optional reason."""
    if why is None:
        return f"<item affiliation='{affiliation}' jid='{jid}'/>"
    return f"<item affiliation='{affiliation}' jid='{jid}'><reason>{why}</reason></item>"


def role(nick: str, new_role: str, why: str | None = None) -> str:
    """A role ``<item/>`` by nick, with an optional reason."""
    if why is None:
        return f"<item nick='{nick}' role='{new_role}'/>"
    return f"<item nick='{nick}' role='{new_role}'><reason>{why}</reason></item>"


def showing(occupant: str, show: str) -> Pred:
    """Presence from ``occupant`` with ``<show>show</show>``."""
    return lambda s: (
        presence_from(occupant)(s) and s.xml.findtext("{jabber:client}show") == show
    )


def presence_with(occupant: str, **want: str) -> Pred:
    """Available presence from ``occupant`` whose muc#user item has the ``want`` attributes."""

    def pred(s: Any) -> bool:
        if not presence_from(occupant, available=True)(s):
            return False
        it = item(s)
        return all(it.get(k) == v for k, v in want.items())

    return pred


def gone(occupant: str, code: int) -> Pred:
    """Unavailable presence from ``occupant`` carrying status ``code``."""
    return lambda s: presence_from(occupant, available=False)(s) and code in codes(s)


# -- §8.2 kick ---------------------------------------------------------------------------------


async def test_kick_occupant(xmpp_server, haven, connect) -> None:
    """§8.2: 110+307 with actor and reason to the kicked, 307 to others, result to the moderator."""
    room = haven.room("anxiety")
    admin, alice, bob = await connect("admin"), await connect("alice"), await connect("bob")
    await admin.join(room, "Mod")
    await alice.join(room, "Alice")
    await bob.join(room, "Bob")
    res = await admin.iq(admin_iq(room, "kick-1", role("Bob", "none", "Take a break")))
    assert_result(res)

    own = await bob.expect(presence_from(f"{room}/Bob", available=False))
    assert {110, 307} <= codes(own), own
    assert item(own)["role"] == "none" and item(own)["affiliation"] == "none", own
    assert actor(own).get("nick") == "Mod", own
    assert reason(own) == "Take a break", own

    other = await alice.expect(presence_from(f"{room}/Bob", available=False))
    assert 307 in codes(other) and 110 not in codes(other), other
    assert item(other)["role"] == "none", other
    assert "jid" not in item(other), other  # semi-anonymous: alice is a participant
    mod_view = await admin.expect(presence_from(f"{room}/Bob", available=False))
    assert 307 in codes(mod_view) and 110 not in codes(mod_view), mod_view

    # Bob is no longer an occupant: he can't post and doesn't get the room's messages.
    bob.send_raw(f"<message to='{room}' type='groupchat' id='kick-gc'><body>hey</body></message>")
    assert error(await bob.expect(error_reply("message", "kick-gc")))[1] == "not-acceptable"
    alice.groupchat(room, "after the kick")
    await alice.expect(groupchat("after the kick"))
    await bob.expect_nothing(groupchat("after the kick"), timeout=1)
    # A kick is not a ban (§8.2 vs §9.1): Bob may come back.
    back = await bob.join(room, "Bob")
    assert 110 in codes(back), back


async def test_kick_privileges(xmpp_server, haven, connect) -> None:
    """§8 preamble: a participant can't kick (forbidden); §8.2: a moderator kicks participants."""
    room = haven.room("anxiety")
    admin, alice, bob = await connect("admin"), await connect("alice"), await connect("bob")
    await admin.join(room, "Mod")
    await alice.join(room, "Alice")
    await bob.join(room, "Bob")

    res = await bob.iq(admin_iq(room, "kp-1", role("Alice", "none")))
    assert_error(res, "forbidden", etype="auth")
    await alice.expect_nothing(presence_from(f"{room}/Alice", available=False), timeout=0.5)

    # Alice becomes a moderator with no affiliation (§9.6) and may kick a participant;
    # the actor is her nick.
    assert_result(await admin.iq(admin_iq(room, "kp-2", role("Alice", "moderator"))))
    await alice.expect(presence_with(f"{room}/Alice", role="moderator"))
    res = await alice.iq(admin_iq(room, "kp-3", role("Bob", "none", "Spam")))
    assert_result(res)
    own = await bob.expect(presence_from(f"{room}/Bob", available=False))
    assert {110, 307} <= codes(own) and actor(own).get("nick") == "Alice", own
    assert reason(own) == "Spam", own
    assert 307 in codes(await admin.expect(presence_from(f"{room}/Bob", available=False)))


async def test_moderator_cannot_kick_a_higher_affiliation(xmpp_server, haven, connect) -> None:
    """§8.2: "A user cannot be kicked by a moderator with a lower affiliation" → not-allowed."""
    room = haven.room("anxiety")
    admin, alice, bob = await connect("admin"), await connect("alice"), await connect("bob")
    await admin.join(room, "Mod")
    await alice.join(room, "Alice")
    await bob.join(room, "Bob")
    assert_result(await admin.iq(admin_iq(room, "hk-1", role("Alice", "moderator"))))
    await alice.expect(presence_with(f"{room}/Alice", role="moderator"))
    # Alice (moderator, no affiliation) against an owner, and against an admin.
    assert_result(await admin.iq(admin_iq(room, "hk-2", aff(bob.bare, "admin"))))
    await alice.expect(presence_with(f"{room}/Bob", affiliation="admin"))
    for iq_id, nick in (("hk-3", "Mod"), ("hk-4", "Bob")):
        res = await alice.iq(admin_iq(room, iq_id, role(nick, "none")))
        assert_error(res, "not-allowed", etype="cancel")
    await admin.expect_nothing(presence_from(f"{room}/Mod", available=False), timeout=0.5)
    await bob.expect_nothing(presence_from(f"{room}/Bob", available=False), timeout=0.1)


async def test_moderator_cannot_mute_an_owner(xmpp_server, haven, connect) -> None:
    """§8.4: "a service MUST NOT allow the voice privileges of an admin or owner to be removed
    by anyone. If a moderator attempts to revoke voice privileges from such a user, the service
    MUST deny the request and return a <not-allowed/> error"."""
    room = haven.room("anxiety")
    admin, alice, bob = await connect("admin"), await connect("alice"), await connect("bob")
    await admin.join(room, "Mod")
    await alice.join(room, "Alice")
    await bob.join(room, "Bob")
    assert_result(await admin.iq(admin_iq(room, "mu-1", role("Alice", "moderator"))))
    await alice.expect(presence_with(f"{room}/Alice", role="moderator"))
    mute = await alice.iq(admin_iq(room, "mu-2", role("Mod", "visitor")))
    await bob.expect_nothing(presence_with(f"{room}/Mod", role="visitor"), timeout=0.5)
    assert_error(mute, "not-allowed", etype="cancel")


async def test_owner_can_kick_an_admin(xmpp_server, haven, connect) -> None:
    """§8.2 / §5.1.3: an owner may kick an admin (the admin's affiliation is lower)."""
    room = haven.room("anxiety")
    admin, alice, bob = await connect("admin"), await connect("alice"), await connect("bob")
    await admin.join(room, "Mod")
    await alice.join(room, "Alice")
    await bob.join(room, "Bob")
    assert_result(await admin.iq(admin_iq(room, "ok-1", aff(alice.bare, "admin"))))
    await bob.expect(presence_with(f"{room}/Alice", affiliation="admin"))
    res = await admin.iq(admin_iq(room, "ok-2", role("Alice", "none", "Cooling off")))
    assert_result(res)
    own = await alice.expect(presence_from(f"{room}/Alice", available=False))
    assert {110, 307} <= codes(own) and item(own)["affiliation"] == "admin", own
    other = await bob.expect(presence_from(f"{room}/Alice", available=False))
    assert 307 in codes(other), other


# -- §8.3–§8.5 voice ---------------------------------------------------------------------------


async def test_grant_and_revoke_voice_in_moderated_room(xmpp_server, haven, connect) -> None:
    """§8.3 grant voice, §8.4 revoke it, §8.5 voice list; visitors get forbidden (§7.4)."""
    room = haven.room("lounge")
    admin, alice, bob = await connect("admin"), await connect("alice"), await connect("bob")
    await admin.join(room, "Mod")
    assert_result(await admin.iq(moderate_room_form(room, "v-cfg")))
    own = await bob.join(room, "Bob")
    assert item(own)["role"] == "visitor", own
    own = await alice.join(room, "Alice")
    assert item(own)["role"] == "visitor", own

    bob.send_raw(f"<message to='{room}' type='groupchat' id='v-gc1'><body>hello?</body></message>")
    _t, cond, text = error(await bob.expect(error_reply("message", "v-gc1")))
    assert cond == "forbidden" and text
    await alice.expect_nothing(groupchat("hello?"), timeout=0.5)

    # A visitor can't grant voice (§8 preamble: forbidden).
    res = await alice.iq(admin_iq(room, "v-0", "<item nick='Bob' role='participant'/>"))
    assert_error(res, "forbidden")

    res = await admin.iq(
        admin_iq(room, "v-1", "<item nick='Bob' role='participant'><reason>Welcome</reason></item>")
    )
    assert_result(res)
    views = {}
    for name, client in (("admin", admin), ("alice", alice), ("bob", bob)):
        views[name] = await client.expect(presence_with(f"{room}/Bob", role="participant"))
        assert item(views[name])["affiliation"] == "none", views[name]
    assert item(views["admin"]).get("jid", "").startswith(f"{bob.bare}/"), views["admin"]
    assert not carries_jid(views["alice"], bob.bare), views["alice"]
    assert reason(views["alice"]) in (None, "Welcome"), views["alice"]
    bob.groupchat(room, "thanks for the voice")
    await alice.expect(groupchat("thanks for the voice", f"{room}/Bob"))

    voice = listed(await admin.iq(admin_iq(room, "v-2", "<item role='participant'/>", "get")))
    by_nick = {i.get("nick"): i for i in voice}
    assert "Bob" in by_nick and by_nick["Bob"]["role"] == "participant", voice
    assert "Alice" not in by_nick and "Mod" not in by_nick, voice
    res = await bob.iq(admin_iq(room, "v-2b", "<item role='participant'/>", "get"))
    assert_error(res, "forbidden")  # §8.5 is a moderator use case

    res = await admin.iq(admin_iq(room, "v-3", "<item nick='Bob' role='visitor'/>"))
    assert_result(res)
    for client in (admin, alice, bob):
        upd = await client.expect(presence_with(f"{room}/Bob", role="visitor"))
        assert item(upd)["affiliation"] == "none", upd
    bob.send_raw(f"<message to='{room}' type='groupchat' id='v-gc2'><body>muted?</body></message>")
    assert error(await bob.expect(error_reply("message", "v-gc2")))[1] == "forbidden"
    await alice.expect_nothing(groupchat("muted?"), timeout=0.5)


async def test_modify_voice_list_with_several_items(xmpp_server, haven, connect) -> None:
    """§8.5: a delta of several role items is applied at once, with one result."""
    room = haven.room("lounge")
    admin, alice, bob = await connect("admin"), await connect("alice"), await connect("bob")
    await admin.join(room, "Mod")
    assert_result(await admin.iq(moderate_room_form(room, "vl-cfg")))
    await alice.join(room, "Alice")
    await bob.join(room, "Bob")
    res = await admin.iq(
        admin_iq(
            room,
            "vl-1",
            "<item nick='Alice' role='participant'><reason>A worthy fellow.</reason></item>"
            "<item nick='Bob' role='participant'/>",
        )
    )
    assert_result(res)
    for nick in ("Alice", "Bob"):
        await admin.expect(presence_with(f"{room}/{nick}", role="participant"))
        await alice.expect(presence_with(f"{room}/{nick}", role="participant"))
    voice = listed(await admin.iq(admin_iq(room, "vl-2", "<item role='participant'/>", "get")))
    assert {i.get("nick") for i in voice} == {"Alice", "Bob"}, voice
    for i in voice:
        assert i.get("role") == "participant", voice


# -- §9.1–§9.2 ban -----------------------------------------------------------------------------


async def test_ban_occupant(xmpp_server, haven, connect) -> None:
    """§9.1: 110+301 to the banned, 301 to others, entry refused; §9.2 ban list with reason."""
    room = haven.room("anxiety")
    admin, alice, bob = await connect("admin"), await connect("alice"), await connect("bob")
    await alice.join(room, "Alice")
    await bob.join(room, "Bob")
    await admin.join(room, "Mod")
    seen = await admin.expect(presence_from(f"{room}/Bob", available=True))
    bob_jid = item(seen)["jid"]  # a moderator sees real JIDs (§7.2.4)
    assert bare(bob_jid) == bob.bare

    res = await admin.iq(
        admin_iq(
            room,
            "ban-1",
            f"<item affiliation='outcast' jid='{bob_jid}'><reason>Harassment</reason></item>",
        )
    )
    assert_result(res)
    own = await bob.expect(presence_from(f"{room}/Bob", available=False))
    assert {110, 301} <= codes(own), own
    assert item(own)["affiliation"] == "outcast" and item(own)["role"] == "none", own
    assert reason(own) == "Harassment", own
    other = await alice.expect(presence_from(f"{room}/Bob", available=False))
    assert 301 in codes(other) and 110 not in codes(other), other
    assert item(other)["affiliation"] == "outcast", other
    assert not carries_jid(other, bob.bare), other
    assert 301 in codes(await admin.expect(presence_from(f"{room}/Bob", available=False)))

    # The ban is on the bare JID: any resource, any nick is refused (§7.2.7).
    again = await bob.join(room, "Bobby")
    assert again.xml.get("type") == "error", again
    assert error(again)[1] == "forbidden" and error(again)[2], again
    other_device = await connect("bob", resource="phone")
    again = await other_device.join(room, "Bob")
    assert again.xml.get("type") == "error" and error(again)[1] == "forbidden", again

    bans = listed(await admin.iq(admin_iq(room, "ban-2", "<item affiliation='outcast'/>", "get")))
    assert [(i.get("jid"), i.get("affiliation")) for i in bans] == [(bob.bare, "outcast")], bans
    assert bans[0].get("reason") == "Harassment", bans
    # A participant may not read the ban list (§9 preamble: forbidden).
    res = await alice.iq(admin_iq(room, "ban-3", "<item affiliation='outcast'/>", "get"))
    assert_error(res, "forbidden", etype="auth")

    # §9.2: lifting the ban (affiliation none) lets Bob back in.
    res = await admin.iq(admin_iq(room, "ban-4", f"<item affiliation='none' jid='{bob.bare}'/>"))
    assert_result(res)
    bans = listed(await admin.iq(admin_iq(room, "ban-5", "<item affiliation='outcast'/>", "get")))
    assert bans == [], bans
    back = await bob.join(room, "Bob")
    assert 110 in codes(back) and item(back)["affiliation"] == "none", back


async def test_admin_cannot_ban_an_owner(xmpp_server, haven, connect) -> None:
    """§9.1: "if an admin attempts to ban an owner, the service MUST deny … not-allowed"."""
    room = haven.room("anxiety")
    admin, alice, bob = await connect("admin"), await connect("alice"), await connect("bob")
    await admin.join(room, "Mod")
    await alice.join(room, "Alice")
    await bob.join(room, "Bob")
    assert_result(await admin.iq(admin_iq(room, "bo-1", aff(alice.bare, "admin"))))
    assert_result(await admin.iq(admin_iq(room, "bo-2", aff(bob.bare, "owner"))))
    await bob.expect(presence_with(f"{room}/Bob", affiliation="owner"))
    res = await alice.iq(admin_iq(room, "bo-3", aff(bob.bare, "outcast")))
    assert_error(res, "not-allowed", etype="cancel")
    res = await alice.iq(admin_iq(room, "bo-4", aff(admin.bare, "outcast")))
    assert_error(res, "not-allowed", etype="cancel")
    await bob.expect_nothing(presence_from(f"{room}/Bob", available=False), timeout=0.5)
    await admin.expect_nothing(presence_from(f"{room}/Mod", available=False), timeout=0.1)


@pytest.mark.parametrize("who", ["owner", "admin", "service-admin"])
async def test_banning_oneself_is_a_conflict(xmpp_server, haven, connect, who) -> None:
    """§9.1: "If an admin or owner attempts to ban himself, the service MUST deny the request
    and return a <conflict/> error"."""
    room = haven.room("anxiety")
    admin, alice, bob = await connect("admin"), await connect("alice"), await connect("bob")
    await admin.join(room, "Mod")
    await alice.join(room, "Alice")
    await bob.join(room, "Bob")
    d = xmpp_server.domain
    if who == "service-admin":
        me, my_nick = admin, "Mod"
    else:
        me, my_nick = alice, "Alice"
        assert_result(await admin.iq(admin_iq(room, "sb-1", aff(alice.bare, who))))
        if who == "owner":  # so that the last-owner rule (§10.4) is not what answers
            assert_result(await admin.iq(admin_iq(room, "sb-2", aff(f"carol@{d}", "owner"))))
        await bob.expect(presence_with(f"{room}/Alice", affiliation=who))
    res = await me.iq(admin_iq(room, "sb-3", aff(me.bare, "outcast", "oops")))
    bans = listed(await admin.iq(admin_iq(room, "sb-4", "<item affiliation='outcast'/>", "get")))
    await bob.expect_nothing(presence_from(f"{room}/{my_nick}", available=False), timeout=0.5)
    assert bans == [], bans
    assert_error(res, "conflict", etype="cancel")


# -- §9.3–§9.5 membership ----------------------------------------------------------------------


async def test_grant_and_revoke_membership(xmpp_server, haven, connect) -> None:
    """§9.3 grant, §9.4 revoke (presence to all), §9.5 member list with bare JIDs."""
    room = haven.room("anxiety")
    admin, alice, bob = await connect("admin"), await connect("alice"), await connect("bob")
    await admin.join(room, "Mod")
    await alice.join(room, "Alice")
    await bob.join(room, "Bob")
    res = await admin.iq(admin_iq(room, "mem-1", aff(bob.bare, "member", "Regular")))
    assert_result(res)
    mod_view = await admin.expect(presence_with(f"{room}/Bob", affiliation="member"))
    assert item(mod_view)["role"] == "participant", mod_view
    assert item(mod_view)["jid"].startswith(f"{bob.bare}/"), mod_view
    peer_view = await alice.expect(presence_with(f"{room}/Bob", affiliation="member"))
    assert item(peer_view)["role"] == "participant", peer_view
    assert not carries_jid(peer_view, bob.bare), peer_view
    await bob.expect(presence_with(f"{room}/Bob", affiliation="member"))

    # A member who is not in the room: no presence, but on the list.
    carol = await connect("carol")
    assert_result(
        await admin.iq(admin_iq(room, "mem-2", f"<item affiliation='member' jid='{carol.bare}'/>"))
    )
    members = listed(await admin.iq(admin_iq(room, "mem-3", "<item affiliation='member'/>", "get")))
    assert {(i.get("jid"), i.get("affiliation")) for i in members} == {
        (bob.bare, "member"),
        (carol.bare, "member"),
    }, members
    # §5.2.1 ***: in a semi-anonymous room members SHOULD NOT read the member list (JIDs);
    # Haven promises that members never see each other's addresses.
    res = await bob.iq(admin_iq(room, "mem-4", "<item affiliation='member'/>", "get"))
    assert_error(res, "forbidden")
    # §9.3: only admins grant membership.
    res = await bob.iq(admin_iq(room, "mem-5", aff(alice.bare, "member")))
    assert_error(res, "forbidden")

    res = await admin.iq(admin_iq(room, "mem-6", f"<item affiliation='none' jid='{bob.bare}'/>"))
    assert_result(res)
    for client in (admin, alice, bob):
        upd = await client.expect(presence_with(f"{room}/Bob", affiliation="none"))
        assert item(upd)["role"] == "participant", upd  # open room: Bob stays
    members = listed(await admin.iq(admin_iq(room, "mem-7", "<item affiliation='member'/>", "get")))
    assert [i.get("jid") for i in members] == [carol.bare], members


async def test_modify_member_and_ban_lists_with_several_items(xmpp_server, haven, connect) -> None:
    """§9.5 / §9.2: several items in one request are all applied, with one result."""
    room = haven.room("anxiety")
    admin, bob = await connect("admin"), await connect("bob")
    await admin.join(room, "Mod")
    await bob.join(room, "Bob")
    d = xmpp_server.domain
    res = await admin.iq(
        admin_iq(
            room,
            "multi-1",
            f"<item affiliation='member' jid='{bob.bare}'/>"
            f"<item affiliation='member' jid='carol@{d}'/>"
            f"<item affiliation='outcast' jid='dave@{d}'><reason>Spam</reason></item>"
            f"<item affiliation='outcast' jid='erin@{d}'/>",
        )
    )
    assert_result(res)
    await bob.expect(presence_with(f"{room}/Bob", affiliation="member"))
    members = listed(
        await admin.iq(admin_iq(room, "multi-2", "<item affiliation='member'/>", "get"))
    )
    assert {i.get("jid") for i in members} == {bob.bare, f"carol@{d}"}, members
    bans = listed(await admin.iq(admin_iq(room, "multi-3", "<item affiliation='outcast'/>", "get")))
    assert {i.get("jid") for i in bans} == {f"dave@{d}", f"erin@{d}"}, bans
    assert next(i for i in bans if i["jid"] == f"dave@{d}").get("reason") == "Spam", bans
    dave = await connect("dave")
    refused = await dave.join(room, "Dave")
    assert refused.xml.get("type") == "error" and error(refused)[1] == "forbidden", refused


async def test_list_with_a_forbidden_item_changes_nothing(xmpp_server, haven, connect) -> None:
    """§9.2: if one change is prohibited the service SHOULD apply none (conflict/not-allowed)."""
    room = haven.room("anxiety")
    admin, bob = await connect("admin"), await connect("bob")
    await admin.join(room, "Mod")
    await bob.join(room, "Bob")
    res = await admin.iq(
        admin_iq(
            room,
            "atom-1",
            f"<item affiliation='outcast' jid='{bob.bare}'/>"
            f"<item affiliation='outcast' jid='{admin.bare}'/>",
        )
    )
    assert_error(res, "conflict", "not-allowed")
    await bob.expect_nothing(presence_from(f"{room}/Bob", available=False), timeout=1)
    bans = listed(await admin.iq(admin_iq(room, "atom-2", "<item affiliation='outcast'/>", "get")))
    assert bans == [], bans


async def test_membership_gives_voice_in_moderated_room(xmpp_server, haven, connect) -> None:
    """§5.1.2 / §5.1.3 note: a member of a moderated room is a participant, so a visitor
    granted membership (§9.3) gets voice with the same presence."""
    room = haven.room("lounge")
    admin, alice, bob = await connect("admin"), await connect("alice"), await connect("bob")
    await admin.join(room, "Mod")
    assert_result(await admin.iq(moderate_room_form(room, "mv-cfg")))
    await alice.join(room, "Alice")
    own = await bob.join(room, "Bob")
    assert item(own)["role"] == "visitor", own
    assert_result(await admin.iq(admin_iq(room, "mv-1", aff(bob.bare, "member"))))
    upd = await alice.expect(presence_with(f"{room}/Bob", affiliation="member"))
    assert item(upd)["role"] == "participant", upd
    bob.groupchat(room, "a member speaks")
    await alice.expect(groupchat("a member speaks", f"{room}/Bob"))


async def test_revoking_membership_in_members_only_room(xmpp_server, haven, connect) -> None:
    """§9.4: in a members-only room the ex-member is removed with 321 (and only that presence);
    §7.2.6: then refused with registration-required."""
    room = haven.room("lounge")
    admin, alice, bob = await connect("admin"), await connect("alice"), await connect("bob")
    await admin.join(room, "Mod")
    assert_result(await admin.iq(config_form(room, "mo-cfg", "muc#roomconfig_membersonly")))
    assert_result(await admin.iq(admin_iq(room, "mo-1", aff(bob.bare, "member"))))
    own = await bob.join(room, "Bob")
    assert item(own)["affiliation"] == "member", own
    refused = await alice.join(room, "Alice")
    assert refused.xml.get("type") == "error", refused
    assert error(refused)[1] == "registration-required", refused
    await admin.expect(presence_from(f"{room}/Bob", available=True))

    res = await admin.iq(admin_iq(room, "mo-2", aff(bob.bare, "none", "Membership ended")))
    assert_result(res)
    removed = await bob.expect(presence_from(f"{room}/Bob", available=False))
    assert {110, 321} <= codes(removed), removed
    assert item(removed)["role"] == "none" and item(removed)["affiliation"] == "none", removed
    other = await admin.expect(presence_from(f"{room}/Bob", available=False))
    assert 321 in codes(other) and 110 not in codes(other), other
    # "the service SHOULD NOT send both a de-affiliation presence … followed by room-removal"
    await admin.expect_nothing(presence_with(f"{room}/Bob", affiliation="none"), timeout=0.1)
    await bob.expect_nothing(presence_with(f"{room}/Bob", affiliation="none"), timeout=0.1)
    again = await bob.join(room, "Bob")
    assert again.xml.get("type") == "error", again
    assert error(again)[1] == "registration-required", again


# -- §9.6–§9.8 moderator role ------------------------------------------------------------------


async def test_grant_and_revoke_moderator(xmpp_server, haven, connect) -> None:
    """§9.6/§9.7 by nick; a new moderator sees real JIDs (§7.2.4); §9.8 moderator list."""
    room = haven.room("anxiety")
    admin, alice, bob = await connect("admin"), await connect("alice"), await connect("bob")
    await admin.join(room, "Mod")
    await alice.join(room, "Alice")
    await bob.join(room, "Bob")
    await alice.expect(presence_from(f"{room}/Bob", available=True))

    res = await admin.iq(admin_iq(room, "mod-1", role("Alice", "moderator", "Trusted")))
    assert_result(res)
    for client in (admin, alice, bob):
        upd = await client.expect(presence_with(f"{room}/Alice", role="moderator"))
        assert item(upd)["affiliation"] == "none", upd
    assert not carries_jid(upd, alice.bare), upd  # bob's view: still semi-anonymous

    # As a moderator Alice now gets real JIDs in presence (§7.2.4 semi-anonymous rule).
    bob.send_raw(f"<presence to='{room}/Bob'><show>away</show></presence>")
    view = await alice.expect(showing(f"{room}/Bob", "away"))
    assert item(view).get("jid", "").startswith(f"{bob.bare}/"), view
    carol = await connect("carol")
    await carol.join(room, "Carol")
    view = await alice.expect(presence_from(f"{room}/Carol", available=True))
    assert item(view).get("jid", "").startswith(f"{carol.bare}/"), view

    mods = listed(await admin.iq(admin_iq(room, "mod-2", "<item role='moderator'/>", "get")))
    by_nick = {i.get("nick"): i for i in mods}
    assert set(by_nick) == {"Mod", "Alice"}, mods
    assert all(i.get("role") == "moderator" for i in mods), mods

    # Assigning the moderator role is an admin privilege (§5.2.1, §9 preamble).
    res = await alice.iq(admin_iq(room, "mod-3", "<item nick='Bob' role='moderator'/>"))
    assert_error(res, "forbidden")
    res = await alice.iq(admin_iq(room, "mod-4", "<item affiliation='outcast'/>", "get"))
    assert_error(res, "forbidden")

    res = await admin.iq(admin_iq(room, "mod-5", "<item nick='Alice' role='participant'/>"))
    assert_result(res)
    for client in (admin, alice, bob):
        await client.expect(presence_with(f"{room}/Alice", role="participant"))
    bob.send_raw(f"<presence to='{room}/Bob'><show>dnd</show></presence>")
    view = await alice.expect(showing(f"{room}/Bob", "dnd"))
    assert "jid" not in item(view) and not carries_jid(view, bob.bare), view
    mods = listed(await admin.iq(admin_iq(room, "mod-6", "<item role='moderator'/>", "get")))
    assert {i.get("nick") for i in mods} == {"Mod"}, mods


# -- §10.3–§10.8 owners and admins -------------------------------------------------------------


async def test_grant_and_revoke_admin(xmpp_server, haven, connect) -> None:
    """§10.6 grant admin (moderator role), §10.8 admin list, §10.7 revoke; admin limits."""
    room = haven.room("anxiety")
    admin, alice, bob = await connect("admin"), await connect("alice"), await connect("bob")
    await admin.join(room, "Mod")
    await alice.join(room, "Alice")
    await bob.join(room, "Bob")
    res = await admin.iq(admin_iq(room, "adm-1", f"<item affiliation='admin' jid='{alice.bare}'/>"))
    assert_result(res)
    for client in (admin, alice, bob):
        upd = await client.expect(presence_with(f"{room}/Alice", affiliation="admin"))
        assert item(upd)["role"] == "moderator", upd
    assert not carries_jid(upd, alice.bare), upd  # bob is a participant

    admins = listed(await admin.iq(admin_iq(room, "adm-2", "<item affiliation='admin'/>", "get")))
    assert [(i.get("jid"), i.get("affiliation")) for i in admins] == [(alice.bare, "admin")], admins
    res = await bob.iq(admin_iq(room, "adm-3", "<item affiliation='admin'/>", "get"))
    assert_error(res, "forbidden")

    # An admin can't edit the admin or owner lists (§10.3, §10.6: forbidden) ...
    res = await alice.iq(admin_iq(room, "adm-4", f"<item affiliation='admin' jid='{bob.bare}'/>"))
    assert_error(res, "forbidden")
    res = await alice.iq(admin_iq(room, "adm-5", f"<item affiliation='owner' jid='{bob.bare}'/>"))
    assert_error(res, "forbidden")
    # ... nor take moderation from an owner (§9.7: not-allowed) ...
    res = await alice.iq(admin_iq(room, "adm-6", "<item nick='Mod' role='participant'/>"))
    assert_error(res, "not-allowed")
    # ... but grants membership (§9.3).
    res = await alice.iq(admin_iq(room, "adm-7", f"<item affiliation='member' jid='{bob.bare}'/>"))
    assert_result(res)
    await bob.expect(presence_with(f"{room}/Bob", affiliation="member"))

    res = await admin.iq(admin_iq(room, "adm-8", f"<item affiliation='none' jid='{alice.bare}'/>"))
    assert_result(res)
    for client in (admin, alice, bob):
        upd = await client.expect(presence_with(f"{room}/Alice", affiliation="none"))
        # §10.7: "the 'role' attribute set to an appropriate value ... (typically participant)"
        assert item(upd)["role"] in ("participant", "moderator"), upd
    admins = listed(await admin.iq(admin_iq(room, "adm-9", "<item affiliation='admin'/>", "get")))
    assert admins == [], admins


async def test_grant_owner_and_last_owner_conflict(xmpp_server, haven, connect) -> None:
    """§10.3 grant owner, §10.5 owner list; §10.4 the last owner can't step down (conflict)."""
    room = haven.room("anxiety")
    admin, alice, bob = await connect("admin"), await connect("alice"), await connect("bob")
    await admin.join(room, "Mod")
    await alice.join(room, "Alice")
    await bob.join(room, "Bob")
    res = await admin.iq(admin_iq(room, "own-1", f"<item affiliation='owner' jid='{alice.bare}'/>"))
    assert_result(res)
    for client in (admin, alice, bob):
        upd = await client.expect(presence_with(f"{room}/Alice", affiliation="owner"))
        assert item(upd)["role"] == "moderator", upd

    owners = listed(await admin.iq(admin_iq(room, "own-2", "<item affiliation='owner'/>", "get")))
    assert (alice.bare, "owner") in {(i.get("jid"), i.get("affiliation")) for i in owners}, owners
    # §10.5: in a semi-anonymous room a non-owner asking for the owner list gets forbidden.
    res = await bob.iq(admin_iq(room, "own-3", "<item affiliation='owner'/>", "get"))
    assert_error(res, "forbidden")

    # Alice is the only stored owner: she can't revoke her own ownership (§10.4).
    res = await alice.iq(admin_iq(room, "own-4", aff(alice.bare, "member")))
    assert_error(res, "conflict")
    await bob.expect_nothing(presence_with(f"{room}/Alice", affiliation="member"), timeout=0.5)

    # With another owner stored, she may (§10.4: SHOULD allow).
    d = xmpp_server.domain
    assert_result(await alice.iq(admin_iq(room, "own-5", aff(f"carol@{d}", "owner"))))
    res = await alice.iq(admin_iq(room, "own-6", f"<item affiliation='admin' jid='{alice.bare}'/>"))
    assert_result(res)
    upd = await bob.expect(presence_with(f"{room}/Alice", affiliation="admin"))
    assert item(upd)["role"] == "moderator", upd
    owners = listed(await admin.iq(admin_iq(room, "own-7", "<item affiliation='owner'/>", "get")))
    jids = {i.get("jid") for i in owners}
    assert f"carol@{d}" in jids and alice.bare not in jids, owners


# -- errors ------------------------------------------------------------------------------------


async def test_admin_request_errors(xmpp_server, haven, connect) -> None:
    """Malformed or impossible muc#admin requests get the right condition and a text."""
    room = haven.room("anxiety")
    admin, bob = await connect("admin"), await connect("bob")
    await admin.join(room, "Mod")
    await bob.join(room, "Bob")
    # An item naming nobody (no nick for a role, no jid for an affiliation).
    assert_error(await admin.iq(admin_iq(room, "err-1", "<item role='none'/>")), "bad-request")
    assert_error(
        await admin.iq(admin_iq(room, "err-2", "<item affiliation='member'/>")), "bad-request"
    )
    # A role change for a nick that isn't in the room.
    assert_error(
        await admin.iq(admin_iq(room, "err-3", "<item nick='Nobody' role='none'/>")),
        "item-not-found",
        "not-acceptable",
    )
    # A set with no item at all, and an item with a role that doesn't exist (§5.1).
    assert_error(await admin.iq(admin_iq(room, "err-6", "")), "bad-request")
    assert_error(
        await admin.iq(admin_iq(room, "err-7", "<item nick='Bob' role='king'/>")), "bad-request"
    )
    # A participant asking for the ban list (§9 preamble).
    res = await bob.iq(admin_iq(room, "err-4", "<item affiliation='outcast'/>", "get"))
    assert_error(res, "forbidden", etype="auth")
    # An unknown room.
    res = await admin.iq(
        admin_iq(f"nosuchroom@{haven.domain}", "err-5", "<item affiliation='outcast'/>", "get")
    )
    assert_error(res, "item-not-found")
    # Nothing happened to Bob along the way.
    await bob.expect_nothing(presence_from(f"{room}/Bob", available=False), timeout=0.5)
