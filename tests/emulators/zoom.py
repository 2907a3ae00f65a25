"""An in-memory emulator of Zoom's OAuth (user-managed app) and the meeting endpoints Horae uses.

Mirrors https://developers.zoom.us/docs/integrations/oauth/ and https://developers.zoom.us/docs/api/meetings/:
`/oauth/authorize` redirects back with a code, `/oauth/token` takes the app's credentials as HTTP Basic and rotates
refresh tokens (a used one stops working), `/oauth/revoke` revokes a token. `/v2/users/me`, and meetings:
POST `/v2/users/me/meetings` (201 with the meeting), GET, PATCH (204) and DELETE (204) `/v2/meetings/{id}`, 404 with
code 3001 for an unknown meeting. API errors are `{"code", "message"}`; a bad token is 401 code 124.
"""

from __future__ import annotations

import base64
import copy
import json
import secrets
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from tests.emulators.common import EmulatorBase, Grant, Throttle, new_id, parse_instant

Item = dict[str, Any]
DIAL_IN_NUMBERS = (
    {"country": "US", "country_name": "US", "city": "New York", "number": "+1 646 558 8656", "type": "toll"},
    {"country": "DE", "country_name": "Germany", "number": "+49 69 5050 2596", "type": "toll"},
)
EDITABLE = ("topic", "start_time", "duration", "timezone", "agenda", "type")


def zoom_error(status: int, code: int, message: str) -> JSONResponse:
    return JSONResponse({"code": code, "message": message}, status_code=status)


def oauth_error(status: int, error: str, reason: str) -> JSONResponse:
    """The token endpoint's refusal: `{"reason": ..., "error": ...}`."""
    return JSONResponse({"reason": reason, "error": error}, status_code=status)


class ZoomEmulator(EmulatorBase):
    """Zoom OAuth + meetings state; `app` is the Starlette app to serve, the other methods are test controls.
    `meetings` maps a meeting id (as a string) to the stored meeting."""

    def __init__(
        self, client_id: str = "horae-zoom", client_secret: str = "zoom-secret", *, user_email: str = "user@example.com"
    ) -> None:
        super().__init__(client_id, client_secret)
        self.user: Item = {"id": new_id(), "first_name": "Test", "last_name": "User", "email": user_email}
        self.user |= {"type": 2, "timezone": "UTC", "status": "active"}
        self.meetings: dict[str, Item] = {}
        self.failures, self.failure_status = Throttle(), 503
        self.failure_retry: int | None = None
        self.app = Starlette(
            routes=[
                Route("/oauth/authorize", self._authorize, methods=["GET"]),
                Route("/oauth/token", self._token, methods=["POST"]),
                Route("/oauth/revoke", self._revoke, methods=["POST"]),
                Route(
                    "/v2/users/me", self._api(lambda _r, _b: JSONResponse(copy.deepcopy(self.user))), methods=["GET"]
                ),
                Route("/v2/users/me/meetings", self._api(self._create), methods=["POST"]),
                Route("/v2/meetings/{mid}", self._api(self._meeting), methods=["GET", "PATCH", "DELETE"]),
            ]
        )

    # -- test controls -------------------------------------------------------------------------------------
    def fail_next(self, count: int, status: int = 503, retry_after: int | None = None) -> None:
        """Make the next `count` API calls (not the OAuth endpoints) answer `status`, with `Retry-After` when given."""
        with self.lock:
            self.failures, self.failure_status, self.failure_retry = Throttle(count), status, retry_after

    def delete_meeting(self, meeting_id: str) -> None:
        """Delete a meeting directly, as if its host removed it in Zoom."""
        with self.lock:
            self.meetings.pop(meeting_id, None)

    # -- plumbing ------------------------------------------------------------------------------------------
    def _api(self, handler: Any) -> Any:
        async def endpoint(request: Request) -> Response:
            body = await request.body()
            with self.lock:
                self.log(request)
                if self.throttle_state.take():
                    response = zoom_error(429, 429, "You have reached the maximum per-second rate limit for this API.")
                    response.headers["Retry-After"] = str(self.throttle_state.retry_after)
                    return response
                if self.failures.take():
                    response = zoom_error(self.failure_status, self.failure_status, "Service unavailable.")
                    if self.failure_retry is not None:
                        response.headers["Retry-After"] = str(self.failure_retry)
                    return response
                if self.tokens.access_status(request) != "ok":
                    return zoom_error(401, 124, "Invalid access token.")
                result: Response = handler(request, body)
                return result

        return endpoint

    def _client_ok(self, request: Request) -> bool:
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        try:
            given = base64.b64decode(encoded).decode()
        except ValueError:
            return False
        return scheme.lower() == "basic" and given == f"{self.client_id}:{self.client_secret}"

    # -- OAuth ---------------------------------------------------------------------------------------------
    async def _authorize(self, request: Request) -> Response:
        q = request.query_params
        with self.lock:
            self.log(request)
            if q.get("client_id") != self.client_id or q.get("response_type") != "code" or not q.get("redirect_uri"):
                return Response("Invalid client_id or redirect_uri (4700).", status_code=400)
            params = {"state": q.get("state", "")}
            if self.consent_error:
                params["error"] = self.consent_error
            else:
                params["code"] = self.tokens.issue_code(Grant(self.client_id, q["redirect_uri"], "meeting:write"))
        sep = "&" if "?" in q["redirect_uri"] else "?"
        return RedirectResponse(q["redirect_uri"] + sep + urlencode(params), status_code=302)

    async def _token(self, request: Request) -> Response:
        form = await request.form()
        with self.lock:
            self.log(request)
            if not self._client_ok(request):
                return oauth_error(401, "invalid_client", "Invalid client_id or client_secret")
            grant_type = form.get("grant_type")
            if grant_type == "authorization_code":
                code = str(form.get("code", ""))
                grant = self.tokens.redeem_code(code)
                if grant is None:
                    return oauth_error(400, "invalid_request", f"Invalid authorization code {code}")
                if form.get("redirect_uri") != grant.redirect_uri:
                    return oauth_error(400, "invalid_request", "Redirect URI mismatch.")
            elif grant_type == "refresh_token":
                used = str(form.get("refresh_token", ""))
                found = self.tokens.grant_for_refresh(used)
                if found is None:
                    return oauth_error(400, "invalid_grant", "Invalid Token!")
                grant = found
                self.tokens.revoke(used)  # Zoom rotates refresh tokens: the one just used is spent
            else:
                return oauth_error(400, "unsupported_grant_type", "Unsupported grant type")
            return JSONResponse(
                {
                    "access_token": self.tokens.issue_access(),
                    "token_type": "bearer",
                    "refresh_token": self.tokens.issue_refresh(grant),
                    "expires_in": self.tokens.access_ttl,
                    "scope": grant.scope,
                }
            )

    async def _revoke(self, request: Request) -> Response:
        form = await request.form()
        with self.lock:
            self.log(request)
            if not self._client_ok(request):
                return oauth_error(401, "invalid_client", "Invalid client_id or client_secret")
            token = str(request.query_params.get("token") or form.get("token") or "")
            if token in self.tokens.refresh_tokens:
                self.tokens.revoke(token)
            elif token in self.tokens.access_tokens:
                self.tokens.access_tokens.pop(token)
            else:
                return oauth_error(400, "invalid_request", "Invalid Token!")
            return JSONResponse({"status": "success"})

    # -- meetings ------------------------------------------------------------------------------------------
    def _create(self, request: Request, body: bytes) -> Response:
        wanted, problem = _parse(body)
        if problem:
            return problem
        meeting_id = str(secrets.randbelow(9 * 10**10) + 10**10)  # 11 digits, as Zoom's are
        password = secrets.token_urlsafe(6)[:8]
        base = str(request.base_url).rstrip("/")
        stored: Item = {
            "uuid": base64.b64encode(secrets.token_bytes(16)).decode(),
            "id": int(meeting_id),
            "host_id": self.user["id"],
            "host_email": self.user["email"],
            "topic": "Zoom Meeting",
            "type": 2,
            "status": "waiting",
            "timezone": "UTC",
            "created_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "start_url": f"{base}/s/{meeting_id}?zak={secrets.token_urlsafe(12)}",
            "join_url": f"{base}/j/{meeting_id}?pwd={secrets.token_urlsafe(16)}",
            "password": password,
            "h323_password": str(secrets.randbelow(10**6)).zfill(6),
            "pstn_password": str(secrets.randbelow(10**6)).zfill(6),
            "settings": {"join_before_host": False, "global_dial_in_numbers": [dict(n) for n in DIAL_IN_NUMBERS]},
            "pre_schedule": False,
        }
        stored |= {k: wanted[k] for k in EDITABLE if k in wanted}
        self.meetings[meeting_id] = stored
        return JSONResponse(copy.deepcopy(stored), status_code=201)

    def _meeting(self, request: Request, body: bytes) -> Response:
        meeting_id = request.path_params["mid"]
        stored = self.meetings.get(meeting_id)
        if stored is None:
            return zoom_error(404, 3001, f"Meeting does not exist: {meeting_id}.")
        if request.method == "DELETE":
            del self.meetings[meeting_id]
            return Response(status_code=204)
        if request.method == "PATCH":
            wanted, problem = _parse(body, creating=False)
            if problem:
                return problem
            stored.update({k: wanted[k] for k in EDITABLE if k in wanted})
            return Response(status_code=204)
        return JSONResponse(copy.deepcopy(stored))


def _parse(body: bytes, creating: bool = True) -> tuple[Item, Response | None]:
    """A meeting body, checked as Zoom checks it (400 code 300 for a field it cannot take)."""
    try:
        wanted = json.loads(body or b"{}")
    except ValueError:
        return {}, zoom_error(400, 300, "Request Body should be a valid JSON object.")
    if not isinstance(wanted, dict):
        return {}, zoom_error(400, 300, "Request Body should be a valid JSON object.")
    if "topic" in wanted and (not isinstance(wanted["topic"], str) or len(wanted["topic"]) > 200):
        return {}, zoom_error(400, 300, "Invalid field: topic.")
    if "duration" in wanted and (not isinstance(wanted["duration"], int) or wanted["duration"] < 0):
        return {}, zoom_error(400, 300, "Invalid field: duration.")
    if creating and wanted.get("type", 2) == 2 and "start_time" not in wanted:
        return {}, zoom_error(400, 300, "start_time is required for a scheduled meeting.")
    if "start_time" in wanted:
        try:
            parse_instant(str(wanted["start_time"]))
        except ValueError:
            return {}, zoom_error(400, 300, "Invalid field: start_time.")
    return wanted, None
