"""The Google Calendar provider and Google Meet against the Google emulator over HTTP: a write asks for a Meet
with conferenceDataVersion=1 and reads it back, keeps it on later writes, removes it for `none`, leaves a
conference Horae never managed alone, and reports pending and failed Meets."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from horae.domain import conferencing as conf
from horae.domain import integrated
from horae.domain.events import Event
from horae.domain.integrated import GOOGLE_MEET
from tests.contract.rig_google import GoogleRig, google_rig
from tests.integration.test_google_provider import WINDOW, horae_event


@pytest.fixture
def rig(request: pytest.FixtureRequest) -> Iterator[GoogleRig]:
    with google_rig(request) as made:
        made.emulator.meet.pending, made.emulator.meet.failures = False, 0
        yield made
        made.emulator.meet.pending, made.emulator.meet.failures = False, 0


def asking(request_id: str = "req_1", **state: Any) -> Event:
    waiting = {"provider_key": GOOGLE_MEET, "state": conf.PENDING, "by_calendar": True, "request_id": request_id}
    details = {integrated.MANAGED: GOOGLE_MEET, "conferencing": {**waiting, **state}}
    return horae_event(details=details)


def stored(rig: GoogleRig, remote_id: str) -> dict[str, Any]:
    found = rig.emulator.get_event(rig.calendar_id, remote_id)
    assert found is not None
    return found


def test_a_write_asks_for_a_meet_keeps_it_and_none_removes_it(rig: GoogleRig) -> None:
    event = asking()
    first = rig.provider.write_event(rig.conn, rig.calendar_id, event, None, None)
    assert first.conference is not None and first.conference.status == integrated.READY
    assert first.conference.provider_name == "Google Meet" and first.conference.request_id == "req_1"
    assert first.conference.join_url.startswith("https://meet.google.test/")
    assert stored(rig, first.remote_id)["conferenceData"]["conferenceId"] == first.conference.conference_id
    assert rig.emulator.meet.requests[-1] == "req_1"

    ready = integrated.recorded(event.details["conferencing"], first.conference)
    assert ready is not None
    event.details = {**event.details, "conferencing": ready}
    event.summary = "Planning (moved)"
    again = rig.provider.write_event(rig.conn, rig.calendar_id, event, first.remote_id, first.etag)
    assert again.conference == first.conference  # the same Meet, not a new one
    assert rig.emulator.meet.requests.count("req_1") == 1

    event.details = {**event.details, "conferencing": {}}  # `none`
    gone = rig.provider.write_event(rig.conn, rig.calendar_id, event, again.remote_id, again.etag)
    assert gone.conference is None and "conferenceData" not in stored(rig, gone.remote_id)


def test_a_conference_horae_never_managed_is_left_alone(rig: GoogleRig) -> None:
    made = rig.provider.write_event(rig.conn, rig.calendar_id, asking(), None, None)
    plain = horae_event(summary="Renamed in Horae")  # no conferencing of Horae's: conferenceDataVersion 0
    kept = rig.provider.write_event(rig.conn, rig.calendar_id, plain, made.remote_id, made.etag)
    assert kept.conference == made.conference
    assert stored(rig, made.remote_id)["summary"] == "Renamed in Horae"


def test_a_pending_meet_is_reported_pending_then_made_on_the_next_read(rig: GoogleRig) -> None:
    rig.emulator.meet.pending = True
    first = rig.provider.write_event(rig.conn, rig.calendar_id, asking(), None, None)
    assert first.conference is not None and first.conference.status == integrated.PENDING
    assert first.conference.join_url == ""
    listed = rig.provider.changes(rig.conn, rig.calendar_id, None, WINDOW)
    [item] = [i for i in listed.items if i.remote_id == first.remote_id]
    assert item.event.conference is not None and item.event.conference.status == integrated.READY
    assert item.event.conference.join_url.startswith("https://meet.google.test/")
    assert item.etag != first.etag  # made since the write: the sync sees the event changed


def test_a_failed_meet_is_reported_failed_and_a_new_request_makes_one(rig: GoogleRig) -> None:
    rig.emulator.meet.failures = 1
    first = rig.provider.write_event(rig.conn, rig.calendar_id, asking("req_1"), None, None)
    assert first.conference is not None and first.conference.status == integrated.FAILED
    again = rig.provider.write_event(rig.conn, rig.calendar_id, asking("req_2"), first.remote_id, first.etag)
    assert again.conference is not None and again.conference.status == integrated.READY
    assert rig.emulator.meet.requests[-2:] == ["req_1", "req_2"]
