"""What the provider contract suite needs from each calendar service under test: the provider, a connection
to one calendar on a real (or emulated) service, and a back door to change that service directly, the way
a person would in their own calendar app.

Each provider's rig lives in `rig_<key>.py` and is a context manager made by `make_rig()`; the suite in
test_provider_contract.py runs unchanged against every one of them.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Protocol

from horae.ports import CalendarProvider, Connection


class Rig(Protocol):
    """One calendar on one service, fresh for each test (no events in it at the start)."""

    provider: CalendarProvider
    conn: Connection
    calendar_id: str  # the calendar's remote id, as provider.calendars(conn) reports it
    writable: bool  # whether provider.write_event / delete_event may be used on it

    def add(
        self,
        summary: str,
        start: datetime | date,
        end: datetime | date,
        tzid: str = "Etc/UTC",
        rrule: str | None = None,
    ) -> str:
        """Create an event directly on the service (datetimes aware, or dates for all-day events; a
        series when `rrule` is given, e.g. "FREQ=DAILY;COUNT=5", starting at `start` in `tzid`). Returns
        the remote id the provider will report for it (RemoteItem.remote_id)."""
        ...

    def change(self, remote_id: str, summary: str) -> None:
        """Rename an event directly on the service."""
        ...

    def remove(self, remote_id: str) -> None:
        """Delete an event directly on the service."""
        ...

    def cancel_instance(self, remote_id: str, original_start: datetime) -> None:
        """Cancel one instance of a series directly on the service."""
        ...

    def move_instance(self, remote_id: str, original_start: datetime, start: datetime, end: datetime) -> None:
        """Move one instance of a series directly on the service."""
        ...

    def summary_of(self, remote_id: str) -> str | None:
        """The summary the service holds for that object now, or None when it has no such object."""
        ...

    def break_auth(self) -> None:
        """Make the service refuse the connection's credentials from now on (a password changed, a grant
        revoked): every later call must raise ProviderAuthRejected."""
        ...

    def restore_auth(self) -> None:
        """Make the stored credentials work again (for relinking, update `conn.secrets` if needed)."""
        ...

    def throttle(self, retry_after_seconds: int) -> None:
        """Make the service's next call answer 429 (or 503) with `Retry-After: retry_after_seconds`; the
        provider must raise ProviderUnavailable with that retry_after_seconds. A service that has no such
        answer (built-in calendars) skips the test instead."""
        ...
