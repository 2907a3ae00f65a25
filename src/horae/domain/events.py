"""Events as Horae stores them: timed (UTC instants) or all-day (floating dates), with their changes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, NamedTuple


@dataclass(eq=False)
class Event:
    """One event in a calendar. All-day events keep dates (end exclusive) and never shift with zones."""

    id: str
    calendar_id: str
    account_id: str
    event_uid: str
    summary: str
    all_day: bool
    created_at: datetime
    updated_at: datetime
    event_id: str | None = None  # the managing application's own id for it
    application_id: str | None = None  # the application managing it, if any
    description: str = ""
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    start_date: date | None = None
    end_date: date | None = None
    start_tzid: str = "Etc/UTC"
    end_tzid: str = "Etc/UTC"
    location: dict[str, Any] | None = None
    url: str | None = None
    transparency: str = "opaque"
    status: str = "confirmed"
    participation_status: str = "accepted"
    event_private: bool = False
    color: str | None = None
    attendees: list[dict[str, Any]] = field(default_factory=list)
    organizer: dict[str, Any] | None = None
    reminders: list[dict[str, Any]] | None = None
    details: dict[str, Any] = field(default_factory=dict)  # fields kept as given (reminders_create_only, ...)
    recurrence: dict[str, Any] | None = None  # the series rule, on a series' master event
    deleted: bool = False
    changed_by: str | None = None  # application that made the last change; None: the person or the provider
    previous_starts_at: datetime | None = None  # where a moved event was (for include_moved)
    previous_ends_at: datetime | None = None
    remote_id: str | None = None  # the provider object holding it, for synced calendars
    remote_etag: str | None = None
    remote_state: str | None = None  # "pending" while a write to the provider waits

    @property
    def managed(self) -> bool:
        return self.event_id is not None


class BusyRow(NamedTuple):
    """The little of a stored, non-recurring event that availability needs: read in bulk, so a tuple."""

    calendar_id: str
    event_uid: str
    event_id: str | None
    application_id: str | None
    all_day: bool
    start: int | None  # a timed event's start and end in UTC epoch seconds
    end: int | None
    start_date: date | None
    end_date: date | None
    tentative: bool


class SeriesRow(NamedTuple):
    """A series master as availability first sees it: enough to find its instances in a cache. `version`
    changes whenever the series does (its updated time, and the sizes of its rule and exceptions, and its
    times, in case two changes ever share a timestamp)."""

    id: str
    calendar_id: str
    event_uid: str
    event_id: str | None
    application_id: str | None
    version: tuple[object, ...]
