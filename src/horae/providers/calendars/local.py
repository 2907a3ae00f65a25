"""Built-in calendars: Horae's own store is the calendar service, so the sync engine has nothing to pull or
push; the port is still answered in full, from the store, so built-in calendars keep the same contract as
every other provider (and the contract suite proves it)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime

from horae.domain import ids
from horae.domain.events import Event
from horae.domain.model import Calendar, Profile
from horae.domain.remote import from_stored
from horae.errors import ProviderAuthRejected, ProviderError, RemoteConflict, SyncCursorExpired
from horae.ports import (
    Clock,
    Connection,
    ProviderCalendar,
    ProviderChanges,
    RemoteItem,
    UnitOfWork,
    UnitOfWorkFactory,
    WriteResult,
)
from horae.providers.calendars.form_linked import in_window

# What a write through the port copies onto the stored event: the event itself, not its bookkeeping.
_COPIED = (
    "summary", "description", "all_day", "starts_at", "ends_at", "start_date", "end_date", "start_tzid", "end_tzid",
    "location", "url", "transparency", "status", "event_private", "color", "attendees", "organizer", "reminders",
    "details", "recurrence",
)  # fmt: skip


class LocalCalendarProvider:
    """`provider_name` `cronofy` on the wire, like Cronofy's own calendars. A calendar's remote id is its
    own `cal_...` id and an event's remote id its `event_uid`; the version tag is its last change time."""

    key = "local"
    provider_name = "cronofy"
    provider_service = "cronofy"
    writable = True
    remote = False

    def __init__(self, options: Mapping[str, str] | None = None) -> None:
        """Built-in calendars take no options; the store comes through `bind`."""
        self._uow: UnitOfWorkFactory | None = None
        self._clock: Clock | None = None

    def bind(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow, self._clock = uow, clock

    def calendars(self, conn: Connection) -> list[ProviderCalendar]:
        with self._store() as uow:
            profile = _profile(uow, conn)
            return [
                ProviderCalendar(c.id, c.name, c.readonly, c.primary, c.color)
                for c in uow.calendars.for_account(profile.account_id)
                if c.profile_id == profile.id and not c.deleted
            ]

    def create_calendar(self, conn: Connection, name: str, color: str | None) -> ProviderCalendar:
        """The calendar service creates the stored calendar itself; there is nothing else to make."""
        return ProviderCalendar(remote_id=None, name=name, readonly=False, color=color)

    def changes(
        self, conn: Connection, calendar_remote_id: str, cursor: str | None, window: tuple[datetime, datetime]
    ) -> ProviderChanges:
        """Everything in the window without a cursor; with one, every event changed at or after it (the
        boundary is repeated rather than risk missing an event changed in the same instant)."""
        with self._store() as uow:
            calendar = _calendar(uow, conn, calendar_remote_id)
            if cursor is None:
                stored = uow.events.in_calendars([calendar.id], include_deleted=True)
                listed = [e for e in stored if not e.deleted and in_window(from_stored(e), window)]
                return ProviderChanges(_items(listed), [], _cursor(stored, None), complete=True)
            since = _parse_cursor(cursor)
            changed = uow.events.changed_since([calendar.id], since)
            removed = [e.event_uid for e in changed if e.deleted]
            return ProviderChanges(
                _items([e for e in changed if not e.deleted]), removed, _cursor(changed, since), complete=False
            )

    def write_event(
        self, conn: Connection, calendar_remote_id: str, event: Event, remote_id: str | None, etag: str | None
    ) -> WriteResult:
        """The stored event is the event: an event already stored in this calendar is left as it is;
        another is copied in (or over the copy made before), keyed by its event_uid, so retries are safe."""
        with self._store() as uow:
            calendar = _calendar(uow, conn, calendar_remote_id)
            uid = remote_id or event.event_uid
            stored = uow.events.by_uid(uid)
            if stored is not None and stored.calendar_id != calendar.id:
                raise RemoteConflict(f"{uid} belongs to another calendar")
            if stored is event or (stored is not None and stored.id == event.id):
                return WriteResult(uid, _etag(stored))
            if stored is not None and etag is not None and etag != _etag(stored):
                raise RemoteConflict(f"{uid} changed since version {etag}")
            now = self._now()
            if stored is None:
                stored = replace(event, id=ids.new_id("evr"), calendar_id=calendar.id, event_uid=uid, created_at=now)
                stored.account_id, stored.event_id, stored.application_id = calendar.account_id, None, None
                uow.events.add(stored)
            else:
                for name in _COPIED:
                    setattr(stored, name, getattr(event, name))
            stored.deleted, stored.updated_at, stored.changed_by = False, now, None
            uow.commit()
            return WriteResult(uid, _etag(stored))

    def delete_event(self, conn: Connection, calendar_remote_id: str, remote_id: str, etag: str | None) -> None:
        """Marks the stored event deleted (so incremental listings report it); gone already is fine."""
        with self._store() as uow:
            calendar = _calendar(uow, conn, calendar_remote_id)
            stored = uow.events.by_uid(remote_id)
            if stored is None or stored.calendar_id != calendar.id or stored.deleted:
                return
            if etag is not None and etag != _etag(stored):
                raise RemoteConflict(f"{remote_id} changed since version {etag}")
            stored.deleted, stored.updated_at, stored.changed_by = True, self._now(), None
            uow.commit()

    def _store(self) -> UnitOfWork:
        if self._uow is None:
            raise ProviderError("the built-in calendar provider was not given the store (ProviderRegistry binds it)")
        return self._uow()

    def _now(self) -> datetime:
        assert self._clock is not None  # bound together with the store
        return self._clock.now()


def _profile(uow: UnitOfWork, conn: Connection) -> Profile:
    """The connection's profile; a revoked or missing one refuses the connection, like a revoked grant."""
    profile = uow.profiles.get(conn.profile_id)
    if profile is None or profile.revoked_at is not None or profile.provider_key != LocalCalendarProvider.key:
        raise ProviderAuthRejected(f"no built-in calendar profile {conn.profile_id}")
    return profile


def _calendar(uow: UnitOfWork, conn: Connection, calendar_id: str) -> Calendar:
    profile = _profile(uow, conn)
    calendar = uow.calendars.get(calendar_id)
    if calendar is None or calendar.profile_id != profile.id or calendar.deleted:
        raise ProviderError(f"no calendar {calendar_id} in profile {profile.id}")
    return calendar


def _items(events: list[Event]) -> list[RemoteItem]:
    return [RemoteItem(e.event_uid, _etag(e), from_stored(e)) for e in events]


def _etag(event: Event) -> str:
    return _stamp(event.updated_at)


def _stamp(value: datetime) -> str:
    """A change time to the microsecond, as etags and cursors carry it."""
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC).isoformat(timespec="microseconds")


def _cursor(events: list[Event], since: datetime | None) -> str:
    """The latest change seen (or the previous cursor when nothing changed), or the epoch for an empty
    calendar, so the next call lists only what changes from now on."""
    latest = max((e.updated_at for e in events), default=since)
    return _stamp(latest if latest is not None else datetime(1970, 1, 1, tzinfo=UTC))


def _parse_cursor(cursor: str) -> datetime:
    try:
        since = datetime.fromisoformat(cursor)
    except ValueError as exc:
        raise SyncCursorExpired(f"{cursor!r} is not a built-in calendar cursor") from exc
    return since if since.tzinfo else since.replace(tzinfo=UTC)
