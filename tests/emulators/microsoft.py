"""An in-memory emulator of the Microsoft identity platform and the parts of Microsoft Graph v1.0 Horae uses.

Mirrors https://learn.microsoft.com/graph/delta-query-events, https://learn.microsoft.com/graph/api/event-delta,
https://learn.microsoft.com/graph/errors, https://learn.microsoft.com/graph/throttling and
https://learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow. calendarView delta expands series
into `occurrence` items (exceptions replace theirs); series masters are only reachable as `/me/events/{id}`, and
their instances as `/me/events/{id}/instances`. PATCH of an occurrence makes it an exception; DELETE of one (or of
an exception) cancels that instance. `transactionId` on a create makes a retried POST answer the event the first one
made; `If-Match` on PATCH and DELETE answers 412 when the changeKey moved on. Also `/me` (the signed-in user) and
POST `/me/calendars` (409 ErrorFolderExists for a name in use).
"""

from __future__ import annotations

import copy
import re
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from tests.emulators.common import EmulatorBase, Grant, new_id, parse_instant, query_int
from tests.emulators.common import Throttle as Outage
from tests.emulators.graph_recurrence import (
    calendar_view,
    etag_matches,
    graph_error,
    graph_time,
    instant,
    offset_text,
    original_instant,
    parse_body,
    public,
)

AUTH_MESSAGES = {
    "missing": "Access token is empty.",
    "expired": "Lifetime validation failed, the token is expired.",
    "invalid": "IDX14100: JWT is not well formed, there are no dots (.).",
}
READ_ONLY = {"id", "iCalUId", "changeKey", "@odata.etag", "type", "createdDateTime", "lastModifiedDateTime"}
# What a PATCH cannot change: transactionId is fixed at creation, the rest belongs to the series.
IMMUTABLE = READ_ONLY | {"transactionId", "seriesMasterId", "originalStart", "originalStartTimeZone"}
IMMUTABLE |= {"originalEndTimeZone"}
NOT_FOUND = ("ErrorItemNotFound", "The specified object was not found in the store.")
Item = dict[str, Any]


def aad_error(status: int, error: str, code: int, text: str) -> JSONResponse:
    """The identity platform's token error: error, error_description (AADSTS...), error_codes, trace ids."""
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    trace, corr = str(uuid.uuid4()), str(uuid.uuid4())
    body = {
        "error": error,
        "error_description": f"AADSTS{code}: {text} Trace ID: {trace} Correlation ID: {corr} Timestamp: {now}",
        "error_codes": [code],
        "timestamp": now,
        "trace_id": trace,
        "correlation_id": corr,
        "error_uri": f"https://login.microsoftonline.com/error?code={code}",
    }
    return JSONResponse(body, status_code=status)


class IdentityPlatform(EmulatorBase):
    """What every Microsoft emulator shares: the identity platform's authorize and token endpoints (AADSTS
    errors, rotated refresh tokens) and the Graph call wrapper (throttling, outages, bearer tokens)."""

    def __init__(self, client_id: str, client_secret: str) -> None:
        super().__init__(client_id, client_secret)
        self.outage_state, self.outage_status = Outage(), 503
        self.outage_retry: int | str | None = None

    def _api(self, handler: Any) -> Any:
        async def endpoint(request: Request) -> Response:
            body = await request.body()
            with self.lock:
                self.log(request)
                if self.throttle_state.take():
                    response = graph_error(429, "TooManyRequests", "Too many requests. Please try again later.")
                    response.headers["Retry-After"] = str(self.throttle_state.retry_after)
                    return response
                if self.outage_state.take():
                    response = graph_error(self.outage_status, "ServiceNotAvailable", "The service is unavailable.")
                    if self.outage_retry is not None:
                        response.headers["Retry-After"] = str(self.outage_retry)
                    return response
                status = self.tokens.access_status(request)
                if status != "ok":
                    return graph_error(401, "InvalidAuthenticationToken", AUTH_MESSAGES[status])
                result: Response = handler(request, body)
                return result

        return endpoint

    # -- identity platform ---------------------------------------------------------------------------------
    async def _authorize(self, request: Request) -> Response:
        q = request.query_params
        with self.lock:
            self.log(request)
            if q.get("client_id") != self.client_id or not q.get("redirect_uri"):
                return Response("AADSTS700016: Application not found in the directory.", status_code=400)
            params = {"state": q.get("state", "")}
            if self.consent_error:
                params |= {"error": self.consent_error, "error_description": "AADSTS65004: User declined to consent."}
            else:
                grant = Grant(self.client_id, q["redirect_uri"], q.get("scope", ""))
                params |= {"code": self.tokens.issue_code(grant), "session_state": str(uuid.uuid4())}
        sep = "&" if "?" in q["redirect_uri"] else "?"
        return RedirectResponse(q["redirect_uri"] + sep + urlencode(params), status_code=302)

    async def _token(self, request: Request) -> Response:
        form = await request.form()
        with self.lock:
            self.log(request)
            if form.get("client_id") != self.client_id:
                return aad_error(400, "unauthorized_client", 700016, "Application not found in the directory.")
            if form.get("client_secret") != self.client_secret:
                return aad_error(401, "invalid_client", 7000215, "Invalid client secret provided.")
            grant_type = form.get("grant_type")
            if grant_type == "authorization_code":
                grant = self.tokens.redeem_code(str(form.get("code", "")))
                if grant is None:
                    return aad_error(400, "invalid_grant", 70000, "The provided authorization code is invalid.")
                if form.get("redirect_uri") != grant.redirect_uri:
                    return aad_error(400, "invalid_grant", 50148, "The redirect_uri does not match the request.")
            elif grant_type == "refresh_token":
                found = self.tokens.grant_for_refresh(str(form.get("refresh_token", "")))
                if found is None:
                    return aad_error(400, "invalid_grant", 50173, "The provided grant has expired due to revocation.")
                grant = found
            else:
                return aad_error(400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type.")
            return JSONResponse(
                {
                    "token_type": "Bearer",
                    "scope": str(form.get("scope") or grant.scope),
                    "expires_in": self.tokens.access_ttl,
                    "ext_expires_in": self.tokens.access_ttl,
                    "access_token": self.tokens.issue_access(),
                    "refresh_token": self.tokens.issue_refresh(grant),  # Microsoft rotates refresh tokens.
                }
            )


class GraphEmulator(IdentityPlatform):
    """Identity platform + Graph state; `app` is the Starlette app to serve, the other methods are test controls."""

    def __init__(
        self,
        client_id: str = "horae-client",
        client_secret: str = "horae-secret",
        *,
        user_email: str = "user@example.com",
        api_prefix: str = "/v1.0/me",
    ) -> None:
        """`api_prefix` is where the user's Graph resources live: `/v1.0/me` for a signed-in user, or
        `/v1.0/users/{email}` when a tenant (tests/emulators/graph_tenant.py) serves this mailbox."""
        super().__init__(client_id, client_secret)
        self.api_prefix = api_prefix
        self.calendars: dict[str, Item] = {}
        self.events: dict[str, Item] = {}
        self.delta_tokens: dict[str, tuple[str, datetime, datetime, dict[str, str]]] = {}
        self.skip_tokens: dict[str, tuple[list[Item], str]] = {}
        self.user: Item = {"id": new_id(), "displayName": "Test User", "mail": user_email}
        self.user["userPrincipalName"] = user_email
        self.default_calendar_id = self.add_calendar("Calendar", is_default=True)["id"]
        me = api_prefix
        self.app = Starlette(
            routes=[
                Route("/{tenant}/oauth2/v2.0/authorize", self._authorize, methods=["GET"]),
                Route("/{tenant}/oauth2/v2.0/token", self._token, methods=["POST"]),
                Route(me, self._api(lambda _r, _b: JSONResponse(copy.deepcopy(self.user))), methods=["GET"]),
                Route(f"{me}/calendars", self._api(self._calendars), methods=["GET", "POST"]),
                Route(f"{me}/calendars/{{cal}}/calendarView/delta", self._api(self._delta), methods=["GET"]),
                Route(f"{me}/calendars/{{cal}}/events", self._api(self._create), methods=["POST"]),
                Route(f"{me}/events/{{eid}}/instances", self._api(self._instances), methods=["GET"]),
                Route(f"{me}/events/{{eid}}", self._api(self._event), methods=["GET", "PATCH", "DELETE"]),
            ]
        )

    # -- test controls -------------------------------------------------------------------------------------
    def add_calendar(
        self, name: str, *, can_edit: bool = True, is_default: bool = False, hex_color: str = "#a1c2e3"
    ) -> Item:
        with self.lock:
            cal_id = new_id("cal-")
            self.calendars[cal_id] = {
                "id": cal_id,
                "name": name,
                "color": "auto",
                "hexColor": hex_color,
                "isDefaultCalendar": is_default,
                "changeKey": secrets.token_urlsafe(8),
                "canShare": can_edit,
                "canViewPrivateItems": True,
                "canEdit": can_edit,
                "owner": {"name": self.user["displayName"], "address": self.user["mail"]},
            }
            return copy.deepcopy(self.calendars[cal_id])

    def add_event(self, calendar_id: str, event: Item) -> Item:
        """Create an event directly (as if made in Outlook); a `recurrence` makes it a series master."""
        with self.lock:
            event_id = event.get("id") or new_id("evt-")
            stored: Item = {
                "@odata.type": "#microsoft.graph.event",
                "id": event_id,
                "iCalUId": "040000008200E00074C5B7101A82E008" + secrets.token_hex(16).upper(),
                "createdDateTime": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
                "subject": "",
                "body": {"contentType": "text", "content": ""},
                "location": {"displayName": ""},
                "isAllDay": False,
                "showAs": "busy",
                "isCancelled": False,
                "sensitivity": "normal",
                "type": "seriesMaster" if event.get("recurrence") else "singleInstance",
                "seriesMasterId": None,
                "recurrence": None,
                "_cal": calendar_id,
                "_exdates": set(),
            }
            self._apply(stored, {k: v for k, v in event.items() if k not in READ_ONLY})
            self.events[event_id] = stored
            return public(stored)

    def update_event(self, event_id: str, **changes: Any) -> Item:
        with self.lock:
            stored = self.events[event_id]
            self._apply(stored, changes)
            return public(stored)

    def delete_event(self, event_id: str) -> None:
        """Delete an event directly; deleting a series master takes its exceptions with it, deleting an
        exception cancels that instance of its series."""
        with self.lock:
            stored = self.events.pop(event_id)
            for other in [e for e in self.events.values() if e["seriesMasterId"] == event_id]:
                self.events.pop(other["id"])
            master = self.events.get(stored["seriesMasterId"] or "")
            if master is not None:
                master["_exdates"].add(original_instant(stored))
                self._apply(master, {})

    def cancel_occurrence(self, master_id: str, original_start: str) -> None:
        """Remove one occurrence of a series (by its original start); it disappears from calendarView."""
        with self.lock:
            master = self.events[master_id]
            master["_exdates"].add(parse_instant(original_start))
            self._apply(master, {})

    def add_exception(self, master_id: str, original_start: str, event_id: str | None = None, **changes: Any) -> Item:
        """Modify one occurrence of a series: stored as an `exception` that replaces that occurrence (a second
        change to the same occurrence changes the exception)."""
        with self.lock:
            master = self.events[master_id]
            start = parse_instant(original_start)
            for known in self.events.values():
                if known["seriesMasterId"] == master_id and original_instant(known) == start:
                    self._apply(known, changes)
                    return public(known)
            duration = instant(master["end"]) - instant(master["start"])
            base = {k: v for k, v in public(master).items() if k not in IMMUTABLE | {"recurrence"}}
            base |= {"start": graph_time(start), "end": graph_time(start + duration)} | changes
            exception = self.add_event(master["_cal"], base | ({"id": event_id} if event_id else {}))
            stored = self.events[exception["id"]]
            self._apply(stored, {"type": "exception", "seriesMasterId": master_id, "originalStart": offset_text(start)})
            for edge in ("Start", "End"):  # an instance keeps the series' zones
                stored[f"original{edge}TimeZone"] = master.get(f"original{edge}TimeZone", "UTC")
            return public(stored)

    def get_event(self, event_id: str) -> Item | None:
        with self.lock:
            stored = self.events.get(event_id)
            return public(stored) if stored else None

    def invalidate_delta_tokens(self) -> None:
        """Forget every delta token: following an old deltaLink answers 410 syncStateNotFound."""
        with self.lock:
            self.delta_tokens.clear()

    def outage(self, count: int, status: int = 503, retry_after: int | str | None = None) -> None:
        """Make the next `count` API calls answer `status` (503, 504, 500...), with `Retry-After: retry_after`
        (seconds or an HTTP date) when given."""
        with self.lock:
            self.outage_state, self.outage_status, self.outage_retry = Outage(count), status, retry_after

    # -- plumbing ------------------------------------------------------------------------------------------
    def _apply(self, stored: Item, changes: Item) -> None:
        for edge in ("start", "end"):
            if edge in changes:  # Graph remembers the zone a time was given in, and answers in UTC
                changes.setdefault(f"original{edge.title()}TimeZone", changes[edge].get("timeZone") or "UTC")
                if not changes.get("isAllDay", stored["isAllDay"]):
                    changes[edge] = graph_time(instant(changes[edge]))
        if "recurrence" in changes and stored["type"] in ("seriesMaster", "singleInstance"):
            changes["type"] = "seriesMaster" if changes["recurrence"] else "singleInstance"
        stored.update(changes)
        stored["changeKey"] = secrets.token_urlsafe(12)
        stored["@odata.etag"] = f'W/"{stored["changeKey"]}"'
        stored["lastModifiedDateTime"] = datetime.now(UTC).isoformat().replace("+00:00", "Z")

    # -- Graph ---------------------------------------------------------------------------------------------
    @staticmethod
    def _page(request: Request, rows: list[Item], context: str) -> Response:
        """One `$top`/`$skip` page of rows, with an `@odata.nextLink` to the next."""
        top = query_int(request, "$top", 10, 1000)
        skip = int(request.query_params.get("$skip", "0"))
        base = str(request.base_url).rstrip("/")
        body: Item = {"@odata.context": f"{base}/v1.0/$metadata#{context}", "value": rows[skip : skip + top]}
        if skip + top < len(rows):
            query = dict(request.query_params) | {"$top": str(top), "$skip": str(skip + top)}
            body["@odata.nextLink"] = f"{str(request.url).split('?')[0]}?{urlencode(query)}"
        return JSONResponse(body)

    def _calendars(self, request: Request, body: bytes) -> Response:
        if request.method == "GET":
            return self._page(request, [copy.deepcopy(c) for c in self.calendars.values()], "users('me')/calendars")
        wanted, problem = parse_body(body, require_times=False)
        name = wanted.get("name")
        if problem or not isinstance(name, str) or not name.strip():
            return problem or graph_error(400, "ErrorInvalidParameter", "The calendar name is missing.")
        if any(c["name"].lower() == name.lower() for c in self.calendars.values()):
            return graph_error(409, "ErrorFolderExists", "A folder with the specified name already exists.")
        return JSONResponse(self.add_calendar(name, hex_color=""), status_code=201)

    def _delta(self, request: Request, _: bytes) -> Response:
        q, cal = request.query_params, request.path_params["cal"]
        if cal not in self.calendars:
            return graph_error(404, *NOT_FOUND)
        base = str(request.base_url).rstrip("/")
        link = f"{base}{self.api_prefix}/calendars/{cal}/calendarView/delta"
        size = 10
        prefer = request.headers.get("prefer", "")
        if "odata.maxpagesize=" in prefer:
            size = max(1, int(prefer.split("odata.maxpagesize=")[1].split(",")[0].strip()))
        if "$skiptoken" in q:
            parked = self.skip_tokens.pop(q["$skiptoken"], None)
            if parked is None:
                return graph_error(410, "syncStateNotFound", "The sync state was not found or has expired.")
            items, next_delta = parked
        else:
            if "$deltatoken" in q:
                known = self.delta_tokens.get(q["$deltatoken"])
                if known is None or known[0] != cal:
                    return graph_error(410, "syncStateNotFound", "The sync state was not found or has expired.")
                _, start, end, seen = known
            elif "startDateTime" in q and "endDateTime" in q:
                start, end, seen = parse_instant(q["startDateTime"]), parse_instant(q["endDateTime"]), {}
            else:
                message = "This request requires a time window specified by startDateTime and endDateTime."
                return graph_error(400, "ErrorInvalidParameter", message)
            view = calendar_view([e for e in self.events.values() if e["_cal"] == cal], start, end)
            items = [item for item_id, item in view.items() if seen.get(item_id) != item["@odata.etag"]]
            gone = [i for i in seen if i not in view]
            items += [
                {"@odata.type": "#microsoft.graph.event", "id": i, "@removed": {"reason": "deleted"}} for i in gone
            ]
            next_delta = secrets.token_urlsafe(16)
            self.delta_tokens[next_delta] = (cal, start, end, {i: item["@odata.etag"] for i, item in view.items()})
        body: Item = {"@odata.context": f"{base}/v1.0/$metadata#Collection(event)", "value": items[:size]}
        if len(items) > size:
            skip = secrets.token_urlsafe(12)
            self.skip_tokens[skip] = (items[size:], next_delta)
            body["@odata.nextLink"] = f"{link}?{urlencode({'$skiptoken': skip})}"
        else:
            body["@odata.deltaLink"] = f"{link}?{urlencode({'$deltatoken': next_delta})}"
        response = JSONResponse(body)
        if prefer:
            response.headers["Preference-Applied"] = f"odata.maxpagesize={size}"
        return response

    def _create(self, request: Request, body: bytes) -> Response:
        calendar = self.calendars.get(request.path_params["cal"])
        if calendar is None:
            return graph_error(404, *NOT_FOUND)
        if not calendar["canEdit"]:
            return graph_error(403, "ErrorAccessDenied", "Access is denied. Check credentials and try again.")
        event, problem = parse_body(body, require_times=True)
        if problem:
            return problem
        retried = event.get("transactionId")
        for stored in self.events.values():  # a retried create: the event the first attempt made
            if retried and stored.get("transactionId") == retried and stored["_cal"] == calendar["id"]:
                return JSONResponse(public(stored), status_code=201)
        return JSONResponse(self.add_event(calendar["id"], event), status_code=201)

    def _instances(self, request: Request, _: bytes) -> Response:
        q, master = request.query_params, self.events.get(request.path_params["eid"])
        if master is None:
            return graph_error(404, *NOT_FOUND)
        if "startDateTime" not in q or "endDateTime" not in q:
            message = "This request requires a time window specified by startDateTime and endDateTime."
            return graph_error(400, "ErrorInvalidParameter", message)
        start, end = parse_instant(q["startDateTime"]), parse_instant(q["endDateTime"])
        rows = (
            []
            if master["type"] != "seriesMaster"
            else list(calendar_view(self.events.values(), start, end, master["id"]).values())
        )
        rows.sort(key=lambda row: instant(row["start"]))
        return self._page(request, rows, "Collection(event)")

    def _occurrence(self, event_id: str) -> Item | None:
        """The unmodified occurrence an id like `{masterId}_{start}` names, if the series has it."""
        master_id, _, stamp = event_id.rpartition("_")
        master = self.events.get(master_id)
        if master is None or master["type"] != "seriesMaster" or not re.fullmatch(r"\d{8}T\d{6}", stamp):
            return None
        moment = datetime.strptime(stamp, "%Y%m%dT%H%M%S").replace(tzinfo=UTC)
        view = calendar_view(self.events.values(), moment, moment + timedelta(seconds=1), master_id)
        return view.get(event_id)

    def _event(self, request: Request, body: bytes) -> Response:
        event_id = request.path_params["eid"]
        stored = self.events.get(event_id)
        current = public(stored) if stored is not None else self._occurrence(event_id)
        if current is None:
            return graph_error(404, *NOT_FOUND)
        if request.method != "GET" and not etag_matches(request.headers.get("if-match"), current["@odata.etag"]):
            message = "The change key passed in the request does not match the current change key for the item."
            return graph_error(412, "ErrorIrresolvableConflict", message)
        if request.method == "DELETE":
            if stored is not None:
                self.delete_event(event_id)
            else:  # an occurrence: deleting it removes that occurrence from the series
                self.cancel_occurrence(current["seriesMasterId"], current["originalStart"])
            return Response(status_code=204)
        if request.method == "PATCH":
            changes, problem = parse_body(body, require_times=False)
            if problem:
                return problem
            changes = {k: v for k, v in changes.items() if k not in IMMUTABLE}
            if stored is not None:
                return JSONResponse(self.update_event(event_id, **changes))
            master_id, original = current["seriesMasterId"], current["originalStart"]
            return JSONResponse(self.add_exception(master_id, original, event_id=event_id, **changes))
        return JSONResponse(current)
