"""Repositories for organizational units: the units, their members and invitations, and what the dashboard
reads about a unit's applications (connected accounts, recent push deliveries)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Insert, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from horae.db import tables as t
from horae.db.repositories import _Repository
from horae.domain.model import Account, Application, Person
from horae.domain.organizations import Invitation, Membership, OrganizationalUnit
from horae.domain.push import Delivery


class OrganizationalUnitRepository(_Repository[OrganizationalUnit]):
    entity = OrganizationalUnit

    def add_if_missing(self, unit: OrganizationalUnit) -> None:
        """Insert the unit unless one with its id exists; safe when two processes race to make it."""
        values = {"id": unit.id, "name": unit.name, "created_at": unit.created_at}
        insert: Insert
        if self.session.get_bind().dialect.name == "postgresql":
            insert = postgresql.insert(t.organizational_units).values(values).on_conflict_do_nothing()
        else:
            insert = sqlite.insert(t.organizational_units).values(values).on_conflict_do_nothing()
        self.session.execute(insert)

    def list_all(self) -> list[OrganizationalUnit]:
        c = t.organizational_units.c
        return list(self.session.scalars(select(OrganizationalUnit).order_by(c.created_at, c.id)))

    def many(self, unit_ids: list[str]) -> list[OrganizationalUnit]:
        c = t.organizational_units.c
        query = select(OrganizationalUnit).where(c.id.in_(unit_ids)).order_by(c.name, c.id)
        return list(self.session.scalars(query))

    def lock(self, unit_id: str) -> None:
        """Hold the unit's row until the transaction ends, so two Owners changing roles at once decide one
        after the other and cannot both step down (SQLite's write transactions are serial anyway)."""
        self.session.execute(
            select(t.organizational_units.c.id).where(t.organizational_units.c.id == unit_id).with_for_update()
        )

    def applications(self, unit_id: str) -> list[Application]:
        c = t.applications.c
        query = select(Application).where(c.unit_id == unit_id).order_by(c.created_at, c.id)
        return list(self.session.scalars(query))


class MembershipRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, item: Membership) -> None:
        self.session.add(item)

    def of(self, unit_id: str, person_id: str) -> Membership | None:
        return self.session.get(Membership, (unit_id, person_id))

    def for_unit(self, unit_id: str) -> list[Membership]:
        c = t.unit_memberships.c
        return list(self.session.scalars(select(Membership).where(c.unit_id == unit_id)))

    def for_person(self, person_id: str) -> list[Membership]:
        c = t.unit_memberships.c
        return list(self.session.scalars(select(Membership).where(c.person_id == person_id)))

    def with_people(self, unit_id: str) -> list[tuple[Membership, Person]]:
        """The unit's members with who they are, by email."""
        c = t.unit_memberships.c
        query = (
            select(Membership, Person)
            .join(t.people, t.people.c.id == c.person_id)
            .where(c.unit_id == unit_id)
            .order_by(t.people.c.email)
        )
        return [(m, p) for m, p in self.session.execute(query)]

    def remove(self, item: Membership) -> None:
        c = t.unit_memberships.c
        self.session.execute(delete(t.unit_memberships).where(c.unit_id == item.unit_id, c.person_id == item.person_id))
        self.session.expire_all()


class InvitationRepository(_Repository[Invitation]):
    entity = Invitation

    def by_digest(self, token_digest: str) -> Invitation | None:
        query = select(Invitation).where(t.unit_invitations.c.token_digest == token_digest)
        return self.session.scalars(query).first()

    def pending_for_unit(self, unit_id: str, now: datetime) -> list[Invitation]:
        c = t.unit_invitations.c
        query = (
            select(Invitation)
            .where(c.unit_id == unit_id, c.accepted_at.is_(None), c.cancelled_at.is_(None), c.expires_at > now)
            .order_by(c.created_at, c.id)
        )
        return list(self.session.scalars(query))

    def accept(self, invitation_id: str, person_id: str, now: datetime) -> bool:
        """Mark the invitation used in one statement; False when it was used, cancelled or expired meanwhile."""
        c = t.unit_invitations.c
        result = self.session.execute(
            update(t.unit_invitations)
            .where(c.id == invitation_id, c.accepted_at.is_(None), c.cancelled_at.is_(None), c.expires_at > now)
            .values(accepted_at=now, accepted_by=person_id)
        )
        self.session.expire_all()
        return bool(result.rowcount)  # type: ignore[attr-defined]


class ApplicationActivityRepository:
    """What the dashboard shows about one application's use: who connected, and what was pushed."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def connected_accounts(self, application_id: str, limit: int) -> list[Account]:
        """Accounts with an unrevoked grant to the application, most recently granted first."""
        g = t.grants.c
        latest = (
            select(g.account_id, func.max(g.created_at).label("granted_at"))
            .where(g.application_id == application_id, g.revoked_at.is_(None))
            .group_by(g.account_id)
            .subquery()
        )
        query = (
            select(Account)
            .join(latest, latest.c.account_id == t.accounts.c.id)
            .order_by(latest.c.granted_at.desc(), t.accounts.c.id)
            .limit(limit)
        )
        return list(self.session.scalars(query))

    def recent_deliveries(self, application_id: str, limit: int) -> list[Delivery]:
        c = t.deliveries.c
        query = select(Delivery).where(c.application_id == application_id).order_by(c.created_at.desc(), c.id)
        return list(self.session.scalars(query.limit(limit)))
