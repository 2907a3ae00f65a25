"""Built-in calendars: Horae's own store is the calendar, so there is nothing to push or pull."""

from __future__ import annotations

from datetime import datetime

from horae.domain.events import Event
from horae.domain.model import Calendar, Profile
from horae.ports import ProviderCalendar, ProviderChanges


class LocalCalendarProvider:
    """`provider_name` `cronofy` on the wire, like Cronofy's own calendars."""

    key = "local"
    provider_name = "cronofy"
    provider_service = "cronofy"
    writable = True

    def create_calendar(self, profile: Profile, name: str, color: str | None) -> ProviderCalendar:
        return ProviderCalendar(remote_id=None, name=name, readonly=False)

    def write_event(self, profile: Profile, calendar: Calendar, event: Event) -> None:
        """The stored event is the event: nothing else to write."""

    def delete_event(self, profile: Profile, calendar: Calendar, event: Event) -> None:
        """Deleting the stored event is all there is."""

    def changes(
        self, profile: Profile, calendar: Calendar, cursor: str | None, window: tuple[datetime, datetime]
    ) -> ProviderChanges:
        """Nothing changes behind Horae's back in a built-in calendar."""
        return ProviderChanges(events=[], removed_remote_ids=[], cursor=cursor, complete=True)
