"""The provider contract rig for Microsoft Graph: MicrosoftCalendarProvider against the Graph emulator.

One uvicorn server per test session serves a farm of emulators, each rig getting a fresh GraphEmulator of its
own under a path prefix (`/t3/common/oauth2/...`, `/t3/v1.0/...`): rigs never see each other's calendars,
grants or throttling, and no test waits for a server to start or stop.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from horae.domain.events import Event
from horae.domain.times import zone
from horae.ports import Connection
from horae.providers.calendars.microsoft import MicrosoftCalendarProvider
from horae.providers.calendars.microsoft_events import graph_zone, recurrence_of
from tests.emulators.graph_recurrence import graph_time
from tests.emulators.microsoft import GraphEmulator
from tests.emulators.server import BackgroundServer, start_server

REDIRECT = "http://127.0.0.1:9/oauth/callback"
_numbers = itertools.count(1)


class GraphFarm:
    """An ASGI app routing `/<prefix>/...` to the GraphEmulator registered under that prefix."""

    def __init__(self) -> None:
        self.tenants: dict[str, GraphEmulator] = {}

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        prefix = "/" + scope.get("path", "/").split("/")[1]
        emulator = self.tenants.get(prefix)
        if scope["type"] != "http" or emulator is None:
            await send({"type": "http.response.start", "status": 404, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        # Starlette routes on the path below root_path and builds links (nextLink, deltaLink) with it.
        await emulator.app(dict(scope, root_path=scope.get("root_path", "") + prefix), receive, send)


@dataclass
class Farm:
    server: BackgroundServer
    app: GraphFarm

    def add(self) -> tuple[str, GraphEmulator]:
        prefix = f"/t{next(_numbers)}"
        emulator = GraphEmulator()
        self.app.tenants[prefix] = emulator
        return self.server.url + prefix, emulator

    def remove(self, base: str) -> None:
        self.app.tenants.pop(base.removeprefix(self.server.url), None)


_FARM = pytest.StashKey[Farm]()


def graph_farm(config: pytest.Config) -> Farm:
    """The session's farm server, started on first use and stopped when the session ends."""
    if _FARM not in config.stash:
        app = GraphFarm()
        server = start_server(app)
        config.stash[_FARM] = Farm(server, app)
        config.add_cleanup(server.stop)
    return config.stash[_FARM]


def provider_for(base: str, **extra: str) -> MicrosoftCalendarProvider:
    options = {
        "timeout_seconds": "5",
        "allow_loopback": "True",
        "client_id": "horae-client",
        "client_secret": "horae-secret",
        "auth_url": f"{base}/common/oauth2/v2.0/authorize",
        "token_url": f"{base}/common/oauth2/v2.0/token",
        "api_url": f"{base}/v1.0",
    }
    return MicrosoftCalendarProvider(options | extra)


def consent(provider: MicrosoftCalendarProvider, state: str = "state-1") -> str:
    """Go through the emulator's consent page as a person would; the code it redirects back with."""
    answer = httpx.get(provider.authorization_url(REDIRECT, state), follow_redirects=False, timeout=5)
    assert answer.status_code == 302, answer.text
    location = answer.headers["location"]
    query = parse_qs(urlsplit(location).query)
    assert query["state"] == [state], location
    return query["code"][0]


@dataclass
class GraphRig:
    """The Rig protocol (tests/contract/rigs.py) over one fresh emulator; `graph` is its back door."""

    provider: MicrosoftCalendarProvider
    conn: Connection
    calendar_id: str
    graph: GraphEmulator
    writable: bool = True
    created: list[str] = field(default_factory=list)

    def add(
        self,
        summary: str,
        start: datetime | date,
        end: datetime | date,
        tzid: str = "Etc/UTC",
        rrule: str | None = None,
    ) -> str:
        body: dict[str, Any] = {"subject": summary, "isAllDay": not isinstance(start, datetime)}
        body |= {"start": _edge(start, tzid), "end": _edge(end, tzid)}
        if rrule:
            body["recurrence"] = _pattern(summary, start, end, tzid, rrule)
        made = self.graph.add_event(self.calendar_id, body)
        return str(made["id"])

    def change(self, remote_id: str, summary: str) -> None:
        self.graph.update_event(remote_id, subject=summary)

    def remove(self, remote_id: str) -> None:
        self.graph.delete_event(remote_id)

    def cancel_instance(self, remote_id: str, original_start: datetime) -> None:
        self.graph.cancel_occurrence(remote_id, original_start.isoformat())

    def move_instance(self, remote_id: str, original_start: datetime, start: datetime, end: datetime) -> None:
        self.graph.add_exception(remote_id, original_start.isoformat(), start=graph_time(start), end=graph_time(end))

    def summary_of(self, remote_id: str) -> str | None:
        found = self.graph.get_event(remote_id)
        return None if found is None else str(found["subject"])

    def break_auth(self) -> None:
        self.graph.revoke_refresh_token()
        self.graph.expire_access_tokens()

    def restore_auth(self) -> None:
        linked = self.provider.complete(consent(self.provider), REDIRECT)
        self.conn.secrets.clear()
        self.conn.secrets.update(linked.secrets)

    def throttle(self, retry_after_seconds: int) -> None:
        self.graph.throttle(1, retry_after=retry_after_seconds)


def _edge(value: datetime | date, tzid: str) -> dict[str, str]:
    """A time as Outlook would send it: wall time in the event's zone, or midnight for all-day events."""
    if isinstance(value, datetime):
        return {"dateTime": value.astimezone(zone(tzid)).strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": graph_zone(tzid)}
    return {"dateTime": f"{value.isoformat()}T00:00:00", "timeZone": graph_zone(tzid)}


def _pattern(summary: str, start: datetime | date, end: datetime | date, tzid: str, rrule: str) -> dict[str, Any]:
    """The patternedRecurrence for an RRULE, made with the provider's own writer (what Outlook would hold)."""
    now = datetime.now().astimezone()
    event = Event("", "", "", "rig", summary, not isinstance(start, datetime), now, now, recurrence={"rrule": rrule})
    if isinstance(start, datetime) and isinstance(end, datetime):
        event.starts_at, event.ends_at = start, end
    else:
        assert isinstance(start, date) and isinstance(end, date)
        event.start_date, event.end_date = start, end
    event.start_tzid = event.end_tzid = tzid
    return recurrence_of(event)


@contextmanager
def _rig(request: pytest.FixtureRequest) -> Iterator[GraphRig]:
    farm = graph_farm(request.config)
    base, graph = farm.add()
    provider = provider_for(base)
    try:
        linked = provider.complete(consent(provider), REDIRECT)
        conn = Connection(f"pro_ms{next(_numbers)}", dict(linked.settings), dict(linked.secrets))
        name = f"Rig {request.node.name} {next(_numbers)}"
        calendar = graph.add_calendar(name, hex_color="#336699")
        yield GraphRig(provider, conn, str(calendar["id"]), graph)
    finally:
        provider.close()
        farm.remove(base)


def make_rig(request: pytest.FixtureRequest) -> AbstractContextManager[GraphRig]:
    """A fresh, empty Outlook calendar on its own emulated Microsoft 365 account."""
    return _rig(request)
