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

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.emulators.common import Throttle as Outage
from tests.emulators.common import new_id, parse_instant
from tests.emulators.graph_recurrence import graph_error
from tests.emulators.microsoft import IdentityPlatform

Item = dict[str, Any]
NOT_FOUND = ("NotFound", "The meeting was not found.")
EDITABLE = ("subject", "startDateTime", "endDateTime")


def graph_instant(moment: datetime) -> str:
    """Graph's style for meeting times: UTC with 7 fractional digits."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"


class TeamsEmulator(IdentityPlatform):
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
            self.outage_state, self.outage_status, self.outage_retry = Outage(count), status, retry_after

    def delete_meeting(self, meeting_id: str) -> None:
        """Delete a meeting directly, as if its organizer removed it in Teams."""
        with self.lock:
            self.meetings.pop(meeting_id, None)

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
