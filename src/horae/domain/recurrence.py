"""Recurring series: a series master expanded into its instances inside a read window, and the
exceptions (moved or cancelled instances) stored on the master. The rule shape accepted on upsert lives
in recurrence_rules.py.

The rules are RFC 5545 RRULEs evaluated by dateutil; this module only checks and translates them. A timed
series repeats in the wall-clock time of its start's zone (`start_tzid`), so a weekly 09:00 Europe/London
event is at 09:00 local in both GMT and BST. An all-day series repeats floating dates.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from dateutil.rrule import rruleset

from horae.domain.events import Event
from horae.domain.paging import Window, shift
from horae.domain.recurrence_rules import (
    EXCEPTIONS,
    INSTANCE_KEY,
    MAX_INSTANCES,
    ONE_SECOND,
    BadRecurrence,
    SeriesStart,
    basic_date,
    basic_utc,
    check,
    parse_rule,
    rule_texts,
)
from horae.domain.times import BadTime, EventTime, format_instant, parse_date, parse_instant

__all__ = ["EXCEPTIONS", "MAX_INSTANCES", "BadRecurrence", "SeriesStart", "check", "rule_texts"]


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
        rule = parse_rule(text, series, "recurrence")
        counted = re.search(r"(?:^|;)COUNT=(\d+)", text)  # the text is ours (see render_rule)
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
        return basic_utc(original)
    return basic_date(original)


def original_of(key: str) -> datetime | date:
    if "T" in key:
        return datetime.strptime(key, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    return datetime.strptime(key, "%Y%m%d").date()


def instance_uid(master: Event, key: str) -> str:
    return f"{master.event_uid}_{key}"


def split_uid(event_uid: str) -> tuple[str, str] | None:
    """(series uid, instance key) when `event_uid` names an instance of a series."""
    series, sep, key = event_uid.rpartition("_")
    if not sep or not series or not INSTANCE_KEY.match(key):
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
            for occurrence in rules.xafter(shift(original, -ONE_SECOND), inc=True):
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
        if INSTANCE_KEY.match(text):
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
