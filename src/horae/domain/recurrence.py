"""Recurring series: the rule shape Horae accepts on upsert, a series master expanded into its instances
inside a read window, and the exceptions (moved or cancelled instances) stored on the master.

The rules are RFC 5545 RRULEs evaluated by dateutil; this module only checks and translates them. A timed
series repeats in the wall-clock time of its start's zone (`start_tzid`), so a weekly 09:00 Europe/London
event is at 09:00 local in both GMT and BST. An all-day series repeats floating dates.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from dateutil.rrule import rrule, rruleset, rrulestr

from horae.domain.events import Event
from horae.domain.paging import Window, day_start, shift
from horae.domain.times import BadTime, EventTime, format_instant, parse_date, parse_instant, zone

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
_KEY = re.compile(r"^\d{8}(T\d{6}Z)?$")
_BASIC_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_BASIC_TIME = re.compile(r"^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(Z?)$")
_ONE_SECOND = timedelta(seconds=1)


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
            rule = _parse(text, series, field)
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
            found.append((_render(_structured(rule, field), series, field), field))
    raw = recurrence.get("rrule")
    if raw is not None:
        texts = [raw] if isinstance(raw, str) else raw
        if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
            raise BadRecurrence("recurrence.rrule", "rrule must be an RRULE string or a list of them")
        for index, text in enumerate(texts):
            field = "recurrence.rrule" if isinstance(raw, str) else f"recurrence.rrule.{index}"
            found.append((_render(_from_rrule(text, field), series, field, per_field=False), field))
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


def _render(rule: dict[str, Any], series: SeriesStart, field: str, per_field: bool = True) -> str:
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
            return _basic_date(value.astimezone(series.zone))
        return _basic_utc(value)
    if isinstance(value, date):
        if series.day is not None:
            return _basic_date(value)
        last = shift(day_start(value + timedelta(days=1), series.zone), -_ONE_SECOND)
        return _basic_utc(last)
    raise BadRecurrence(field, "until must be a date (2027-12-31) or a time (2027-12-31T09:00:00Z)")


def _basic_date(day: date) -> str:
    """RFC 5545's basic date (strftime would not pad years before 1000)."""
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"


def _basic_utc(instant: datetime) -> str:
    utc = instant.astimezone(UTC)
    return f"{_basic_date(utc)}T{utc.hour:02d}{utc.minute:02d}{utc.second:02d}Z"


def _parse(text: str, series: SeriesStart, field: str) -> rrule:
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
    parts = dict(part.split("=", 1) for part in text.split(";"))  # the text is ours (see _render)
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


# --- expanding a series ------------------------------------------------------------------------


@dataclass(frozen=True)
class Instance:
    """One instance of a series: where it is now, and the exception that moved or cancelled it, if any."""

    key: str  # the original start: 20260309T090000Z (UTC) or 20260309 (all-day)
    starts_at: datetime | None
    ends_at: datetime | None
    start_date: date | None
    end_date: date | None
    start_tzid: str
    end_tzid: str
    exception: Mapping[str, Any] | None

    @property
    def deleted(self) -> bool:
        return bool(self.exception and self.exception.get("deleted"))

    @property
    def fields(self) -> Mapping[str, Any]:
        """Values that differ from the master (summary, description, location, ...)."""
        found = self.exception.get("fields") if self.exception else None
        return found if isinstance(found, Mapping) else {}


def is_series(event: Event) -> bool:
    """Whether a stored event is a series master Horae can expand."""
    if not event.recurrence:
        return False
    if event.all_day and (event.start_date is None or event.end_date is None):
        return False
    if not event.all_day and (event.starts_at is None or event.ends_at is None):
        return False
    try:
        _ruleset(event)
    except (BadRecurrence, OverflowError, ValueError):
        return False
    return True


def _ruleset(master: Event) -> rruleset:
    series = SeriesStart.of_event(master)
    rules = rruleset()
    for text in rule_texts(master.recurrence, series):
        rule = _parse(text, series, "recurrence")
        counted = re.search(r"(?:^|;)COUNT=(\d+)", text)  # the text is ours (see _render)
        count = int(counted.group(1)) if counted else None
        if count is not None and next(iter(rule), None) != series.dtstart:
            # RFC 5545: DTSTART counts as the first occurrence even when the rule does not match it.
            if count == 1:
                continue
            rule = rule.replace(count=count - 1)
        rules.rrule(rule)
    rules.rdate(series.dtstart)  # the event's own start is always the first instance
    return rules


def key_of(original: datetime | date) -> str:
    if isinstance(original, datetime):
        return _basic_utc(original)
    return _basic_date(original)


def original_of(key: str) -> datetime | date:
    if "T" in key:
        return datetime.strptime(key, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    return datetime.strptime(key, "%Y%m%d").date()


def instance_uid(master: Event, key: str) -> str:
    return f"{master.event_uid}_{key}"


def split_uid(event_uid: str) -> tuple[str, str] | None:
    """(series uid, instance key) when `event_uid` names an instance of a series."""
    series, sep, key = event_uid.rpartition("_")
    if not sep or not series or not _KEY.match(key):
        return None
    try:
        original_of(key)
    except ValueError:
        return None
    return series, key


def exceptions(master: Event) -> dict[str, dict[str, Any]]:
    found = master.details.get(EXCEPTIONS) if isinstance(master.details, Mapping) else None
    if not isinstance(found, Mapping):
        return {}
    return {str(k): dict(v) for k, v in found.items() if isinstance(v, Mapping)}


def _originals(master: Event, window: Window) -> Iterator[tuple[str, Instance]]:
    """The series' own (unmoved) instances whose slot meets the window, in order."""
    rules = _ruleset(master)
    if master.all_day:
        assert master.start_date is not None and master.end_date is not None
        length = master.end_date - master.start_date
        try:
            low = datetime.combine(window.first_day, time()) - length
        except OverflowError:
            low = datetime.min
        high = datetime.combine(window.last_day, time())
        for occurrence in rules.xafter(low, inc=True):
            if occurrence >= high:
                return
            first = occurrence.date()
            try:
                last = first + length
            except OverflowError:
                return
            if window.has_days(first, last):
                key = key_of(first)
                yield key, Instance(key, None, None, first, last, master.start_tzid, master.end_tzid, None)
        return
    assert master.starts_at is not None and master.ends_at is not None
    duration = master.ends_at - master.starts_at
    low_instant = shift(window.start, -duration)
    for occurrence in rules.xafter(low_instant, inc=True):
        begins = occurrence.astimezone(UTC)
        if begins >= window.end:
            return
        ends = shift(begins, duration)
        if window.has_timed(begins, ends):
            key = key_of(begins)
            yield key, Instance(key, begins, ends, None, None, master.start_tzid, master.end_tzid, None)


def instances(master: Event, window: Window, include_moved: bool = False) -> list[Instance]:
    """The instances of a series master in a window: its own slots (cancelled ones marked deleted, moved
    ones where they are now, or also where they were with `include_moved`), and instances moved into the
    window from elsewhere. At most MAX_INSTANCES."""
    changed = exceptions(master)
    found: list[Instance] = []
    seen: set[str] = set()
    for key, instance in _guarded(_originals(master, window)):
        if len(found) >= MAX_INSTANCES:
            return found
        seen.add(key)
        exception = changed.get(key)
        if exception is None:
            found.append(instance)
        elif exception.get("deleted"):
            found.append(_replace_exception(instance, exception))
        else:
            moved = _moved(master, key, exception)
            if moved is not None and (include_moved or _meets(moved, window)):
                found.append(moved)
    for key, exception in sorted(changed.items()):
        if key in seen or exception.get("deleted") or len(found) >= MAX_INSTANCES:
            continue
        moved = _moved(master, key, exception)
        if moved is not None and _meets(moved, window) and occurs(master, key):
            found.append(moved)
    return found


def _guarded(found: Iterator[tuple[str, Instance]]) -> Iterator[tuple[str, Instance]]:
    """Stop quietly where a series runs into the ends of the calendar (years 1 and 9999)."""
    try:
        yield from found
    except (OverflowError, ValueError):
        return


def _replace_exception(instance: Instance, exception: Mapping[str, Any]) -> Instance:
    return Instance(
        instance.key,
        instance.starts_at,
        instance.ends_at,
        instance.start_date,
        instance.end_date,
        instance.start_tzid,
        instance.end_tzid,
        exception,
    )


def _meets(instance: Instance, window: Window) -> bool:
    if instance.starts_at is not None and instance.ends_at is not None:
        return window.has_timed(instance.starts_at, instance.ends_at)
    assert instance.start_date is not None and instance.end_date is not None
    return window.has_days(instance.start_date, instance.end_date)


def _moved(master: Event, key: str, exception: Mapping[str, Any]) -> Instance | None:
    """Where a moved instance is now (None when the stored exception does not fit the series any more)."""
    start, end = exception.get("start"), exception.get("end")
    start_tzid = str(exception.get("start_tzid") or master.start_tzid)
    end_tzid = str(exception.get("end_tzid") or master.end_tzid)
    try:
        if master.all_day:
            first, last = parse_date(str(start)), parse_date(str(end))
            return Instance(key, None, None, first, last, start_tzid, end_tzid, exception)
        begins, ends = parse_instant(str(start)), parse_instant(str(end))
        return Instance(key, begins, ends, None, None, start_tzid, end_tzid, exception)
    except (BadTime, OverflowError):
        return None


def occurs(master: Event, key: str) -> bool:
    """Whether the series has an instance starting at the original start `key`."""
    try:
        original = original_of(key)
    except ValueError:
        return False
    if master.all_day != (not isinstance(original, datetime)):
        return False
    try:
        rules = _ruleset(master)
        if isinstance(original, datetime):
            for occurrence in rules.xafter(shift(original, -_ONE_SECOND), inc=True):
                return bool(occurrence.astimezone(UTC) == original)
            return False
        for occurrence in rules.xafter(datetime.combine(original, time()), inc=True):
            return bool(occurrence.date() == original)
    except (BadRecurrence, OverflowError, ValueError):
        return False
    return False


# --- changing one instance ---------------------------------------------------------------------


def instance_key(master: Event, reference: str) -> str:
    """The key of the instance `reference` names: the instance's event_uid as reads show it, or its
    original start (a UTC time for timed series, a date for all-day ones). BadRecurrence otherwise."""
    prefix = master.event_uid + "_"
    text = reference[len(prefix) :] if reference.startswith(prefix) else reference.strip()
    original: datetime | date
    try:
        if _KEY.match(text):
            original = original_of(text)
        elif master.all_day:
            original = parse_date(text)
        else:
            original = parse_instant(text)
    except (BadTime, ValueError, OverflowError) as exc:
        raise BadRecurrence("instance", f"{reference!r} is not an instance's event_uid or original start") from exc
    key = key_of(original)
    if not occurs(master, key):
        raise BadRecurrence("instance", f"the series has no instance starting {format_original(original)}")
    return key


def format_original(original: datetime | date) -> str:
    return format_instant(original) if isinstance(original, datetime) else original.isoformat()


def moved_exception(
    master: Event, start: EventTime, end: EventTime, fields: Mapping[str, Any], now: datetime, changed_by: str | None
) -> dict[str, Any]:
    """The exception for an instance moved to [start, end) (and given these field values)."""
    if start.all_day != master.all_day:
        kind = "dates" if master.all_day else "times"
        raise BadRecurrence("start", f"an instance of this series must start and end with {kind}, as the series")
    if start.day is not None and end.day is not None:
        wire = (start.day.isoformat(), end.day.isoformat())
    else:
        assert start.instant is not None and end.instant is not None
        wire = (format_instant(start.instant), format_instant(end.instant))
    return {
        "deleted": False,
        "start": wire[0],
        "end": wire[1],
        "start_tzid": start.tzid,
        "end_tzid": end.tzid,
        "fields": dict(fields),
        "updated": format_instant(now),
        "changed_by": changed_by,
    }


def cancelled_exception(now: datetime, changed_by: str | None) -> dict[str, Any]:
    return {"deleted": True, "updated": format_instant(now), "changed_by": changed_by}


def with_exception(master: Event, key: str, exception: Mapping[str, Any]) -> dict[str, Any]:
    """The master's new `details`, with this instance's exception set (a new dict, so it is saved)."""
    changed = exceptions(master)
    changed[key] = dict(exception)
    return {**master.details, EXCEPTIONS: changed}
