"""What a room is: name, purpose, guidelines, language, listing, persistence.

XEP-0045 §10.2 fields ``muc#roomconfig_roomname``, ``_roomdesc``, ``_lang``,
``_publicroom``, ``_persistentroom``, ``_enablelogging``, ``_contactjid``, and
the ``muc#roominfo`` fields that show them in disco (§6.4). Haven adds the
room's code of conduct (``haven#guidelines``).
"""

from __future__ import annotations

from muc.hooks import HookBus
from muc.roomconfig import FieldSpec


def _language(value: object) -> str | None:
    text = str(value)
    if text and not all(part.isalnum() and len(part) <= 8 for part in text.split("-")):
        return "expected a language tag such as 'en' or 'pt-BR'"
    return None


FIELDS = (
    FieldSpec("muc#roomconfig_roomname", "name", "text-single", "Room name"),
    FieldSpec("muc#roomconfig_roomdesc", "description", "text-single",
              "Purpose of the room", roominfo="muc#roominfo_description"),
    FieldSpec("haven#guidelines", "guidelines", "text-multi", "Code of conduct"),
    FieldSpec("muc#roomconfig_lang", "language", "text-single",
              "Natural language of the room", roominfo="muc#roominfo_lang",
              validate=_language),
    FieldSpec("muc#roomconfig_publicroom", "public", "boolean",
              "List the room in the public directory"),
    FieldSpec("muc#roomconfig_persistentroom", "persistent", "boolean",
              "Keep the room when the last occupant leaves"),
    FieldSpec("muc#roomconfig_enablelogging", "logging", "boolean",
              "Keep an archive of the discussion"),
    FieldSpec("muc#roomconfig_contactjid", "contacts", "jid-multi",
              "People to contact about this room", roominfo="muc#roominfo_contactjid"),
)


def register(bus: HookBus) -> None:
    """No hooks: identity is read by disco and the join flow."""
