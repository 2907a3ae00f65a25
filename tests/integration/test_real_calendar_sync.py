"""Horae syncing real calendar servers end to end: a Radicale account (CalDAV) and an ICS feed on loopback,
through linking, the sync jobs, push notifications and the Cronofy API."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from horae.container import Container
from tests.contract import rig_caldav, rig_ics
from tests.fakes import FakeClock
from tests.helpers import Connected, RecordingSender, connect

HOOK = "https://receiver.example/hook"


@pytest.fixture
def ada(container: Container) -> Connected:
    return connect(container)


@pytest.fixture
def sender(container: Container) -> RecordingSender:
    recording = RecordingSender()
    container.push.sender = recording
    return recording


@pytest.fixture
def caldav(request: pytest.FixtureRequest) -> Iterator[rig_caldav.CalDAVRig]:
    with rig_caldav.make_rig(request) as rig:
        assert isinstance(rig, rig_caldav.CalDAVRig)
        yield rig


def run_due(container: Container, clock: FakeClock, **later: float) -> None:
    clock.advance(**later)
    for job_id in container.runner.due():
        container.runner.run(job_id)


def events(client: TestClient, who: Connected, **params: str) -> dict[str, dict[str, Any]]:
    query = {"tzid": "Etc/UTC", "include_managed": "true", **params}
    return {e["summary"]: e for e in client.get("/v1/events", params=query, headers=who.auth).json()["events"]}


def profile(client: TestClient, who: Connected, provider_name: str) -> dict[str, Any]:
    info = client.get("/v1/userinfo", headers=who.auth).json()
    [found] = [p for p in info["cronofy.data"]["profiles"] if p["provider_name"] == provider_name]
    return dict(found)


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_a_radicale_account_end_to_end(
    client: TestClient,
    container: Container,
    clock: FakeClock,
    ada: Connected,
    sender: RecordingSender,
    caldav: rig_caldav.CalDAVRig,
) -> None:
    start = clock.now().replace(minute=0, second=0) + timedelta(days=2)
    caldav.add("Dentist", start, start + timedelta(hours=1), tzid="Europe/Berlin")
    series = caldav.add(
        "Stand-up", start + timedelta(days=1), start + timedelta(days=1, minutes=15), rrule="FREQ=DAILY;COUNT=4"
    )
    caldav.move_instance(
        series,
        start + timedelta(days=2),
        start + timedelta(days=2, hours=2),
        start + timedelta(days=2, hours=2, minutes=15),
    )
    caldav.cancel_instance(series, start + timedelta(days=3))
    assert client.post("/v1/channels", json={"callback_url": HOOK}, headers=ada.auth).status_code == 200

    form = {"server_url": caldav.conn.settings["server_url"], "username": caldav.user, "password": caldav.password}
    linked = container.connections.link(ada.sub, "caldav", form)
    shown = profile(client, ada, "caldav")
    assert shown["profile_connected"] and not shown["profile_initial_sync_required"]
    assert len(sender.of_type("profile_initial_sync_completed")) == 1
    read = client.get("/v1/events", params={"tzid": "Etc/UTC"}, headers=ada.auth).json()["events"]
    standups = sorted(e["start"] for e in read if e["summary"] == "Stand-up")
    assert standups == [
        stamp(start + timedelta(days=1)),
        stamp(start + timedelta(days=2, hours=2)),
        stamp(start + timedelta(days=4)),
    ]
    assert all(e["recurring"] for e in read if e["summary"] == "Stand-up")

    # Changed directly in Radicale: a change notification, then a last_modified read finds it.
    dentist = events(client, ada)["Dentist"]
    before = len(sender.of_type("change"))  # the first sync's own
    caldav.change(caldav_remote_id(container, dentist["event_uid"]), "Dentist (rebooked)")
    run_due(container, clock, minutes=5, seconds=1)
    [change] = sender.of_type("change")[before:]
    since = change.json["notification"]["changes_since"]
    assert list(events(client, ada, last_modified=since)) == ["Dentist (rebooked)"]

    # Written through the API: it lands in Radicale.
    [calendar] = [
        c for c in client.get("/v1/calendars", headers=ada.auth).json()["calendars"] if c["provider_name"] == "caldav"
    ]
    body = {
        "event_id": "lunch",
        "summary": "Lunch",
        "start": stamp(start + timedelta(hours=3)),
        "end": stamp(start + timedelta(hours=4)),
    }
    assert (
        client.post(f"/v1/calendars/{calendar['calendar_id']}/events", json=body, headers=ada.auth).status_code == 202
    )
    lunch = events(client, ada)["Lunch"]
    assert caldav.summary_of(caldav_remote_id(container, lunch["event_uid"])) == "Lunch"

    # A changed password: after a few refusals the profile is disconnected, once; relinking restores it.
    caldav.radicale.set_password(caldav.user, "a brand new password")
    for _ in range(3):
        run_due(container, clock, minutes=6)
    shown = profile(client, ada, "caldav")
    assert not shown["profile_connected"] and "profile_relink_url" in shown
    assert len(sender.of_type("profile_disconnected")) == 1
    container.connections.link(ada.sub, "caldav", {**form, "password": "a brand new password"}, linked.id)
    assert profile(client, ada, "caldav")["profile_connected"]


def caldav_remote_id(container: Container, event_uid: str) -> str:
    with container.uow() as uow:
        event = uow.events.by_uid(event_uid)
        assert event is not None and event.remote_id is not None
        return event.remote_id


def test_an_ics_feed_syncs_and_its_changes_show_on_the_next_poll(
    request: pytest.FixtureRequest, client: TestClient, container: Container, clock: FakeClock, ada: Connected
) -> None:
    with rig_ics.make_rig(request) as feed:
        start = clock.now().replace(minute=0, second=0) + timedelta(days=1)
        first = feed.add("Match day", start, start + timedelta(hours=2))
        container.connections.link(ada.sub, "ics", {"url": feed.conn.secrets["url"]})
        assert list(events(client, ada)) == ["Match day"]
        assert profile(client, ada, "ics")["profile_connected"]
        [calendar] = [
            c for c in client.get("/v1/calendars", headers=ada.auth).json()["calendars"] if c["provider_name"] == "ics"
        ]
        assert calendar["calendar_readonly"] is True

        feed.change(first, "Match day (moved)")
        feed.add("Training", start + timedelta(days=1), start + timedelta(days=1, hours=1))
        run_due(container, clock, minutes=5, seconds=1)
        assert set(events(client, ada)) == {"Match day (moved)", "Training"}
