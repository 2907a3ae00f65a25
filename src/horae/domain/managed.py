"""Managed availability: availability rules (weekly local hours) and available periods, and the pure
expansion of a rule into the UTC spans during which it makes a person available."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo

from horae.domain.intervals import Span, normalize
from horae.domain.times import BadTime, parse_instant, zone

# Cronofy's day names, in its order (Sunday first); the values are Python's `date.weekday()`.
DAYS: dict[str, int] = {
    "sunday": 6,
    "monday": 0,
    "tuesday": 1,
    "wednesday": 2,
    "thursday": 3,
    "friday": 4,
    "saturday": 5,
}
MAX_ID = 64
END_OF_DAY = 24 * 60
_ID = re.compile(r"[\x20-\x7e]{1,64}")
_START = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")
_END = re.compile(r"(?:([01][0-9]|2[0-3]):([0-5][0-9])|(24):(00))")
_LOCAL = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2})?")
ONE_DAY = timedelta(days=1)
# Expansion works on the days Python can represent with a day to spare on either side.
_FIRST = int(datetime(1, 1, 3, tzinfo=UTC).timestamp())
_LAST = int(datetime(9999, 12, 29, tzinfo=UTC).timestamp())


def valid_id(text: str) -> bool:
    """An availability_rule_id or available_period_id: 1 to 64 printable ASCII characters."""
    return _ID.fullmatch(text) is not None


def clock_minutes(text: str, *, end: bool = False) -> int:
    """Minutes after local midnight of a 24-hour `HH:MM`; an end may also be `24:00` (the end of the day).
    ValueError otherwise."""
    found = (_END if end else _START).fullmatch(text)
    if found is None:
        raise ValueError(f"{text!r} is not a 24-hour time like 09:30{' (or 24:00)' if end else ''}")
    hours, minutes = (int(part) for part in found.groups() if part is not None)
    return hours * 60 + minutes


@dataclass(frozen=True)
class WeeklyPeriod:
    """Hours of one weekday, local to the rule's zone: `start_time` to `end_time` (`HH:MM`, end may be 24:00)."""

    day: str
    start_time: str
    end_time: str

    @property
    def minutes(self) -> tuple[int, int]:
        return clock_minutes(self.start_time), clock_minutes(self.end_time, end=True)


@dataclass(eq=False)
class AvailabilityRule:
    """An account's weekly hours in one zone, named by the caller's `availability_rule_id`; calendar_ids
    (None: all of them) are the calendars whose events count against it."""

    account_id: str
    rule_id: str
    tzid: str
    weekly_periods: tuple[WeeklyPeriod, ...]
    calendar_ids: tuple[str, ...] | None
    created_at: datetime
    updated_at: datetime


@dataclass(eq=False)
class AvailablePeriod:
    """A stretch of time an account is available in, named by the caller's `available_period_id`."""

    account_id: str
    period_id: str
    starts_at: datetime
    ends_at: datetime
    created_at: datetime
    updated_at: datetime


def local_instant(day: date, minute: int, where: tzinfo) -> int:
    """The UTC second at which the wall clock in `where` reads `minute` minutes after midnight of `day`
    (1440 is the next midnight).

    Policy, zoneinfo's `fold=0`: a wall time that does not exist (inside a spring-forward gap) is read
    with the offset in force before the gap, so it lands as far after the gap's end as it was after its
    start, i.e. it moves forward by the length of the gap (02:30 on a New York spring-forward day is 03:30
    EDT); a wall time that happens twice (a fall-back fold) is its first occurrence."""
    if minute >= END_OF_DAY:
        day, minute = day + ONE_DAY, minute - END_OF_DAY
    local = datetime(day.year, day.month, day.day, minute // 60, minute % 60, tzinfo=where)
    return int(local.timestamp())


def weekly_minutes(periods: Iterable[WeeklyPeriod]) -> dict[int, list[tuple[int, int]]]:
    """Each weekday's periods in minutes after midnight, sorted and merged where they overlap or touch."""
    by_day: dict[int, list[tuple[int, int]]] = {}
    for period in periods:
        by_day.setdefault(DAYS[period.day], []).append(period.minutes)
    return {day: normalize(found) for day, found in by_day.items()}


def rule_spans(rule: AvailabilityRule, start: int, end: int) -> list[Span]:
    """The sorted, disjoint spans `[start, end)` of UTC seconds in which `rule` makes its account available,
    clipped to `[start, end)`; touching spans (a day's period ending at 24:00 and the next day's starting
    at 00:00) are merged.

    Every local date of `rule.tzid` that touches the range is visited once and its weekday's periods are
    converted with `local_instant` (see its DST policy): a period that starts in a spring-forward gap
    starts at the gap's end plus how far into the gap it started, so one lying wholly inside a gap moves
    with it, and one starting in a gap but ending (on the clock) before its shifted start is empty that
    day. A rule without weekly periods is never available. The cost is a few zone conversions per day in
    the range (about 3 ms for a year of 14 periods a week)."""
    start, end = max(start, _FIRST), min(end, _LAST)
    if end <= start or not rule.weekly_periods:
        return []
    where = zone(rule.tzid)
    hours = weekly_minutes(rule.weekly_periods)
    # A period of the day before the first local date can reach past its midnight (24:00, or a shift).
    day = datetime.fromtimestamp(start, where).date() - ONE_DAY
    last = datetime.fromtimestamp(end - 1, where).date()
    found: list[Span] = []
    while day <= last:
        for first_minute, last_minute in hours.get(day.weekday(), ()):
            lo = max(local_instant(day, first_minute, where), start)
            hi = min(local_instant(day, last_minute, where), end)
            if lo < hi:
                found.append((lo, hi))
        day += ONE_DAY
    return normalize(found)


def period_time(value: object, default_tzid: str) -> datetime:
    """One end of an available period, as an aware UTC datetime truncated to the second.

    A UTC time (`2026-11-24T09:00:00Z`, or with an offset), or `{"time": ..., "tzid": ...}` whose time is
    either such a UTC time or a local wall time without offset (`2026-11-24T09:00:00`) read in its tzid
    (`default_tzid` when absent) by the `local_instant` policy. BadTime otherwise."""
    if isinstance(value, Mapping):
        tzid = value.get("tzid", default_tzid)
        if not isinstance(tzid, str):
            raise BadTime("tzid must be a string")
        where = zone(tzid)
        inner = value.get("time")
        if isinstance(inner, str) and _LOCAL.fullmatch(inner):
            try:
                naive = datetime.fromisoformat(inner)
            except ValueError as exc:
                raise BadTime(f"{inner!r} is not a valid time") from exc
            return _utc(naive.replace(tzinfo=where))
        if not isinstance(inner, str):
            raise BadTime(f"{inner!r} is not a time")
        return _utc(parse_instant(inner))
    if isinstance(value, str):
        return _utc(parse_instant(value))
    raise BadTime(f"{value!r} is not a time or a {{time, tzid}} object")


def _utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC).replace(microsecond=0)
    except (OverflowError, ValueError) as exc:
        raise BadTime(f"{value.isoformat()} is out of range") from exc
