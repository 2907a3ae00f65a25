"""The lock-out rule on its own: five failures within fifteen minutes lock an address for fifteen minutes;
older failures stop counting; an expired lock starts the count again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from horae.domain.security import FAILURE_WINDOW, LOCKOUT, MAX_FAILURES, LoginThrottle, throttle_key

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def _fresh() -> LoginThrottle:
    return LoginThrottle(throttle_key("ada@example.com"), 0, T0)


def test_the_fifth_failure_in_the_window_locks_for_fifteen_minutes() -> None:
    throttle = _fresh()
    for minute in range(MAX_FAILURES - 1):
        throttle.record_failure(T0 + timedelta(minutes=minute))
        assert not throttle.locked(T0 + timedelta(minutes=minute))
    fifth = T0 + timedelta(minutes=MAX_FAILURES - 1)
    throttle.record_failure(fifth)
    assert throttle.locked(fifth)
    assert throttle.locked(fifth + LOCKOUT - timedelta(seconds=1))
    assert not throttle.locked(fifth + LOCKOUT)
    assert MAX_FAILURES == 5 and LOCKOUT == FAILURE_WINDOW == timedelta(minutes=15)


def test_failures_older_than_the_window_no_longer_count() -> None:
    throttle = _fresh()
    for _ in range(MAX_FAILURES - 1):
        throttle.record_failure(T0)
    later = T0 + FAILURE_WINDOW
    throttle.record_failure(later)
    assert throttle.failures == 1 and not throttle.locked(later)


def test_failures_while_locked_do_not_extend_the_lock() -> None:
    throttle = _fresh()
    for _ in range(MAX_FAILURES):
        throttle.record_failure(T0)
    until = throttle.locked_until
    throttle.record_failure(T0 + timedelta(minutes=10))
    assert throttle.locked_until == until


def test_after_a_lock_ends_the_count_starts_again() -> None:
    throttle = _fresh()
    for _ in range(MAX_FAILURES):
        throttle.record_failure(T0)
    after = T0 + LOCKOUT
    throttle.record_failure(after)
    assert throttle.failures == 1 and not throttle.locked(after) and throttle.locked_until is None


def test_the_key_ignores_case_and_spaces_and_is_not_the_address() -> None:
    key = throttle_key(" Ada@Example.COM ")
    assert key == throttle_key("ada@example.com")
    assert "ada" not in key and len(key) == 64
    assert key != throttle_key("bob@example.com")
