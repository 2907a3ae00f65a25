"""Google Meet as the integrated conferencing of Google calendars, end to end over the Google emulator: a
Google profile is connected through its consent and synced; upserts through raw HTTP and pycronofy in each
mode (integrated, default, explicit, none) make, keep and remove the Meet on Google itself; reads show
`{"pending": true}` until Google has made it, then "Google Meet" and its join URL; templates are rendered
from the Meet and written to Google; conferencing_assigned / conferencing_failing reach subscribers signed;
`integrated` on a CalDAV calendar, which has no conferencing of its own, is a 422."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pycronofy  # type: ignore[import-untyped]
import pytest
from fastapi.testclient import TestClient

from horae.container import Container
from horae.domain.hmac import HEADER, header_value
from horae.settings import Settings
from tests.conftest import Deployment, fast_settings
from tests.contract import rig_caldav, rig_google
from tests.emulators.google import GoogleEmulator
from tests.emulators.server import start_server
from tests.fakes import FakeClock
from tests.helpers import REDIRECT, Connected, PycronofyViaTestClient, RecordingSender, connect
from tests.integration.test_real_calendar_sync import run_due

EMAIL = "ada@example.com"
HOOK = "https://app.example/conferencing"
SUBSCRIPTIONS = [{"type": "webhook", "uri": HOOK,
                  "interactions": [{"type": "conferencing_assigned"}, {"type": "conferencing_failing"}]}]  # fmt: skip
MEET_URL = "https://meet.google.test/"


@pytest.fixture
def google() -> Iterator[tuple[GoogleEmulator, str]]:
    emulator = GoogleEmulator(email=EMAIL)
    server = start_server(emulator.app)
    yield emulator, server.url
    server.stop()


@pytest.fixture
def settings(tmp_path: Path, deployment: Deployment, google: tuple[GoogleEmulator, str]) -> Settings:
    base = fast_settings(tmp_path, database_url=deployment.database_url, redis_url=deployment.redis_url)
    options = rig_google.provider_options(google[1])
    return base.model_copy(update={f"google_{k}": v for k, v in options.items()})


@pytest.fixture
def emulator(google: tuple[GoogleEmulator, str]) -> GoogleEmulator:
    return google[0]


@pytest.fixture
def sender(container: Container) -> RecordingSender:
    recording = RecordingSender()
    container.callbacks.sender = recording
    return recording


@pytest.fixture
def ada(container: Container) -> Connected:
    """An account authorized to an application, with its Google account connected and synced."""
    who = connect(container, EMAIL)
    to_google = container.connections.authorization_url(who.sub, "google", REDIRECT)
    consented = httpx.get(to_google, follow_redirects=False, timeout=5)
    assert consented.status_code == 302, consented.text
    back = {k: v[0] for k, v in parse_qs(urlsplit(consented.headers["location"]).query).items()}
    container.connections.complete_oauth(who.sub, back["state"], back["code"], REDIRECT)
    return who


def google_calendar(client: TestClient, who: Connected) -> dict[str, Any]:
    [found] = [c for c in client.get("/v1/calendars", headers=who.auth).json()["calendars"]
               if c["provider_name"] == "google"]  # fmt: skip
    return dict(found)


def upsert(client: TestClient, who: Connected, calendar_id: str, clock: FakeClock, **fields: Any) -> Any:
    start = clock.now().replace(minute=0, second=0, microsecond=0) + timedelta(days=1)
    body = {"event_id": "interview", "summary": "Interview", "start": start.isoformat(), "tzid": "Etc/UTC",
            "end": (start + timedelta(hours=1)).isoformat(), **fields}  # fmt: skip
    return client.post(f"/v1/calendars/{calendar_id}/events", json=body, headers=who.auth)


def read(client: TestClient, who: Connected) -> dict[str, Any]:
    params = {"tzid": "Etc/UTC", "include_managed": "true"}
    [event] = [e for e in client.get("/v1/events", params=params, headers=who.auth).json()["events"]
               if e.get("event_id") == "interview"]  # fmt: skip
    return dict(event)


def on_google(emulator: GoogleEmulator) -> dict[str, Any]:
    """The one event Horae wrote to the Google calendar, as Google holds it."""
    with emulator.lock:
        [event] = [e for e in emulator.events[EMAIL].values() if e["status"] != "cancelled"]
        return dict(event)


def google_join_url(event: dict[str, Any]) -> str | None:
    data = event.get("conferenceData") or {}
    return next((e["uri"] for e in data.get("entryPoints", []) if e["entryPointType"] == "video"), None)


def callbacks(sender: RecordingSender, who: Connected) -> list[dict[str, Any]]:
    found = []
    for sent in sender.sent:
        if sent.url == HOOK:
            assert sent.headers[HEADER] == header_value(sent.body, [who.app.client_secret])
            found.append(sent.json)
    return found


def test_google_calendars_have_integrated_conferencing(client: TestClient, ada: Connected) -> None:
    assert google_calendar(client, ada)["calendar_integrated_conferencing_available"] is True
    info = client.get("/v1/userinfo", headers=ada.auth).json()
    [profile] = [p for p in info["cronofy.data"]["profiles"] if p["provider_name"] == "google"]
    assert profile["profile_calendars"][0]["calendar_integrated_conferencing_available"] is True


def test_each_mode_through_raw_http_makes_keeps_and_removes_the_meet_on_google(
    client: TestClient, container: Container, clock: FakeClock, emulator: GoogleEmulator, ada: Connected,
    sender: RecordingSender,
) -> None:  # fmt: skip
    calendar_id = google_calendar(client, ada)["calendar_id"]
    written = upsert(client, ada, calendar_id, clock, conferencing={"profile_id": "integrated"},
                     description="Join: {{ cronofy.conferencing.join_url }}", subscriptions=SUBSCRIPTIONS)  # fmt: skip
    assert written.status_code == 202, written.text
    meet = google_join_url(on_google(emulator))
    assert meet is not None and meet.startswith(MEET_URL)
    assert read(client, ada)["conferencing"] == {"provider_name": "Google Meet", "join_url": meet}
    assert read(client, ada)["description"] == f"Join: {meet}"
    assert on_google(emulator)["description"] == f"Join: {meet}"  # the rendered template reached Google too
    [assigned] = callbacks(sender, ada)
    assert assigned["notification"] == {"type": "conferencing_assigned"}
    assert assigned["event"]["conferencing"] == {"provider_name": "Google Meet", "join_url": meet}

    upsert(client, ada, calendar_id, clock, summary="Interview (renamed)")  # conferencing omitted: kept
    assert google_join_url(on_google(emulator)) == meet and len(emulator.meet.requests) == 1
    assert read(client, ada)["conferencing"]["join_url"] == meet
    upsert(client, ada, calendar_id, clock, conferencing={"profile_id": "integrated"})  # asked again: the same Meet
    assert google_join_url(on_google(emulator)) == meet and len(emulator.meet.requests) == 1
    assert read(client, ada)["conferencing"]["join_url"] == meet and len(callbacks(sender, ada)) == 1

    explicit = {"profile_id": "explicit", "provider_description": "Our bridge", "join_url": "https://bridge.example/7"}
    upsert(client, ada, calendar_id, clock, conferencing=explicit)
    assert read(client, ada)["conferencing"] == {"provider_name": "Our bridge", "join_url": "https://bridge.example/7"}
    assert "conferenceData" not in on_google(emulator)  # the Meet went with the switch

    upsert(client, ada, calendar_id, clock, conferencing={"profile_id": "default"})  # Google's own: a new Meet
    again = google_join_url(on_google(emulator))
    assert again is not None and again != meet and len(emulator.meet.requests) == 2
    assert read(client, ada)["conferencing"] == {"provider_name": "Google Meet", "join_url": again}

    upsert(client, ada, calendar_id, clock, conferencing={"profile_id": "none"})
    assert "conferencing" not in read(client, ada) and "conferenceData" not in on_google(emulator)
    run_due(container, clock, minutes=10)  # later syncs change nothing
    assert "conferencing" not in read(client, ada) and "conferenceData" not in on_google(emulator)


def test_each_mode_through_pycronofy(
    monkeypatch: pytest.MonkeyPatch, client: TestClient, clock: FakeClock, emulator: GoogleEmulator, ada: Connected
) -> None:
    monkeypatch.setattr(pycronofy.request_handler, "requests", PycronofyViaTestClient(client))
    sdk = pycronofy.Client(client_id=ada.app.application.client_id, client_secret=ada.app.client_secret,
                           access_token=ada.tokens.access_token)  # fmt: skip
    sdk.request_handler.base_url = str(client.base_url).rstrip("/")
    [calendar] = [c for c in sdk.list_calendars() if c["provider_name"] == "google"]
    assert calendar["calendar_integrated_conferencing_available"] is True
    start = clock.now().replace(minute=0, second=0, microsecond=0) + timedelta(days=1)
    event = {"event_id": "sdk", "summary": "SDK", "start": start, "end": start + timedelta(hours=1), "tzid": "Etc/UTC"}
    seen, on_google_seen = [], []
    for conferencing in ({"profile_id": "integrated"}, {"profile_id": "none"}, {"profile_id": "default"},
                         {"profile_id": "explicit", "provider_description": "Bridge", "join_url": "https://b.example"},
                         ):  # fmt: skip
        sdk.upsert_event(calendar["calendar_id"], {**event, "conferencing": conferencing})
        [found] = [e for e in sdk.read_events(tzid="Etc/UTC", include_managed=True).all() if e.get("event_id") == "sdk"]
        seen.append(found.get("conferencing"))
        on_google_seen.append(google_join_url(on_google(emulator)))
    first, third = on_google_seen[0], on_google_seen[2]
    assert first is not None and third is not None and first != third
    assert seen == [
        {"provider_name": "Google Meet", "join_url": first},
        None,
        {"provider_name": "Google Meet", "join_url": third},
        {"provider_name": "Bridge", "join_url": "https://b.example"},
    ]
    assert on_google_seen[1] is None and on_google_seen[3] is None


def test_a_meet_google_leaves_pending_reads_pending_until_the_next_sync(
    client: TestClient, container: Container, clock: FakeClock, emulator: GoogleEmulator, ada: Connected,
    sender: RecordingSender,
) -> None:  # fmt: skip
    emulator.meet.pending = True
    calendar_id = google_calendar(client, ada)["calendar_id"]
    upsert(client, ada, calendar_id, clock, conferencing={"profile_id": "integrated"}, subscriptions=SUBSCRIPTIONS,
           description="Agenda\n{{ cronofy.conferencing.invite_block }}")  # fmt: skip
    waiting = read(client, ada)
    assert waiting["conferencing"] == {"pending": True}
    assert waiting["description"] == "Agenda\n(Details to follow)"
    assert callbacks(sender, ada) == []

    run_due(container, clock, seconds=11)  # Horae reads the calendar again soon after a pending answer
    meet = google_join_url(on_google(emulator))
    assert meet is not None and meet.startswith(MEET_URL)
    ready = read(client, ada)
    assert ready["conferencing"] == {"provider_name": "Google Meet", "join_url": meet}
    assert ready["description"] == f"Agenda\nJoin Google Meet\n{meet}"
    assert on_google(emulator)["description"] == ready["description"]
    [assigned] = callbacks(sender, ada)
    assert assigned["notification"]["type"] == "conferencing_assigned"
    assert assigned["event"]["conferencing"]["join_url"] == meet
    run_due(container, clock, minutes=10)
    assert len(callbacks(sender, ada)) == 1 and len(emulator.meet.requests) == 1  # once, one Meet


def test_a_meet_google_could_not_make_is_failing_then_asked_for_again(
    client: TestClient, container: Container, clock: FakeClock, emulator: GoogleEmulator, ada: Connected,
    sender: RecordingSender,
) -> None:  # fmt: skip
    emulator.meet.failures = 1
    calendar_id = google_calendar(client, ada)["calendar_id"]
    upsert(client, ada, calendar_id, clock, conferencing={"profile_id": "default"}, subscriptions=SUBSCRIPTIONS)
    assert read(client, ada)["conferencing"] == {"pending": True}
    [failing] = callbacks(sender, ada)
    assert failing["notification"] == {"type": "conferencing_failing"}

    run_due(container, clock, seconds=6)  # the retry asks Google under a new request id
    meet = google_join_url(on_google(emulator))
    assert meet is not None and len(set(emulator.meet.requests)) == 2
    assert read(client, ada)["conferencing"] == {"provider_name": "Google Meet", "join_url": meet}
    assert [c["notification"]["type"] for c in callbacks(sender, ada)] == [
        "conferencing_failing",
        "conferencing_assigned",
    ]


def test_integrated_on_a_calendar_without_conferencing_of_its_own_is_a_422(
    request: pytest.FixtureRequest, client: TestClient, container: Container, clock: FakeClock, ada: Connected
) -> None:
    with rig_caldav.make_rig(request) as caldav:
        assert isinstance(caldav, rig_caldav.CalDAVRig)
        form = {"server_url": caldav.conn.settings["server_url"], "username": caldav.user, "password": caldav.password}
        container.connections.link(ada.sub, "caldav", form)
        [calendar] = [c for c in client.get("/v1/calendars", headers=ada.auth).json()["calendars"]
                      if c["provider_name"] == "caldav"]  # fmt: skip
        assert calendar["calendar_integrated_conferencing_available"] is False
        answer = upsert(client, ada, calendar["calendar_id"], clock, conferencing={"profile_id": "integrated"})
        assert answer.status_code == 422
        assert answer.json()["errors"]["conferencing.profile_id"][0]["key"] == "errors.integrated_unavailable"
        assert upsert(client, ada, google_calendar(client, ada)["calendar_id"], clock,
                      conferencing={"profile_id": "integrated"}).status_code == 202  # fmt: skip
