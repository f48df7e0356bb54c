"""Ad-hoc commands (XEP-0050) on room JIDs: a small framework.

A command is a node with a name, a permission check, an optional first-step
form and a function that runs on the submitted values. Flow (XEP-0050 §3):
``execute`` without a form returns the form (``status='executing'`` with a
``sessionid``); ``execute``/``complete`` with a submitted form runs it
(``status='completed'`` with a note or a result form); ``cancel`` ends the
session. A client may also submit the form straight away, as XEP-0317's
examples do. Commands are listed in disco#items on the node
``http://jabber.org/protocol/commands`` to those allowed to run them.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from slixmpp import Iq
from slixmpp.plugins.xep_0004 import Form
from slixmpp.plugins.xep_0050.stanza import Command
from slixmpp.xmlstream import register_stanza_plugin

from component.owner import submitted_values
from muc.errors import MucError
from muc.room import Room

NS_COMMANDS = "http://jabber.org/protocol/commands"
NS_DATA = "jabber:x:data"
SESSION_TTL = 600.0

Values = dict[str, list[str]]


@dataclass(frozen=True)
class AdhocCommand:
    """One command offered on room JIDs."""

    node: str
    name: str
    allowed: Callable[[Room, str], bool]
    run: Callable[[Room, str, Values], Form | str | None]
    form: Callable[[Room], Form] | None = None  # first step; None runs at once


def register() -> None:
    """Make ``<command/>`` (with its data form) available on Iq."""
    register_stanza_plugin(Iq, Command)
    register_stanza_plugin(Command, Form)


class AdhocCommands:
    """The commands of the service's rooms and their sessions."""

    def __init__(self, commands: list[AdhocCommand]) -> None:
        self.commands = {c.node: c for c in commands}
        self._sessions: dict[str, tuple[str, str, float]] = {}  # id -> (node, jid, started)

    def listed(self, room: Room, requester: str) -> list[AdhocCommand]:
        return [c for c in self.commands.values() if c.allowed(room, requester)]

    def handle(self, iq: Iq, room: Room) -> None:
        """An ``<iq type='set'><command/></iq>`` to a room."""
        el = iq.xml.find(f"{{{NS_COMMANDS}}}command")
        assert el is not None
        node = el.get("node", "")
        cmd = self.commands.get(node)
        if cmd is None:
            raise MucError("item-not-found", f"This room has no command '{node}'.")
        requester = iq["from"].full
        if not cmd.allowed(room, requester):
            raise MucError("forbidden", "You are not allowed to run this command here.")
        now = time.monotonic()
        self._sessions = {k: v for k, v in self._sessions.items()
                          if now - v[2] < SESSION_TTL}
        sid = el.get("sessionid")
        if sid and self._sessions.get(sid, ("", "", 0))[:2] != (node, requester):
            raise MucError("bad-request", "Unknown or expired command session; start again.")
        action = el.get("action", "execute")
        if action == "cancel":
            self._sessions.pop(sid or "", None)
            self._reply(iq, node, sid or "", "canceled")
            return
        form = el.find(f"{{{NS_DATA}}}x")
        if form is None and cmd.form is not None:
            sid = uuid.uuid4().hex
            self._sessions[sid] = (node, requester, now)
            self._reply(iq, node, sid, "executing", cmd.form(room), actions=True)
            return
        if form is not None and form.get("type") == "cancel":
            self._sessions.pop(sid or "", None)
            self._reply(iq, node, sid or "", "canceled")
            return
        values = submitted_values(form) if form is not None else {}
        result = cmd.run(room, requester, values)
        self._sessions.pop(sid or "", None)
        self._reply(iq, node, sid or uuid.uuid4().hex, "completed", result)

    def _reply(self, iq: Iq, node: str, sid: str, status: str,
               payload: Form | str | None = None, actions: bool = False) -> None:
        reply = iq.reply(clear=True)
        cmd = reply["command"]
        cmd["node"] = node
        cmd["sessionid"] = sid
        cmd["status"] = status
        if actions:
            cmd["actions"] = ["complete"]
        if isinstance(payload, Form):
            cmd.append(payload)
        elif isinstance(payload, str):
            cmd.add_note(payload, "info")
        reply.send()


def field_value(values: Values, var: str, *, required: bool = True) -> str:
    """One submitted value, or ``bad-request`` naming the missing field."""
    got = (values.get(var) or [""])[0].strip()
    if required and not got:
        raise MucError("bad-request", f"The form field {var} is required.")
    return got


def result_form(title: str, columns: list[str], rows: list[list[str]]) -> Form:
    """A XEP-0004 result form with a table (reported fields and items)."""
    form = Form()
    form["type"] = "result"
    form["title"] = title
    for col in columns:
        form.add_reported(col)
    for row in rows:
        form.add_item(dict(zip(columns, row, strict=True)))
    return form


