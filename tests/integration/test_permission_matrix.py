"""The muc#admin permission matrix, row by row, through a real Prosody and ejabberd.

Every row is (actor, target, action, expected): an occupant of one kind asks, with one
``http://jabber.org/protocol/muc#admin`` item, to change the role or affiliation of an
occupant of another kind, and the room answers "ok" or an error condition. The expectations
come from the privilege tables of XEP-0045 §5.1.1 (roles) and §5.2.1 (affiliations), the role
and affiliation change tables of §5.1.3 and §5.2.2, and the use cases of §8 (moderator), §9
(admin) and §10.3–§10.8 (owner); where the XEP leaves a choice the row follows muc/admin.py
and a comment says so. Rows where Haven disagrees with the XEP would keep the XEP's expectation
and be listed in ``BUGS`` (excluded from the main run); there are none.

Each row gets a fresh room ``pmN@<haven.domain>``: the service admin (an owner of every room
by configuration, who stays in the room as the observer ``Svc``) creates it as an instant
room (§10.1.2), moderated when a visitor or voice is involved (§10.2), gives the actor and
the target their affiliation before they enter and their role after (§9.3, §9.6, §10.3,
§10.6, §8.3), checks that both look as intended, then the actor sends the request. "ok" rows
must also show their effect to the observer (§8.2/§9.1: unavailable presence with 307/301;
otherwise updated presence with the new role or affiliation); refused rows must show none.
One Haven process runs the whole matrix, several rooms at a time; mismatches are collected
and reported together, one line per row.
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass
from typing import Any

import pytest

from tests.integration.muc_helpers import Pred, codes, error, frm, item, kind
from tests.integration.test_moderation import (
    DATA,
    OWNER,
    admin_iq,
    aff,
    assert_result,
    gone,
    presence_with,
    role,
)

pytestmark = pytest.mark.integration

DISCO_INFO = "http://jabber.org/protocol/disco#info"

# -- who ----------------------------------------------------------------------------------------

OW = "owner"  # a stored owner (granted by the service admin, §10.3)
AD = "admin"  # §10.6
MM = "member-moderator"  # a member (§9.3) granted the moderator role (§9.6)
MOD = "moderator"  # no affiliation, granted the moderator role by an owner (§9.6)
M = "member"  # §9.3
P = "participant"  # no affiliation; given voice (§8.3) when the room is moderated
V = "visitor"  # no affiliation, in a moderated room (§5.1.2)
PERSONAS = (OW, AD, MM, MOD, M, P, V)

#: Affiliation given (by bare JID) before the person enters.
PRE_AFFILIATION = {OW: "owner", AD: "admin", MM: "member", M: "member"}
#: (affiliation, role) the observer must see once the person is set up.
LOOKS = {
    OW: ("owner", "moderator"),
    AD: ("admin", "moderator"),
    MM: ("member", "moderator"),
    MOD: ("none", "moderator"),
    M: ("member", "participant"),
    P: ("none", "participant"),
    V: ("none", "visitor"),
}

# -- what ---------------------------------------------------------------------------------------

OK = "ok"
FORB = "forbidden"
NALL = "not-allowed"
CONF = "conflict"

KICK = "kick"  # role none, §8.2
GRANT_VOICE = "grant voice"  # visitor -> participant, §8.3
REVOKE_VOICE = "revoke voice"  # -> visitor, §8.4
GRANT_MOD = "grant moderator"  # §9.6
REVOKE_MOD = "revoke moderator"  # moderator -> participant, §9.7
GRANT_MEMBER = "grant member"  # §9.3
REVOKE_MEMBER = "revoke member"  # affiliation none, §9.4 (§10.7/§10.4 for an admin/owner)
BAN = "ban"  # affiliation outcast, §9.1
GRANT_ADMIN = "grant admin"  # §10.6
GRANT_OWNER = "grant owner"  # §10.3
SELF_KICK = "self-kick"  # §8.2
SELF_BAN = "self-ban"  # §9.1

#: Role or affiliation each action sets; role items name the nick, affiliation items the JID.
ROLE_ACTIONS = {KICK: "none", GRANT_VOICE: "participant", REVOKE_VOICE: "visitor",
                GRANT_MOD: "moderator", REVOKE_MOD: "participant", SELF_KICK: "none"}
AFFILIATION_ACTIONS = {GRANT_MEMBER: "member", REVOKE_MEMBER: "none", BAN: "outcast",
                       GRANT_ADMIN: "admin", GRANT_OWNER: "owner", SELF_BAN: "outcast"}
SELF_ACTIONS = (SELF_KICK, SELF_BAN)

NOBODY = (FORB,) * 7  # §8/§9/§10 preambles: a requester without the privilege gets forbidden

# For each action: its targets (columns) and, per actor (rows), the expected outcome.
# Actor and target of the same kind are two different people (alice and bob). Every cell is
# the XEP's answer; the cells where Haven differs are listed in BUGS below.
MATRIX: dict[str, tuple[tuple[str, ...], dict[str, tuple[str, ...]]]] = {
    # §8.2 "A user cannot be kicked by a moderator with a lower affiliation" (not-allowed);
    # §5.1.1 "Kick Participants and Visitors", §5.1.3 a moderator is "kicked by an admin or
    # owner": a moderator without admin/owner affiliation can't kick another moderator.
    # §8 preamble: non-moderators get forbidden.
    KICK: (PERSONAS, {
        #    owner admin mem-mod moderator member participant visitor
        OW:  (OK,   OK,   OK,     OK,       OK,    OK,  OK),  # equal affiliation: allowed
        AD:  (NALL, OK,   OK,     OK,       OK,    OK,  OK),
        MM:  (NALL, NALL, NALL,   NALL,     OK,    OK,  OK),
        MOD: (NALL, NALL, NALL,   NALL,     NALL,  OK,  OK),  # a member outranks "none"
        M: NOBODY, P: NOBODY, V: NOBODY,
    }),
    # §8.3: any moderator grants voice to a visitor.
    GRANT_VOICE: ((V,), {OW: (OK,), AD: (OK,), MM: (OK,), MOD: (OK,),
                         M: (FORB,), P: (FORB,), V: (FORB,)}),
    # §8.4: "A moderator MUST NOT be able to revoke voice from a user whose affiliation is at
    # or above the moderator's level. In addition, a service MUST NOT allow the voice
    # privileges of an admin or owner to be removed by anyone" (not-allowed). Taking a
    # moderator down to visitor is also an admin/owner action (§5.1.3 "Admin or owner changes
    # role to visitor"): forbidden (§9 preamble) for a moderator who is not an admin, unless
    # the §8.4 rule applies first.
    REVOKE_VOICE: ((OW, AD, MM, MOD, M, P), {
        #    owner admin mem-mod moderator member participant
        OW:  (NALL, NALL, OK,     OK,       OK,    OK),
        AD:  (NALL, NALL, OK,     OK,       OK,    OK),
        MM:  (NALL, NALL, NALL,   FORB,     NALL,  OK),
        MOD: (NALL, NALL, NALL,   NALL,     NALL,  NALL),  # even an unaffiliated participant
        M: NOBODY[:6], P: NOBODY[:6], V: NOBODY[:6],
    }),
    # §9.6 / §5.2.1 "Assign and Remove Moderator Role": admins and owners only (forbidden).
    GRANT_MOD: ((M, P, V), {OW: (OK, OK, OK), AD: (OK, OK, OK), MM: (FORB,) * 3,
                            MOD: (FORB,) * 3, M: (FORB,) * 3, P: (FORB,) * 3, V: (FORB,) * 3}),
    # §9.7: "an admin MUST NOT be allowed to revoke moderator status from a user whose
    # affiliation is 'owner' or 'admin' … not-allowed". The XEP leaves an owner lowering an
    # admin or another owner open (§5.1.3 footnote only bars a lower affiliation); Haven
    # refuses with not-allowed, since admins and owners are moderators by affiliation. For a
    # non-admin moderator the §9 preamble gives forbidden, but Haven answers an admin or owner
    # target with not-allowed first (§8.4 "MUST NOT allow … removed by anyone"): follow it.
    REVOKE_MOD: ((OW, AD, MM, MOD), {
        #    owner admin mem-mod moderator
        OW:  (NALL, NALL, OK,     OK),
        AD:  (NALL, NALL, OK,     OK),
        MM:  (NALL, NALL, FORB,   FORB),
        MOD: (NALL, NALL, FORB,   FORB),
        M: NOBODY[:4], P: NOBODY[:4], V: NOBODY[:4],
    }),
    # §9.3: admins and owners grant membership; §9 preamble: everyone else forbidden.
    GRANT_MEMBER: ((P, V), {OW: (OK, OK), AD: (OK, OK), MM: (FORB,) * 2, MOD: (FORB,) * 2,
                            M: (FORB,) * 2, P: (FORB,) * 2, V: (FORB,) * 2}),
    # §9.4 for members; taking "none" to an admin is revoking admin status (§10.7) and to an
    # owner revoking owner status (§10.4): "If the <user@host> of the 'from' address does not
    # match the bare JID of a room owner, the service MUST return a <forbidden/> error".
    # An owner revoking another owner: MAY (§10.4); Haven allows it.
    REVOKE_MEMBER: ((OW, AD, MM, M), {
        #    owner admin mem-mod member
        OW:  (OK,   OK,   OK,     OK),
        AD:  (FORB, FORB, OK,     OK),
        MM: NOBODY[:4], MOD: NOBODY[:4], M: NOBODY[:4], P: NOBODY[:4], V: NOBODY[:4],
    }),
    # §9.1: "if an admin attempts to ban an owner, the service MUST deny the request and return
    # a <not-allowed/> error". An admin banning an admin is not spelled out (§9.1 only speaks
    # of a lower affiliation): Haven says not-allowed, as for an owner. §9 preamble: forbidden.
    BAN: (PERSONAS, {
        #    owner admin mem-mod moderator member participant visitor
        OW:  (OK,   OK,   OK,     OK,       OK,    OK,  OK),
        AD:  (NALL, NALL, OK,     OK,       OK,    OK,  OK),
        MM: NOBODY, MOD: NOBODY, M: NOBODY, P: NOBODY, V: NOBODY,
    }),
    # §10.6 / §10.3: "If the <user@host> of the 'from' address does not match the bare JID of a
    # room owner, the service MUST return a <forbidden/> error".
    GRANT_ADMIN: ((M, P), {OW: (OK, OK), AD: (FORB,) * 2, MM: (FORB,) * 2, MOD: (FORB,) * 2,
                           M: (FORB,) * 2, P: (FORB,) * 2, V: (FORB,) * 2}),
    GRANT_OWNER: ((AD, P), {OW: (OK, OK), AD: (FORB,) * 2, MM: (FORB,) * 2, MOD: (FORB,) * 2,
                           M: (FORB,) * 2, P: (FORB,) * 2, V: (FORB,) * 2}),
    # §8.2: "If a moderator attempts to kick himself, the service MAY deny the request and
    # return a <conflict/> error": Haven does. Non-moderators: forbidden first.
    SELF_KICK: ((), {OW: (CONF,), AD: (CONF,), MM: (CONF,), MOD: (CONF,),
                     M: (FORB,), P: (FORB,), V: (FORB,)}),
    # §9.1: "If an admin or owner attempts to ban himself, the service MUST deny the request
    # and return a <conflict/> error". Others may not ban at all: forbidden.
    SELF_BAN: ((), {OW: (CONF,), AD: (CONF,), MM: (FORB,), MOD: (FORB,),
                    M: (FORB,), P: (FORB,), V: (FORB,)}),
}


@dataclass(frozen=True)
class Row:
    actor: str
    target: str  # == actor for the self-actions
    action: str
    expected: str

    def __str__(self) -> str:
        return f"{self.actor} -> {self.target}: {self.action}, expected {self.expected}"


def rows() -> list[Row]:
    """The matrix as rows, in table order."""
    out = []
    for action, (targets, by_actor) in MATRIX.items():
        for actor in PERSONAS:
            outcomes = by_actor[actor]
            if action in SELF_ACTIONS:
                out.append(Row(actor, actor, action, outcomes[0]))
                continue
            assert len(outcomes) == len(targets), (action, actor)
            out.extend(Row(actor, t, action, e) for t, e in zip(targets, outcomes, strict=True))
    return out


#: Rows where Haven (muc/admin.py) disagrees with the XEP, grouped by cause, as
#: {key: (reason, [(actor, target, action)])}; the expectation in MATRIX stays the XEP's.
#: Empty: the three deviations this table found (a non-admin moderator kicking a moderator,
#: the error for revoking voice from a moderator at or above one's level, and the error for
#: an admin revoking an admin or owner) are fixed.
BUGS: dict[str, tuple[str, list[tuple[str, str, str]]]] = {}
BUG_ROWS = {key for _reason, keys in BUGS.values() for key in keys}


def matrix_rows(*, bugs: bool) -> list[Row]:
    return [r for r in rows() if ((r.actor, r.target, r.action) in BUG_ROWS) == bugs]


# -- running one row ----------------------------------------------------------------------------


def instant_room_form(room: str, iq_id: str, moderated: bool) -> str:
    """§10.1.2 instant room (empty submit), or §10.1.3 with moderatedroom on."""
    fields = ""
    if moderated:
        fields = ("<field var='FORM_TYPE'><value>http://jabber.org/protocol/muc#roomconfig"
                  "</value></field><field var='muc#roomconfig_moderatedroom'><value>1</value>"
                  "</field>")
    return (f"<iq type='set' to='{room}' id='{iq_id}'><query xmlns='{OWNER}'>"
            f"<x xmlns='{DATA}' type='submit'>{fields}</x></query></iq>")


def effect(action: str, occupant: str) -> Pred:
    """What the observer sees when ``action`` on ``occupant`` succeeded."""
    return {
        KICK: gone(occupant, 307),
        SELF_KICK: gone(occupant, 307),
        BAN: gone(occupant, 301),
        SELF_BAN: gone(occupant, 301),
        GRANT_VOICE: presence_with(occupant, role="participant"),
        REVOKE_VOICE: presence_with(occupant, role="visitor"),
        GRANT_MOD: presence_with(occupant, role="moderator"),
        REVOKE_MOD: presence_with(occupant, role="participant"),
        GRANT_MEMBER: presence_with(occupant, affiliation="member"),
        REVOKE_MEMBER: presence_with(occupant, affiliation="none"),
        GRANT_ADMIN: presence_with(occupant, affiliation="admin", role="moderator"),
        GRANT_OWNER: presence_with(occupant, affiliation="owner", role="moderator"),
    }[action]


def outcome(res: Any) -> str:
    if res.xml.get("type") == "result":
        return OK
    return error(res)[1] or f"error without condition: {res}"


def from_room(room: str) -> Pred:
    return lambda s: frm(s).split("/", 1)[0] == room


def prune(client: Any, *rooms: str) -> None:
    """Drop what ``client`` has received from ``rooms`` so far (other rooms' stanzas stay)."""
    gone_rooms = set(rooms)
    client.inbox[:] = [s for s in client.inbox if frm(s).split("/", 1)[0] not in gone_rooms]


def room_dump(client: Any, room: str) -> str:
    here = from_room(room)
    return "\n".join(f"    {s}" for s in client.inbox if here(s)) or "    (nothing)"


def last_look(client: Any, occupant: str) -> tuple[str, str] | None:
    """(affiliation, role) of the newest available presence from ``occupant`` in the inbox."""
    for s in reversed(client.inbox):
        if kind(s) == "presence" and frm(s) == occupant and s.xml.get("type") is None:
            it = item(s)
            return it.get("affiliation", ""), it.get("role", "")
    return None


async def barrier(svc: Any, room: str, iq_id: str) -> None:
    """An iq round trip to the room: whatever the room sent ``svc`` before has arrived."""
    res = await svc.iq(f"<iq type='get' to='{room}' id='{iq_id}'>"
                       f"<query xmlns='{DISCO_INFO}'/></iq>")
    assert_result(res)


async def run_row(n: int, row: Row, domain: str, svc: Any, alice: Any, bob: Any) -> str | None:
    """Set up room ``pmN``, let the actor try, check the answer and the effect.

    Returns None when the row holds, else what went wrong.
    """
    room = f"pm{n}@{domain}"
    tag = f"pm{n}"
    own_self = row.action in SELF_ACTIONS
    moderated = row.action in (GRANT_VOICE, REVOKE_VOICE) or V in (row.actor, row.target)
    people = [(alice, "Actor", row.actor)]
    if not own_self:
        people.append((bob, "Target", row.target))
    try:
        created = await svc.join(room, "Svc")
        assert 201 in codes(created), f"room not created: {created}"
        assert_result(await svc.iq(instant_room_form(room, f"{tag}-cfg", moderated)))
        for client, nick, who in people:
            if who in PRE_AFFILIATION:
                assert_result(await svc.iq(admin_iq(
                    room, f"{tag}-aff-{nick}", aff(client.bare, PRE_AFFILIATION[who]))))
        for client, nick, _who in people:
            own = await client.join(room, nick)
            assert own.xml.get("type") != "error", f"{nick} can't enter: {own}"
        for _client, nick, who in people:
            grant = "moderator" if who in (MM, MOD) else "participant" if (
                who == P and moderated) else None
            if grant:
                assert_result(await svc.iq(admin_iq(room, f"{tag}-role-{nick}",
                                                    role(nick, grant))))
        await barrier(svc, room, f"{tag}-sync1")
        for _client, nick, who in people:
            looks = last_look(svc, f"{room}/{nick}")
            assert looks == LOOKS[who], f"{nick} should look like {who} {LOOKS[who]}: {looks}"
        prune(svc, room)

        target_nick = "Actor" if own_self else "Target"
        target_client = alice if own_self else bob
        occupant = f"{room}/{target_nick}"
        if row.action in ROLE_ACTIONS:
            request = role(target_nick, ROLE_ACTIONS[row.action])
        else:
            request = aff(target_client.bare, AFFILIATION_ACTIONS[row.action])
        res = await alice.iq(admin_iq(room, f"{tag}-act", request))
        got = outcome(res)
        if got != row.expected:
            return f"{row}; got {got}" + (f" ({error(res)[2]})" if got != OK else "")

        if got == OK:
            try:
                seen = await svc.expect(effect(row.action, occupant))
            except AssertionError:
                return (f"{row}; got ok but the observer saw no effect; from the room:\n"
                        f"{room_dump(svc, room)}")
            if row.action in (KICK, BAN):
                code = 307 if row.action == KICK else 301
                own = await target_client.expect(gone(occupant, code))
                assert 110 in codes(own), own
            else:
                assert 110 not in codes(seen), seen
        else:
            assert error(res)[2].strip(), f"no <text/> with {got}: {res}"
            await barrier(svc, room, f"{tag}-sync2")
            await svc.expect_nothing(effect(row.action, occupant), timeout=0)
            await svc.expect_nothing(gone(occupant, 307), timeout=0)
        return None
    except AssertionError as exc:
        return f"{row}; check failed: {str(exc)[:600]}"
    finally:
        for client, nick, _who in people:
            client.presence(f"{room}/{nick}", ptype="unavailable")
        svc.presence(f"{room}/Svc", ptype="unavailable")


async def run_matrix(haven: Any, connect: Any, table: list[Row], start: int = 0,
                     parallel: int = 8) -> list[str]:
    """Run ``table`` (one fresh room per row, ``parallel`` rooms at a time); the mismatches."""
    svc, alice, bob = await connect("admin"), await connect("alice"), await connect("bob")
    gate = asyncio.Semaphore(parallel)
    counter = itertools.count(start)
    finished: set[str] = set()

    async def one(row: Row) -> str | None:
        async with gate:
            n = next(counter)
            result = await run_row(n, row, haven.domain, svc, alice, bob)
            finished.add(f"pm{n}@{haven.domain}")
            for client in (svc, alice, bob):
                prune(client, *finished)  # late leave presences of earlier rooms too
            return result

    results = await asyncio.gather(*(one(r) for r in table))
    return [r for r in results if r is not None]


# -- tests --------------------------------------------------------------------------------------


def test_matrix_is_complete() -> None:
    """Every (actor, target, action) the brief asks for is in the table exactly once."""
    all_rows = rows()
    keys = [(r.actor, r.target, r.action) for r in all_rows]
    assert len(keys) == len(set(keys))
    assert {r.actor for r in all_rows} == set(PERSONAS)
    assert set(keys) >= BUG_ROWS
    assert {r.expected for r in all_rows} <= {OK, FORB, NALL, CONF}


@pytest.mark.timeout(300)
async def test_permission_matrix(xmpp_server, haven, connect) -> None:
    """XEP-0045 §5.1.1/§5.2.1 privilege tables and §8–§10 use cases: every row of MATRIX
    (except the known deviations) gives the expected answer and effect."""
    table = matrix_rows(bugs=False)
    mismatches = await run_matrix(haven, connect, table)
    assert not mismatches, (f"{len(mismatches)} of {len(table)} rows failed:\n"
                            + "\n".join(mismatches))


