"""The Microsoft Graph emulator, exercised over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.emulators.microsoft import GraphEmulator
from tests.emulators.server import serve

REDIRECT = "http://127.0.0.1:9/callback"
CREDS = {"client_id": "horae-client", "client_secret": "horae-secret"}
WINDOW = {"startDateTime": "2030-01-01T00:00:00Z", "endDateTime": "2030-02-01T00:00:00Z"}


@pytest.fixture
def graph() -> GraphEmulator:
    return GraphEmulator()


@pytest.fixture
def http(graph: GraphEmulator) -> Iterator[httpx.Client]:
    with serve(graph.app) as url, httpx.Client(base_url=url, timeout=10) as client:
        yield client


def exchange(http: httpx.Client) -> dict[str, Any]:
    params = {"client_id": "horae-client", "redirect_uri": REDIRECT, "state": "s1", "scope": "Calendars.ReadWrite"}
    redirect = http.get("/common/oauth2/v2.0/authorize", params=params)
    assert redirect.status_code == 302
    query = parse_qs(urlsplit(redirect.headers["location"]).query)
    assert query["state"] == ["s1"]
    form = {"grant_type": "authorization_code", "code": query["code"][0], "redirect_uri": REDIRECT} | CREDS
    response = http.post("/common/oauth2/v2.0/token", data=form)
    assert response.status_code == 200, response.text
    return dict(response.json())


@pytest.fixture
def authed(http: httpx.Client) -> httpx.Client:
    http.headers["Authorization"] = f"Bearer {exchange(http)['access_token']}"
    return http


def timed(subject: str, day: int, **extra: Any) -> dict[str, Any]:
    return {
        "subject": subject,
        "start": {"dateTime": f"2030-01-{day:02d}T10:00:00", "timeZone": "UTC"},
        "end": {"dateTime": f"2030-01-{day:02d}T11:00:00", "timeZone": "UTC"},
        **extra,
    }


def delta_round(http: httpx.Client, url: str, params: dict[str, str] | None = None) -> tuple[list[Any], str, int]:
    """Follow nextLinks to the deltaLink; returns the items, the deltaLink and how many pages it took."""
    items: list[Any] = []
    pages = 0
    while True:
        body = http.get(url, params=params, headers={"Prefer": "odata.maxpagesize=2"}).raise_for_status().json()
        pages += 1
        items += body["value"]
        params = None
        if "@odata.deltaLink" in body:
            assert "@odata.nextLink" not in body
            return items, body["@odata.deltaLink"], pages
        url = body["@odata.nextLink"]


def test_token_exchange_refresh_and_invalid_grant_after_revoke(graph: GraphEmulator, http: httpx.Client) -> None:
    tokens = exchange(http)
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 3600 and tokens["refresh_token"]
    refresh = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]} | CREDS
    rotated = http.post("/tenant-id/oauth2/v2.0/token", data=refresh).json()
    assert rotated["access_token"] != tokens["access_token"] and rotated["refresh_token"] != tokens["refresh_token"]
    bad_secret = http.post("/common/oauth2/v2.0/token", data=refresh | {"client_secret": "nope"})
    assert bad_secret.status_code == 401 and bad_secret.json()["error"] == "invalid_client"
    graph.revoke_refresh_token()
    revoked = http.post("/common/oauth2/v2.0/token", data=refresh)
    assert revoked.status_code == 400
    body = revoked.json()
    assert body["error"] == "invalid_grant" and body["error_codes"] == [50173]
    assert body["error_description"].startswith("AADSTS50173:")


def test_unauthorized(graph: GraphEmulator, authed: httpx.Client) -> None:
    assert authed.get("/v1.0/me/calendars").status_code == 200
    missing = authed.get("/v1.0/me/calendars", headers={"Authorization": ""})
    assert missing.status_code == 401 and missing.json()["error"]["code"] == "InvalidAuthenticationToken"
    graph.expire_access_tokens()
    expired = authed.get("/v1.0/me/calendars")
    assert expired.status_code == 401 and "expired" in expired.json()["error"]["message"]


def test_calendars_paging(graph: GraphEmulator, authed: httpx.Client) -> None:
    graph.add_calendar("Shared", can_edit=False, hex_color="#ff0000")
    first = authed.get("/v1.0/me/calendars", params={"$top": 1}).json()
    assert first["value"][0] | {"name": "Calendar", "isDefaultCalendar": True, "canEdit": True} == first["value"][0]
    second = authed.get(first["@odata.nextLink"]).json()
    assert [(c["name"], c["canEdit"], c["hexColor"]) for c in second["value"]] == [("Shared", False, "#ff0000")]
    assert "@odata.nextLink" not in second


def test_full_then_incremental_delta(graph: GraphEmulator, authed: httpx.Client) -> None:
    cal = graph.default_calendar_id
    url = f"/v1.0/me/calendars/{cal}/calendarView/delta"
    daily = {"pattern": {"type": "daily", "interval": 1}, "range": {"type": "numbered", "numberOfOccurrences": 3}}
    master = graph.add_event(
        cal, timed("Standup", 10, recurrence=daily | {"range": daily["range"] | {"startDate": "2030-01-10"}})
    )
    assert master["type"] == "seriesMaster"
    moved = graph.add_exception(master["id"], "2030-01-11T10:00:00Z", subject="Standup (late)")
    single = graph.add_event(cal, timed("Lunch", 3, body={"contentType": "html", "content": "<p>x</p>"}))
    graph.add_event(cal, timed("Next year", 3) | {"start": {"dateTime": "2031-01-01T10:00:00", "timeZone": "UTC"}})

    items, delta_link, pages = delta_round(authed, url, WINDOW)
    assert pages == 2
    by_subject = {e["subject"]: e for e in items}
    assert sorted(by_subject) == ["Lunch", "Standup", "Standup (late)"] and len(items) == 4
    occurrences = [e for e in items if e["type"] == "occurrence"]
    assert {e["seriesMasterId"] for e in occurrences} == {master["id"]}
    assert [e["start"]["dateTime"] for e in occurrences] == [
        "2030-01-10T10:00:00.0000000",
        "2030-01-12T10:00:00.0000000",
    ]
    assert by_subject["Standup (late)"]["type"] == "exception" and by_subject["Standup (late)"]["id"] == moved["id"]
    assert by_subject["Lunch"]["body"]["contentType"] == "html" and by_subject["Lunch"]["@odata.etag"]

    again, delta_link, _ = delta_round(authed, delta_link)
    assert again == []

    graph.update_event(single["id"], subject="Late lunch")
    graph.cancel_occurrence(master["id"], "2030-01-12T10:00:00Z")
    added = graph.add_event(cal, timed("New", 20, isAllDay=False, showAs="free"))
    changes, delta_link, _ = delta_round(authed, delta_link)
    removed = [e for e in changes if "@removed" in e]
    changed = {e["id"]: e for e in changes if "@removed" not in e}
    assert removed == [
        {"@odata.type": "#microsoft.graph.event", "id": occurrences[1]["id"], "@removed": {"reason": "deleted"}}
    ]
    assert changed[single["id"]]["subject"] == "Late lunch" and changed[added["id"]]["showAs"] == "free"
    assert occurrences[0]["id"] in changed  # the series master changed, so its occurrences are reported again

    graph.delete_event(single["id"])
    assert authed.delete(f"/v1.0/me/events/{occurrences[0]['id']}").status_code == 204
    changes, _, _ = delta_round(authed, delta_link)
    assert {e["id"] for e in changes if "@removed" in e} == {single["id"], occurrences[0]["id"]}


def test_bad_delta_tokens(graph: GraphEmulator, authed: httpx.Client) -> None:
    url = f"/v1.0/me/calendars/{graph.default_calendar_id}/calendarView/delta"
    _, delta_link, _ = delta_round(authed, url, WINDOW)
    gone = authed.get(url, params={"$deltatoken": "bogus"})
    assert gone.status_code == 410 and gone.json()["error"]["code"] == "syncStateNotFound"
    graph.invalidate_delta_tokens()
    assert authed.get(delta_link).status_code == 410
    assert authed.get(url).status_code == 400
    assert authed.get("/v1.0/me/calendars/nope/calendarView/delta", params=WINDOW).status_code == 404


def test_event_writes(graph: GraphEmulator, authed: httpx.Client) -> None:
    cal = graph.default_calendar_id
    created = authed.post(f"/v1.0/me/calendars/{cal}/events", json=timed("Mine", 7, location={"displayName": "Room"}))
    assert created.status_code == 201
    event = created.json()
    assert event["type"] == "singleInstance" and event["isCancelled"] is False and event["iCalUId"]
    assert authed.post(f"/v1.0/me/calendars/{cal}/events", json={"subject": "no times"}).status_code == 400
    url = f"/v1.0/me/events/{event['id']}"
    patched = authed.patch(url, json={"subject": "Renamed"}).json()
    assert patched["subject"] == "Renamed" and patched["location"] == {"displayName": "Room"}
    assert patched["@odata.etag"] != event["@odata.etag"]
    assert authed.get(url).json()["subject"] == "Renamed"
    assert authed.delete(url).status_code == 204
    for method in ("GET", "DELETE", "PATCH"):
        missing = authed.request(method, url, json={})
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "ErrorItemNotFound"
    readonly = graph.add_calendar("Shared", can_edit=False)["id"]
    assert authed.post(f"/v1.0/me/calendars/{readonly}/events", json=timed("x", 1)).status_code == 403


def test_throttling_then_recovery(graph: GraphEmulator, authed: httpx.Client) -> None:
    graph.throttle(1, retry_after=7)
    throttled = authed.get("/v1.0/me/calendars")
    assert throttled.status_code == 429 and throttled.headers["Retry-After"] == "7"
    assert throttled.json()["error"]["code"] == "TooManyRequests"
    assert authed.get("/v1.0/me/calendars").status_code == 200
