"""Conferencing on built-in calendars: integrated (Jitsi), default, explicit and none; the event written at
once and the conference provisioned by a job; templates rendered with the fallback, then the details;
conferencing_assigned / conferencing_failing reach subscribers signed; moves update and deletes remove
the conference; bad requests get 422."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pycronofy  # type: ignore[import-untyped]
import pytest
from fastapi.testclient import TestClient

from horae.container import Container
from horae.domain.conferencing import ConferencingDetails, Meeting, Provisioned
from horae.domain.hmac import HEADER, header_value
from horae.errors import ProviderUnavailable
from horae.ports import Connection
from tests.fakes import FakeClock
from tests.helpers import Connected, PycronofyViaTestClient, RecordingSender, connect
from tests.integration.test_real_calendar_sync import run_due

HOOK = "https://app.example/conferencing"
TEMPLATE = "Agenda\n{{ cronofy.conferencing.invite_block }}"
SUBSCRIPTIONS = [
    {
        "type": "webhook",
        "uri": HOOK,
        "interactions": [{"type": "conferencing_assigned"}, {"type": "conferencing_failing"}],
    }
]


class FlakyConferencing:
    """A conferencing service that fails its first `failures` calls, then makes numbered meetings."""

    key = "jitsi"
    provider_name = "Flaky Meet"

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.meetings: dict[str, Meeting] = {}
        self.deleted: list[str] = []

    def _details(self, remote_id: str) -> Provisioned:
        url = f"https://meet.example/{remote_id}"
        return Provisioned(remote_id, ConferencingDetails(self.provider_name, url, "4242", ("+44 20 0000 0000",)))

    def create(self, conn: Connection | None, meeting: Meeting) -> Provisioned:
        if self.failures > 0:
            self.failures -= 1
            raise ProviderUnavailable("the conferencing service is down")
        remote_id = f"m{len(self.meetings) + 1}"
        self.meetings[remote_id] = meeting
        return self._details(remote_id)

    def update(self, conn: Connection | None, remote_id: str, meeting: Meeting) -> Provisioned:
        self.meetings[remote_id] = meeting
        return self._details(remote_id)

    def delete(self, conn: Connection | None, remote_id: str) -> None:
        self.deleted.append(remote_id)


@pytest.fixture
def sender(container: Container) -> RecordingSender:
    recording = RecordingSender()
    container.callbacks.sender = recording
    return recording


def _service(monkeypatch: pytest.MonkeyPatch, container: Container, failures: int = 0) -> FlakyConferencing:
    flaky = FlakyConferencing(failures)
    monkeypatch.setattr(container.conferencing, "_providers", lambda key: flaky)
    return flaky


def _calendar(client: TestClient, who: Connected) -> dict[str, Any]:
    [calendar] = client.get("/v1/calendars", headers=who.auth).json()["calendars"]
    return dict(calendar)


def _upsert(client: TestClient, who: Connected, calendar_id: str, start: datetime, **fields: Any) -> Any:
    body = {
        "event_id": "interview",
        "summary": "Interview",
        "start": start.isoformat(),
        "end": (start + timedelta(hours=1)).isoformat(),
        "tzid": "Etc/UTC",
        **fields,
    }
    return client.post(f"/v1/calendars/{calendar_id}/events", json=body, headers=who.auth)


def _read(client: TestClient, who: Connected) -> dict[str, Any]:
    params = {"tzid": "Etc/UTC", "include_managed": "true"}
    [event] = client.get("/v1/events", params=params, headers=who.auth).json()["events"]
    return dict(event)


def _callbacks(sender: RecordingSender, who: Connected) -> list[dict[str, Any]]:
    found = []
    for sent in sender.sent:
        if sent.url == HOOK:
            assert sent.headers[HEADER] == header_value(sent.body, [who.app.client_secret])
            found.append(sent.json)
    return found


def _soon(clock: FakeClock) -> datetime:
    return clock.now().replace(minute=0, second=0, microsecond=0) + timedelta(days=1)


def test_integrated_conferencing_on_a_built_in_calendar_uses_jitsi(client: TestClient, container: Container,
                                                                    clock: FakeClock) -> None:  # fmt: skip
    ada = connect(container)
    calendar = _calendar(client, ada)
    assert calendar["calendar_integrated_conferencing_available"] is True
    assert _upsert(client, ada, calendar["calendar_id"], _soon(clock), conferencing={"profile_id": "integrated"},
                   description="Join at {{ cronofy.conferencing.join_url }}").status_code == 202  # fmt: skip
    event = _read(client, ada)
    assert event["conferencing"]["provider_name"] == "Jitsi Meet"
    assert event["conferencing"]["join_url"].startswith("https://meet.jit.si/Horae-")
    assert event["description"] == f"Join at {event['conferencing']['join_url']}"
    info = client.get("/v1/userinfo", headers=ada.auth).json()
    assert info["cronofy.data"]["profiles"][0]["profile_calendars"][0]["calendar_integrated_conferencing_available"]


def test_a_failing_service_then_recovery_sends_failing_then_assigned_and_fills_the_templates(
    monkeypatch: pytest.MonkeyPatch, client: TestClient, container: Container, clock: FakeClock, sender: RecordingSender
) -> None:
    flaky = _service(monkeypatch, container, failures=1)
    ada = connect(container)
    calendar_id = _calendar(client, ada)["calendar_id"]
    written = _upsert(client, ada, calendar_id, _soon(clock), conferencing={"profile_id": "default"},
                      description=TEMPLATE, location={"description": "Room 1 / {{ cronofy.conferencing.join_url }}"},
                      subscriptions=SUBSCRIPTIONS, locale="de")  # fmt: skip
    assert written.status_code == 202
    waiting = _read(client, ada)  # written at once, holding the time
    assert waiting["conferencing"] == {"pending": True}
    assert waiting["description"] == "Agenda\n(Details folgen)"
    assert waiting["location"]["description"] == "Room 1 / (Details folgen)"
    [failing] = _callbacks(sender, ada)
    assert failing["notification"] == {"type": "conferencing_failing"}
    assert failing["event"]["event_id"] == "interview" and failing["event"]["conferencing"] == {"pending": True}

    run_due(container, clock, seconds=6)  # the retry
    ready = _read(client, ada)
    assert ready["conferencing"] == {"provider_name": "Flaky Meet", "join_url": "https://meet.example/m1"}
    lines = ready["description"].splitlines()
    assert lines[:3] == ["Agenda", "An Flaky Meet teilnehmen", "https://meet.example/m1"]
    assert "Einwahl: +44 20 0000 0000" in lines and "Kenncode: 4242" in lines
    assert ready["location"]["description"] == "Room 1 / https://meet.example/m1"
    assigned = _callbacks(sender, ada)[-1]
    assert assigned["notification"] == {"type": "conferencing_assigned"}
    assert assigned["event"]["conferencing"]["join_url"] == "https://meet.example/m1"
    assert assigned["event"]["description"] == ready["description"]
    run_due(container, clock, hours=2)
    assert len(_callbacks(sender, ada)) == 2 and len(flaky.meetings) == 1  # once each, one meeting


def test_moves_update_the_conference_omitted_keeps_it_none_and_delete_remove_it(
    monkeypatch: pytest.MonkeyPatch, client: TestClient, container: Container, clock: FakeClock
) -> None:
    flaky = _service(monkeypatch, container)
    ada = connect(container)
    calendar_id = _calendar(client, ada)["calendar_id"]
    start = _soon(clock)
    _upsert(client, ada, calendar_id, start, conferencing={"profile_id": "integrated"})
    assert flaky.meetings["m1"].starts_at == start

    _upsert(client, ada, calendar_id, start + timedelta(hours=2), summary="Interview (moved)")  # no conferencing
    assert flaky.meetings["m1"].starts_at == start + timedelta(hours=2)
    assert flaky.meetings["m1"].summary == "Interview (moved)"
    assert _read(client, ada)["conferencing"]["join_url"] == "https://meet.example/m1"  # left as it was

    _upsert(client, ada, calendar_id, start, conferencing={"profile_id": "none"})
    assert "conferencing" not in _read(client, ada) and flaky.deleted == ["m1"]

    _upsert(client, ada, calendar_id, start, conferencing={"profile_id": "integrated"})
    gone = client.request("DELETE", f"/v1/calendars/{calendar_id}/events", json={"event_id": "interview"},
                          headers=ada.auth)  # fmt: skip
    assert gone.status_code == 202 and flaky.deleted == ["m1", "m2"]


def test_a_full_re_upsert_asking_the_same_service_keeps_the_meeting_and_moves_it(
    monkeypatch: pytest.MonkeyPatch, client: TestClient, container: Container, clock: FakeClock,
    sender: RecordingSender,
) -> None:  # fmt: skip
    flaky = _service(monkeypatch, container)
    ada = connect(container)
    calendar_id = _calendar(client, ada)["calendar_id"]
    start = _soon(clock)
    asked = {"conferencing": {"profile_id": "integrated"}, "subscriptions": SUBSCRIPTIONS}
    _upsert(client, ada, calendar_id, start, **asked)
    _upsert(client, ada, calendar_id, start, **asked)  # apps often send the whole event again, unchanged
    assert list(flaky.meetings) == ["m1"] and flaky.deleted == []
    _upsert(client, ada, calendar_id, start + timedelta(hours=1), **asked)  # and again, moved
    assert list(flaky.meetings) == ["m1"] and flaky.deleted == []
    assert flaky.meetings["m1"].starts_at == start + timedelta(hours=1)
    assert _read(client, ada)["conferencing"]["join_url"] == "https://meet.example/m1"
    assert [c["notification"]["type"] for c in _callbacks(sender, ada)] == ["conferencing_assigned"]


def test_explicit_details_are_written_as_given_and_announced(
    client: TestClient, container: Container, clock: FakeClock, sender: RecordingSender
) -> None:
    ada = connect(container)
    calendar_id = _calendar(client, ada)["calendar_id"]
    explicit = {"profile_id": "explicit", "provider_description": "Our bridge", "join_url": "https://bridge.example/7"}
    _upsert(client, ada, calendar_id, _soon(clock), conferencing=explicit, subscriptions=SUBSCRIPTIONS,
            description="{{ cronofy.conferencing.join_url }}")  # fmt: skip
    event = _read(client, ada)
    assert event["conferencing"] == {"provider_name": "Our bridge", "join_url": "https://bridge.example/7"}
    assert event["description"] == "https://bridge.example/7"
    [assigned] = _callbacks(sender, ada)
    assert assigned["notification"]["type"] == "conferencing_assigned"


def test_no_conference_for_an_event_that_has_begun(
    monkeypatch: pytest.MonkeyPatch, client: TestClient, container: Container, clock: FakeClock
) -> None:
    flaky = _service(monkeypatch, container)
    ada = connect(container)
    calendar_id = _calendar(client, ada)["calendar_id"]
    assert _upsert(client, ada, calendar_id, clock.now() - timedelta(minutes=10),
                   conferencing={"profile_id": "integrated"}).status_code == 202  # fmt: skip
    assert "conferencing" not in _read(client, ada) and flaky.meetings == {}


def test_bad_conferencing_requests_get_422(client: TestClient, container: Container, clock: FakeClock,
                                           monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    ada = connect(container)
    calendar_id = _calendar(client, ada)["calendar_id"]
    start = _soon(clock)
    cases = [
        ({"location": {"description": "{{ cronofy.conferencing.invite_block }}"}}, "location.description"),
        ({"description": "{{ cronofy.conferencing.secret }}"}, "description"),
        ({"conferencing": {"profile_id": "zoom"}}, "conferencing.profile_id"),
        ({"conferencing": {"profile_id": "explicit", "join_url": "https://x.example"}},
         "conferencing.provider_description"),
        ({"conferencing": {"profile_id": "pro_unknown"}}, "conferencing.profile_id"),
        ({"subscriptions": [{"type": "webhook", "uri": HOOK, "interactions": [{"type": "nope"}]}]},
         "subscriptions.0.interactions"),
    ]  # fmt: skip
    for fields, field in cases:
        answer = _upsert(client, ada, calendar_id, start, **fields)
        assert answer.status_code == 422 and field in answer.json()["errors"], (fields, answer.text)
    monkeypatch.setattr(container.conferencing, "_built_in", "")  # no built-in conferencing configured
    assert _calendar(client, ada)["calendar_integrated_conferencing_available"] is False
    for mode, key in (("integrated", "errors.integrated_unavailable"), ("default", "errors.no_conferencing_available")):
        answer = _upsert(client, ada, calendar_id, start, conferencing={"profile_id": mode})
        assert answer.status_code == 422 and answer.json()["errors"]["conferencing.profile_id"][0]["key"] == key
    assert client.get("/v1/events", params={"tzid": "Etc/UTC"}, headers=ada.auth).json()["events"] == []


def test_pycronofy_upserts_each_mode(
    monkeypatch: pytest.MonkeyPatch, client: TestClient, container: Container, clock: FakeClock
) -> None:
    flaky = _service(monkeypatch, container)
    ada = connect(container)
    calendar_id = _calendar(client, ada)["calendar_id"]
    monkeypatch.setattr(pycronofy.request_handler, "requests", PycronofyViaTestClient(client))
    sdk = pycronofy.Client(client_id=ada.app.application.client_id, client_secret=ada.app.client_secret,
                           access_token=ada.tokens.access_token)  # fmt: skip
    sdk.request_handler.base_url = str(client.base_url).rstrip("/")
    start = _soon(clock)
    event = {"event_id": "sdk", "summary": "SDK", "start": start, "end": start + timedelta(hours=1), "tzid": "Etc/UTC"}
    seen = []
    for conferencing in ({"profile_id": "default"}, {"profile_id": "integrated"},
                         {"profile_id": "explicit", "provider_description": "Bridge", "join_url": "https://b.example"},
                         {"profile_id": "none"}):  # fmt: skip
        sdk.upsert_event(calendar_id, {**event, "conferencing": conferencing})
        [read] = sdk.read_events(tzid="Etc/UTC", include_managed=True).all()
        seen.append(read.get("conferencing"))
    assert seen == [
        {"provider_name": "Flaky Meet", "join_url": "https://meet.example/m1"},
        {"provider_name": "Flaky Meet", "join_url": "https://meet.example/m1"},  # integrated is the same service
        {"provider_name": "Bridge", "join_url": "https://b.example"},
        None,
    ]
    assert flaky.deleted == ["m1"]  # replaced by the explicit details
