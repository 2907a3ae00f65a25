"""The Microsoft Teams (Graph online meetings) emulator, exercised over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.emulators.common import parse_instant
from tests.emulators.server import serve
from tests.emulators.teams import TeamsEmulator

REDIRECT = "http://127.0.0.1:9/callback"
CREDS = {"client_id": "horae-teams", "client_secret": "teams-secret"}
MEETING = {"subject": "Planning", "startDateTime": "2030-01-07T09:30:00Z", "endDateTime": "2030-01-07T10:15:00Z"}


@pytest.fixture
def teams() -> TeamsEmulator:
    return TeamsEmulator()


@pytest.fixture
def http(teams: TeamsEmulator) -> Iterator[httpx.Client]:
    with serve(teams.app) as url, httpx.Client(base_url=url, timeout=10) as client:
        yield client


def tokens(http: httpx.Client) -> dict[str, Any]:
    params = {"client_id": CREDS["client_id"], "redirect_uri": REDIRECT, "state": "s1", "scope": "User.Read"}
    redirect = http.get("/common/oauth2/v2.0/authorize", params=params)
    assert redirect.status_code == 302
    code = parse_qs(urlsplit(redirect.headers["location"]).query)["code"][0]
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT} | CREDS
    response = http.post("/common/oauth2/v2.0/token", data=form)
    assert response.status_code == 200, response.text
    return dict(response.json())


@pytest.fixture
def authed(http: httpx.Client) -> httpx.Client:
    http.headers["Authorization"] = f"Bearer {tokens(http)['access_token']}"
    return http


def test_meetings_are_made_changed_and_deleted(authed: httpx.Client, teams: TeamsEmulator) -> None:
    made = authed.post("/v1.0/me/onlineMeetings", json=MEETING)
    assert made.status_code == 201
    body = made.json()
    assert body["joinWebUrl"] and body["audioConferencing"]["conferenceId"]
    assert parse_instant(body["startDateTime"]) == parse_instant(MEETING["startDateTime"])
    path = f"/v1.0/me/onlineMeetings/{body['id']}"
    changed = authed.patch(path, json={"subject": "Moved", "endDateTime": "2030-01-07T11:00:00+01:00"})
    assert changed.status_code == 200 and changed.json()["subject"] == "Moved"
    assert parse_instant(changed.json()["endDateTime"]) == parse_instant("2030-01-07T10:00:00Z")
    assert authed.delete(path).status_code == 204
    gone = authed.get(path)
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "NotFound" and teams.meetings == {}


def test_a_meeting_without_times_starts_now_for_an_hour(authed: httpx.Client) -> None:
    body = authed.post("/v1.0/me/onlineMeetings", json={}).json()
    start, end = parse_instant(body["startDateTime"]), parse_instant(body["endDateTime"])
    assert (end - start).total_seconds() == 3600 and body["subject"] is None


@pytest.mark.parametrize(
    "body",
    [{"startDateTime": "soon"}, {**MEETING, "endDateTime": "2030-01-07T08:00:00Z"}, {"subject": 5}],
)
def test_meetings_graph_cannot_take_are_refused(authed: httpx.Client, body: dict[str, Any]) -> None:
    refused = authed.post("/v1.0/me/onlineMeetings", json=body)
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "BadRequest"


def test_revoking_sign_in_sessions_spends_every_refresh_token(http: httpx.Client) -> None:
    found = tokens(http)
    http.headers["Authorization"] = f"Bearer {found['access_token']}"
    assert http.post("/v1.0/me/revokeSignInSessions").json()["value"] is True
    form = {"grant_type": "refresh_token", "refresh_token": found["refresh_token"]} | CREDS
    refused = http.post("/common/oauth2/v2.0/token", data=form)
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"


def test_fail_next_answers_the_status_then_recovers(authed: httpx.Client, teams: TeamsEmulator) -> None:
    teams.fail_next(1, retry_after=4)
    failed = authed.get("/v1.0/me")
    assert failed.status_code == 503 and failed.headers["retry-after"] == "4"
    assert authed.get("/v1.0/me").json()["mail"] == "user@example.com"
