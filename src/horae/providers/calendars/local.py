"""Built-in calendars: Horae's own store is the calendar, so there is nothing to push or pull."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from horae.domain.events import Event
from horae.ports import Connection, ProviderCalendar, ProviderChanges, WriteResult


class LocalCalendarProvider:
    """`provider_name` `cronofy` on the wire, like Cronofy's own calendars."""

    key = "local"
    provider_name = "cronofy"
    provider_service = "cronofy"
    writable = True
    remote = False

    def __init__(self, options: Mapping[str, str] | None = None) -> None:
        """Built-in calendars take no options."""

    def calendars(self, conn: Connection) -> list[ProviderCalendar]:
        """The stored calendars are all there is; nothing to discover."""
        return []

    def create_calendar(self, conn: Connection, name: str, color: str | None) -> ProviderCalendar:
        return ProviderCalendar(remote_id=None, name=name, readonly=False, color=color)

    def changes(
        self, conn: Connection, calendar_remote_id: str, cursor: str | None, window: tuple[datetime, datetime]
    ) -> ProviderChanges:
        """Nothing changes behind Horae's back in a built-in calendar."""
        return ProviderChanges(items=[], removed=[], cursor=cursor, complete=False)

    def write_event(
        self, conn: Connection, calendar_remote_id: str, event: Event, remote_id: str | None, etag: str | None
    ) -> WriteResult:
        """The stored event is the event: nothing else to write."""
        return WriteResult(remote_id or event.event_uid, None)

    def delete_event(self, conn: Connection, calendar_remote_id: str, remote_id: str, etag: str | None) -> None:
        """Deleting the stored event is all there is."""
