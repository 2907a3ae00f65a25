"""Organizational units for the dashboard and the CLI: creating units, members and their roles, invitations.

Every use case names who asks (`Actor`): a signed-in person, whose role in the unit is checked on each call,
or the operator at the CLI, who may do anything. A person outside a unit gets NotFound for all of it, never
PermissionDenied, so units cannot be discovered; a member whose role does not allow something gets
PermissionDenied.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from horae.domain import ids
from horae.domain.model import Application, Person
from horae.domain.organizations import (
    INVITATION_LIFETIME,
    Action,
    Invitation,
    Membership,
    OrganizationalUnit,
    Role,
    allowed,
    clean_email,
    clean_name,
    keeps_an_owner,
    parse_role,
)
from horae.errors import FieldError, InvalidRequest, NotFound, PermissionDenied
from horae.ports import Clock, Mailer, UnitOfWork, UnitOfWorkFactory

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Actor:
    """Who asks: a person (`person_id`), checked against their role, or the operator (`person_id` None)."""

    person_id: str | None

    @classmethod
    def person(cls, person_id: str) -> Actor:
        if not person_id:
            raise ValueError("a person actor needs the person's id")
        return cls(person_id)

    @property
    def is_operator(self) -> bool:
        return self.person_id is None


OPERATOR = Actor(None)


def authorize(uow: UnitOfWork, unit_id: str, actor: Actor, action: Action) -> Membership | None:
    """The actor's membership if they may do `action` in the unit (None for the operator); NotFound when
    the unit does not exist or the person is not in it, PermissionDenied when their role does not allow it."""
    unit = uow.units.get(unit_id)
    if unit is None:
        raise NotFound(f"no organizational unit {unit_id}")
    if actor.person_id is None:
        return None  # the operator
    membership = uow.memberships.of(unit_id, actor.person_id)
    if membership is None:
        raise NotFound(f"no organizational unit {unit_id}")
    if not allowed(membership.role, action):
        raise PermissionDenied(f"your role in this unit ({membership.role}) does not allow this")
    return membership


def may(role: str | None) -> frozenset[Action]:
    """Everything a role allows (the operator, role None, may do anything): what pages offer."""
    return frozenset(Action) if role is None else frozenset(a for a in Action if allowed(role, a))


@dataclass(frozen=True)
class UnitSummary:
    unit: OrganizationalUnit
    role: str


@dataclass(frozen=True)
class Member:
    person_id: str
    email: str
    name: str
    role: str


@dataclass(frozen=True)
class UnitView:
    """A unit as one of its members (or the operator) sees it; pending invitations only for those who invite."""

    unit: OrganizationalUnit
    role: str | None
    may: frozenset[Action]
    members: list[Member]
    invitations: list[Invitation]
    applications: list[Application]


@dataclass(frozen=True)
class InvitationSent:
    """A new invitation, its link (shown once, stored only as a digest) and whether it went out by mail."""

    invitation: Invitation
    link: str
    mailed: bool


@dataclass(frozen=True)
class InvitationView:
    """What the invitation page shows the signed-in person who opened the link."""

    invitation: Invitation
    unit_name: str
    for_this_person: bool


class OrganizationService:
    """Units, members, roles and invitations; applications of a unit are in services/unit_applications.py.

    Args:
        mailer: sends invitation links.
        mail_configured: whether the mailer really delivers (an SMTP server is set); when not, or when
            sending fails, the Owner is shown the link to pass on instead.
    """

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, mailer: Mailer, mail_configured: bool) -> None:
        self._uow = uow
        self._clock = clock
        self._mailer = mailer
        self._mail_configured = mail_configured

    # --- units ---------------------------------------------------------------------------------------------

    def create_unit(self, name: str, owner_id: str) -> OrganizationalUnit:
        """A new unit whose first member, its Owner, is `owner_id`."""
        name = clean_name(name)
        now = self._clock.now()
        unit = OrganizationalUnit(ids.new_id("uni"), name, now)
        with self._uow() as uow:
            if uow.people.get(owner_id) is None:
                raise NotFound(f"no person {owner_id}")
            uow.units.add(unit)
            uow.flush()
            uow.memberships.add(Membership(unit.id, owner_id, Role.OWNER.value, now))
            uow.commit()
        log.info("organizational unit created", extra={"unit_id": unit.id})
        return unit

    def rename(self, actor: Actor, unit_id: str, name: str) -> None:
        name = clean_name(name)
        with self._uow() as uow:
            authorize(uow, unit_id, actor, Action.RENAME_UNIT)
            unit = uow.units.get(unit_id)
            assert unit is not None
            unit.name = name
            uow.commit()

    def my_units(self, person_id: str) -> list[UnitSummary]:
        """The units the person is in, by name, with their role in each."""
        with self._uow() as uow:
            roles = {m.unit_id: m.role for m in uow.memberships.for_person(person_id)}
            units = uow.units.many(list(roles)) if roles else []
        return [UnitSummary(unit, roles[unit.id]) for unit in units]

    def all_units(self) -> list[OrganizationalUnit]:
        """Every unit (the operator's list)."""
        with self._uow() as uow:
            return uow.units.list_all()

    def view(self, actor: Actor, unit_id: str) -> UnitView:
        with self._uow() as uow:
            membership = authorize(uow, unit_id, actor, Action.VIEW_UNIT)
            role = membership.role if membership else None
            allows = may(role)
            unit = uow.units.get(unit_id)
            assert unit is not None
            invitations = (
                uow.invitations.pending_for_unit(unit_id, self._clock.now()) if Action.INVITE in allows else []
            )
            return UnitView(unit, role, allows, _members(uow, unit_id), invitations, uow.units.applications(unit_id))

    def members(self, actor: Actor, unit_id: str) -> list[Member]:
        with self._uow() as uow:
            authorize(uow, unit_id, actor, Action.VIEW_UNIT)
            return _members(uow, unit_id)

    def person_by_email(self, email: str) -> Person:
        """Someone who has signed up, by email address (for the CLI)."""
        with self._uow() as uow:
            person = uow.people.by_email(email.strip().lower())
        if person is None:
            raise NotFound(f"nobody has signed up as {email.strip()}")
        return person

    # --- members -------------------------------------------------------------------------------------------

    def set_role(self, actor: Actor, unit_id: str, person_id: str, role: str) -> None:
        """Give a member another role (making others Owners included); a unit's last Owner stays one.
        The operator may also add someone who is not yet a member, with this role."""
        new_role = parse_role(role)
        with self._uow() as uow:
            authorize(uow, unit_id, actor, Action.CHANGE_ROLE)
            uow.units.lock(unit_id)
            membership = uow.memberships.of(unit_id, person_id)
            if membership is None and actor.is_operator and uow.people.get(person_id) is not None:
                uow.memberships.add(Membership(unit_id, person_id, new_role.value, self._clock.now()))
                uow.commit()
                return
            if membership is None:
                raise NotFound(f"no member {person_id} in this unit")
            keeps_an_owner(uow.memberships.for_unit(unit_id), person_id, new_role)
            membership.role = new_role.value
            uow.commit()
        log.info("member role changed", extra={"unit_id": unit_id, "person_id": person_id, "role": new_role.value})

    def remove(self, actor: Actor, unit_id: str, person_id: str) -> None:
        """Take a member out of the unit; never its last Owner."""
        self._drop(actor, unit_id, person_id, Action.REMOVE_MEMBER)

    def leave(self, person_id: str, unit_id: str) -> None:
        """The person leaves the unit; its last Owner cannot."""
        self._drop(Actor.person(person_id), unit_id, person_id, Action.LEAVE)

    def _drop(self, actor: Actor, unit_id: str, person_id: str, action: Action) -> None:
        with self._uow() as uow:
            authorize(uow, unit_id, actor, action)
            uow.units.lock(unit_id)
            membership = uow.memberships.of(unit_id, person_id)
            if membership is None:
                raise NotFound(f"no member {person_id} in this unit")
            keeps_an_owner(uow.memberships.for_unit(unit_id), person_id, None)
            uow.memberships.remove(membership)
            uow.commit()
        log.info("member left the unit", extra={"unit_id": unit_id, "person_id": person_id, "how": action.value})

    # --- invitations ---------------------------------------------------------------------------------------

    def invite(self, actor: Actor, unit_id: str, email: str, role: str, base_url: str) -> InvitationSent:
        """A single-use link, valid for INVITATION_LIFETIME, that lets whoever signs in as `email` join with
        `role`. It is mailed when mail is configured; the link is returned for the Owner in any case."""
        problems: dict[str, list[FieldError]] = {}
        try:
            email = clean_email(email)
        except InvalidRequest as exc:
            problems.update(exc.errors)
        try:
            new_role = parse_role(role)
        except InvalidRequest as exc:
            problems.update(exc.errors)
            new_role = Role.SUPPORT
        now = self._clock.now()
        token = ids.new_token()
        with self._uow() as uow:
            authorize(uow, unit_id, actor, Action.INVITE)
            if problems:
                raise InvalidRequest(problems)
            person = uow.people.by_email(email)
            if person is not None and uow.memberships.of(unit_id, person.id) is not None:
                raise InvalidRequest.single("email", "errors.already_member", f"{email} is already a member")
            unit = uow.units.get(unit_id)
            assert unit is not None
            invitation = Invitation(
                ids.new_id("inv"), unit_id, email, new_role.value, ids.digest(token), now, now + INVITATION_LIFETIME,
                invited_by=actor.person_id,
            )  # fmt: skip
            inviter = uow.people.get(actor.person_id) if actor.person_id else None
            uow.invitations.add(invitation)
            uow.commit()
        link = f"{base_url.rstrip('/')}/invitations/{token}"
        log.info("invitation created", extra={"unit_id": unit_id, "invitation_id": invitation.id})
        mailed = self._mail(invitation, unit.name, inviter, link)
        return InvitationSent(invitation, link, mailed)

    def _mail(self, invitation: Invitation, unit_name: str, inviter: Person | None, link: str) -> bool:
        if not self._mail_configured:
            return False
        who = f"{inviter.name} ({inviter.email})" if inviter else "The Horae operator"
        body = (
            f'{who} invites you to the organizational unit "{unit_name}" on Horae, as {invitation.role}.\n\n'
            f"To accept, sign in (or sign up) as {invitation.email} and open this link:\n\n{link}\n\n"
            f"The link works once, until {invitation.expires_at:%Y-%m-%d %H:%M} UTC.\n"
        )
        try:
            self._mailer.send(invitation.email, f"Join {unit_name} on Horae", body)
        except OSError as exc:  # unreachable or refusing (smtplib's errors are OSErrors): the Owner passes it on
            log.warning("invitation mail not sent", extra={"invitation_id": invitation.id, "error": type(exc).__name__})
            return False
        return True

    def cancel_invitation(self, actor: Actor, unit_id: str, invitation_id: str) -> None:
        with self._uow() as uow:
            authorize(uow, unit_id, actor, Action.INVITE)
            invitation = uow.invitations.get(invitation_id)
            if invitation is None or invitation.unit_id != unit_id:
                raise NotFound(f"no invitation {invitation_id} in this unit")
            if invitation.pending(self._clock.now()):
                invitation.cancelled_at = self._clock.now()
                uow.commit()

    def invitation(self, token: str, person: Person) -> InvitationView:
        """The pending invitation behind a link; NotFound when it is unknown, used, cancelled or expired."""
        with self._uow() as uow:
            invitation = self._pending(uow, token)
            unit = uow.units.get(invitation.unit_id)
            assert unit is not None
        return InvitationView(invitation, unit.name, invitation.email == person.email.lower())

    def accept(self, token: str, person: Person) -> str:
        """Join the unit the link invites to, with its role; only as the invited email, and only once.
        Someone already in the unit keeps their role. Returns the unit's id."""
        now = self._clock.now()
        with self._uow() as uow:
            invitation = self._pending(uow, token)
            if invitation.email != person.email.lower():
                raise PermissionDenied(
                    f"this invitation is for {invitation.email}; sign in with that address to accept it"
                )
            if not uow.invitations.accept(invitation.id, person.id, now):
                raise NotFound("this invitation link has already been used or has expired")
            if uow.memberships.of(invitation.unit_id, person.id) is None:
                uow.memberships.add(Membership(invitation.unit_id, person.id, invitation.role, now))
            uow.commit()
        log.info("invitation accepted", extra={"unit_id": invitation.unit_id, "invitation_id": invitation.id})
        return invitation.unit_id

    def _pending(self, uow: UnitOfWork, token: str) -> Invitation:
        invitation = uow.invitations.by_digest(ids.digest(token)) if token else None
        if invitation is None or not invitation.pending(self._clock.now()):
            raise NotFound("this invitation link is not valid: it may have been used, cancelled or have expired")
        return invitation


def _members(uow: UnitOfWork, unit_id: str) -> list[Member]:
    return [Member(p.id, p.email, p.name, m.role) for m, p in uow.memberships.with_people(unit_id)]
