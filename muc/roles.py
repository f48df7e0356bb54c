"""Roles and affiliations, XEP-0045 §5.

§5.1 "Roles are temporary in that they do not necessarily persist across a
user's visits to the room"; §5.2 "affiliations are persistent across visits".
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """XEP-0045 §5.1 roles, in increasing order of privilege."""

    NONE = "none"
    VISITOR = "visitor"
    PARTICIPANT = "participant"
    MODERATOR = "moderator"

    @property
    def rank(self) -> int:
        return _ROLE_RANK[self]


class Affiliation(StrEnum):
    """XEP-0045 §5.2 affiliations; ``outcast`` is a ban."""

    OUTCAST = "outcast"
    NONE = "none"
    MEMBER = "member"
    ADMIN = "admin"
    OWNER = "owner"

    @property
    def rank(self) -> int:
        return _AFF_RANK[self]


_ROLE_RANK = {Role.NONE: 0, Role.VISITOR: 1, Role.PARTICIPANT: 2, Role.MODERATOR: 3}
_AFF_RANK = {
    Affiliation.OUTCAST: -1,
    Affiliation.NONE: 0,
    Affiliation.MEMBER: 1,
    Affiliation.ADMIN: 2,
    Affiliation.OWNER: 3,
}


#: The roles an occupant can hold, as config values name them (list-multi fields).
OCCUPANT_ROLES: tuple[str, ...] = ("moderator", "participant", "visitor")


def valid_roles(value: object) -> str | None:
    """Form-field validator: every entry is an occupant role, else an error text."""
    unknown = [v for v in value if v not in OCCUPANT_ROLES] if isinstance(value, list) else []
    return f"unknown role(s): {', '.join(unknown)}" if unknown else None


def default_role(affiliation: Affiliation, moderated: bool) -> Role:
    """The role an entering user gets, XEP-0045 §5.1.2 (Default Roles).

    Owners and admins enter as moderators; in a moderated room an unaffiliated
    user enters as a visitor, everyone else as a participant.
    """
    if affiliation in (Affiliation.OWNER, Affiliation.ADMIN):
        return Role.MODERATOR
    if moderated and affiliation is Affiliation.NONE:
        return Role.VISITOR
    return Role.PARTICIPANT
