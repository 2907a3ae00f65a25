"""An in-memory emulator of the Microsoft identity platform and Graph's online meetings, for Microsoft Teams.

Mirrors https://learn.microsoft.com/graph/api/application-post-onlinemeetings, onlinemeeting-update (PATCH answers
200 with the meeting), onlinemeeting-delete (204) and https://learn.microsoft.com/graph/errors. The identity
platform part answers like tests/emulators/microsoft.py (AADSTS errors, rotated refresh tokens). Also `/v1.0/me`
and POST `/v1.0/me/revokeSignInSessions`, which revokes every refresh token issued.
"""

from __future__ import annotations

import base64
import copy
import json
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from tests.emulators.common import EmulatorBase, Grant, Throttle, new_id, parse_instant
from tests.emulators.graph_recurrence import graph_error
from tests.emulators.microsoft import AUTH_MESSAGES, aad_error

Item = dict[str, Any]
NOT_FOUND = ("NotFound", "The meeting was not found.")
EDITABLE = ("subject", "startDateTime", "endDateTime")


def graph_instant(moment: datetime) -> str:
    """Graph's style for meeting times: UTC with 7 fractional digits."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"


class TeamsEmulator(EmulatorBase):
    """Identity platform + online meetings; `app` is the Starlette app to serve, the other methods are test
    controls. `meetings` maps a meeting id to the stored onlineMeeting."""

    def __init__(
        self,
        client_id: str = "horae-teams",
        client_secret: str = "teams-secret",
        *,
        user_email: str = "user@example.com",
    ) -> None:
        super().__init__(client_id, client_secret)
        self.user: Item = {"id": str(uuid.uuid4()), "displayName": "Test User", "mail": user_email}
        self.user["userPrincipalName"] = user_email
        self.meetings: dict[str, Item] = {}
        self.failures, self.failure_status = Throttle(), 503
        self.failure_retry: int | None = None
        self.app = Starlette(
            routes=[
                Route("/{tenant}/oauth2/v2.0/authorize", self._authorize, methods=["GET"]),
                Route("/{tenant}/oauth2/v2.0/token", self._token, methods=["POST"]),
                Route("/v1.0/me", self._api(lambda _r, _b: JSONResponse(copy.deepcopy(self.user))), methods=["GET"]),
                Route("/v1.0/me/revokeSignInSessions", self._api(self._revoke_sessions), methods=["POST"]),
                Route("/v1.0/me/onlineMeetings", self._api(self._create), methods=["POST"]),
                Route("/v1.0/me/onlineMeetings/{mid}", self._api(self._meeting), methods=["GET", "PATCH", "DELETE"]),
            ]
        )

    # -- test controls -------------------------------------------------------------------------------------
    def fail_next(self, count: int, status: int = 503, retry_after: int | None = None) -> None:
        """Make the next `count` Graph calls (not the identity platform) answer `status`, with `Retry-After` when
        given."""
        with self.lock:
            self.failures, self.failure_status, self.failure_retry = Throttle(count), status, retry_after

    def delete_meeting(self, meeting_id: str) -> None:
        """Delete a meeting directly, as if its organizer removed it in Teams."""
        with self.lock:
            self.meetings.pop(meeting_id, None)

    # -- plumbing ------------------------------------------------------------------------------------------
    def _api(self, handler: Any) -> Any:
        async def endpoint(request: Request) -> Response:
            body = await request.body()
            with self.lock:
                self.log(request)
                if self.throttle_state.take():
                    response = graph_error(429, "TooManyRequests", "Too many requests. Please try again later.")
                    response.headers["Retry-After"] = str(self.throttle_state.retry_after)
                    return response
                if self.failures.take():
                    response = graph_error(self.failure_status, "ServiceNotAvailable", "The service is unavailable.")
                    if self.failure_retry is not None:
                        response.headers["Retry-After"] = str(self.failure_retry)
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

    # -- Graph ---------------------------------------------------------------------------------------------
    def _revoke_sessions(self, _request: Request, _body: bytes) -> Response:
        self.tokens.revoke()
        return JSONResponse({"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#Edm.Boolean", "value": True})

    def _create(self, request: Request, body: bytes) -> Response:
        wanted, problem = _parse(body)
        if problem:
            return problem
        now = datetime.now(UTC)
        meeting_id = base64.urlsafe_b64encode(secrets.token_bytes(30)).decode().rstrip("=")
        thread = f"19:meeting_{secrets.token_urlsafe(24)}@thread.v2"
        base = str(request.base_url).rstrip("/")
        stored: Item = {
            "@odata.context": f"{base}/v1.0/$metadata#users('{self.user['id']}')/onlineMeetings/$entity",
            "id": meeting_id,
            "creationDateTime": graph_instant(now),
            "startDateTime": graph_instant(now),
            "endDateTime": graph_instant(now + timedelta(hours=1)),
            "joinWebUrl": f"{base}/l/meetup-join/{thread}/0?context=%7b%22Tid%22%3a%22{uuid.uuid4()}%22%7d",
            "subject": None,
            "isBroadcast": False,
            "autoAdmittedUsers": "everyoneInCompany",
            "audioConferencing": {
                "tollNumber": "+1 425 555 0123",
                "tollFreeNumber": "+1 800 555 0199",
                "conferenceId": str(secrets.randbelow(9 * 10**8) + 10**8),
                "dialinUrl": f"{base}/dialin/{new_id()}",
            },
            "joinMeetingIdSettings": {
                "isPasscodeRequired": True,
                "joinMeetingId": str(secrets.randbelow(9 * 10**11) + 10**11),
                "passcode": secrets.token_urlsafe(6)[:6],
            },
            "chatInfo": {"threadId": thread, "messageId": "0", "replyChainMessageId": None},
            "participants": {"organizer": {"upn": self.user["mail"], "role": "presenter"}, "attendees": []},
        }
        stored |= {k: wanted[k] for k in EDITABLE if k in wanted}
        self.meetings[meeting_id] = stored
        return JSONResponse(copy.deepcopy(stored), status_code=201)

    def _meeting(self, request: Request, body: bytes) -> Response:
        meeting_id = request.path_params["mid"]
        stored = self.meetings.get(meeting_id)
        if stored is None:
            return graph_error(404, *NOT_FOUND)
        if request.method == "DELETE":
            del self.meetings[meeting_id]
            return Response(status_code=204)
        if request.method == "PATCH":
            wanted, problem = _parse(body)
            if problem:
                return problem
            stored.update({k: wanted[k] for k in EDITABLE if k in wanted})
        return JSONResponse(copy.deepcopy(stored))


def _parse(body: bytes) -> tuple[Item, Response | None]:
    """A meeting body as Graph checks it; times are kept in Graph's UTC style."""
    try:
        wanted = json.loads(body or b"{}")
    except ValueError:
        return {}, graph_error(400, "BadRequest", "Unable to read JSON request payload.")
    if not isinstance(wanted, dict):
        return {}, graph_error(400, "BadRequest", "Unable to read JSON request payload.")
    if "subject" in wanted and not isinstance(wanted["subject"], str | None):
        return {}, graph_error(400, "BadRequest", "Invalid value for subject.")
    for edge in ("startDateTime", "endDateTime"):
        if edge in wanted:
            try:
                wanted[edge] = graph_instant(parse_instant(str(wanted[edge])))
            except ValueError:
                return {}, graph_error(400, "BadRequest", f"Invalid value for {edge}.")
    start, end = wanted.get("startDateTime"), wanted.get("endDateTime")
    if start and end and parse_instant(end) < parse_instant(start):
        return {}, graph_error(400, "BadRequest", "The end of the meeting must be after its start.")
    return wanted, None
