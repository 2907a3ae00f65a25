"""Google Calendar (API v3 over OAuth 2.0) as a calendar provider: calendars, sync-token changes and writes."""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

import httpx

from horae.domain import integrated, recurrence
from horae.domain.events import Event
from horae.domain.times import EventTime, format_instant
from horae.errors import ProviderAuthRejected, ProviderError, ProviderUnavailable, SyncCursorExpired
from horae.ports import Connection, Linked, ProviderCalendar, ProviderChanges, RemoteItem, WriteResult
from horae.providers.calendars import google_delegation as delegation
from horae.providers.calendars import google_errors as errors
from horae.providers.calendars import google_events as mapping
from horae.providers.calendars import google_meet as meet

SCOPE = "https://www.googleapis.com/auth/calendar openid email"
CALENDAR_SCOPE = "https://www.googleapis.com/auth/calendar"
DEFAULTS = {
    "auth_url": "https://accounts.google.com/o/oauth2/v2/auth",
    "token_url": "https://oauth2.googleapis.com/token",
    "api_url": "https://www.googleapis.com",
}
CONSUMER_DOMAINS = frozenset({"gmail.com", "googlemail.com"})
REFRESH_MARGIN = 60  # renew an access token this many seconds before Google says it expires
MAX_PAGES = 1000
WRITE_ROLES = frozenset({"owner", "writer"})
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")


class GoogleCalendarProvider:
    """Google Calendar for one OAuth client (`client_id`, `client_secret`); `auth_url`, `token_url` and
    `api_url` point elsewhere for tests and proxies. Secrets: `access_token`, `refresh_token` and
    `expires_at` (epoch seconds); a refreshed token is written back into `conn.secrets`. A person reached
    through a Workspace service account (Enterprise Connect) has `private_key` and `private_key_id` instead
    of a refresh token."""

    key = "google"
    provider_name = "google"
    provider_service = "google"
    writable = True
    remote = True
    integrated_conferencing = integrated.GOOGLE_MEET  # Meet is made along with the event (IntegratedConferencing)
    page_size = 2500  # events.list's largest page

    def __init__(self, options: Mapping[str, str] | None = None) -> None:
        found = dict(options or {})
        self._client_id = found.get("client_id", "")
        self._client_secret = found.get("client_secret", "")
        self._auth_url = found.get("auth_url") or DEFAULTS["auth_url"]
        self._token_url = found.get("token_url") or DEFAULTS["token_url"]
        self._api = (found.get("api_url") or DEFAULTS["api_url"]).rstrip("/") + "/calendar/v3"
        self._http = httpx.Client(timeout=float(found.get("timeout_seconds") or 20), follow_redirects=False)

    def close(self) -> None:
        self._http.close()

    # --- linking (OAuthLinker) --------------------------------------------------------------------------

    def authorization_url(self, redirect_uri: str, state: str) -> str:
        params = {
            "client_id": self._client_id,
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "scope": SCOPE,
            "access_type": "offline",  # a refresh token, so sync goes on without the person
            "prompt": "consent",  # Google only sends the refresh token again when consent is asked again
            "state": state,
        }
        return f"{self._auth_url}{'&' if '?' in self._auth_url else '?'}{urlencode(params)}"

    def complete(self, code: str, redirect_uri: str) -> Linked:
        body = self._token_call({"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri})
        granted = body.get("scope")
        if isinstance(granted, str) and CALENDAR_SCOPE not in granted.split():
            raise ProviderAuthRejected("Google: access to the calendars was not granted")
        refresh = body.get("refresh_token")
        if not isinstance(refresh, str) or not refresh:
            raise ProviderError("Google sent no refresh token; connect again and allow offline access")
        secrets = mapping.token_secrets(body, refresh)
        email = mapping.id_token_email(body.get("id_token"))
        if email is None:  # the primary calendar's id is the account's address
            listed = self.calendars(Connection("", {}, secrets))
            email = next((c.remote_id for c in listed if c.primary and c.remote_id), None)
        if email is None:
            raise ProviderError("Google named no address for this account")
        domain = email.rpartition("@")[2].lower()
        service = "google" if domain in CONSUMER_DOMAINS else "gsuite"
        return Linked(profile_name=email, settings={"email": email}, secrets=secrets, provider_service=service)

    # --- Enterprise Connect: a service account with domain-wide delegation ----------------------------------

    def link_admin(self, form: dict[str, str]) -> Linked:
        """Checks the form's service account key by acting as its `admin_email` and listing that person's
        calendars; a problem comes back as InvalidRequest on the field to fix."""
        return delegation.link_admin(form, lambda person: self.calendars(self._act_as(person)))

    def delegate(self, admin: Connection, email: str) -> Connection:
        """A connection acting as `email` through the admin's service account; UnknownUser when Google has
        no such person."""
        return self._act_as(delegation.person_connection(admin.profile_id, delegation.stored_key(admin), email))

    def _act_as(self, conn: Connection) -> Connection:
        return delegation.act_as(self._send, self._token_url, conn)

    # --- calendars --------------------------------------------------------------------------------------

    def calendars(self, conn: Connection) -> list[ProviderCalendar]:
        listed, _ = self._list(conn, "/users/me/calendarList", {"maxResults": "250"})
        return [
            ProviderCalendar(
                remote_id=str(entry["id"]),
                name=str(entry.get("summaryOverride") or entry.get("summary") or entry["id"]),
                readonly=entry.get("accessRole") not in WRITE_ROLES,
                primary=bool(entry.get("primary")),
                color=str(entry["backgroundColor"]) if entry.get("backgroundColor") else None,
            )
            for entry in listed
            if entry.get("id") and not entry.get("deleted")
        ]

    def create_calendar(self, conn: Connection, name: str, color: str | None) -> ProviderCalendar:
        created = errors.json_body(self._call(conn, "POST", "/calendars", body={"summary": name}))
        calendar_id = str(created["id"])
        if color and _COLOR.match(color):
            colors = {"backgroundColor": color, "foregroundColor": "#000000"}  # Google wants both or neither
            path = f"/users/me/calendarList/{_quote(calendar_id)}"
            self._call(conn, "PATCH", path, params={"colorRgbFormat": "true"}, body=colors)
        return ProviderCalendar(calendar_id, str(created.get("summary") or name), readonly=False, color=color)

    # --- reading events ---------------------------------------------------------------------------------

    def changes(
        self, conn: Connection, calendar_remote_id: str, cursor: str | None, window: tuple[datetime, datetime]
    ) -> ProviderChanges:
        path = f"/calendars/{_quote(calendar_remote_id)}/events"
        params = {"singleEvents": "false", "maxResults": str(self.page_size)}
        if cursor:
            params["syncToken"] = cursor  # Google refuses timeMin/timeMax beside it; the token remembers them
        else:
            params |= {"timeMin": format_instant(window[0]), "timeMax": format_instant(window[1])}
        listed, last = self._list(conn, path, params, syncing=cursor is not None)
        default_tzid = str(last.get("timeZone") or "Etc/UTC")
        items, removed = self._gather(conn, path, listed, default_tzid, incremental=cursor is not None)
        token = last.get("nextSyncToken")
        return ProviderChanges(items, removed, str(token) if token else None, complete=cursor is None)

    def _gather(
        self, conn: Connection, path: str, listed: list[dict[str, Any]], default_tzid: str, incremental: bool
    ) -> tuple[list[RemoteItem], list[str]]:
        """One item per master, carrying its exceptions; cancelled masters are removals. Incremental lists
        name only what changed, so a series that changed at all is read again whole (its master and every
        exception), else storing it would drop the exceptions that did not change."""
        masters: dict[str, dict[str, Any]] = {}
        exceptions: dict[str, list[dict[str, Any]]] = {}
        for resource in listed:
            parent = resource.get("recurringEventId")
            if parent:
                exceptions.setdefault(str(parent), []).append(resource)
            elif resource.get("id"):
                masters[str(resource["id"])] = resource
        items: list[RemoteItem] = []
        removed: list[str] = []
        for master_id in dict.fromkeys([*masters, *exceptions]):
            master = masters.get(master_id) or self._get(conn, path, master_id)
            if master is None:  # invited to single instances only: the series is not in this calendar
                for orphan in exceptions[master_id]:
                    if orphan.get("status") == "cancelled":
                        removed.append(str(orphan.get("id")))
                    else:
                        event = mapping.read_event(orphan, [], default_tzid, as_series=False)
                        items.append(RemoteItem(str(orphan.get("id")), mapping.series_etag(orphan, []), event))
                continue
            if master.get("status") == "cancelled":
                removed.append(master_id)
                continue
            found = exceptions.get(master_id, [])
            if master.get("recurrence") and (incremental or master_id not in masters):
                found = self._exceptions(conn, path, master)
            event = mapping.read_event(master, found, default_tzid)
            items.append(RemoteItem(master_id, mapping.series_etag(master, found), event))
        return items, removed

    def _exceptions(self, conn: Connection, path: str, master: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Every exception of a series, cancelled ones too: they share the master's iCalUID."""
        uid = master.get("iCalUID")
        if not uid:
            return []
        params = {"iCalUID": str(uid), "showDeleted": "true", "singleEvents": "false", "maxResults": "2500"}
        listed, _ = self._list(conn, path, params)
        return [e for e in listed if e.get("recurringEventId") == master.get("id")]

    def _get(self, conn: Connection, path: str, event_id: str) -> dict[str, Any] | None:
        response = self._call(conn, "GET", f"{path}/{_quote(event_id)}", expect=(404,))
        return None if response.status_code == 404 else errors.json_body(response)

    # --- writing events ---------------------------------------------------------------------------------

    def write_event(
        self, conn: Connection, calendar_remote_id: str, event: Event, remote_id: str | None, etag: str | None
    ) -> WriteResult:
        """events.insert with an id derived from the event_uid (so a retry finds its first attempt), or
        events.update. A series' cancelled instances go out as EXDATE lines of the master and its moved ones
        as updates of those instances (`<master id>_<original start>`), which Google keeps as exceptions."""
        path = f"/calendars/{_quote(calendar_remote_id)}/events"
        wish = integrated.wish(event.details)  # Google Meet: made, kept or removed along with the event
        body = meet.with_conference(mapping.event_body(event), wish)
        query = meet.params_for(wish)
        fresh = False
        stored = self._replace(conn, path, remote_id, body, mapping.master_etag(etag), query) if remote_id else None
        if stored is None:  # new, or gone from Google for good: make it (again)
            stored, fresh = self._insert(conn, path, event, body, query)
        conference = meet.read_conference(stored)
        if "recurrence" not in body:
            return WriteResult(str(stored["id"]), mapping.series_etag(stored, []), conference)
        existing = [] if fresh else self._exceptions(conn, path, stored)
        exceptions = self._write_instances(conn, path, event, stored, existing)
        return WriteResult(str(stored["id"]), mapping.series_etag(stored, exceptions), conference)

    def _insert(
        self, conn: Connection, path: str, event: Event, body: dict[str, Any], query: dict[str, str]
    ) -> tuple[dict[str, Any], bool]:
        event_id = mapping.event_id_for(event.event_uid)
        response = self._call(conn, "POST", path, params=query, body={**body, "id": event_id}, expect=(409,))
        if response.status_code != 409:
            return errors.json_body(response), True
        # Already there: an earlier attempt landed but its answer was lost. The object is Horae's: replace it.
        stored = self._replace(conn, path, event_id, body, None, query)
        if stored is None:
            raise ProviderError(f"Google reports event {event_id} both present and missing")
        return stored, False

    def _replace(
        self, conn: Connection, path: str, remote_id: str, body: dict[str, Any], etag: str | None, query: dict[str, str]
    ) -> dict[str, Any] | None:
        """events.update (a full replacement), None when Google has no such event."""
        url = f"{path}/{_quote(remote_id)}"
        conditions = {"If-Match": etag} if etag else {}
        response = self._call(conn, "PUT", url, params=query, body=body, headers=conditions, expect=(404, 412))
        if response.status_code == 412:
            # Changed on Google since Horae read it. The application asked for this change, so Horae's write
            # wins: once more against the current version (a second 412 means a race, left to the job's retry).
            current = self._get(conn, path, remote_id)
            if current is None:
                return None
            headers = {"If-Match": str(current.get("etag"))}
            response = self._call(conn, "PUT", url, params=query, body=body, headers=headers, expect=(404,))
        return None if response.status_code == 404 else errors.json_body(response)

    def _write_instances(
        self, conn: Connection, path: str, event: Event, master: Mapping[str, Any], existing: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """Move the instances Horae moved, and cancel on Google the moved instances Horae cancelled (an EXDATE
        does not hide an instance Google keeps as an exception). Returns the series' exceptions now."""
        start = EventTime(event.starts_at, event.start_date, event.start_tzid)
        by_key = {key: e for e in existing if (key := mapping.original_key(e, start)) is not None}
        for key, change in sorted(recurrence.exceptions(event).items()):
            known = by_key.get(key)
            instance_path = f"{path}/{_quote(known['id'] if known else mapping.instance_id(str(master['id']), key))}"
            if change.get("deleted"):
                if known is not None and known.get("status") != "cancelled":
                    self._call(conn, "DELETE", instance_path, expect=(404, 410))
                    del by_key[key]  # its new etag is unknown: the next read sees the series as changed once
                continue
            body = mapping.instance_body(event, key, change) if recurrence.occurs(event, key) else None
            if body is not None:
                response = self._call(conn, "PUT", instance_path, body=body, expect=(404,))
                if response.status_code != 404:
                    by_key[key] = errors.json_body(response)
        return list(by_key.values())

    def delete_event(self, conn: Connection, calendar_remote_id: str, remote_id: str, etag: str | None) -> None:
        """Unconditional (Horae's delete wins); an event already deleted (410) or unknown (404) is done."""
        path = f"/calendars/{_quote(calendar_remote_id)}/events/{_quote(remote_id)}"
        self._call(conn, "DELETE", path, expect=(404, 410))

    # --- HTTP -------------------------------------------------------------------------------------------

    def _list(
        self, conn: Connection, path: str, params: dict[str, str], syncing: bool = False
    ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        """Every item of a paged list, and the last page (which carries nextSyncToken and the time zone)."""
        query = dict(params)
        items: list[dict[str, Any]] = []
        for _ in range(MAX_PAGES):
            response = self._call(conn, "GET", path, params=query, expect=(410,) if syncing else ())
            if response.status_code == 410:
                raise SyncCursorExpired("Google: the sync token is no longer valid, a full sync is required")
            body = errors.json_body(response)
            items.extend(item for item in body.get("items") or [] if isinstance(item, dict))
            page = body.get("nextPageToken")
            if not page:
                return items, body
            query = {**params, "pageToken": str(page)}
        raise ProviderError(f"Google GET {path}: more than {MAX_PAGES} pages")

    def _call(
        self,
        conn: Connection,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        expect: tuple[int, ...] = (),
    ) -> httpx.Response:
        """One API call with the connection's access token (refreshed when due, or once on a 401). Answers
        other than 2xx and `expect` become ProviderErrors."""
        for attempt in range(2):
            auth = {"Authorization": f"Bearer {self._access_token(conn)}"}
            merged = {**(headers or {}), **auth}
            response = self._send(method, self._api + path, params=params, json=body, headers=merged)
            if response.status_code != 401 or attempt:
                break
            self._refresh(conn)  # expired or revoked early; a refresh that fails says which
        if response.status_code < 300 or response.status_code in expect:
            return response
        raise errors.error_for(f"Google {method} {path}", response)

    def _access_token(self, conn: Connection) -> str:
        token = conn.secrets.get("access_token")
        try:
            expires = float(conn.secrets.get("expires_at") or 0)
        except ValueError:
            expires = 0.0
        if not token or (expires and expires - REFRESH_MARGIN <= time.time()):
            return self._refresh(conn)
        return token

    def _refresh(self, conn: Connection) -> str:
        if delegation.is_delegated(conn):  # a service account's: it signs a new assertion, no refresh token
            return delegation.renew(self._send, self._token_url, conn)
        refresh = conn.secrets.get("refresh_token")
        if not refresh:
            raise ProviderAuthRejected("Google: no refresh token is stored; connect the account again")
        body = self._token_call({"grant_type": "refresh_token", "refresh_token": refresh})
        conn.secrets.update(mapping.token_secrets(body, refresh))  # the caller seals the new token
        return conn.secrets["access_token"]

    def _token_call(self, form: dict[str, str]) -> dict[str, Any]:
        form = {**form, "client_id": self._client_id, "client_secret": self._client_secret}
        response = self._send("POST", self._token_url, data=form)
        if response.status_code == 200:
            return errors.json_body(response)
        raise delegation.token_error(response)

    def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            return self._http.request(method, url, **kwargs)
        except httpx.TransportError as exc:  # timeouts too
            raise ProviderUnavailable(
                f"Google {method}: could not connect, or no answer ({type(exc).__name__})"
            ) from exc
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise ProviderError(f"Google {method}: {type(exc).__name__}") from exc


def _quote(segment: str) -> str:
    return quote(segment, safe="@")
