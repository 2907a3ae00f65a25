"""Repositories for managed availability: an account's availability rules and available periods."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, and_, delete, func, or_, select
from sqlalchemy.orm import Session

from horae.db import tables as t
from horae.domain.managed import AvailabilityRule, AvailablePeriod


class _AccountScoped:
    def __init__(self, session: Session) -> None:
        self.session = session

    def lock_account(self, account_id: str) -> None:
        """Hold the account's row until the transaction ends, so that concurrent writes for one account
        (a first upsert of one id, counting against a limit) run one after another (SQLite's write
        transactions are serial anyway)."""
        self.session.execute(select(t.accounts.c.id).where(t.accounts.c.id == account_id).with_for_update())


class AvailabilityRuleRepository(_AccountScoped):
    def add(self, item: AvailabilityRule) -> None:
        self.session.add(item)

    def for_account(self, account_id: str) -> list[AvailabilityRule]:
        """The account's rules, oldest first."""
        c = t.availability_rules.c
        query = select(AvailabilityRule).where(c.account_id == account_id).order_by(c.created_at, c.rule_id)
        return list(self.session.scalars(query))

    def for_accounts(self, account_ids: Sequence[str]) -> list[AvailabilityRule]:
        """Several accounts' rules at once (availability reads every managed member together), oldest first."""
        c = t.availability_rules.c
        query = select(AvailabilityRule).where(c.account_id.in_(account_ids)).order_by(c.created_at, c.rule_id)
        return list(self.session.scalars(query))

    def get_for(self, account_id: str, rule_id: str) -> AvailabilityRule | None:
        return self.session.get(AvailabilityRule, (account_id, rule_id))

    def count(self, account_id: str) -> int:
        c = t.availability_rules.c
        query = select(func.count()).select_from(t.availability_rules).where(c.account_id == account_id)
        return int(self.session.scalar(query) or 0)

    def delete(self, account_id: str, rule_id: str) -> bool:
        """Delete one rule; False when the account has none by that id."""
        found = self.get_for(account_id, rule_id)
        if found is None:
            return False
        self.session.delete(found)
        return True


class AvailablePeriodRepository(_AccountScoped):
    def add(self, item: AvailablePeriod) -> None:
        self.session.add(item)

    def for_account(self, account_id: str, start: datetime | None, end: datetime | None) -> list[AvailablePeriod]:
        """The account's periods overlapping `[start, end)` (either bound may be open), by start."""
        c = t.available_periods.c
        query = select(AvailablePeriod).where(*_overlapping(account_id, start, end))
        return list(self.session.scalars(query.order_by(c.starts_at, c.period_id)))

    def for_accounts(
        self, account_ids: Sequence[str], start: datetime | None, end: datetime | None
    ) -> list[AvailablePeriod]:
        """Several accounts' periods overlapping `[start, end)` at once, by start."""
        c = t.available_periods.c
        query = select(AvailablePeriod).where(*_overlapping(account_ids, start, end))
        return list(self.session.scalars(query.order_by(c.starts_at, c.period_id)))

    def page(
        self,
        account_id: str,
        start: datetime | None,
        end: datetime | None,
        after: tuple[datetime, str] | None,
        limit: int,
    ) -> tuple[list[AvailablePeriod], int]:
        """The first `limit` periods overlapping `[start, end)` after the (starts_at, period_id) cursor,
        in that order, and how many there are after the cursor in all."""
        c = t.available_periods.c
        conditions = _overlapping(account_id, start, end)
        if after is not None:
            conditions.append(or_(c.starts_at > after[0], and_(c.starts_at == after[0], c.period_id > after[1])))
        query = select(AvailablePeriod).where(*conditions).order_by(c.starts_at, c.period_id).limit(limit)
        found = list(self.session.scalars(query))
        if len(found) < limit:
            return found, len(found)
        counted = select(func.count()).select_from(t.available_periods).where(*conditions)
        return found, int(self.session.scalar(counted) or 0)

    def get_for(self, account_id: str, period_id: str) -> AvailablePeriod | None:
        return self.session.get(AvailablePeriod, (account_id, period_id))

    def delete(self, account_id: str, period_id: str) -> bool:
        """Delete one period; False when the account has none by that id."""
        found = self.get_for(account_id, period_id)
        if found is None:
            return False
        self.session.delete(found)
        return True

    def delete_all(self, account_id: str) -> int:
        """Delete every period of the account; returns how many there were."""
        result = self.session.execute(delete(t.available_periods).where(t.available_periods.c.account_id == account_id))
        self.session.expire_all()
        return int(result.rowcount)  # type: ignore[attr-defined]


def _overlapping(
    account: str | Sequence[str], start: datetime | None, end: datetime | None
) -> list[ColumnElement[bool]]:
    c = t.available_periods.c
    owned = c.account_id == account if isinstance(account, str) else c.account_id.in_(account)
    conditions: list[ColumnElement[bool]] = [owned]
    if start is not None:
        conditions.append(c.ends_at > start)
    if end is not None:
        conditions.append(c.starts_at < end)
    return conditions
