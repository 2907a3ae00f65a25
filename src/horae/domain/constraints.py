"""Availability constraints: a member who already has `limit` events in a local day or week is not
available for the rest of that day or week."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo

from horae.domain.intervals import Span, normalize, subtract
from horae.domain.paging import day_start

PERIODS = ("day", "week")


@dataclass(frozen=True)
class Constraint:
    period: str  # "day" | "week" (weeks start on Monday, ISO 8601)
    limit: int
    zone: tzinfo


def _period_of(instant: int, constraint: Constraint) -> date:
    day = datetime.fromtimestamp(instant, UTC).astimezone(constraint.zone).date()
    return day - timedelta(days=day.weekday()) if constraint.period == "week" else day


def _span_of(first: date, constraint: Constraint) -> Span:
    length = 7 if constraint.period == "week" else 1
    start = day_start(first, constraint.zone)
    end = day_start(first + timedelta(days=length), constraint.zone)
    return int(start.timestamp()), int(end.timestamp())


def allowed(event_starts: Sequence[int], constraint: Constraint, within: Span) -> tuple[Span, ...]:
    """The part of `within` outside the days (or weeks) in which `limit` or more events start."""
    counts = Counter(_period_of(start, constraint) for start in event_starts)
    full = normalize(_span_of(first, constraint) for first, count in counts.items() if count >= constraint.limit)
    return tuple(subtract([within], full))
