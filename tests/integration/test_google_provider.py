"""The Google Calendar provider against the Google emulator over HTTP: linking, reads, series, writes, refusals."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlencode, urlsplit

import httpx
import pytest

from horae.domain import recurrence
from horae.domain.events import Event
from horae.domain.recurrence_rules import EXCEPTIONS
from horae.domain.times import EventTime
from horae.errors import ProviderAuthRejected, ProviderError, ProviderUnavailable, SyncCursorExpired
from horae.ports import Connection, RemoteItem
from horae.providers.calendars import google_events
from horae.providers.calendars.google import GoogleCalendarProvider
from tests.contract.rig_google import REDIRECT, GoogleRig, consent, google_rig, provider_options
from tests.emulators.google import GoogleEmulator
from tests.emulators.server import serve

WINDOW = (datetime(2029, 12, 1, tzinfo=UTC), datetime(2030, 3, 1, tzinfo=UTC))
MONDAY = datetime(2030, 1, 7, 9, tzinfo=UTC)  # 09:00 in London too (GMT in January)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


@pytest.fixture
def rig(request: pytest.FixtureRequest) -> Iterator[GoogleRig]:
    with google_rig(request) as made:
        yield made


def london(instant: datetime) -> EventTime:
    return EventTime(instant, None, "Europe/London")


def changes(rig: GoogleRig, cursor: str | None = None) -> tuple[dict[str, RemoteItem], list[str], str | None, bool]:
    found = rig.provider.changes(rig.conn, rig.calendar_id, cursor, WINDOW)
    return {item.remote_id: item for item in found.items}, found.removed, found.cursor, found.complete


def horae_event(uid: str = "evt_0123456789abcdef01234567", **fields: Any) -> Event:
    summary, all_day = fields.pop("summary", "Planning"), fields.pop("all_day", False)
    values: dict[str, Any] = {
        "starts_at": MONDAY,
        "ends_at": MONDAY + HOUR,
        "start_tzid": "Europe/London",
        "end_tzid": "Europe/London",
        "description": "Agenda",
        "location": {"description": "Room 1"},
        **fields,
    }
    now = datetime(2029, 12, 1, tzinfo=UTC)
    return Event("evr_1", "cal_1", "acc_1", uid, summary, all_day, now, now, **values)


def stored_events(rig: GoogleRig) -> list[dict[str, Any]]:
    with rig.emulator.lock:
        return [e for e in rig.emulator.events[rig.calendar_id].values() if e["status"] != "cancelled"]


# --- linking ----------------------------------------------------------------------------------------------


def test_authorization_url_asks_for_offline_consent_to_the_calendars() -> None:
    provider = GoogleCalendarProvider(provider_options("https://google.test"))
    url = urlsplit(provider.authorization_url("https://horae.test/cb?x=1", "st&ate"))
    provider.close()
    assert f"{url.scheme}://{url.netloc}{url.path}" == "https://google.test/auth"
    assert dict(parse_qsl(url.query)) == {
        "client_id": "horae-client",
        "redirect_uri": "https://horae.test/cb?x=1",
        "response_type": "code",
        "scope": "https://www.googleapis.com/auth/calendar openid email",
        "access_type": "offline",
        "prompt": "consent",
        "state": "st&ate",
    }


def test_complete_reads_the_email_from_the_id_token(rig: GoogleRig) -> None:
    linked = rig.google.complete(consent(rig.google, rig.url), REDIRECT)
    assert (linked.profile_name, linked.settings, linked.provider_service) == (
        "user@example.com",
        {"email": "user@example.com"},
        "gsuite",  # a domain of its own: Google Workspace
    )
    assert set(linked.secrets) == {"access_token", "refresh_token", "expires_at"}
    assert abs(int(linked.secrets["expires_at"]) - (time.time() + 3600)) < 60
    with pytest.raises(ProviderAuthRejected, match="invalid_grant"):  # codes are single use
        rig.google.complete(consent(rig.google, rig.url) + "x", REDIRECT)


def test_complete_without_id_token_asks_the_calendar_list_and_refuses_missing_calendar_scope() -> None:
    google = GoogleEmulator(email="someone@gmail.com")
    google.id_tokens = False
    with serve(google.app) as url:
        provider = GoogleCalendarProvider(provider_options(url))
        try:
            linked = provider.complete(consent(provider, url), REDIRECT)
            assert (linked.profile_name, linked.provider_service) == ("someone@gmail.com", "google")
            # The person unticked calendar access on Google's consent screen.
            query = {"client_id": "horae-client", "redirect_uri": REDIRECT, "scope": "openid email", "state": "s"}
            answer = httpx.get(f"{url}/auth?{urlencode(query)}", timeout=5)
            code = parse_qs(urlsplit(answer.headers["location"]).query)["code"][0]
            with pytest.raises(ProviderAuthRejected, match="not granted"):
                provider.complete(code, REDIRECT)
        finally:
            provider.close()


# --- calendars --------------------------------------------------------------------------------------------


def test_calendars_are_listed_and_created(rig: GoogleRig) -> None:
    shared = f"shared-{rig.calendar_id}"
    rig.emulator.add_calendar(shared, "Holidays", access_role="reader", background_color="#ff0000")
    found = {c.remote_id: c for c in rig.provider.calendars(rig.conn)}
    primary = found["user@example.com"]
    assert primary.primary and not primary.readonly
    assert not found[rig.calendar_id].primary and not found[rig.calendar_id].readonly
    assert found[shared].readonly and found[shared].name == "Holidays" and found[shared].color == "#ff0000"

    made = rig.provider.create_calendar(rig.conn, "Team", "#49BED8")
    assert made.remote_id and made.name == "Team" and not made.readonly
    again = {c.remote_id: c for c in rig.provider.calendars(rig.conn)}[made.remote_id]
    assert (again.name, again.color, again.readonly) == ("Team", "#49BED8", False)


# --- reading ----------------------------------------------------------------------------------------------


def test_full_then_incremental_changes(rig: GoogleRig) -> None:
    timed = rig.add("Standup", MONDAY, MONDAY + HOUR, tzid="Europe/London")
    all_day = rig.add("Holiday", date(2030, 1, 8), date(2030, 1, 10))
    rig.add("Long ago", datetime(2020, 1, 1, tzinfo=UTC), datetime(2020, 1, 1, 1, tzinfo=UTC))

    items, removed, cursor, complete = changes(rig)
    assert set(items) == {timed, all_day} and removed == [] and complete and cursor
    event = items[timed].event
    assert (event.summary, event.start, event.end) == ("Standup", london(MONDAY), london(MONDAY + HOUR))
    assert event.uid == f"{timed}@google.com" and event.recurrence is None and items[timed].etag
    holiday = items[all_day].event
    assert holiday.all_day and (holiday.start.day, holiday.end.day) == (date(2030, 1, 8), date(2030, 1, 10))

    assert changes(rig, cursor)[:2] == ({}, [])
    rig.change(timed, "Standup (renamed)")
    rig.remove(all_day)
    added = rig.add("New", MONDAY + DAY, MONDAY + DAY + HOUR)
    items, removed, cursor2, complete = changes(rig, cursor)
    assert set(items) == {timed, added} and removed == [all_day] and not complete and cursor2
    assert items[timed].event.summary == "Standup (renamed)"


def test_a_series_with_a_moved_and_a_cancelled_instance(rig: GoogleRig) -> None:
    series = rig.add("Daily", MONDAY, MONDAY + HOUR, tzid="Europe/London", rrule="FREQ=DAILY;COUNT=5")
    items, _, cursor, _ = changes(rig)
    before = items[series].etag
    assert items[series].event.recurrence == {"rrule": "FREQ=DAILY;COUNT=5"}

    rig.move_instance(series, MONDAY + DAY, MONDAY + DAY + 2 * HOUR, MONDAY + DAY + 3 * HOUR)
    rig.cancel_instance(series, MONDAY + 2 * DAY)
    for cursor_used in (cursor, None):  # an incremental list names only the instances; a full one all
        items, removed, _, _ = changes(rig, cursor_used)
        assert list(items) == [series] and removed == []
        event = items[series].event
        assert items[series].etag != before  # the master did not change, but the series did
        moved, cancelled = sorted(event.overrides, key=lambda o: o.cancelled)
        assert moved.key == recurrence.key_of(MONDAY + DAY) and not moved.cancelled and moved.fields == {}
        assert (moved.start, moved.end) == (london(MONDAY + DAY + 2 * HOUR), london(MONDAY + DAY + 3 * HOUR))
        assert cancelled.key == recurrence.key_of(MONDAY + 2 * DAY) and cancelled.cancelled

    # Renaming the master alone: the incremental list names only it, and its exceptions still come along.
    _, _, cursor, _ = changes(rig)
    rig.change(series, "Daily (renamed)")
    items, _, _, _ = changes(rig, cursor)
    assert items[series].event.summary == "Daily (renamed)" and len(items[series].event.overrides) == 2

    _, _, cursor, _ = changes(rig)
    rig.remove(series)
    assert changes(rig, cursor)[:2] == ({}, [series])


def paris(hour: str) -> dict[str, str]:
    return {"dateTime": f"{hour}:00:00+01:00", "timeZone": "Europe/Paris"}


def test_recurrence_lines_rules_exdates_and_what_is_left_out() -> None:
    master = {
        "id": "abc123",
        "iCalUID": "abc123@google.com",
        "etag": '"1"',
        "summary": "Weekly",
        "start": paris("2030-01-07T10"),
        "end": paris("2030-01-07T11"),
        "recurrence": [
            "RRULE:FREQ=WEEKLY;BYDAY=MO;UNTIL=20300301T000000Z",
            "EXDATE;TZID=Europe/Paris:20300114T100000,20300121T100000",
            "EXDATE:20300128T090000Z",
            "RDATE;VALUE=DATE:20300202",
        ],
    }
    exception = {
        "id": "abc123_20300204T090000Z",
        "etag": '"2"',
        "recurringEventId": "abc123",
        "originalStartTime": paris("2030-02-04T10"),
        "summary": "Weekly (in the big room)",
        "start": paris("2030-02-04T14"),
        "end": paris("2030-02-04T15"),
    }
    event = google_events.read_event(master, [exception], "Etc/UTC")
    assert event.recurrence == {"rrule": "FREQ=WEEKLY;BYDAY=MO;UNTIL=20300301T000000Z"}
    assert event.cancelled == ("20300114T090000Z", "20300121T090000Z", "20300128T090000Z")
    assert event.problems == ("RDATE is not supported: left out",)
    (moved,) = event.overrides
    assert moved.key == "20300204T090000Z" and moved.fields == {"summary": "Weekly (in the big room)"}
    assert moved.start == EventTime(datetime(2030, 2, 4, 13, tzinfo=UTC), None, "Europe/Paris")

    days = master | {"start": {"date": "2030-01-07"}, "end": {"date": "2030-01-08"}}
    days["recurrence"] = ["RRULE:FREQ=DAILY;COUNT=3", "EXDATE;VALUE=DATE:20300108"]
    event = google_events.read_event(days, [], "America/New_York")
    assert event.all_day and event.cancelled == ("20300108",) and event.start.tzid == "America/New_York"
    bad = google_events.read_event({**master, "recurrence": ["RRULE:FREQ=SECONDLY"]}, [], "Etc/UTC")
    assert bad.recurrence is None and "RRULE not supported" in bad.problems[0]


def test_an_instance_whose_series_is_elsewhere_is_a_single_event(rig: GoogleRig) -> None:
    start, end = {"dateTime": "2030-01-07T09:00:00Z"}, {"dateTime": "2030-01-07T10:00:00Z"}
    fields = {"summary": "Invited once", "start": start, "end": end, "originalStartTime": start}
    lone = rig.emulator.add_event(rig.calendar_id, fields | {"recurringEventId": "notinthiscalendar"})
    items, _, _, _ = changes(rig)
    assert list(items) == [lone["id"]] and items[lone["id"]].event.recurrence is None


def test_long_listings_are_read_page_by_page(rig: GoogleRig) -> None:
    made = {rig.add(f"Event {n}", MONDAY + n * DAY, MONDAY + n * DAY + HOUR) for n in range(5)}
    rig.google.page_size = 2
    items, _, cursor, _ = changes(rig)
    assert set(items) == made and cursor


def test_an_expired_sync_token_asks_for_a_full_listing(rig: GoogleRig) -> None:
    _, _, cursor, _ = changes(rig)
    rig.emulator.invalidate_sync_tokens()
    with pytest.raises(SyncCursorExpired):
        changes(rig, cursor)


# --- writing ----------------------------------------------------------------------------------------------


def test_writes_create_update_retry_and_delete(rig: GoogleRig) -> None:
    event = horae_event()
    first = rig.provider.write_event(rig.conn, rig.calendar_id, event, None, None)
    assert first.remote_id == google_events.event_id_for(event.event_uid) and first.etag
    again = rig.provider.write_event(rig.conn, rig.calendar_id, event, None, None)  # a retry after a lost answer
    assert again.remote_id == first.remote_id and len(stored_events(rig)) == 1

    items, _, cursor, _ = changes(rig)
    read = items[first.remote_id]
    assert read.etag == again.etag and read.event.uid == event.event_uid  # how the sync adopts Horae's own event
    assert (read.event.summary, read.event.description, read.event.location) == ("Planning", "Agenda", "Room 1")
    assert read.event.start == london(MONDAY)

    event.summary = "Planning (moved)"
    event.starts_at, event.ends_at = MONDAY + HOUR, MONDAY + 2 * HOUR
    updated = rig.provider.write_event(rig.conn, rig.calendar_id, event, first.remote_id, again.etag)
    assert updated.remote_id == first.remote_id and updated.etag != again.etag

    rig.change(first.remote_id, "Changed on Google meanwhile")  # Horae's etag is now stale: Horae's write wins
    event.summary = "Planning (final)"
    final = rig.provider.write_event(rig.conn, rig.calendar_id, event, first.remote_id, updated.etag)
    assert rig.summary_of(first.remote_id) == "Planning (final)" and final.etag != updated.etag

    rig.provider.delete_event(rig.conn, rig.calendar_id, first.remote_id, final.etag)
    assert rig.summary_of(first.remote_id) is None
    rig.provider.delete_event(rig.conn, rig.calendar_id, first.remote_id, final.etag)  # already deleted: 410
    rig.provider.delete_event(rig.conn, rig.calendar_id, "neverexisted1", None)  # unknown: 404
    assert changes(rig, cursor)[:2] == ({}, [first.remote_id])

    # Written again after its deletion (the id cannot be reused on Google): the deleted object comes back.
    back = rig.provider.write_event(rig.conn, rig.calendar_id, event, None, None)
    assert back.remote_id == first.remote_id and rig.summary_of(back.remote_id) == "Planning (final)"


def test_an_all_day_event_with_a_link(rig: GoogleRig) -> None:
    day = date(2030, 1, 8)
    event = horae_event(
        all_day=True, starts_at=None, ends_at=None, start_date=day, end_date=day + DAY, url="https://x.test/a"
    )
    written = rig.provider.write_event(rig.conn, rig.calendar_id, event, None, None)
    read = changes(rig)[0][written.remote_id].event
    assert read.all_day and (read.start.day, read.end.day) == (date(2030, 1, 8), date(2030, 1, 9))
    assert read.url == "https://x.test/a"


def test_a_series_written_with_a_moved_and_a_cancelled_instance(rig: GoogleRig) -> None:
    series = horae_event(recurrence={"rrule": "FREQ=DAILY;COUNT=5"})
    now = datetime(2029, 12, 2, tzinfo=UTC)
    tuesday, wednesday = recurrence.key_of(MONDAY + DAY), recurrence.key_of(MONDAY + 2 * DAY)
    moved_to = (london(MONDAY + DAY + 3 * HOUR), london(MONDAY + DAY + 4 * HOUR))
    late = recurrence.moved_exception(series, *moved_to, {"summary": "Late"}, now, None)
    series.details = {EXCEPTIONS: {tuesday: late, wednesday: recurrence.cancelled_exception(now, None)}}
    written = rig.provider.write_event(rig.conn, rig.calendar_id, series, None, None)
    items, _, cursor, _ = changes(rig)
    read = items[written.remote_id]
    assert read.event.recurrence == {"rrule": "FREQ=DAILY;COUNT=5"} and read.event.uid == series.event_uid
    assert read.event.cancelled == (wednesday,)
    (moved,) = read.event.overrides
    assert (moved.key, moved.start, moved.end) == (tuesday, *moved_to)
    assert moved.fields == {"summary": "Late"}
    assert written.etag == read.etag  # so the next sync sees Horae's own write as unchanged

    # Cancelling the moved instance too; written again: no duplicates, and Google hides it.
    exceptions = recurrence.exceptions(series)
    exceptions[tuesday] = recurrence.cancelled_exception(now, None)
    series.details = {EXCEPTIONS: exceptions}
    rig.provider.write_event(rig.conn, rig.calendar_id, series, written.remote_id, written.etag)
    again = changes(rig, cursor)[0][written.remote_id].event
    assert set(again.cancelled) | {o.key for o in again.overrides if o.cancelled} == {tuesday, wednesday}
    assert not [o for o in again.overrides if not o.cancelled] and len(stored_events(rig)) == 1


def test_event_ids_are_base32hex_and_read_back() -> None:
    for uid in ("evt_0123456789abcdef01234567", "x", "ünïcødé uid@example.com"):
        made = google_events.event_id_for(uid)
        assert 5 <= len(made) <= 1024 and set(made) <= set("0123456789abcdefghijklmnopqrstuv")
        assert google_events.uid_from_id(made) == uid
    long_uid = "u" * 700
    hashed = google_events.event_id_for(long_uid)
    assert len(hashed) < 100 and google_events.uid_from_id(hashed) is None
    assert google_events.uid_from_id("4k2k5g9ab0r8j0c1") is None


# --- refusals ---------------------------------------------------------------------------------------------


def test_revoked_access_is_an_auth_refusal_until_relinked(rig: GoogleRig) -> None:
    rig.break_auth()
    calls = (
        lambda: rig.provider.calendars(rig.conn),
        lambda: changes(rig),
        lambda: rig.provider.write_event(rig.conn, rig.calendar_id, horae_event(), None, None),
    )
    for call in calls:
        with pytest.raises(ProviderAuthRejected) as caught:
            call()
        assert all(secret not in str(caught.value) for secret in rig.conn.secrets.values())
    rig.restore_auth()
    assert rig.provider.calendars(rig.conn)


def test_tokens_are_refreshed_when_rejected_or_about_to_expire(rig: GoogleRig) -> None:
    def token_calls() -> int:
        return sum(1 for r in rig.emulator.requests if r.path == "/token")

    first = rig.conn.secrets["access_token"]
    rig.emulator.expire_access_tokens()
    before = token_calls()
    rig.provider.calendars(rig.conn)
    second = rig.conn.secrets["access_token"]
    assert second != first and token_calls() == before + 1  # refreshed once on the 401, kept in conn.secrets

    rig.conn.secrets["expires_at"] = str(int(time.time()) + 10)  # inside the margin: renewed before the call
    rig.provider.calendars(rig.conn)
    assert rig.conn.secrets["access_token"] != second and token_calls() == before + 2
    assert int(rig.conn.secrets["expires_at"]) > time.time() + 3000
    rig.provider.calendars(rig.conn)
    assert token_calls() == before + 2


@pytest.mark.parametrize(
    ("status", "reason"), [(429, "rateLimitExceeded"), (403, "userRateLimitExceeded"), (503, "backendError")]
)
def test_a_busy_service_says_when_to_come_back(rig: GoogleRig, status: int, reason: str) -> None:
    rig.emulator.throttle(1, retry_after=7, status=status, reason=reason)
    with pytest.raises(ProviderUnavailable) as caught:
        changes(rig)
    assert caught.value.retry_after_seconds == 7 and str(status) in str(caught.value)
    assert changes(rig)[3]  # served again


def test_an_unreachable_service_is_unavailable_and_other_refusals_are_errors(rig: GoogleRig) -> None:
    with httpx.Client() as probe, serve(GoogleEmulator().app) as gone_url:
        probe.get(gone_url)
    provider = GoogleCalendarProvider(provider_options(gone_url))  # that server has stopped: refused connections
    try:
        with pytest.raises(ProviderUnavailable, match="could not connect"):
            provider.calendars(Connection("p", {}, {"access_token": "a", "refresh_token": "r", "expires_at": "0"}))
    finally:
        provider.close()
    with pytest.raises(ProviderError, match="404"):
        rig.provider.changes(rig.conn, "nobody@example.com", None, WINDOW)
    broken = Connection("p", {}, {"access_token": "", "refresh_token": ""})
    with pytest.raises(ProviderAuthRejected, match="no refresh token"):
        rig.provider.calendars(broken)
