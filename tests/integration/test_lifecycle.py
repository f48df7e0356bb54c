"""Room creation, configuration, destruction, restarts and shutdown, on real servers."""

from __future__ import annotations

import pytest

from tests.integration.muc_helpers import (
    codes,
    delay,
    error,
    error_reply,
    groupchat,
    history_before,
    item,
    presence_from,
    subject_message,
)

pytestmark = pytest.mark.integration

OWNER = "http://jabber.org/protocol/muc#owner"
DATA = "jabber:x:data"


def form_fields(stanza) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    x = next(stanza.xml.iter(f"{{{DATA}}}x"))
    return {
        f.get("var"): [v.text or "" for v in f.findall(f"{{{DATA}}}value")]
        for f in x.findall(f"{{{DATA}}}field")
    }


@pytest.mark.haven(room_creation="anyone")
async def test_create_instant_room(xmpp_server, haven, connect) -> None:
    """§10.1.1–§10.1.2: a new room is locked (201) until the owner accepts defaults."""
    room = f"newroom@{haven.domain}"
    alice, bob = await connect("alice"), await connect("bob")
    own = await alice.join(room, "Alice")
    assert {110, 201} <= codes(own)
    assert item(own)["affiliation"] == "owner" and item(own)["role"] == "moderator"
    locked = await bob.join(room, "Bob")
    assert error(locked)[1] == "item-not-found"
    res = await alice.iq(
        f"<iq type='set' to='{room}' id='c1'><query xmlns='{OWNER}'>"
        f"<x xmlns='{DATA}' type='submit'/></query></iq>"
    )
    assert res.xml.get("type") == "result"
    joined = await bob.join(room, "Bob")
    assert 110 in codes(joined) and 201 not in codes(joined)


@pytest.mark.haven(room_creation="anyone")
async def test_reserved_room_config_form_and_destroy(xmpp_server, haven, connect) -> None:
    """§10.1.3 form, §10.2 validation and 104, §10.9 destroy with reason and venue."""
    room = f"reserved@{haven.domain}"
    alice, bob = await connect("alice"), await connect("bob")
    await alice.join(room, "Alice")
    form = await alice.iq(f"<iq type='get' to='{room}' id='f1'><query xmlns='{OWNER}'/></iq>")
    fields = form_fields(form)
    assert fields["FORM_TYPE"] == ["http://jabber.org/protocol/muc#roomconfig"]
    for var in (
        "muc#roomconfig_roomname",
        "muc#roomconfig_roomdesc",
        "muc#roomconfig_persistentroom",
        "muc#roomconfig_publicroom",
        "muc#roomconfig_moderatedroom",
        "muc#roomconfig_membersonly",
        "muc#roomconfig_roomsecret",
        "muc#roomconfig_maxusers",
        "muc#roomconfig_whois",
        "muc#roomconfig_allowpm",
        "muc#roomconfig_changesubject",
        "haven#guidelines",
    ):
        assert var in fields, var
    bad = await alice.iq(
        f"<iq type='set' to='{room}' id='f2'><query xmlns='{OWNER}'><x xmlns='{DATA}' "
        f"type='submit'><field var='muc#roomconfig_maxusers'><value>many</value></field>"
        f"</x></query></iq>"
    )
    assert error(bad)[1] == "not-acceptable" and "maxusers" in error(bad)[2]
    ok = await alice.iq(
        f"<iq type='set' to='{room}' id='f3'><query xmlns='{OWNER}'><x xmlns='{DATA}' "
        f"type='submit'><field var='FORM_TYPE'><value>http://jabber.org/protocol/muc#roomconfig"
        f"</value></field><field var='muc#roomconfig_roomname'><value>Evening check-in</value>"
        f"</field><field var='muc#roomconfig_persistentroom'><value>1</value></field></x>"
        f"</query></iq>"
    )
    assert ok.xml.get("type") == "result"
    await bob.join(room, "Bob")
    info = await bob.iq(
        f"<iq type='get' to='{room}' id='f4'>"
        f"<query xmlns='http://jabber.org/protocol/disco#info'/></iq>"
    )
    ident = next(info.xml.iter("{http://jabber.org/protocol/disco#info}identity"))
    assert ident.get("name") == "Evening check-in"
    denied = await bob.iq(f"<iq type='get' to='{room}' id='f5'><query xmlns='{OWNER}'/></iq>")
    assert error(denied)[1] == "forbidden"
    # A later change tells occupants with status 104 (§10.2.1).
    await alice.iq(
        f"<iq type='set' to='{room}' id='f6'><query xmlns='{OWNER}'><x xmlns='{DATA}' "
        f"type='submit'><field var='muc#roomconfig_changesubject'><value>1</value></field>"
        f"</x></query></iq>"
    )
    note = await bob.expect(lambda s: s.xml.tag.endswith("message") and 104 in codes(s))
    assert note.xml.get("from") == room
    res = await alice.iq(
        f"<iq type='set' to='{room}' id='f7'><query xmlns='{OWNER}'>"
        f"<destroy jid='anxiety@{haven.domain}'><reason>Moved</reason></destroy>"
        f"</query></iq>"
    )
    assert res.xml.get("type") == "result"
    gone = await bob.expect(presence_from(f"{room}/Bob", available=False))
    d = gone.xml.find(
        "{http://jabber.org/protocol/muc#user}x/{http://jabber.org/protocol/muc#user}destroy"
    )
    assert d is not None and d.get("jid") == f"anxiety@{haven.domain}"
    assert d.findtext("{http://jabber.org/protocol/muc#user}reason") == "Moved"


async def test_persistence_across_component_restart(xmpp_server, haven, connect) -> None:
    """Rooms, config and history survive a restart (SQLite); occupants get 332 on stop."""
    room = haven.room("anxiety")
    alice = await connect("alice")
    await alice.join(room, "Alice")
    for i in range(3):
        alice.groupchat(room, f"before restart {i}")
        await alice.expect(groupchat(f"before restart {i}"))
    code = await haven.stop()
    assert code == 0
    bye = await alice.expect(presence_from(f"{room}/Alice", available=False))
    assert 332 in codes(bye)
    await haven.start()
    bob = await connect("bob")
    await bob.join(room, "Bob")
    subj = await bob.expect(subject_message(room))
    hist = history_before(bob, subj)
    assert [h.xml.findtext("{jabber:client}body") for h in hist][-3:] == [
        f"before restart {i}" for i in range(3)
    ]


@pytest.mark.haven(room_creation="anyone")
async def test_configured_room_persists_across_restart(xmpp_server, haven, connect) -> None:
    """A room created and configured by its owner (and its owner affiliation) survive."""
    room = f"kept@{haven.domain}"
    alice = await connect("alice")
    await alice.join(room, "Alice")
    await alice.iq(
        f"<iq type='set' to='{room}' id='k1'><query xmlns='{OWNER}'><x xmlns='{DATA}' "
        f"type='submit'><field var='muc#roomconfig_roomname'><value>Kept</value></field>"
        f"</x></query></iq>"
    )
    await haven.restart()
    bob = await connect("bob")
    own = await bob.join(room, "Bob")
    assert item(own)["role"] == "participant"
    alice2 = await connect("alice", resource="again")
    back = await alice2.join(room, "Alice")
    assert item(back)["affiliation"] == "owner"
    info = await bob.iq(
        f"<iq type='get' to='{room}' id='k2'>"
        f"<query xmlns='http://jabber.org/protocol/disco#info'/></iq>"
    )
    assert (
        next(info.xml.iter("{http://jabber.org/protocol/disco#info}identity")).get("name") == "Kept"
    )


async def test_unknown_room_messages_and_creation_refused(xmpp_server, haven, connect) -> None:
    """Default policy 'admins': a member can't create rooms; an admin can."""
    alice, admin = await connect("alice"), await connect("admin")
    res = await alice.join(f"brandnew@{haven.domain}", "Alice")
    assert error(res)[1] == "not-allowed"
    own = await admin.join(f"brandnew@{haven.domain}", "Admin")
    assert 201 in codes(own)
    alice.send_raw(
        f"<message to='brandnew@{haven.domain}' type='groupchat' id='u1'><body>x</body></message>"
    )
    assert error(await alice.expect(error_reply("message", "u1")))[1] == "not-acceptable"


async def test_postgresql_backend_keeps_history_across_restart(
        prosody, haven_factory, pg_db_url) -> None:
    """The same service on PostgreSQL: migrated on start, history served after a restart."""
    from tests.harness.client import TestClient
    from tests.integration.conftest import ROOMS, Haven

    haven = Haven(haven_factory(prosody, rooms=ROOMS, db_url=pg_db_url))
    room = haven.room("grief")
    async with TestClient(prosody, "alice") as alice:
        await alice.join(room, "Alice")
        alice.groupchat(room, "stored in postgres")
        await alice.expect(groupchat("stored in postgres"))
        assert await haven.stop() == 0
    await haven.start()
    async with TestClient(prosody, "bob") as bob:
        await bob.join(room, "Bob")
        hist = await bob.expect(lambda s: groupchat("stored in postgres")(s) and delay(s))
        assert delay(hist)["from"] == room


async def test_reconnects_after_the_server_restarts(haven_factory) -> None:
    """The server restarts under Haven: it reconnects with back-off and keeps its rooms."""
    import asyncio

    from tests.harness.client import TestClient
    from tests.harness.servers import ProsodyServer
    from tests.integration.conftest import ROOMS, Haven

    with ProsodyServer() as server:
        haven = Haven(haven_factory(server, rooms=ROOMS))
        room = haven.room("anxiety")
        async with TestClient(server, "alice") as alice:
            await alice.join(room, "Alice")
            alice.groupchat(room, "before the server restart")
            await alice.expect(groupchat("before the server restart"))
        await asyncio.to_thread(server.restart, 2.0)
        for _ in range(300):
            if haven.log().count("Haven component online") >= 2:
                break
            await asyncio.sleep(0.1)
        log = haven.log()
        assert log.count("Haven component online") >= 2, log[-3000:]
        assert "reconnecting in" in log
        async with TestClient(server, "bob") as bob:
            own = await bob.join(room, "Bob")
            assert 110 in codes(own)
            hist = await bob.expect(lambda s: groupchat("before the server restart")(s)
                                    and delay(s) is not None)
            assert delay(hist)["from"] == room
        assert haven.proc.running


@pytest.mark.haven(log_level="INFO")
async def test_message_bodies_and_real_jids_stay_out_of_info_logs(
        xmpp_server, haven, connect) -> None:
    """Privacy: at INFO the service log holds no message body, PM text or real JID."""
    room = haven.room("anxiety")
    alice, admin = await connect("alice"), await connect("admin")
    await alice.join(room, "Alice")
    await admin.join(room, "Mod")
    alice.groupchat(room, "my very private words 7731")
    await admin.expect(groupchat("my very private words 7731"))
    alice.send_raw(f"<message to='{room}/Mod' type='chat'><body>a secret for the mod 5512"
                   f"</body></message>")
    await admin.expect(lambda s: s.xml.get("type") == "chat")
    assert await haven.stop() == 0
    log = haven.log()
    assert "Stopped cleanly" in log
    for secret in ("private words 7731", "secret for the mod 5512", "alice@"):
        assert secret not in log, secret
