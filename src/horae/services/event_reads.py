"""Reading events and free/busy: filters, day boundaries in the reader's zone, recurring series expanded
into instances, and stable keyset paging behind signed page tokens."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, tzinfo

from horae.domain import paging, recurrence
from horae.domain.events import Event
from horae.domain.model import Calendar
from horae.domain.paging import SortKey, Window
from horae.domain.times import BadTime, parse_date, parse_instant, zone
from horae.errors import FieldError, InvalidRequest, NotFound, PermissionDenied
from horae.ports import Clock, UnitOfWorkFactory
from horae.services.oauth import AccessContext
from horae.services.read_models import FLAGS, Listed, Page, ReadQuery, Resolved

PAGE_SIZE = 100
DEFAULT_DAYS_BACK = 42
DEFAULT_DAYS_AHEAD = 201
EVENTS = "events"
FREE_BUSY = "free_busy"


class EventReadService:
    """Reads for `GET /v1/events` and `GET /v1/free_busy`, and the pages after their first."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, page_key: bytes, page_size: int = PAGE_SIZE) -> None:
        self._uow = uow
        self._clock = clock
        self._page_key = page_key
        self.page_size = page_size

    # --- entry points ----------------------------------------------------------------------------

    def events(self, ctx: AccessContext, query: ReadQuery) -> Page:
        _may_read_events(ctx, query.only_managed)
        return self._page(ctx, self.resolve(query, EVENTS), None, 1)

    def free_busy(self, ctx: AccessContext, query: ReadQuery) -> Page:
        ctx.require("read_free_busy")
        plain = replace(query, include_deleted=False, include_moved=False, only_managed=False)
        return self._page(ctx, self.resolve(plain, FREE_BUSY), None, 1)

    def next_page(self, ctx: AccessContext, kind: str, token: str) -> Page:
        """The page a `next_page` token names; NotFound for tokens that are not ours, or not the caller's."""
        state = paging.unseal(token, self._page_key)
        if state is None or state.get("a") != ctx.account_id or state.get("app") != ctx.application_id:
            raise NotFound("no such page")
        query = Resolved.from_state(state.get("q") or {})
        cursor = paging.key_of(state.get("c"))
        number = state.get("n")
        if query is None or query.kind != kind or cursor is None or not isinstance(number, int) or number < 2:
            raise NotFound("no such page")
        if kind == EVENTS:
            _may_read_events(ctx, query.only_managed)
        else:
            ctx.require("read_free_busy")
        return self._page(ctx, query, cursor, number)

    # --- the query -------------------------------------------------------------------------------

    def resolve(self, query: ReadQuery, kind: str) -> Resolved:
        """Check the parameters and fix the window: InvalidRequest names each bad parameter."""
        problems: dict[str, list[FieldError]] = {}
        tzid = "Etc/UTC" if query.tzid is None else query.tzid
        reader_zone: tzinfo
        try:
            reader_zone = zone(tzid)
        except BadTime as exc:
            problems["tzid"] = [FieldError("errors.invalid_tzid", str(exc))]
            reader_zone = UTC
        start = _bound(query.start, "from", problems)
        end = _bound(query.end, "to", problems)
        last_modified = None
        if query.last_modified is not None:
            try:
                last_modified = parse_instant(query.last_modified)
            except (BadTime, OverflowError):
                problems["last_modified"] = [
                    FieldError("errors.invalid_time", "last_modified must be a time like 2026-11-24T09:00:00Z")
                ]
        if query.calendar_ids is not None and not all(c.strip() for c in query.calendar_ids):
            problems["calendar_ids"] = [FieldError("errors.invalid", "calendar_ids must not hold empty values")]
        if problems:
            raise InvalidRequest(problems)
        window = _window(start, end, reader_zone, paging.local_date(self._clock.now(), reader_zone))
        if window is None:
            raise InvalidRequest.single("to", "errors.before_from", "to must be after from")
        return Resolved(
            kind=kind,
            tzid=tzid,
            window=window,
            managed_unbounded=start is None and end is None,
            last_modified=last_modified,
            calendar_ids=tuple(dict.fromkeys(query.calendar_ids)) if query.calendar_ids is not None else None,
            **{name: bool(getattr(query, name)) for name in FLAGS},
        )

    # --- reading ---------------------------------------------------------------------------------

    def _page(self, ctx: AccessContext, query: Resolved, cursor: SortKey | None, number: int) -> Page:
        """One page after `cursor`. Events without a recurrence are paged in SQL, timed and all-day ones
        apart (they sort on different columns), each query ordered, cut after the cursor and limited to a
        page and one; series masters are few and expanded here. The three are merged on the sort key."""
        limit = self.page_size + 1
        with self._uow() as uow:
            calendars = {c.id: c for c in uow.calendars.for_account(ctx.account_id)}
            if query.calendar_ids is None:
                chosen = [c for c in calendars.values() if not c.deleted]
            elif cursor is None:
                unknown = [c for c in query.calendar_ids if c not in calendars]
                if unknown:
                    raise InvalidRequest.single(
                        "calendar_ids", "errors.not_found", f"unknown calendars: {', '.join(unknown)}"
                    )
                chosen = [calendars[c] for c in query.calendar_ids]
            else:  # a later page: calendars gone since the first page are simply skipped
                chosen = [calendars[c] for c in query.calendar_ids if c in calendars]
            selection = _selection(ctx, query, tuple(c.id for c in chosen))
            day_cursor = paging.days_after(cursor, query.zone) if cursor is not None else None
            timed, timed_count = uow.events.timed_page(selection, cursor, limit)
            all_day, all_day_count = uow.events.all_day_page(selection, day_cursor, limit)
            irregular = uow.events.irregular(selection)
        expanded = [
            item for event in irregular for item in self._listed(ctx, query, event, calendars[event.calendar_id])
        ]
        paged = [
            item for event in timed + all_day for item in self._listed(ctx, query, event, calendars[event.calendar_id])
        ]
        if cursor is not None:
            expanded = [item for item in expanded if item.sort_key > cursor]
            paged = [item for item in paged if item.sort_key > cursor]
        items = sorted(paged + expanded, key=lambda item: item.sort_key)
        shown = items[: self.page_size]
        rest = 0
        if len(items) > self.page_size:  # the counts are separate statements: never below what was found
            rest = max(timed_count + all_day_count + len(expanded) - len(shown), len(items) - len(shown))
        token = None
        if rest:
            state = {
                "a": ctx.account_id,
                "app": ctx.application_id,
                "q": query.to_state(),
                "c": paging.cursor_of(shown[-1].sort_key),
                "n": number + 1,
            }
            token = paging.seal(state, self._page_key)
        return Page(query, shown, number, number + math.ceil(rest / self.page_size), token)

    def _listed(self, ctx: AccessContext, query: Resolved, event: Event, calendar: Calendar) -> Iterable[Listed]:
        mine = event.managed and event.application_id == ctx.application_id
        if mine and not (query.include_managed or query.only_managed):
            return
        if query.only_managed and not mine:
            return
        if event.deleted and not query.include_deleted:
            return
        reader_zone = query.zone
        if recurrence.is_series(event):
            window = query.window
            if mine and query.managed_unbounded:
                window = _wide_window(window, reader_zone)
            for instance in recurrence.instances(event, window, query.include_moved):
                item = _instance_item(event, calendar, instance, mine, reader_zone)
                if _wanted(ctx, query, item):
                    yield item
            return
        if not (mine and query.managed_unbounded) and not _in_window(event, query):
            return
        item = Listed(
            event=event,
            calendar=calendar,
            event_uid=event.event_uid,
            starts_at=event.starts_at,
            ends_at=event.ends_at,
            start_date=event.start_date if event.all_day else None,
            end_date=event.end_date if event.all_day else None,
            start_tzid=event.start_tzid,
            end_tzid=event.end_tzid,
            deleted=event.deleted,
            updated_at=event.updated_at,
            changed_by=event.changed_by,
            managed_by_caller=mine,
            sort_key=_sort_key(event.all_day, event.starts_at, event.start_date, event.event_uid, reader_zone),
        )
        if _wanted(ctx, query, item):
            yield item


def _selection(ctx: AccessContext, query: Resolved, calendar_ids: tuple[str, ...]) -> paging.Selection:
    """The part of a read the database can test: what `_listed` and `_wanted` ask of a stored event."""
    mine = "only" if query.only_managed else "also" if query.include_managed else "hide"
    return paging.Selection(
        calendar_ids=calendar_ids,
        window=query.window,
        application_id=ctx.application_id,
        mine=mine,
        mine_anywhen=query.managed_unbounded and mine != "hide",
        include_deleted=query.include_deleted,
        include_moved=query.include_moved,
        changed_since=query.last_modified,
        busy_only=query.kind == FREE_BUSY and not query.include_free,
    )


def _may_read_events(ctx: AccessContext, only_managed: bool) -> None:
    """`read_events`, or, for only the caller's own events, `create_event` is enough."""
    if "read_events" in ctx.permissions:
        return
    if only_managed and "create_event" in ctx.permissions:
        return
    raise PermissionDenied("the read_events scope is required")


@dataclass(frozen=True)
class _Bound:
    day: date | None
    instant: datetime | None


def _bound(text: str | None, name: str, problems: dict[str, list[FieldError]]) -> _Bound | None:
    """`from` or `to`: a date (the reader's local midnight) or, as pycronofy may send, a time."""
    if text is None:
        return None
    text = text.strip()
    try:
        return _Bound(parse_date(text), None) if len(text) == 10 else _Bound(None, parse_instant(text))
    except BadTime as exc:
        problems[name] = [FieldError("errors.invalid_date", f"{name}: {exc}")]
    except OverflowError:
        problems[name] = [FieldError("errors.invalid_date", f"{name}: {text!r} is out of range")]
    return None


def _window(start: _Bound | None, end: _Bound | None, reader_zone: tzinfo, today: date) -> Window | None:
    """The window the bounds describe; a missing bound defaults to 42 days before, or 201 days after, the
    later of today and the other bound. None when `to` is not after `from`."""
    if start is not None and end is not None:
        if start.day is not None and end.day is not None:
            return paging.window_of_days(start.day, end.day, reader_zone) if end.day > start.day else None
        first = _instant(start, reader_zone)
        last = _instant(end, reader_zone)
        return _mixed(start, end, first, last, reader_zone) if last > first else None
    if start is None and end is None:
        back, ahead = paging.shift_day(today, -DEFAULT_DAYS_BACK), paging.shift_day(today, DEFAULT_DAYS_AHEAD)
        return paging.window_of_days(back, ahead, reader_zone)
    if start is not None:
        anchor = max(today, start.day or paging.local_date(_instant(start, reader_zone), reader_zone))
        end = _Bound(paging.shift_day(anchor, DEFAULT_DAYS_AHEAD), None)
    else:
        assert end is not None
        anchor = min(today, end.day or paging.local_date(_instant(end, reader_zone), reader_zone))
        start = _Bound(paging.shift_day(anchor, -DEFAULT_DAYS_BACK), None)
    # None only when the default bound was clamped at year 1 or 9999: then there is nothing to read.
    return _window(start, end, reader_zone, today) or paging.window_of_days(anchor, anchor, reader_zone)


def _instant(bound: _Bound, reader_zone: tzinfo) -> datetime:
    if bound.instant is not None:
        return bound.instant
    assert bound.day is not None
    return paging.day_start(bound.day, reader_zone)


def _mixed(start: _Bound, end: _Bound, first: datetime, last: datetime, reader_zone: tzinfo) -> Window:
    """A window with at least one bound given as a time: its days are the local days it touches."""
    by_instants = paging.window_of_instants(first, last, reader_zone)
    return Window(
        first,
        last,
        start.day if start.day is not None else by_instants.first_day,
        end.day if end.day is not None else by_instants.last_day,
    )


def _wide_window(window: Window, reader_zone: tzinfo) -> Window:
    """Managed series read without from/to: instances from the default window's start to ten years on."""
    last = max(window.last_day, paging.shift_day(window.first_day, 3653))
    return paging.window_of_days(window.first_day, last, reader_zone)


def _in_window(event: Event, query: Resolved) -> bool:
    w = query.window
    if event.all_day:
        return (
            event.start_date is not None and event.end_date is not None and w.has_days(event.start_date, event.end_date)
        )
    if event.starts_at is None or event.ends_at is None:
        return False
    if w.has_timed(event.starts_at, event.ends_at):
        return True
    was = (event.previous_starts_at, event.previous_ends_at)
    return query.include_moved and was[0] is not None and was[1] is not None and w.has_timed(was[0], was[1])


def _wanted(ctx: AccessContext, query: Resolved, item: Listed) -> bool:
    if item.deleted and not query.include_deleted:
        return False
    # With last_modified, only changes made by someone else: a person, a provider, or another application.
    if query.last_modified is not None and (
        item.updated_at < query.last_modified or item.changed_by == ctx.application_id
    ):
        return False
    return not (query.kind == FREE_BUSY and item.free_busy_status == "free" and not query.include_free)


def _sort_key(all_day: bool, starts_at: datetime | None, start_date: date | None, uid: str, z: tzinfo) -> SortKey:
    if all_day and start_date is not None:
        return paging.day_start(start_date, z), uid
    return (starts_at or paging.EARLIEST), uid


def _instance_item(
    master: Event, calendar: Calendar, instance: recurrence.Instance, mine: bool, reader_zone: tzinfo
) -> Listed:
    exception = instance.exception or {}
    updated_at = master.updated_at
    changed_by = master.changed_by
    if exception.get("updated"):
        try:
            updated_at = parse_instant(str(exception["updated"]))
            changed_by = exception.get("changed_by")
        except BadTime:
            pass
    uid = recurrence.instance_uid(master, instance.key)
    return Listed(
        event=master,
        calendar=calendar,
        event_uid=uid,
        starts_at=instance.starts_at,
        ends_at=instance.ends_at,
        start_date=instance.start_date,
        end_date=instance.end_date,
        start_tzid=instance.start_tzid,
        end_tzid=instance.end_tzid,
        deleted=master.deleted or instance.deleted,
        updated_at=updated_at,
        changed_by=str(changed_by) if changed_by is not None else None,
        managed_by_caller=mine,
        sort_key=_sort_key(master.all_day, instance.starts_at, instance.start_date, uid, reader_zone),
        series_uid=master.event_uid,
        fields=instance.fields,
    )
