"""ICS feeds (a published calendar's .ics address): one read-only calendar, polled with conditional GETs."""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

import httpx
import icalendar

from horae.domain.events import Event
from horae.domain.remote import RemoteEvent
from horae.domain.times import BadTime, zone
from horae.errors import (
    InvalidRequest,
    ProviderAuthRejected,
    ProviderError,
    ProviderUnavailable,
    SyncCursorExpired,
)
from horae.ports import Connection, Linked, ProviderCalendar, ProviderChanges, RemoteItem, WriteResult
from horae.providers.calendars.caldav_errors import parse_retry_after
from horae.providers.calendars.form_linked import BlockedHost, allows_loopback, checked_url, http_client, in_window
from horae.providers.calendars.ical import ICalError, parse_calendar
from horae.providers.calendars.ical_zones import READ_ERRORS

log = logging.getLogger(__name__)

FEED_ID = "feed"  # the one calendar's remote id
MAX_FEED_BYTES = 20 * 1024 * 1024
FEED_SCHEMES = {"http": "http", "https": "https", "webcal": "https", "webcals": "https"}
REMEMBERED_FEEDS = 1024  # feed names (and their validators) kept between calendars() calls
READ_ONLY = "ICS feeds are read-only"


@dataclass(frozen=True)
class _Feed:
    """One GET's outcome: 304 (body None) or the body with the validators to send next time."""

    status: int
    body: bytes | None
    etag: str | None
    modified: str | None

    @property
    def text(self) -> str:
        return (self.body or b"").decode("utf-8-sig", errors="replace")


class ICSFeedProvider:
    """A calendar published as an iCalendar file. The feed's URL is a secret: such URLs often carry the key
    that grants access, so it never appears in messages or logs."""

    key = "ics"
    provider_name = "ics"
    provider_service = "ics"
    writable = False
    remote = True

    def __init__(self, options: Mapping[str, str], *, transport: httpx.BaseTransport | None = None) -> None:
        """`transport` replaces the network, for tests."""
        self._allow_loopback = allows_loopback(options)
        self._http = http_client(options, transport)
        self._names: dict[str, tuple[str, _Feed]] = {}  # sha256 of the URL -> (name, validators)
        self._lock = threading.Lock()

    def close(self) -> None:
        """Closes the connection pool; the provider is not used afterwards."""
        self._http.close()

    def link(self, form: dict[str, str]) -> Linked:
        """Checks that `url` (http, https or webcal) gives an iCalendar feed; its title names the profile."""
        url = checked_url(form.get("url", ""), "url", self._allow_loopback, FEED_SCHEMES)
        try:
            feed = self._get(url, None)
        except ProviderAuthRejected as exc:
            raise InvalidRequest.single(
                "url", "errors.credentials_rejected", "the feed asks for a password; use its private (secret) address"
            ) from exc
        except ProviderError as exc:
            raise InvalidRequest.single(
                "url", "errors.unreachable", f"could not fetch the feed: {exc.message}"
            ) from exc
        text = feed.text
        try:
            read_feed(text)
        except ICalError as exc:
            raise InvalidRequest.single(
                "url", "errors.not_a_calendar", "the address does not give an iCalendar (.ics) feed"
            ) from exc
        name = self._remember(url, feed, text)
        return Linked(profile_name=name, settings={}, secrets={"url": url})

    def calendars(self, conn: Connection) -> list[ProviderCalendar]:
        """The feed itself; asking for its name is a conditional GET, so an unchanged feed costs a 304."""
        url = conn.secrets["url"]
        with self._lock:
            known = self._names.get(_digest(url))
        feed = self._get(url, known[1] if known else None)
        name = known[0] if feed.status == 304 and known else self._remember(url, feed, feed.text)
        return [ProviderCalendar(FEED_ID, name, readonly=True, primary=True)]

    def create_calendar(self, conn: Connection, name: str, color: str | None) -> ProviderCalendar:
        raise ProviderError(READ_ONLY)

    def changes(
        self, conn: Connection, calendar_remote_id: str, cursor: str | None, window: tuple[datetime, datetime]
    ) -> ProviderChanges:
        """Every event of the feed in the window (complete), or nothing when the feed has not changed since
        `cursor` (the validators and a digest of the last body, as JSON). A feed has no deletions to report:
        an event no longer listed is gone."""
        before = _Feed(200, None, None, None) if cursor is None else _cursor(cursor)
        url = conn.secrets["url"]
        feed = self._get(url, before)
        if feed.status == 304:
            return ProviderChanges([], [], cursor, complete=False)
        assert feed.body is not None
        digest = hashlib.sha256(feed.body).hexdigest()
        after = json.dumps({"etag": feed.etag, "modified": feed.modified, "sha256": digest})
        if cursor is not None and json.loads(cursor).get("sha256") == digest:
            return ProviderChanges([], [], after, complete=False)  # served again in full, but the same
        text = feed.text
        self._remember(url, feed, text)
        try:
            found = read_feed(text)
        except ICalError as exc:
            raise ProviderError(f"the feed is not iCalendar text any more: {exc}") from exc
        items = [RemoteItem(e.uid, _version(e), e) for e in found if in_window(e, window)]
        return ProviderChanges(items, [], after, complete=True)

    def write_event(
        self, conn: Connection, calendar_remote_id: str, event: Event, remote_id: str | None, etag: str | None
    ) -> WriteResult:
        raise ProviderError(READ_ONLY)

    def delete_event(self, conn: Connection, calendar_remote_id: str, remote_id: str, etag: str | None) -> None:
        raise ProviderError(READ_ONLY)

    # --- fetching ----------------------------------------------------------------------------------------

    def _get(self, url: str, since: _Feed | None) -> _Feed:
        """GET the feed (conditionally when `since` has validators), following redirects, at most 20 MB."""
        headers = {"Accept": "text/calendar, text/plain;q=0.5, */*;q=0.1"}
        if since is not None and since.etag:
            headers["If-None-Match"] = since.etag
        if since is not None and since.modified:
            headers["If-Modified-Since"] = since.modified
        try:
            with self._http.stream("GET", url, headers=headers, follow_redirects=True) as response:
                if response.status_code == 304:
                    return _Feed(304, None, since.etag if since else None, since.modified if since else None)
                _check_status(response)
                return _Feed(
                    200, _read_limited(response), response.headers.get("ETag"), response.headers.get("Last-Modified")
                )
        # `from None`: httpx's exceptions carry the request, and so the URL with its key, into tracebacks.
        except BlockedHost:
            raise ProviderError("the feed's address leads to a loopback or private network address") from None
        except httpx.TimeoutException:
            raise ProviderUnavailable("the feed's server did not answer in time") from None
        except httpx.TransportError as exc:
            raise ProviderUnavailable(f"could not reach the feed's server ({type(exc).__name__})") from None
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise ProviderError(f"could not fetch the feed ({type(exc).__name__})") from None

    def _remember(self, url: str, feed: _Feed, text: str) -> str:
        """The feed's name (X-WR-CALNAME, else its host), kept with the validators for the next calendars()."""
        name = calendar_name(text) or urlsplit(url).hostname or "Calendar feed"
        with self._lock:
            if len(self._names) >= REMEMBERED_FEEDS:
                self._names.pop(next(iter(self._names)))
            self._names[_digest(url)] = (name, _Feed(feed.status, None, feed.etag, feed.modified))
        return name


def _check_status(response: httpx.Response) -> None:
    status = response.status_code
    if 200 <= status < 300:
        return
    if status in (401, 403):
        raise ProviderAuthRejected(f"the feed's server refused access (HTTP {status})")
    if status == 429 or status >= 500:
        wait = parse_retry_after(response.headers.get("Retry-After"))
        raise ProviderUnavailable(f"the feed's server is unavailable (HTTP {status})", wait)
    if status in (404, 410):
        raise ProviderError(f"the feed is no longer there (HTTP {status})")
    raise ProviderError(f"the feed's server answered HTTP {status}")


def _read_limited(response: httpx.Response) -> bytes:
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > MAX_FEED_BYTES:
        raise ProviderError("the feed is larger than 20 MB")
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > MAX_FEED_BYTES:  # counted after decompression: a small gzip can be a large feed
            raise ProviderError("the feed is larger than 20 MB")
        chunks.append(chunk)
    return b"".join(chunks)


def _cursor(cursor: str) -> _Feed:
    try:
        state = json.loads(cursor)
        if not isinstance(state, dict):
            raise ValueError(cursor)
        etag, modified = state.get("etag"), state.get("modified")
    except ValueError as exc:
        raise SyncCursorExpired("not a cursor this provider wrote") from exc
    return _Feed(200, None, etag if isinstance(etag, str) else None, modified if isinstance(modified, str) else None)


def _digest(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()


def _version(remote: RemoteEvent) -> str:
    """A version tag of the event as read: equal between polls exactly when Horae would store the same."""
    return hashlib.sha256(repr(remote).encode()).hexdigest()[:32]


# --- reading a feed ------------------------------------------------------------------------------------


def read_feed(text: str) -> list[RemoteEvent]:
    """The feed's events, one per UID (the first wins). Floating times are read in the feed's
    X-WR-TIMEZONE when it names a known zone. When one event spoils the whole text, each UID is read on its
    own and the bad ones are left out; text that is no iCalendar at all raises ICalError."""
    tzid = _property(text, "X-WR-TIMEZONE") or "Etc/UTC"
    try:
        zone(tzid)
    except BadTime:
        tzid = "Etc/UTC"
    try:
        found = parse_calendar(text, tzid)
    except ICalError as whole:
        found = _one_uid_at_a_time(text, tzid, whole)
    unique: dict[str, RemoteEvent] = {}
    for remote in found:
        unique.setdefault(remote.uid, remote)
    return list(unique.values())


def _one_uid_at_a_time(text: str, tzid: str, whole: ICalError) -> list[RemoteEvent]:
    try:
        calendars = icalendar.Calendar.from_ical(text, multiple=True)
    except READ_ERRORS:
        raise whole from None
    if not calendars or any(c.name != "VCALENDAR" for c in calendars):
        raise whole
    found: list[RemoteEvent] = []
    skipped = 0
    for calendar in calendars:
        zones = [c for c in calendar.subcomponents if c.name == "VTIMEZONE"]
        by_uid: dict[str, list[icalendar.Component]] = {}
        for vevent in (c for c in calendar.subcomponents if c.name == "VEVENT"):
            uid = str(vevent.get("UID", "")).strip()
            if uid:
                by_uid.setdefault(uid, []).append(vevent)
            else:
                skipped += 1
        for parts in by_uid.values():
            single = icalendar.Calendar()
            for name, value in calendar.items():
                single[name] = value
            for component in [*zones, *parts]:
                single.add_component(component)
            try:
                found.extend(parse_calendar(single.to_ical().decode(), tzid))
            except (ICalError, *READ_ERRORS):
                skipped += 1
    log.warning("left unreadable events out of an ICS feed", extra={"skipped": skipped, "error": str(whole)[:300]})
    return found


def calendar_name(text: str) -> str | None:
    """The feed's title (X-WR-CALNAME), if it has one."""
    name = _property(text, "X-WR-CALNAME")
    return name[:200] if name else None


def _property(text: str, name: str) -> str | None:
    """A calendar-level text property, unfolded and unescaped, read without parsing the whole feed."""
    match = re.search(
        rf"^{re.escape(name)}(?:;[^:\r\n]*)?:(.*(?:\r?\n[ \t].*)*)", text, flags=re.MULTILINE | re.IGNORECASE
    )
    if match is None:
        return None
    value = re.sub(r"\r?\n[ \t]", "", match.group(1)).strip()
    value = re.sub(r"\\([\\;,nN])", lambda m: " " if m.group(1) in "nN" else m.group(1), value)
    return value or None
