"""Calendars (list, create, application calendars) and event writes on built-in calendars."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from horae.container import Container
from horae.domain.events import Event
from tests.helpers import Connected, connect

EVENT = {"event_id": "ev-1", "summary": "Planning", "start": "2026-12-01T09:00:00Z", "end": "2026-12-01T10:00:00Z"}


def calendars(client: TestClient, who: Connected) -> list[dict[str, Any]]:
    response = client.get("/v1/calendars", headers=who.auth)
    assert response.status_code == 200, response.text
    assert response.json()["sub"] == who.sub
    return list(response.json()["calendars"])


def stored(container: Container, calendar_id: str) -> list[Event]:
    with container.uow() as uow:
        return uow.events.in_calendars([calendar_id], include_deleted=True)


def test_a_new_account_has_one_primary_builtin_calendar(client: TestClient, container: Container) -> None:
    ada = connect(container)
    [calendar] = calendars(client, ada)
    assert calendar["provider_name"] == "cronofy"
    assert calendar["calendar_primary"] is True
    assert calendar["calendar_readonly"] is False and calendar["calendar_deleted"] is False
    assert calendar["calendar_id"].startswith("cal_")
    assert calendar["permission_level"] in ("sandbox", "unrestricted")
    assert "calendar_integrated_conferencing_available" in calendar


def test_create_calendar_and_duplicate_name(client: TestClient, container: Container) -> None:
    ada = connect(container)
    profile_id = calendars(client, ada)[0]["profile_id"]
    created = client.post("/v1/calendars", json={"profile_id": profile_id, "name": "Team"}, headers=ada.auth)
    assert created.status_code == 200, created.text
    assert created.json()["calendar"]["calendar_name"] == "Team"
    assert len(calendars(client, ada)) == 2
    again = client.post("/v1/calendars", json={"profile_id": profile_id, "name": "team"}, headers=ada.auth)
    assert again.status_code == 422
    assert again.json()["errors"]["name"][0]["key"] == "errors.duplicate_calendar_name"


def test_application_calendars_are_created_once_and_usable(client: TestClient, container: Container) -> None:
    ada = connect(container)
    body = {
        "client_id": ada.app.application.client_id,
        "client_secret": ada.app.client_secret,
        "application_calendar_id": "room-42",
    }
    first = client.post("/v1/application_calendars", json=body, headers={"Authorization": "Bearer None"})
    assert first.status_code == 200, first.text
    token = first.json()
    assert token["sub"].startswith("apc_") and token["application_calendar_id"] == "room-42"
    assert token["access_token"] and token["refresh_token"] and token["expires_in"] > 0
    second = client.post("/v1/application_calendars", json=body).json()
    assert second["sub"] == token["sub"]
    auth = {"Authorization": f"Bearer {token['access_token']}"}
    [calendar] = client.get("/v1/calendars", headers=auth).json()["calendars"]
    upsert = client.post(f"/v1/calendars/{calendar['calendar_id']}/events", json=EVENT, headers=auth)
    assert upsert.status_code == 202
    wrong = client.post("/v1/application_calendars", json={**body, "client_secret": "CRN_nope"})
    assert wrong.status_code == 401


def test_upsert_is_idempotent_per_event_id(client: TestClient, container: Container) -> None:
    ada = connect(container)
    calendar_id = calendars(client, ada)[0]["calendar_id"]
    url = f"/v1/calendars/{calendar_id}/events"
    assert client.post(url, json=EVENT, headers=ada.auth).status_code == 202
    assert client.post(url, json={**EVENT, "summary": "Planning (moved)"}, headers=ada.auth).status_code == 202
    [event] = stored(container, calendar_id)
    assert event.summary == "Planning (moved)"
    assert event.application_id == ada.app.application.id


def test_times_in_every_form(client: TestClient, container: Container) -> None:
    ada = connect(container)
    calendar_id = calendars(client, ada)[0]["calendar_id"]
    url = f"/v1/calendars/{calendar_id}/events"
    all_day = {**EVENT, "event_id": "all-day", "start": "2026-12-24", "end": "2026-12-26"}
    zoned = {
        **EVENT,
        "event_id": "zoned",
        "start": {"time": "2026-12-01T09:00:00Z", "tzid": "Europe/London"},
        "end": {"time": "2026-12-01T10:00:00Z", "tzid": "America/New_York"},
    }
    for body in (all_day, zoned):
        assert client.post(url, json=body, headers=ada.auth).status_code == 202
    events = {e.event_id: e for e in stored(container, calendar_id)}
    assert events["all-day"].all_day and str(events["all-day"].start_date) == "2026-12-24"
    assert (events["zoned"].start_tzid, events["zoned"].end_tzid) == ("Europe/London", "America/New_York")


def test_bad_event_input_gets_field_errors(client: TestClient, container: Container) -> None:
    ada = connect(container)
    calendar_id = calendars(client, ada)[0]["calendar_id"]
    url = f"/v1/calendars/{calendar_id}/events"
    cases = {
        "start": {**EVENT, "start": "tomorrow"},
        "end": {**EVENT, "end": "2026-12-01T08:00:00Z"},
        "summary": {**EVENT, "summary": "x" * 1025},
        "tzid": {**EVENT, "tzid": "Mars/Olympus"},
        "event_id": {k: v for k, v in EVENT.items() if k != "event_id"},
    }
    for field, body in cases.items():
        response = client.post(url, json=body, headers=ada.auth)
        assert response.status_code == 422, (field, response.text)
        assert field in response.json()["errors"], (field, response.json())
    missing = client.post(url, json={"event_id": "x", "summary": "s"}, headers=ada.auth)
    assert missing.status_code == 422 and {"start", "end"} <= set(missing.json()["errors"])
    assert client.post("/v1/calendars/cal_nope/events", json=EVENT, headers=ada.auth).status_code == 404


def test_another_account_cannot_write_to_my_calendar(client: TestClient, container: Container) -> None:
    ada = connect(container)
    bob = connect(container, email="bob@example.com")
    calendar_id = calendars(client, ada)[0]["calendar_id"]
    assert client.post(f"/v1/calendars/{calendar_id}/events", json=EVENT, headers=bob.auth).status_code == 404
    assert stored(container, calendar_id) == []


def test_delete_single_and_bulk(client: TestClient, container: Container) -> None:
    ada = connect(container)
    calendar_id = calendars(client, ada)[0]["calendar_id"]
    url = f"/v1/calendars/{calendar_id}/events"
    for n in range(3):
        client.post(url, json={**EVENT, "event_id": f"ev-{n}"}, headers=ada.auth)
    assert client.request("DELETE", url, json={"event_id": "ev-0"}, headers=ada.auth).status_code == 202
    assert client.request("DELETE", url, json={"event_id": "never"}, headers=ada.auth).status_code == 202
    live = {e.event_id for e in stored(container, calendar_id) if not e.deleted}
    assert live == {"ev-1", "ev-2"}
    # pycronofy's form: query parameters, a `{}` JSON body.
    response = client.request("DELETE", f"/v1/events?calendar_ids[]={calendar_id}", json={}, headers=ada.auth)
    assert response.status_code == 202
    assert all(e.deleted for e in stored(container, calendar_id))
    both = client.request(
        "DELETE", "/v1/events", json={"delete_all": True, "calendar_ids": [calendar_id]}, headers=ada.auth
    )
    assert both.status_code == 422
