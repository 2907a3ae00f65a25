"""A calendar's own conferencing (Google Meet), pure parts: what an event's write asks for, how Google's
conferenceData reads, and how a report changes the stored state."""

from __future__ import annotations

from typing import Any

from horae.domain import conferencing as conf
from horae.domain import integrated
from horae.domain.integrated import GOOGLE_MEET, ConferenceWish, RemoteConference
from horae.providers.calendars import google_meet

WAITING = {"profile_id": "integrated", "provider_key": GOOGLE_MEET, "state": conf.PENDING, "failures": 0,
           "by_calendar": True, "request_id": "req_1", "application_id": "app_1"}  # fmt: skip
MEET_DATA = {
    "createRequest": {"requestId": "req_1", "conferenceSolutionKey": {"type": "hangoutsMeet"},
                      "status": {"statusCode": "success"}},
    "entryPoints": [{"entryPointType": "phone", "uri": "tel:+1-555"},
                    {"entryPointType": "video", "uri": "https://meet.google.com/abc-defg-hij"}],
    "conferenceSolution": {"key": {"type": "hangoutsMeet"}, "name": "Google Meet"},
    "conferenceId": "abc-defg-hij",
}  # fmt: skip
MADE = RemoteConference(GOOGLE_MEET, integrated.READY, "abc-defg-hij", "Google Meet",
                        "https://meet.google.com/abc-defg-hij", "req_1")  # fmt: skip


def details(state: dict[str, Any] | None) -> dict[str, Any]:
    found: dict[str, Any] = {integrated.MANAGED: GOOGLE_MEET}
    return found | ({"conferencing": state} if state is not None else {})


def test_no_wish_where_horae_never_managed_the_calendars_conference() -> None:
    assert integrated.wish({}) is None
    assert integrated.wish({"conferencing": {"provider_key": "zoom", "state": conf.READY}}) is None


def test_waiting_asks_for_a_meet_under_its_request_id_made_keeps_it_none_removes_it() -> None:
    assert integrated.wish(details(WAITING)) == ConferenceWish(GOOGLE_MEET, request_id="req_1")
    ready = integrated.recorded(WAITING, MADE)
    assert ready is not None
    kept = integrated.wish(details(ready))
    assert kept is not None and kept.existing is not None and kept.request_id is None
    assert (kept.existing.conference_id, kept.existing.join_url) == ("abc-defg-hij", MADE.join_url)
    assert integrated.wish(details({})) == ConferenceWish(GOOGLE_MEET)  # `none`
    zoom = {"provider_key": "zoom", "state": conf.PENDING, "conferencing_profile_id": "pro_1"}
    assert integrated.wish(details(zoom)) == ConferenceWish(GOOGLE_MEET)  # switched to Zoom: the Meet goes
    gave_up = {**WAITING, "state": conf.GAVE_UP}
    assert integrated.wish(details(gave_up)) == ConferenceWish(GOOGLE_MEET)


def test_a_made_meet_is_recorded_once_and_reads_as_its_details() -> None:
    ready = integrated.recorded(WAITING, MADE)
    assert ready is not None and ready["state"] == conf.READY and ready["remote_id"] == "abc-defg-hij"
    assert conf.as_read(ready) == {"provider_name": "Google Meet", "join_url": MADE.join_url}
    assert integrated.recorded(ready, MADE) is None  # nothing new
    still = RemoteConference(GOOGLE_MEET, integrated.PENDING, "abc-defg-hij", "Google Meet", "", "req_1")
    assert integrated.recorded(WAITING, still) is None
    assert integrated.recorded({"provider_key": "jitsi", "state": conf.PENDING}, MADE) is None  # not the calendar's
    assert integrated.recorded({**WAITING, "state": conf.GAVE_UP}, MADE) is None


def test_a_live_conference_is_one_made_or_being_made_by_the_calendar() -> None:
    ready = integrated.recorded(WAITING, MADE)
    assert integrated.live(WAITING) and integrated.live(ready)
    assert not integrated.live({**WAITING, "state": conf.GAVE_UP})
    assert not integrated.live({"provider_key": "jitsi", "state": conf.READY}) and not integrated.live(None)


def test_a_failure_counts_only_for_the_request_waited_for() -> None:
    refused = RemoteConference(GOOGLE_MEET, integrated.FAILED, request_id="req_1")
    assert integrated.failed(WAITING, refused)
    assert not integrated.failed({**WAITING, "job_id": "job_2"}, refused)  # a retry is already due
    assert not integrated.failed({**WAITING, "request_id": "req_2"}, refused)  # an older request's answer
    assert not integrated.failed(WAITING, MADE)


def test_google_conference_data_is_written_for_each_wish() -> None:
    body = {"summary": "Interview"}
    assert google_meet.with_conference(body, None) == body and google_meet.params_for(None) == {}
    create = google_meet.with_conference(body, ConferenceWish(GOOGLE_MEET, request_id="req_1"))
    assert create["conferenceData"] == {
        "createRequest": {"requestId": "req_1", "conferenceSolutionKey": {"type": "hangoutsMeet"}}
    }
    keep = google_meet.with_conference(body, ConferenceWish(GOOGLE_MEET, existing=MADE))
    assert keep["conferenceData"]["conferenceId"] == "abc-defg-hij"
    assert keep["conferenceData"]["entryPoints"] == [{"entryPointType": "video", "uri": MADE.join_url}]
    assert google_meet.with_conference(body, ConferenceWish(GOOGLE_MEET)) == body  # none: omitted, so removed
    assert google_meet.params_for(ConferenceWish(GOOGLE_MEET)) == {"conferenceDataVersion": "1"}


def test_google_conference_data_reads_as_a_remote_conference() -> None:
    assert google_meet.read_conference({"conferenceData": MEET_DATA}) == MADE
    pending = {"createRequest": {**MEET_DATA["createRequest"], "status": {"statusCode": "pending"}}}
    assert google_meet.read_conference({"conferenceData": pending}) == RemoteConference(
        GOOGLE_MEET, integrated.PENDING, "", "Google Meet", "", "req_1"
    )
    failure = {"createRequest": {**MEET_DATA["createRequest"], "status": {"statusCode": "failure"}}}
    read = google_meet.read_conference({"conferenceData": failure})
    assert read is not None and read.status == integrated.FAILED
    # Made in Google's own app (no createRequest): ready when it has a video entry point.
    made_there = {k: v for k, v in MEET_DATA.items() if k != "createRequest"}
    read = google_meet.read_conference({"conferenceData": made_there})
    assert read is not None and read.status == integrated.READY and read.join_url == MADE.join_url
    add_on = {"conferenceSolution": {"key": {"type": "addOn"}}, "entryPoints": MEET_DATA["entryPoints"]}
    assert google_meet.read_conference({"conferenceData": add_on}) is None
    assert google_meet.read_conference({"summary": "no conference"}) is None
