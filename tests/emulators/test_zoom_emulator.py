"""The Zoom emulator, exercised over real HTTP: what the provider tests do not reach on their own."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.emulators.server import serve
from tests.emulators.zoom import ZoomEmulator

REDIRECT = "http://127.0.0.1:9/callback"
APP = ("horae-zoom", "zoom-secret")
MEETING = {"topic": "Planning", "type": 2, "start_time": "2030-01-07T09:30:00Z", "duration": 45, "timezone": "UTC"}


@pytest.fixture
def zoom() -> ZoomEmulator:
    return ZoomEmulator()


@pytest.fixture
def http(zoom: ZoomEmulator) -> Iterator[httpx.Client]:
    with serve(zoom.app) as url, httpx.Client(base_url=url, timeout=10) as client:
        yield client


def code_for(http: httpx.Client) -> str:
    params = {"response_type": "code", "client_id": APP[0], "redirect_uri": REDIRECT, "state": "s1"}
    redirect = http.get("/oauth/authorize", params=params)
    assert redirect.status_code == 302
    query = parse_qs(urlsplit(redirect.headers["location"]).query)
    assert query["state"] == ["s1"]
    return query["code"][0]


def tokens(http: httpx.Client) -> dict[str, Any]:
    form = {"grant_type": "authorization_code", "code": code_for(http), "redirect_uri": REDIRECT}
    response = http.post("/oauth/token", data=form, auth=APP)
    assert response.status_code == 200, response.text
    return dict(response.json())


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_the_token_endpoint_wants_the_app_as_basic_auth(http: httpx.Client) -> None:
    form = {"grant_type": "authorization_code", "code": code_for(http), "redirect_uri": REDIRECT}
    refused = http.post("/oauth/token", data=form | {"client_id": APP[0], "client_secret": APP[1]})
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_client"


def test_a_used_refresh_token_is_spent(http: httpx.Client) -> None:
    first = tokens(http)["refresh_token"]
    renewed = http.post("/oauth/token", data={"grant_type": "refresh_token", "refresh_token": first}, auth=APP)
    assert renewed.status_code == 200 and renewed.json()["refresh_token"] != first
    again = http.post("/oauth/token", data={"grant_type": "refresh_token", "refresh_token": first}, auth=APP)
    assert again.status_code == 400 and again.json() == {"reason": "Invalid Token!", "error": "invalid_grant"}


def test_revoking_a_refresh_token(http: httpx.Client) -> None:
    refresh = tokens(http)["refresh_token"]
    assert http.post("/oauth/revoke", params={"token": refresh}, auth=APP).json() == {"status": "success"}
    assert http.post("/oauth/token", data={"grant_type": "refresh_token", "refresh_token": refresh}, auth=APP).is_error


def test_denied_consent_goes_back_with_the_error(http: httpx.Client, zoom: ZoomEmulator) -> None:
    zoom.deny_consent()
    params = {"response_type": "code", "client_id": APP[0], "redirect_uri": REDIRECT, "state": "s2"}
    query = parse_qs(urlsplit(http.get("/oauth/authorize", params=params).headers["location"]).query)
    assert query == {"state": ["s2"], "error": ["access_denied"]}


def test_meetings_are_made_read_changed_and_deleted(http: httpx.Client, zoom: ZoomEmulator) -> None:
    auth = bearer(tokens(http)["access_token"])
    made = http.post("/v2/users/me/meetings", json=MEETING, headers=auth)
    assert made.status_code == 201
    meeting_id = str(made.json()["id"])
    assert len(meeting_id) == 11 and made.json()["settings"]["global_dial_in_numbers"]
    assert http.patch(f"/v2/meetings/{meeting_id}", json={"topic": "Moved"}, headers=auth).status_code == 204
    assert http.get(f"/v2/meetings/{meeting_id}", headers=auth).json()["topic"] == "Moved"
    assert http.delete(f"/v2/meetings/{meeting_id}", headers=auth).status_code == 204
    gone = http.delete(f"/v2/meetings/{meeting_id}", headers=auth)
    assert gone.status_code == 404 and gone.json()["code"] == 3001 and zoom.meetings == {}


@pytest.mark.parametrize(
    "body",
    [{**MEETING, "duration": "long"}, {"topic": "No time", "type": 2}, {**MEETING, "start_time": "tomorrow"}],
)
def test_meetings_zoom_cannot_take_are_refused(http: httpx.Client, body: dict[str, Any]) -> None:
    refused = http.post("/v2/users/me/meetings", json=body, headers=bearer(tokens(http)["access_token"]))
    assert refused.status_code == 400 and refused.json()["code"] == 300


def test_a_bad_token_is_401_code_124(http: httpx.Client) -> None:
    refused = http.get("/v2/users/me", headers=bearer("nope"))
    assert refused.status_code == 401 and refused.json() == {"code": 124, "message": "Invalid access token."}


def test_fail_next_answers_the_status_then_recovers(http: httpx.Client, zoom: ZoomEmulator) -> None:
    auth = bearer(tokens(http)["access_token"])
    zoom.fail_next(1, status=502, retry_after=3)
    failed = http.get("/v2/users/me", headers=auth)
    assert failed.status_code == 502 and failed.headers["retry-after"] == "3"
    assert http.get("/v2/users/me", headers=auth).json()["email"] == "user@example.com"
