"""An in-memory emulator of the parts of Google OAuth 2.0 and Google Calendar API v3 that Horae uses.

Mirrors https://developers.google.com/calendar/api/v3/reference/events/list,
https://developers.google.com/calendar/api/guides/sync and https://developers.google.com/calendar/api/guides/errors.
Recurring events are never expanded (`singleEvents=false` semantics): masters carry `recurrence`, exceptions
carry `recurringEventId` and `originalStartTime`. Google Meet (`conferenceData`, `conferenceDataVersion=1`) is
in google_meet.py; a Meet left pending is made on the next read of its event.
"""

from __future__ import annotations

import base64
import copy
import json
import re
import secrets
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from tests.emulators.common import EmulatorBase, Grant, new_id, parse_instant, query_int, rfc3339
from tests.emulators.google_meet import MeetService, make_meet

READ_ONLY = {"kind", "etag", "created", "updated", "htmlLink", "creator", "organizer", "iCalUID", "sequence", "_seq"}
EVENT_ID = re.compile(r"^[a-v0-9]{5,1024}$")
INSTANCE_ID = re.compile(r"^(.+)_(\d{8})(T\d{6}Z)?$")  # `<series id>_<original start>`, Google's instance ids


def google_error(status: int, message: str, reason: str, domain: str = "global", **extra: str) -> JSONResponse:
    """Google's JSON error body: `{"error": {"errors": [...], "code": ..., "message": ...}}`."""
    detail = {"domain": domain, "reason": reason, "message": message, **extra}
    return JSONResponse({"error": {"errors": [detail], "code": status, "message": message}}, status_code=status)


def oauth_error(status: int, error: str, description: str) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": description}, status_code=status)


class GoogleEmulator(EmulatorBase):
    """Google OAuth + Calendar v3 state; `app` is the Starlette app to serve, the other methods are test controls."""

    def __init__(
        self, client_id: str = "horae-client", client_secret: str = "horae-secret", email: str = "user@example.com"
    ) -> None:
        super().__init__(client_id, client_secret)
        self.email = email
        self.calendars: dict[str, dict[str, Any]] = {}
        self.events: dict[str, dict[str, dict[str, Any]]] = {}
        self.seq = 0
        self.sync_tokens: dict[str, tuple[str, int, str | None, str | None]] = {}
        self.pages: dict[str, tuple[list[dict[str, Any]], dict[str, Any], dict[str, Any], int]] = {}
        self.id_tokens = True  # the token endpoint adds an OpenID id_token when the scope asks for `openid`
        self.throttle_answer = (429, "rateLimitExceeded", "usageLimits")
        self.meet = MeetService()  # its `pending` and `failures` are test controls too
        self.add_calendar(email, email, primary=True)
        self.app = Starlette(
            routes=[
                Route("/auth", self._authorize, methods=["GET"]),
                Route("/token", self._token, methods=["POST"]),
                Route("/calendar/v3/users/me/calendarList", self._api(self._calendar_list), methods=["GET"]),
                Route("/calendar/v3/users/me/calendarList/{cal}", self._api(self._patch_entry), methods=["PATCH"]),
                Route("/calendar/v3/calendars", self._api(self._insert_calendar), methods=["POST"]),
                Route("/calendar/v3/calendars/{cal}/events", self._api(self._list_events), methods=["GET"]),
                Route("/calendar/v3/calendars/{cal}/events", self._api(self._insert_event), methods=["POST"]),
                Route("/calendar/v3/calendars/{cal}/events/{eid}", self._api(self._event), methods=["GET", "PUT"]),
                Route("/calendar/v3/calendars/{cal}/events/{eid}", self._api(self._delete), methods=["DELETE"]),
            ]
        )

    # -- test controls -------------------------------------------------------------------------------------
    def throttle(self, count: int, retry_after: int = 1, status: int = 429, reason: str = "rateLimitExceeded") -> None:
        """Make the next `count` API calls answer `status` (429; 403 with reason userRateLimitExceeded; 503 with
        backendError) with `Retry-After: retry_after`."""
        with self.lock:
            self.throttle_answer = (status, reason, "global" if status >= 500 else "usageLimits")
            super().throttle(count, retry_after)

    def add_calendar(
        self,
        calendar_id: str,
        summary: str,
        *,
        primary: bool = False,
        access_role: str = "owner",
        background_color: str = "#9fe1e7",
        time_zone: str = "UTC",
    ) -> dict[str, Any]:
        with self.lock:
            entry: dict[str, Any] = {
                "kind": "calendar#calendarListEntry",
                "etag": f'"{secrets.randbelow(10**15)}"',
                "id": calendar_id,
                "summary": summary,
                "timeZone": time_zone,
                "backgroundColor": background_color,
                "foregroundColor": "#000000",
                "selected": True,
                "accessRole": access_role,
                "defaultReminders": [],
            }
            if primary:
                entry["primary"] = True
            self.calendars[calendar_id] = entry
            self.events.setdefault(calendar_id, {})
            return copy.deepcopy(entry)

    def add_event(self, calendar_id: str, event: dict[str, Any]) -> dict[str, Any]:
        """Create an event directly (as if made in Google's UI); returns the stored resource."""
        with self.lock:
            cal = self._resolve(calendar_id)
            assert cal is not None, calendar_id
            fields = {k: v for k, v in event.items() if k not in READ_ONLY}
            fields.setdefault("id", new_id())
            stamp = rfc3339()
            stored = {"kind": "calendar#event", "created": stamp, "sequence": 0, "status": "confirmed"}
            stored |= {"iCalUID": f"{fields['id']}@google.com", "creator": {"email": self.email, "self": True}} | fields
            series = self.events[cal].get(str(fields.get("recurringEventId")))
            if series is not None:  # an exception is part of its series' iCalendar object
                stored["iCalUID"] = series["iCalUID"]
            stored["organizer"] = {"email": cal, "self": True}
            self.events[cal][fields["id"]] = stored
            return self._touch(stored)

    def update_event(self, calendar_id: str, event_id: str, **changes: Any) -> dict[str, Any]:
        """Change fields of an event directly; the change shows up in the next incremental sync."""
        with self.lock:
            stored = self.events[self._resolve(calendar_id) or calendar_id][event_id]
            stored.update({k: v for k, v in changes.items() if k not in READ_ONLY})
            stored["sequence"] += 1
            return self._touch(stored)

    def delete_event(self, calendar_id: str, event_id: str) -> None:
        """Delete directly: the event stays as a `cancelled` tombstone, as in Google."""
        with self.lock:
            stored = self.events[self._resolve(calendar_id) or calendar_id][event_id]
            stored["status"] = "cancelled"
            self._touch(stored)

    def get_event(self, calendar_id: str, event_id: str) -> dict[str, Any] | None:
        with self.lock:
            stored = self.events.get(self._resolve(calendar_id) or "", {}).get(event_id)
            return self._public(stored) if stored else None

    def invalidate_sync_tokens(self) -> None:
        """Make every sync token issued so far unknown: the next incremental sync answers 410 fullSyncRequired."""
        with self.lock:
            self.sync_tokens.clear()

    # -- plumbing ------------------------------------------------------------------------------------------
    def _resolve(self, calendar_id: str) -> str | None:
        cal = self.email if calendar_id == "primary" else calendar_id
        return cal if cal in self.calendars else None

    def _touch(self, stored: dict[str, Any]) -> dict[str, Any]:
        self.seq += 1
        stored["_seq"] = self.seq
        stored["updated"] = rfc3339()
        stored["etag"] = f'"{3_000_000_000_000_000 + self.seq}"'
        return self._public(stored)

    @staticmethod
    def _public(stored: dict[str, Any]) -> dict[str, Any]:
        return copy.deepcopy({k: v for k, v in stored.items() if not k.startswith("_")})

    @staticmethod
    def _minimal(stored: dict[str, Any]) -> dict[str, Any]:
        """A deleted event as incremental sync reports it: little more than its id and `status: cancelled`."""
        keep = ("kind", "etag", "id", "status", "recurringEventId", "originalStartTime")
        return copy.deepcopy({k: stored[k] for k in keep if k in stored})

    def _api(self, handler: Any) -> Any:
        async def endpoint(request: Request) -> Response:
            body = await request.body()
            with self.lock:
                self.log(request)
                if self.throttle_state.take():
                    status, reason, domain = self.throttle_answer
                    response = google_error(status, "Rate Limit Exceeded", reason, domain)
                    response.headers["Retry-After"] = str(self.throttle_state.retry_after)
                    return response
                if self.tokens.access_status(request) != "ok":
                    return google_error(
                        401, "Invalid Credentials", "authError", locationType="header", location="Authorization"
                    )
                result: Response = handler(request, body)
                return result

        return endpoint

    # -- OAuth ---------------------------------------------------------------------------------------------
    async def _authorize(self, request: Request) -> Response:
        q = request.query_params
        with self.lock:
            self.log(request)
            if q.get("client_id") != self.client_id or not q.get("redirect_uri"):
                return Response("Error 400: invalid_request", status_code=400)
            params = {"state": q.get("state", "")}
            if self.consent_error:
                params["error"] = self.consent_error
            else:
                grant = Grant(self.client_id, q["redirect_uri"], q.get("scope", ""))
                params |= {"code": self.tokens.issue_code(grant), "scope": grant.scope}
        sep = "&" if "?" in q["redirect_uri"] else "?"
        return RedirectResponse(q["redirect_uri"] + sep + urlencode(params), status_code=302)

    async def _token(self, request: Request) -> Response:
        form = await request.form()
        with self.lock:
            self.log(request)
            if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
                return oauth_error(401, "invalid_client", "Unauthorized")
            grant_type = form.get("grant_type")
            if grant_type == "authorization_code":
                grant = self.tokens.redeem_code(str(form.get("code", "")))
                if grant is None:
                    return oauth_error(400, "invalid_grant", "Malformed auth code.")
                if form.get("redirect_uri") != grant.redirect_uri:
                    return oauth_error(400, "redirect_uri_mismatch", "Bad Request")
                refresh: str | None = self.tokens.issue_refresh(grant)
            elif grant_type == "refresh_token":
                refresh = None  # Google keeps the refresh token; the response carries none.
                found = self.tokens.grant_for_refresh(str(form.get("refresh_token", "")))
                if found is None:
                    return oauth_error(400, "invalid_grant", "Token has been expired or revoked.")
                grant = found
            else:
                return oauth_error(400, "unsupported_grant_type", f"Invalid grant_type: {grant_type}")
            body: dict[str, Any] = {
                "access_token": self.tokens.issue_access(),
                "expires_in": self.tokens.access_ttl,
                "scope": grant.scope,
                "token_type": "Bearer",
            }
            if refresh:
                body["refresh_token"] = refresh
            if self.id_tokens and "openid" in grant.scope.split():
                claims = {"iss": "https://accounts.google.com", "aud": self.client_id, "email": self.email}
                body["id_token"] = _id_token(claims)
            return JSONResponse(body)

    # -- Calendar API --------------------------------------------------------------------------------------
    def _page(self, items: list[dict[str, Any]], head: dict[str, Any], tail: dict[str, Any], size: int) -> Response:
        """Serve the first `size` of `items`, park the rest under a nextPageToken; `tail` goes on the last page."""
        page, rest = items[:size], items[size:]
        body = {**head, "items": page}
        if rest:
            token = secrets.token_urlsafe(12)
            self.pages[token] = (rest, head, tail, size)
            body["nextPageToken"] = token
        else:
            body |= tail
        return JSONResponse(body)

    def _continue(self, request: Request) -> Response | None:
        token = request.query_params.get("pageToken")
        if token is None:
            return None
        parked = self.pages.pop(token, None)
        if parked is None:
            return google_error(400, "Invalid page token value.", "invalid", location="pageToken")
        return self._page(*parked)

    def _calendar_list(self, request: Request, _: bytes) -> Response:
        resumed = self._continue(request)
        if resumed is not None:
            return resumed
        items = [copy.deepcopy(c) for c in self.calendars.values()]
        head = {"kind": "calendar#calendarList", "etag": f'"p{self.seq}"'}
        size = query_int(request, "maxResults", 100, 250)
        return self._page(items, head, {"nextSyncToken": f"cl{self.seq}"}, size)

    def _insert_calendar(self, request: Request, body: bytes) -> Response:
        try:
            fields = json.loads(body or b"{}")
        except ValueError:
            return google_error(400, "Parse Error", "parseError")
        if not isinstance(fields, dict) or not fields.get("summary"):
            return google_error(400, "Missing title.", "required")
        calendar_id = f"{secrets.token_hex(16)}@group.calendar.google.com"
        entry = self.add_calendar(calendar_id, str(fields["summary"]), time_zone=str(fields.get("timeZone", "UTC")))
        shown = {k: entry[k] for k in ("etag", "id", "summary", "timeZone")}
        return JSONResponse(shown | {"kind": "calendar#calendar"})

    def _patch_entry(self, request: Request, body: bytes) -> Response:
        entry = self.calendars.get(request.path_params["cal"])
        if entry is None:
            return google_error(404, "Not Found", "notFound")
        try:
            fields = json.loads(body or b"{}")
        except ValueError:
            return google_error(400, "Parse Error", "parseError")
        colors = {k: fields[k] for k in ("backgroundColor", "foregroundColor") if k in fields}
        if colors and request.query_params.get("colorRgbFormat") != "true":
            return google_error(400, "Custom colors need colorRgbFormat=true.", "invalid")
        entry.update(colors | {k: fields[k] for k in ("summaryOverride", "hidden", "selected") if k in fields})
        return JSONResponse(copy.deepcopy(entry))

    def _list_events(self, request: Request, _: bytes) -> Response:
        q = request.query_params
        cal = self._resolve(request.path_params["cal"])
        if cal is None:
            return google_error(404, "Not Found", "notFound")
        resumed = self._continue(request)
        if resumed is not None:
            return resumed
        if q.get("singleEvents", "false").lower() == "true":
            return google_error(400, "singleEvents=true is not emulated.", "invalid", location="singleEvents")
        time_min, time_max = q.get("timeMin"), q.get("timeMax")
        since = 0
        if "syncToken" in q:
            if time_min or time_max or "updatedMin" in q or "q" in q or "orderBy" in q or "iCalUID" in q:
                return google_error(
                    400, "Sync token cannot be used with the given request parameters.", "invalid", location="syncToken"
                )
            known = self.sync_tokens.get(q["syncToken"])
            if known is None or known[0] != cal:
                return google_error(
                    410, "Sync token is no longer valid, a full sync is required.", "fullSyncRequired", "calendar"
                )
            since, time_min, time_max = known[1:]
        show_deleted = q.get("showDeleted", "false").lower() == "true"
        for pending in [e for e in self.events[cal].values() if make_meet(e)]:
            self._touch(pending)  # made now: a change the next incremental sync reports
        items = []
        for stored in sorted(self.events[cal].values(), key=lambda e: e["_seq"]):
            if stored["_seq"] <= since or not _in_window(stored, time_min, time_max):
                continue
            if "iCalUID" in q and stored["iCalUID"] != q["iCalUID"]:
                continue
            if stored["status"] != "cancelled":
                items.append(self._public(stored))
            elif since or show_deleted or "recurringEventId" in stored:
                items.append(self._minimal(stored))
        token = secrets.token_urlsafe(16)
        self.sync_tokens[token] = (cal, self.seq, time_min, time_max)
        entry = self.calendars[cal]
        head = {
            "kind": "calendar#events",
            "etag": f'"p{self.seq}"',
            "summary": entry["summary"],
            "updated": rfc3339(),
            "timeZone": entry["timeZone"],
            "accessRole": entry["accessRole"],
            "defaultReminders": [],
        }
        return self._page(items, head, {"nextSyncToken": token}, query_int(request, "maxResults", 250, 2500))

    def _insert_event(self, request: Request, body: bytes) -> Response:
        cal = self._resolve(request.path_params["cal"])
        if cal is None:
            return google_error(404, "Not Found", "notFound")
        event, problem = _parse_event(body)
        if problem:
            return problem
        if "id" in event:
            if not EVENT_ID.match(str(event["id"])):
                return google_error(400, "Invalid resource id value.", "invalid")
            if event["id"] in self.events[cal]:
                return google_error(409, "The requested identifier already exists.", "duplicate")
        conference, refused = self.meet.written(request.query_params, event, None)
        if refused:
            return google_error(400, refused, "invalid")
        if conference is not None:
            event["conferenceData"] = conference
        return JSONResponse(self.add_event(cal, event))

    def _instance(self, cal: str | None, event_id: str, store: bool) -> dict[str, Any] | None:
        """The stored event, or an unchanged instance of a series named `<series id>_<original start>` (which
        becomes an exception of its own once stored: Google materialises an instance when it is changed)."""
        events = self.events.get(cal or "", {})
        if event_id in events or cal is None:
            return events.get(event_id)
        found = INSTANCE_ID.match(event_id)
        series = events.get(found.group(1)) if found else None
        if found is None or series is None or "recurrence" not in series or series["status"] == "cancelled":
            return None
        instance: dict[str, Any] = {
            k: copy.deepcopy(series[k]) for k in ("summary", "description", "location") if k in series
        }
        instance |= {"id": event_id, "recurringEventId": series["id"]}
        if found.group(3):  # timed: the original start in UTC, shown in the series' zone
            original = datetime.strptime(found.group(2) + found.group(3), "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
            zone = {"timeZone": series["start"]["timeZone"]} if series["start"].get("timeZone") else {}
            length = _edge(series, "end") - _edge(series, "start")
            when = {"dateTime": rfc3339(original)} | zone
            ends = {"dateTime": rfc3339(original + length)} | zone
        else:
            day = datetime.strptime(found.group(2), "%Y%m%d").date()
            length_days = date.fromisoformat(series["end"]["date"]) - date.fromisoformat(series["start"]["date"])
            when, ends = {"date": day.isoformat()}, {"date": (day + max(length_days, timedelta(days=1))).isoformat()}
        instance |= {"start": when, "end": ends, "originalStartTime": dict(when)}
        if not store:
            return instance | {"iCalUID": series["iCalUID"], "status": "confirmed", "etag": series["etag"]}
        self.add_event(cal, instance)
        return events[event_id]

    def _event(self, request: Request, body: bytes) -> Response:
        cal = self._resolve(request.path_params["cal"])
        stored = self._instance(cal, request.path_params["eid"], store=request.method != "GET")
        if stored is None:
            return google_error(404, "Not Found", "notFound")
        if request.method == "GET":
            if make_meet(stored):
                self._touch(stored)
            return JSONResponse(self._public(stored))
        if_match = request.headers.get("if-match")
        if if_match and if_match != "*" and if_match != stored["etag"]:
            return google_error(412, "Precondition Failed", "conditionNotMet", location="If-Match")
        event, problem = _parse_event(body)
        if problem:
            return problem
        conference, refused = self.meet.written(request.query_params, event, stored.get("conferenceData"))
        if refused:
            return google_error(400, refused, "invalid")
        kept = ("kind", "id", "iCalUID", "created", "creator", "organizer", "sequence", "_seq")
        # An instance stays an instance of its series whatever the new body says.
        keep = {k: stored[k] for k in (*kept, "recurringEventId", "originalStartTime") if k in stored}
        stored.clear()
        stored.update(keep | {"status": "confirmed"} | {k: v for k, v in event.items() if k not in READ_ONLY | {"id"}})
        if conference is not None:
            stored["conferenceData"] = conference
        stored["sequence"] += 1
        return JSONResponse(self._touch(stored))

    def _delete(self, request: Request, _: bytes) -> Response:
        cal = self._resolve(request.path_params["cal"])
        stored = self._instance(cal, request.path_params["eid"], store=True)
        if stored is None:
            return google_error(404, "Not Found", "notFound")
        if stored["status"] == "cancelled":
            return google_error(410, "Resource has been deleted", "deleted")
        stored["status"] = "cancelled"
        self._touch(stored)
        return Response(status_code=204)


def _id_token(claims: dict[str, Any]) -> str:
    """An unsigned JWT carrying `claims` (the provider reads the id_token without checking its signature)."""

    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}.sig"


def _parse_event(body: bytes) -> tuple[dict[str, Any], JSONResponse | None]:
    try:
        event = json.loads(body or b"{}")
    except ValueError:
        return {}, google_error(400, "Parse Error", "parseError")
    if not isinstance(event, dict):
        return {}, google_error(400, "Parse Error", "parseError")
    for edge in ("start", "end"):
        value = event.get(edge)
        if not isinstance(value, dict) or not (value.get("dateTime") or value.get("date")):
            return {}, google_error(400, f"Missing {edge} time.", "required")
    return event, None


def _edge(stored: dict[str, Any], edge: str) -> datetime:
    value = stored[edge]
    return parse_instant(value.get("dateTime") or value["date"], value.get("timeZone"))


def _in_window(stored: dict[str, Any], time_min: str | None, time_max: str | None) -> bool:
    """Google's filter: the event ends after timeMin and starts before timeMax (recurring masters: start only)."""
    if time_max and _edge(stored, "start") >= parse_instant(time_max):
        return False
    if time_min and "recurrence" not in stored:
        return _edge(stored, "end") > parse_instant(time_min)
    return True
