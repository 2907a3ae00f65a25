"""The contract rig for ICS feeds: each rig's feed is served from a loopback server in this process, whose
content the back door edits directly; it can refuse access (401) or throttle (429) on demand.

The iCalendar editing helpers here (one object per UID, changed the way a calendar app would) are shared
with the CalDAV rig.
"""

from __future__ import annotations

import hashlib
import threading
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import icalendar
import pytest
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from horae.ports import CalendarProvider, Connection
from horae.providers.calendars.ics import ICSFeedProvider
from tests.contract.rigs import Rig
from tests.emulators.server import BackgroundServer, start_server

UTC_NAMES = frozenset({"UTC", "Etc/UTC", "GMT", "Z"})

# --- iCalendar objects as a calendar app edits them -------------------------------------------------------


def new_object(
    uid: str, summary: str, start: datetime | date, end: datetime | date, tzid: str, rrule: str | None
) -> icalendar.Calendar:
    """A VCALENDAR holding one event (a series when `rrule` is given), times written in `tzid`."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Horae//contract rig//EN")
    calendar.add("version", "2.0")
    vevent = icalendar.Event()
    vevent.add("uid", uid)
    vevent.add("dtstamp", datetime.now(UTC).replace(microsecond=0))
    vevent.add("summary", summary)
    vevent.add("dtstart", _in_zone(start, tzid))
    vevent.add("dtend", _in_zone(end, tzid))
    if rrule:
        vevent.add("rrule", icalendar.vRecur.from_ical(rrule))
    calendar.add_component(vevent)
    calendar.add_missing_timezones()
    return calendar


def master_of(calendar: icalendar.Calendar) -> icalendar.Component:
    return next(c for c in calendar.walk("VEVENT") if "RECURRENCE-ID" not in c)


def rename(calendar: icalendar.Calendar, summary: str) -> None:
    master = master_of(calendar)
    master.pop("SUMMARY", None)
    master.add("summary", summary)
    _touch(master)


def exclude(calendar: icalendar.Calendar, original_start: datetime | date) -> None:
    """Cancel one instance of the series, with an EXDATE in the series' own zone."""
    master = master_of(calendar)
    master.add("exdate", _like_start(master, original_start))
    _touch(master)
    calendar.add_missing_timezones()


def move(calendar: icalendar.Calendar, original_start: datetime | date, start: datetime, end: datetime) -> None:
    """Move one instance of the series: a VEVENT with its RECURRENCE-ID and the new times."""
    master = master_of(calendar)
    instance = icalendar.Event()
    instance.add("uid", str(master["UID"]))
    instance.add("dtstamp", datetime.now(UTC).replace(microsecond=0))
    instance.add("recurrence-id", _like_start(master, original_start))
    instance.add("dtstart", _like_start(master, start))
    instance.add("dtend", _like_start(master, end))
    instance.add("summary", str(master.get("SUMMARY", "")))
    instance.add("sequence", 1)
    calendar.add_component(instance)
    calendar.add_missing_timezones()


def summary_of(calendar: icalendar.Calendar) -> str:
    return str(master_of(calendar).get("SUMMARY", ""))


def _in_zone(value: datetime | date, tzid: str) -> datetime | date:
    if not isinstance(value, datetime):
        return value
    return value.astimezone(UTC if tzid in UTC_NAMES else ZoneInfo(tzid))


def _like_start(master: icalendar.Component, value: datetime | date) -> datetime | date:
    """`value` written as the series' DTSTART is: a date for all-day series, else a time in its zone."""
    start = master.decoded("DTSTART")
    if not isinstance(start, datetime):
        return value.date() if isinstance(value, datetime) else value
    if not isinstance(value, datetime):
        value = datetime.combine(value, start.timetz())
    return value.astimezone(start.tzinfo) if start.tzinfo is not None else value


def _touch(vevent: icalendar.Component) -> None:
    sequence = int(vevent.get("SEQUENCE", 0)) + 1
    vevent.pop("SEQUENCE", None)
    vevent.add("sequence", sequence)


# --- the feed server ------------------------------------------------------------------------------------


@dataclass
class Feed:
    """One published calendar: its objects by UID, and what its server does to the next request."""

    key: str
    name: str
    objects: dict[str, icalendar.Calendar] = field(default_factory=dict)
    refuse: bool = False
    busy_for: int | None = None  # answer the next request 429 with this Retry-After
    requests: int = 0

    def body(self) -> bytes:
        calendar = icalendar.Calendar()
        calendar.add("prodid", "-//Horae//contract feed//EN")
        calendar.add("version", "2.0")
        calendar.add("x-wr-calname", self.name)
        zones: dict[str, icalendar.Component] = {}
        for item in self.objects.values():
            for component in item.subcomponents:
                if component.name == "VTIMEZONE":
                    zones.setdefault(str(component["TZID"]), component)
        for component in zones.values():
            calendar.add_component(component)
        for item in self.objects.values():
            for component in item.walk("VEVENT"):
                calendar.add_component(component)
        return bytes(calendar.to_ical())


class FeedServer:
    """Serves every rig's feed at /feeds/{id}.ics?key=...; a wrong key is refused like a broken one."""

    def __init__(self) -> None:
        self.feeds: dict[str, Feed] = {}
        self.lock = threading.Lock()
        self.server: BackgroundServer = start_server(self)

    @property
    def url(self) -> str:
        return self.server.url

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        feed_id = request.url.path.removeprefix("/feeds/").removesuffix(".ics")
        with self.lock:
            response = self._answer(self.feeds.get(feed_id), request)
        await response(scope, receive, send)

    def _answer(self, feed: Feed | None, request: Request) -> Response:
        if feed is None:
            return Response("no such feed", 404)
        feed.requests += 1
        if feed.busy_for is not None:
            wait, feed.busy_for = feed.busy_for, None
            return Response("slow down", 429, {"Retry-After": str(wait)})
        if feed.refuse or request.query_params.get("key") != feed.key:
            return Response("who are you?", 401, {"WWW-Authenticate": 'Basic realm="feed"'})
        body = feed.body()
        etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers={"ETag": etag})
        return Response(body, 200, {"ETag": etag}, media_type="text/calendar; charset=utf-8")


_SERVER = pytest.StashKey[FeedServer]()


def feed_server(config: pytest.Config) -> FeedServer:
    """This test process's feed server, started on first use and stopped at the end of the session."""
    found = config.stash.get(_SERVER, None)
    if found is None:
        found = FeedServer()
        config.stash[_SERVER] = found
        config.add_cleanup(found.server.stop)
    return found


# --- the rig --------------------------------------------------------------------------------------------


@dataclass
class ICSRig:
    provider: CalendarProvider
    conn: Connection
    calendar_id: str
    writable: bool
    server: FeedServer
    feed: Feed

    def add(
        self,
        summary: str,
        start: datetime | date,
        end: datetime | date,
        tzid: str = "Etc/UTC",
        rrule: str | None = None,
    ) -> str:
        uid = f"rig-{uuid.uuid4().hex}"
        with self.server.lock:
            self.feed.objects[uid] = new_object(uid, summary, start, end, tzid, rrule)
        return uid

    def change(self, remote_id: str, summary: str) -> None:
        with self.server.lock:
            rename(self.feed.objects[remote_id], summary)

    def remove(self, remote_id: str) -> None:
        with self.server.lock:
            del self.feed.objects[remote_id]

    def cancel_instance(self, remote_id: str, original_start: datetime) -> None:
        with self.server.lock:
            exclude(self.feed.objects[remote_id], original_start)

    def move_instance(self, remote_id: str, original_start: datetime, start: datetime, end: datetime) -> None:
        with self.server.lock:
            move(self.feed.objects[remote_id], original_start, start, end)

    def summary_of(self, remote_id: str) -> str | None:
        with self.server.lock:
            found = self.feed.objects.get(remote_id)
            return summary_of(found) if found is not None else None

    def break_auth(self) -> None:
        self.feed.refuse = True

    def restore_auth(self) -> None:
        self.feed.refuse = False

    def throttle(self, retry_after_seconds: int) -> None:
        self.feed.busy_for = retry_after_seconds


def make_rig(request: pytest.FixtureRequest) -> AbstractContextManager[Rig]:
    return _rig(request)


@contextmanager
def _rig(request: pytest.FixtureRequest) -> Iterator[ICSRig]:
    server = feed_server(request.config)
    feed_id, key = uuid.uuid4().hex[:12], uuid.uuid4().hex
    feed = Feed(key=key, name=f"Feed {feed_id}")
    with server.lock:
        server.feeds[feed_id] = feed
    provider = ICSFeedProvider({"timeout_seconds": "5", "allow_loopback": "True"})
    conn = Connection(f"pro_{feed_id}", settings={}, secrets={"url": f"{server.url}/feeds/{feed_id}.ics?key={key}"})
    try:
        yield ICSRig(provider, conn, "feed", False, server, feed)
    finally:
        provider.close()
        with server.lock:
            server.feeds.pop(feed_id, None)
