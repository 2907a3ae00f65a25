"""Repository for Real-Time Scheduling and Sequencing links. What must hold when many invitees book at
once is decided in the database: the hosts' account rows are locked for the booking transaction, and a
link leaves `open` in one conditional UPDATE."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from horae.db import tables as t
from horae.db.repositories import _Repository
from horae.domain.scheduling import OPEN, SchedulingLink


class SchedulingLinkRepository(_Repository[SchedulingLink]):
    entity = SchedulingLink

    def by_token_digest(self, token_digest: str) -> SchedulingLink | None:
        query = select(SchedulingLink).where(t.scheduling_links.c.token_digest == token_digest)
        return self.session.scalars(query.execution_options(populate_existing=True)).first()

    def lock_hosts(self, account_ids: Sequence[str]) -> None:
        """Hold the hosts' account rows until the transaction ends, always in id order (no deadlock): a
        second booking for any of them waits here and then reads the first one's events. (SQLite takes
        its one write lock when the transaction begins, which serializes bookings already.)"""
        if not account_ids:
            return
        c = t.accounts.c
        query = select(c.id).where(c.id.in_(sorted(set(account_ids)))).order_by(c.id).with_for_update()
        self.session.execute(query).all()

    def complete(self, link_id: str, now: datetime, booking: dict[str, Any]) -> bool:
        """Mark an open link completed with what was booked, in one statement; False when it was not open."""
        c = t.scheduling_links.c
        result = self.session.execute(
            update(t.scheduling_links)
            .where(c.id == link_id, c.status == OPEN)
            .values(status="completed", completed_at=now, booking=booking)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def mark_once(self, link_id: str, column: str, now: datetime) -> bool:
        """Set a once-only time (`no_times_suitable_at`, `no_times_displayed_at`) if unset; True the first time."""
        c = t.scheduling_links.c
        if column not in ("no_times_suitable_at", "no_times_displayed_at"):
            raise ValueError(column)
        target = c[column]
        result = self.session.execute(
            update(t.scheduling_links).where(c.id == link_id, target.is_(None)).values({column: now})
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]
