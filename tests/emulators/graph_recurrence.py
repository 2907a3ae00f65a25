"""Expanding a Microsoft Graph `patternedRecurrence` into occurrence start times (for calendarView delta)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from dateutil import rrule

from tests.emulators.common import zone

FREQ = {"daily": rrule.DAILY, "weekly": rrule.WEEKLY, "absoluteMonthly": rrule.MONTHLY}
FREQ |= {"relativeMonthly": rrule.MONTHLY, "absoluteYearly": rrule.YEARLY, "relativeYearly": rrule.YEARLY}
DAYS = {"monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5, "sunday": 6}
INDEX = {"first": 1, "second": 2, "third": 3, "fourth": 4, "last": -1}


def occurrence_starts(recurrence: dict[str, Any], first: datetime, window: tuple[datetime, datetime]) -> list[datetime]:
    """Starts of the series beginning at `first` (aware) that fall in [window start - slack, window end)."""
    pattern, rng = recurrence["pattern"], recurrence.get("range", {"type": "noEnd"})
    kwargs: dict[str, Any] = {"dtstart": first, "interval": int(pattern.get("interval", 1))}
    days = [rrule.weekday(DAYS[d]) for d in pattern.get("daysOfWeek", [])]
    kind = pattern["type"]
    if kind == "weekly" and days:
        kwargs["byweekday"] = days
        kwargs["wkst"] = DAYS[pattern.get("firstDayOfWeek", "sunday")]
    elif kind in ("absoluteMonthly", "absoluteYearly"):
        kwargs["bymonthday"] = int(pattern.get("dayOfMonth") or first.day)
    elif kind in ("relativeMonthly", "relativeYearly"):
        index = INDEX[pattern.get("index", "first")]
        kwargs["byweekday"] = [d(index) for d in days]
    if kind in ("absoluteYearly", "relativeYearly"):
        kwargs["bymonth"] = int(pattern.get("month") or first.month)
    if rng.get("type") == "numbered":
        kwargs["count"] = int(rng["numberOfOccurrences"])
    elif rng.get("type") == "endDate":
        end_day = date.fromisoformat(rng["endDate"])
        kwargs["until"] = datetime.combine(end_day, time.max, tzinfo=zone(rng.get("recurrenceTimeZone") or "UTC"))
    rule = rrule.rrule(FREQ[kind], **kwargs)
    start, end = window
    return [s for s in rule.between(start - timedelta(days=366), end, inc=False) if s < end]
