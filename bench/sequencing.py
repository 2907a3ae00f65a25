"""Print how long the sequencing engine takes on a hard case: four steps of ~3,200 candidate slots each,
where the last step fits only at the very end of eleven days, so nearly every candidate of the other steps
has no continuation. A search that rescanned dead candidates would be quadratic here. Run with
`make bench`; nothing here asserts a speed (tests/unit/test_sequencing.py checks the answer)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace

from horae.domain import sequencing
from horae.domain.availability import NO_LIMIT, Found, Group, Member, Query, find_slots
from horae.domain.sequencing import Step, find_sequences

DAY, HOUR, MIN = 1772409600, 3600, 60  # 2026-03-02 00:00 UTC
TARGET_SECONDS = 0.1


def _query(member: str, periods: Sequence[tuple[int, int]]) -> Query:
    return Query((Group((Member(member),), 1),), tuple(periods), 30 * MIN, 5 * MIN)


def main() -> None:
    days = [(DAY, DAY + 11 * 24 * HOUR)]
    last = [(days[0][1] - 2 * HOUR, days[0][1])]
    steps = [Step(n, _query(f"m{n}", last if n == 3 else days)) for n in range(4)]
    slots = {id(s.query.groups): find_slots(replace(s.query, max_results=NO_LIMIT), overlapping=True) for s in steps}

    def cached(q: Query, overlapping: bool) -> list[Found]:
        return slots[id(q.groups)]

    sequencing.find_slots = cached  # type: ignore[assignment]  # time the chaining, not the slot search
    runs = []
    for _ in range(5):
        began = time.perf_counter()
        found = find_sequences(steps, NO_LIMIT)
        runs.append(time.perf_counter() - began)
    counts = ", ".join(str(len(v)) for v in slots.values())
    print(f"sequencing: 4 steps ({counts} candidates), {len(found)} sequences")
    print(f"  best of 5: {min(runs) * 1000:.1f} ms (target < {TARGET_SECONDS * 1000:.0f} ms)")


if __name__ == "__main__":
    main()
