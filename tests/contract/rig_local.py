"""The contract rig for built-in calendars: Horae's own store is the service. The back door is another
application the person uses (their own calendar app, say) writing through Horae's event service, so its
changes are "external" to the provider exactly as a change made in Radicale is to the CalDAV provider."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import date, datetime

import pytest

from horae import bootstrap
from horae.adapters.clock import SystemClock
from horae.container import Container
from horae.domain import recurrence
from horae.domain.events import Event
from horae.domain.times import EventTime
from horae.ports import CalendarProvider, Connection
from horae.services.events import EventInput
from horae.services.oauth import AccessContext
from tests.conftest import fast_settings
from tests.contract.rigs import Rig
from tests.helpers import connect


@dataclass
class LocalRig:
    provider: CalendarProvider
    conn: Connection
    calendar_id: str
    writable: bool
    container: Container
    app: AccessContext  # the person's calendar app, changing the calendar "directly"

    def add(
        self,
        summary: str,
        start: datetime | date,
        end: datetime | date,
        tzid: str = "Etc/UTC",
        rrule: str | None = None,
    ) -> str:
        data = EventInput(
            summary,
            _time(start, tzid),
            _time(end, tzid),
            event_id=uuid.uuid4().hex,
            recurrence={"rrule": rrule} if rrule else None,
        )
        return self.container.events.upsert(self.app, self.calendar_id, data).event_uid

    def change(self, remote_id: str, summary: str) -> None:
        stored = self._stored(remote_id)
        assert stored is not None
        start = EventTime(stored.starts_at, stored.start_date, stored.start_tzid)
        end = EventTime(stored.ends_at, stored.end_date, stored.end_tzid)
        data = EventInput(summary, start, end, event_id=stored.event_id, recurrence=stored.recurrence)
        self.container.events.upsert(self.app, self.calendar_id, data)

    def remove(self, remote_id: str) -> None:
        self.container.events.delete(self.app, self.calendar_id, None, remote_id)

    def cancel_instance(self, remote_id: str, original_start: datetime) -> None:
        instance = f"{remote_id}_{recurrence.key_of(original_start)}"
        self.container.events.delete(self.app, self.calendar_id, None, instance)

    def move_instance(self, remote_id: str, original_start: datetime, start: datetime, end: datetime) -> None:
        stored = self._stored(remote_id)
        assert stored is not None
        data = EventInput(
            stored.summary,
            _time(start, stored.start_tzid),
            _time(end, stored.end_tzid),
            event_id=stored.event_id,
            instance=f"{remote_id}_{recurrence.key_of(original_start)}",
        )
        self.container.events.upsert(self.app, self.calendar_id, data)

    def summary_of(self, remote_id: str) -> str | None:
        stored = self._stored(remote_id)
        return stored.summary if stored is not None and not stored.deleted else None

    def break_auth(self) -> None:
        self._set_revoked(True)

    def restore_auth(self) -> None:
        self._set_revoked(False)

    def throttle(self, retry_after_seconds: int) -> None:
        pytest.skip("built-in calendars have no rate limit of their own to answer with Retry-After")

    def _stored(self, remote_id: str) -> Event | None:
        with self.container.uow() as uow:
            return uow.events.by_uid(remote_id)

    def _set_revoked(self, revoked: bool) -> None:
        """The person revokes the profile (and, for restore_auth, connects it again)."""
        with self.container.uow() as uow:
            profile = uow.profiles.get(self.conn.profile_id)
            assert profile is not None
            profile.revoked_at = self.container.clock.now() if revoked else None
            uow.commit()


def _time(value: datetime | date, tzid: str) -> EventTime:
    if isinstance(value, datetime):
        return EventTime(value, None, tzid)
    return EventTime(None, value, "Etc/UTC")


def make_rig(request: pytest.FixtureRequest) -> AbstractContextManager[Rig]:
    return _rig(request)


@contextmanager
def _rig(request: pytest.FixtureRequest) -> Iterator[LocalRig]:
    url = request.getfixturevalue("sqlite_url")
    settings = fast_settings(request.getfixturevalue("tmp_path"), database_url=url)
    container = bootstrap.build(settings, SystemClock())  # real time: versions and cursors are change times
    try:
        person = connect(container, email=f"rig-{uuid.uuid4().hex[:8]}@example.com")
        app = container.oauth.authenticate(person.tokens.access_token)
        calendars, profiles, _ = container.calendars.list(app)
        [calendar] = [c for c in calendars if profiles[c.profile_id].provider_key == "local"]
        provider = bootstrap.ProviderRegistry(settings, container.uow, container.clock)("local")
        yield LocalRig(provider, Connection(calendar.profile_id, {}, {}), calendar.id, True, container, app)
    finally:
        container.uow.engine.dispose()  # type: ignore[attr-defined]
