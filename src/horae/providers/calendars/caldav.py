"""CalDAV calendars (iCloud, Fastmail, Nextcloud, any RFC 4791 server): linked with a form, read with
sync-collection, written with conditional PUTs keyed by the event's UID."""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from urllib.parse import quote, unquote, urljoin, urlsplit

import httpx

from horae.domain.events import Event
from horae.domain.remote import RemoteEvent
from horae.errors import (
    InvalidRequest,
    ProviderAuthRejected,
    ProviderError,
    ProviderUnavailable,
    RemoteConflict,
    SyncCursorExpired,
    UnknownUser,
)
from horae.ports import Connection, Linked, ProviderCalendar, ProviderChanges, RemoteItem, WriteResult
from horae.providers.calendars.caldav_client import CalDAVClient
from horae.providers.calendars.caldav_errors import (
    AuthRejected,
    CalDAVError,
    PreconditionFailed,
    ServerBusy,
    SyncTokenInvalid,
)
from horae.providers.calendars.form_linked import BlockedHost, allows_loopback, checked_url, http_client, in_window
from horae.providers.calendars.ical import ICalError, parse_calendar
from horae.providers.calendars.ical_writer import serialize_event

log = logging.getLogger(__name__)

# Where each preset's accounts are found; tried in order. Fastmail's root answers RFC 6764 discovery, and
# its principal URL is the documented fallback for clients that cannot discover.
PRESETS: dict[str, tuple[str, ...]] = {
    "icloud": ("https://caldav.icloud.com/",),
    "fastmail": ("https://caldav.fastmail.com/", "https://caldav.fastmail.com/dav/principals/user/{username}/"),
    "nextcloud": (),  # on the person's own server: {server_url}/remote.php/dav/
}
APP_PASSWORD_HINTS = {
    "icloud": "iCloud refused the Apple ID and password: use an app-specific password made at "
    "appleid.apple.com (Sign-In and Security, App-Specific Passwords), not the Apple ID password",
    "fastmail": "Fastmail refused the user name and password: use an app password made in Fastmail's "
    "Settings (Privacy & Security, App passwords) with CalDAV access, and your full email address",
}
GENERIC_HINT = "the server refused the user name and password; check them (some services need an app password)"
MULTIGET_CHUNK = 200
DEFAULT_HOME_TEMPLATE = "/{local_part}/"  # Radicale's layout: one collection per user name
MAX_SYNC_ROUNDS = 1000  # a 507-truncated sync continues from the new token; this bounds a misbehaving server
# A calendar named like one of these is the profile's primary; otherwise the first one the server lists.
DEFAULT_NAMES = frozenset({"calendar", "calendars", "default", "home", "personal", "events", "kalender"})
# RFC 3986 characters kept as they are in an href; everything else is percent-encoded once.
HREF_SAFE = ":/?#[]@!$&'()*+,;=~"


def canonical_href(href: str) -> str:
    """One spelling per object: servers and clients percent-encode hrefs differently, and the href is the
    remote id Horae matches objects by."""
    return quote(unquote(href), safe=HREF_SAFE)


# --- the provider ------------------------------------------------------------------------------------------


class CalDAVProvider:
    """Any CalDAV server; iCloud connections report themselves as `apple`/`icloud` (see link)."""

    key = "caldav"
    provider_name = "caldav"
    provider_service = "caldav"
    writable = True
    remote = True

    def __init__(self, options: Mapping[str, str], *, transport: httpx.BaseTransport | None = None) -> None:
        """`transport` replaces the network, for tests."""
        self._allow_loopback = allows_loopback(options)
        self._http = http_client(options, transport)

    def close(self) -> None:
        """Closes the connection pool; the provider is not used afterwards."""
        self._http.close()

    # --- linking ------------------------------------------------------------------------------------------

    def link(self, form: dict[str, str]) -> Linked:
        """Checks the form (server_url, username, password, optional preset) by finding the account's
        calendars; the first candidate URL that works is kept."""
        preset = form.get("preset", "").strip().lower()
        if preset not in PRESETS and preset:
            raise InvalidRequest.single("preset", "errors.invalid", "preset must be icloud, fastmail or nextcloud")
        username, password = form.get("username", "").strip(), form.get("password", "")
        if not username:
            raise InvalidRequest.single("username", "errors.required", "username is required")
        if not password:
            raise InvalidRequest.single("password", "errors.required", "password is required")
        reason, refused = "no answer", None
        candidates = self._candidates(preset, form.get("server_url", ""), username)
        for url in candidates:
            try:
                CalDAVClient(self._http, url, username, password).calendars(versions=False)
            except AuthRejected as exc:
                refused = exc
                if exc.status == 401:
                    break
                continue  # a 403 may only mean this URL is someone else's: the next candidate may work
            except (CalDAVError, httpx.HTTPError, httpx.InvalidURL) as exc:
                reason = _reason(exc)
                continue
            apple = preset == "icloud"
            return Linked(
                profile_name=username,
                settings={"server_url": url, "username": username, "preset": preset},
                secrets={"password": password},
                provider_name="apple" if apple else None,
                provider_service="icloud" if apple else None,
            )
        if refused is not None:
            hint = APP_PASSWORD_HINTS.get(preset, GENERIC_HINT)
            raise InvalidRequest.single("password", "errors.credentials_rejected", hint) from refused
        raise InvalidRequest.single(
            "server_url", "errors.unreachable", f"found no CalDAV calendars at {candidates[0]} ({reason})"
        )

    def _candidates(self, preset: str, server_url: str, username: str) -> list[str]:
        if PRESETS.get(preset):
            return [url.format(username=quote(username, safe="@")) for url in PRESETS[preset]]
        url = checked_url(server_url, "server_url", self._allow_loopback)
        parts = urlsplit(url)
        if parts.username or parts.password:
            raise InvalidRequest.single(
                "server_url",
                "errors.invalid_url",
                "give the user name and password in their own fields, not in the URL",
            )
        root = f"{parts.scheme}://{parts.netloc}/"
        if preset == "nextcloud" and "/remote.php/" not in parts.path:
            return [url.rstrip("/") + "/remote.php/dav/", root]
        # A URL with a path that is not a CalDAV context may still be on a server that supports discovery.
        return [url] if url.rstrip("/") + "/" == root else [url, root]

    # --- calendars ---------------------------------------------------------------------------------------

    def calendars(self, conn: Connection) -> list[ProviderCalendar]:
        with _mapped("listing calendars"):
            found = [c for c in self._client(conn).calendars(versions=False) if c.holds_events]
        named = [c for c in found if c.name.strip().lower() in DEFAULT_NAMES or _slug_of(c.href) in DEFAULT_NAMES]
        # Of several default-like calendars, the shortest href (`home/` rather than `home-2f9a1c/`).
        primary = min(named, key=lambda c: (len(c.href), c.href)) if named else (found[0] if found else None)
        return [
            ProviderCalendar(canonical_href(c.href), c.name, c.read_only, c is primary, _color(c.color)) for c in found
        ]

    def create_calendar(self, conn: Connection, name: str, color: str | None) -> ProviderCalendar:
        client = self._client(conn)
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40] or "calendar"
        with _mapped("creating a calendar"):
            try:
                href = client.make_calendar(slug, name, color)
            except CalDAVError as exc:
                if exc.status not in (403, 405, 409):  # the slug is taken (servers differ in how they say so)
                    raise
                href = client.make_calendar(f"{slug}-{secrets.token_hex(3)}", name, color)
        return ProviderCalendar(canonical_href(href), name, readonly=False, color=color)

    # --- reading -----------------------------------------------------------------------------------------

    def changes(
        self, conn: Connection, calendar_remote_id: str, cursor: str | None, window: tuple[datetime, datetime]
    ) -> ProviderChanges:
        """A full listing (cursor None), or the changes since the sync token. Changes are reported whatever
        their dates: an event moved far away is still the same event, not a deleted one."""
        client = self._client(conn)
        with _mapped("syncing a calendar"):
            if cursor is not None:
                token, changed, deleted = _sync(client, calendar_remote_id, cursor)
                fetched, vanished = _fetch(client, calendar_remote_id, list(changed))
                items = list(_items(fetched))
                removed = sorted({canonical_href(h) for h in deleted} | vanished)
                return ProviderChanges(items, removed, token or None, complete=False)
            try:
                token, changed, _ = _sync(client, calendar_remote_id, None)
            except CalDAVError as exc:
                if type(exc) is not CalDAVError or exc.status not in (400, 403, 405, 409, 415, 422, 501):
                    raise
                # No sync-collection here: list every object's etag instead, and never offer a cursor.
                token, changed = "", client.list_etags(calendar_remote_id)
            fetched, _ = _fetch(client, calendar_remote_id, list(changed))
        items = [item for item in _items(fetched) if in_window(item.event, window)]
        return ProviderChanges(items, [], token or None, complete=True)

    # --- writing -----------------------------------------------------------------------------------------

    def write_event(
        self, conn: Connection, calendar_remote_id: str, event: Event, remote_id: str | None, etag: str | None
    ) -> WriteResult:
        """PUT the event (created with If-None-Match, replaced with If-Match). Horae's write wins: an object
        that is already there (an earlier attempt got through) or changed since `etag` is replaced at its
        current etag, once."""
        client = self._client(conn)
        own_href = canonical_href(calendar_remote_id + quote(event.event_uid, safe="") + ".ics")
        href = canonical_href(remote_id) if remote_id else own_href
        with _mapped("writing an event"):
            uid = event.event_uid
            if href != own_href:
                # Someone else's object: keep its UID (invitations and other clients know it by that).
                theirs, current = _uid_and_etag(client, calendar_remote_id, href)
                uid, etag = theirs or uid, etag or current
            body = serialize_event(event, uid)
            try:
                return WriteResult(href, client.put(href, body, etag))
            except PreconditionFailed:
                _, current = _uid_and_etag(client, calendar_remote_id, href)
            try:
                return WriteResult(href, client.put(href, body, current))
            except PreconditionFailed as exc:
                raise RemoteConflict(f"{href} changed again while it was being replaced") from exc

    def delete_event(self, conn: Connection, calendar_remote_id: str, remote_id: str, etag: str | None) -> None:
        """Deletes the object; one already gone counts as deleted, one changed since `etag` is deleted anyway."""
        client = self._client(conn)
        with _mapped("deleting an event"):
            try:
                client.delete(remote_id, etag)
            except PreconditionFailed:
                client.delete(remote_id)

    def _client(self, conn: Connection) -> CalDAVClient:
        settings = conn.settings
        return CalDAVClient(
            self._http,
            settings["server_url"],
            settings.get("username", ""),
            conn.secrets.get("password", ""),
            home=settings.get("home_url") or None,
        )

    # --- Enterprise Connect ------------------------------------------------------------------------------

    def link_admin(self, form: dict[str, str]) -> Linked:
        """A service user that can reach every person's calendars: checked like any CalDAV account, and kept
        with the template that names each person's calendar home (`{local_part}` and `{email}`)."""
        template = form.get("home_template", "").strip() or DEFAULT_HOME_TEMPLATE
        if "{local_part}" not in template and "{email}" not in template:
            raise InvalidRequest.single(
                "home_template", "errors.invalid", "the template must contain {local_part} or {email}"
            )
        linked = self.link(form)
        return Linked(linked.profile_name, {**linked.settings, "home_template": template}, linked.secrets)

    def delegate(self, admin: Connection, email: str) -> Connection:
        local_part = email.split("@", 1)[0]
        path = admin.settings.get("home_template", DEFAULT_HOME_TEMPLATE).format(
            local_part=quote(local_part, safe=""), email=quote(email, safe="@")
        )
        person = Connection(
            admin.profile_id,
            {**admin.settings, "home_url": urljoin(admin.settings["server_url"], path)},
            dict(admin.secrets),
        )
        client = self._client(person)
        with _mapped(f"reaching the calendars of {email}"):
            try:
                client.calendars(versions=False)
            except CalDAVError as exc:
                if exc.status == 404:
                    raise UnknownUser(f"the CalDAV server has no calendar home for {email}") from exc
                raise
        return person


# --- helpers ---------------------------------------------------------------------------------------------


def _sync(client: CalDAVClient, calendar: str, token: str | None) -> tuple[str, dict[str, str], set[str]]:
    """Changed hrefs (with etags) and deleted ones since `token`, following 507-truncated answers."""
    changed: dict[str, str] = {}
    deleted: set[str] = set()
    for _ in range(MAX_SYNC_ROUNDS):
        result = client.sync(calendar, token)
        for href in result.deleted:
            changed.pop(href, None)
            deleted.add(href)
        for href, etag in result.changed.items():
            deleted.discard(href)
            changed[href] = etag
        if not result.truncated or not result.token or result.token == token:
            return result.token, changed, deleted
        token = result.token
    raise ProviderError(f"the server truncated its sync answer {MAX_SYNC_ROUNDS} times in a row")


def _fetch(client: CalDAVClient, calendar: str, hrefs: list[str]) -> tuple[dict[str, tuple[str, str]], set[str]]:
    """The named objects' etags and text by canonical href, in multiget chunks; and the hrefs that
    vanished between the listing and the fetch (deleted meanwhile)."""
    fetched: dict[str, tuple[str, str]] = {}
    for start in range(0, len(hrefs), MULTIGET_CHUNK):
        for href, found in client.fetch(calendar, hrefs[start : start + MULTIGET_CHUNK]).items():
            fetched[canonical_href(href)] = found
    return fetched, {canonical_href(h) for h in hrefs} - set(fetched)


def _items(fetched: dict[str, tuple[str, str]]) -> Iterator[RemoteItem]:
    for href in sorted(fetched):
        etag, text = fetched[href]
        remote = _read(href, text)
        if remote is not None:
            yield RemoteItem(href, etag, remote)


def _read(href: str, text: str) -> RemoteEvent | None:
    """The event an object holds; None (with a warning) when it cannot be read, so one bad object never
    stops a calendar's sync."""
    try:
        found = parse_calendar(text)
    except ICalError as exc:
        log.warning("skipped an unreadable CalDAV object", extra={"href": href, "error": str(exc)[:300]})
        return None
    if len(found) > 1:
        log.warning("a CalDAV object holds several UIDs; only the first is kept", extra={"href": href})
    return found[0] if found else None  # none: a to-do or journal entry in a mixed calendar


def _uid_and_etag(client: CalDAVClient, calendar: str, href: str) -> tuple[str | None, str | None]:
    """The UID and etag of the object at `href` now, (None, None) when there is none."""
    for found_href, (etag, text) in client.fetch(calendar, [href]).items():
        if canonical_href(found_href) == href:
            remote = _read(href, text)
            return (remote.uid if remote is not None else None), etag
    return None, None


def _slug_of(href: str) -> str:
    return unquote(href.rstrip("/").rsplit("/", 1)[-1]).lower()


def _color(value: str | None) -> str | None:
    # Apple writes #RRGGBBAA; Cronofy's colors are #RRGGBB.
    if value and re.fullmatch(r"#[0-9A-Fa-f]{6}([0-9A-Fa-f]{2})?", value.strip()):
        return value.strip()[:7]
    return None


def _reason(exc: Exception) -> str:
    """Why a candidate URL failed, in words for the person linking (never the credentials)."""
    cause = exc.__cause__ if isinstance(exc, CalDAVError) else exc
    if isinstance(cause, BlockedHost):
        return "it leads to a private network address"
    if isinstance(exc, ServerBusy):
        return "the server is busy; try again in a while"
    if isinstance(exc, CalDAVError) and exc.status is not None:
        return f"HTTP {exc.status}"
    if isinstance(cause, httpx.TimeoutException):
        return "no answer in time"
    if isinstance(cause, httpx.HTTPError | httpx.InvalidURL):
        return f"could not connect: {type(cause).__name__}"
    return str(exc)[:200] or type(exc).__name__


@contextmanager
def _mapped(what: str) -> Iterator[None]:
    """CalDAV client errors as Horae's provider errors; no httpx exception gets out."""
    try:
        yield
    except AuthRejected as exc:
        raise ProviderAuthRejected(f"{what}: the CalDAV server refused the credentials (HTTP {exc.status})") from exc
    except ServerBusy as exc:
        raise ProviderUnavailable(
            f"{what}: the CalDAV server is busy (HTTP {exc.status})", exc.retry_after_seconds
        ) from exc
    except SyncTokenInvalid as exc:
        raise SyncCursorExpired(f"{what}: the server no longer knows the sync token") from exc
    except PreconditionFailed as exc:
        raise RemoteConflict(f"{what}: {exc}") from exc
    except CalDAVError as exc:
        if isinstance(exc.__cause__, BlockedHost):
            raise ProviderError(f"{what}: {_reason(exc)}") from exc
        if exc.status is None or exc.status >= 500:
            raise ProviderUnavailable(f"{what}: {exc}") from exc
        raise ProviderError(f"{what}: {exc}") from exc
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise ProviderError(f"{what}: {_reason(exc)}") from exc
