"""When to try failed background work again: one pure function and its documented horizon."""

from __future__ import annotations

from datetime import timedelta

# Early retries are quick so a blip costs seconds; later ones spread out so a receiver that is
# down for a weekend still gets its work. Added up, the schedule spans about 79 hours (over 72).
SCHEDULE: tuple[timedelta, ...] = (
    timedelta(seconds=5),
    timedelta(seconds=30),
    timedelta(minutes=2),
    timedelta(minutes=10),
    timedelta(minutes=30),
    timedelta(hours=1),
    timedelta(hours=2),
    timedelta(hours=4),
    *(timedelta(hours=8),) * 9,
)

HORIZON: timedelta = sum(SCHEDULE, timedelta())


def next_delay(failed_attempts: int, schedule: tuple[timedelta, ...] = SCHEDULE) -> timedelta | None:
    """The wait before the next try after `failed_attempts` failures, or None to give up."""
    if failed_attempts < 1:
        return timedelta(0)
    if failed_attempts > len(schedule):
        return None
    return schedule[failed_attempts - 1]
