"""XEP-0317 hat commands (create, destroy, list, assign, unassign, list-assigned).

The forms and nodes follow XEP-0317 §3.2–§3.7 (``FORM_TYPE`` =
``urn:xmpp:hats:commands``, fields ``hats#uri``, ``hats#title``, ``hats#hue``,
``hats#jid``); the rules live in :mod:`muc.hats`.
"""

from __future__ import annotations

from slixmpp.jid import JID, InvalidJID
from slixmpp.plugins.xep_0004 import Form

from component.adhoc import AdhocCommand, Values, field_value, result_form
from muc import hats
from muc.errors import MucError
from muc.roles import Affiliation
from muc.room import Room, bare

NODE = "urn:xmpp:hats:commands"
FORM_TYPE = "urn:xmpp:hats:commands"


def _is_admin(room: Room, requester: str) -> bool:
    return room.affiliation_of(bare(requester)).rank >= Affiliation.ADMIN.rank


def _form(title: str, instructions: str) -> Form:
    form = Form()
    form["type"] = "form"
    form["title"] = title
    form["instructions"] = instructions
    form.add_field(var="FORM_TYPE", ftype="hidden", value=FORM_TYPE)
    return form


def _hat_choice(form: Form, room: Room, label: str = "Hat") -> None:
    field = form.add_field(var="hats#uri", ftype="list-single", label=label, required=True)
    for hat in hats.hats(room).values():
        field.add_option(label=hat.title, value=hat.uri)


def _jid(values: Values) -> str:
    raw = field_value(values, "hats#jid")
    try:
        jid = JID(raw)
    except InvalidJID as exc:
        raise MucError("jid-malformed", f"'{raw}' is not a valid address.") from exc
    if not jid.user:
        raise MucError("jid-malformed", "hats#jid must be a person's address (user@server).")
    return jid.bare


def create_form(room: Room) -> Form:
    form = _form("Creating a Hat", "Fill out this form to create (or update) a hat.")
    form.add_field(var="hats#title", ftype="text-single", label="Hat Title", required=True)
    form.add_field(var="hats#uri", ftype="text-single", label="Hat URI", required=True)
    form.add_field(var="hats#hue", ftype="text-single", label="Hat Hue (0-360)")
    return form


def create(room: Room, requester: str, values: Values) -> str:
    hats.define(room, requester, field_value(values, "hats#uri"),
                field_value(values, "hats#title"),
                field_value(values, "hats#hue", required=False) or None)
    return "The hat is ready."


def destroy_form(room: Room) -> Form:
    form = _form("Destroying a Hat", "Choose the hat to destroy; it is taken off everyone.")
    _hat_choice(form, room)
    return form


def destroy(room: Room, requester: str, values: Values) -> str:
    hats.destroy(room, requester, field_value(values, "hats#uri"))
    return "The hat is gone."


def assign_form(room: Room) -> Form:
    form = _form("Assigning a Hat", "Fill out this form to assign a hat.")
    form.add_field(var="hats#jid", ftype="jid-single", label="User Address", required=True)
    _hat_choice(form, room, "The role")
    return form


def assign(room: Room, requester: str, values: Values) -> str:
    hats.assign(room, requester, _jid(values), field_value(values, "hats#uri"))
    return "Hat assigned."


def unassign_form(room: Room) -> Form:
    form = _form("Removing a Hat", "Fill out this form to remove a hat from someone.")
    form.add_field(var="hats#jid", ftype="jid-single", label="User Address", required=True)
    _hat_choice(form, room)
    return form


def unassign(room: Room, requester: str, values: Values) -> str:
    hats.unassign(room, requester, _jid(values), field_value(values, "hats#uri"))
    return "Hat removed."


def list_hats(room: Room, requester: str, values: Values) -> Form:
    return result_form("Hats List", ["hats#title", "hats#uri", "hats#hue"],
                       [[h.title, h.uri, h.hue or ""] for h in hats.hats(room).values()])


def list_assigned(room: Room, requester: str, values: Values) -> Form:
    return result_form("Assigned Hats List", ["hats#jid", "hats#uri", "hats#title", "hats#hue"],
                       [[jid, h.uri, h.title, h.hue or ""]
                        for jid, h in hats.assigned(room)])


COMMANDS = [
    AdhocCommand(f"{NODE}:create", "Create or update a hat", _is_admin, create, create_form),
    AdhocCommand(f"{NODE}:destroy", "Destroy a hat", _is_admin, destroy, destroy_form),
    AdhocCommand(f"{NODE}:list", "List hats", _is_admin, list_hats),
    AdhocCommand(f"{NODE}:assign", "Assign a hat", _is_admin, assign, assign_form),
    AdhocCommand(f"{NODE}:unassign", "Remove a hat", _is_admin, unassign, unassign_form),
    AdhocCommand(f"{NODE}:list-assigned", "List assigned hats", _is_admin, list_assigned),
]
