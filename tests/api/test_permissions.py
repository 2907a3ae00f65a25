"""Elevated calendar permissions: an application asks for `unrestricted` access with `POST /v1/permissions`,
the person allows it on the request's page, and only then may the application change events it does not
manage (external events) in those calendars."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from horae.container import Container
from tests.fakes import FakeClock
from tests.helpers import Connected, also_authorize, authorize, connect, csrf_of

BACK = "https://app.example/permissions/done"
EVENT = {"start": "2026-12-01T10:00:00Z", "end": "2026-12-01T11:00:00Z", "tzid": "Etc/UTC"}


def _calendar(client: TestClient, who: Connected) -> dict[str, Any]:
    [calendar] = client.get("/v1/calendars", headers=who.auth).json()["calendars"]
    return dict(calendar)


def _external_event(client: TestClient, owner: Connected, reader: Connected, calendar_id: str) -> str:
    """An event another application made in the calendar; returns its event_uid as `reader` sees it."""
    made = {"event_id": "planning", "summary": "Planning", **EVENT}
    assert client.post(f"/v1/calendars/{calendar_id}/events", json=made, headers=owner.auth).status_code == 202
    [seen] = client.get("/v1/events", params={"tzid": "Etc/UTC"}, headers=reader.auth).json()["events"]
    assert "event_id" not in seen  # not the reader's own
    return str(seen["event_uid"])


def _ask(client: TestClient, who: Connected, calendar_id: str, level: str = "unrestricted", **extra: Any) -> Any:
    body = {"permissions": [{"calendar_id": calendar_id, "permission_level": level}], **extra}
    return client.post("/v1/permissions", json=body, headers=who.auth)


def _sign_in(client: TestClient, url: str, email: str, password: str) -> Any:
    page = client.get(url)
    assert page.status_code == 200 and "Sign in to answer" in page.text
    return client.post(f"{url}/login", data={"email": email, "password": password, "csrf_token": csrf_of(page.text)})


def test_the_person_allows_unrestricted_access_and_external_events_can_then_be_changed(
    client: TestClient, container: Container
) -> None:
    ada = connect(container)
    other = also_authorize(container, ada)
    calendar = _calendar(client, ada)
    assert calendar["permission_level"] == "sandbox"
    uid = _external_event(client, other, ada, calendar["calendar_id"])
    changed = {"event_uid": uid, "summary": "Planning (moved)", **EVENT}
    events_url = f"/v1/calendars/{calendar['calendar_id']}/events"
    assert client.post(events_url, json=changed, headers=ada.auth).status_code == 403

    asked = _ask(client, ada, calendar["calendar_id"], redirect_uri=BACK)
    assert asked.status_code == 202
    url = asked.json()["permissions_request"]["url"]
    assert (
        url.startswith("http://127.0.0.1:8000/permissions/") and "accepted" not in asked.json()["permissions_request"]
    )
    signed = _sign_in(client, url, "ada@example.com", "correct horse battery")
    assert signed.status_code == 200 and "Test app" in signed.text and "ada@example.com" in signed.text
    decided = client.post(url, data={"decision": "allow", "csrf_token": csrf_of(signed.text)}, follow_redirects=False)
    assert decided.status_code == 303 and decided.headers["location"] == BACK
    assert client.get(url).status_code == 404  # answered: the link is spent

    assert _calendar(client, ada)["permission_level"] == "unrestricted"
    assert _calendar(client, other)["permission_level"] == "sandbox"  # per application
    info = client.get("/v1/userinfo", headers=ada.auth).json()
    [listed] = info["cronofy.data"]["profiles"][0]["profile_calendars"]
    assert listed["permission_level"] == "unrestricted"
    assert client.post(events_url, json=changed, headers=ada.auth).status_code == 202
    [seen] = client.get("/v1/events", params={"tzid": "Etc/UTC", "include_managed": "true"}, headers=other.auth).json()[
        "events"
    ]
    assert seen["summary"] == "Planning (moved)"
    missing = {**changed, "event_uid": "evt_nothing_here"}
    assert client.post(events_url, json=missing, headers=ada.auth).status_code == 404
    assert client.request("DELETE", events_url, json={"event_uid": uid}, headers=ada.auth).status_code == 202
    assert (
        client.get("/v1/events", params={"tzid": "Etc/UTC", "include_managed": "true"}, headers=other.auth).json()[
            "events"
        ]
        == []
    )

    # Asking again for what is granted is accepted at once; giving it up needs no consent.
    assert _ask(client, ada, calendar["calendar_id"]).json() == {"permissions_request": {"accepted": True}}
    assert _ask(client, ada, calendar["calendar_id"], "sandbox").json() == {"permissions_request": {"accepted": True}}
    assert _calendar(client, ada)["permission_level"] == "sandbox"


def test_a_denied_or_expired_request_grants_nothing(client: TestClient, container: Container, clock: FakeClock) -> None:
    ada = connect(container)
    calendar_id = _calendar(client, ada)["calendar_id"]
    url = _ask(client, ada, calendar_id).json()["permissions_request"]["url"]
    signed = _sign_in(client, url, "ada@example.com", "correct horse battery")
    denied = client.post(url, data={"decision": "deny", "csrf_token": csrf_of(signed.text)})
    assert denied.status_code == 200 and "declined" in denied.text  # no redirect_uri: a page says so
    assert _calendar(client, ada)["permission_level"] == "sandbox"

    late = _ask(client, ada, calendar_id).json()["permissions_request"]["url"]
    clock.advance(days=8)
    assert client.get(late).status_code == 404
    token = csrf_of(client.get("/connect").text)  # a fresh token of the signed-in session
    assert client.post(late, data={"decision": "allow", "csrf_token": token}).status_code == 404
    assert _calendar(client, authorize(container, ada.app, ada.sub))["permission_level"] == "sandbox"


def test_only_the_calendars_owner_can_answer(client: TestClient, container: Container) -> None:
    ada = connect(container)
    calendar_id = _calendar(client, ada)["calendar_id"]
    url = _ask(client, ada, calendar_id).json()["permissions_request"]["url"]
    container.accounts.sign_up("mallory@example.com", "mallory's password", "Mallory")
    signed = _sign_in(client, url, "mallory@example.com", "mallory's password")
    assert signed.status_code == 404
    token = csrf_of(client.get("/connect").text)
    assert client.post(url, data={"decision": "allow", "csrf_token": token}).status_code == 404
    assert client.post(url, data={"decision": "allow", "csrf_token": "forged"}).status_code == 403
    assert _calendar(client, ada)["permission_level"] == "sandbox"


def test_bad_permission_requests_get_422(client: TestClient, container: Container) -> None:
    ada = connect(container)
    mallory = connect(container, "mallory@example.com")
    mine, theirs = _calendar(client, ada)["calendar_id"], _calendar(client, mallory)["calendar_id"]
    foreign = _ask(client, ada, theirs)
    assert foreign.status_code == 422 and list(foreign.json()["errors"]) == ["permissions.0.calendar_id"]
    level = _ask(client, ada, mine, "root")
    assert level.status_code == 422 and list(level.json()["errors"]) == ["permissions.0.permission_level"]
    assert _ask(client, ada, mine, redirect_uri="javascript:alert(1)").status_code == 422
    assert client.post("/v1/permissions", json={"permissions": []}, headers=ada.auth).status_code == 422
    assert client.post("/v1/permissions", json={}, headers=ada.auth).status_code == 422
    assert client.post("/v1/permissions", json={"permissions": [{"calendar_id": mine}]}).status_code == 401
