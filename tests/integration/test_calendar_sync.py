"""The sync and provider-write jobs against an in-memory calendar service (tests/memory_provider.py), on
SQLite and PostgreSQL: profile states and their notifications, external changes reaching `change`
notifications and `last_modified` reads, deletions, back-off, relinking, and writes going out."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from horae.container import Container
from horae.domain import ids
from horae.domain.model import Profile
from horae.errors import ProviderUnavailable
from tests.fakes import FakeClock
from tests.helpers import Connected, RecordingSender, connect
from tests.memory_provider import KEY, SERVICES, MemoryService, busy, timed

HOOK = "https://receiver.example/hook"


@pytest.fixture
def ada(container: Container) -> Connected:
    container.connections.form_kinds = (*container.connections.form_kinds, KEY)
    return connect(container)


@pytest.fixture
def sender(container: Container) -> RecordingSender:
    recording = RecordingSender()
    container.push.sender = recording
    return recording


@pytest.fixture
def service(clock: FakeClock) -> Iterator[tuple[str, MemoryService]]:
    name = f"ada-{ids.new_token(6)}"
    found = MemoryService("pw")
    start = clock.now() + timedelta(days=1)
    found.put("work", "one", timed("u1", "Planning", start, start + timedelta(hours=1)))
    found.put("work", "two", timed("u2", "Review", start + timedelta(hours=3), start + timedelta(hours=4)))
    SERVICES[name] = found
    yield name, found
    del SERVICES[name]


def link(container: Container, who: Connected, username: str, password: str = "pw", profile_id: str = "") -> Profile:
    form = {"username": username, "password": password}
    return container.connections.link(who.sub, KEY, form, profile_id)


def run_due(container: Container, clock: FakeClock, **later: float) -> None:
    clock.advance(**later)
    for job_id in container.runner.due():
        container.runner.run(job_id)


def profile_of(client: TestClient, who: Connected) -> dict[str, Any]:
    info = client.get("/v1/userinfo", headers=who.auth).json()
    [found] = [p for p in info["cronofy.data"]["profiles"] if p["provider_name"] == "memory"]
    return dict(found)


def events(client: TestClient, who: Connected, **params: str) -> dict[str, dict[str, Any]]:
    found = client.get("/v1/events", params={"tzid": "Etc/UTC", **params}, headers=who.auth).json()["events"]
    return {e["summary"]: e for e in found}


def status_in_availability(client: TestClient, who: Connected, clock: FakeClock) -> dict[str, Any]:
    start = (clock.now() + timedelta(days=2)).strftime("%Y-%m-%dT00:00:00Z")
    end = (clock.now() + timedelta(days=3)).strftime("%Y-%m-%dT00:00:00Z")
    body = {
        "participants": [{"members": [{"sub": who.sub}], "required": "all"}],
        "required_duration": {"minutes": 30},
        "query_periods": [{"start": start, "end": end}],
        "include_member_statuses": True,
    }
    key = {"Authorization": f"Bearer {who.app.client_secret}"}
    answer = client.post("/v1/availability", json=body, headers=key).json()
    return dict(answer["member_statuses"][0])


def open_channel(client: TestClient, who: Connected) -> None:
    assert client.post("/v1/channels", json={"callback_url": HOOK}, headers=who.auth).status_code == 200


def test_the_first_sync_makes_the_profile_active_and_says_so(
    client: TestClient, container: Container, clock: FakeClock, ada: Connected, sender: RecordingSender, service: Any
) -> None:
    name, remote = service
    remote.failures.append(busy(60))  # the first attempt finds the service busy: the profile stays pending
    open_channel(client, ada)
    profile = link(container, ada, name)
    assert profile_of(client, ada)["profile_initial_sync_required"] is True
    assert status_in_availability(client, ada, clock) == {"sub": ada.sub, "sync_status": "pending"}
    assert sender.of_type("profile_initial_sync_completed") == []

    run_due(container, clock, seconds=61)
    shown = profile_of(client, ada)
    assert shown["profile_connected"] is True and shown["profile_initial_sync_required"] is False
    assert shown["profile_id"] == profile.id and shown["profile_name"] == name
    assert [c["calendar_name"] for c in shown["profile_calendars"]] == ["Work"]
    assert set(events(client, ada)) == {"Planning", "Review"}
    assert len(sender.of_type("profile_initial_sync_completed")) == 1
    status = status_in_availability(client, ada, clock)
    assert status["sync_status"] == "active" and status["last_synced_at"] == clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")


def test_an_external_change_is_notified_and_read_by_last_modified(
    client: TestClient, container: Container, clock: FakeClock, ada: Connected, sender: RecordingSender, service: Any
) -> None:
    name, remote = service
    link(container, ada, name)
    open_channel(client, ada)
    before = events(client, ada)["Review"]
    start = clock.now() + timedelta(days=1)
    remote.put("work", "one", timed("u1", "Planning (moved)", start + timedelta(hours=1), start + timedelta(hours=2)))

    run_due(container, clock, minutes=5, seconds=1)
    [change] = sender.of_type("change")
    since = change.json["notification"]["changes_since"]
    changed = events(client, ada, last_modified=since)
    assert list(changed) == ["Planning (moved)"]
    assert changed["Planning (moved)"]["start"] == (start + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert events(client, ada)["Review"]["event_uid"] == before["event_uid"]  # unchanged, not rewritten

    run_due(container, clock, minutes=5, seconds=1)
    assert len(sender.of_type("change")) == 1  # nothing new: no notification


def test_deletions_are_seen_incrementally_and_by_the_full_pass(
    client: TestClient, container: Container, clock: FakeClock, ada: Connected, service: Any
) -> None:
    name, remote = service
    link(container, ada, name)
    remote.remove("work", "one")
    run_due(container, clock, minutes=5, seconds=1)
    assert set(events(client, ada)) == {"Review"}
    deleted = events(client, ada, include_deleted="true")
    assert deleted["Planning"]["deleted"] is True

    # An object that vanished without a trace (and a cursor the service has forgotten): the full listing
    # the sync falls back to shows it is gone.
    del remote.objects["work"]["two"]
    remote.forget_cursors_before = 10**9
    run_due(container, clock, minutes=5, seconds=1)
    assert events(client, ada) == {}


def test_refused_credentials_disconnect_once_and_relinking_restores(
    client: TestClient, container: Container, clock: FakeClock, ada: Connected, sender: RecordingSender, service: Any
) -> None:
    name, remote = service
    profile = link(container, ada, name)
    open_channel(client, ada)
    remote.password = "changed"
    for _ in range(3):  # the next poll, then two back-offs (30 s, 1 min)
        run_due(container, clock, minutes=6)
    shown = profile_of(client, ada)
    assert shown["profile_connected"] is False
    assert shown["profile_relink_url"].endswith(f"/profiles/{profile.id}/relink")
    assert len(sender.of_type("profile_disconnected")) == 1
    assert status_in_availability(client, ada, clock)["sync_status"] == "disconnected"
    calls = remote.calls
    run_due(container, clock, minutes=30)
    assert remote.calls == calls  # a disconnected profile is left alone until relinked
    assert len(sender.of_type("profile_disconnected")) == 1

    relinked = link(container, ada, name, password="changed", profile_id=profile.id)
    assert relinked.id == profile.id
    shown = profile_of(client, ada)
    assert shown["profile_connected"] is True and "profile_relink_url" not in shown
    assert status_in_availability(client, ada, clock)["sync_status"] == "active"


def test_a_busy_service_is_not_asked_again_before_its_retry_after(
    container: Container, clock: FakeClock, ada: Connected, service: Any
) -> None:
    name, remote = service
    link(container, ada, name)
    remote.failures.append(busy(900))
    run_due(container, clock, minutes=5, seconds=1)
    calls = remote.calls
    run_due(container, clock, minutes=10)
    assert remote.calls == calls
    run_due(container, clock, minutes=6)
    assert remote.calls > calls


def test_bad_credentials_when_linking_are_a_clear_error(container: Container, ada: Connected, service: Any) -> None:
    from horae.errors import InvalidRequest

    with pytest.raises(InvalidRequest) as refused:
        link(container, ada, service[0], password="wrong")
    assert "password" in refused.value.errors


def test_events_written_through_the_api_reach_the_service_once(
    client: TestClient, container: Container, clock: FakeClock, ada: Connected, service: Any
) -> None:
    name, remote = service
    link(container, ada, name)
    [calendar] = [
        c for c in client.get("/v1/calendars", headers=ada.auth).json()["calendars"] if c["provider_name"] == "memory"
    ]
    remote.failures.append(ProviderUnavailable("503 Service Unavailable", retry_after_seconds=120))
    start = clock.now() + timedelta(days=3)
    body = {
        "event_id": "standup",
        "summary": "Stand-up",
        "start": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "end": (start + timedelta(minutes=15)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    response = client.post(f"/v1/calendars/{calendar['calendar_id']}/events", json=body, headers=ada.auth)
    assert response.status_code == 202
    assert all(e.summary != "Stand-up" for e in remote.live("work").values())  # the first try met a busy service

    run_due(container, clock, seconds=121)
    written = [e for e in remote.live("work").values() if e.summary == "Stand-up"]
    assert len(written) == 1
    run_due(container, clock, minutes=5, seconds=1)  # the sync reads Horae's own write back: no duplicate
    listed = client.get("/v1/events", params={"tzid": "Etc/UTC", "include_managed": "true"}, headers=ada.auth)
    assert [e["summary"] for e in listed.json()["events"]].count("Stand-up") == 1

    gone = client.request(
        "DELETE", f"/v1/calendars/{calendar['calendar_id']}/events", json={"event_id": "standup"}, headers=ada.auth
    )
    assert gone.status_code == 202
    assert all(e.summary != "Stand-up" for e in remote.live("work").values())


def test_a_superseded_sync_job_does_nothing(
    container: Container, clock: FakeClock, ada: Connected, service: Any
) -> None:
    name, remote = service
    profile = link(container, ada, name)
    with container.uow() as uow:
        stored = uow.profiles.get(profile.id)
        assert stored is not None
        old = container.sync.schedule(uow, stored)
        container.sync.schedule(uow, stored)  # a newer trigger
        uow.commit()
    calls = remote.calls
    container.runner.run(old)
    assert remote.calls == calls
