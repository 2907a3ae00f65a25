"""Microsoft Teams as a conferencing service: an online meeting per event, made through Microsoft Graph
(https://learn.microsoft.com/graph/api/application-post-onlinemeetings) in the work or school account the person
connected on the Microsoft identity platform."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import httpx

from horae.domain.conferencing import ConferencingDetails, Meeting, Provisioned
from horae.errors import ProviderError
from horae.ports import Connection, Linked
from horae.providers.conferencing.oauth_api import OAuthApi, OAuthService, utc

SCOPE = "offline_access OnlineMeetings.ReadWrite User.Read openid email"
DEFAULTS = {
    "auth_url": "https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
    "token_url": "https://login.microsoftonline.com/common/oauth2/v2.0/token",
    "api_url": "https://graph.microsoft.com/v1.0",
}
MEETINGS = "/me/onlineMeetings"


class TeamsConferencing:
    """Teams for one app registration (options `client_id`, `client_secret`; `auth_url`, `token_url` and
    `api_url` point elsewhere for tests, proxies and national clouds). Needs the person's connection; a renewed
    token is written back into `conn.secrets`. A meeting deleted in Teams meanwhile is made again on update."""

    key = "teams"
    provider_name = "Microsoft Teams"

    def __init__(self, options: Mapping[str, str] | None = None) -> None:
        found = dict(options or {})
        service = OAuthService.from_options(self.provider_name, found, DEFAULTS, scope=SCOPE)
        self._api = OAuthApi(service, float(found.get("timeout_seconds") or 30), _graph_error)

    def close(self) -> None:
        self._api.close()

    # --- linking (OAuthLinker) ------------------------------------------------------------------------------

    def authorization_url(self, redirect_uri: str, state: str) -> str:
        return self._api.authorization_url(redirect_uri, state, {"response_mode": "query", "scope": SCOPE})

    def complete(self, code: str, redirect_uri: str) -> Linked:
        conn = Connection("", {}, self._api.exchange(code, redirect_uri))
        user = self._api.json(conn, "GET", "/me")
        email = str(user.get("mail") or user.get("userPrincipalName") or "")
        if not email:
            raise ProviderError("Microsoft did not say which account this is")
        return Linked(email, {"email": email}, conn.secrets)

    # --- meetings (ConferencingProvider) --------------------------------------------------------------------

    def create(self, conn: Connection | None, meeting: Meeting) -> Provisioned:
        return _provisioned(self._api.json(conn, "POST", MEETINGS, body=_body(meeting)))

    def update(self, conn: Connection | None, remote_id: str, meeting: Meeting) -> Provisioned:
        path = f"{MEETINGS}/{quote(remote_id, safe='')}"
        changed = self._api.call(conn, "PATCH", path, body=_body(meeting), expect=(404,))
        if changed.status_code == 404:
            return self.create(conn, meeting)  # deleted in Teams: the event still wants a meeting
        return _provisioned(self._api.json_of(changed))

    def delete(self, conn: Connection | None, remote_id: str) -> None:
        """A meeting already gone (404) counts as deleted."""
        self._api.call(conn, "DELETE", f"{MEETINGS}/{quote(remote_id, safe='')}", expect=(404,))


def _body(meeting: Meeting) -> dict[str, Any]:
    return {
        "subject": meeting.summary.strip() or "Meeting",
        "startDateTime": utc(meeting.starts_at),
        "endDateTime": utc(meeting.ends_at),
    }


def _provisioned(body: Mapping[str, Any]) -> Provisioned:
    meeting_id, join_url = str(body.get("id") or ""), str(body.get("joinWebUrl") or body.get("joinUrl") or "")
    if not meeting_id or not join_url:
        raise ProviderError("Microsoft answered without a meeting id or join URL")
    found = body.get("audioConferencing")
    audio: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
    conference = str(audio.get("conferenceId") or "")
    dial_ins = tuple(
        f"{''.join(str(audio[kind]).split())},,{conference}#" if conference else str(audio[kind])
        for kind in ("tollNumber", "tollFreeNumber")
        if audio.get(kind)
    )
    return Provisioned(meeting_id, ConferencingDetails(TeamsConferencing.provider_name, join_url, None, dial_ins))


def _graph_error(response: httpx.Response) -> tuple[str, str]:
    """Graph's `{"error": {"code": ..., "message": ...}}`."""
    try:
        found = response.json().get("error") or {}
        return str(found.get("code", "")), str(found.get("message", ""))
    except (ValueError, AttributeError):
        return "", response.text[:200]
