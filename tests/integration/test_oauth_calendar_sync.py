"""Google and Microsoft end to end through Horae's own pages: a signed-in person clicks the service on the
connect page, consents on the (emulated) provider, comes back through the callback, and the calendar syncs;
an API write reaches the provider; a revoked grant disconnects the profile, and `profile_relink_url` leads
back through the provider's consent to an active profile."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient

from horae.container import Container
from horae.settings import Settings
from tests.conftest import Deployment, fast_settings
from tests.contract import rig_google, rig_microsoft
from tests.emulators.common import EmulatorBase
from tests.emulators.google import GoogleEmulator
from tests.emulators.server import start_server
from tests.fakes import FakeClock
from tests.helpers import REDIRECT, Connected, RecordingSender, make_app, sign_up_and_consent
from tests.integration.test_real_calendar_sync import events, profile, run_due, stamp


@dataclass
class Service:
    """One emulated provider account, and how Horae is configured to reach it."""

    kind: str  # the connect page's name for it
    provider_name: str  # the wire name profiles show
    settings: dict[str, str]
    emulator: EmulatorBase
    add: Callable[[str, datetime, datetime], None]  # an event made in the provider's own app
    summaries: Callable[[], list[str]]  # every event summary the provider holds


def google_service() -> Iterator[Service]:
    emulator = GoogleEmulator(email="ada@example.com")
    server = start_server(emulator.app)
    options = rig_google.provider_options(server.url)
    calendar = "ada@example.com"

    def add(summary: str, start: datetime, end: datetime) -> None:
        when = {"start": rig_google._when(start, "Europe/Paris"), "end": rig_google._when(end, "Europe/Paris")}
        emulator.add_event(calendar, {"summary": summary, **when})

    def summaries() -> list[str]:
        return [e.get("summary", "") for e in emulator.events[calendar].values() if e.get("status") != "cancelled"]

    try:
        yield Service("google", "google", {f"google_{k}": v for k, v in options.items()}, emulator, add, summaries)
    finally:
        server.stop()


def microsoft_service(request: pytest.FixtureRequest) -> Iterator[Service]:
    farm = rig_microsoft.graph_farm(request.config)
    base, graph = farm.add()
    graph.user.update(mail="ada@example.com", userPrincipalName="ada@example.com")
    options = {
        "client_id": "horae-client",
        "client_secret": "horae-secret",
        "auth_url": f"{base}/common/oauth2/v2.0/authorize",
        "token_url": f"{base}/common/oauth2/v2.0/token",
        "api_url": f"{base}/v1.0",
    }

    def add(summary: str, start: datetime, end: datetime) -> None:
        when = {"start": rig_microsoft._edge(start, "Europe/Paris"), "end": rig_microsoft._edge(end, "Europe/Paris")}
        graph.add_event(graph.default_calendar_id, {"subject": summary, **when})

    def summaries() -> list[str]:
        return [str(e.get("subject", "")) for e in graph.events.values()]

    try:
        yield Service("microsoft", "exchange", {f"microsoft_{k}": v for k, v in options.items()}, graph, add, summaries)
    finally:
        farm.remove(base)


@pytest.fixture(params=["google", "microsoft"])
def service(request: pytest.FixtureRequest) -> Iterator[Service]:
    yield from google_service() if request.param == "google" else microsoft_service(request)


@pytest.fixture
def settings(tmp_path: Path, deployment: Deployment, service: Service) -> Settings:
    """The suite's settings, with this provider's client id, secret and endpoints pointed at its emulator."""
    base = fast_settings(tmp_path, database_url=deployment.database_url, redis_url=deployment.redis_url)
    return base.model_copy(update=service.settings)


def follow_consent(client: TestClient, start: str) -> httpx.Response:
    """From a Horae URL that sends the browser to the provider: consent there, then come back through the
    callback. Returns Horae's answer to the callback."""
    to_provider = client.get(start, follow_redirects=False)
    assert to_provider.status_code == 303, to_provider.text
    consented = httpx.get(to_provider.headers["location"], follow_redirects=False, timeout=5)
    assert consented.status_code == 302, consented.text
    back = urlsplit(consented.headers["location"])
    assert back.path.startswith("/connect/") and back.path.endswith("/callback")
    return client.get(f"{back.path}?{back.query}", follow_redirects=False)


def api_token(container: Container, client: TestClient) -> Connected:
    """The person signs up on the authorize page (so the browser is signed in) and the app gets a token."""
    app = make_app(container)
    code = sign_up_and_consent(client, app, "ada@example.com")["code"]
    tokens = container.oauth.exchange_code(app.application.client_id, app.client_secret, code, REDIRECT)
    return Connected(app, tokens.account_id, tokens)


def test_connecting_syncing_writing_and_relinking_through_the_pages(
    client: TestClient, container: Container, clock: FakeClock, service: Service
) -> None:
    ada = api_token(container, client)
    sender = RecordingSender()
    container.push.sender = sender
    assert client.post("/v1/channels", json={"callback_url": "https://receiver.example/hook"}, headers=ada.auth)
    start = clock.now().replace(minute=0, second=0) + timedelta(days=2)
    service.add("Board meeting", start, start + timedelta(hours=1))

    page = client.get("/connect").text
    assert f'href="/connect/{service.kind}/start' in page
    done = follow_consent(client, f"/connect/{service.kind}/start")
    assert done.status_code == 303 and done.headers["location"].startswith("/connect?linked=pro_")
    shown = profile(client, ada, service.provider_name)
    assert shown["profile_connected"] and shown["profile_name"] == "ada@example.com"
    assert len(sender.of_type("profile_initial_sync_completed")) == 1
    board = events(client, ada)["Board meeting"]
    assert board["start"] == stamp(start) and board["end"] == stamp(start + timedelta(hours=1))

    # Written through the API: it reaches the provider.
    [calendar] = [c for c in calendars(client, ada) if c["profile_id"] == shown["profile_id"] and c["calendar_primary"]]
    body = {"event_id": "lunch", "summary": "Lunch", "start": stamp(start + timedelta(hours=3))}
    body["end"] = stamp(start + timedelta(hours=4))
    written = client.post(f"/v1/calendars/{calendar['calendar_id']}/events", json=body, headers=ada.auth)
    assert written.status_code == 202
    assert sorted(service.summaries()) == ["Board meeting", "Lunch"]

    # The person removes Horae's access at the provider: refusals, then disconnected, once.
    service.emulator.revoke_refresh_token()
    service.emulator.expire_access_tokens()
    for _ in range(3):
        run_due(container, clock, minutes=6)
    shown = profile(client, ada, service.provider_name)
    assert not shown["profile_connected"] and len(sender.of_type("profile_disconnected")) == 1

    # The relink link leads through the provider's consent again, and the profile is back.
    relink = urlsplit(shown["profile_relink_url"])
    to_start = client.get(relink.path, follow_redirects=False)
    assert to_start.status_code == 303 and to_start.headers["location"].startswith(f"/connect/{service.kind}/start")
    again = follow_consent(client, to_start.headers["location"])
    assert again.headers["location"] == f"/connect?linked={shown['profile_id']}"
    assert profile(client, ada, service.provider_name)["profile_connected"]


def test_a_refused_consent_is_shown_and_links_nothing(
    client: TestClient, container: Container, service: Service
) -> None:
    ada = api_token(container, client)
    to_provider = client.get(f"/connect/{service.kind}/start", follow_redirects=False)
    state = dict(httpx.QueryParams(urlsplit(to_provider.headers["location"]).query))["state"]
    refused = client.get(f"/connect/{service.kind}/callback", params={"error": "access_denied", "state": state})
    assert refused.status_code == 400 and "access_denied" in refused.text
    forged = client.get(f"/connect/{service.kind}/callback", params={"code": "x", "state": "forged"})
    assert forged.status_code == 400
    names = [
        p["provider_name"] for p in client.get("/v1/userinfo", headers=ada.auth).json()["cronofy.data"]["profiles"]
    ]
    assert service.provider_name not in names


def calendars(client: TestClient, who: Connected) -> list[dict[str, Any]]:
    return list(client.get("/v1/calendars", headers=who.auth).json()["calendars"])
