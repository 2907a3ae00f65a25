"""Calendar providers: each module holds one backend implementing the CalendarProvider port."""

from __future__ import annotations

from collections.abc import Mapping

from horae import providers
from horae.ports import CalendarProvider

BUILT_IN = {
    "local": "horae.providers.calendars.local:LocalCalendarProvider",
    "caldav": "horae.providers.calendars.caldav:CalDAVProvider",
    "ics": "horae.providers.calendars.ics:ICSFeedProvider",
    "google": "horae.providers.calendars.google:GoogleCalendarProvider",
    "microsoft": "horae.providers.calendars.microsoft:MicrosoftCalendarProvider",
}


def load_calendar_provider(name: str, options: Mapping[str, str] | None = None) -> CalendarProvider:
    """An instance of the calendar provider called `name` (short name, entry point or dotted path), made
    with its options (`Settings.provider_options`)."""
    provider_class = providers.load(name, BUILT_IN)
    instance = provider_class(dict(options or {}))
    return instance  # type: ignore[no-any-return]
