"""Applying what a provider reported to the store: calendars found or gone, events created, changed or
deleted. Runs inside the sync job's transaction; returns what changed so one notification can say so."""

from __future__ import annotations

from datetime import date, datetime

from horae.domain import ids, recurrence
from horae.domain.events import Event
from horae.domain.model import Calendar, Profile
from horae.domain.recurrence_rules import EXCEPTIONS
from horae.domain.remote import to_event_fields, to_exceptions
from horae.ports import Clock, ProviderCalendar, ProviderChanges, RemoteItem, UnitOfWork
from horae.services.accounts import new_calendar

PENDING_WRITE = "pending"


def apply_calendars(uow: UnitOfWork, clock: Clock, profile: Profile, found: list[ProviderCalendar]) -> list[Calendar]:
    """Make the profile's stored calendars match the service's list: new ones added, renamed ones renamed,
    vanished ones marked deleted (their events stay, as Cronofy keeps `calendar_deleted` calendars)."""
    stored = {c.remote_id: c for c in uow.calendars.for_account(profile.account_id) if c.profile_id == profile.id}
    current: list[Calendar] = []
    for remote in found:
        calendar = stored.pop(remote.remote_id, None)
        if calendar is None:
            calendar = new_calendar(profile, remote.name, clock, primary=remote.primary)
            calendar.remote_id = remote.remote_id
            uow.calendars.add(calendar)
        calendar.name, calendar.readonly, calendar.deleted = remote.name, remote.readonly, False
        if remote.color:
            calendar.color = remote.color[:16]
        current.append(calendar)
    for gone in stored.values():
        gone.deleted = True
    return current


def apply_changes(
    uow: UnitOfWork, calendar: Calendar, changes: ProviderChanges, window: tuple[datetime, datetime], now: datetime
) -> list[Event]:
    """Store one calendar's changes; returns the events that changed (created, updated or deleted)."""
    listed = {item.remote_id: item for item in changes.items}
    if changes.complete:
        stored = uow.events.synced(calendar.id)
    else:
        stored = uow.events.by_remote_ids(calendar.id, [*listed, *changes.removed])
    known = {e.remote_id: e for e in stored if e.remote_id is not None}
    changed: list[Event] = []
    for remote_id, item in listed.items():
        event = known.get(remote_id) or _written_by_horae(uow, calendar, item)
        if event is not None and event.remote_state == PENDING_WRITE:
            continue  # Horae's own write is on its way out and will replace what the service holds
        if event is not None and event.remote_etag == item.etag and item.etag is not None and not event.deleted:
            continue  # unchanged since last read (or since Horae wrote it)
        if item.event.status == "cancelled":
            if event is not None and not event.deleted:
                changed.append(_delete(event, now))
            continue
        if event is None:
            event = _new_external(calendar, item, now)
            uow.events.add(event)
        _copy(event, item, now)
        changed.append(event)
    gone = set(changes.removed)
    if changes.complete:
        gone |= {rid for rid, e in known.items() if rid not in listed and _touches(e, window)}
    for remote_id in gone:
        event = known.get(remote_id)
        if event is not None and not event.deleted and event.remote_state != PENDING_WRITE:
            changed.append(_delete(event, now))
    return changed


def _written_by_horae(uow: UnitOfWork, calendar: Calendar, item: RemoteItem) -> Event | None:
    """An event Horae wrote whose write has not yet recorded where it landed: Horae writes its own
    event_uid as the iCalendar UID, so the sync adopts it rather than storing a duplicate."""
    event = uow.events.by_uid(item.event.uid) if item.event.uid.startswith("evt_") else None
    if event is None or event.calendar_id != calendar.id:
        return None
    event.remote_id = item.remote_id
    return event


def _new_external(calendar: Calendar, item: RemoteItem, now: datetime) -> Event:
    return Event(
        id=ids.new_id("evr"),
        calendar_id=calendar.id,
        account_id=calendar.account_id,
        event_uid=ids.new_id("evt_external"),
        summary=item.event.summary,
        all_day=item.event.all_day,
        created_at=now,
        updated_at=now,
        remote_id=item.remote_id,
    )


def _copy(event: Event, item: RemoteItem, now: datetime) -> None:
    moved_from = (event.starts_at, event.ends_at)
    for name, value in to_event_fields(item.event).items():
        setattr(event, name, value)
    if not event.summary:
        event.summary = "(no title)"
    exceptions = to_exceptions(item.event, now)
    details = {k: v for k, v in event.details.items() if k != EXCEPTIONS}
    event.details = {**details, EXCEPTIONS: exceptions} if exceptions else details
    if moved_from[0] is not None and moved_from != (event.starts_at, event.ends_at):
        event.previous_starts_at, event.previous_ends_at = moved_from
    event.remote_etag = item.etag
    event.deleted = False
    event.changed_by = None  # changed by the person, in their own calendar
    event.updated_at = now


def _delete(event: Event, now: datetime) -> Event:
    event.deleted = True
    event.changed_by = None
    event.updated_at = now
    return event


def _touches(event: Event, window: tuple[datetime, datetime]) -> bool:
    """Whether a full listing of the window should have named this event: one that has slid out of the
    window is simply no longer listed, which is not a deletion."""
    start, end = window
    if recurrence.is_series(event):
        first = event.start_date if event.all_day else event.starts_at
        if isinstance(first, datetime):
            return first < end
        return first is None or first < _day(end)
    if event.all_day:
        if event.start_date is None or event.end_date is None:
            return True
        return event.start_date < _day(end) and event.end_date > _day(start)
    if event.starts_at is None or event.ends_at is None:
        return True
    return event.starts_at < end and event.ends_at > start


def _day(moment: datetime) -> date:
    return moment.date()
