"""The Google Calendar emulator, exercised over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.emulators.google import GoogleEmulator
from tests.emulators.server import serve

REDIRECT = "http://127.0.0.1:9/callback"
EVENTS = "/calendar/v3/calendars/primary/events"


@pytest.fixture
def google() -> GoogleEmulator:
    return GoogleEmulator()


@pytest.fixture
def http(google: GoogleEmulator) -> Iterator[httpx.Client]:
    with serve(google.app) as url, httpx.Client(base_url=url, timeout=10) as client:
        yield client


def consent(http: httpx.Client) -> str:
    params = {"client_id": "horae-client", "redirect_uri": REDIRECT, "state": "s1", "scope": "calendar"}
    response = http.get("/auth", params=params)
    assert response.status_code == 302
    query = parse_qs(urlsplit(response.headers["location"]).query)
    assert query["state"] == ["s1"]
    return query["code"][0]


def exchange(http: httpx.Client) -> dict[str, Any]:
    form = {
        "grant_type": "authorization_code",
        "code": consent(http),
        "redirect_uri": REDIRECT,
        "client_id": "horae-client",
        "client_secret": "horae-secret",
    }
    response = http.post("/token", data=form)
    assert response.status_code == 200, response.text
    return dict(response.json())


@pytest.fixture
def authed(http: httpx.Client) -> httpx.Client:
    http.headers["Authorization"] = f"Bearer {exchange(http)['access_token']}"
    return http


def timed(summary: str, day: int, **extra: Any) -> dict[str, Any]:
    return {
        "summary": summary,
        "start": {"dateTime": f"2030-01-{day:02d}T10:00:00Z"},
        "end": {"dateTime": f"2030-01-{day:02d}T11:00:00Z"},
        **extra,
    }


def list_all(http: httpx.Client, **params: Any) -> tuple[list[dict[str, Any]], str]:
    items: list[dict[str, Any]] = []
    while True:
        body = http.get(EVENTS, params=params).raise_for_status().json()
        items += body["items"]
        if "nextPageToken" not in body:
            return items, body["nextSyncToken"]
        assert "nextSyncToken" not in body
        params = {**params, "pageToken": body["nextPageToken"]}


def test_token_exchange_refresh_and_invalid_grant_after_revoke(google: GoogleEmulator, http: httpx.Client) -> None:
    tokens = exchange(http)
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 3600 and tokens["scope"] == "calendar"
    refresh = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    creds = {"client_id": "horae-client", "client_secret": "horae-secret"}
    refreshed = http.post("/token", data=refresh | creds).json()
    assert refreshed["access_token"] != tokens["access_token"] and "refresh_token" not in refreshed
    assert http.post("/token", data=refresh | creds | {"client_secret": "nope"}).json()["error"] == "invalid_client"
    google.revoke_refresh_token(tokens["refresh_token"])
    response = http.post("/token", data=refresh | creds)
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_grant", "error_description": "Token has been expired or revoked."}
    google.deny_consent()
    location = http.get("/auth", params={"client_id": "horae-client", "redirect_uri": REDIRECT, "state": "x"})
    assert "error=access_denied" in location.headers["location"]


def test_unauthorized_and_expired_tokens(google: GoogleEmulator, authed: httpx.Client) -> None:
    assert authed.get(EVENTS).status_code == 200
    google.expire_access_tokens()
    response = authed.get(EVENTS)
    assert response.status_code == 401
    assert response.json()["error"]["errors"][0]["reason"] == "authError"
    assert authed.get("/calendar/v3/users/me/calendarList", headers={"Authorization": ""}).status_code == 401


def test_calendar_list_paging(google: GoogleEmulator, authed: httpx.Client) -> None:
    google.add_calendar("work@group.calendar.google.com", "Work", access_role="reader", background_color="#ff0000")
    first = authed.get("/calendar/v3/users/me/calendarList", params={"maxResults": 1}).json()
    assert first["items"][0] == first["items"][0] | {"id": "user@example.com", "primary": True, "accessRole": "owner"}
    second = authed.get("/calendar/v3/users/me/calendarList", params={"pageToken": first["nextPageToken"]}).json()
    assert [c["summary"] for c in second["items"]] == ["Work"] and "nextPageToken" not in second
    assert second["items"][0]["backgroundColor"] == "#ff0000" and "primary" not in second["items"][0]


def test_full_then_incremental_sync(google: GoogleEmulator, authed: httpx.Client) -> None:
    master = google.add_event("primary", timed("Standup", 1, recurrence=["RRULE:FREQ=DAILY;COUNT=5"]))
    original = {"dateTime": "2030-01-02T10:00:00Z"}
    moved = timed("Standup (moved)", 2, recurringEventId=master["id"], originalStartTime=original)
    exception = google.add_event("primary", moved)
    doomed = google.add_event("primary", timed("Doomed", 3))
    google.add_event("primary", {"summary": "Holiday", "start": {"date": "2030-01-04"}, "end": {"date": "2030-01-05"}})
    google.add_event("primary", timed("Long ago", 1) | {"start": {"date": "2001-01-01"}, "end": {"date": "2001-01-02"}})

    items, token = list_all(authed, maxResults=2, timeMin="2029-12-31T00:00:00Z", timeMax="2030-02-01T00:00:00Z")
    assert [e["summary"] for e in items] == ["Standup", "Standup (moved)", "Doomed", "Holiday"]
    assert items[0]["recurrence"] == ["RRULE:FREQ=DAILY;COUNT=5"] and items[1]["recurringEventId"] == master["id"]
    assert all(e["status"] == "confirmed" and e["etag"] and e["iCalUID"] and e["updated"] for e in items)

    unchanged = authed.get(EVENTS, params={"syncToken": token}).json()
    assert unchanged["items"] == [] and unchanged["nextSyncToken"]

    google.update_event("primary", exception["id"], summary="Standup (moved again)")
    google.delete_event("primary", doomed["id"])
    added = google.add_event("primary", timed("New", 5, transparency="transparent"))
    changes, token2 = list_all(authed, syncToken=unchanged["nextSyncToken"])
    assert [(e["id"], e["status"]) for e in changes] == [
        (exception["id"], "confirmed"),
        (doomed["id"], "cancelled"),
        (added["id"], "confirmed"),
    ]
    assert changes[1] == {"kind": "calendar#event", "etag": changes[1]["etag"], "id": doomed["id"]} | {
        "status": "cancelled"
    }
    assert authed.get(EVENTS, params={"syncToken": token2}).json()["items"] == []
    assert doomed["id"] not in [e["id"] for e in list_all(authed)[0]]
    assert doomed["id"] in [e["id"] for e in list_all(authed, showDeleted="true")[0]]


def test_bad_sync_and_page_tokens(google: GoogleEmulator, authed: httpx.Client) -> None:
    _, token = list_all(authed)
    gone = authed.get(EVENTS, params={"syncToken": "bogus"})
    assert gone.status_code == 410
    assert gone.json()["error"]["code"] == 410 and gone.json()["error"]["errors"][0]["reason"] == "fullSyncRequired"
    mixed = authed.get(EVENTS, params={"syncToken": token, "timeMin": "2030-01-01T00:00:00Z"})
    assert mixed.status_code == 400
    google.invalidate_sync_tokens()
    assert authed.get(EVENTS, params={"syncToken": token}).status_code == 410
    assert authed.get(EVENTS, params={"pageToken": "bogus"}).status_code == 400
    assert authed.get("/calendar/v3/calendars/nobody/events").status_code == 404


def test_event_writes(google: GoogleEmulator, authed: httpx.Client) -> None:
    created = authed.post(EVENTS, json=timed("Mine", 7, id="horae0001")).json()
    assert created["id"] == "horae0001" and created["status"] == "confirmed"
    assert authed.post(EVENTS, json=timed("Again", 7, id="horae0001")).status_code == 409
    assert authed.post(EVENTS, json={"summary": "no times"}).status_code == 400
    url = f"{EVENTS}/horae0001"
    assert authed.get(url).json()["summary"] == "Mine"
    stale = authed.put(url, json=timed("Stale", 7), headers={"If-Match": '"123"'})
    assert stale.status_code == 412 and stale.json()["error"]["errors"][0]["reason"] == "conditionNotMet"
    updated = authed.put(url, json=timed("Renamed", 8), headers={"If-Match": created["etag"]}).json()
    assert updated["summary"] == "Renamed" and updated["etag"] != created["etag"] and updated["sequence"] == 1
    assert google.get_event("primary", "horae0001")["start"]["dateTime"] == "2030-01-08T10:00:00Z"  # type: ignore[index]
    assert authed.delete(url).status_code == 204
    assert authed.delete(url).status_code == 410
    assert authed.get(url).json()["status"] == "cancelled"
    assert authed.delete(f"{EVENTS}/missing1").status_code == 404


def test_throttling_then_recovery(google: GoogleEmulator, authed: httpx.Client) -> None:
    google.throttle(2, retry_after=3)
    for _ in range(2):
        response = authed.get(EVENTS)
        assert response.status_code == 429 and response.headers["Retry-After"] == "3"
        assert response.json()["error"]["errors"][0]["reason"] == "rateLimitExceeded"
    assert authed.get(EVENTS).status_code == 200
    assert [r.path for r in google.requests].count(EVENTS) == 3
