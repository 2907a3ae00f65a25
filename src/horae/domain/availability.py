"""The availability engine: who is free when, as periods or slots, from busy blocks already read.

Pure: times are integer UTC seconds, nothing is read or clocked here. A member is free inside every one of
its limits (query periods, its own available periods, its managed availability, its constraints) and
outside its busy blocks widened by the buffer. A group needs `required` of its members free for the whole
of a meeting (the same people from start to end), and every group must be satisfied at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from horae.domain.intervals import Span, at_least, holding, intersect, normalize, subtract

NO_LIMIT = 1 << 62


@dataclass(frozen=True)
class Buffer:
    """Time kept clear of other events before a meeting starts and after it ends (seconds)."""

    before: int = 0
    after: int = 0


class Busy(NamedTuple):
    """A busy block and where it came from (a calendar id), for explanations. A tuple: there are many."""

    start: int
    end: int
    source: str = ""


@dataclass(frozen=True)
class Limit:
    """Spans a member may only be available within, and the reason reported when outside them."""

    reason: str
    spans: tuple[Span, ...]

    def __post_init__(self) -> None:  # everything downstream relies on sorted, merged spans
        object.__setattr__(self, "spans", tuple(normalize(self.spans)))


@dataclass(frozen=True)
class Member:
    sub: str
    busy: Sequence[Busy] = ()
    limits: tuple[Limit, ...] = ()
    buffer: Buffer | None = None  # replaces the query's buffer for this member's events


@dataclass(frozen=True)
class Group:
    members: tuple[Member, ...]
    required: int  # how many members must attend; len(members) for "all"

    @property
    def everyone(self) -> bool:
        return self.required >= len(self.members)


@dataclass(frozen=True)
class Query:
    groups: tuple[Group, ...]
    periods: tuple[Span, ...]
    duration: int
    interval: int
    buffer: Buffer = Buffer()
    max_results: int = 512

    def __post_init__(self) -> None:  # everything downstream relies on sorted, merged periods
        object.__setattr__(self, "periods", tuple(normalize(self.periods)))


@dataclass(frozen=True)
class Found:
    """An available period or slot and the members who attend it."""

    start: int
    end: int
    participants: tuple[str, ...]


@dataclass(frozen=True)
class Reason:
    """Why a member (or, with no sub, the query itself) cannot attend at an explained time."""

    reason: str
    sub: str | None = None
    start: int | None = None
    end: int | None = None
    source: str | None = None
    group: int | None = None


@dataclass(frozen=True)
class Explanation:
    start: int
    end: int
    available: bool
    participants: tuple[str, ...]
    reasons: tuple[Reason, ...] = field(default=())


# --- free time ---------------------------------------------------------------------------------------


def member_free(member: Member, periods: Sequence[Span], duration: int, buffer: Buffer) -> list[Span]:
    """Where the member could attend a meeting of `duration`: inside its limits, clear of widened busy."""
    allowed = list(periods)
    for limit in member.limits:
        allowed = intersect(allowed, limit.spans)
    buf = member.buffer or buffer
    blocked = normalize((b.start - buf.after, b.end + buf.before) for b in member.busy)
    return at_least(subtract(allowed, blocked), duration)


@dataclass
class _Prepared:
    """Each member's free spans, and the time every "all" group shares."""

    base: list[Span]
    everyone: tuple[str, ...]
    partial: list[tuple[Group, list[list[Span]], list[list[int]]]]
    base_starts: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.base_starts = [s for s, _ in self.base]


def _prepare(query: Query) -> _Prepared:
    base = at_least(normalize(query.periods), query.duration)
    everyone: list[str] = []
    partial = []
    for group in query.groups:
        frees = [member_free(m, base, query.duration, query.buffer) for m in group.members]
        if group.everyone:
            for free in frees:
                base = at_least(intersect(base, free), query.duration)
            everyone.extend(m.sub for m in group.members)
        else:
            partial.append((group, frees, [[s for s, _ in free] for free in frees]))
    return _Prepared(base, tuple(everyone), partial)


def _attending(prepared: _Prepared, start: int, end: int) -> tuple[int, tuple[str, ...]] | None:
    """For a meeting starting at `start` and lasting at least to `end`: how long the best choice of
    members can stay (the latest end), and who they are; None when some group cannot be met."""
    span = holding(prepared.base, prepared.base_starts, start, end)
    if span is None:
        return None
    until = span[1]
    chosen = list(prepared.everyone)
    for group, frees, starts in prepared.partial:
        if group.required <= 0:
            continue
        ends = []
        for index, (free, free_starts) in enumerate(zip(frees, starts, strict=True)):
            piece = holding(free, free_starts, start, end)
            if piece is not None:
                ends.append((-piece[1], index))
        if len(ends) < group.required:
            return None
        best = sorted(ends)[: group.required]
        until = min(until, -best[-1][0])
        chosen.extend(group.members[index].sub for _, index in sorted(best, key=lambda pair: pair[1]))
    return until, tuple(chosen)


# --- periods and slots -------------------------------------------------------------------------------


def find_periods(query: Query) -> list[Found]:
    """Maximal periods at least `duration` long in which one choice of members is free throughout.
    With only "all" groups they never overlap; an N-of-M group may give overlapping periods, each
    naming the members it was found for."""
    prepared = _prepare(query)
    candidates = _candidates(prepared) if prepared.partial else []
    return _periods(prepared, query.duration, query.max_results, candidates)


def _candidates(prepared: _Prepared) -> list[int]:
    """Where a maximal period can start: where the shared time or some N-of-M member's free time does."""
    found = {s for s, _ in prepared.base}
    for _, frees, _ in prepared.partial:
        found.update(s for free in frees for s, _ in free)
    return sorted(found)


def _periods(prepared: _Prepared, duration: int, max_results: int, candidates: list[int]) -> list[Found]:
    if not prepared.partial:
        return [Found(s, e, prepared.everyone) for s, e in prepared.base[:max_results]]
    found: list[Found] = []
    reach = -NO_LIMIT
    for start in candidates:
        attending = _attending(prepared, start, start + duration)
        if attending is None:
            continue
        until, who = attending
        # A period ending no later than one already found lies inside it: only maximal ones are kept.
        if until <= reach:
            continue
        found.append(Found(start, until, who))
        reach = until
        if len(found) >= max_results:
            break
    return found


def _align_up(instant: int, interval: int) -> int:
    return -(-instant // interval) * interval


def find_slots(query: Query, overlapping: bool) -> list[Found]:
    """Slots of exactly `duration` starting on the `interval` grid (counted from the Unix epoch, so
    30 minutes gives :00 and :30 UTC). Plain slots follow each other without overlapping; overlapping
    slots start at every grid point that fits."""
    prepared = _prepare(query)
    spans = prepared.base
    candidates = _candidates(prepared) if prepared.partial else []
    if prepared.partial and _grid_points(spans, query.interval) > len(candidates):
        # Fewer places a period can start than grid points to try: walk only where some choice is free.
        spans = normalize((f.start, f.end) for f in _periods(prepared, query.duration, NO_LIMIT, candidates))
    found: list[Found] = []
    for span_start, span_end in spans:
        start = _align_up(span_start, query.interval)
        while start + query.duration <= span_end:
            attending = _attending(prepared, start, start + query.duration)
            if attending is None:
                start += query.interval
                continue
            found.append(Found(start, start + query.duration, attending[1]))
            if len(found) >= query.max_results:
                return found
            step = query.interval if overlapping else query.duration
            start = _align_up(start + step, query.interval)
    return found


def check_slots(query: Query, starts: Sequence[int]) -> list[Found]:
    """Which of the given slot starts are available (query_slots): each is checked as it is, off-grid."""
    prepared = _prepare(query)
    found: list[Found] = []
    for start in sorted(set(starts)):
        attending = _attending(prepared, start, start + query.duration)
        if attending is not None:
            found.append(Found(start, start + query.duration, attending[1]))
            if len(found) >= query.max_results:
                break
    return found


def _grid_points(spans: Sequence[Span], interval: int) -> int:
    return sum((end - start) // interval + 1 for start, end in spans)


# --- explanations ------------------------------------------------------------------------------------


def explain(query: Query, start: int) -> Explanation:
    """Why a meeting of `duration` starting at `start` is or is not available: every member who cannot
    attend, and what stops them (a limit by name, a busy block, or only the buffer around one)."""
    end = start + query.duration
    reasons: list[Reason] = []
    if not any(s <= start and end <= e for s, e in query.periods):
        reasons.append(Reason("outside_query_periods"))
    chosen: list[str] = []
    for number, group in enumerate(query.groups):
        free: list[str] = []
        for member in group.members:
            blocking = _blocking(member, query.buffer, start, end)
            reasons.extend(blocking)
            if not blocking:
                free.append(member.sub)
        if len(free) < group.required:
            reasons.append(Reason("not_enough_members", group=number))
        else:
            chosen.extend(free[: group.required])
    available = not any(r.reason in ("outside_query_periods", "not_enough_members") for r in reasons)
    return Explanation(start, end, available, tuple(chosen) if available else (), tuple(reasons))


def _blocking(member: Member, buffer: Buffer, start: int, end: int) -> list[Reason]:
    found = [
        Reason(limit.reason, sub=member.sub)
        for limit in member.limits
        if not any(s <= start and end <= e for s, e in limit.spans)
    ]
    buf = member.buffer or buffer
    for busy in member.busy:
        if busy.end + buf.before <= busy.start - buf.after:
            continue  # an empty block (a zero-length event without buffers) blocks nothing, as in member_free
        if busy.start < end and start < busy.end:
            found.append(Reason("busy", member.sub, busy.start, busy.end, busy.source))
        elif busy.start - buf.after < end and start < busy.end + buf.before:
            found.append(Reason("buffer", member.sub, busy.start, busy.end, busy.source))
    return found
