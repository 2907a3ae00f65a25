"""The availability engine (`horae.domain.availability`) by example: each parameter of a query on its own,
with the answers worked out by hand. Times are minutes after 2026-12-01 00:00 UTC unless told."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

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
    member_free,
)
from horae.domain.constraints import Constraint, allowed

DAY0 = int(datetime(2026, 12, 1, tzinfo=UTC).timestamp())
MINUTE = 60
HOUR = 3600
NO_BUFFER = Buffer()


def at(hours: float) -> int:
    """2026-12-01 at `hours` (UTC), as epoch seconds: at(9.5) is 09:30."""
    return DAY0 + round(hours * HOUR)


def clock(instant: int) -> float:
    return (instant - DAY0) / HOUR


def busy(start: float, end: float, source: str = "cal") -> Busy:
    return Busy(at(start), at(end), source)


def member(
    sub: str, *blocks: tuple[float, float], limits: tuple[Limit, ...] = (), buffer: Buffer | None = None
) -> Member:
    """A member busy from and to the given hours."""
    return Member(sub, tuple(busy(s, e) for s, e in blocks), limits, buffer)


def query(
    *groups: Group,
    periods: tuple[tuple[float, float], ...] = ((9, 17),),
    duration: int = 60,
    interval: int = 30,
    buffer: Buffer = NO_BUFFER,
    max_results: int = 512,
) -> Query:
    """Duration and interval in minutes, periods in hours of the day."""
    return Query(
        tuple(groups),
        tuple((at(s), at(e)) for s, e in periods),
        duration * MINUTE,
        interval * MINUTE,
        buffer,
        max_results,
    )


def everyone(*members: Member) -> Group:
    return Group(tuple(members), len(members))


def spans(found: list[Found]) -> list[tuple[float, float]]:
    return [(clock(f.start), clock(f.end)) for f in found]


def starts(found: list[Found]) -> list[float]:
    return [clock(f.start) for f in found]


# --- duration --------------------------------------------------------------------------------------------


def test_periods_shorter_than_the_duration_are_left_out() -> None:
    alice = member("alice", (10, 10.5), (13, 15.25))
    assert spans(find_periods(query(everyone(alice), duration=30))) == [(9, 10), (10.5, 13), (15.25, 17)]
    assert spans(find_periods(query(everyone(alice), duration=105))) == [(10.5, 13), (15.25, 17)]
    assert spans(find_periods(query(everyone(alice), duration=150))) == [(10.5, 13)]
    assert find_periods(query(everyone(alice), duration=151)) == []


def test_slots_last_exactly_the_duration() -> None:
    alice = member("alice", (10, 10.5))
    found = find_slots(query(everyone(alice), periods=((9, 12),), duration=45, interval=15), overlapping=False)
    assert spans(found) == [(9, 9.75), (10.5, 11.25), (11.25, 12)]
    assert all(f.end - f.start == 45 * MINUTE for f in found)
    assert all(f.participants == ("alice",) for f in found)


def test_a_meeting_may_end_exactly_when_a_busy_block_starts_and_start_when_it_ends() -> None:
    alice = member("alice", (10, 11))
    found = find_slots(query(everyone(alice), periods=((9, 12),)), overlapping=True)
    assert starts(found) == [9, 11]


# --- interval ---------------------------------------------------------------------------------------------


def test_slots_start_on_the_interval_grid_counted_from_the_epoch() -> None:
    periods = ((9 + 10 / 60, 12),)  # from 09:10
    assert starts(find_slots(query(everyone(member("a")), periods=periods, interval=30), overlapping=True)) == [
        9.5,
        10,
        10.5,
        11,
    ]
    assert starts(find_slots(query(everyone(member("a")), periods=periods, interval=15), overlapping=True))[:2] == [
        9.25,
        9.5,
    ]
    # 7 minutes: DAY0 lies 240 s past a multiple of 420 s, so the grid falls at DAY0 + 180 s + 7k minutes,
    # and the first point at or after 09:10 is 09:16.
    found = find_slots(query(everyone(member("a")), periods=periods, interval=7), overlapping=True)
    assert all(f.start % (7 * MINUTE) == 0 for f in found)
    assert found[0].start == DAY0 + 9 * HOUR + 16 * MINUTE
    assert found[1].start == DAY0 + 9 * HOUR + 23 * MINUTE


def test_plain_slots_follow_each_other_and_realign_after_a_busy_block() -> None:
    alice = member("alice", (10 + 5 / 60, 10 + 20 / 60))  # 10:05-10:20
    found = find_slots(query(everyone(alice), periods=((9, 13),), duration=45, interval=30), overlapping=False)
    # 09:00-09:45; the next grid point, 10:00, would run into 10:05; after the block 10:30-11:15, then the
    # next grid point 11:30-12:15; 12:30 would end after 13:00.
    assert starts(found) == [9, 10.5, 11.5]


def test_overlapping_slots_start_at_every_grid_point_that_fits() -> None:
    alice = member("alice", (10, 10.5))
    q = query(everyone(alice), periods=((9, 12),), duration=60, interval=30)
    assert starts(find_slots(q, overlapping=True)) == [9, 10.5, 11]
    assert starts(find_slots(q, overlapping=False)) == [9, 10.5]


# --- buffers ----------------------------------------------------------------------------------------------


def test_the_buffer_before_keeps_time_clear_after_a_busy_block_ends() -> None:
    alice = member("alice", (10, 11))
    q = query(everyone(alice), periods=((9, 14),), buffer=Buffer(before=15 * MINUTE))
    assert spans(find_periods(q)) == [(9, 10), (11.25, 14)]
    assert starts(find_slots(q, overlapping=True)) == [9, 11.5, 12, 12.5, 13]


def test_the_buffer_after_keeps_time_clear_before_a_busy_block_starts() -> None:
    alice = member("alice", (10, 11))
    q = query(everyone(alice), periods=((9, 14),), buffer=Buffer(after=15 * MINUTE))
    assert spans(find_periods(q)) == [(11, 14)]  # 09:00-09:45 is too short for an hour
    q = query(everyone(alice), periods=((8, 14),), buffer=Buffer(after=15 * MINUTE))
    assert spans(find_periods(q)) == [(8, 9.75), (11, 14)]
    assert starts(find_slots(q, overlapping=True)) == [8, 8.5, 11, 11.5, 12, 12.5, 13]


def test_a_members_buffer_replaces_the_querys_for_that_member_only() -> None:
    strict = member("strict", (10, 11), buffer=Buffer(before=60 * MINUTE, after=60 * MINUTE))
    relaxed = member("relaxed", (13, 14), buffer=Buffer())  # no buffer at all, even though the query has one
    plain = member("plain", (15.5, 16))  # the query's buffer
    q = query(everyone(strict, relaxed, plain), periods=((8, 18),), buffer=Buffer(30 * MINUTE, 30 * MINUTE))
    assert spans(find_periods(q)) == [(8, 9), (12, 13), (14, 15), (16.5, 18)]
    assert spans(find_periods(query(everyone(strict), periods=((8, 18),)))) == [(8, 9), (12, 18)]
    free = member_free(relaxed, [(at(8), at(18))], HOUR, Buffer(30 * MINUTE, 30 * MINUTE))
    assert [(clock(s), clock(e)) for s, e in free] == [(8, 13), (14, 18)]


def test_a_buffer_longer_than_the_gap_between_busy_blocks_joins_them() -> None:
    alice = member("alice", (10, 11), (12, 13))
    q = query(everyone(alice), periods=((9, 15),), buffer=Buffer(before=30 * MINUTE, after=30 * MINUTE))
    assert spans(find_periods(q)) == [(13.5, 15)]


# --- limits -----------------------------------------------------------------------------------------------


def test_limits_keep_a_member_inside_every_one_of_them() -> None:
    alice = member(
        "alice",
        limits=(
            Limit("available_periods", ((at(8), at(12)), (at(13), at(16)))),
            Limit("managed_availability", ((at(10), at(14)),)),
        ),
    )
    assert spans(find_periods(query(everyone(alice), periods=((9, 17),)))) == [(10, 12), (13, 14)]


def test_limits_apply_to_their_member_only() -> None:
    alice = member("alice", limits=(Limit("available_periods", ((at(9), at(11)),)),))
    bob = member("bob", (9, 10))
    assert spans(find_periods(query(everyone(alice, bob)))) == [(10, 11)]
    assert spans(find_periods(query(everyone(bob)))) == [(10, 17)]


def test_an_empty_limit_leaves_no_time() -> None:
    alice = member("alice", limits=(Limit("available_periods", ()),))
    assert find_periods(query(everyone(alice))) == []
    assert find_slots(query(everyone(alice)), overlapping=True) == []


# --- groups -----------------------------------------------------------------------------------------------


def test_an_all_group_needs_every_member_and_lists_them_all() -> None:
    alice, bob = member("alice", (10, 11)), member("bob", (12, 14))
    found = find_periods(query(everyone(alice, bob)))
    assert spans(found) == [(9, 10), (11, 12), (14, 17)]
    assert all(f.participants == ("alice", "bob") for f in found)


def test_every_group_must_be_satisfied_at_once() -> None:
    hosts = everyone(member("host", (9, 10)))
    guests = Group((member("g1", (11, 17)), member("g2", (9, 12))), 1)
    found = find_slots(query(hosts, guests, periods=((9, 14),)), overlapping=True)
    assert [(clock(f.start), f.participants) for f in found] == [
        (10, ("host", "g1")),
        (12, ("host", "g2")),
        (12.5, ("host", "g2")),
        (13, ("host", "g2")),
    ]


def test_n_of_m_lists_exactly_the_required_number_of_free_members() -> None:
    a, b, c = member("a", (9, 10)), member("b", (10, 11)), member("c", (11, 12))
    found = find_slots(query(Group((a, b, c), 2), periods=((9, 13),)), overlapping=False)
    assert [(clock(f.start), f.participants) for f in found] == [
        (9, ("b", "c")),
        (10, ("a", "c")),
        (11, ("a", "b")),
        (12, ("a", "b")),
    ]


def test_n_of_m_needs_the_same_members_for_the_whole_meeting() -> None:
    # At every instant two of the three are free, but no two are free together for two hours.
    a, b, c = member("a", (10, 11)), member("b", (9, 10)), member("c")
    q = query(Group((a, b, c), 2), periods=((9, 11),), duration=120)
    assert find_periods(q) == []
    assert find_slots(q, overlapping=True) == []
    assert check_slots(q, [at(9)]) == []
    q = query(Group((a, b, c), 2), periods=((9, 11),), duration=60)
    assert [(clock(f.start), clock(f.end), f.participants) for f in find_periods(q)] == [
        (9, 10, ("a", "c")),
        (10, 11, ("b", "c")),
    ]


def test_n_of_m_periods_may_overlap_and_name_who_they_were_found_for() -> None:
    a = member("a", (12, 17))  # free 09-12
    b = member("b", (9, 10))  # free 10-17
    c = member("c", (9, 11), (15, 17))  # free 11-15
    found = find_periods(query(Group((a, b, c), 2), duration=60))
    assert [(clock(f.start), clock(f.end), f.participants) for f in found] == [
        (10, 12, ("a", "b")),
        (11, 15, ("b", "c")),
    ]


def test_one_of_one_is_all() -> None:
    alice = member("alice", (10, 11))
    assert find_periods(query(Group((alice,), 1))) == find_periods(query(everyone(alice)))


# --- max_results ------------------------------------------------------------------------------------------


def test_max_results_caps_slots_and_periods_keeping_the_earliest() -> None:
    alice = member("alice", (10, 11), (12, 13), (14, 15))
    assert starts(find_slots(query(everyone(alice), max_results=3), overlapping=True)) == [9, 11, 13]
    assert starts(find_slots(query(everyone(alice), max_results=3), overlapping=False)) == [9, 11, 13]
    assert spans(find_periods(query(everyone(alice), max_results=2))) == [(9, 10), (11, 12)]
    partial = Group((alice, member("bob"), member("carol", (9, 17))), 2)
    assert spans(find_periods(query(partial, max_results=2))) == [(9, 10), (11, 12)]
    assert len(find_slots(query(everyone(member("bob")), periods=((0, 24),), max_results=512), True)) == 47


def test_query_periods_are_merged_where_they_touch_or_overlap() -> None:
    q = query(everyone(member("a")), periods=((9, 10), (10, 10.5), (10.25, 11)), duration=120)
    assert spans(find_periods(q)) == [(9, 11)]
    assert starts(find_slots(q, overlapping=True)) == [9]


# --- check_slots ------------------------------------------------------------------------------------------


def test_check_slots_checks_each_start_as_given_even_off_the_grid() -> None:
    alice = member("alice", (10, 11))
    q = query(everyone(alice), periods=((8, 13),))
    asked = [at(8 + 7 / 60), at(9.5), at(11 + 1 / 60), at(12 + 1 / 60), at(8 + 7 / 60)]
    found = check_slots(q, asked)
    # 09:30 runs into the busy block; 12:01 would end after the query period
    assert [(f.start, f.end) for f in found] == [(asked[0], asked[0] + HOUR), (asked[2], asked[2] + HOUR)]
    assert found[0].participants == ("alice",)


def test_check_slots_respects_groups_buffers_and_max_results() -> None:
    a, b = member("a", (10, 11)), member("b")
    q = query(Group((a, b), 2), periods=((8, 14),), buffer=Buffer(before=10 * MINUTE))
    asked = [at(9), at(11), at(11 + 10 / 60), at(12)]
    assert [f.start for f in check_slots(q, asked)] == [asked[0], asked[2], asked[3]]
    # one of two, the earliest two starts; the member free the longest is chosen
    q = query(Group((a, b), 1), periods=((8, 14),), max_results=2)
    found = check_slots(q, [at(12), at(10), at(8)])
    assert [(clock(f.start), f.participants) for f in found] == [(8, ("b",)), (10, ("b",))]


# --- explain ----------------------------------------------------------------------------------------------


def test_explain_names_a_busy_block_and_its_source() -> None:
    alice = Member("alice", (Busy(at(10), at(11), "cal_work"),))
    found = explain(query(everyone(alice)), at(10.5))
    assert not found.available
    assert found.participants == ()
    assert [(r.reason, r.sub, r.source) for r in found.reasons] == [
        ("busy", "alice", "cal_work"),
        ("not_enough_members", None, None),
    ]
    assert (found.reasons[0].start, found.reasons[0].end) == (at(10), at(11))
    assert found.reasons[1].group == 0


def test_explain_tells_a_buffer_from_a_busy_block() -> None:
    alice = Member("alice", (Busy(at(10), at(11), "cal"),))
    q = query(everyone(alice), periods=((8, 17),), buffer=Buffer(before=15 * MINUTE, after=15 * MINUTE))
    assert [r.reason for r in explain(q, at(11)).reasons] == ["buffer", "not_enough_members"]
    assert [r.reason for r in explain(q, at(9)).reasons] == ["buffer", "not_enough_members"]
    assert explain(q, at(8.75)).available
    assert explain(q, at(11.25)).available
    assert explain(q, at(11.25)).participants == ("alice",)


def test_explain_names_each_limit_by_its_reason() -> None:
    alice = member(
        "alice",
        limits=(
            Limit("available_periods", ((at(9), at(12)),)),
            Limit("availability_constraints", ((at(11), at(17)),)),
        ),
    )
    q = query(everyone(alice))
    assert [(r.reason, r.sub) for r in explain(q, at(9)).reasons] == [
        ("availability_constraints", "alice"),
        ("not_enough_members", None),
    ]
    assert [r.reason for r in explain(q, at(12)).reasons] == ["available_periods", "not_enough_members"]
    assert explain(q, at(11)).available


def test_explain_counts_free_members_against_required() -> None:
    a, b, c = member("a", (9, 10)), member("b", (9, 10)), member("c")
    q = query(everyone(member("host")), Group((a, b, c), 2))
    found = explain(q, at(9))
    assert not found.available
    assert [(r.reason, r.sub, r.group) for r in found.reasons] == [
        ("busy", "a", None),
        ("busy", "b", None),
        ("not_enough_members", None, 1),
    ]
    found = explain(q, at(10))
    assert found.available
    assert found.participants == ("host", "a", "b")
    # one busy member of three is reported, though two are enough
    found = explain(query(Group((a, member("d"), c), 2)), at(9))
    assert found.available
    assert found.participants == ("d", "c")
    assert [(r.reason, r.sub) for r in found.reasons] == [("busy", "a")]


def test_explain_outside_the_query_periods() -> None:
    found = explain(query(everyone(member("a")), periods=((9, 10),)), at(9.5))
    assert not found.available
    assert [r.reason for r in found.reasons] == ["outside_query_periods"]


def test_explain_agrees_with_check_slots_when_query_periods_touch() -> None:
    """The engine merges touching query periods (09-10 and 10-11 hold a 09:30-10:30 meeting); so must explain."""
    q = query(everyone(member("a")), periods=((9, 10), (10, 11)))
    assert starts(check_slots(q, [at(9.5)])) == [9.5]
    assert explain(q, at(9.5)).available


def test_explain_agrees_with_check_slots_about_an_empty_busy_block() -> None:
    """A busy block that starts when it ends (a zero-length event) blocks nothing in the engine; explain must
    not call it busy either."""
    alice = Member("alice", (Busy(at(10), at(10), "cal"),))
    q = query(everyone(alice))
    assert starts(check_slots(q, [at(9.5)])) == [9.5]
    assert explain(q, at(9.5)).available
    assert explain(q, at(9.5)).reasons == ()


# --- constraints ------------------------------------------------------------------------------------------

NEW_YORK = ZoneInfo("America/New_York")


def local(day: date, hour: int, where: ZoneInfo = NEW_YORK) -> int:
    return int(datetime(day.year, day.month, day.day, hour, tzinfo=where).timestamp())


def test_a_day_with_limit_events_is_blocked_in_the_constraints_zone() -> None:
    day = date(2026, 12, 2)  # a Wednesday; New York is UTC-5
    events = [local(day, 9), local(day, 23)]  # 23:00 local is 04:00 UTC on the 3rd, still the 2nd in New York
    within = (local(day - timedelta(days=1), 0), local(day + timedelta(days=2), 0))
    spans_ = allowed(events, Constraint("day", 2, NEW_YORK), within)
    assert spans_ == ((within[0], local(day, 0)), (local(day + timedelta(days=1), 0), within[1]))
    assert allowed(events, Constraint("day", 3, NEW_YORK), within) == (within,)
    # Read in UTC, the two events fall on different days: nothing reaches two.
    assert allowed(events, Constraint("day", 2, ZoneInfo("UTC")), within) == (within,)


def test_a_week_with_limit_events_is_blocked_from_monday_to_monday() -> None:
    monday = date(2026, 11, 30)
    events = [local(monday, 9), local(monday + timedelta(days=6), 22)]  # Monday and Sunday
    within = (local(monday - timedelta(days=3), 0), local(monday + timedelta(days=10), 0))
    found = allowed(events, Constraint("week", 2, NEW_YORK), within)
    assert found == ((within[0], local(monday, 0)), (local(monday + timedelta(days=7), 0), within[1]))


def test_a_blocked_day_across_a_dst_change_is_as_long_as_that_day() -> None:
    spring, autumn = date(2026, 3, 8), date(2026, 11, 1)
    for day, hours in ((spring, 23), (autumn, 25)):
        within = (local(day, 0) - 86400, local(day, 0) + 3 * 86400)
        found = allowed([local(day, 12)], Constraint("day", 1, NEW_YORK), within)
        assert len(found) == 2
        gap = found[1][0] - found[0][1]
        assert gap == hours * HOUR
        assert found[0][1] == local(day, 0)


def test_constraints_block_slots_and_explain_names_them() -> None:
    day = date(2026, 12, 2)
    event_starts = [local(day, 9), local(day, 10)]
    window = (local(day, 0), local(day + timedelta(days=2), 0))
    limit = Limit("availability_constraints", allowed(event_starts, Constraint("day", 2, NEW_YORK), window))
    alice = Member("alice", tuple(Busy(s, s + HOUR, "cal") for s in event_starts), (limit,))
    q = Query((everyone(alice),), (window,), HOUR, 30 * MINUTE)
    found = find_periods(q)
    assert [(f.start, f.end) for f in found] == [(local(day + timedelta(days=1), 0), window[1])]
    reasons = explain(q, local(day, 14)).reasons
    assert [(r.reason, r.sub) for r in reasons] == [("availability_constraints", "alice"), ("not_enough_members", None)]
    assert explain(q, local(day + timedelta(days=1), 14)).available
