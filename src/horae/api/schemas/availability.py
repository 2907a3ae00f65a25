"""The availability query as Cronofy documents it, its translation into the service's request, and the
response shapes."""

from __future__ import annotations

import json
import time
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from horae.api.schemas.events import TimeObject
from horae.domain.availability import Explanation, Found
from horae.domain.times import BadTime, format_instant, parse_event_time
from horae.errors import Problems
from horae.services import availability_request as req
from horae.services.availability import Answer


class Loose(BaseModel):
    model_config = ConfigDict(extra="ignore")


When = str | TimeObject


class Duration(Loose):
    minutes: int | None = Field(None, ge=0, le=100_000)
    hours: int | None = Field(None, ge=0, le=1_000)


class BufferSide(Loose):
    minutes: int | None = Field(None, ge=0, le=100_000)
    minimum: Duration | None = None
    maximum: Duration | None = None


class BufferIn(Loose):
    before: BufferSide | None = None
    after: BufferSide | None = None


class PeriodIn(Loose):
    start: When
    end: When


class SlotIn(Loose):
    start: When


class ConstraintIn(Loose):
    period: Literal["day", "week"]
    limit: int = Field(ge=1, le=10_000)
    tzid: str | None = None
    tags: Any = None


class MemberIn(Loose):
    sub: str = Field(min_length=1, max_length=255)
    calendar_ids: list[str] | None = None
    available_periods: list[PeriodIn] | None = None
    managed_availability: bool = False
    availability_rule_ids: list[str] | None = None
    only_managed_events: bool = False
    ignore_tentative: bool = False
    buffer: BufferIn | None = None
    availability_constraints: list[ConstraintIn] | None = None


class GroupIn(Loose):
    members: list[MemberIn]
    required: Literal["all"] | int = "all"


class ExcludedIn(Loose):
    event_id: str | None = None
    event_uid: str | None = None


class AvailabilityIn(Loose):
    participants: list[GroupIn]
    required_duration: Duration | int
    query_periods: list[PeriodIn] | None = None
    available_periods: list[PeriodIn] | None = None
    query_slots: list[SlotIn] | None = None
    start_interval: Duration | int | None = None
    buffer: BufferIn | None = None
    max_results: int = Field(req.MAX_RESULTS, ge=1, le=req.MAX_RESULTS)
    response_format: Literal["periods", "slots", "overlapping_slots"] = "periods"
    include_member_statuses: bool = False
    excluded_events: list[ExcludedIn] | None = None
    explain: list[str] | None = Field(None, max_length=req.MAX_EXPLAIN)


# --- into the service's terms ------------------------------------------------------------------------


def instant_of(value: When, name: str, problems: Problems) -> datetime | None:
    raw = value.model_dump() if isinstance(value, TimeObject) else value
    try:
        parsed = parse_event_time(raw, "Etc/UTC")
    except (BadTime, OverflowError) as exc:
        problems.add(name, "errors.invalid_time", f"{name}: {exc}")
        return None
    if parsed.instant is None:
        problems.add(name, "errors.invalid_time", f"{name} must be a time like 2026-11-24T09:00:00Z, not a date")
    return parsed.instant


def periods_of(given: list[PeriodIn], name: str, problems: Problems) -> tuple[req.Period, ...]:
    found = []
    for period in given:
        start, end = instant_of(period.start, name, problems), instant_of(period.end, name, problems)
        if start is not None and end is not None:
            found.append(req.Period(start, end))
    return tuple(found)


def minutes_of(value: Duration | int | None, name: str, problems: Problems, low: int, high: int) -> int | None:
    """Seconds in `{minutes}` / `{hours}` (pycronofy also sends a bare number of minutes)."""
    if value is None:
        return None
    total = value if isinstance(value, int) else (value.minutes or 0) + 60 * (value.hours or 0)
    if not low <= total <= high:
        problems.add(name, "errors.out_of_range", f"{name} must be between {low} and {high} minutes")
        return None
    return total * 60


def buffer_of(given: BufferIn | None) -> req.BufferSpec:
    if given is None:
        return req.BufferSpec()

    def least(side: BufferSide | None) -> int:
        if side is None:
            return 0
        low = (side.minimum.minutes or 0) + 60 * (side.minimum.hours or 0) if side.minimum else 0
        return 60 * max(side.minutes or 0, low)

    def most(side: BufferSide | None) -> int | None:
        if side is None or side.maximum is None:
            return None
        return 60 * ((side.maximum.minutes or 0) + 60 * (side.maximum.hours or 0))

    return req.BufferSpec(least(given.before), least(given.after), most(given.before), most(given.after))


def groups_of(given: list[GroupIn], problems: Problems, name: str = "participants") -> tuple[req.GroupSpec, ...]:
    groups = []
    for group in given:
        members = tuple(_member(m, problems, name) for m in group.members)
        groups.append(req.GroupSpec(members, None if group.required == "all" else group.required))
    return tuple(groups)


def _member(member: MemberIn, problems: Problems, name: str) -> req.MemberSpec:
    constraints = []
    for c in member.availability_constraints or []:
        if c.tags is not None:
            problems.add(name, "errors.unsupported", "availability_constraints by tags are not supported")
        constraints.append(req.ConstraintSpec(c.period, c.limit, c.tzid))
    periods = member.available_periods
    return req.MemberSpec(
        sub=member.sub,
        calendar_ids=tuple(member.calendar_ids) if member.calendar_ids is not None else None,
        available_periods=periods_of(periods, f"{name}.members.available_periods", problems) if periods else None,
        managed_availability=member.managed_availability,
        availability_rule_ids=tuple(member.availability_rule_ids) if member.availability_rule_ids is not None else None,
        only_managed_events=member.only_managed_events,
        ignore_tentative=member.ignore_tentative,
        buffer=buffer_of(member.buffer) if member.buffer is not None else None,
        constraints=tuple(constraints),
    )


def to_request(data: AvailabilityIn) -> tuple[req.AvailabilityRequest, str]:
    """The service's request, and the name of the field the periods came in; 422 naming each bad field."""
    problems = Problems()
    if data.query_periods is not None and data.available_periods is not None:
        problems.add("query_periods", "errors.ambiguous", "give query_periods or available_periods, not both")
    field = "available_periods" if data.available_periods is not None else "query_periods"
    given = data.query_periods if data.query_periods is not None else data.available_periods
    if given is None and data.query_slots is None:
        problems.add("query_periods", "errors.required", "query_periods (or query_slots) must be given")
    periods = periods_of(given or [], field, problems)
    slots = None
    if data.query_slots is not None:
        found = [instant_of(s.start, "query_slots", problems) for s in data.query_slots]
        slots = tuple(t for t in found if t is not None)
    duration = minutes_of(data.required_duration, "required_duration", problems, 1, req.MAX_DURATION_MINUTES)
    interval = minutes_of(data.start_interval, "start_interval", problems, 1, req.MAX_DURATION_MINUTES)
    explain = [t for t in (instant_of(text, "explain", problems) for text in data.explain or []) if t is not None]
    excluded = tuple(req.ExcludedEvent(e.event_id, e.event_uid) for e in data.excluded_events or [])
    if any(e.event_id is None and e.event_uid is None for e in excluded):
        problems.add("excluded_events", "errors.invalid", "each excluded event needs an event_id or an event_uid")
    groups = groups_of(data.participants, problems)
    problems.raise_any()
    assert duration is not None
    request = req.AvailabilityRequest(
        groups=groups,
        periods=periods,
        duration=duration,
        interval=interval or req.DEFAULT_INTERVAL_MINUTES * 60,
        buffer=buffer_of(data.buffer),
        max_results=data.max_results,
        response_format=data.response_format,
        query_slots=slots,
        include_member_statuses=data.include_member_statuses,
        excluded_events=excluded,
        explain=tuple(explain),
    )
    return request, field


# --- the response ------------------------------------------------------------------------------------


class Participant(BaseModel):
    sub: str


class Available(BaseModel):
    start: str
    end: str
    participants: list[Participant]


class MemberStatusOut(BaseModel):
    sub: str
    sync_status: str = Field(description="active | pending | disconnected")
    last_synced_at: str | None = None


class ReasonOut(BaseModel):
    reason: str = Field(
        description="outside_query_periods | available_periods | managed_availability | "
        "availability_constraints | busy | buffer | not_enough_members"
    )
    sub: str | None = None
    start: str | None = None
    end: str | None = None
    calendar_id: str | None = None
    group: int | None = Field(None, description="index of the participant group that cannot be met")


class ExplanationOut(BaseModel):
    start: str
    end: str
    available: bool
    participants: list[Participant]
    reasons: list[ReasonOut]


class AvailabilityResponse(BaseModel):
    available_periods: list[Available] | None = None
    available_slots: list[Available] | None = None
    member_statuses: list[MemberStatusOut] | None = None
    explanations: list[ExplanationOut] | None = None


def format_seconds(seconds: int) -> str:
    """Cronofy's wire form of an epoch second (what format_instant gives, without making a datetime)."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def _time(seconds: int | None) -> str | None:
    return None if seconds is None else format_seconds(seconds)


def _explanation(item: Explanation) -> dict[str, Any]:
    reasons = [
        {
            "reason": r.reason,
            "sub": r.sub,
            "start": _time(r.start),
            "end": _time(r.end),
            "calendar_id": r.source or None,
            "group": r.group,
        }
        for r in item.reasons
    ]
    return {
        "start": format_seconds(item.start),
        "end": format_seconds(item.end),
        "available": item.available,
        "participants": [{"sub": s} for s in item.participants],
        "reasons": [{k: v for k, v in r.items() if v is not None} for r in reasons],
    }


def _compact(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def found_json(found: list[Found]) -> str:
    """Periods or slots as JSON text, written directly: a big answer has 512 slots of hundreds of
    participants, and encoding each participant list once (they repeat from slot to slot) takes a
    fraction of encoding every one."""
    lists: dict[tuple[str, ...], str] = {}
    items = []
    for f in found:
        who = lists.get(f.participants)
        if who is None:
            who = lists[f.participants] = _compact([{"sub": s} for s in f.participants])
        # The times are generated ASCII (no escaping needed); the participants are encoded above.
        items.append(f'{{"start":"{format_seconds(f.start)}","end":"{format_seconds(f.end)}","participants":{who}}}')
    return "[" + ",".join(items) + "]"


def availability_json(answer: Answer) -> bytes:
    """The response body (documented by AvailabilityResponse)."""
    rest: dict[str, Any] = {}
    if answer.statuses is not None:
        rest["member_statuses"] = [
            {"sub": s.sub, "sync_status": s.sync_status}
            | ({"last_synced_at": format_instant(s.last_synced_at)} if s.last_synced_at else {})
            for s in answer.statuses
        ]
    if answer.explanations is not None:
        rest["explanations"] = [_explanation(e) for e in answer.explanations]
    tail = "," + _compact(rest)[1:] if rest else "}"
    return ("{" + _compact(answer.key) + ":" + found_json(answer.found) + tail).encode()
