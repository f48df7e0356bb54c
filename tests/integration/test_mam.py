"""XEP-0313 archive queries on room JIDs, through real servers."""

from __future__ import annotations

import asyncio

import pytest

from tests.integration.muc_helpers import error, groupchat, stanza_id

pytestmark = pytest.mark.integration

MAM = "urn:xmpp:mam:2"
RSM = "http://jabber.org/protocol/rsm"
FWD = "urn:xmpp:forward:0"


def query(room: str, qid: str, *, form: str = "", rsm: str = "", flip: bool = False) -> str:
    x = (f"<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>{MAM}</value>"
         f"</field>{form}</x>") if form else ""
    r = f"<set xmlns='{RSM}'>{rsm}</set>" if rsm else ""
    f = "<flip-page/>" if flip else ""
    return (f"<iq type='set' to='{room}' id='{qid}'><query xmlns='{MAM}' queryid='{qid}'>"
            f"{x}{r}{f}</query></iq>")


async def run(client, room: str, qid: str, **kw):  # type: ignore[no-untyped-def]
    """Send a query; return (bodies, result ids, fin element) of what came back."""
    res = await client.iq(query(room, qid, **kw))
    if res.xml.get("type") == "error":
        return None, None, res
    results = [s for s in client.received
               if (r := s.xml.find(f"{{{MAM}}}result")) is not None and r.get("queryid") == qid]
    bodies, ids = [], []
    for s in results:
        r = s.xml.find(f"{{{MAM}}}result")
        msg = r.find(f"{{{FWD}}}forwarded/{{jabber:client}}message")
        assert msg is not None and msg.get("to") is None
        assert r.find(f"{{{FWD}}}forwarded/{{urn:xmpp:delay}}delay") is not None
        bodies.append(msg.findtext("{jabber:client}body"))
        ids.append(r.get("id"))
    return bodies, ids, res.xml.find(f"{{{MAM}}}fin")


async def archived(alice, room: str, n: int) -> list[str]:  # type: ignore[no-untyped-def]
    ids = []
    for i in range(n):
        alice.groupchat(room, f"m{i}")
        ids.append(stanza_id(await alice.expect(groupchat(f"m{i}")))[0])
    await asyncio.sleep(0.5)  # let the write-behind writer commit
    return ids


async def test_paging_forwards_and_backwards(xmpp_server, haven, connect) -> None:
    """§4.3 RSM paging to the end both ways, ids = the room's stanza-ids, complete on the end."""
    room = haven.room("anxiety")
    alice = await connect("alice")
    await alice.join(room, "Alice")
    ids = await archived(alice, room, 7)
    got, after, n = [], None, 0
    while True:
        n += 1
        rsm = "<max>3</max>" + (f"<after>{after}</after>" if after else "")
        bodies, page_ids, fin = await run(alice, room, f"fw{n}", rsm=rsm)
        got += page_ids
        if fin.get("complete") == "true":
            break
        after = fin.findtext(f"{{{RSM}}}set/{{{RSM}}}last")
    assert got == ids and n == 3
    bodies, last_page, fin = await run(alice, room, "bw1", rsm="<max>3</max><before/>")
    assert last_page == ids[-3:] and bodies == ["m4", "m5", "m6"]
    assert fin.find(f"{{{RSM}}}set/{{{RSM}}}first").get("index") == "4"
    _, prev, _ = await run(alice, room, "bw2", rsm=f"<max>3</max><before>{ids[4]}</before>")
    assert prev == ids[1:4]
    _, flipped, _ = await run(alice, room, "fl1", rsm="<max>3</max><before/>", flip=True)
    assert flipped == list(reversed(ids[-3:]))


async def test_filters_and_errors(xmpp_server, haven, connect) -> None:
    """'with' an occupant, after-id/before-id, unknown ids (item-not-found), bad with."""
    room = haven.room("anxiety")
    alice, bob = await connect("alice"), await connect("bob")
    await alice.join(room, "Alice")
    await bob.join(room, "Bob")
    ids = await archived(alice, room, 3)
    bob.groupchat(room, "from bob")
    await bob.expect(groupchat("from bob"))
    await asyncio.sleep(0.5)
    field = "<field var='with'><value>{}</value></field>"
    bodies, _, _ = await run(bob, room, "w1", form=field.format(f"{room}/Bob"))
    assert bodies == ["from bob"]
    rng = (f"<field var='after-id'><value>{ids[0]}</value></field>"
           f"<field var='before-id'><value>{ids[2]}</value></field>")
    bodies, _, _ = await run(bob, room, "r1", form=rng)
    assert bodies == ["m1"]
    _, _, err = await run(bob, room, "e1", rsm="<after>no-such-id</after>")
    assert error(err)[1] == "item-not-found" and error(err)[2]
    _, _, err = await run(bob, room, "e2", form=field.format("someone@else.example"))
    assert error(err)[1] == "bad-request"


async def test_members_only_archive_and_anonymity(xmpp_server, haven, connect) -> None:
    """§6.1.2: members-only archives are for members (even when not joined); results carry
    no real JIDs."""
    room = haven.room("lounge")
    admin, alice, bob = await connect("admin"), await connect("alice"), await connect("bob")
    await admin.join(room, "Mod")
    owner = "http://jabber.org/protocol/muc#owner"
    await admin.iq(f"<iq type='set' to='{room}' id='mo'><query xmlns='{owner}'><x xmlns="
                   f"'jabber:x:data' type='submit'><field var='muc#roomconfig_membersonly'>"
                   f"<value>1</value></field></x></query></iq>")
    await admin.iq(f"<iq type='set' to='{room}' id='mem'><query xmlns='http://jabber.org/"
                   f"protocol/muc#admin'><item affiliation='member' jid='{alice.bare}'/>"
                   f"</query></iq>")
    admin.groupchat(room, "members only talk")
    await admin.expect(groupchat("members only talk"))
    await asyncio.sleep(0.5)
    bodies, _, _ = await run(alice, room, "m1")  # a member, not in the room
    assert bodies == ["members only talk"]
    assert not any("admin@" in str(s) for s in alice.received)
    _, _, err = await run(bob, room, "m2")
    assert error(err)[1] == "forbidden"


async def test_retracted_message_is_a_tombstone_in_the_archive(
        xmpp_server, haven, connect) -> None:
    """XEP-0425 §4: the archive answers with the tombstone, not the text."""
    room = haven.room("anxiety")
    admin, alice = await connect("admin"), await connect("alice")
    await admin.join(room, "Mod")
    await alice.join(room, "Alice")
    (sid,) = await archived(alice, room, 1)
    await admin.iq(f"<iq type='set' to='{room}' id='rt'><moderate xmlns="
                   f"'urn:xmpp:message-moderate:1' id='{sid}'><retract xmlns="
                   f"'urn:xmpp:message-retract:1'/></moderate></iq>")
    await asyncio.sleep(0.5)
    bodies, ids, _ = await run(admin, room, "t1")
    assert ids == [sid] and bodies == [None]
    result = next(s for s in admin.received if (r := s.xml.find(f"{{{MAM}}}result")) is not None
                  and r.get("queryid") == "t1")
    assert "retracted" in str(result) and "m0" not in str(result)


async def test_sigterm_after_a_burst_loses_nothing(xmpp_server, haven, connect) -> None:
    """SIGTERM right after a burst: all 300 broadcast messages are in the archive (the
    write-behind queue is flushed on shutdown)."""
    from muc.storage.store import Store

    room = haven.room("grief")
    alice = await connect("alice")
    await alice.join(room, "Alice")
    for i in range(300):
        alice.groupchat(room, f"burst {i}")
    last = await alice.expect(groupchat("burst 299"), timeout=20)
    assert last is not None
    assert await haven.stop() == 0
    broadcast = sum(1 for s in alice.received if groupchat()(s)
                    and (s.xml.findtext("{jabber:client}body") or "").startswith("burst "))
    assert broadcast == 300
    assert Store(haven.proc.db_url).count_messages(room) == 300


@pytest.mark.haven(retention_days=2 / 86400, purge_interval=1)
async def test_retention_purges_the_archive_and_join_history(
        xmpp_server, haven, connect) -> None:
    """A periodic job (not the hot path) drops messages past the retention period from the
    archive and from the history sent on entering."""
    room = haven.room("anxiety")
    alice = await connect("alice")
    await alice.join(room, "Alice")
    await archived(alice, room, 2)
    bodies, _, _ = await run(alice, room, "before-purge")
    assert bodies == ["m0", "m1"]
    await asyncio.sleep(4)
    bodies, _, _ = await run(alice, room, "after-purge")
    assert bodies == []
    bob = await connect("bob")
    await bob.join(room, "Bob")
    from tests.integration.muc_helpers import history_before, subject_message
    subj = await bob.expect(subject_message(room))
    assert history_before(bob, subj) == []
