"""Expanding an availability rule into UTC spans (`horae.domain.managed.rule_spans`): properties over every
IANA zone, random weekly periods and random ranges across DST transitions, and worked examples."""

from __future__ import annotations

from bisect import bisect_right
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, available_timezones

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from horae.domain.managed import (
    DAYS,
    AvailabilityRule,
    WeeklyPeriod,
    clock_minutes,
    period_time,
    rule_spans,
    valid_id,
)
from horae.domain.times import BadTime, zone

NOW = datetime(2026, 1, 1, tzinfo=UTC)
NAMES = sorted(DAYS)
WEEKDAY_NAME = {number: name for name, number in DAYS.items()}


def _known(name: str) -> bool:
    try:
        zone(name)
    except BadTime:
        return False
    return True


ZONES = sorted(name for name in available_timezones() if _known(name))


def hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def rule(tzid: str, *periods: tuple[str, str, str]) -> AvailabilityRule:
    return AvailabilityRule(
        account_id="acc_1",
        rule_id="default",
        tzid=tzid,
        weekly_periods=tuple(WeeklyPeriod(*p) for p in periods),
        calendar_ids=None,
        created_at=NOW,
        updated_at=NOW,
    )


def ts(value: datetime) -> int:
    return int(value.timestamp())


def local(tzid: str, *parts: int, fold: int = 0) -> int:
    """The UTC second of a local wall time (fold=0 unless told)."""
    return ts(datetime(*parts, tzinfo=ZoneInfo(tzid), fold=fold))  # type: ignore[misc]


def utc(*parts: int) -> int:
    return ts(datetime(*parts, tzinfo=UTC))  # type: ignore[misc]


# --- a reference, computed instant by instant ------------------------------------------------------------


def reference_instant(day: date, minute: int, where: ZoneInfo) -> int:
    """The documented policy, written plainly: wall clock on `day` plus `minute` minutes, fold=0."""
    wall = datetime.combine(day, time()) + timedelta(minutes=minute)
    return ts(wall.replace(tzinfo=where))


def merged_minutes(periods: tuple[WeeklyPeriod, ...], weekday: int) -> list[tuple[int, int]]:
    """The weekday's periods as runs of covered minutes (a flag per minute of the day)."""
    covered = [False] * (24 * 60)
    for period in periods:
        if DAYS[period.day] == weekday:
            first, last = clock_minutes(period.start_time), clock_minutes(period.end_time, end=True)
            for minute in range(first, last):
                covered[minute] = True
    runs: list[tuple[int, int]] = []
    for minute, flag in enumerate(covered):
        if flag and runs and runs[-1][1] == minute:
            runs[-1] = (runs[-1][0], minute + 1)
        elif flag:
            runs.append((minute, minute + 1))
    return runs


def available(r: AvailabilityRule, instant: int) -> bool:
    """Whether the rule makes `instant` available, asking each period instance that could hold it."""
    where = ZoneInfo(r.tzid)
    today = datetime.fromtimestamp(instant, where).date()
    for back in (2, 1, 0):
        day = today - timedelta(days=back)
        for first, last in merged_minutes(r.weekly_periods, day.weekday()):
            if reference_instant(day, first, where) <= instant < reference_instant(day, last, where):
                return True
    return False


def covered(spans: list[tuple[int, int]], instant: int) -> bool:
    index = bisect_right([s for s, _ in spans], instant) - 1
    return index >= 0 and instant < spans[index][1]


def near_a_transition(where: ZoneInfo, instant: int) -> bool:
    """Whether the zone's offset changes within a day and a half of `instant`."""
    offsets = {datetime.fromtimestamp(instant + k * 3 * 3600, where).utcoffset() for k in range(-12, 13)}
    return len(offsets) > 1


# --- strategies ------------------------------------------------------------------------------------------

minutes = st.one_of(
    st.integers(0, 24 * 60 - 1),
    st.sampled_from([0, 30, 60, 90, 120, 150, 180, 23 * 60, 23 * 60 + 30]),  # near usual transitions
)


@st.composite
def weekly_periods(draw: st.DrawFn) -> list[tuple[str, str, str]]:
    found = []
    for _ in range(draw(st.integers(0, 8))):
        first = draw(minutes)
        last = draw(st.one_of(st.integers(first + 1, 24 * 60), st.just(24 * 60)))
        found.append((draw(st.sampled_from(NAMES)), hhmm(first), hhmm(last)))
    return found


@st.composite
def ranges(draw: st.DrawFn) -> tuple[int, int]:
    """Ranges of up to 40 days, starting any time from 1950 to 2060, often in DST-changing months."""
    year = draw(st.integers(1950, 2060))
    month = draw(st.one_of(st.sampled_from([3, 4, 9, 10, 11]), st.integers(1, 12)))
    day = draw(st.integers(1, 28))
    start = utc(year, month, day) + draw(st.integers(-86400, 86400))
    return start, start + draw(st.integers(1, 40 * 86400))


def transitions(where: ZoneInfo, year: int) -> list[int]:
    """The instants in `year` at which the zone's offset changes (one per day at most), to the second."""
    found = []
    previous = utc(year, 1, 1)
    for day in range(1, 367):
        current = utc(year, 1, 1) + day * 86400
        if datetime.fromtimestamp(previous, where).utcoffset() != datetime.fromtimestamp(current, where).utcoffset():
            low, high = previous, current  # the offset at `low` is the old one, at `high` the new one
            before = datetime.fromtimestamp(low, where).utcoffset()
            while high - low > 1:
                middle = (low + high) // 2
                if datetime.fromtimestamp(middle, where).utcoffset() == before:
                    low = middle
                else:
                    high = middle
            found.append(high)
        previous = current
    return found


@st.composite
def around_a_transition(draw: st.DrawFn) -> tuple[str, list[tuple[str, str, str]], tuple[int, int]]:
    """A zone, periods with boundaries near the wall time of one of its offset changes on that weekday
    (or the day before, at midnight), and a range of a few days around the change."""
    tzid = draw(st.sampled_from(ZONES), label="zone")
    where = ZoneInfo(tzid)
    year = draw(st.integers(1970, 2040), label="year")
    found = transitions(where, year)
    if not found:
        return tzid, draw(weekly_periods()), draw(ranges())
    change = draw(st.sampled_from(found), label="change")
    last_before = datetime.fromtimestamp(change - 1, where)
    at = last_before.hour * 60 + last_before.minute + 1  # the wall minute the clock changed at (1440: midnight)
    weekday = last_before.weekday()
    near = st.integers(max(0, at - 120), min(24 * 60, at + 120))
    periods = []
    for _ in range(draw(st.integers(1, 4))):
        first, last = sorted(draw(st.lists(near, min_size=2, max_size=2, unique=True)))
        if first == 24 * 60:
            continue
        periods.append((WEEKDAY_NAME[weekday], hhmm(first), hhmm(last)))
        if last == 24 * 60:  # and the next day from midnight, to meet it
            periods.append((WEEKDAY_NAME[(weekday + 1) % 7], "00:00", hhmm(draw(st.integers(1, 180)))))
    start = change - draw(st.integers(0, 3 * 86400))
    return tzid, periods, (start, change + draw(st.integers(1, 3 * 86400)))


cases = st.one_of(st.tuples(st.sampled_from(ZONES), weekly_periods(), ranges()), around_a_transition())


# --- properties ------------------------------------------------------------------------------------------


@settings(max_examples=400, deadline=None)
@given(case=cases, data=st.data())
def test_spans_are_exactly_the_instants_the_rule_allows(
    case: tuple[str, list[tuple[str, str, str]], tuple[int, int]], data: st.DataObject
) -> None:
    tzid, periods, (start, end) = case
    r = rule(tzid, *periods)
    spans = rule_spans(r, start, end)
    # Sorted, disjoint, not touching, non-empty, inside the range.
    for (_, b), (c, _) in zip(spans, spans[1:], strict=False):
        assert b < c
    assert all(start <= a < b <= end for a, b in spans)
    # The same instants as the reference: every span boundary, every period boundary, some at random.
    where = ZoneInfo(tzid)
    probes = {start, end - 1}
    for a, b in spans:
        probes |= {a - 1, a, b - 1, b}
    day = datetime.fromtimestamp(start, where).date() - timedelta(days=1)
    while day <= datetime.fromtimestamp(end, where).date():
        for first, last in merged_minutes(r.weekly_periods, day.weekday()):
            for minute in (first, last):
                instant = reference_instant(day, minute, where)
                probes |= {instant - 1, instant}
        day += timedelta(days=1)
    probes |= set(data.draw(st.lists(st.integers(start, end - 1), max_size=40), label="random instants"))
    for instant in sorted(p for p in probes if start <= p < end):
        assert covered(spans, instant) == available(r, instant), datetime.fromtimestamp(instant, where)


@settings(max_examples=200, deadline=None)
@given(case=cases, data=st.data())
def test_away_from_transitions_spans_read_as_the_rule_in_local_time(
    case: tuple[str, list[tuple[str, str, str]], tuple[int, int]], data: st.DataObject
) -> None:
    """Sound: an instant in a span reads, on the local wall clock, as a time inside one of its weekday's
    periods. Complete: a minute inside a period, on a local date in the range, is in a span. Near a DST
    transition the documented shift (and a fold's repeated hour) may break the wall-clock reading; the
    test above covers those instants."""
    tzid, periods, (start, end) = case
    r = rule(tzid, *periods)
    spans = rule_spans(r, start, end)
    where = ZoneInfo(tzid)
    for a, b in spans:
        for instant in {a, b - 1, data.draw(st.integers(a, b - 1), label="inside")}:
            if near_a_transition(where, instant):
                continue
            wall = datetime.fromtimestamp(instant, where)
            minute = wall.hour * 60 + wall.minute
            runs = merged_minutes(r.weekly_periods, wall.weekday())
            assert any(first <= minute < last for first, last in runs), wall
    for period in r.weekly_periods:
        first, last = clock_minutes(period.start_time), clock_minutes(period.end_time, end=True)
        offset = data.draw(st.integers(0, 40), label="weeks") * 7
        first_day = datetime.fromtimestamp(start, where).date()
        day = first_day + timedelta(days=(DAYS[period.day] - first_day.weekday()) % 7 + offset)
        minute = data.draw(st.integers(first, last - 1), label="minute")
        instant = ts(datetime.combine(day, time()).replace(tzinfo=where) + timedelta(minutes=minute))
        wall = datetime.fromtimestamp(instant, where)
        if start <= instant < end and not near_a_transition(where, instant) and wall.date() == day:
            assert covered(spans, instant), wall


@settings(max_examples=100, deadline=None)
@given(case=cases, cut=st.integers(1, 40 * 86400))
def test_expanding_a_range_in_two_parts_gives_the_same_spans(
    case: tuple[str, list[tuple[str, str, str]], tuple[int, int]], cut: int
) -> None:
    tzid, periods, (start, end) = case
    middle = min(start + cut, end)
    r = rule(tzid, *periods)
    whole = rule_spans(r, start, end)
    parts = rule_spans(r, start, middle) + rule_spans(r, middle, end)
    joined: list[tuple[int, int]] = []
    for a, b in parts:
        if joined and joined[-1][1] == a:
            joined[-1] = (joined[-1][0], b)
        else:
            joined.append((a, b))
    assert joined == whole


# --- examples --------------------------------------------------------------------------------------------

NY = "America/New_York"


def test_a_week_of_office_hours_in_chicago() -> None:
    r = rule(
        "America/Chicago", ("monday", "09:30", "12:30"), ("monday", "14:00", "17:00"), ("tuesday", "09:00", "10:00")
    )
    spans = rule_spans(r, utc(2026, 11, 23), utc(2026, 11, 30))  # Monday 23 November (CST, UTC-6)
    assert spans == [
        (utc(2026, 11, 23, 15, 30), utc(2026, 11, 23, 18, 30)),
        (utc(2026, 11, 23, 20), utc(2026, 11, 23, 23)),
        (utc(2026, 11, 24, 15), utc(2026, 11, 24, 16)),
    ]


def test_spans_are_clipped_to_the_range() -> None:
    r = rule("Etc/UTC", ("monday", "09:00", "17:00"))
    assert rule_spans(r, utc(2026, 11, 23, 10), utc(2026, 11, 23, 12)) == [
        (utc(2026, 11, 23, 10), utc(2026, 11, 23, 12))
    ]
    assert rule_spans(r, utc(2026, 11, 23, 17), utc(2026, 11, 30, 9)) == []
    assert rule_spans(r, utc(2026, 11, 24), utc(2026, 11, 23)) == []


def test_new_york_spring_forward_moves_gap_times_forward_by_the_gap() -> None:
    # Sunday 8 March 2026: 02:00 EST becomes 03:00 EDT.
    day = (utc(2026, 3, 8), utc(2026, 3, 9))
    across = rule(NY, ("sunday", "01:00", "02:30"))
    assert rule_spans(across, *day) == [(local(NY, 2026, 3, 8, 1), local(NY, 2026, 3, 8, 3, 30))]
    assert local(NY, 2026, 3, 8, 3, 30) - local(NY, 2026, 3, 8, 1) == 90 * 60  # 1.5 hours, as on other days
    starting_inside = rule(NY, ("sunday", "02:30", "05:00"))
    assert rule_spans(starting_inside, *day) == [(local(NY, 2026, 3, 8, 3, 30), local(NY, 2026, 3, 8, 5))]
    wholly_inside = rule(NY, ("sunday", "02:10", "02:50"))
    assert rule_spans(wholly_inside, *day) == [(local(NY, 2026, 3, 8, 3, 10), local(NY, 2026, 3, 8, 3, 50))]
    too_short = rule(NY, ("sunday", "02:30", "03:15"))
    assert rule_spans(too_short, *day) == []
    usual = rule(NY, ("sunday", "09:00", "17:00"))
    assert rule_spans(usual, *day) == [(utc(2026, 3, 8, 13), utc(2026, 3, 8, 21))]  # EDT, UTC-4


def test_new_york_fall_back_uses_the_first_of_a_repeated_time() -> None:
    # Sunday 1 November 2026: 02:00 EDT becomes 01:00 EST; 01:00-02:00 happens twice.
    day = (utc(2026, 11, 1), utc(2026, 11, 2))
    r = rule(NY, ("sunday", "00:30", "01:30"))
    assert rule_spans(r, *day) == [(utc(2026, 11, 1, 4, 30), utc(2026, 11, 1, 5, 30))]  # both EDT
    longer = rule(NY, ("sunday", "01:30", "03:00"))
    # From the first 01:30 (EDT) to 03:00 EST: two and a half hours.
    assert rule_spans(longer, *day) == [(utc(2026, 11, 1, 5, 30), utc(2026, 11, 1, 8))]
    usual = rule(NY, ("sunday", "09:00", "17:00"))
    assert rule_spans(usual, *day) == [(utc(2026, 11, 1, 14), utc(2026, 11, 1, 22))]  # EST, UTC-5


def test_lord_howe_half_hour_dst() -> None:
    # Lord Howe Island: +10:30 standard, +11:00 summer; 02:00 becomes 02:30 on Sunday 4 October 2026,
    # and 02:00 becomes 01:30 on Sunday 5 April 2026.
    tz = "Australia/Lord_Howe"
    spring = rule(tz, ("sunday", "01:45", "02:15"), ("sunday", "09:00", "10:00"))
    spans = rule_spans(spring, utc(2026, 10, 3), utc(2026, 10, 5))
    assert spans == [
        (local(tz, 2026, 10, 4, 1, 45), local(tz, 2026, 10, 4, 2, 45)),  # 02:15 is in the gap: 02:45
        (local(tz, 2026, 10, 4, 9), local(tz, 2026, 10, 4, 10)),
    ]
    assert spans[0][1] - spans[0][0] == 30 * 60
    assert spans[1][0] == utc(2026, 10, 3, 22)  # 09:00 +11:00
    autumn = rule(tz, ("sunday", "01:40", "02:10"))
    [(a, b)] = rule_spans(autumn, utc(2026, 4, 4), utc(2026, 4, 6))
    assert a == utc(2026, 4, 4, 14, 40)  # the first 01:40, at +11:00
    assert b == utc(2026, 4, 4, 15, 40)  # 02:10 at +10:30 (after the fold): an hour in all


def test_a_period_ending_at_24_00_merges_with_the_next_days_from_00_00() -> None:
    r = rule("Europe/London", ("friday", "18:00", "24:00"), ("saturday", "00:00", "02:00"))
    spans = rule_spans(r, utc(2026, 11, 27), utc(2026, 11, 29))  # Friday 27 November (GMT)
    assert spans == [(utc(2026, 11, 27, 18), utc(2026, 11, 28, 2))]
    every_day = rule("Asia/Kolkata", *((name, "00:00", "24:00") for name in NAMES))
    assert rule_spans(every_day, utc(2026, 1, 1), utc(2026, 12, 1)) == [(utc(2026, 1, 1), utc(2026, 12, 1))]


def test_a_skipped_day_keeps_its_hours_on_the_day_after() -> None:
    # Samoa skipped Friday 30 December 2011 (UTC-10 to UTC+14 at midnight): that Friday's hours, a gap
    # shifted forward by the whole day, land on Saturday the 31st, even for a range starting that Saturday.
    tz = "Pacific/Apia"
    r = rule(tz, ("friday", "09:00", "10:00"), ("saturday", "12:00", "13:00"))
    assert rule_spans(r, local(tz, 2011, 12, 31), local(tz, 2012, 1, 1)) == [
        (local(tz, 2011, 12, 31, 9), local(tz, 2011, 12, 31, 10)),
        (local(tz, 2011, 12, 31, 12), local(tz, 2011, 12, 31, 13)),
    ]


def test_a_rule_without_periods_is_never_available() -> None:
    assert rule_spans(rule("Etc/UTC"), utc(2026, 1, 1), utc(2027, 1, 1)) == []


def test_overlapping_periods_of_one_day_merge() -> None:
    r = rule("Etc/UTC", ("monday", "09:00", "12:00"), ("monday", "11:00", "13:00"), ("monday", "13:00", "14:00"))
    assert rule_spans(r, utc(2026, 11, 23), utc(2026, 11, 24)) == [(utc(2026, 11, 23, 9), utc(2026, 11, 23, 14))]


def test_a_year_expands_day_by_day() -> None:
    r = rule("Europe/Berlin", *((name, "09:00", "17:00") for name in NAMES if name not in ("saturday", "sunday")))
    spans = rule_spans(r, utc(2026, 1, 1), utc(2027, 1, 2))
    assert len(spans) == 262  # 2026 has 261 weekdays; 1 January 2027 is a Friday
    assert spans[0] == (utc(2026, 1, 1, 8), utc(2026, 1, 1, 16))  # CET
    assert (utc(2026, 7, 1, 7), utc(2026, 7, 1, 15)) in spans  # CEST


def test_far_ranges_are_clipped_to_representable_days() -> None:
    r = rule("Pacific/Kiritimati", ("monday", "00:00", "24:00"))
    assert rule_spans(r, -(10**15), utc(1, 1, 20)) != []
    assert rule_spans(r, utc(9999, 12, 1), 10**15) != []


# --- ids, clock times, period times ---------------------------------------------------------------------


@pytest.mark.parametrize("text", ["default", "x", "a" * 64, "with space", "~!@#$%^&*()"])
def test_valid_ids(text: str) -> None:
    assert valid_id(text)


@pytest.mark.parametrize("text", ["", "a" * 65, "tab\there", "caf\u00e9", "new\nline"])
def test_invalid_ids(text: str) -> None:
    assert not valid_id(text)


def test_clock_times() -> None:
    assert clock_minutes("00:00") == 0 and clock_minutes("23:59") == 23 * 60 + 59
    assert clock_minutes("24:00", end=True) == 24 * 60
    for bad in ("24:00", "9:30", "09:60", "09:30:00", "0930", "\u0660\u0669:30", "09:30\n"):
        with pytest.raises(ValueError):
            clock_minutes(bad)
    with pytest.raises(ValueError):
        clock_minutes("24:01", end=True)


def test_period_times() -> None:
    assert period_time("2026-11-24T09:00:00Z", "Etc/UTC") == datetime(2026, 11, 24, 9, tzinfo=UTC)
    assert period_time("2026-11-24T09:00:00.900Z", "Etc/UTC") == datetime(2026, 11, 24, 9, tzinfo=UTC)
    local_time = {"time": "2026-11-24T09:00:00", "tzid": "America/Chicago"}
    assert period_time(local_time, "Etc/UTC") == datetime(2026, 11, 24, 15, tzinfo=UTC)
    assert period_time({"time": "2026-11-24T09:00"}, "Europe/Paris") == datetime(2026, 11, 24, 8, tzinfo=UTC)
    with_offset = {"time": "2026-11-24T09:00:00Z", "tzid": "Europe/London"}
    assert period_time(with_offset, "Etc/UTC") == datetime(2026, 11, 24, 9, tzinfo=UTC)
    gap = {"time": "2026-03-08T02:30:00", "tzid": NY}
    assert period_time(gap, "Etc/UTC") == datetime(2026, 3, 8, 7, 30, tzinfo=UTC)  # 03:30 EDT
    for bad in ("2026-11-24", "tomorrow", 5, {"time": 5}, {"time": "2026-11-24T09:00:00", "tzid": "Mars/Base"}):
        with pytest.raises(BadTime):
            period_time(bad, "Etc/UTC")
    with pytest.raises(BadTime):
        period_time({"time": "2026-02-30T09:00:00"}, "Etc/UTC")
