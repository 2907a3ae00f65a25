"""Repositories: the queries the services need, one class per aggregate, over one Session."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Generic, TypeVar

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from horae.db import tables as t
from horae.domain import model

E = TypeVar("E")


class _Repository(Generic[E]):
    entity: type[E]

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, item: E) -> None:
        self.session.add(item)

    def get(self, key: str) -> E | None:
        return self.session.get(self.entity, key)


class PersonRepository(_Repository[model.Person]):
    entity = model.Person

    def by_email(self, email: str) -> model.Person | None:
        if "\x00" in email:  # no stored address has one, and PostgreSQL refuses NUL in a query's text
            return None
        return self.session.scalars(select(model.Person).where(t.people.c.email == email.lower())).first()


class AccountRepository(_Repository[model.Account]):
    entity = model.Account

    def by_person(self, person_id: str) -> model.Account | None:
        return self.session.scalars(select(model.Account).where(t.accounts.c.person_id == person_id)).first()

    def by_external_id(self, application_id: str, external_id: str) -> model.Account | None:
        c = t.accounts.c
        query = select(model.Account).where(c.application_id == application_id, c.external_id == external_id)
        return self.session.scalars(query).first()

    def many(self, account_ids: Sequence[str]) -> list[model.Account]:
        return list(self.session.scalars(select(model.Account).where(t.accounts.c.id.in_(account_ids))))


class ProfileRepository(_Repository[model.Profile]):
    entity = model.Profile

    def for_account(self, account_id: str) -> list[model.Profile]:
        query = select(model.Profile).where(t.profiles.c.account_id == account_id).order_by(t.profiles.c.created_at)
        return list(self.session.scalars(query))

    def for_accounts(self, account_ids: Sequence[str]) -> list[model.Profile]:
        return list(self.session.scalars(select(model.Profile).where(t.profiles.c.account_id.in_(account_ids))))


class CalendarRepository(_Repository[model.Calendar]):
    entity = model.Calendar

    def for_account(self, account_id: str) -> list[model.Calendar]:
        query = (
            select(model.Calendar)
            .where(t.calendars.c.account_id == account_id)
            .order_by(t.calendars.c.created_at, t.calendars.c.id)
        )
        return list(self.session.scalars(query))

    def for_accounts(self, account_ids: Sequence[str]) -> list[model.Calendar]:
        query = select(model.Calendar).where(t.calendars.c.account_id.in_(account_ids))
        return list(self.session.scalars(query.order_by(t.calendars.c.created_at, t.calendars.c.id)))


class ApplicationRepository(_Repository[model.Application]):
    entity = model.Application

    def by_client_id(self, client_id: str) -> model.Application | None:
        query = select(model.Application).where(t.applications.c.client_id == client_id)
        return self.session.scalars(query).first()

    def list_all(self) -> list[model.Application]:
        return list(self.session.scalars(select(model.Application).order_by(t.applications.c.created_at)))


class ClientSecretRepository(_Repository[model.ClientSecret]):
    entity = model.ClientSecret

    def by_digest(self, secret_digest: str) -> model.ClientSecret | None:
        query = select(model.ClientSecret).where(t.client_secrets.c.secret_digest == secret_digest)
        return self.session.scalars(query).first()

    def for_application(self, application_id: str) -> list[model.ClientSecret]:
        query = (
            select(model.ClientSecret)
            .where(t.client_secrets.c.application_id == application_id)
            .order_by(t.client_secrets.c.created_at)
        )
        return list(self.session.scalars(query))


class GrantRepository(_Repository[model.Grant]):
    entity = model.Grant

    def active_for(self, account_id: str, application_id: str) -> list[model.Grant]:
        query = select(model.Grant).where(
            t.grants.c.account_id == account_id,
            t.grants.c.application_id == application_id,
            t.grants.c.revoked_at.is_(None),
        )
        return list(self.session.scalars(query))

    def active_for_accounts(self, account_ids: Sequence[str], application_id: str) -> list[model.Grant]:
        query = select(model.Grant).where(
            t.grants.c.account_id.in_(account_ids),
            t.grants.c.application_id == application_id,
            t.grants.c.revoked_at.is_(None),
        )
        return list(self.session.scalars(query))


class AuthorizationCodeRepository(_Repository[model.AuthorizationCode]):
    entity = model.AuthorizationCode

    def consume(self, code_digest: str, now: datetime) -> bool:
        """Mark the code used in one statement; False when it was already used (a replay)."""
        result = self.session.execute(
            update(t.authorization_codes)
            .where(t.authorization_codes.c.code_digest == code_digest, t.authorization_codes.c.used_at.is_(None))
            .values(used_at=now)
        )
        self.session.expire_all()
        return bool(result.rowcount)  # type: ignore[attr-defined]


class TokenRepository(_Repository[model.Token]):
    entity = model.Token

    def revoke_grant(self, grant_id: str, now: datetime) -> None:
        """Revoke every token issued under a grant, and the grant itself."""
        self.session.execute(
            update(t.tokens)
            .where(t.tokens.c.grant_id == grant_id, t.tokens.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        self.session.execute(
            update(t.grants).where(t.grants.c.id == grant_id, t.grants.c.revoked_at.is_(None)).values(revoked_at=now)
        )
        self.session.expire_all()


class WebSessionRepository(_Repository[model.WebSession]):
    entity = model.WebSession

    def delete(self, id_digest: str) -> None:
        item = self.get(id_digest)
        if item is not None:
            self.session.delete(item)

    def delete_for_person(self, person_id: str, keep: str | None = None) -> int:
        """End every session of the person except `keep` (a session id digest); returns how many ended."""
        c = t.web_sessions.c
        condition = c.person_id == person_id
        if keep is not None:
            condition = condition & (c.id_digest != keep)
        result = self.session.execute(delete(t.web_sessions).where(condition))
        return int(result.rowcount)  # type: ignore[attr-defined]


class JobRepository(_Repository[model.Job]):
    entity = model.Job

    def __init__(self, session: Session) -> None:
        super().__init__(session)
        self.added: list[str] = []

    def add(self, item: model.Job) -> None:
        super().add(item)
        self.added.append(item.id)

    def claim(self, job_id: str, now: datetime, lease: timedelta) -> bool:
        """Take a due job for this worker: pending and due, or running with a lapsed lease (a dead worker)."""
        c = t.jobs.c
        result = self.session.execute(
            update(t.jobs)
            .where(
                c.id == job_id,
                or_(
                    (c.status == "pending") & (c.run_after <= now),
                    (c.status == "running") & (c.locked_until < now),
                ),
            )
            .values(status="running", locked_until=now + lease, attempts=c.attempts + 1)
        )
        self.session.expire_all()
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def finish(self, job_id: str, attempt: int, now: datetime, outcome: dict[str, object]) -> bool:
        """Record how attempt number `attempt` ended, only if that attempt still holds the job.
        False means another worker took it over (the lease lapsed): this attempt must not count."""
        c = t.jobs.c
        result = self.session.execute(
            update(t.jobs)
            .where(c.id == job_id, c.status == "running", c.attempts == attempt)
            .values(locked_until=None, **outcome)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def due(self, now: datetime, limit: int) -> Sequence[str]:
        """Ids of jobs that should run now: due pending ones and those whose worker died."""
        c = t.jobs.c
        query = (
            select(c.id)
            .where(
                or_((c.status == "pending") & (c.run_after <= now), (c.status == "running") & (c.locked_until < now))
            )
            .order_by(c.run_after)
            .limit(limit)
        )
        return list(self.session.scalars(query))

    def counts(self) -> dict[str, int]:
        """How many jobs are in each status (for operators and tests)."""
        from sqlalchemy import func

        rows = self.session.execute(select(t.jobs.c.status, func.count()).group_by(t.jobs.c.status))
        return {status: count for status, count in rows}
