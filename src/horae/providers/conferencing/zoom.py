"""Zoom as a conferencing service (https://developers.zoom.us/docs/api/): a scheduled meeting per event, made in
the Zoom account the person connected through Zoom's OAuth (a user-managed app)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import httpx

from horae.domain.conferencing import ConferencingDetails, Meeting, Provisioned
from horae.errors import ProviderError
from horae.ports import Connection, Linked
from horae.providers.conferencing.oauth_api import OAuthApi, OAuthService, utc

DEFAULTS = {
    "auth_url": "https://zoom.us/oauth/authorize",
    "token_url": "https://zoom.us/oauth/token",
    "api_url": "https://api.zoom.us/v2",
}
SCHEDULED = 2  # Zoom's meeting type for a meeting at a set time
MAX_TOPIC = 200
MAX_DIAL_INS = 5  # Zoom lists every global number; an invite shows the first few
# Zoom takes IANA names but knows the UTC zone only as "UTC".
UTC_NAMES = frozenset({"Etc/UTC", "Etc/GMT", "GMT", "UTC", "Z"})


class ZoomConferencing:
    """Zoom for one OAuth app (options `client_id`, `client_secret`; `auth_url`, `token_url` and `api_url` point
    elsewhere for tests and proxies). Needs the person's connection; a renewed token is written back into
    `conn.secrets`. Meetings are kept in step with the event: an update moves and renames the meeting, and
    one deleted in Zoom meanwhile is made again."""

    key = "zoom"
    provider_name = "Zoom"

    def __init__(self, options: Mapping[str, str] | None = None) -> None:
        found = dict(options or {})
        service = OAuthService.from_options(self.provider_name, found, DEFAULTS, basic_auth=True)
        self._api = OAuthApi(service, float(found.get("timeout_seconds") or 20), _zoom_error)

    def close(self) -> None:
        self._api.close()

    # --- linking (OAuthLinker) ------------------------------------------------------------------------------

    def authorization_url(self, redirect_uri: str, state: str) -> str:
        return self._api.authorization_url(redirect_uri, state)  # scopes are the app's, set in the Marketplace

    def complete(self, code: str, redirect_uri: str) -> Linked:
        conn = Connection("", {}, self._api.exchange(code, redirect_uri))
        user = self._api.json(conn, "GET", "/users/me")
        email = str(user.get("email") or "")
        if not email:
            raise ProviderError("Zoom did not say which account this is")
        settings = {"email": email} | ({"user_id": str(user["id"])} if user.get("id") else {})
        return Linked(email, settings, conn.secrets)

    # --- meetings (ConferencingProvider) --------------------------------------------------------------------

    def create(self, conn: Connection | None, meeting: Meeting) -> Provisioned:
        made = self._api.call(conn, "POST", "/users/me/meetings", body=_body(meeting))
        return _provisioned(self._api.json_of(made))

    def update(self, conn: Connection | None, remote_id: str, meeting: Meeting) -> Provisioned:
        """PATCH answers 204 without a body, so the meeting is read again for its details."""
        path = f"/meetings/{quote(remote_id, safe='')}"
        if self._api.call(conn, "PATCH", path, body=_body(meeting), expect=(404,)).status_code == 404:
            return self.create(conn, meeting)  # deleted in Zoom: the event still wants a meeting
        found = self._api.call(conn, "GET", path, expect=(404,))
        if found.status_code == 404:
            return self.create(conn, meeting)
        return _provisioned(self._api.json_of(found))

    def delete(self, conn: Connection | None, remote_id: str) -> None:
        """A meeting already gone (404) counts as deleted."""
        self._api.call(conn, "DELETE", f"/meetings/{quote(remote_id, safe='')}", expect=(404,))


def _body(meeting: Meeting) -> dict[str, Any]:
    minutes = max(1, math.ceil((meeting.ends_at - meeting.starts_at).total_seconds() / 60))
    return {
        "topic": (meeting.summary.strip() or "Meeting")[:MAX_TOPIC],
        "type": SCHEDULED,
        "start_time": utc(meeting.starts_at),  # with `Z`, Zoom reads it as UTC; `timezone` is for display
        "duration": minutes,
        "timezone": "UTC" if meeting.tzid in UTC_NAMES else meeting.tzid,
    }


def _provisioned(body: Mapping[str, Any]) -> Provisioned:
    meeting_id, join_url = str(body.get("id") or ""), str(body.get("join_url") or "")
    if not meeting_id or not join_url:
        raise ProviderError("Zoom answered without a meeting id or join URL")
    found = body.get("settings")
    settings: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
    numbers = [n for n in settings.get("global_dial_in_numbers") or [] if isinstance(n, Mapping) and n.get("number")]
    pstn = str(body.get("pstn_password") or "")
    dial_ins = tuple(_dial_in(n, meeting_id, pstn) for n in numbers[:MAX_DIAL_INS])
    passcode = str(body.get("password") or "") or None
    return Provisioned(meeting_id, ConferencingDetails(ZoomConferencing.provider_name, join_url, passcode, dial_ins))


def _dial_in(number: Mapping[str, Any], meeting_id: str, pstn: str) -> str:
    """A one-tap dial string (number, meeting id, phone passcode), with where the number is: no words, so the
    invite block's language is not mixed."""
    tap = f"{''.join(str(number['number']).split())},,{meeting_id}#" + (f",,,,*{pstn}#" if pstn else "")
    where = ", ".join(str(number[k]) for k in ("country_name", "city") if number.get(k))
    return f"{tap} ({where})" if where else tap


def _zoom_error(response: httpx.Response) -> tuple[str, str]:
    """Zoom's `{"code": 3001, "message": "Meeting does not exist: ..."}`."""
    try:
        found = response.json()
    except ValueError:
        return "", response.text[:200]
    if not isinstance(found, dict):
        return "", ""
    return str(found.get("code") or ""), str(found.get("message") or "")
