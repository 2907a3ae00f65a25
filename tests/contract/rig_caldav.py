"""The contract rig for CalDAV: a fresh Radicale user and calendar per rig. The provider reaches Radicale
through a small proxy that can answer 503 + Retry-After on demand (Radicale itself never throttles); the
back door speaks plain HTTP to Radicale, the way another calendar app would."""

from __future__ import annotations

import base64
import secrets
import threading
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import date, datetime

import httpx
import icalendar
import pytest
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from horae.ports import CalendarProvider, Connection
from horae.providers.calendars.caldav import CalDAVProvider
from tests.contract.rig_ics import exclude, move, new_object, rename, summary_of
from tests.contract.rigs import Rig
from tests.emulators.server import BackgroundServer, start_server
from tests.radicale import Radicale, running_radicale

# Hop-by-hop headers, and the ones httpx recomputes (it also decodes the body, so no Content-Encoding).
DROPPED_HEADERS = frozenset(
    {"host", "connection", "content-length", "transfer-encoding", "content-encoding", "keep-alive"}
)


class Proxy:
    """Forwards everything to Radicale, except that a user marked busy gets one 503 with Retry-After."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.busy: dict[str, int] = {}  # user -> Retry-After for that user's next request
        self.requests: dict[str, int] = {}  # user -> how many requests came through
        self.lock = threading.Lock()
        self._http = httpx.Client(timeout=10.0, trust_env=False)
        self.server: BackgroundServer = start_server(self)

    @property
    def url(self) -> str:
        return self.server.url

    def stop(self) -> None:
        self.server.stop()
        self._http.close()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        body = await request.body()
        user = _user_of(request.headers.get("authorization", ""))
        with self.lock:
            self.requests[user] = self.requests.get(user, 0) + 1
            wait = self.busy.pop(user, None)
        if wait is not None:
            await Response("busy", 503, {"Retry-After": str(wait)})(scope, receive, send)
            return
        target = self.target + scope["raw_path"].decode("latin-1")
        if scope.get("query_string"):
            target += "?" + scope["query_string"].decode("latin-1")
        headers = {k: v for k, v in request.headers.items() if k.lower() not in DROPPED_HEADERS}
        headers["accept-encoding"] = "identity"
        answer = await run_in_threadpool(self._http.request, request.method, target, headers=headers, content=body)
        back = {k: v for k, v in answer.headers.items() if k.lower() not in DROPPED_HEADERS}
        if "location" in back:
            back["location"] = back["location"].replace(self.target, str(request.base_url).rstrip("/"))
        await Response(answer.content, answer.status_code, back)(scope, receive, send)


def _user_of(authorization: str) -> str:
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "basic":
        return ""
    try:
        return base64.b64decode(token).decode().partition(":")[0]
    except ValueError:
        return ""


_PROXY = pytest.StashKey[Proxy]()


def running_proxy(config: pytest.Config, radicale: Radicale) -> Proxy:
    """This test process's proxy in front of its Radicale, started on first use."""
    found = config.stash.get(_PROXY, None)
    if found is None:
        found = Proxy(radicale.url)
        config.stash[_PROXY] = found
        config.add_cleanup(found.stop)
    return found


@dataclass
class CalDAVRig:
    provider: CalendarProvider
    conn: Connection
    calendar_id: str
    writable: bool
    radicale: Radicale
    proxy: Proxy
    user: str
    password: str  # the one the connection holds
    http: httpx.Client  # the back door, straight to Radicale

    def add(
        self,
        summary: str,
        start: datetime | date,
        end: datetime | date,
        tzid: str = "Etc/UTC",
        rrule: str | None = None,
    ) -> str:
        uid = f"rig-{uuid.uuid4().hex}"
        href = f"{self.calendar_id}{uid}.ics"
        self._put(href, new_object(uid, summary, start, end, tzid, rrule), create=True)
        return href

    def change(self, remote_id: str, summary: str) -> None:
        calendar = self._get(remote_id)
        rename(calendar, summary)
        self._put(remote_id, calendar)

    def remove(self, remote_id: str) -> None:
        self._check(self.http.delete(remote_id))

    def cancel_instance(self, remote_id: str, original_start: datetime) -> None:
        calendar = self._get(remote_id)
        exclude(calendar, original_start)
        self._put(remote_id, calendar)

    def move_instance(self, remote_id: str, original_start: datetime, start: datetime, end: datetime) -> None:
        calendar = self._get(remote_id)
        move(calendar, original_start, start, end)
        self._put(remote_id, calendar)

    def summary_of(self, remote_id: str) -> str | None:
        response = self.http.get(remote_id)
        if response.status_code == 404:
            return None
        self._check(response)
        return summary_of(icalendar.Calendar.from_ical(response.text))

    def break_auth(self) -> None:
        """A new password on the server; the back door follows it, the connection keeps the old one."""
        fresh = secrets.token_urlsafe(12)
        self.radicale.set_password(self.user, fresh)
        self.http.auth = httpx.BasicAuth(self.user, fresh)

    def restore_auth(self) -> None:
        self.radicale.set_password(self.user, self.password)
        self.http.auth = httpx.BasicAuth(self.user, self.password)
        self.conn.secrets["password"] = self.password

    def throttle(self, retry_after_seconds: int) -> None:
        with self.proxy.lock:
            self.proxy.busy[self.user] = retry_after_seconds

    def _get(self, href: str) -> icalendar.Calendar:
        response = self._check(self.http.get(href))
        return icalendar.Calendar.from_ical(response.text)

    def _put(self, href: str, calendar: icalendar.Calendar, create: bool = False) -> None:
        headers = {"Content-Type": "text/calendar; charset=utf-8", **({"If-None-Match": "*"} if create else {})}
        self._check(self.http.put(href, content=calendar.to_ical(), headers=headers))

    @staticmethod
    def _check(response: httpx.Response) -> httpx.Response:
        if response.status_code >= 300:
            raise AssertionError(f"the back door's {response.request.method} got HTTP {response.status_code}")
        return response


def make_rig(request: pytest.FixtureRequest) -> AbstractContextManager[Rig]:
    return _rig(request)


@contextmanager
def _rig(request: pytest.FixtureRequest) -> Iterator[CalDAVRig]:
    radicale = running_radicale(request.config)
    proxy = running_proxy(request.config, radicale)
    user, password = f"rig-{uuid.uuid4().hex[:12]}", secrets.token_urlsafe(12)
    radicale.add_user(user, password)
    provider = CalDAVProvider({"timeout_seconds": "5", "allow_loopback": "True"})
    conn = Connection(
        f"pro_{user}",
        settings={"server_url": proxy.url, "username": user, "preset": ""},
        secrets={"password": password},
    )
    http = httpx.Client(base_url=radicale.url, auth=httpx.BasicAuth(user, password), timeout=5.0, trust_env=False)
    try:
        calendar = provider.create_calendar(conn, "Contract calendar", None)
        assert calendar.remote_id is not None
        yield CalDAVRig(provider, conn, calendar.remote_id, True, radicale, proxy, user, password, http)
    finally:
        http.close()
        provider.close()
