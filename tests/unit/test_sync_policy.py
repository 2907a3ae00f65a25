"""The sync policy: status changes, the notifications they raise (once), backoff and Retry-After."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from horae.domain import sync_policy as p

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def test_the_first_success_is_the_initial_sync() -> None:
    first = p.succeeded(p.SyncState(), NOW)
    assert first.state.status == p.ACTIVE and first.notifications == (p.INITIAL_SYNC_COMPLETED,)
    assert first.state.last_synced_at == NOW and first.state.next_sync_at == NOW + p.POLL_EVERY
    again = p.succeeded(first.state, NOW + timedelta(minutes=5))
    assert again.notifications == ()


def test_repeated_auth_failures_disconnect_once_until_relinked() -> None:
    state = p.succeeded(p.SyncState(), NOW).state
    raised: list[str] = []
    for minute in range(6):
        outcome = p.auth_failed(state, NOW + timedelta(minutes=minute))
        state = outcome.state
        raised += outcome.notifications
    assert state.status == p.DISCONNECTED and raised == [p.PROFILE_DISCONNECTED]
    assert state.next_sync_at is None
    assert p.succeeded(state, NOW).state.status == p.DISCONNECTED  # a stray success does not reconnect
    back = p.relinked(state, NOW)
    assert back.status == p.ACTIVE and back.auth_failures == 0 and back.next_sync_at == NOW


def test_a_success_between_auth_failures_starts_the_count_again() -> None:
    state = p.succeeded(p.SyncState(), NOW).state
    for _ in range(p.AUTH_FAILURES_TO_DISCONNECT - 1):
        state = p.auth_failed(state, NOW).state
    state = p.succeeded(state, NOW).state
    assert p.auth_failed(state, NOW).state.status == p.ACTIVE


def test_a_connection_never_synced_stays_pending_after_relinking() -> None:
    state = p.SyncState()
    for _ in range(p.AUTH_FAILURES_TO_DISCONNECT):
        state = p.auth_failed(state, NOW).state
    assert p.relinked(state, NOW).status == p.PENDING


def test_backoff_doubles_up_to_an_hour() -> None:
    assert [p.backoff(n) for n in (0, 1, 2, 3)] == [
        timedelta(0),
        timedelta(seconds=30),
        timedelta(minutes=1),
        timedelta(minutes=2),
    ]
    assert p.backoff(50) == p.MAX_BACKOFF


@given(
    failures=st.integers(min_value=0, max_value=40),
    retry_after=st.none() | st.integers(min_value=0, max_value=86_400).map(lambda s: timedelta(seconds=s)),
)
def test_never_sooner_than_the_service_asked(failures: int, retry_after: timedelta | None) -> None:
    state = p.SyncState(status=p.ACTIVE, failures=failures)
    after = p.failed(state, NOW, retry_after).state
    assert after.next_sync_at is not None
    assert after.next_sync_at >= NOW + (retry_after or timedelta(0))
    assert after.next_sync_at >= NOW + p.backoff(failures + 1)
    assert after.failures == failures + 1 and after.status == p.ACTIVE


def test_the_window_slides_with_time() -> None:
    start, end = p.window(NOW)
    assert (NOW - start, end - NOW) == (timedelta(days=42), timedelta(days=201))
