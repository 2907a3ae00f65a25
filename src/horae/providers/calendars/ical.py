"""iCalendar (RFC 5545) into Horae events: pure functions for CalDAV and ICS feed sync (ical_writer writes)."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import icalendar
from icalendar.error import GloballyUniqueTZIDGuessed

from horae.domain import recurrence
from horae.domain.recurrence_rules import EXCEPTIONS, BadRecurrence, SeriesStart, check
from horae.domain.remote import RemoteEvent, RemoteOverride, to_event_fields, to_exceptions
from horae.domain.times import BadTime, EventTime, zone
from horae.providers.calendars.ical_zones import READ_ERRORS as _READ_ERRORS
from horae.providers.calendars.ical_zones import Zones

__all__ = [
    "EXCEPTIONS",
    "ICalError",
    "RemoteEvent",
    "RemoteOverride",
    "parse_calendar",
    "to_event_fields",
    "to_exceptions",
]

STATUSES = {"CONFIRMED": "confirmed", "TENTATIVE": "tentative", "CANCELLED": "cancelled"}
UTC_TZIDS = frozenset({"UTC", "Etc/UTC"})
TEXT_FIELDS = ("summary", "description", "location", "url", "transparency", "status")


class ICalError(ValueError):
    """iCalendar text Horae cannot read; the message says where."""


# --- parsing ---------------------------------------------------------------------------------------


def parse_calendar(ics_text: str, default_tzid: str = "Etc/UTC") -> list[RemoteEvent]:
    """The events of an iCalendar text, one per UID, in order of appearance. Floating times are read in
    `default_tzid`. Malformed input raises ICalError."""
    try:
        zone(default_tzid)
    except BadTime as exc:
        raise ICalError(str(exc)) from exc
    try:
        with warnings.catch_warnings():
            # icalendar warns when it guesses "/vendor/Area/City" TZIDs; Zones resolves them itself.
            warnings.simplefilter("ignore", GloballyUniqueTZIDGuessed)
            calendars = icalendar.Calendar.from_ical(ics_text, multiple=True)
            found = [_parse_calendar(calendar, default_tzid) for calendar in calendars]
    except ICalError:
        raise
    except _READ_ERRORS as exc:
        raise ICalError(f"not iCalendar text: {exc}") from exc
    if not calendars:
        raise ICalError("not iCalendar text: no VCALENDAR")
    return [remote for events in found for remote in events]


def _parse_calendar(calendar: icalendar.Component, default_tzid: str) -> list[RemoteEvent]:
    if calendar.name != "VCALENDAR":
        raise ICalError(f"expected a VCALENDAR, found {calendar.name or 'nothing'}")
    return _parse_one(calendar, Zones(calendar, default_tzid))


def _parse_one(calendar: icalendar.Component, zones: Zones) -> list[RemoteEvent]:
    masters: dict[str, icalendar.Component] = {}
    changed: dict[str, list[icalendar.Component]] = {}
    problems: dict[str, list[str]] = {}
    for vevent in calendar.walk("VEVENT"):
        uid = _text(vevent, "UID")
        if not uid:
            raise ICalError("a VEVENT has no UID")
        if "RECURRENCE-ID" in vevent:
            changed.setdefault(uid, []).append(vevent)
        else:
            if uid in masters:
                problems.setdefault(uid, []).append("UID given twice: the last VEVENT was kept")
            masters[uid] = vevent
    found = []
    for uid in dict.fromkeys([*masters, *changed]):
        master = masters.get(uid)
        notes = problems.get(uid, [])
        if master is None:
            # Invited to single instances only: each would need its own UID in Horae; keep the first.
            master = changed[uid][0]
            notes.append("only RECURRENCE-ID instances: the first is kept as a single event")
            found.append(_event(uid, master, [], zones, notes, with_rules=False))
        else:
            found.append(_event(uid, master, changed.get(uid, []), zones, notes, with_rules=True))
    return found


def _event(
    uid: str,
    vevent: icalendar.Component,
    overrides: list[icalendar.Component],
    zones: Zones,
    notes: list[str],
    with_rules: bool,
) -> RemoteEvent:
    start, end = _span(vevent, zones, None, uid)
    fields = _fields(vevent)
    rules = None
    cancelled: list[str] = []
    changes: list[RemoteOverride] = []
    if with_rules and "RDATE" in vevent:
        notes.append("RDATE is not supported: the extra dates are left out")
    if with_rules and "RRULE" in vevent:
        texts = [rule.to_ical().decode() for rule in _many(vevent["RRULE"])]
        rules = {"rrule": texts[0] if len(texts) == 1 else texts}
        try:
            check(rules, start)
        except BadRecurrence as exc:
            notes.append(f"RRULE not supported ({exc.message}): only the first instance is kept")
            rules = None
    if rules is not None:
        for exdates in _many(vevent.get("EXDATE", [])):
            for value in exdates.dts:
                cancelled.append(_key(value.dt, value.params.get("TZID"), start, zones, uid))
        for override in overrides:
            change = _override(override, start, fields, zones, uid, notes)
            if change is not None:
                changes.append(change)
    return RemoteEvent(
        uid=uid,
        start=start,
        end=end,
        recurrence=rules,
        cancelled=tuple(dict.fromkeys(cancelled)),
        overrides=tuple(changes),
        problems=tuple(notes),
        **fields,
    )


def _override(
    vevent: icalendar.Component,
    series: EventTime,
    master: Mapping[str, Any],
    zones: Zones,
    uid: str,
    notes: list[str],
) -> RemoteOverride | None:
    original = vevent["RECURRENCE-ID"]
    if not hasattr(original, "dt"):
        raise ICalError(f"event {uid!r}: RECURRENCE-ID is not a date or time")
    if str(original.params.get("RANGE", "")).upper() == "THISANDFUTURE":
        notes.append("RANGE=THISANDFUTURE is not supported: the change applies to that instance only")
    key = _key(original.dt, original.params.get("TZID"), series, zones, uid)
    fields = _fields(vevent)
    if fields["status"] == "cancelled":
        return RemoteOverride(key, True)
    start, end = _span(vevent, zones, series.tzid, uid)
    if start.all_day != series.all_day:
        notes.append(f"instance {key} changes between dates and times: left out")
        return None
    differ = {name: value for name, value in fields.items() if value != master[name]}
    return RemoteOverride(key, False, start, end, differ)


def _fields(vevent: icalendar.Component) -> dict[str, Any]:
    return {
        "summary": _text(vevent, "SUMMARY"),
        "description": _text(vevent, "DESCRIPTION"),
        "location": _text(vevent, "LOCATION") or None,
        "url": _text(vevent, "URL") or None,
        "transparency": "transparent" if _text(vevent, "TRANSP").upper() == "TRANSPARENT" else "opaque",
        "status": STATUSES.get(_text(vevent, "STATUS").upper(), "confirmed"),
    }


def _text(vevent: icalendar.Component, name: str) -> str:
    value = vevent.get(name)
    if isinstance(value, list):  # a repeated property: the first one counts
        value = value[0] if value else None
    # PostgreSQL cannot store NUL, so it never reaches the store.
    return "" if value is None else str(value).replace("\x00", "")


def _many(value: object) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _span(vevent: icalendar.Component, zones: Zones, floating: str | None, uid: str) -> tuple[EventTime, EventTime]:
    """DTSTART and the end (DTEND, else DURATION, else nothing for times and one day for dates)."""
    if "DTSTART" not in vevent:
        raise ICalError(f"event {uid!r} has no DTSTART")
    start = _time(vevent["DTSTART"], zones, floating, uid, "DTSTART")
    if "DTEND" in vevent:
        end = _time(vevent["DTEND"], zones, floating, uid, "DTEND")
    elif "DURATION" in vevent:
        duration = getattr(vevent["DURATION"], "dt", None)
        if not isinstance(duration, timedelta):
            raise ICalError(f"event {uid!r}: DURATION is not a duration")
        if start.day is not None:
            end = EventTime(None, start.day + timedelta(days=max(duration.days, 1)), start.tzid)
        else:
            assert start.instant is not None
            end = EventTime(start.instant + duration, None, start.tzid)
    elif start.day is not None:
        end = EventTime(None, start.day + timedelta(days=1), start.tzid)
    else:
        end = start
    if start.all_day != end.all_day:
        raise ICalError(f"event {uid!r}: DTSTART and DTEND must both be dates or both times")
    if start.day is not None and end.day is not None and end.day <= start.day:
        end = EventTime(None, start.day + timedelta(days=1), end.tzid)  # Horae's all-day ends are exclusive
    if start.instant is not None and end.instant is not None and end.instant < start.instant:
        end = EventTime(start.instant, None, end.tzid)
    return start, end


def _time(prop: object, zones: Zones, floating: str | None, uid: str, name: str) -> EventTime:
    value = getattr(prop, "dt", None)
    params = getattr(prop, "params", {})
    if isinstance(value, datetime):
        tzid = params.get("TZID")
        if value.tzinfo is not None and tzid is None:
            return EventTime(value.astimezone(UTC).replace(microsecond=0), None, "Etc/UTC")
        if tzid is not None:
            stored, tz = zones.resolve(str(tzid), value.year)
        else:  # floating: read in the series' zone (for instances) or the caller's default
            stored = floating or zones.default_tzid
            tz = zone(stored)
        instant = value.replace(tzinfo=tz, microsecond=0).astimezone(UTC)
        return EventTime(instant, None, stored)
    if isinstance(value, date):
        return EventTime(None, value, floating or zones.default_tzid)
    raise ICalError(f"event {uid!r}: {name} is not a date or time")


def _key(value: object, tzid: object, series: EventTime, zones: Zones, uid: str) -> str:
    """An EXDATE or RECURRENCE-ID value as the original-start key of the series' instance it names."""
    if isinstance(value, datetime) and series.day is not None:
        return recurrence.key_of(value.date())  # a time naming a date-only instance: its day
    if isinstance(value, datetime):
        read = _time(_Value(value, {"TZID": tzid} if tzid else {}), zones, series.tzid, uid, "EXDATE")
        assert read.instant is not None
        return recurrence.key_of(read.instant)
    if isinstance(value, date):
        if series.day is not None:
            return recurrence.key_of(value)
        # A date naming a timed instance (some servers write EXDATE so): that day at the series' time.
        assert series.instant is not None
        local = SeriesStart.of_time(series)
        wall = datetime.combine(value, local.dtstart.time()).replace(tzinfo=local.zone)
        return recurrence.key_of(wall.astimezone(UTC))
    raise ICalError(f"event {uid!r}: EXDATE or RECURRENCE-ID is not a date or time")


@dataclass(frozen=True)
class _Value:
    dt: datetime
    params: Mapping[str, Any]
