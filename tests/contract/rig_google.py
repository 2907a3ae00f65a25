"""The Google Calendar contract rig: the Google emulator (one per test process) and a fresh calendar per rig."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import httpx
import pytest

from horae.domain.recurrence import key_of
from horae.ports import CalendarProvider, Connection
from horae.providers.calendars.google import GoogleCalendarProvider
from tests.contract.rigs import Rig
from tests.emulators.common import parse_instant
from tests.emulators.google import GoogleEmulator
from tests.emulators.server import start_server

REDIRECT = "http://127.0.0.1:9/oauth/callback"
_EMULATOR = pytest.StashKey[tuple[GoogleEmulator, str]]()


def emulator_for(request: pytest.FixtureRequest) -> tuple[GoogleEmulator, str]:
    """The process's Google emulator and its base URL, started on first use and stopped when pytest ends."""
    stash = request.config.stash
    if _EMULATOR not in stash:
        emulator = GoogleEmulator()
        server = start_server(emulator.app)
        request.config.add_cleanup(server.stop)
        stash[_EMULATOR] = (emulator, server.url)
    return stash[_EMULATOR]


def provider_options(url: str, **extra: str) -> dict[str, str]:
    """What Settings.provider_options("google") would give, pointed at the emulator."""
    return {
        "timeout_seconds": "5",
        "allow_loopback": "True",
        "client_id": "horae-client",
        "client_secret": "horae-secret",
        "auth_url": f"{url}/auth",
        "token_url": f"{url}/token",
        "api_url": url,
        **extra,
    }


def consent(provider: GoogleCalendarProvider, url: str, state: str = "state-1") -> str:
    """Follow the provider's authorization URL as a person consenting would; returns the code."""
    answer = httpx.get(provider.authorization_url(REDIRECT, state), follow_redirects=False, timeout=5)
    assert answer.status_code == 302, answer.text
    query = parse_qs(urlsplit(answer.headers["location"]).query)
    assert query["state"] == [state]
    return query["code"][0]


def _when(value: datetime | date, tzid: str) -> dict[str, str]:
    if isinstance(value, datetime):
        return {"dateTime": value.astimezone(ZoneInfo(tzid)).isoformat(), "timeZone": tzid}
    return {"date": value.isoformat()}


class GoogleRig:
    """One calendar of the emulated account, changed behind the provider's back through the emulator."""

    writable = True

    def __init__(self, emulator: GoogleEmulator, url: str, provider: GoogleCalendarProvider, calendar_id: str) -> None:
        self.emulator = emulator
        self.url = url
        self.google = provider
        self.provider: CalendarProvider = provider  # the Rig protocol's name for it
        self.calendar_id = calendar_id
        self.conn = Connection(f"pro_{uuid.uuid4().hex[:12]}", {}, {})

    def add(
        self,
        summary: str,
        start: datetime | date,
        end: datetime | date,
        tzid: str = "Etc/UTC",
        rrule: str | None = None,
    ) -> str:
        body: dict[str, Any] = {"summary": summary, "start": _when(start, tzid), "end": _when(end, tzid)}
        if rrule:
            body["recurrence"] = [f"RRULE:{rrule}"]
        return str(self.emulator.add_event(self.calendar_id, body)["id"])

    def change(self, remote_id: str, summary: str) -> None:
        self.emulator.update_event(self.calendar_id, remote_id, summary=summary)

    def remove(self, remote_id: str) -> None:
        self.emulator.delete_event(self.calendar_id, remote_id)

    def _instance(self, remote_id: str, original_start: datetime | date) -> tuple[str, dict[str, Any], dict[str, Any]]:
        """The instance's id as Google makes it, the series, and the instance's own unmoved times."""
        series = self.emulator.get_event(self.calendar_id, remote_id)
        assert series is not None, remote_id
        if "date" in series["start"]:
            day = original_start.date() if isinstance(original_start, datetime) else original_start
            length = date.fromisoformat(series["end"]["date"]) - date.fromisoformat(series["start"]["date"])
            slot = {"start": {"date": day.isoformat()}, "end": {"date": (day + length).isoformat()}}
            return f"{remote_id}_{key_of(day)}", series, slot
        assert isinstance(original_start, datetime)
        tzid = series["start"].get("timeZone", "UTC")
        length = parse_instant(series["end"]["dateTime"]) - parse_instant(series["start"]["dateTime"])
        slot = {"start": _when(original_start, tzid), "end": _when(original_start + length, tzid)}
        return f"{remote_id}_{key_of(original_start.astimezone(UTC))}", series, slot

    def cancel_instance(self, remote_id: str, original_start: datetime) -> None:
        instance_id, series, slot = self._instance(remote_id, original_start)
        if self.emulator.get_event(self.calendar_id, instance_id) is not None:
            self.emulator.delete_event(self.calendar_id, instance_id)
            return
        fields = {"id": instance_id, "recurringEventId": remote_id, "originalStartTime": slot["start"]}
        self.emulator.add_event(self.calendar_id, fields | slot | {"summary": series.get("summary", "")})
        self.emulator.delete_event(self.calendar_id, instance_id)

    def move_instance(self, remote_id: str, original_start: datetime, start: datetime, end: datetime) -> None:
        instance_id, series, slot = self._instance(remote_id, original_start)
        tzid = series["start"].get("timeZone", "UTC")
        moved = {"start": _when(start, tzid), "end": _when(end, tzid), "status": "confirmed"}
        if self.emulator.get_event(self.calendar_id, instance_id) is not None:
            self.emulator.update_event(self.calendar_id, instance_id, **moved)
            return
        fields = {"id": instance_id, "recurringEventId": remote_id, "originalStartTime": slot["start"]}
        self.emulator.add_event(self.calendar_id, fields | moved | {"summary": series.get("summary", "")})

    def summary_of(self, remote_id: str) -> str | None:
        found = self.emulator.get_event(self.calendar_id, remote_id)
        if found is None or found.get("status") == "cancelled":
            return None
        return str(found.get("summary", ""))

    def break_auth(self) -> None:
        """The person removed Horae's access: the refresh token is revoked and access tokens stop working."""
        self.emulator.revoke_refresh_token(self.conn.secrets.get("refresh_token"))
        self.emulator.expire_access_tokens()

    def restore_auth(self) -> None:
        """Connect again through the OAuth flow, as relinking does."""
        linked = self.google.complete(consent(self.google, self.url), REDIRECT)
        self.conn.settings = dict(linked.settings)
        self.conn.secrets.clear()
        self.conn.secrets.update(linked.secrets)

    def throttle(self, retry_after_seconds: int) -> None:
        self.emulator.throttle(1, retry_after=retry_after_seconds)


def make_rig(request: pytest.FixtureRequest) -> AbstractContextManager[Rig]:
    return google_rig(request)


@contextmanager
def google_rig(request: pytest.FixtureRequest) -> Iterator[GoogleRig]:
    """A rig on a new, empty calendar of the process's emulator (with the emulator at hand, for tests)."""
    emulator, url = emulator_for(request)
    provider = GoogleCalendarProvider(provider_options(url))
    calendar_id = f"contract-{uuid.uuid4().hex[:16]}@group.calendar.google.com"
    emulator.add_calendar(calendar_id, f"Contract {calendar_id[9:17]}")
    rig = GoogleRig(emulator, url, provider, calendar_id)
    try:
        rig.restore_auth()
        yield rig
    finally:
        emulator.throttle(0)  # a throttle the test did not use up must not reach the next one
        provider.close()
