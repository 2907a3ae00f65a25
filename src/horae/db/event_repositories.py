"""Repositories for events, push channels and deliveries."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Integer,
    Select,
    Text,
    and_,
    bindparam,
    cast,
    exists,
    false,
    func,
    literal_column,
    or_,
    select,
    true,
    union_all,
)

from horae.db import tables as t
from horae.db.repositories import _Repository
from horae.domain.events import BusyRow, Event, SeriesRow
from horae.domain.paging import Selection, Window
from horae.domain.push import Channel, Delivery, DeliveryAttempt

K = TypeVar("K")


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

    # --- reads, one page at a time ---------------------------------------------------------------------

    def timed_page(
        self, selection: Selection, after: tuple[datetime, str] | None, limit: int
    ) -> tuple[list[Event], int]:
        """Timed events without a recurrence that the read shows after the cursor: the first `limit` in
        (starts_at, event_uid) order, and how many there are in all."""
        c = t.events.c
        uid = self._uid()

        def past(key: tuple[datetime, str]) -> ColumnElement[bool]:
            return and_(c.starts_at >= key[0], or_(c.starts_at > key[0], uid > key[1]))

        def key(event: Event) -> tuple[datetime, str]:
            assert event.starts_at is not None
            return event.starts_at, event.event_uid

        conditions = self._plain(selection, all_day=False)
        return self._page(conditions, (c.starts_at, uid), past, key, after, limit)

    def all_day_page(
        self, selection: Selection, after: tuple[date, str | None] | None, limit: int
    ) -> tuple[list[Event], int]:
        """All-day events without a recurrence that the read shows after the cursor (`paging.days_after`):
        the first `limit` in (start_date, event_uid) order, and how many there are in all."""
        c = t.events.c
        uid = self._uid()

        def past(key: tuple[date, str | None]) -> ColumnElement[bool]:
            day, last_uid = key
            if last_uid is None:
                return c.start_date > day
            return and_(c.start_date >= day, or_(c.start_date > day, uid > last_uid))

        def key(event: Event) -> tuple[date, str | None]:
            assert event.start_date is not None
            return event.start_date, event.event_uid

        conditions = self._plain(selection, all_day=True)
        return self._page(conditions, (c.start_date, uid), past, key, after, limit)

    def irregular(self, selection: Selection) -> list[Event]:
        """The stored events a read cannot page in SQL, for the caller to expand and test one by one: those
        with a recurrence (series masters, few, found through their partial index); and, when the reader's
        managed events are read whenever they are, events without a start."""
        c = t.events.c
        found = list(self.session.scalars(self._of(selection).where(_has_rule())))
        if selection.mine_anywhen:
            # One part each for timed and all-day events, so that each seeks its own index.
            timed = self._of(selection).where(c.all_day == false(), c.starts_at.is_(None), _no_rule())
            all_day = self._of(selection).where(c.all_day == true(), c.start_date.is_(None), _no_rule())
            found += self.session.scalars(select(Event).from_statement(union_all(timed, all_day)))
        return found

    def _of(self, selection: Selection) -> Select[Event]:
        c = t.events.c
        query = select(Event).where(c.calendar_id.in_(selection.calendar_ids))
        return query if selection.include_deleted else query.where(c.deleted == false())

    def _page(
        self,
        conditions: list[ColumnElement[bool]],
        order: tuple[ColumnElement[Any], ...],
        past: Callable[[K], ColumnElement[bool]],
        key: Callable[[Event], K],
        after: K | None,
        limit: int,
    ) -> tuple[list[Event], int]:
        """The first `limit` events without a recurrence after `after`, in `order`, and how many there are.

        The rows are read without testing for a recurrence, which PostgreSQL cannot estimate (the cast of
        a JSON column has no statistics) and which would then put it off walking the index in order and
        stopping early. Series masters among them (few) are dropped here, reading on past them if need be;
        the count, which reads every row anyway, tests it in SQL."""
        found: list[Event] = []
        resume = after
        while True:
            query = select(Event).where(*conditions)
            if resume is not None:
                query = query.where(past(resume))
            rows = list(self.session.scalars(query.order_by(*order).limit(limit)))
            found += [row for row in rows if row.recurrence is None]
            if len(rows) < limit or len(found) >= limit:
                break
            resume = key(rows[-1])
        if len(rows) < limit:  # every one of them was read
            return found[:limit], len(found)
        counted = select(func.count()).select_from(t.events).where(*conditions, _no_rule())
        if after is not None:
            counted = counted.where(past(after))
        return found[:limit], int(self.session.scalar(counted) or 0)

    def _uid(self) -> ColumnElement[str]:
        """event_uid, compared and ordered by code point as Python does (PostgreSQL's own collation may not)."""
        uid = t.events.c.event_uid
        return uid.collate("C") if self.session.get_bind().dialect.name == "postgresql" else uid

    @staticmethod
    def _mine(selection: Selection) -> ColumnElement[bool]:
        c = t.events.c
        return and_(c.event_id.is_not(None), c.application_id == selection.application_id)

    def _plain(self, selection: Selection, all_day: bool) -> list[ColumnElement[bool]]:
        """What a read asks of an event without a recurrence, all-day or timed, in SQL: the same tests the
        read service makes of each event (`_listed`, `_in_window`, `_wanted`). Whether it has a recurrence
        is for the caller to test."""
        c = t.events.c
        w = selection.window
        conditions: list[ColumnElement[bool]] = [c.calendar_id.in_(selection.calendar_ids), c.all_day == all_day]
        in_window: ColumnElement[bool]
        if all_day:
            conditions.append(c.start_date.is_not(None))
            in_window = and_(c.end_date.is_not(None), c.start_date < w.last_day, c.end_date > w.first_day)
        else:
            conditions.append(c.starts_at.is_not(None))
            in_window = and_(c.starts_at < w.end, c.ends_at >= w.start)
            if selection.include_moved:
                moved = and_(c.ends_at.is_not(None), c.previous_starts_at < w.end, c.previous_ends_at >= w.start)
                in_window = or_(in_window, moved)
        mine = self._mine(selection)
        conditions.append(or_(in_window, mine) if selection.mine_anywhen else in_window)
        if selection.mine == "hide":
            conditions.append(
                or_(c.event_id.is_(None), c.application_id.is_(None), c.application_id != selection.application_id)
            )
        elif selection.mine == "only":
            conditions.append(mine)
        if not selection.include_deleted:
            conditions.append(c.deleted == false())
        if selection.changed_since is not None:
            conditions.append(c.updated_at >= selection.changed_since)
            conditions.append(or_(c.changed_by.is_(None), c.changed_by != selection.application_id))
        if selection.busy_only:
            conditions.append(c.transparency != "transparent")
            conditions.append(c.participation_status != "declined")
            conditions.append(c.status != "cancelled")
        return conditions

    def busy(self, calendar_ids: Sequence[str], window: Window) -> tuple[list[BusyRow], list[SeriesRow]]:
        """What may make the calendars busy in the window: events without a recurrence as light rows (timed
        ones overlapping its instants, all-day ones its days), and series masters to expand. Free, declined,
        cancelled and deleted events are left out here; tentative ones are marked. Times come as epoch
        seconds computed in SQL: availability reads many thousands and parsing datetimes would dominate. Series
        come as references: their instances are usually in the caller's cache already."""
        c = t.events.c
        is_series = _has_rule().label("series")
        tentative = or_(c.participation_status == "tentative", c.status == "tentative").label("tentative")
        counted = and_(
            c.calendar_id.in_(calendar_ids),
            c.deleted == false(),
            c.transparency != "transparent",
            c.participation_status != "declined",
            c.status != "cancelled",
        )
        columns = (
            c.calendar_id,
            c.event_uid,
            c.event_id,
            c.application_id,
            c.all_day,
            self._epoch(c.starts_at),
            self._epoch(c.ends_at),
            c.start_date,
            c.end_date,
            tentative,
            is_series,
        )
        timed = select(*columns).where(
            counted, c.all_day == false(), c.starts_at < window.end, c.ends_at > window.start
        )
        days = select(*columns).where(
            counted, c.all_day == true(), c.start_date < window.last_day, c.end_date > window.first_day
        )
        rows = [BusyRow(*row[:10]) for part in (timed, days) for row in self.session.execute(part).all() if not row[10]]
        masters = select(
            c.id,
            c.calendar_id,
            c.event_uid,
            c.event_id,
            c.application_id,
            c.updated_at,
            func.length(cast(c.details, Text)),
            func.length(cast(c.recurrence, Text)),
            self._epoch(c.starts_at),
            self._epoch(c.ends_at),
            c.start_date,
            c.end_date,
        ).where(counted, _has_rule())
        found = self.session.execute(masters).all()
        return rows, [SeriesRow(row[0], row[1], row[2], row[3], row[4], tuple(row[5:])) for row in found]

    def many(self, event_ids: Sequence[str]) -> list[Event]:
        return list(self.session.scalars(select(Event).where(t.events.c.id.in_(event_ids))))

    def by_remote_ids(self, calendar_id: str, remote_ids: Sequence[str]) -> list[Event]:
        """The events of one calendar held in the named provider objects (deleted ones too), read in
        chunks so a long list stays under every database's parameter limit."""
        found: list[Event] = []
        c = t.events.c
        unique = list(dict.fromkeys(remote_ids))
        for start in range(0, len(unique), 500):
            chunk = unique[start : start + 500]
            found.extend(
                self.session.scalars(select(Event).where(c.calendar_id == calendar_id, c.remote_id.in_(chunk)))
            )
        return found

    def synced(self, calendar_id: str) -> list[Event]:
        """Every event of one calendar that a provider object holds (deleted ones too)."""
        c = t.events.c
        return list(self.session.scalars(select(Event).where(c.calendar_id == calendar_id, c.remote_id.is_not(None))))

    def _epoch(self, column: ColumnElement[Any]) -> ColumnElement[int]:
        if self.session.get_bind().dialect.name == "postgresql":
            return cast(func.extract("epoch", column), BigInteger)
        return cast(func.strftime("%s", column), Integer)

    def changed_since(self, calendar_ids: Sequence[str], since: datetime) -> list[Event]:
        c = t.events.c
        return list(self.session.scalars(select(Event).where(c.calendar_id.in_(calendar_ids), c.updated_at >= since)))


def _has_rule() -> ColumnElement[bool]:
    """`tables.HAS_RULE`, with its literal inline so that the partial index on it can serve the query."""
    return cast(t.events.c.recurrence, Text) != literal_column("'null'")


def _no_rule() -> ColumnElement[bool]:
    c = t.events.c
    return or_(c.recurrence.is_(None), cast(c.recurrence, Text) == literal_column("'null'"))


_ANY_OPEN = select(exists().where(t.channels.c.account_id == bindparam("account_id"), t.channels.c.closed_at.is_(None)))


class ChannelRepository(_Repository[Channel]):
    entity = Channel

    def open_for_account(self, account_id: str) -> list[Channel]:
        c = t.channels.c
        query = select(Channel).where(c.account_id == account_id, c.closed_at.is_(None)).order_by(c.created_at)
        return list(self.session.scalars(query))

    def any_open(self, account_id: str) -> bool:
        """Whether the account has an open channel: one indexed EXISTS, built once (every event write asks)."""
        return bool(self.session.scalar(_ANY_OPEN, {"account_id": account_id}))

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
