"""Horae events as iCalendar (RFC 5545): a master VEVENT and one per moved instance, for CalDAV writes."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

import icalendar

from horae.domain import recurrence
from horae.domain.events import Event
from horae.domain.recurrence_rules import SeriesStart, rule_texts
from horae.domain.times import BadTime, EventTime, parse_date, parse_instant, zone
from horae.providers.calendars.ical import STATUSES, TEXT_FIELDS, UTC_TZIDS


def serialize_event(event: Event, uid: str, prodid: str = "-//Horae//EN") -> str:
    """A VCALENDAR for one Horae event: the event (or series master) and one VEVENT per moved instance,
    with the VTIMEZONEs its TZIDs need."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", prodid)
    calendar.add("version", "2.0")
    series = recurrence.is_series(event)
    master = _vevent(event, uid, _master_fields(event))
    _add_span(master, event.all_day, _start_of(event), _end_of(event))
    changed = recurrence.exceptions(event) if series else {}
    if series:
        for text in rule_texts(event.recurrence, SeriesStart.of_event(event)):
            master.add("rrule", icalendar.vRecur.from_ical(text))
        cancelled = [key for key, change in sorted(changed.items()) if change.get("deleted")]
        if cancelled:
            for key in cancelled:  # one EXDATE each: some may be in UTC, see _local
                _put(master, "exdate", recurrence.original_of(key), event.start_tzid)
    calendar.add_component(master)
    for key, change in sorted(changed.items()):
        if change.get("deleted") or not recurrence.occurs(event, key):
            continue
        moved = _moved_times(event, change)
        if moved is None:
            continue
        fields = {**_master_fields(event), **_exception_fields(change.get("fields"))}
        instance = _vevent(event, uid, fields)
        _put(instance, "recurrence-id", recurrence.original_of(key), event.start_tzid)
        _add_span(instance, event.all_day, *moved)
        calendar.add_component(instance)
    calendar.add_missing_timezones()
    return str(calendar.to_ical().decode())


def _master_fields(event: Event) -> dict[str, Any]:
    location = event.location.get("description") if isinstance(event.location, Mapping) else None
    return {
        "summary": event.summary,
        "description": event.description,
        "location": str(location) if location else None,
        "url": event.url,
        "transparency": event.transparency,
        "status": event.status,
    }


def _exception_fields(fields: object) -> dict[str, Any]:
    if not isinstance(fields, Mapping):
        return {}
    found = {name: fields[name] for name in TEXT_FIELDS if name in fields}
    if "location" in found:
        location = found["location"]
        found["location"] = location.get("description") if isinstance(location, Mapping) else None
    return found


def _vevent(event: Event, uid: str, fields: Mapping[str, Any]) -> icalendar.Event:
    vevent = icalendar.Event()
    vevent.add("uid", uid)
    vevent.add("dtstamp", event.updated_at.astimezone(UTC))
    vevent.add("summary", fields["summary"] or "")
    if fields["description"]:
        vevent.add("description", fields["description"])
    if fields["location"]:
        vevent.add("location", fields["location"])
    if fields["url"]:
        vevent.add("url", fields["url"])
    vevent.add("transp", "TRANSPARENT" if fields["transparency"] == "transparent" else "OPAQUE")
    reverse = {value: name for name, value in STATUSES.items()}
    vevent.add("status", reverse.get(str(fields["status"]), "CONFIRMED"))
    return vevent


def _start_of(event: Event) -> EventTime:
    return EventTime(event.starts_at, event.start_date, event.start_tzid)


def _end_of(event: Event) -> EventTime:
    return EventTime(event.ends_at, event.end_date, event.end_tzid)


def _add_span(vevent: icalendar.Event, all_day: bool, start: EventTime, end: EventTime) -> None:
    if all_day:
        assert start.day is not None and end.day is not None
        vevent.add("dtstart", start.day)
        vevent.add("dtend", end.day)
        return
    assert start.instant is not None and end.instant is not None
    _put(vevent, "dtstart", start.instant, start.tzid)
    _put(vevent, "dtend", end.instant, end.tzid)


def _put(vevent: icalendar.Event, name: str, value: datetime | date, tzid: str) -> None:
    if not isinstance(value, datetime):
        vevent.add(name, value)
        return
    local = _local(value, tzid)
    if local.tzinfo is UTC:
        vevent.add(name, local)
    else:  # TZID written as given: icalendar would write zones it deems equal to UTC (Africa/Abidjan) as Z
        vevent.add(name, local.replace(tzinfo=None), parameters={"TZID": tzid})


def _local(instant: datetime, tzid: str) -> datetime:
    """An instant as iCalendar should carry it: wall time in its zone (TZID), or UTC when the zone is UTC,
    unknown, or the wall time is the repeated hour of a fall-back (which RFC 5545 reads as the first)."""
    if tzid in UTC_TZIDS:
        return instant.astimezone(UTC)
    try:
        tz = zone(tzid)
    except BadTime:
        return instant.astimezone(UTC)
    local = instant.astimezone(tz)
    if local.replace(fold=0).astimezone(UTC) != instant:
        return instant.astimezone(UTC)
    return local


def _moved_times(event: Event, change: Mapping[str, Any]) -> tuple[EventTime, EventTime] | None:
    start_tzid = str(change.get("start_tzid") or event.start_tzid)
    end_tzid = str(change.get("end_tzid") or event.end_tzid)
    try:
        if event.all_day:
            first, last = parse_date(str(change.get("start"))), parse_date(str(change.get("end")))
            return EventTime(None, first, start_tzid), EventTime(None, last, end_tzid)
        begins, ends = parse_instant(str(change.get("start"))), parse_instant(str(change.get("end")))
        return EventTime(begins, None, start_tzid), EventTime(ends, None, end_tzid)
    except BadTime:
        return None
