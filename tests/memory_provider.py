"""An in-memory calendar service and its provider plugin, for fast tests of the sync and write jobs: the
service keeps versioned objects per calendar so cursors work, and can refuse credentials or be busy."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from horae.domain.events import Event
from horae.domain.remote import RemoteEvent
from horae.domain.times import EventTime
from horae.errors import ProviderAuthRejected, ProviderError, ProviderUnavailable, SyncCursorExpired
from horae.ports import Connection, Linked, ProviderCalendar, ProviderChanges, RemoteItem, WriteResult

KEY = "tests.memory_provider:MemoryProvider"
_versions = itertools.count(1)


@dataclass
class Stored:
    event: RemoteEvent
    version: int
    removed: bool = False


@dataclass
class MemoryService:
    """One account on the pretend service: its password, calendars and objects, and scripted failures."""

    password: str
    calendars: dict[str, str] = field(default_factory=lambda: {"work": "Work"})
    objects: dict[str, dict[str, Stored]] = field(default_factory=dict)
    failures: list[ProviderError] = field(default_factory=list)  # raised by the next calls, in order
    calls: int = 0
    forget_cursors_before: int = 0

    def put(self, calendar: str, remote_id: str, event: RemoteEvent) -> None:
        self.objects.setdefault(calendar, {})[remote_id] = Stored(event, next(_versions))

    def remove(self, calendar: str, remote_id: str) -> None:
        stored = self.objects[calendar][remote_id]
        stored.removed, stored.version = True, next(_versions)

    def live(self, calendar: str) -> dict[str, RemoteEvent]:
        return {rid: s.event for rid, s in self.objects.get(calendar, {}).items() if not s.removed}


SERVICES: dict[str, MemoryService] = {}


def timed(uid: str, summary: str, start: datetime, end: datetime, **extra: object) -> RemoteEvent:
    return RemoteEvent(
        uid=uid,
        summary=summary,
        description="",
        location=None,
        url=None,
        transparency="opaque",
        status=str(extra.get("status", "confirmed")),
        start=EventTime(start.astimezone(UTC), None, "Europe/London"),
        end=EventTime(end.astimezone(UTC), None, "Europe/London"),
    )


class MemoryProvider:
    """The CalendarProvider (and CredentialLinker) for MemoryService accounts."""

    key = KEY
    provider_name = "memory"
    provider_service = "memory"
    writable = True
    remote = True

    def __init__(self, options: Mapping[str, str] | None = None) -> None:
        self.options = dict(options or {})

    def link(self, form: dict[str, str]) -> Linked:
        service = SERVICES.get(form.get("username", ""))
        if service is None or service.password != form.get("password"):
            raise ProviderAuthRejected("user name or password not accepted")
        return Linked(form["username"], {"username": form["username"]}, {"password": form["password"]})

    def _service(self, conn: Connection) -> MemoryService:
        service = SERVICES[conn.settings["username"]]
        service.calls += 1
        if service.failures:
            raise service.failures.pop(0)
        if conn.secrets.get("password") != service.password:
            raise ProviderAuthRejected("401 Unauthorized")
        return service

    def calendars(self, conn: Connection) -> list[ProviderCalendar]:
        service = self._service(conn)
        return [ProviderCalendar(k, v, False, primary=i == 0) for i, (k, v) in enumerate(service.calendars.items())]

    def create_calendar(self, conn: Connection, name: str, color: str | None) -> ProviderCalendar:
        service = self._service(conn)
        service.calendars[name.lower()] = name
        return ProviderCalendar(name.lower(), name, False)

    def changes(
        self, conn: Connection, calendar_remote_id: str, cursor: str | None, window: tuple[datetime, datetime]
    ) -> ProviderChanges:
        service = self._service(conn)
        objects = service.objects.get(calendar_remote_id, {})
        now_version = max((s.version for s in objects.values()), default=0)
        if cursor is None:
            items = [RemoteItem(rid, str(s.version), s.event) for rid, s in objects.items() if not s.removed]
            return ProviderChanges(items, [], str(now_version), complete=True)
        since = int(cursor)
        if since < service.forget_cursors_before:
            raise SyncCursorExpired("cursor too old")
        newer = {rid: s for rid, s in objects.items() if s.version > since}
        items = [RemoteItem(rid, str(s.version), s.event) for rid, s in newer.items() if not s.removed]
        removed = [rid for rid, s in newer.items() if s.removed]
        return ProviderChanges(items, removed, str(max(now_version, since)), complete=False)

    def write_event(
        self, conn: Connection, calendar_remote_id: str, event: Event, remote_id: str | None, etag: str | None
    ) -> WriteResult:
        service = self._service(conn)
        rid = remote_id or f"{event.event_uid}.obj"
        assert event.starts_at is not None and event.ends_at is not None
        service.put(calendar_remote_id, rid, timed(event.event_uid, event.summary, event.starts_at, event.ends_at))
        return WriteResult(rid, str(service.objects[calendar_remote_id][rid].version))

    def delete_event(self, conn: Connection, calendar_remote_id: str, remote_id: str, etag: str | None) -> None:
        service = self._service(conn)
        if remote_id in service.live(calendar_remote_id):
            service.remove(calendar_remote_id, remote_id)


def busy(seconds: int) -> ProviderUnavailable:
    return ProviderUnavailable("429 Too Many Requests", retry_after_seconds=seconds)
