"""Sequenced availability (`horae.domain.sequencing.find_sequences`): worked examples, speed, and
properties on random small instances checked against a brute-force search over candidate pairs."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from horae.domain import sequencing
from horae.domain.availability import NO_LIMIT, Buffer, Busy, Found, Group, Member, Query, find_slots
from horae.domain.sequencing import Placed, Step, find_sequences, gap_window

DAY = 1772409600  # 2026-03-02 00:00 UTC
MIN = 60
HOUR = 3600


def at(hour: float) -> int:
    return DAY + int(hour * HOUR)


def query(
    *members: Member,
    periods: Sequence[tuple[int, int]] = ((at(9), at(17)),),
    minutes: int = 60,
    interval: int = 30,
    required: int | None = None,
) -> Query:
    group = Group(members, len(members) if required is None else required)
    return Query((group,), tuple(periods), minutes * MIN, interval * MIN)


def starts(sequence: tuple[Placed, ...]) -> list[int]:
    return [placed.start for placed in sequence]


# --- examples ----------------------------------------------------------------------------------------


def test_two_steps_keep_the_minimum_gap() -> None:
    first = Step("one", query(Member("a")), gap_after=(30 * MIN, 60 * MIN))
    second = Step("two", query(Member("a"), minutes=30))
    found = find_sequences([first, second], 2)
    assert found[0] == (Placed("one", at(9), at(10), ("a",)), Placed("two", at(10.5), at(11), ("a",)))
    assert starts(found[1]) == [at(9.5), at(11)]


def test_the_larger_minimum_of_both_sides_wins() -> None:
    first = Step("one", query(Member("a")), gap_after=(30 * MIN, None))
    second = Step("two", query(Member("a"), minutes=30), gap_before=(60 * MIN, None))
    assert starts(find_sequences([first, second], 1)[0]) == [at(9), at(11)]


def test_the_maximum_gap_drops_first_steps_too_far_ahead() -> None:
    first = Step("one", query(Member("a")), gap_after=(0, 60 * MIN))
    second = Step("two", query(Member("a"), periods=[(at(12), at(17))], minutes=30))
    found = find_sequences([first, second], NO_LIMIT)
    # 09:00 and 09:30 end more than an hour before 12:00; later ones take the first slot in reach.
    assert [starts(s) for s in found[:3]] == [[at(10), at(12)], [at(10.5), at(12)], [at(11), at(12)]]
    assert all(s[1].start - s[0].end <= 60 * MIN for s in found)


def test_a_maximum_below_the_minimum_allows_nothing() -> None:
    first = Step("one", query(Member("a")), gap_after=(60 * MIN, None))
    second = Step("two", query(Member("a")), gap_before=(0, 30 * MIN))
    assert find_sequences([first, second], 10) == []


def test_a_step_that_can_never_be_placed_gives_no_sequences() -> None:
    always_busy = Member("b", busy=[Busy(at(0), at(24))])
    steps = [Step(1, query(Member("a"))), Step(2, query(always_busy)), Step(3, query(Member("a")))]
    assert find_sequences(steps, 10) == []
    assert find_sequences([Step(1, query(Member("a"), periods=()))], 10) == []


def test_a_step_too_late_for_everything_gives_no_sequences() -> None:
    # The second step's only room is before the first step can ever end.
    first = Step("one", query(Member("a"), periods=[(at(12), at(17))]))
    second = Step("two", query(Member("a"), periods=[(at(9), at(12))]))
    assert find_sequences([first, second], 10) == []


def test_max_results_is_honoured() -> None:
    steps = [Step("one", query(Member("a"))), Step("two", query(Member("b")))]
    found = find_sequences(steps, 3)
    assert [s[0].start for s in found] == [at(9), at(9.5), at(10)]
    assert find_sequences(steps, 0) == []
    assert find_sequences([], 5) == []


def test_step_ids_are_echoed_as_given() -> None:
    steps = [Step(1, query(Member("a"))), Step("2", query(Member("a"))), Step(3.5, query(Member("a")))]
    (found,) = find_sequences(steps, 1)
    assert [placed.step_id for placed in found] == [1, "2", 3.5]
    assert isinstance(found[0].step_id, int)


def test_a_person_busy_between_the_steps_pushes_the_sequence_later() -> None:
    busy_b = Member("b", busy=[Busy(at(10), at(11), "cal_b")])
    first = Step("one", query(Member("a")))
    second = Step("two", query(busy_b, minutes=30))
    assert starts(find_sequences([first, second], 1)[0]) == [at(9), at(11)]
    # With at most 30 minutes between them, 09:00 has no second step; 09:30 meets b at 11:00.
    tight = Step("one", query(Member("a")), gap_after=(0, 30 * MIN))
    found = find_sequences([tight, second], 2)
    assert [starts(s) for s in found] == [[at(9.5), at(11)], [at(10), at(11)]]


def test_the_same_person_in_two_steps_is_never_double_booked() -> None:
    a = Member("a", busy=[Busy(at(9), at(10))])
    steps = [Step("one", query(a, minutes=30)), Step("two", query(a, minutes=30))]
    for sequence in find_sequences(steps, NO_LIMIT):
        assert sequence[0].end <= sequence[1].start


def test_a_later_step_failing_backtracks_to_a_later_middle_step() -> None:
    # From a 09:00 first step the second could start at 10:00, but the third must follow within
    # 30 minutes and only has room from 14:00, so the second moves to 12:30 (ending 13:30).
    first = Step("one", query(Member("a")))
    second = Step("two", query(Member("b")), gap_after=(0, 30 * MIN))
    third = Step("three", query(Member("c"), periods=[(at(14), at(17))]))
    (found,) = find_sequences([first, second, third], 1)
    assert starts(found) == [at(9), at(12.5), at(14)]


def test_n_of_m_participants_are_reported_per_step() -> None:
    both = (Member("a", busy=[Busy(at(9), at(12))]), Member("b"))
    steps = [Step("one", query(*both, required=1)), Step("two", query(*both, required=2))]
    (found,) = find_sequences(steps, 1)
    assert found[0].participants == ("b",)
    assert found[1].participants == ("a", "b")
    assert found[1].start == at(12)


def test_four_steps_of_thousands_of_candidates_find_the_late_fit(monkeypatch: pytest.MonkeyPatch) -> None:
    # Eleven days at a five-minute interval gives ~3,200 candidates a step. The last step only fits at
    # the very end, so nearly every candidate of the others is dead (bench/sequencing.py times this case).
    days = [(DAY, DAY + 11 * 24 * HOUR)]
    last = [(days[0][1] - 2 * HOUR, days[0][1])]
    steps = [
        Step(n, query(Member(f"m{n}"), periods=last if n == 3 else days, minutes=30, interval=5)) for n in range(4)
    ]
    slots = {id(step.query.groups): candidates(step) for step in steps}
    assert all(len(slots[id(step.query.groups)]) > 3000 for step in steps[:3])

    def cached(q: Query, overlapping: bool) -> list[Found]:
        return slots[id(q.groups)]

    monkeypatch.setattr(sequencing, "find_slots", cached)
    found = find_sequences(steps, NO_LIMIT)
    assert found and all(s[3].start >= last[0][0] for s in found)
    assert all(s[0].start < s[1].start < s[2].start < s[3].start for s in found)


# --- properties --------------------------------------------------------------------------------------

QUARTER = 15 * MIN
SUBS = ("a", "b", "c")


@st.composite
def instances(draw: st.DrawFn) -> tuple[list[Step], int]:
    quarters = draw(st.sampled_from([96, 192]))  # one or two days on a 15-minute grid

    def span(max_quarters: int) -> tuple[int, int]:
        start = draw(st.integers(0, quarters - 1))
        length = draw(st.integers(1, max_quarters))
        return DAY + start * QUARTER, DAY + min(quarters, start + length) * QUARTER

    members = {sub: Member(sub, busy=[Busy(*span(8)) for _ in range(draw(st.integers(0, 4)))]) for sub in SUBS}
    # Sequenced availability shares its query periods among the steps; a step may still narrow them.
    shared = tuple(span(quarters) for _ in range(draw(st.integers(1, 2))))
    shared = shared if draw(st.booleans()) else ((DAY, DAY + quarters * QUARTER),)
    steps = []
    for number in range(draw(st.integers(1, 3))):
        subs = draw(st.lists(st.sampled_from(SUBS), min_size=1, max_size=3, unique=True))
        group = Group(tuple(members[s] for s in subs), draw(st.integers(1, len(subs))))
        periods = shared if draw(st.integers(0, 3)) else (span(quarters),)
        buffer = Buffer(draw(st.sampled_from([0, QUARTER])), draw(st.sampled_from([0, QUARTER])))
        q = Query(
            (group,),
            periods,
            draw(st.sampled_from([1, 2, 3, 4])) * QUARTER,
            draw(st.sampled_from([1, 2, 4])) * QUARTER,
            buffer,
            draw(st.integers(1, 5)),  # ignored: every candidate counts
        )

        def gap() -> tuple[int, int | None]:
            low = draw(st.sampled_from([0, 0, 0, 1, 2, 4])) * QUARTER
            high = draw(st.sampled_from([None, None, None, None, 0, 2, 4, 8, 16, 32]))
            return low, None if high is None else high * QUARTER

        steps.append(Step(f"step{number}" if number % 2 else number, q, gap(), gap()))
    return steps, draw(st.sampled_from([1, 3, 10, NO_LIMIT, NO_LIMIT, NO_LIMIT]))


def candidates(step: Step) -> list[Found]:
    unbounded = Query(
        step.query.groups, step.query.periods, step.query.duration, step.query.interval, step.query.buffer, NO_LIMIT
    )
    return find_slots(unbounded, overlapping=True)


def fits(earlier: Step, later: Step, gap: int) -> bool:
    """The gap rule written out directly from the two steps' bounds."""
    lows = [0, earlier.gap_after[0], later.gap_before[0]]
    highs = [h for h in (earlier.gap_after[1], later.gap_before[1]) if h is not None]
    return all(gap >= low for low in lows) and all(gap <= high for high in highs)


def brute_force(steps: Sequence[Step]) -> dict[int, int]:
    """For each first-step start that begins some valid sequence, the earliest end any such sequence
    has, found by checking every pair of candidates of consecutive steps."""
    slots = [candidates(step) for step in steps]
    best: list[int | None] = [slot.end for slot in slots[-1]]
    for index in range(len(steps) - 2, -1, -1):
        best = [
            min(
                (
                    end
                    for slot, end in zip(slots[index + 1], best, strict=True)
                    if end is not None and fits(steps[index], steps[index + 1], slot.start - here.end)
                ),
                default=None,
            )
            for here in slots[index]
        ]
    return {slot.start: end for slot, end in zip(slots[0], best, strict=True) if end is not None}


@settings(max_examples=150, deadline=None)
@given(instances())
def test_sequences_are_valid_and_placed_in_candidate_slots(instance: tuple[list[Step], int]) -> None:
    steps, max_results = instance
    found = find_sequences(steps, max_results)
    assert len(found) <= max_results
    slots = [{(s.start, s.end): s.participants for s in candidates(step)} for step in steps]
    for sequence in found:
        assert [placed.step_id for placed in sequence] == [step.step_id for step in steps]
        for placed, options in zip(sequence, slots, strict=True):
            assert options.get((placed.start, placed.end)) == placed.participants
        for number in range(len(steps) - 1):
            gap = sequence[number + 1].start - sequence[number].end
            assert fits(steps[number], steps[number + 1], gap)
            low, high = gap_window(steps[number], steps[number + 1])
            assert low <= gap and (high is None or gap <= high)
    firsts = [sequence[0].start for sequence in found]
    assert all(a < b for a, b in zip(firsts, firsts[1:], strict=False))


@settings(max_examples=150, deadline=None)
@given(instances())
def test_sequences_are_complete_and_finish_earliest(instance: tuple[list[Step], int]) -> None:
    steps, max_results = instance
    found = find_sequences(steps, max_results)
    expected = brute_force(steps)
    firsts = [sequence[0].start for sequence in found]
    if len(found) < max_results:
        assert firsts == sorted(expected)
    else:
        # Stopping at max_results keeps the earliest first-step starts.
        assert firsts == sorted(expected)[:max_results]
    for sequence in found:
        assert sequence[-1].end == expected[sequence[0].start]
