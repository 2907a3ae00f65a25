"""Repositories for Enterprise Connect (service accounts, delegated-access requests), the elevated calendar
permissions those accounts and people grant, and people's conferencing profiles."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from horae.db import tables as t
from horae.db.repositories import _Repository
from horae.domain.conferencing import ConferencingProfile
from horae.domain.enterprise import GRANTED, DelegationRequest, ServiceAccount
from horae.domain.permissions import CalendarPermission, PermissionRequest


class ServiceAccountRepository(_Repository[ServiceAccount]):
    entity = ServiceAccount


class DelegationRequestRepository(_Repository[DelegationRequest]):
    entity = DelegationRequest

    def granted_before(self, service_account_id: str, email: str) -> DelegationRequest | None:
        """The earliest granted request for this person through this service account: its account is theirs."""
        c = t.delegation_requests.c
        query = (
            select(DelegationRequest)
            .where(c.service_account_id == service_account_id, c.email == email, c.outcome == GRANTED)
            .order_by(c.created_at)
            .limit(1)
        )
        return self.session.scalars(query).first()

    def granted_to(self, account_id: str, application_id: str) -> DelegationRequest | None:
        """The request through which this application was granted this account, if any."""
        c = t.delegation_requests.c
        query = select(DelegationRequest).where(
            c.account_id == account_id, c.application_id == application_id, c.outcome == GRANTED
        )
        return self.session.scalars(query.order_by(c.created_at).limit(1)).first()

    def lock_service_account(self, service_account_id: str) -> None:
        """Hold the service account's row until the transaction ends, so two workers granting the same new
        person decide one after the other and the second finds the first one's account."""
        self.session.execute(select(t.accounts.c.id).where(t.accounts.c.id == service_account_id).with_for_update())


class CalendarPermissionRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def unrestricted(self, application_id: str, calendar_ids: Collection[str]) -> set[str]:
        """Which of `calendar_ids` the application has unrestricted access to."""
        if not calendar_ids:
            return set()
        c = t.calendar_permissions.c
        query = select(c.calendar_id).where(c.application_id == application_id, c.calendar_id.in_(list(calendar_ids)))
        return set(self.session.scalars(query))

    def grant(self, item: CalendarPermission) -> None:
        if self.session.get(CalendarPermission, (item.calendar_id, item.application_id)) is None:
            self.session.add(item)

    def revoke(self, application_id: str, calendar_ids: Collection[str]) -> None:
        c = t.calendar_permissions.c
        self.session.execute(
            delete(t.calendar_permissions).where(
                c.application_id == application_id, c.calendar_id.in_(list(calendar_ids))
            )
        )


class PermissionRequestRepository(_Repository[PermissionRequest]):
    entity = PermissionRequest


class ConferencingProfileRepository(_Repository[ConferencingProfile]):
    entity = ConferencingProfile

    def for_account(self, account_id: str) -> list[ConferencingProfile]:
        c = t.conferencing_profiles.c
        query = select(ConferencingProfile).where(c.account_id == account_id).order_by(c.created_at)
        return list(self.session.scalars(query))
