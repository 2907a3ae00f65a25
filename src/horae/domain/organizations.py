"""Organizational units: their members' roles, what each role may do, invitations, and the rule that a unit
with an Owner keeps one. Pure: no I/O."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from horae.errors import InvalidRequest

INVITATION_LIFETIME = timedelta(days=7)
# Applications that existed before units did are placed in this unit (migration 0009); so are applications
# made without naming a unit (`horae app create` without --unit). It starts without members.
PRE_UNITS_ID = "uni_000000000000000000000000"
PRE_UNITS_NAME = "Applications created before organizational units"
MAX_NAME = 255
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class Role(StrEnum):
    OWNER = "owner"
    DEVELOPER = "developer"
    SUPPORT = "support"


class Action(StrEnum):
    VIEW_UNIT = "view_unit"
    RENAME_UNIT = "rename_unit"
    INVITE = "invite"
    CHANGE_ROLE = "change_role"
    REMOVE_MEMBER = "remove_member"
    LEAVE = "leave"
    CREATE_APP = "create_app"
    EDIT_REDIRECT_URIS = "edit_redirect_uris"
    ROTATE_SECRET = "rotate_secret"
    REVOKE_SECRET = "revoke_secret"
    VIEW_SECRET = "view_secret"
    VIEW_APP = "view_app"
    VIEW_ACCOUNTS = "view_accounts"
    VIEW_DELIVERY_LOGS = "view_delivery_logs"


# Owners manage the unit and its people; Developers work on its applications but not on its people;
# Support looks (never at secrets) and changes nothing but may leave.
_MANAGE_PEOPLE = {Action.RENAME_UNIT, Action.INVITE, Action.CHANGE_ROLE, Action.REMOVE_MEMBER}
_SUPPORT = {Action.VIEW_UNIT, Action.VIEW_APP, Action.VIEW_ACCOUNTS, Action.VIEW_DELIVERY_LOGS, Action.LEAVE}
PERMISSIONS: dict[Role, frozenset[Action]] = {
    Role.OWNER: frozenset(Action),
    Role.DEVELOPER: frozenset(Action) - _MANAGE_PEOPLE,
    Role.SUPPORT: frozenset(_SUPPORT),
}


def allowed(role: str, action: Action) -> bool:
    """Whether a member with this role may do this in their unit (an unknown role may do nothing)."""
    try:
        return action in PERMISSIONS[Role(role)]
    except ValueError:
        return False


def parse_role(value: str, field: str = "role") -> Role:
    """A role named by a person or a form, or InvalidRequest naming the choices."""
    try:
        return Role(value.strip().lower())
    except ValueError:
        choices = ", ".join(r.value for r in Role)
        raise InvalidRequest.single(field, "errors.invalid_role", f"the role must be one of {choices}") from None


def clean_name(name: str) -> str:
    """A unit's name, trimmed; InvalidRequest when empty or too long."""
    name = name.strip()
    if not name:
        raise InvalidRequest.single("name", "errors.required", "name must be specified")
    if len(name) > MAX_NAME:
        raise InvalidRequest.single("name", "errors.too_long", f"the name must be at most {MAX_NAME} characters")
    return name


def clean_email(email: str) -> str:
    """An invitee's address, lower-cased as people's are stored; InvalidRequest when it is not one."""
    email = email.strip().lower()
    if not _EMAIL.match(email) or len(email) > 320:
        raise InvalidRequest.single("email", "errors.invalid_email", "enter a valid email address")
    return email


@dataclass(eq=False)
class OrganizationalUnit:
    """A team that owns applications together (`uni_...`)."""

    id: str
    name: str
    created_at: datetime


@dataclass(eq=False)
class Membership:
    """A person's role in one unit."""

    unit_id: str
    person_id: str
    role: str  # a Role value
    created_at: datetime


@dataclass(eq=False)
class Invitation:
    """An Owner's invitation of an email address into a unit with a role: a single-use link, stored only
    as the digest of its token, that works until `expires_at`."""

    id: str
    unit_id: str
    email: str
    role: str
    token_digest: str
    created_at: datetime
    expires_at: datetime
    invited_by: str | None = None  # None when the operator invited from the CLI
    accepted_at: datetime | None = None
    accepted_by: str | None = None
    cancelled_at: datetime | None = None

    def pending(self, now: datetime) -> bool:
        """Neither accepted, cancelled nor expired."""
        return self.accepted_at is None and self.cancelled_at is None and self.expires_at > now


def keeps_an_owner(members: Iterable[Membership], person_id: str, new_role: Role | None) -> None:
    """Refuse a change that would take a unit's last Owner away: demoting them (`new_role` not Owner),
    removing them or their leaving (`new_role` None). A unit that has no Owner (the pre-units one, until
    the operator adds one) is not affected."""
    owners = {m.person_id for m in members if m.role == Role.OWNER}
    if owners == {person_id} and new_role is not Role.OWNER:
        raise InvalidRequest.single(
            "role", "errors.last_owner", "a unit keeps at least one Owner: make someone else an Owner first"
        )
