"""Events as a calendar service holds them, before they become Horae events: one per provider object, with
a series' cancelled and moved instances. Every provider (CalDAV, ICS, Google, Microsoft) reads into these."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from horae.domain import recurrence
from horae.domain.events import Event
from horae.domain.integrated import RemoteConference
from horae.domain.times import EventTime, parse_date, parse_instant


@dataclass(frozen=True)
class RemoteOverride:
    """One instance changed by a VEVENT with RECURRENCE-ID: cancelled, or moved and/or given other fields."""

    key: str  # the original start, as recurrence.key_of writes it
    cancelled: bool
    start: EventTime | None = None
    end: EventTime | None = None
    fields: Mapping[str, Any] | None = None  # only the values that differ from the master (Horae's names)


@dataclass(frozen=True)
class RemoteEvent:
    """One UID of a calendar: the event (or series master) as Horae would store it."""

    uid: str
    summary: str
    description: str
    location: str | None
    url: str | None
    transparency: str  # opaque | transparent
    status: str  # confirmed | tentative | cancelled
    start: EventTime
    end: EventTime
    recurrence: dict[str, Any] | None = None
    cancelled: tuple[str, ...] = ()  # original starts removed by EXDATE (recurrence.key_of form)
    overrides: tuple[RemoteOverride, ...] = ()
    problems: tuple[str, ...] = ()  # what Horae could not keep (RDATE, unsupported rule parts, ...)
    conference: RemoteConference | None = None  # the calendar's own conference on it (Google Meet)

    @property
    def all_day(self) -> bool:
        return self.start.all_day


def to_event_fields(remote: RemoteEvent) -> dict[str, Any]:
    """The values to set on a Horae Event (attribute name to value); exceptions come from to_exceptions."""
    return {
        "summary": remote.summary,
        "description": remote.description,
        "location": {"description": remote.location} if remote.location else None,
        "url": remote.url,
        "transparency": remote.transparency,
        "status": remote.status,
        "all_day": remote.all_day,
        "starts_at": remote.start.instant,
        "ends_at": remote.end.instant,
        "start_date": remote.start.day,
        "end_date": remote.end.day,
        "start_tzid": remote.start.tzid,
        "end_tzid": remote.end.tzid,
        "recurrence": remote.recurrence,
    }


def to_exceptions(remote: RemoteEvent, now: datetime, changed_by: str | None = None) -> dict[str, dict[str, Any]]:
    """The series' exceptions as Horae keeps them (`details[EXCEPTIONS]`): EXDATEs and cancelled
    instances first, then moved ones (an override wins over an EXDATE of the same instance)."""
    if remote.recurrence is None:
        return {}
    # moved_exception only needs to know whether the series is all-day.
    master = Event("", "", "", remote.uid, remote.summary, remote.all_day, now, now)
    found = {key: recurrence.cancelled_exception(now, changed_by) for key in remote.cancelled}
    for change in remote.overrides:
        if change.cancelled or change.start is None or change.end is None:
            found[change.key] = recurrence.cancelled_exception(now, changed_by)
            continue
        fields = dict(change.fields or {})
        if "location" in fields:
            fields["location"] = {"description": fields["location"]} if fields["location"] else None
        found[change.key] = recurrence.moved_exception(master, change.start, change.end, fields, now, changed_by)
    return found


def from_stored(event: Event) -> RemoteEvent:
    """A stored event as a calendar service would report it (the inverse of to_event_fields and
    to_exceptions): how built-in calendars answer the provider contract."""
    location = (event.location or {}).get("description")
    overrides = []
    cancelled = []
    for key, change in sorted(recurrence.exceptions(event).items()):
        if change.get("deleted"):
            cancelled.append(key)
            continue
        fields = dict(change.get("fields") or {})
        if isinstance(fields.get("location"), Mapping):
            fields["location"] = fields["location"].get("description")
        start = _stored_time(str(change["start"]), str(change.get("start_tzid", "Etc/UTC")))
        end = _stored_time(str(change["end"]), str(change.get("end_tzid", "Etc/UTC")))
        overrides.append(RemoteOverride(key, False, start, end, fields))
    return RemoteEvent(
        uid=event.event_uid,
        summary=event.summary,
        description=event.description,
        location=str(location) if location else None,
        url=event.url,
        transparency=event.transparency,
        status=event.status,
        start=EventTime(event.starts_at, event.start_date, event.start_tzid),
        end=EventTime(event.ends_at, event.end_date, event.end_tzid),
        recurrence=event.recurrence,
        cancelled=tuple(cancelled),
        overrides=tuple(overrides),
    )


def _stored_time(wire: str, tzid: str) -> EventTime:
    """An exception's end as stored: a date for all-day series, else an instant."""
    if "T" in wire:
        return EventTime(parse_instant(wire), None, tzid)
    return EventTime(None, parse_date(wire), tzid)
