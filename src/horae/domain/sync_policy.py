"""How a connected calendar service is kept in sync: the window it covers, when to sync next, and when a run
of failures disconnects it. Pure; the sync jobs apply it and raise the notifications it names."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

DAYS_BACK = 42
DAYS_AHEAD = 201
AUTH_FAILURES_TO_DISCONNECT = 3  # a password changed or a grant revoked: a few tries, then ask the person
POLL_EVERY = timedelta(minutes=5)  # services without push (CalDAV, ICS feeds)
FIRST_BACKOFF = timedelta(seconds=30)
MAX_BACKOFF = timedelta(hours=1)

PENDING = "pending"
ACTIVE = "active"
DISCONNECTED = "disconnected"
INITIAL_SYNC_COMPLETED = "profile_initial_sync_completed"
PROFILE_DISCONNECTED = "profile_disconnected"


@dataclass(frozen=True)
class SyncState:
    """Where one connection stands: its status, the failures in a row, and when to sync next."""

    status: str = PENDING
    auth_failures: int = 0
    failures: int = 0
    last_synced_at: datetime | None = None
    next_sync_at: datetime | None = None


@dataclass(frozen=True)
class Outcome:
    """The state after a sync attempt, and the profile notifications it calls for (each raised once)."""

    state: SyncState
    notifications: tuple[str, ...] = ()


def window(now: datetime, days_back: int = DAYS_BACK, days_ahead: int = DAYS_AHEAD) -> tuple[datetime, datetime]:
    """The span kept in sync, sliding with time: events entering it are caught by the next full pass."""
    return now - timedelta(days=days_back), now + timedelta(days=days_ahead)


def succeeded(state: SyncState, now: datetime, poll_every: timedelta = POLL_EVERY) -> Outcome:
    """A sync ran to the end: the connection is active, its failures forgotten. The first success of a
    pending connection is its initial sync."""
    if state.status == DISCONNECTED:
        return Outcome(state)  # only relinking brings a disconnected connection back
    done = SyncState(ACTIVE, 0, 0, now, now + poll_every)
    return Outcome(done, (INITIAL_SYNC_COMPLETED,) if state.status == PENDING else ())


def auth_failed(state: SyncState, now: datetime, threshold: int = AUTH_FAILURES_TO_DISCONNECT) -> Outcome:
    """The service refused the credentials. After `threshold` refusals in a row the connection is
    disconnected (notified once) and no longer synced until the person relinks it."""
    if state.status == DISCONNECTED:
        return Outcome(state)
    failures = state.auth_failures + 1
    if failures >= threshold:
        return Outcome(
            replace(state, status=DISCONNECTED, auth_failures=failures, next_sync_at=None), (PROFILE_DISCONNECTED,)
        )
    return Outcome(replace(state, auth_failures=failures, next_sync_at=now + backoff(failures)))


def failed(state: SyncState, now: datetime, retry_after: timedelta | None = None) -> Outcome:
    """The service was down, slow or busy: try again later, never sooner than it asked (`Retry-After`)."""
    if state.status == DISCONNECTED:
        return Outcome(state)
    failures = state.failures + 1
    wait = max(backoff(failures), retry_after or timedelta(0))
    return Outcome(replace(state, failures=failures, next_sync_at=now + wait))


def relinked(state: SyncState, now: datetime) -> SyncState:
    """The person gave working credentials again: sync at once; the next success makes it active."""
    return SyncState(PENDING if state.last_synced_at is None else ACTIVE, 0, 0, state.last_synced_at, now)


def backoff(failures: int) -> timedelta:
    """30 s, 1 min, 2 min ... doubling up to an hour."""
    if failures < 1:
        return timedelta(0)
    doubled: timedelta = FIRST_BACKOFF * 2 ** min(failures - 1, 16)
    return min(doubled, MAX_BACKOFF)
