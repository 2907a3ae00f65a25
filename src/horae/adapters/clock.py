"""The real clock."""

from __future__ import annotations

from datetime import UTC, datetime


class SystemClock:
    """Aware UTC now, from the operating system."""

    def now(self) -> datetime:
        return datetime.now(UTC)
