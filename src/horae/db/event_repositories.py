"""Repositories for events, push channels and deliveries."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import Text, and_, cast, func, or_, select

from horae.db import tables as t
from horae.db.repositories import _Repository
from horae.domain.events import Event
from horae.domain.push import Channel, Delivery, DeliveryAttempt


class EventRepository(_Repository[Event]):
    entity = Event

    def managed(self, calendar_id: str, application_id: str, event_id: str) -> Event | None:
        """The event an application manages under its own `event_id` in one calendar."""
        c = t.events.c
        query = select(Event).where(
            c.calendar_id == calendar_id, c.application_id == application_id, c.event_id == event_id
        )
        return self.session.scalars(query).first()

    def by_uid(self, event_uid: str) -> Event | None:
        return self.session.scalars(select(Event).where(t.events.c.event_uid == event_uid)).first()

    def in_calendars(self, calendar_ids: Sequence[str], include_deleted: bool = False) -> list[Event]:
        c = t.events.c
        query = select(Event).where(c.calendar_id.in_(calendar_ids))
        if not include_deleted:
            query = query.where(c.deleted.is_(False))
        return list(self.session.scalars(query))

    def window(
        self,
        calendar_ids: Sequence[str],
        start: datetime,
        end: datetime,
        first_day: date,
        last_day: date,
        include_deleted: bool,
        include_moved: bool,
    ) -> list[Event]:
        """Events overlapping [start, end) (timed), or [first_day, last_day) (all-day); and series
        masters, which the caller expands."""
        c = t.events.c
        timed = and_(c.all_day.is_(False), c.starts_at < end, c.ends_at >= start)
        if include_moved:
            timed = or_(timed, and_(c.previous_starts_at < end, c.previous_ends_at >= start))
        all_day = and_(c.all_day.is_(True), c.start_date < last_day, c.end_date > first_day)
        # A series can have instances in the window only if it started before the window ends. `None` is
        # stored as JSON null, so "has a rule" means neither SQL NULL nor the JSON text `null`.
        has_rule = and_(c.recurrence.is_not(None), cast(c.recurrence, Text) != "null")
        started = or_(and_(c.all_day.is_(False), c.starts_at < end), and_(c.all_day.is_(True), c.start_date < last_day))
        query = select(Event).where(c.calendar_id.in_(calendar_ids), or_(timed, all_day, and_(has_rule, started)))
        if not include_deleted:
            query = query.where(c.deleted.is_(False))
        return list(self.session.scalars(query))

    def managed_by(self, calendar_ids: Sequence[str], application_id: str, include_deleted: bool) -> list[Event]:
        """Every event one application manages in these calendars, whenever it is."""
        c = t.events.c
        query = select(Event).where(
            c.calendar_id.in_(calendar_ids), c.application_id == application_id, c.event_id.is_not(None)
        )
        if not include_deleted:
            query = query.where(c.deleted.is_(False))
        return list(self.session.scalars(query))

    def changed_since(self, calendar_ids: Sequence[str], since: datetime) -> list[Event]:
        c = t.events.c
        return list(self.session.scalars(select(Event).where(c.calendar_id.in_(calendar_ids), c.updated_at >= since)))


class ChannelRepository(_Repository[Channel]):
    entity = Channel

    def open_for_account(self, account_id: str) -> list[Channel]:
        c = t.channels.c
        query = select(Channel).where(c.account_id == account_id, c.closed_at.is_(None)).order_by(c.created_at)
        return list(self.session.scalars(query))

    def count_open(self, account_id: str) -> int:
        c = t.channels.c
        query = select(func.count()).select_from(t.channels).where(c.account_id == account_id, c.closed_at.is_(None))
        return int(self.session.scalar(query) or 0)

    def lock_account(self, account_id: str) -> None:
        """Hold the account's row until the transaction ends, so concurrent channel creations for one
        account count one after another (SQLite's write transactions are serial anyway)."""
        self.session.execute(select(t.accounts.c.id).where(t.accounts.c.id == account_id).with_for_update())

    def for_application(self, account_id: str, application_id: str, include_closed: bool) -> list[Channel]:
        """One application's channels on one account, oldest first; closed ones only when asked."""
        c = t.channels.c
        query = select(Channel).where(c.account_id == account_id, c.application_id == application_id)
        if not include_closed:
            query = query.where(c.closed_at.is_(None))
        return list(self.session.scalars(query.order_by(c.created_at, c.id)))


class DeliveryRepository(_Repository[Delivery]):
    entity = Delivery

    def for_channel(self, channel_id: str, limit: int) -> list[Delivery]:
        c = t.deliveries.c
        query = select(Delivery).where(c.channel_id == channel_id).order_by(c.created_at.desc(), c.id).limit(limit)
        return list(self.session.scalars(query))

    def attempts(self, delivery_ids: Sequence[str]) -> list[DeliveryAttempt]:
        c = t.delivery_attempts.c
        query = select(DeliveryAttempt).where(c.delivery_id.in_(delivery_ids)).order_by(c.attempted_at)
        return list(self.session.scalars(query))

    def add_attempt(self, attempt: DeliveryAttempt) -> None:
        self.session.add(attempt)
