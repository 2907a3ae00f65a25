"""Sequenced availability: ordered steps placed one after another, each in its own available slot.

A sequence is one slot per step, in the order the steps are given (already sorted by ordinal). Each
step's candidate slots are its query's overlapping slots (`find_slots(..., overlapping=True)` with no
result limit), so a step's participants, duration, start interval and buffer are its own; who attends
one step says nothing about another, and the same person may attend several.

Between step i and step i+1 the gap g = start(i+1) - end(i) must satisfy

    max(0, gap_after(i).min, gap_before(i+1).min) <= g <= min(gap_after(i).max, gap_before(i+1).max)

where a missing maximum bounds nothing. The floor of 0 keeps a sequence's steps from overlapping, so a
person in two steps is never booked twice at once. The first step's gap_before and the last step's
gap_after bound nothing.

The answer holds at most one sequence per distinct first-step start, in order of that start, and for
each start the earliest-finishing valid continuation; at most `max_results` sequences are returned.
This is what a depth-first search gives when it tries each next step's candidates in time order within
the gap window and backtracks when a later step cannot be placed. It is computed here backwards instead:
for each step, from the last to the first, every candidate is marked with the first candidate of the
next step that lies in its window and itself has a continuation (or none). Each mark is one bisect, so
the whole is O(n log n) in the number of candidates rather than a search that rescans windows.

Why the first continuation in time order finishes earliest: by induction from the last step, the
earliest possible finish from a candidate never decreases as the candidate's start grows (a later start
opens a window no earlier, whose first viable candidate is no earlier). So among a step's viable next
candidates the earliest-starting one also finishes earliest, and following those first choices is
optimal at every step.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass, replace

from horae.domain.availability import NO_LIMIT, Found, Query, find_slots

Gap = tuple[int, int | None]  # (minimum, maximum) seconds; None is no maximum


@dataclass(frozen=True)
class Step:
    """One step of a sequence: its own availability query and the gaps it wants around it."""

    step_id: object  # as the caller sent it (string or number), echoed back
    query: Query
    gap_before: Gap = (0, None)  # from the previous step's end to this step's start
    gap_after: Gap = (0, None)  # from this step's end to the next step's start


@dataclass(frozen=True)
class Placed:
    """A step placed in a sequence: its slot and who attends it."""

    step_id: object
    start: int
    end: int
    participants: tuple[str, ...]


def gap_window(earlier: Step, later: Step) -> tuple[int, int | None]:
    """The allowed (minimum, maximum) gap from `earlier`'s end to `later`'s start; None is no maximum."""
    low = max(0, earlier.gap_after[0], later.gap_before[0])
    highs = [h for h in (earlier.gap_after[1], later.gap_before[1]) if h is not None]
    return low, min(highs) if highs else None


def find_sequences(steps: Sequence[Step], max_results: int) -> list[tuple[Placed, ...]]:
    """Complete sequences, one per first-step start that has any, each the earliest-finishing one."""
    if not steps or max_results <= 0:
        return []
    slots = [find_slots(replace(step.query, max_results=NO_LIMIT), overlapping=True) for step in steps]
    # following[i][j]: the index of the slot of step i+1 chosen after slot j of step i, or None when
    # slot j has no continuation. The last step needs no continuation, so all its slots are viable.
    following: list[list[int | None]] = [[] for _ in steps]
    viable = [True] * len(slots[-1])
    for index in range(len(steps) - 2, -1, -1):
        low, high = gap_window(steps[index], steps[index + 1])
        following[index] = _link(slots[index], slots[index + 1], viable, low, high)
        viable = [choice is not None for choice in following[index]]
    results: list[tuple[Placed, ...]] = []
    for first, ok in enumerate(viable):
        if not ok:
            continue
        results.append(_chain(steps, slots, following, first))
        if len(results) >= max_results:
            break
    return results


def _link(
    current: Sequence[Found], after: Sequence[Found], viable: Sequence[bool], low: int, high: int | None
) -> list[int | None]:
    """For each slot of `current`, the earliest viable slot of `after` starting within its gap window."""
    if high is not None and high < low:
        return [None] * len(current)
    starts = [slot.start for slot in after]
    # next_viable[k]: the first viable index at or after k (len(after) when there is none), so a
    # window's first viable slot is one bisect and one lookup instead of a scan past dead slots.
    next_viable = [len(after)] * (len(after) + 1)
    for k in range(len(after) - 1, -1, -1):
        next_viable[k] = k if viable[k] else next_viable[k + 1]
    chosen: list[int | None] = []
    for slot in current:
        k = next_viable[bisect_left(starts, slot.end + low)]
        fits = k < len(after) and (high is None or starts[k] <= slot.end + high)
        chosen.append(k if fits else None)
    return chosen


def _chain(
    steps: Sequence[Step], slots: Sequence[Sequence[Found]], following: Sequence[Sequence[int | None]], first: int
) -> tuple[Placed, ...]:
    placed: list[Placed] = []
    index: int | None = first
    for number, step in enumerate(steps):
        assert index is not None  # every slot on a viable chain has a chosen successor
        slot = slots[number][index]
        placed.append(Placed(step.step_id, slot.start, slot.end, slot.participants))
        index = following[number][index] if number + 1 < len(steps) else None
    return tuple(placed)
