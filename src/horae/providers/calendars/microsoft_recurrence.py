"""Microsoft Graph's time zone names and recurrence patterns in Horae's terms: Windows or IANA zone names to IANA
ones and back, and `patternedRecurrence` to an RFC 5545 RRULE and back."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

from horae.domain.events import Event
from horae.domain.paging import day_start, shift
from horae.domain.recurrence_rules import SeriesStart, basic_date, basic_utc, rule_texts
from horae.domain.times import BadTime, EventTime, zone

UTC_NAMES = frozenset({"UTC", "Etc/UTC", "Etc/GMT", "tzone://Microsoft/Utc", "Coordinated Universal Time"})
DAYS = {"monday": "MO", "tuesday": "TU", "wednesday": "WE", "thursday": "TH", "friday": "FR", "saturday": "SA"}
DAYS["sunday"] = "SU"
DAY_NAMES = {code: name for name, code in DAYS.items()}
DAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")  # by datetime.weekday()
INDEXES = {"first": 1, "second": 2, "third": 3, "fourth": 4, "last": -1}
INDEX_NAMES = {number: name for name, number in INDEXES.items()}
FREQUENCIES = {"daily": "DAILY", "weekly": "WEEKLY", "absoluteMonthly": "MONTHLY", "relativeMonthly": "MONTHLY"}
FREQUENCIES |= {"absoluteYearly": "YEARLY", "relativeYearly": "YEARLY"}
_NTH_DAY = re.compile(r"^([+-]?\d)?(MO|TU|WE|TH|FR|SA|SU)$")


class Unsupported(ValueError):
    """A Horae series Outlook cannot hold (several rules, or parts patternedRecurrence has no room for)."""


def tzid_of(name: object, fallback: str = "Etc/UTC") -> str:
    """An IANA zone for a Graph time zone name (Windows or IANA); `fallback` when unknown or custom."""
    if not isinstance(name, str) or not name.strip():
        return fallback
    text = name.strip()
    if text in UTC_NAMES:
        return "Etc/UTC"
    for candidate in (text, WINDOWS_TO_OLSON.get(text, "")):
        try:
            zone(candidate)
            return candidate
        except BadTime:
            continue
    return fallback


def graph_zone(tzid: str) -> str:
    return "UTC" if tzid in UTC_NAMES else tzid


def rrule_of(rec: Mapping[str, Any], start: EventTime) -> str:
    """A Graph patternedRecurrence as one RRULE value (without `RRULE:`)."""
    pattern, rng = rec["pattern"], rec.get("range") or {}
    kind = str(pattern.get("type"))
    if kind not in FREQUENCIES:
        raise Unsupported(f"pattern type {kind!r}")
    parts = [f"FREQ={FREQUENCIES[kind]}"]
    interval = int(pattern.get("interval") or 1)
    if interval != 1:
        parts.append(f"INTERVAL={interval}")
    if rng.get("type") == "numbered":
        parts.append(f"COUNT={int(rng['numberOfOccurrences'])}")
    elif rng.get("type") == "endDate":
        last = date.fromisoformat(str(rng["endDate"]))
        if start.day is not None:
            parts.append(f"UNTIL={basic_date(last)}")
        else:  # to the end of that day where the series repeats
            where = zone(tzid_of(rng.get("recurrenceTimeZone"), start.tzid))
            parts.append(f"UNTIL={basic_utc(shift(day_start(last + timedelta(days=1), where), -timedelta(seconds=1)))}")
    days = [DAYS[str(d).lower()] for d in pattern.get("daysOfWeek") or []]
    index = INDEXES.get(str(pattern.get("index") or "first").lower(), 1)
    if kind == "weekly" and days:
        parts.append("BYDAY=" + ",".join(days))
    elif kind in ("relativeMonthly", "relativeYearly"):
        if not days:
            raise Unsupported("a relative pattern without days")
        parts.append(f"BYDAY={index}{days[0]}" if len(days) == 1 else "BYDAY=" + ",".join(days))
    if kind in ("absoluteMonthly", "absoluteYearly"):
        parts.append(f"BYMONTHDAY={int(pattern['dayOfMonth'])}")
    if kind in ("absoluteYearly", "relativeYearly"):
        parts.append(f"BYMONTH={int(pattern['month'])}")
    if kind in ("relativeMonthly", "relativeYearly") and len(days) > 1:
        parts.append(f"BYSETPOS={index}")
    if kind == "weekly" and interval != 1 and pattern.get("firstDayOfWeek"):
        parts.append(f"WKST={DAYS[str(pattern['firstDayOfWeek']).lower()]}")
    return ";".join(parts)


def recurrence_of(event: Event) -> dict[str, Any]:
    """The Graph patternedRecurrence for a Horae series master; Unsupported when Outlook cannot hold it."""
    series = SeriesStart.of_event(event)
    texts = rule_texts(event.recurrence, series)
    if len(texts) != 1:
        raise Unsupported("an Outlook series has exactly one rule")
    parts = dict(part.split("=", 1) for part in texts[0].split(";"))  # Horae's own rendering: well formed
    local = series.dtstart
    freq, interval = parts.pop("FREQ"), int(parts.pop("INTERVAL", "1"))
    count, until, wkst = parts.pop("COUNT", None), parts.pop("UNTIL", None), parts.pop("WKST", "MO")
    pattern: dict[str, Any] = {"interval": interval}
    if freq == "DAILY" and not parts:
        pattern["type"] = "daily"
    elif freq in ("DAILY", "WEEKLY") and set(parts) <= {"BYDAY"} and (freq == "WEEKLY" or interval == 1):
        days = parts.get("BYDAY", DAY_CODES[local.weekday()]).split(",")
        if any(d not in DAY_NAMES for d in days):
            raise Unsupported("weekly rules take plain weekdays")
        pattern |= {"type": "weekly", "daysOfWeek": [DAY_NAMES[d] for d in days], "firstDayOfWeek": DAY_NAMES[wkst]}
    elif freq in ("MONTHLY", "YEARLY"):
        pattern |= _monthly(freq, parts, local)
    else:
        raise Unsupported(f"{texts[0]} has no Outlook pattern")
    rng: dict[str, Any] = {
        "type": "noEnd",
        "startDate": local.date().isoformat(),
        "recurrenceTimeZone": graph_zone(series.tzid),
    }
    if count is not None:
        rng |= {"type": "numbered", "numberOfOccurrences": int(count)}
    elif until is not None:
        rng |= {"type": "endDate", "endDate": _until_day(until, series).isoformat()}
    return {"pattern": pattern, "range": rng}


def _monthly(freq: str, parts: dict[str, str], local: datetime) -> dict[str, Any]:
    yearly = freq == "YEARLY"
    if not yearly and "BYMONTH" in parts:
        raise Unsupported("a monthly pattern runs every month")
    months = parts.pop("BYMONTH", str(local.month)).split(",")
    if len(months) != 1:
        raise Unsupported("a yearly pattern has one month")
    found: dict[str, Any] = {"month": int(months[0])} if yearly else {}
    if "BYDAY" not in parts:
        monthdays = parts.pop("BYMONTHDAY", str(local.day)).split(",")
        if parts or len(monthdays) != 1 or int(monthdays[0]) < 1:
            raise Unsupported("one positive day of the month only")
        return found | {"type": "absoluteYearly" if yearly else "absoluteMonthly", "dayOfMonth": int(monthdays[0])}
    days = parts.pop("BYDAY").split(",")
    setpos = parts.pop("BYSETPOS", None)
    matches = [_NTH_DAY.match(d) for d in days]
    if parts or not all(matches):
        raise Unsupported("relative patterns take weekdays and one position")
    numbers = {int(m.group(1)) for m in matches if m and m.group(1)}
    if setpos is not None and not numbers and setpos.lstrip("-").isdigit():
        numbers = {int(setpos)}
    elif setpos is not None or len(days) != 1:
        raise Unsupported("relative patterns take weekdays and one position")
    if len(numbers) != 1 or next(iter(numbers)) not in INDEX_NAMES:
        raise Unsupported("the position must be first to fourth, or last")
    names = [DAY_NAMES[m.group(2)] for m in matches if m]
    kind = "relativeYearly" if yearly else "relativeMonthly"
    return found | {"type": kind, "daysOfWeek": names, "index": INDEX_NAMES[next(iter(numbers))]}


def _until_day(until: str, series: SeriesStart) -> date:
    if "T" not in until:
        return date(int(until[:4]), int(until[4:6]), int(until[6:8]))
    moment = datetime.strptime(until.rstrip("Z"), "%Y%m%dT%H%M%S").replace(tzinfo=UTC)
    return moment.astimezone(series.zone).date()
