"""Properties of the availability engine (`horae.domain.availability`) against a brute force over minutes.

Instances are written in LOCAL wall time in random IANA zones, often on the days their clocks change, and
converted with zoneinfo, nonexistent times (in a gap) and ambiguous ones (in a fold) included, with fold=0
and fold=1. Every time is then a whole UTC minute, so a meeting `[s, s + d)` is free for a member exactly
when each minute in it is: inside a query period and every limit, and outside each busy block widened by
the buffer. The reference counts minutes plainly; the engine must agree with it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from horae.domain.availability import (
    Buffer,
    Busy,
    Found,
    Group,
    Limit,
    Member,
    Query,
    check_slots,
    explain,
    find_periods,
    find_slots,
)
from horae.domain.constraints import Constraint, allowed
from horae.domain.intervals import normalize

MINUTE = 60
DAY_MINUTES = 24 * 60
SPAN_MINUTES = 2 * DAY_MINUTES  # instances cover two local days from day0's midnight
ZONES = sorted(available_timezones())
DST_ZONES = [
    "America/New_York",
    "Europe/London",
    "Australia/Lord_Howe",  # a 30-minute change
    "Pacific/Chatham",  # changes at 02:45 / 03:45
    "America/Santiago",  # changes at midnight
    "America/Havana",  # changes at midnight / 01:00
    "Asia/Beirut",  # changes at midnight
    "Europe/Dublin",  # "negative" DST
    "America/St_Johns",
    "Australia/Adelaide",
]
DURATIONS = [5, 15, 25, 30, 45, 60, 90, 120, 180]
INTERVALS = [5, 7, 10, 15, 20, 30, 45, 60]
BUFFERS = [0, 0, 5, 10, 15, 30, 60]
MAX_RESULTS = [1, 2, 5, 512, 512, 512]
PROPERTIES = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --- local wall time ---------------------------------------------------------------------------------------


def to_utc(day0: date, minute: int, fold: int, where: ZoneInfo) -> int:
    """The UTC second of wall time day0 00:00 + `minute` in `where`, read with `fold` (gaps and folds too)."""
    wall = datetime.combine(day0, time()) + timedelta(minutes=minute)
    return int(wall.replace(tzinfo=where, fold=fold).timestamp())


@cache
def changes_2026(tzid: str) -> tuple[int, ...]:
    """The instants in 2026 at which the zone's UTC offset changes (found to the second)."""
    where = ZoneInfo(tzid)
    first = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp())
    found = []
    for day in range(365):
        low, high = first + day * 86400, first + (day + 1) * 86400
        before = datetime.fromtimestamp(low, where).utcoffset()
        if datetime.fromtimestamp(high, where).utcoffset() == before:
            continue
        while high - low > 1:
            middle = (low + high) // 2
            if datetime.fromtimestamp(middle, where).utcoffset() == before:
                low = middle
            else:
                high = middle
        found.append(high)
    return tuple(found)


@dataclass(frozen=True)
class Setting:
    """Where an instance is written: a zone, the local day it starts on, and a wall minute (from day0's
    midnight) where the clock changes, if one does."""

    tzid: str
    day0: date
    hot: int | None

    @property
    def where(self) -> ZoneInfo:
        return ZoneInfo(self.tzid)


@st.composite
def settings_(draw: st.DrawFn) -> Setting:
    tzid = draw(st.one_of(st.sampled_from(DST_ZONES), st.sampled_from(ZONES)), label="zone")
    changes = changes_2026(tzid)
    if changes and draw(st.integers(0, 3), label="near a change") > 0:
        change = draw(st.sampled_from(changes), label="change")
        before = datetime.fromtimestamp(change - 1, ZoneInfo(tzid))  # the last instant on the old offset
        day0 = before.date() - timedelta(days=draw(st.integers(0, 1), label="days before"))
        hot = int((before.replace(tzinfo=None) - datetime.combine(day0, time())).total_seconds()) // 60 + 1
        return Setting(tzid, day0, hot)
    return Setting(tzid, date(2026, 1, 1) + timedelta(days=draw(st.integers(0, 364), label="day")), None)


def local_minutes(setting: Setting) -> st.SearchStrategy[int]:
    anywhere = st.integers(0, SPAN_MINUTES)
    if setting.hot is None:
        return anywhere
    near = st.integers(max(0, setting.hot - 150), min(SPAN_MINUTES, setting.hot + 150))
    return st.one_of(near, near, anywhere)


def local_span(draw: st.DrawFn, setting: Setting, lengths: st.SearchStrategy[int]) -> tuple[int, int]:
    """A local wall time and another `lengths` minutes later on the wall clock, each read with a random
    fold; in UTC they may come out shorter, longer, equal or even reversed (across a gap or a fold)."""
    first = draw(local_minutes(setting))
    last = first + draw(lengths)
    return (
        to_utc(setting.day0, first, draw(st.integers(0, 1)), setting.where),
        to_utc(setting.day0, last, draw(st.integers(0, 1)), setting.where),
    )


QUERY_LENGTHS = st.integers(30, 30 * 60)
BUSY_LENGTHS = st.one_of(st.integers(0, 240), st.sampled_from([15, 30, 60]))
LIMIT_LENGTHS = st.integers(60, 40 * 60)


@dataclass(frozen=True)
class Instance:
    setting: Setting
    query: Query


@st.composite
def instances(draw: st.DrawFn) -> Instance:
    setting = draw(settings_())
    periods = tuple(local_span(draw, setting, QUERY_LENGTHS) for _ in range(draw(st.integers(1, 3), label="periods")))
    groups = []
    number = 0
    for _ in range(draw(st.integers(1, 2), label="groups")):
        members = []
        for _ in range(draw(st.integers(1, 3), label="members")):
            busy = []
            for _ in range(draw(st.integers(0, 4), label="busy")):
                start, end = sorted(local_span(draw, setting, BUSY_LENGTHS))
                if start < end:
                    busy.append(Busy(start, end, f"cal_{number}"))
            limits = [
                Limit(reason, tuple(normalize(sorted(local_span(draw, setting, LIMIT_LENGTHS)) for _ in range(spans))))
                for reason, spans in (
                    ("available_periods", draw(st.integers(1, 3))),
                    ("managed_availability", draw(st.integers(0, 3))),
                )
                if draw(st.integers(0, 3)) == 0
            ]
            if busy and draw(st.integers(0, 3)) == 0:
                within = (min(b.start for b in busy) - 86400 * 8, max(b.end for b in busy) + 86400 * 8)
                rule = Constraint(draw(st.sampled_from(["day", "week"])), draw(st.integers(1, 3)), setting.where)
                limits.append(Limit("availability_constraints", allowed([b.start for b in busy], rule, within)))
            buffer = None
            if draw(st.integers(0, 3)) == 0:
                buffer = Buffer(draw(st.sampled_from(BUFFERS)) * MINUTE, draw(st.sampled_from(BUFFERS)) * MINUTE)
            members.append(Member(f"m{number}", tuple(busy), tuple(limits), buffer))
            number += 1
        required = draw(st.one_of(st.just(len(members)), st.integers(1, len(members))), label="required")
        groups.append(Group(tuple(members), required))
    query = Query(
        tuple(groups),
        periods,
        draw(st.sampled_from(DURATIONS), label="duration") * MINUTE,
        draw(st.sampled_from(INTERVALS), label="interval") * MINUTE,
        Buffer(draw(st.sampled_from(BUFFERS)) * MINUTE, draw(st.sampled_from(BUFFERS)) * MINUTE),
        draw(st.sampled_from(MAX_RESULTS), label="max_results"),
    )
    return Instance(setting, query)


# --- the brute force ---------------------------------------------------------------------------------------


class Reference:
    """Free minutes counted one by one: `[lo, hi)` holds every query period; outside it nothing is free."""

    def __init__(self, query: Query) -> None:
        self.query = query
        edges = [t for span in query.periods for t in span] or [0]  # no periods (all empty): no time at all
        self.lo, self.hi = min(edges), max(edges)
        assert self.lo % MINUTE == 0 and self.hi % MINUTE == 0
        self.size = (self.hi - self.lo) // MINUTE
        self.in_query = self._prefix(self._covered(query.periods))
        self.own: dict[str, list[int]] = {}  # per member: prefix counts of minutes it is NOT free (own reasons)
        self.members = [m for g in query.groups for m in g.members]
        for member in self.members:
            free = [True] * self.size
            for limit in member.limits:
                inside = self._covered(limit.spans)
                free = [a and b for a, b in zip(free, inside, strict=True)]
            buffer = member.buffer or query.buffer
            for block in member.busy:
                self._mark(free, block.start - buffer.after, block.end + buffer.before, False)
            self.own[member.sub] = self._prefix(free)

    def _mark(self, flags: list[bool], start: int, end: int, value: bool) -> None:
        if start >= end:
            return
        assert start % MINUTE == 0 and end % MINUTE == 0
        first = min(max((start - self.lo) // MINUTE, 0), self.size)
        last = min(max((end - self.lo) // MINUTE, 0), self.size)
        flags[first:last] = [value] * (last - first)

    def _covered(self, spans: Sequence[tuple[int, int]]) -> list[bool]:
        flags = [False] * self.size
        for start, end in spans:
            self._mark(flags, start, end, True)
        return flags

    @staticmethod
    def _prefix(flags: list[bool]) -> list[int]:
        """Running counts of the minutes NOT flagged."""
        counts = [0]
        for flag in flags:
            counts.append(counts[-1] + (0 if flag else 1))
        return counts

    def _clear(self, counts: list[int], start: int, end: int) -> bool:
        if start < self.lo or end > self.hi or end <= start:
            return False
        assert start % MINUTE == 0 and end % MINUTE == 0
        return counts[(end - self.lo) // MINUTE] == counts[(start - self.lo) // MINUTE]

    def inside_query(self, start: int, end: int) -> bool:
        return self._clear(self.in_query, start, end)

    def member_ok(self, sub: str, start: int, end: int, *, query_too: bool = True) -> bool:
        """Whether the member could attend `[start, end)`: its limits, busy blocks and buffer (and the query
        periods, unless told not to)."""
        if query_too and not self.inside_query(start, end):
            return False
        if start < self.lo or end > self.hi:
            return self._outside_ok(sub, start, end)
        return self._clear(self.own[sub], start, end)

    def _outside_ok(self, sub: str, start: int, end: int) -> bool:
        member = next(m for m in self.members if m.sub == sub)
        if not all(any(s <= start and end <= e for s, e in normalize(limit.spans)) for limit in member.limits):
            return False
        buffer = member.buffer or self.query.buffer
        return not any(
            b.start - buffer.after < b.end + buffer.before
            and b.start - buffer.after < end
            and start < b.end + buffer.before
            for b in member.busy
        )

    def feasible(self, start: int) -> bool:
        end = start + self.query.duration
        if not self.inside_query(start, end):
            return False
        return all(
            sum(self.member_ok(m.sub, start, end) for m in group.members) >= group.required
            for group in self.query.groups
        )

    def grid_starts(self) -> list[int]:
        interval = self.query.interval
        first = -(-self.lo // interval) * interval
        return list(range(first, self.hi - self.query.duration + 1, interval))

    def minute_starts(self) -> list[int]:
        return list(range(self.lo, self.hi - self.query.duration + 1, MINUTE))

    def all_free_runs(self) -> list[tuple[int, int]]:
        """Where every member (all groups being "all") is free, as maximal runs of minutes."""
        runs: list[tuple[int, int]] = []
        for index in range(self.size):
            start, end = self.lo + index * MINUTE, self.lo + (index + 1) * MINUTE
            if all(self.member_ok(m.sub, start, end) for m in self.members):
                if runs and runs[-1][1] == start:
                    runs[-1] = (runs[-1][0], end)
                else:
                    runs.append((start, end))
        return runs


def greedy(starts: list[int], duration: int) -> list[int]:
    """Plain slots from the feasible grid starts: the first, then the first not overlapping it, and so on."""
    chosen: list[int] = []
    for start in starts:
        if not chosen or start >= chosen[-1] + duration:
            chosen.append(start)
    return chosen


def unbounded(query: Query) -> Query:
    return replace(query, max_results=10**9)


# --- the checks ----------------------------------------------------------------------------------------------


def check_attendance(ref: Reference, found: Found) -> None:
    """Each group lists exactly `required` of its members, each free throughout; no one else is listed."""
    listed = set(found.participants)
    assert len(listed) == len(found.participants)
    every = set()
    for group in ref.query.groups:
        subs = {m.sub for m in group.members}
        every |= subs
        assert len(listed & subs) == group.required, (found, group.required)
    assert listed <= every
    for sub in found.participants:
        assert ref.member_ok(sub, found.start, found.end), (sub, found)


def check_slots_sound(ref: Reference, slots: list[Found], overlapping: bool) -> None:
    q = ref.query
    assert len(slots) <= q.max_results
    for slot in slots:
        assert slot.end - slot.start == q.duration
        assert slot.start % q.interval == 0
        assert ref.inside_query(slot.start, slot.end)
        check_attendance(ref, slot)
        for member in ref.members:
            if member.sub in slot.participants:
                buffer = member.buffer or q.buffer
                for block in member.busy:
                    assert not (block.start - buffer.after < slot.end and slot.start < block.end + buffer.before)
                for limit in member.limits:
                    assert any(s <= slot.start and slot.end <= e for s, e in limit.spans), (limit, slot)
    starts = [s.start for s in slots]
    assert starts == sorted(set(starts))
    if not overlapping:
        assert all(a.end <= b.start for a, b in zip(slots, slots[1:], strict=False))


def check_slots_complete(ref: Reference, plain: list[Found], overlapping: list[Found]) -> None:
    q = ref.query
    feasible = [s for s in ref.grid_starts() if ref.feasible(s)]
    assert [s.start for s in overlapping] == feasible[: q.max_results]
    assert [s.start for s in plain] == greedy(feasible, q.duration)[: q.max_results]


def check_periods(ref: Reference, periods: list[Found]) -> None:
    q = ref.query
    assert len(periods) <= q.max_results
    for period in periods:
        assert period.end - period.start >= q.duration
        check_attendance(ref, period)
        # maximal for the members it names: a minute more either side would not do
        for edge in (period.start - MINUTE, period.end):
            assert not all(ref.member_ok(sub, edge, edge + MINUTE) for sub in period.participants), (period, edge)
    assert [p.start for p in periods] == sorted(p.start for p in periods)
    if all(g.required >= len(g.members) for g in q.groups):
        runs = [run for run in ref.all_free_runs() if run[1] - run[0] >= q.duration]
        assert [(p.start, p.end) for p in periods] == runs[: q.max_results]
    elif len(periods) < q.max_results:
        for start in ref.minute_starts():
            if ref.feasible(start):
                assert any(p.start <= start and start + q.duration <= p.end for p in periods), start


def check_everything(query: Query) -> None:
    ref = Reference(query)
    plain, overlapping = find_slots(query, overlapping=False), find_slots(query, overlapping=True)
    check_slots_sound(ref, plain, overlapping=False)
    check_slots_sound(ref, overlapping, overlapping=True)
    check_slots_complete(ref, plain, overlapping)
    check_periods(ref, find_periods(query))


# --- properties ----------------------------------------------------------------------------------------------


@PROPERTIES
@given(instances())
def test_slots_and_periods_agree_with_the_brute_force(instance: Instance) -> None:
    check_everything(instance.query)


@PROPERTIES
@given(instances(), st.data())
def test_a_busy_block_never_adds_a_slot(instance: Instance, data: st.DataObject) -> None:
    query = unbounded(instance.query)
    members = [m for g in query.groups for m in g.members]
    target = data.draw(st.sampled_from([m.sub for m in members]), label="who")
    start, end = sorted(data.draw(_spans(instance.setting), label="new block"))
    if start == end:
        end += 15 * MINUTE
    groups = tuple(
        Group(
            tuple(replace(m, busy=(*m.busy, Busy(start, end, "new"))) if m.sub == target else m for m in g.members),
            g.required,
        )
        for g in query.groups
    )
    busier = replace(query, groups=groups)
    before = {s.start for s in find_slots(query, overlapping=True)}
    after = {s.start for s in find_slots(busier, overlapping=True)}
    assert after <= before
    covered = find_periods(query)
    for period in find_periods(busier):
        for minute in range(period.start, period.end, MINUTE):
            assert any(p.start <= minute < p.end for p in covered), (period, minute)
    ref = Reference(query)
    asked = ref.minute_starts()[:: max(1, len(ref.minute_starts()) // 50)]
    assert {s.start for s in check_slots(busier, asked)} <= {s.start for s in check_slots(query, asked)}


def _spans(setting: Setting) -> st.SearchStrategy[tuple[int, int]]:
    @st.composite
    def spans(draw: st.DrawFn) -> tuple[int, int]:
        return local_span(draw, setting, BUSY_LENGTHS)

    return spans()


@PROPERTIES
@given(instances(), st.data())
def test_check_slots_and_explain_agree_with_the_brute_force(instance: Instance, data: st.DataObject) -> None:
    query = instance.query
    ref = Reference(query)
    near = st.integers((ref.lo - 7200) // MINUTE, (ref.hi + 3600) // MINUTE).map(lambda m: m * MINUTE)
    asked = data.draw(st.lists(near, max_size=40), label="asked")
    found = check_slots(query, asked)
    expected = [s for s in sorted(set(asked)) if ref.feasible(s)]
    assert [f.start for f in found] == expected[: query.max_results]
    for slot in found:
        assert slot.end - slot.start == query.duration
        check_attendance(ref, slot)
    for start in asked[:10]:
        end = start + query.duration
        why = explain(query, start)
        assert why.available == ref.feasible(start), why
        assert (why.start, why.end) == (start, end)
        if why.available:
            check_attendance(ref, Found(start, end, why.participants))
        else:
            assert why.participants == ()
            assert why.reasons
        assert any(r.reason == "outside_query_periods" for r in why.reasons) == (not ref.inside_query(start, end))
        for member in ref.members:
            named = {r.reason for r in why.reasons if r.sub == member.sub}
            assert bool(named) == (not ref.member_ok(member.sub, start, end, query_too=False)), (member.sub, named)
            assert named <= {"busy", "buffer", *(limit.reason for limit in member.limits)}
        for number, group in enumerate(query.groups):
            short = sum(ref.member_ok(m.sub, start, end, query_too=False) for m in group.members) < group.required
            assert any(r.reason == "not_enough_members" and r.group == number for r in why.reasons) == short


@PROPERTIES
@given(settings_(), st.data())
def test_constraints_block_exactly_the_local_days_or_weeks_at_the_limit(setting: Setting, data: st.DataObject) -> None:
    where = setting.where
    starts = [local_span(data.draw, setting, BUSY_LENGTHS)[0] for _ in range(data.draw(st.integers(0, 6)))]
    period = data.draw(st.sampled_from(["day", "week"]))
    limit = data.draw(st.integers(1, 3))
    within = tuple(sorted(local_span(data.draw, setting, st.integers(0, 3 * 24 * 60))))
    found = allowed(starts, Constraint(period, limit, where), (within[0], within[1]))

    def key(instant: int) -> date:
        day = datetime.fromtimestamp(instant, where).date()
        return day - timedelta(days=day.weekday()) if period == "week" else day

    counts: dict[date, int] = {}
    for start in starts:
        counts[key(start)] = counts.get(key(start), 0) + 1
    assert list(found) == normalize(found)
    for minute in range(within[0], within[1], MINUTE):
        expected = counts.get(key(minute), 0) < limit
        assert any(s <= minute < e for s, e in found) == expected, datetime.fromtimestamp(minute, where)


# --- the named transitions, always -----------------------------------------------------------------------


TRANSITIONS = [
    ("America/New_York", date(2026, 3, 8)),
    ("America/New_York", date(2026, 11, 1)),
    ("Europe/London", date(2026, 3, 29)),
    ("Europe/London", date(2026, 10, 25)),
    ("Australia/Lord_Howe", date(2026, 4, 5)),
    ("Australia/Lord_Howe", date(2026, 10, 4)),
    ("Pacific/Chatham", date(2026, 4, 5)),
    ("Pacific/Chatham", date(2026, 9, 27)),
]


@pytest.mark.parametrize(("tzid", "day"), TRANSITIONS)
@pytest.mark.parametrize("duration", [30, 60])
def test_days_the_clocks_change(tzid: str, day: date, duration: int) -> None:
    """A fixed instance on each named transition day, with busy blocks starting and ending in the gap or
    the fold (both readings), through every check above."""
    where = ZoneInfo(tzid)
    midnight = to_utc(day, 0, 0, where)
    next_midnight = to_utc(day + timedelta(days=1), 0, 0, where)
    assert next_midnight - midnight != 86400  # the clocks do change that day
    change = next(c for c in changes_2026(tzid) if midnight <= c < next_midnight)
    before = datetime.fromtimestamp(change - 1, where)
    hot = before.hour * 60 + before.minute + 1  # the wall minute of the change on `day`

    def wall(minute: int, fold: int = 0) -> int:
        return to_utc(day, minute, fold, where)

    def block(first: int, last: int, fold_first: int, fold_last: int) -> Busy:
        start, end = sorted((wall(first, fold_first), wall(last, fold_last)))
        return Busy(start, end, "cal")

    alice = Member("alice", (block(hot - 20, hot + 10, 1, 0), block(hot + 40, hot + 70, 0, 1)))
    bob = Member("bob", (block(hot - 75, hot - 15, 0, 0), block(hot + 15, hot + 45, 1, 1)))
    carol = Member(
        "carol",
        (block(hot - 5, hot + 25, 0, 0),),
        (Limit("available_periods", ((wall(hot - 180), wall(hot + 150, 1)),)),),
        Buffer(10 * MINUTE, 0),
    )
    periods = (
        (wall(hot - 240), wall(hot - 30, 1)),
        (wall(hot - 30, 0), wall(hot + 30, 1)),
        (wall(hot + 30, 0), wall(hot + 240)),
    )
    for groups in (
        (Group((alice, bob, carol), 3),),
        (Group((alice,), 1), Group((bob, carol), 1)),
        (Group((alice, bob, carol), 2),),
    ):
        for interval in (15, 30):
            query = Query(groups, periods, duration * MINUTE, interval * MINUTE, Buffer(5 * MINUTE, 5 * MINUTE))
            check_everything(query)
            check_everything(replace(query, max_results=2))
