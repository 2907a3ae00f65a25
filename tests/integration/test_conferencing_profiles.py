"""Conferencing profiles end to end against the Zoom emulator: an application asks pycronofy for a
conferencing-services link, the person connects Zoom through its consent, the profile shows in userinfo as
the default; upserts provision Zoom meetings (by profile id, and as the `default` where the calendar has no
integrated conferencing); a failing Zoom gives conferencing_failing, then conferencing_assigned with the
templates filled; a revoked grant disconnects the profile with a push and a relink URL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pycronofy  # type: ignore[import-untyped]
import pytest
from fastapi.testclient import TestClient

from horae.container import Container
from horae.settings import Settings
from tests.conftest import Deployment, fast_settings
from tests.emulators.server import start_server
from tests.emulators.zoom import ZoomEmulator
from tests.fakes import FakeClock
from tests.helpers import Connected, PycronofyViaTestClient, RecordingSender, connect
from tests.integration.test_real_calendar_sync import run_due

BACK = "https://app.example/conferencing/connected"
HOOK = "https://app.example/conferencing/hook"
PUSH = "https://app.example/push"


@pytest.fixture
def zoom() -> Iterator[tuple[ZoomEmulator, str]]:
    emulator = ZoomEmulator(user_email="ada@zoom.example")
    server = start_server(emulator.app)
    yield emulator, server.url
    server.stop()


@pytest.fixture
def settings(tmp_path: Path, deployment: Deployment, zoom: tuple[ZoomEmulator, str]) -> Settings:
    """Zoom configured against its emulator, and no built-in conferencing: `default` must find the profile."""
    base = fast_settings(tmp_path, database_url=deployment.database_url, redis_url=deployment.redis_url)
    url = zoom[1]
    return base.model_copy(update={
        "builtin_conferencing": "", "zoom_client_id": "horae-zoom", "zoom_client_secret": "zoom-secret",
        "zoom_auth_url": f"{url}/oauth/authorize", "zoom_token_url": f"{url}/oauth/token", "zoom_api_url": f"{url}/v2",
    })  # fmt: skip


@pytest.fixture
def sender(container: Container) -> RecordingSender:
    recording = RecordingSender()
    container.callbacks.sender = recording
    container.push.sender = recording
    return recording


def sdk_for(monkeypatch: pytest.MonkeyPatch, client: TestClient, who: Connected) -> Any:
    monkeypatch.setattr(pycronofy.request_handler, "requests", PycronofyViaTestClient(client))
    sdk = pycronofy.Client(client_id=who.app.application.client_id, client_secret=who.app.client_secret,
                           access_token=who.tokens.access_token)  # fmt: skip
    sdk.request_handler.base_url = str(client.base_url).rstrip("/")
    return sdk


def connect_zoom(client: TestClient, sdk: Any) -> None:
    """The person follows the application's link, consents on Zoom, and lands back at the application."""
    link = sdk.get_conferencing_services_auth_link(BACK, provider_name="zoom")
    to_zoom = client.get(link, follow_redirects=False)
    assert to_zoom.status_code == 303, to_zoom.text
    consented = httpx.get(to_zoom.headers["location"], follow_redirects=False, timeout=5)
    assert consented.status_code == 302
    back = urlsplit(consented.headers["location"])
    assert back.path == "/conferencing_services/callback/zoom"
    landed = client.get(f"{back.path}?{back.query}", follow_redirects=False)
    assert landed.status_code == 303 and landed.headers["location"] == BACK


def upsert(client: TestClient, who: Connected, calendar_id: str, clock: FakeClock, **fields: Any) -> None:
    start = clock.now().replace(minute=0, second=0, microsecond=0) + timedelta(days=1)
    body = {"event_id": "standup", "summary": "Standup", "start": start.isoformat(), "tzid": "Etc/UTC",
            "end": (start + timedelta(minutes=30)).isoformat(), **fields}  # fmt: skip
    answer = client.post(f"/v1/calendars/{calendar_id}/events", json=body, headers=who.auth)
    assert answer.status_code == 202, answer.text


def read(client: TestClient, who: Connected) -> dict[str, Any]:
    params = {"tzid": "Etc/UTC", "include_managed": "true"}
    [event] = client.get("/v1/events", params=params, headers=who.auth).json()["events"]
    return dict(event)


def test_zoom_connected_through_the_link_is_the_default_and_provisions_meetings(
    monkeypatch: pytest.MonkeyPatch,
    client: TestClient,
    container: Container,
    clock: FakeClock,
    zoom: tuple[ZoomEmulator, str],
    sender: RecordingSender,
) -> None:
    emulator = zoom[0]
    ada = connect(container)
    sdk = sdk_for(monkeypatch, client, ada)
    connect_zoom(client, sdk)
    [profile] = sdk.userinfo()["cronofy.data"]["conferencing_profiles"]
    assert (profile["provider_name"], profile["profile_name"]) == ("zoom", "ada@zoom.example")
    assert profile["profile_connected"] is True and profile["profile_default"] is True
    [calendar] = sdk.list_calendars()
    assert calendar["calendar_integrated_conferencing_available"] is False

    # By profile id: a Zoom meeting, its details on the event.
    upsert(client, ada, calendar["calendar_id"], clock, conferencing={"profile_id": profile["profile_id"]})
    [meeting] = emulator.meetings.values()
    assert meeting["topic"] == "Standup"
    assert read(client, ada)["conferencing"] == {"provider_name": "Zoom", "join_url": meeting["join_url"]}

    # Zoom fails once: written at once with the fallback, failing, then assigned after the retry.
    emulator.fail_next(1)
    subscriptions = [{"type": "webhook", "uri": HOOK, "interactions": [{"type": "conferencing_assigned"},
                                                                       {"type": "conferencing_failing"}]}]  # fmt: skip
    upsert(client, ada, calendar["calendar_id"], clock, event_id="review", summary="Review",
           conferencing={"profile_id": "default"}, subscriptions=subscriptions,
           description="Notes\n{{ cronofy.conferencing.invite_block }}")  # fmt: skip
    events = {e["event_id"]: e for e in client.get("/v1/events", params={"tzid": "Etc/UTC", "include_managed": "true"},
                                                   headers=ada.auth).json()["events"]}  # fmt: skip
    assert events["review"]["conferencing"] == {"pending": True}
    assert events["review"]["description"] == "Notes\n(Details to follow)"
    assert [s.json["notification"]["type"] for s in sender.sent if s.url == HOOK] == ["conferencing_failing"]
    run_due(container, clock, seconds=6)
    review = next(e for e in client.get("/v1/events", params={"tzid": "Etc/UTC", "include_managed": "true"},
                                        headers=ada.auth).json()["events"] if e["event_id"] == "review")  # fmt: skip
    joined = review["conferencing"]["join_url"]
    assert review["conferencing"]["provider_name"] == "Zoom" and joined in {
        m["join_url"] for m in emulator.meetings.values()
    }
    assert review["description"].splitlines()[:3] == ["Notes", "Join Zoom", joined]
    assigned = [s.json for s in sender.sent if s.url == HOOK][-1]
    assert assigned["notification"]["type"] == "conferencing_assigned"
    assert assigned["event"]["conferencing"]["join_url"] == joined


def test_a_revoked_zoom_grant_disconnects_the_profile(
    monkeypatch: pytest.MonkeyPatch,
    client: TestClient,
    container: Container,
    clock: FakeClock,
    zoom: tuple[ZoomEmulator, str],
    sender: RecordingSender,
) -> None:
    emulator = zoom[0]
    ada = connect(container)
    sdk = sdk_for(monkeypatch, client, ada)
    connect_zoom(client, sdk)
    channel = client.post("/v1/channels", json={"callback_url": PUSH}, headers=ada.auth)
    assert channel.status_code == 200
    emulator.revoke_refresh_token()
    emulator.expire_access_tokens()
    [calendar] = sdk.list_calendars()
    upsert(client, ada, calendar["calendar_id"], clock, conferencing={"profile_id": "default"})
    assert read(client, ada)["conferencing"] == {"pending": True}
    [profile] = sdk.userinfo()["cronofy.data"]["conferencing_profiles"]
    assert profile["profile_connected"] is False
    assert profile["profile_relink_url"].endswith(f"/dashboard/conferencing/{profile['profile_id']}/relink")
    kinds = [s.json["notification"]["type"] for s in sender.sent if s.url == PUSH]
    assert kinds.count("conferencing_profile_disconnected") == 1
    # A disconnected profile is refused up front when named.
    named = client.post(f"/v1/calendars/{calendar['calendar_id']}/events", headers=ada.auth, json={
        "event_id": "x", "summary": "x", "start": "2030-01-01T10:00:00Z", "end": "2030-01-01T11:00:00Z",
        "conferencing": {"profile_id": profile["profile_id"]}})  # fmt: skip
    assert named.status_code == 422
