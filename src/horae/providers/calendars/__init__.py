"""Calendar providers: each module holds one backend implementing the CalendarProvider port."""

from __future__ import annotations

from horae import providers
from horae.ports import CalendarProvider

BUILT_IN = {
    "local": "horae.providers.calendars.local:LocalCalendarProvider",
}


def load_calendar_provider(name: str) -> CalendarProvider:
    """An instance of the calendar provider called `name` (short name, entry point or dotted path)."""
    provider_class = providers.load(name, BUILT_IN)
    instance = provider_class()
    return instance  # type: ignore[no-any-return]
