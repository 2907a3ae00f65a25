"""Repositories for Enterprise Connect: service accounts and their delegated-access requests."""

from __future__ import annotations

from sqlalchemy import select

from horae.db import tables as t
from horae.db.repositories import _Repository
from horae.domain.enterprise import GRANTED, DelegationRequest, ServiceAccount


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

    def lock_service_account(self, service_account_id: str) -> None:
        """Hold the service account's row until the transaction ends, so two workers granting the same new
        person decide one after the other and the second finds the first one's account."""
        self.session.execute(select(t.accounts.c.id).where(t.accounts.c.id == service_account_id).with_for_update())
