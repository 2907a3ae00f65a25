"""The retry policy: short first waits, a horizon past 72 hours, and then giving up."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from horae.domain import retry
from horae.domain.retry import HORIZON, SCHEDULE, next_delay


def test_schedule_spans_at_least_72_hours() -> None:
    total = sum((next_delay(n) or timedelta(0) for n in range(1, len(SCHEDULE) + 1)), timedelta())
    assert total >= timedelta(hours=72)
    assert total == HORIZON


def test_horizon_is_the_sum_of_the_schedule() -> None:
    assert sum(SCHEDULE, timedelta()) == HORIZON


def test_first_retries_are_short() -> None:
    first, second = next_delay(1), next_delay(2)
    assert first is not None and first <= timedelta(seconds=10)
    assert second is not None and second <= timedelta(minutes=1)
    assert sum((SCHEDULE[i] for i in range(3)), timedelta()) <= timedelta(minutes=5)


def test_no_failure_yet_means_no_wait() -> None:
    assert next_delay(0) == timedelta(0)
    assert next_delay(-3) == timedelta(0)


def test_last_attempt_still_has_a_delay_and_then_it_gives_up() -> None:
    assert next_delay(len(SCHEDULE)) == SCHEDULE[-1]
    assert next_delay(len(SCHEDULE) + 1) is None
    assert next_delay(10_000) is None


def test_every_delay_is_positive() -> None:
    assert all(step > timedelta(0) for step in SCHEDULE)


def test_a_custom_schedule_is_honoured() -> None:
    custom = (timedelta(seconds=1), timedelta(seconds=2))
    assert retry.next_delay(1, custom) == timedelta(seconds=1)
    assert retry.next_delay(2, custom) == timedelta(seconds=2)
    assert retry.next_delay(3, custom) is None


@given(st.integers(min_value=-5, max_value=len(SCHEDULE) + 5))
def test_next_delay_is_monotonic_non_decreasing(failed: int) -> None:
    here, after = next_delay(failed), next_delay(failed + 1)
    if here is None:
        assert after is None  # once it gives up, it stays given up
    elif after is not None:
        assert after >= here


@given(st.integers(min_value=len(SCHEDULE) + 1, max_value=10**9))
def test_past_the_end_is_always_none(failed: int) -> None:
    assert next_delay(failed) is None


@given(st.integers(min_value=1, max_value=len(SCHEDULE)))
def test_within_the_schedule_delay_is_never_none(failed: int) -> None:
    delay = next_delay(failed)
    assert delay is not None and delay > timedelta(0)
