"""An in-memory emulator of the Microsoft identity platform and the parts of Microsoft Graph v1.0 Horae uses.

Mirrors https://learn.microsoft.com/graph/delta-query-events, https://learn.microsoft.com/graph/api/event-delta,
https://learn.microsoft.com/graph/errors, https://learn.microsoft.com/graph/throttling and
https://learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow. calendarView delta expands series
into `occurrence` items (exceptions replace theirs); series masters are only reachable as `/me/events/{id}`.
"""

from __future__ import annotations

import copy
import json
import secrets
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from tests.emulators.common import EmulatorBase, Grant, new_id, parse_instant, query_int
from tests.emulators.graph_recurrence import occurrence_starts

AUTH_MESSAGES = {
    "missing": "Access token is empty.",
    "expired": "Lifetime validation failed, the token is expired.",
    "invalid": "IDX14100: JWT is not well formed, there are no dots (.).",
}
READ_ONLY = {"id", "iCalUId", "changeKey", "@odata.etag", "type", "createdDateTime", "lastModifiedDateTime"}
Item = dict[str, Any]


def graph_error(status: int, code: str, message: str) -> JSONResponse:
    """Graph's error body: `{"error": {"code", "message", "innerError": {date, request-id, client-request-id}}}`."""
    rid = str(uuid.uuid4())
    inner = {"date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S"), "request-id": rid, "client-request-id": rid}
    return JSONResponse({"error": {"code": code, "message": message, "innerError": inner}}, status_code=status)


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


def graph_time(moment: datetime) -> dict[str, str]:
    return {"dateTime": moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.0000000"), "timeZone": "UTC"}


def instant(value: dict[str, str]) -> datetime:
    return parse_instant(value["dateTime"], value.get("timeZone"))


class GraphEmulator(EmulatorBase):
    """Identity platform + Graph state; `app` is the Starlette app to serve, the other methods are test controls."""

    def __init__(self, client_id: str = "horae-client", client_secret: str = "horae-secret") -> None:
        super().__init__(client_id, client_secret)
        self.calendars: dict[str, Item] = {}
        self.events: dict[str, Item] = {}
        self.delta_tokens: dict[str, tuple[str, datetime, datetime, dict[str, str]]] = {}
        self.skip_tokens: dict[str, tuple[list[Item], str]] = {}
        self.default_calendar_id = self.add_calendar("Calendar", is_default=True)["id"]
        me = "/v1.0/me"
        self.app = Starlette(
            routes=[
                Route("/{tenant}/oauth2/v2.0/authorize", self._authorize, methods=["GET"]),
                Route("/{tenant}/oauth2/v2.0/token", self._token, methods=["POST"]),
                Route(f"{me}/calendars", self._api(self._list_calendars), methods=["GET"]),
                Route(f"{me}/calendars/{{cal}}/calendarView/delta", self._api(self._delta), methods=["GET"]),
                Route(f"{me}/calendars/{{cal}}/events", self._api(self._create), methods=["POST"]),
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
                "owner": {"name": "Test User", "address": "user@example.com"},
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
            return self._public(stored)

    def update_event(self, event_id: str, **changes: Any) -> Item:
        with self.lock:
            stored = self.events[event_id]
            self._apply(stored, changes)
            return self._public(stored)

    def delete_event(self, event_id: str) -> None:
        """Delete an event directly; deleting a series master takes its exceptions with it."""
        with self.lock:
            self.events.pop(event_id)
            for other in [e for e in self.events.values() if e["seriesMasterId"] == event_id]:
                self.events.pop(other["id"])

    def cancel_occurrence(self, master_id: str, original_start: str) -> None:
        """Remove one occurrence of a series (by its original start); it disappears from calendarView."""
        with self.lock:
            master = self.events[master_id]
            master["_exdates"].add(parse_instant(original_start))
            self._apply(master, {})

    def add_exception(self, master_id: str, original_start: str, **changes: Any) -> Item:
        """Modify one occurrence of a series: stored as an `exception` that replaces that occurrence."""
        with self.lock:
            master = self.events[master_id]
            start = parse_instant(original_start)
            duration = instant(master["end"]) - instant(master["start"])
            base = {k: v for k, v in self._public(master).items() if k not in READ_ONLY | {"recurrence"}}
            base |= {"start": graph_time(start), "end": graph_time(start + duration)} | changes
            exception = self.add_event(master["_cal"], base)
            stored = self.events[exception["id"]]
            self._apply(stored, {"type": "exception", "seriesMasterId": master_id, "originalStart": graph_time(start)})
            return self._public(stored)

    def get_event(self, event_id: str) -> Item | None:
        with self.lock:
            stored = self.events.get(event_id)
            return self._public(stored) if stored else None

    def invalidate_delta_tokens(self) -> None:
        """Forget every delta token: following an old deltaLink answers 410 syncStateNotFound."""
        with self.lock:
            self.delta_tokens.clear()

    # -- plumbing ------------------------------------------------------------------------------------------
    def _apply(self, stored: Item, changes: Item) -> None:
        for edge in ("start", "end"):
            if edge in changes and not changes.get("isAllDay", stored["isAllDay"]):
                changes[edge] = graph_time(instant(changes[edge]))
                changes.setdefault(f"original{edge.title()}TimeZone", "UTC")
        stored.update(changes)
        stored["changeKey"] = secrets.token_urlsafe(12)
        stored["@odata.etag"] = f'W/"{stored["changeKey"]}"'
        stored["lastModifiedDateTime"] = datetime.now(UTC).isoformat().replace("+00:00", "Z")

    @staticmethod
    def _public(stored: Item) -> Item:
        return copy.deepcopy({k: v for k, v in stored.items() if not k.startswith("_")})

    def _api(self, handler: Any) -> Any:
        async def endpoint(request: Request) -> Response:
            body = await request.body()
            with self.lock:
                self.log(request)
                if self.throttle_state.take():
                    response = graph_error(429, "TooManyRequests", "Too many requests. Please try again later.")
                    response.headers["Retry-After"] = str(self.throttle_state.retry_after)
                    return response
                status = self.tokens.access_status(request)
                if status != "ok":
                    return graph_error(401, "InvalidAuthenticationToken", AUTH_MESSAGES[status])
                result: Response = handler(request, body)
                return result

        return endpoint

    def _view(self, cal: str, start: datetime, end: datetime) -> dict[str, Item]:
        """The calendarView of [start, end): single instances, occurrences and exceptions, by id."""
        view: dict[str, Item] = {}
        mine = [e for e in self.events.values() if e["_cal"] == cal]
        for stored in mine:
            if stored["type"] == "seriesMaster":
                first = instant(stored["start"])
                duration = instant(stored["end"]) - first
                moved = {instant(e["originalStart"]) for e in mine if e["seriesMasterId"] == stored["id"]}
                for begin in occurrence_starts(stored["recurrence"], first, (start, end)):
                    if begin in stored["_exdates"] or begin in moved or begin + duration <= start:
                        continue
                    occurrence = {k: v for k, v in self._public(stored).items() if k != "recurrence"}
                    stamp = begin.astimezone(UTC).strftime("%Y%m%dT%H%M%S")
                    occurrence |= {
                        "id": f"{stored['id']}_{stamp}",
                        "type": "occurrence",
                        "seriesMasterId": stored["id"],
                    }
                    occurrence |= {"start": graph_time(begin), "end": graph_time(begin + duration), "recurrence": None}
                    occurrence["iCalUId"] = f"{stored['iCalUId']}{stamp}"
                    view[occurrence["id"]] = occurrence
            elif instant(stored["start"]) < end and instant(stored["end"]) > start:
                view[stored["id"]] = self._public(stored)
        return view

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

    # -- Graph ---------------------------------------------------------------------------------------------
    def _list_calendars(self, request: Request, _: bytes) -> Response:
        top = query_int(request, "$top", 10, 1000)
        skip = int(request.query_params.get("$skip", "0"))
        rows = [copy.deepcopy(c) for c in self.calendars.values()]
        base = str(request.base_url).rstrip("/")
        body: Item = {
            "@odata.context": f"{base}/v1.0/$metadata#users('me')/calendars",
            "value": rows[skip : skip + top],
        }
        if skip + top < len(rows):
            body["@odata.nextLink"] = f"{base}/v1.0/me/calendars?{urlencode({'$top': top, '$skip': skip + top})}"
        return JSONResponse(body)

    def _delta(self, request: Request, _: bytes) -> Response:
        q, cal = request.query_params, request.path_params["cal"]
        if cal not in self.calendars:
            return graph_error(404, "ErrorItemNotFound", "The specified object was not found in the store.")
        link = f"{str(request.base_url).rstrip('/')}/v1.0/me/calendars/{cal}/calendarView/delta"
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
            view = self._view(cal, start, end)
            items = [item for item_id, item in view.items() if seen.get(item_id) != item["@odata.etag"]]
            gone = [i for i in seen if i not in view]
            items += [
                {"@odata.type": "#microsoft.graph.event", "id": i, "@removed": {"reason": "deleted"}} for i in gone
            ]
            next_delta = secrets.token_urlsafe(16)
            self.delta_tokens[next_delta] = (cal, start, end, {i: item["@odata.etag"] for i, item in view.items()})
        body: Item = {"@odata.context": f"{link.split('/me/')[0]}/$metadata#Collection(event)", "value": items[:size]}
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
            return graph_error(404, "ErrorItemNotFound", "The specified object was not found in the store.")
        if not calendar["canEdit"]:
            return graph_error(403, "ErrorAccessDenied", "Access is denied. Check credentials and try again.")
        event, problem = _parse(body, require_times=True)
        if problem:
            return problem
        return JSONResponse(self.add_event(calendar["id"], event), status_code=201)

    def _event(self, request: Request, body: bytes) -> Response:
        event_id = request.path_params["eid"]
        master_id, _, stamp = event_id.rpartition("_")
        if request.method == "DELETE" and event_id not in self.events and master_id in self.events:
            try:  # an occurrence id (`{masterId}_{start}`): deleting it removes that occurrence from the series
                moment = datetime.strptime(stamp, "%Y%m%dT%H%M%S").replace(tzinfo=UTC)
            except ValueError:
                moment = None
            if moment is not None:
                self.cancel_occurrence(master_id, moment.isoformat())
                return Response(status_code=204)
        stored = self.events.get(event_id)
        if stored is None:
            return graph_error(404, "ErrorItemNotFound", "The specified object was not found in the store.")
        if request.method == "DELETE":
            self.delete_event(event_id)
            return Response(status_code=204)
        if request.method == "PATCH":
            changes, problem = _parse(body, require_times=False)
            if problem:
                return problem
            return JSONResponse(self.update_event(event_id, **{k: v for k, v in changes.items() if k not in READ_ONLY}))
        return JSONResponse(self._public(stored))


def _parse(body: bytes, *, require_times: bool) -> tuple[Item, JSONResponse | None]:
    try:
        event = json.loads(body or b"{}")
    except ValueError:
        event = None
    if not isinstance(event, dict):
        return {}, graph_error(400, "BadRequest", "Unable to read JSON request payload.")
    for edge in ("start", "end"):
        value = event.get(edge)
        if (require_times or edge in event) and not (isinstance(value, dict) and value.get("dateTime")):
            return {}, graph_error(400, "ErrorInvalidRequest", f"The {edge} time of the event is missing or invalid.")
    return event, None
