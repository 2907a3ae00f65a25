"""An availability query as the service takes it (times parsed, durations in seconds), and its limits."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from horae.errors import Problems

MAX_QUERY_PERIODS = 500
MAX_QUERY_SLOTS = 512
MAX_MEMBERS = 500
MAX_GROUPS = 50
MAX_SPAN = timedelta(days=366)
MAX_RESULTS = 512
MAX_EXPLAIN = 20
MAX_DURATION_MINUTES = 1440
DEFAULT_INTERVAL_MINUTES = 30
RESPONSE_FORMATS = ("periods", "slots", "overlapping_slots")


@dataclass(frozen=True)
class Caller:
    """Who asks: an application by its API key (no account), or an account's access token for one; with an
    element token, the application limited to the token's `subs`."""

    application_id: str
    account_id: str | None = None
    permissions: frozenset[str] = frozenset()
    subs: frozenset[str] | None = None  # None: any account that granted the application access


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime


@dataclass(frozen=True)
class BufferSpec:
    """Gaps in seconds: `before`/`after` are the least kept clear of other events; the maxima bound the
    gap to a neighbouring step in a sequence (None: no bound)."""

    before: int = 0
    after: int = 0
    before_max: int | None = None
    after_max: int | None = None


@dataclass(frozen=True)
class ConstraintSpec:
    period: str
    limit: int
    tzid: str | None = None


@dataclass(frozen=True)
class MemberSpec:
    sub: str
    calendar_ids: tuple[str, ...] | None = None
    available_periods: tuple[Period, ...] | None = None
    managed_availability: bool = False
    availability_rule_ids: tuple[str, ...] | None = None
    only_managed_events: bool = False
    ignore_tentative: bool = False
    buffer: BufferSpec | None = None
    constraints: tuple[ConstraintSpec, ...] = ()


@dataclass(frozen=True)
class GroupSpec:
    members: tuple[MemberSpec, ...]
    required: int | None = None  # None: all of them


@dataclass(frozen=True)
class ExcludedEvent:
    event_id: str | None = None
    event_uid: str | None = None


@dataclass(frozen=True)
class AvailabilityRequest:
    groups: tuple[GroupSpec, ...]
    periods: tuple[Period, ...]
    duration: int  # seconds
    interval: int = DEFAULT_INTERVAL_MINUTES * 60
    buffer: BufferSpec = BufferSpec()
    max_results: int = MAX_RESULTS
    response_format: str = "periods"
    query_slots: tuple[datetime, ...] | None = None
    include_member_statuses: bool = False
    excluded_events: tuple[ExcludedEvent, ...] = ()
    explain: tuple[datetime, ...] = field(default=())


def check(request: AvailabilityRequest, periods_field: str) -> None:
    """Limits the schema cannot state: each breach is a 422 naming its field."""
    problems = Problems()
    check_groups(request.groups, "participants", problems)
    if request.query_slots is None:
        check_periods(request.periods, periods_field, problems)
    elif len(request.query_slots) > MAX_QUERY_SLOTS:
        problems.add("query_slots", "errors.too_many", f"at most {MAX_QUERY_SLOTS} query_slots")
    problems.raise_any()


def check_groups(groups: tuple[GroupSpec, ...], name: str, problems: Problems) -> None:
    if not groups:
        problems.add(name, "errors.required", "participants must hold at least one group")
    if len(groups) > MAX_GROUPS:
        problems.add(name, "errors.too_many", f"at most {MAX_GROUPS} participant groups")
    if sum(len(g.members) for g in groups) > MAX_MEMBERS:
        problems.add(name, "errors.too_many", f"at most {MAX_MEMBERS} members in all")
    for group in groups:
        if not group.members:
            problems.add(name, "errors.required", "each participant group needs at least one member")
        elif group.required is not None and not 1 <= group.required <= len(group.members):
            problems.add(name, "errors.invalid", f"required must be 'all' or between 1 and {len(group.members)}")
        for member in group.members:
            if member.available_periods is not None:
                check_periods(member.available_periods, f"{name}.members.available_periods", problems)


def check_periods(periods: tuple[Period, ...], name: str, problems: Problems) -> None:
    if not periods:
        problems.add(name, "errors.required", f"{name} must hold at least one period")
        return
    if len(periods) > MAX_QUERY_PERIODS:
        problems.add(name, "errors.too_many", f"at most {MAX_QUERY_PERIODS} periods")
    if any(p.end <= p.start for p in periods):
        problems.add(name, "errors.end_before_start", "each period must end after it starts")
    elif max(p.end for p in periods) - min(p.start for p in periods) > MAX_SPAN:
        problems.add(name, "errors.span_too_long", f"the periods must lie within {MAX_SPAN.days} days")


MAX_STEPS = 10


@dataclass(frozen=True)
class StepSpec:
    """One step of a sequence: its own participants, length, grid, gaps and (optionally) periods."""

    step_id: object  # echoed back exactly as sent (a string or a number)
    ordinal: int
    groups: tuple[GroupSpec, ...]
    duration: int
    interval: int = DEFAULT_INTERVAL_MINUTES * 60
    buffer: BufferSpec = BufferSpec()
    periods: tuple[Period, ...] | None = None


@dataclass(frozen=True)
class SequenceRequest:
    steps: tuple[StepSpec, ...]
    periods: tuple[Period, ...] | None
    max_results: int = MAX_RESULTS


def check_sequence(request: SequenceRequest, periods_field: str) -> None:
    problems = Problems()
    if not 1 <= len(request.steps) <= MAX_STEPS:
        problems.add("sequence", "errors.invalid", f"a sequence has between 1 and {MAX_STEPS} steps")
    if len({step.ordinal for step in request.steps}) != len(request.steps):
        problems.add("sequence", "errors.duplicate_ordinal", "each step needs its own ordinal")
    for step in request.steps:
        check_groups(step.groups, "sequence.participants", problems)
        if step.periods is not None:
            check_periods(step.periods, "sequence.available_periods", problems)
        elif request.periods is None:
            problems.add(periods_field, "errors.required", "query_periods must be given, for the sequence or each step")
    if request.periods is not None:
        check_periods(request.periods, periods_field, problems)
    problems.raise_any()
