"""Room configuration and service settings: plain data, no I/O.

The owner form (XEP-0045 §10.2, ``muc#roomconfig``) maps onto
:class:`RoomConfig`; which form field sets which attribute is declared by the
feature modules (see :mod:`muc.roomconfig`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

from muc.roles import OCCUPANT_ROLES

AllowPM = Literal["anyone", "participants", "moderators", "none"]
Whois = Literal["moderators", "anyone"]
RoomCreation = Literal["admins", "anyone", "nobody"]

ALLOWPM_VALUES: tuple[str, ...] = ("anyone", "participants", "moderators", "none")
WHOIS_VALUES: tuple[str, ...] = ("moderators", "anyone")
ROOM_CREATION_VALUES: tuple[str, ...] = ("admins", "anyone", "nobody")


@dataclass
class RoomConfig:
    """Everything an owner can configure about one room.

    Defaults are Haven's: public, persistent, semi-anonymous, private messages
    only to or from moderators, archived (status 170 on join).
    """

    name: str = ""
    description: str = ""  # the room's purpose, shown in disco (muc#roominfo_description)
    guidelines: str = ""  # the room's code of conduct
    language: str = "en"
    public: bool = True  # listed in disco#items (muc_public / muc_hidden)
    persistent: bool = True  # survives its last occupant leaving
    moderated: bool = False  # visitors need voice to speak
    members_only: bool = False
    password: str = ""  # empty: not password-protected
    max_users: int = 0  # 0: no limit
    allowpm: AllowPM = "moderators"
    whois: Whois = "moderators"  # "moderators": semi-anonymous; "anyone": non-anonymous
    change_subject: bool = False  # may participants change the subject
    logging: bool = True  # the room keeps an archive (status 170)
    history_length: int = 20  # messages sent on join at most (muc#maxhistoryfetch)
    presence_broadcast: list[str] = field(
        default_factory=lambda: list(OCCUPANT_ROLES))
    slow_mode: int = 0  # seconds between two messages of one participant (0: off)
    getmemberlist: list[str] = field(default_factory=lambda: ["moderator"])  # §7.11 roles
    retention_days: int = 0  # days the archive keeps messages; 0: the service default
    allow_invites: bool = False  # may non-moderators invite (muc#roomconfig_allowinvites)
    invite_makes_member: bool = True  # invitee of a members-only room becomes a member
    # XEP-0317 hats (managed by ad-hoc commands, not the owner form):
    hats: list[dict[str, Any]] = field(default_factory=list)  # {"uri", "title", "hue"}
    hat_assignments: dict[str, list[str]] = field(default_factory=dict)  # bare JID -> URIs
    contacts: list[str] = field(default_factory=list)  # muc#roominfo_contactjid

    @property
    def non_anonymous(self) -> bool:
        return self.whois == "anyone"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RoomConfig:
        """Build from stored or configured data, ignoring unknown keys."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass
class ServiceSettings:
    """Service-wide settings from the ``[service]`` table of the config file."""

    name: str = "Haven"
    admins: frozenset[str] = frozenset()
    room_creation: RoomCreation = "admins"
    max_message_bytes: int = 10_000  # body text larger than this is refused
    max_history_fetch: int = 50  # upper bound on history sent on join
    occupant_id_secret: bytes = b""  # HMAC key for XEP-0421 occupant ids
    retention_days: float = 30.0  # archive retention when a room sets none; 0: forever

    def is_admin(self, bare_jid: str) -> bool:
        return bare_jid in self.admins
