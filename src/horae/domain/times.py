"""Reading Cronofy's time values: UTC instants, all-day dates, and `{time, tzid}` objects."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2}| ?UTC)$")
_ZONES = frozenset(available_timezones()) | {"UTC", "Etc/UTC"}


class BadTime(ValueError):
    """A value that is not a time Cronofy clients may send; the message says why."""


@dataclass(frozen=True)
class EventTime:
    """One end of an event: an instant (with the zone it was given in) or a floating date."""

    instant: datetime | None
    day: date | None
    tzid: str

    @property
    def all_day(self) -> bool:
        return self.day is not None


def zone(tzid: str) -> ZoneInfo:
    """The IANA zone, or BadTime."""
    if tzid not in _ZONES:
        raise BadTime(f"{tzid!r} is not a known IANA time zone")
    try:
        return ZoneInfo(tzid)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise BadTime(f"{tzid!r} is not a known IANA time zone") from exc


def parse_instant(text: str) -> datetime:
    """`2026-11-24T09:00:00Z`, an explicit offset, or pycronofy's `... UTC`: an aware UTC datetime."""
    if not isinstance(text, str) or not _INSTANT.match(text.strip()):
        raise BadTime(f"{text!r} is not a time like 2026-11-24T09:00:00Z")
    cleaned = text.strip().removesuffix("UTC").strip()
    cleaned = cleaned[:-1] + "+00:00" if cleaned.endswith("Z") else cleaned
    try:
        value = datetime.fromisoformat(cleaned)
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
    except (ValueError, OverflowError) as exc:  # OverflowError: an offset pushing it past year 1 or 9999
        raise BadTime(f"{text!r} is not a valid time") from exc


def parse_date(text: str) -> date:
    if not isinstance(text, str) or not _DATE.match(text):
        raise BadTime(f"{text!r} is not a date like 2026-11-24")
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise BadTime(f"{text!r} is not a valid date") from exc


def parse_event_time(value: object, default_tzid: str) -> EventTime:
    """An event's start or end: a date, a UTC time, or `{"time": ..., "tzid": ...}`."""
    if isinstance(value, dict):
        tzid = value.get("tzid", default_tzid)
        if not isinstance(tzid, str):
            raise BadTime("tzid must be a string")
        zone(tzid)
        inner = value.get("time")
        if isinstance(inner, str) and _DATE.match(inner):
            return EventTime(None, parse_date(inner), tzid)
        if not isinstance(inner, str):
            raise BadTime(f"{inner!r} is not a date or a time")
        return EventTime(parse_instant(inner), None, tzid)
    if isinstance(value, str) and _DATE.match(value):
        return EventTime(None, parse_date(value), default_tzid)
    if isinstance(value, str):
        return EventTime(parse_instant(value), None, default_tzid)
    raise BadTime(f"{value!r} is not a date, a time, or a {{time, tzid}} object")


def format_instant(value: datetime) -> str:
    """Cronofy's wire form: `YYYY-MM-DDTHH:MM:SSZ`."""
    value = value.astimezone(UTC)
    return f"{value.year:04d}-{value:%m-%dT%H:%M:%S}Z"  # %Y does not pad years before 1000
