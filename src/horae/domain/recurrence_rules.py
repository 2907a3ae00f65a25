"""The rule shape Horae accepts for recurring events, checked and translated into RFC 5545 RRULEs
that dateutil evaluates (see recurrence.py for expanding a series into instances)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from dateutil.rrule import rrule, rrulestr

from horae.domain.events import Event
from horae.domain.paging import day_start, shift
from horae.domain.times import BadTime, EventTime, parse_date, parse_instant, zone

FREQUENCIES = {"daily": "DAILY", "weekly": "WEEKLY", "monthly": "MONTHLY", "yearly": "YEARLY"}
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
RULE_FIELDS = frozenset(
    {"frequency", "interval", "count", "until", "by_day", "by_month_day", "by_month", "by_set_pos", "week_start"}
)
# RRULE parts Horae accepts, and the rule field each one fills.
RRULE_PARTS = {
    "FREQ": "frequency",
    "INTERVAL": "interval",
    "COUNT": "count",
    "UNTIL": "until",
    "BYDAY": "by_day",
    "BYMONTHDAY": "by_month_day",
    "BYMONTH": "by_month",
    "BYSETPOS": "by_set_pos",
    "WKST": "week_start",
}
MAX_RULES = 5
MAX_INTERVAL = 1000
MAX_COUNT = 10_000
MAX_INSTANCES = 5000  # instances of one series in one read window
PROBE_YEARS = 50  # a rule must have an occurrence within this many years of the series start
EXCEPTIONS = "recurrence_exceptions"  # the key of the master's `details` holding its exceptions

_BY_DAY = re.compile(r"^([+-]?(?:[1-9]|[1-4][0-9]|5[0-3]))?(MO|TU|WE|TH|FR|SA|SU)$")
INSTANCE_KEY = re.compile(r"^\d{8}(T\d{6}Z)?$")
_BASIC_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_BASIC_TIME = re.compile(r"^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(Z?)$")
ONE_SECOND = timedelta(seconds=1)


class BadRecurrence(ValueError):
    """A recurrence (or instance reference) Horae cannot accept; `field` names where the problem is."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


# --- the rule shape ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SeriesStart:
    """What a series hangs on: its first start (an instant or a date) and the zone it repeats in."""

    instant: datetime | None
    day: date | None
    tzid: str

    @classmethod
    def of_time(cls, start: EventTime) -> SeriesStart:
        return cls(start.instant, start.day, start.tzid)

    @classmethod
    def of_event(cls, event: Event) -> SeriesStart:
        if event.all_day:
            return cls(None, event.start_date, event.start_tzid)
        return cls(event.starts_at, None, event.start_tzid)

    @property
    def zone(self) -> tzinfo:
        try:
            return zone(self.tzid)
        except BadTime:
            return UTC

    @property
    def dtstart(self) -> datetime:
        """The local wall-clock start dateutil repeats: aware in the series zone, or naive for all-day."""
        if self.day is not None:
            return datetime.combine(self.day, time())
        assert self.instant is not None
        return self.instant.astimezone(self.zone)


def check(recurrence: object, start: EventTime) -> None:
    """Validate an upsert's `recurrence` against the event's start; BadRecurrence says what is wrong."""
    series = SeriesStart.of_time(start)
    try:
        for text, field in _texts(recurrence, series):
            rule = parse_rule(text, series, field)
            if not _possible_days(text) or not _has_occurrence(rule, series):
                raise BadRecurrence(field, f"this rule has no occurrence within {PROBE_YEARS} years of its start")
    except OverflowError as exc:
        raise BadRecurrence("recurrence", "a series cannot start this close to year 1 or 9999") from exc


def rule_texts(recurrence: object, series: SeriesStart) -> list[str]:
    """The RRULE values (without DTSTART) a recurrence stands for."""
    return [text for text, _ in _texts(recurrence, series)]


def _texts(recurrence: object, series: SeriesStart) -> list[tuple[str, str]]:
    if not isinstance(recurrence, Mapping):
        raise BadRecurrence("recurrence", "recurrence must be an object with `rules` or `rrule`")
    unknown = sorted(str(k) for k in recurrence if k not in ("rules", "rrule"))
    if unknown:
        raise BadRecurrence("recurrence", f"unknown recurrence fields: {', '.join(unknown)} (use rules or rrule)")
    found: list[tuple[str, str]] = []
    rules = recurrence.get("rules")
    if rules is not None:
        if not isinstance(rules, list):
            raise BadRecurrence("recurrence.rules", "rules must be a list of rule objects")
        for index, rule in enumerate(rules):
            field = f"recurrence.rules.{index}"
            found.append((render_rule(_structured(rule, field), series, field), field))
    raw = recurrence.get("rrule")
    if raw is not None:
        texts = [raw] if isinstance(raw, str) else raw
        if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
            raise BadRecurrence("recurrence.rrule", "rrule must be an RRULE string or a list of them")
        for index, text in enumerate(texts):
            field = "recurrence.rrule" if isinstance(raw, str) else f"recurrence.rrule.{index}"
            found.append((render_rule(_from_rrule(text, field), series, field, per_field=False), field))
    if not found:
        raise BadRecurrence("recurrence", "recurrence needs at least one rule (rules or rrule)")
    if len(found) > MAX_RULES:
        raise BadRecurrence("recurrence", f"at most {MAX_RULES} rules")
    return found


def _structured(rule: object, field: str) -> dict[str, Any]:
    if not isinstance(rule, Mapping):
        raise BadRecurrence(field, "each rule must be an object")
    unknown = sorted(str(k) for k in rule if k not in RULE_FIELDS)
    if unknown:
        raise BadRecurrence(f"{field}.{unknown[0]}", f"unknown rule field {unknown[0]!r}")
    return dict(rule)


def _from_rrule(text: str, field: str) -> dict[str, Any]:
    """An RRULE value (`FREQ=WEEKLY;BYDAY=MO`, optionally prefixed `RRULE:`) as rule fields."""
    body = text.strip()
    if body[:6].upper() == "RRULE:":
        body = body[6:]
    if not body or any(c in body for c in "\r\n:"):
        raise BadRecurrence(field, "rrule must be one RRULE value like FREQ=WEEKLY;BYDAY=MO")
    rule: dict[str, Any] = {}
    for part in body.split(";"):
        name, sep, value = part.partition("=")
        name = name.strip().upper()
        if not sep or name not in RRULE_PARTS:
            raise BadRecurrence(field, f"{part!r} is not supported; parts allowed: {', '.join(RRULE_PARTS)}")
        key = RRULE_PARTS[name]
        if key in rule:
            raise BadRecurrence(field, f"{name} given twice")
        value = value.strip()
        if key in ("by_day", "by_month_day", "by_month", "by_set_pos"):
            items = value.split(",")
            rule[key] = items if key == "by_day" else [_integer(v, field, name) for v in items]
        elif key in ("interval", "count"):
            rule[key] = _integer(value, field, name)
        elif key == "until":
            rule[key] = _basic_until(value, field)
        else:
            rule[key] = value
    return rule


def _integer(text: str, field: str, name: str) -> int:
    if not re.fullmatch(r"[+-]?\d{1,4}", text.strip()):
        raise BadRecurrence(field, f"{name} must be a whole number")
    return int(text)


def _basic_until(text: str, field: str) -> date | datetime:
    """UNTIL in RFC 5545's basic form: a date, a UTC time, or a floating local time (naive)."""
    if found := _BASIC_DATE.match(text):
        parts = [int(p) for p in found.groups()]
        try:
            return date(*parts)
        except ValueError as exc:
            raise BadRecurrence(field, f"UNTIL {text!r} is not a valid date") from exc
    if found := _BASIC_TIME.match(text):
        year, month, day, hour, minute, second = (int(p) for p in found.groups()[:6])
        try:
            value = datetime(year, month, day, hour, minute, second)
        except ValueError as exc:
            raise BadRecurrence(field, f"UNTIL {text!r} is not a valid time") from exc
        return value.replace(tzinfo=UTC) if found.group(7) else value
    raise BadRecurrence(field, f"UNTIL {text!r} must look like 20271231 or 20271231T235959Z")


def render_rule(rule: dict[str, Any], series: SeriesStart, field: str, per_field: bool = True) -> str:
    """A checked rule as an RRULE value. Problems are reported on `field.<rule field>`, or on `field`
    itself for RRULE text (`per_field` false)."""

    def at(name: str) -> str:
        return f"{field}.{name}" if per_field else field

    frequency = rule.get("frequency")
    if not isinstance(frequency, str) or frequency.lower() not in FREQUENCIES:
        raise BadRecurrence(at("frequency"), f"frequency must be one of {', '.join(FREQUENCIES)}")
    parts = [f"FREQ={FREQUENCIES[frequency.lower()]}"]
    interval = _number(rule.get("interval"), at("interval"), "interval", 1, MAX_INTERVAL)
    if interval is not None:
        parts.append(f"INTERVAL={interval}")
    count = _number(rule.get("count"), at("count"), "count", 1, MAX_COUNT)
    if count is not None:
        parts.append(f"COUNT={count}")
    if rule.get("until") is not None:
        if count is not None:
            raise BadRecurrence(at("until"), "give count or until, not both")
        parts.append(f"UNTIL={_until(rule['until'], series, at('until'))}")
    by_day = _list(rule.get("by_day"), at("by_day"), "by_day")
    if by_day is not None:
        days = []
        for item in by_day:
            text = item.strip().upper() if isinstance(item, str) else ""
            if not _BY_DAY.match(text):
                raise BadRecurrence(at("by_day"), f"{item!r} is not a weekday like MO, 1MO or -1FR")
            days.append(text)
        parts.append("BYDAY=" + ",".join(days))
    for name, part, low, high in (
        ("by_month_day", "BYMONTHDAY", 1, 31),
        ("by_month", "BYMONTH", 1, 12),
        ("by_set_pos", "BYSETPOS", 1, 366),
    ):
        values = _list(rule.get(name), at(name), name)
        if values is None:
            continue
        checked = []
        for value in values:
            negative_ok = name != "by_month"
            number = value if isinstance(value, int) and not isinstance(value, bool) else None
            if number is None or not (low <= number <= high or (negative_ok and -high <= number <= -low)):
                span = f"{low}..{high}" + (f" or -{high}..-{low}" if negative_ok else "")
                raise BadRecurrence(at(name), f"{name}: {value!r} is not a number in {span}")
            checked.append(str(number))
        parts.append(f"{part}=" + ",".join(checked))
    week_start = rule.get("week_start")
    if week_start is not None:
        if not isinstance(week_start, str) or week_start.upper() not in WEEKDAYS:
            raise BadRecurrence(at("week_start"), "week_start must be a weekday: MO, TU, ... SU")
        parts.append(f"WKST={week_start.upper()}")
    return ";".join(parts)


def _number(value: object, field: str, name: str, low: int, high: int) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise BadRecurrence(field, f"{name} must be a whole number from {low} to {high}")
    return value


def _list(value: object, field: str, name: str) -> list[Any] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not value or len(value) > 400:
        raise BadRecurrence(field, f"{name} must be a non-empty list")
    return value


def _until(value: object, series: SeriesStart, field: str) -> str:
    """UNTIL as dateutil wants it for this series: a date for all-day series, a UTC time for timed ones.
    A date means "up to the end of that day" in the series' zone; a floating time is read in that zone."""
    try:
        return _until_text(value, series, field)
    except OverflowError as exc:
        raise BadRecurrence(field, "until is out of range") from exc


def _until_text(value: object, series: SeriesStart, field: str) -> str:
    if isinstance(value, str):
        text = value
        try:
            value = parse_date(text) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text) else parse_instant(text)
        except BadTime as exc:
            try:
                value = _basic_until(text, field)
            except BadRecurrence:
                raise BadRecurrence(field, str(exc)) from exc
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=series.zone)
        if series.day is not None:
            return basic_date(value.astimezone(series.zone))
        return basic_utc(value)
    if isinstance(value, date):
        if series.day is not None:
            return basic_date(value)
        last = shift(day_start(value + timedelta(days=1), series.zone), -ONE_SECOND)
        return basic_utc(last)
    raise BadRecurrence(field, "until must be a date (2027-12-31) or a time (2027-12-31T09:00:00Z)")


def basic_date(day: date) -> str:
    """RFC 5545's basic date (strftime would not pad years before 1000)."""
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"


def basic_utc(instant: datetime) -> str:
    utc = instant.astimezone(UTC)
    return f"{basic_date(utc)}T{utc.hour:02d}{utc.minute:02d}{utc.second:02d}Z"


def parse_rule(text: str, series: SeriesStart, field: str) -> rrule:
    try:
        parsed = rrulestr(text, dtstart=series.dtstart)
    except (ValueError, TypeError, OverflowError) as exc:
        raise BadRecurrence(field, f"not a valid rule: {exc}") from exc
    assert isinstance(parsed, rrule)
    return parsed


_MONTH_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _possible_days(text: str) -> bool:
    """For daily and weekly rules (whose search goes day by day, so an impossible one is slow to find
    out): whether some month allows one of the month days. Any such day falls on every weekday in time."""
    parts = dict(part.split("=", 1) for part in text.split(";"))  # the text is ours (see render_rule)
    if parts["FREQ"] == "DAILY" and "BYSETPOS" in parts:  # a day's set has one member
        return any(abs(int(p)) == 1 for p in parts["BYSETPOS"].split(","))
    if parts["FREQ"] not in ("DAILY", "WEEKLY") or "BYMONTHDAY" not in parts:
        return True
    months = [int(m) for m in parts["BYMONTH"].split(",")] if "BYMONTH" in parts else list(range(1, 13))
    days = [abs(int(d)) for d in parts["BYMONTHDAY"].split(",")]
    return any(day <= _MONTH_DAYS[month - 1] for month in months for day in days)


def _has_occurrence(rule: rrule, series: SeriesStart) -> bool:
    """Whether the rule (ignoring COUNT and UNTIL) occurs within PROBE_YEARS of the start. The Gregorian
    calendar repeats every 400 years, weekdays included, so the rule is tried on a start shifted near the
    year 9999: an impossible rule (say 30 February) then gives up quickly instead of searching millennia."""
    start = series.dtstart.replace(tzinfo=None)
    shifted = max(0, (9999 - PROBE_YEARS - start.year) // 400) * 400
    try:
        probe_start = start.replace(year=start.year + shifted)
        probe = rule.replace(dtstart=probe_start, until=None, count=None)
        found = probe.after(probe_start, inc=True)
    except (ValueError, OverflowError):
        return False
    return found is not None and found.year - probe_start.year <= PROBE_YEARS
