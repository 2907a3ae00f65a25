"""MicrosoftCalendarProvider against the Microsoft Graph emulator over real HTTP: linking, calendars, delta sync
with series, writes, and the service's refusals."""

from __future__ import annotations

import base64
import json
import socket
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from horae.domain import recurrence
from horae.domain.events import Event
from horae.domain.recurrence_rules import EXCEPTIONS
from horae.domain.remote import RemoteEvent
from horae.domain.times import EventTime
from horae.errors import (
    ProviderAuthRejected,
    ProviderError,
    ProviderUnavailable,
    SyncCursorExpired,
)
from horae.ports import Connection, ProviderChanges
from horae.providers.calendars.microsoft import _personal
from horae.providers.calendars.microsoft_events import read_single, transaction_id, uid_of
from horae.providers.calendars.microsoft_recurrence import Unsupported, recurrence_of, rrule_of, tzid_of
from tests.contract.rig_microsoft import REDIRECT, GraphRig, consent, graph_farm, make_rig, provider_for

WINDOW = (datetime(2030, 1, 1, tzinfo=UTC), datetime(2030, 3, 1, tzinfo=UTC))
NOW = datetime(2029, 12, 1, tzinfo=UTC)


@pytest.fixture
def rig(request: pytest.FixtureRequest) -> Iterator[GraphRig]:
    with make_rig(request) as made:
        yield made


def at(day: int, hour: int = 10, month: int = 1) -> datetime:
    return datetime(2030, month, day, hour, tzinfo=UTC)


def full(rig: GraphRig) -> ProviderChanges:
    return rig.provider.changes(rig.conn, rig.calendar_id, None, WINDOW)


def by_id(changes: ProviderChanges) -> dict[str, RemoteEvent]:
    return {item.remote_id: item.event for item in changes.items}


def horae_event(uid: str = "evt_ms1", **fields: Any) -> Event:
    event = Event("e1", "cal", "acc", uid, "Planning", False, NOW, NOW, starts_at=at(5), ends_at=at(5, 11))
    event.start_tzid = event.end_tzid = "Europe/Paris"
    event.description, event.location = "Agenda\nline two", {"description": "Room 4"}
    for name, value in fields.items():
        setattr(event, name, value)
    return event


def secrets_absent(rig: GraphRig, error: Exception) -> None:
    for secret in rig.conn.secrets.values():
        assert secret not in str(error)


# --- linking -----------------------------------------------------------------------------------------------


def test_link_through_consent(rig: GraphRig) -> None:
    url = urlsplit(rig.provider.authorization_url(REDIRECT, "st-9"))
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert query["scope"] == "offline_access Calendars.ReadWrite User.Read openid email"
    assert query | {"state": "st-9"} == query and query["response_type"] == "code"
    assert query["response_mode"] == "query" and query["redirect_uri"] == REDIRECT
    assert query["client_id"] == "horae-client"

    linked = rig.provider.complete(consent(rig.provider), REDIRECT)
    assert (linked.profile_name, linked.settings) == ("user@example.com", {"email": "user@example.com"})
    assert set(linked.secrets) == {"access_token", "refresh_token", "expires_at"}
    assert (linked.provider_name, linked.provider_service) == ("exchange", "office365")

    rig.graph.user |= {"mail": None, "userPrincipalName": "someone@hotmail.com"}
    personal = rig.provider.complete(consent(rig.provider), REDIRECT)
    assert personal.profile_name == "someone@hotmail.com"
    assert (personal.provider_name, personal.provider_service) == ("live_connect", "outlook_com")

    code = consent(rig.provider)
    rig.provider.complete(code, REDIRECT)
    with pytest.raises(ProviderAuthRejected, match="invalid_grant") as reused:
        rig.provider.complete(code, REDIRECT)  # codes are single use
    assert code not in str(reused.value)
    wrong = provider_for(rig.provider.graph.api_url.removesuffix("/v1.0"), client_secret="not-it")
    with pytest.raises(ProviderError, match="invalid_client"):
        wrong.complete(consent(wrong), REDIRECT)
    wrong.close()


def test_personal_accounts_are_told_by_the_tenant_then_the_domain() -> None:
    def token(tid: str) -> str:
        claims = base64.urlsafe_b64encode(json.dumps({"tid": tid}).encode()).decode().rstrip("=")
        return f"e30.{claims}.sig"

    assert _personal("a@contoso.com", token("9188040d-6c67-4c5b-b112-36a304b66dad"))
    assert not _personal("a@outlook.com", token("72f988bf-86f1-41af-91ab-2d7cd011db47"))
    assert _personal("a@outlook.com", None) and _personal("a@live.co.uk", None) and _personal("a@hotmail.fr", None)
    assert not _personal("a@live.contoso.com", None) and not _personal("a@contoso.com", "garbage")


# --- calendars ---------------------------------------------------------------------------------------------


def test_calendars_listed_and_created(rig: GraphRig) -> None:
    shared = rig.graph.add_calendar("Team (shared)", can_edit=False, hex_color="#ff0000")
    rig.provider.page_size = 1  # every page holds one calendar: the nextLinks are followed
    found = {c.remote_id: c for c in rig.provider.calendars(rig.conn)}
    assert found[rig.graph.default_calendar_id].primary and not found[rig.graph.default_calendar_id].readonly
    assert found[rig.calendar_id].color == "#336699" and not found[rig.calendar_id].primary
    assert (found[shared["id"]].readonly, found[shared["id"]].color) == (True, "#ff0000")

    made = rig.provider.create_calendar(rig.conn, "Projects", "#00ff00")
    assert (made.name, made.readonly, made.primary) == ("Projects", False, False) and made.remote_id
    again = rig.provider.create_calendar(rig.conn, "projects", None)  # a retry after a lost answer
    assert again.remote_id == made.remote_id
    assert len(rig.provider.calendars(rig.conn)) == 4


# --- reading -----------------------------------------------------------------------------------------------


def test_full_then_incremental_changes(rig: GraphRig) -> None:
    lunch = rig.add("Lunch", at(3, 12), at(3, 13), "Europe/London")
    holiday = rig.add("Holiday", date(2030, 1, 20), date(2030, 1, 22), "America/New_York")
    rig.graph.update_event(lunch, body={"contentType": "text", "content": "Bring cake"}, showAs="free")
    rig.graph.update_event(lunch, location={"displayName": "Canteen"})
    rig.add("Next year", at(3, 12).replace(year=2031), at(3, 13).replace(year=2031))
    for day in range(4, 9):
        rig.add(f"Filler {day}", at(day), at(day, 11))
    rig.provider.page_size = 2  # several pages per round

    first = full(rig)
    events = by_id(first)
    assert first.complete and first.cursor and first.removed == [] and len(events) == 7
    assert events[lunch] == RemoteEvent(
        uid=events[lunch].uid,
        summary="Lunch",
        description="Bring cake",
        location="Canteen",
        url=None,
        transparency="transparent",
        status="confirmed",
        start=EventTime(at(3, 12), None, "Europe/London"),
        end=EventTime(at(3, 13), None, "Europe/London"),
    )
    assert events[lunch].uid.startswith("040000008200E00074C5B7101A82E008")  # not Horae's: the iCalUId
    assert (events[holiday].start, events[holiday].end) == (
        EventTime(None, date(2030, 1, 20), "America/New_York"),
        EventTime(None, date(2030, 1, 22), "America/New_York"),
    )
    etags = {item.remote_id: item.etag for item in first.items}
    assert etags[lunch] == rig.graph.get_event(lunch)["changeKey"]  # type: ignore[index]

    quiet = rig.provider.changes(rig.conn, rig.calendar_id, first.cursor, WINDOW)
    assert (quiet.items, quiet.removed, quiet.complete) == ([], [], False)

    rig.change(lunch, "Late lunch")
    rig.remove(holiday)
    added = rig.add("Added", at(25), at(25, 11))
    later = rig.provider.changes(rig.conn, rig.calendar_id, quiet.cursor, WINDOW)
    assert {k: v.summary for k, v in by_id(later).items()} == {lunch: "Late lunch", added: "Added"}
    assert later.removed == [holiday] and not later.complete

    rig.graph.update_event(added, isCancelled=True)  # a meeting its organiser cancelled: gone from Horae
    cancelled = rig.provider.changes(rig.conn, rig.calendar_id, later.cursor, WINDOW)
    assert (cancelled.items, cancelled.removed) == ([], [added])
    assert added not in by_id(full(rig)) and added in full(rig).removed


def test_series_with_a_moved_and_a_cancelled_instance(rig: GraphRig) -> None:
    series = rig.add("Standup", at(6, 9), at(6, 9).replace(minute=15), "Europe/London", "FREQ=DAILY;COUNT=10")
    rig.cancel_instance(series, at(8, 9))
    rig.move_instance(series, at(9, 9), at(9, 14), at(9, 15))
    single = rig.add("Single", at(7), at(7, 11))

    first = full(rig)
    assert len(first.items) == 2  # one item per series, whatever its occurrences
    event = by_id(first)[series]
    assert event.recurrence == {"rrule": "FREQ=DAILY;COUNT=10"} and event.start.tzid == "Europe/London"
    assert event.start == EventTime(at(6, 9), None, "Europe/London")
    assert event.cancelled == (recurrence.key_of(at(8, 9)),)
    [moved] = event.overrides
    assert (moved.key, moved.cancelled, moved.fields) == (recurrence.key_of(at(9, 9)), False, {})
    assert (moved.start, moved.end) == (
        EventTime(at(9, 14), None, "Europe/London"),
        EventTime(at(9, 15), None, "Europe/London"),
    )

    rig.cancel_instance(series, at(12, 9))
    second = rig.provider.changes(rig.conn, rig.calendar_id, first.cursor, WINDOW)
    assert [item.remote_id for item in second.items] == [series]
    assert second.items[0].event.cancelled == (recurrence.key_of(at(8, 9)), recurrence.key_of(at(12, 9)))
    assert second.items[0].etag != by_id_etag(first, series)

    exception = next(e["id"] for e in rig.graph.events.values() if e["seriesMasterId"] == series)
    rig.graph.update_event(exception, subject="Standup (moved)")
    third = rig.provider.changes(rig.conn, rig.calendar_id, second.cursor, WINDOW)
    [override] = third.items[0].event.overrides
    assert override.fields == {"summary": "Standup (moved)"}

    rig.graph.update_event(single, recurrence={"pattern": {"type": "daily", "interval": 1}, "range": {"type": "noEnd"}})
    fourth = rig.provider.changes(rig.conn, rig.calendar_id, third.cursor, WINDOW)  # a single became a series
    assert [(i.remote_id, i.event.recurrence) for i in fourth.items] == [(single, {"rrule": "FREQ=DAILY"})]
    assert fourth.removed == []
    rig.graph.update_event(single, recurrence=None)
    fifth = rig.provider.changes(rig.conn, rig.calendar_id, fourth.cursor, WINDOW)  # and back
    assert [(i.remote_id, i.event.recurrence) for i in fifth.items] == [(single, None)] and fifth.removed == []

    rig.remove(series)
    rig.remove(single)
    gone = rig.provider.changes(rig.conn, rig.calendar_id, fifth.cursor, WINDOW)
    assert gone.items == [] and sorted(gone.removed) == sorted([series, single])


def by_id_etag(changes: ProviderChanges, remote_id: str) -> str | None:
    return next(item.etag for item in changes.items if item.remote_id == remote_id)


def test_series_across_daylight_saving_and_all_day_series(rig: GraphRig) -> None:
    # 09:00 London every Monday: 09:00 UTC in winter, 08:00 UTC from 31 March 2030.
    weekly = rig.add("Weekly", at(4, 9, month=3), at(4, 10, month=3), "Europe/London", "FREQ=WEEKLY;BYDAY=MO")
    days = rig.add("Days off", date(2030, 3, 4), date(2030, 3, 5), "Europe/London", "FREQ=WEEKLY;COUNT=8")
    rig.cancel_instance(days, datetime(2030, 3, 11, tzinfo=UTC))
    window = (datetime(2030, 3, 1, tzinfo=UTC), datetime(2030, 5, 1, tzinfo=UTC))
    events = by_id(rig.provider.changes(rig.conn, rig.calendar_id, None, window))
    assert events[weekly].recurrence == {"rrule": "FREQ=WEEKLY;BYDAY=MO"} and events[weekly].cancelled == ()
    assert events[days].recurrence == {"rrule": "FREQ=WEEKLY;COUNT=8;BYDAY=MO"}
    assert events[days].start == EventTime(None, date(2030, 3, 4), "Europe/London")
    assert events[days].cancelled == ("20300311",)


# --- writing -----------------------------------------------------------------------------------------------


def test_writes_create_update_retry_and_delete(rig: GraphRig) -> None:
    p, conn, cal = rig.provider, rig.conn, rig.calendar_id
    created = p.write_event(conn, cal, horae_event(), None, None)
    stored = rig.graph.get_event(created.remote_id)
    assert stored is not None and stored["transactionId"] == transaction_id("evt_ms1")
    assert (stored["start"]["dateTime"], stored["originalStartTimeZone"]) == (
        "2030-01-05T10:00:00.0000000",
        "Europe/Paris",
    )
    [item] = full(rig).items
    assert (item.remote_id, item.etag) == (created.remote_id, created.etag)
    assert item.event.uid == "evt_ms1" and item.event.description == "Agenda\nline two"
    assert item.event.location == "Room 4" and item.event.start.tzid == "Europe/Paris"

    # A retried create (the first answer was lost) finds the event the first attempt made and updates it.
    retried = p.write_event(conn, cal, horae_event(summary="Planning (retried)"), None, None)
    assert retried.remote_id == created.remote_id and len(rig.graph.events) == 1
    assert rig.summary_of(created.remote_id) == "Planning (retried)"

    updated = p.write_event(conn, cal, horae_event(summary="Planning v2"), created.remote_id, retried.etag)
    assert rig.summary_of(created.remote_id) == "Planning v2" and updated.etag != retried.etag
    rig.change(created.remote_id, "Changed in Outlook")
    stale = p.write_event(conn, cal, horae_event(summary="Planning v3"), created.remote_id, updated.etag)
    assert rig.summary_of(created.remote_id) == "Planning v3" and stale.etag == full(rig).items[0].etag

    day = horae_event("evt_ms2", all_day=True, starts_at=None, ends_at=None)
    day.start_date, day.end_date = date(2030, 1, 10), date(2030, 1, 12)
    all_day = p.write_event(conn, cal, day, None, None)
    assert by_id(full(rig))[all_day.remote_id].end == EventTime(None, date(2030, 1, 12), "Europe/Paris")

    p.delete_event(conn, cal, created.remote_id, updated.etag)  # a stale etag: deleted anyway
    assert rig.summary_of(created.remote_id) is None
    p.delete_event(conn, cal, created.remote_id, stale.etag)  # already gone: fine
    again = p.write_event(conn, cal, horae_event(summary="Back"), created.remote_id, stale.etag)
    assert again.remote_id != created.remote_id and rig.summary_of(again.remote_id) == "Back"


def test_a_series_is_written_with_its_exceptions(rig: GraphRig) -> None:
    series = horae_event("evt_series", summary="Weekly", recurrence={"rrule": "FREQ=WEEKLY;BYDAY=SA,MO;COUNT=6"})
    moved_key, cancelled_key = recurrence.key_of(at(7)), recurrence.key_of(at(12))
    moved = recurrence.moved_exception(
        series,
        EventTime(at(7, 15), None, "Europe/Paris"),
        EventTime(at(7, 16), None, "Europe/Paris"),
        {"summary": "Weekly (moved)"},
        NOW,
        None,
    )
    series.details = {EXCEPTIONS: {moved_key: moved, cancelled_key: recurrence.cancelled_exception(NOW, None)}}
    written = rig.provider.write_event(rig.conn, rig.calendar_id, series, None, None)
    stored = rig.graph.get_event(written.remote_id)
    assert stored is not None and stored["recurrence"]["pattern"] == {
        "interval": 1,
        "type": "weekly",
        "daysOfWeek": ["saturday", "monday"],
        "firstDayOfWeek": "monday",
    }
    [item] = full(rig).items
    assert item.etag == written.etag and item.event.uid == "evt_series"
    assert item.event.recurrence == {"rrule": "FREQ=WEEKLY;COUNT=6;BYDAY=SA,MO"}
    assert item.event.cancelled == (cancelled_key,)
    [override] = item.event.overrides
    assert (override.key, override.start, override.fields) == (
        moved_key,
        EventTime(at(7, 15), None, "Europe/Paris"),
        {"summary": "Weekly (moved)"},
    )
    again = rig.provider.write_event(rig.conn, rig.calendar_id, series, written.remote_id, written.etag)
    assert again.remote_id == written.remote_id and full(rig).items[0].event.cancelled == (cancelled_key,)


def test_unsupported_series_and_read_only_calendars_are_refused(rig: GraphRig) -> None:
    odd = horae_event(recurrence={"rrule": "FREQ=MONTHLY;BYMONTHDAY=1,15"})
    with pytest.raises(ProviderError, match="Outlook cannot hold"):
        rig.provider.write_event(rig.conn, rig.calendar_id, odd, None, None)
    shared = rig.graph.add_calendar("Shared", can_edit=False)
    with pytest.raises(ProviderError, match="ErrorAccessDenied") as refused:
        rig.provider.write_event(rig.conn, shared["id"], horae_event(), None, None)
    assert not isinstance(refused.value, ProviderAuthRejected)


# --- the service's refusals --------------------------------------------------------------------------------


def test_tokens_renewed_then_refused(rig: GraphRig) -> None:
    before = dict(rig.conn.secrets)
    rig.graph.expire_access_tokens()
    assert rig.provider.calendars(rig.conn)  # a 401: renewed once, and the call goes through
    assert rig.conn.secrets["access_token"] != before["access_token"]
    assert rig.conn.secrets["refresh_token"] != before["refresh_token"]  # rotated, kept for the caller to seal
    rig.conn.secrets["expires_at"] = str(int(datetime.now(UTC).timestamp()) + 30)
    renewed = dict(rig.conn.secrets)
    rig.provider.calendars(rig.conn)  # about to expire: renewed before the call
    assert rig.conn.secrets["access_token"] != renewed["access_token"]

    rig.break_auth()
    for call in (lambda: rig.provider.calendars(rig.conn), lambda: full(rig)):
        with pytest.raises(ProviderAuthRejected, match="invalid_grant") as refused:
            call()
        secrets_absent(rig, refused.value)
    rig.restore_auth()
    assert rig.provider.calendars(rig.conn)


def test_throttling_and_outages_say_when_to_return(rig: GraphRig) -> None:
    rig.throttle(7)
    with pytest.raises(ProviderUnavailable) as throttled:
        full(rig)
    assert throttled.value.retry_after_seconds == 7
    secrets_absent(rig, throttled.value)
    rig.graph.outage(1, 503, format_datetime(datetime.now(UTC) + timedelta(seconds=120), usegmt=True))
    with pytest.raises(ProviderUnavailable) as down:
        rig.provider.write_event(rig.conn, rig.calendar_id, horae_event(), None, None)
    assert down.value.retry_after_seconds is not None and 100 <= down.value.retry_after_seconds <= 120
    rig.graph.outage(1, 504)
    with pytest.raises(ProviderUnavailable) as gateway:
        rig.provider.delete_event(rig.conn, rig.calendar_id, "evt-x", None)
    assert gateway.value.retry_after_seconds is None
    assert full(rig).complete  # and back


def test_unreachable_service(request: pytest.FixtureRequest) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    provider = provider_for(closed)
    conn = Connection("pro_x", {}, {"access_token": "at-secret", "refresh_token": "rt-secret", "expires_at": "0"})
    with pytest.raises(ProviderUnavailable, match="could not be reached") as down:
        provider.calendars(conn)
    assert "secret" not in str(down.value) and down.value.__cause__ is None
    provider.close()


def test_expired_or_foreign_cursors(rig: GraphRig) -> None:
    rig.add("Lunch", at(3, 12), at(3, 13))
    first = full(rig)
    assert first.cursor is not None
    rig.graph.invalidate_delta_tokens()
    with pytest.raises(SyncCursorExpired):
        rig.provider.changes(rig.conn, rig.calendar_id, first.cursor, WINDOW)
    with pytest.raises(SyncCursorExpired):
        rig.provider.changes(rig.conn, rig.calendar_id, "not a cursor", WINDOW)
    foreign = json.dumps({"link": "https://attacker.example/v1.0/delta?$deltatoken=x", "series": {}})
    with pytest.raises(SyncCursorExpired):
        rig.provider.changes(rig.conn, rig.calendar_id, foreign, WINDOW)
    assert rig.graph.requests[-1].path.endswith("/calendarView/delta")  # nothing was sent elsewhere


# --- translations ------------------------------------------------------------------------------------------

ROUND_TRIPS = [
    ("FREQ=DAILY", "FREQ=DAILY"),
    ("FREQ=DAILY;INTERVAL=3;COUNT=5", "FREQ=DAILY;INTERVAL=3;COUNT=5"),
    ("FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"),
    ("FREQ=WEEKLY", "FREQ=WEEKLY;BYDAY=WE"),
    ("FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH;WKST=SU", "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH;WKST=SU"),
    ("FREQ=MONTHLY", "FREQ=MONTHLY;BYMONTHDAY=2"),
    ("FREQ=MONTHLY;BYDAY=-1FR;UNTIL=20301231", "FREQ=MONTHLY;UNTIL=20301231T225959Z;BYDAY=-1FR"),
    ("FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1", "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1"),
    ("FREQ=YEARLY;COUNT=3", "FREQ=YEARLY;COUNT=3;BYMONTHDAY=2;BYMONTH=1"),
    ("FREQ=YEARLY;BYMONTH=11;BYDAY=4TH", "FREQ=YEARLY;BYDAY=4TH;BYMONTH=11"),
]


@pytest.mark.parametrize(("rule", "expected"), ROUND_TRIPS)
def test_rrules_round_trip_through_outlook_patterns(rule: str, expected: str) -> None:
    event = horae_event(recurrence={"rrule": rule}, starts_at=at(2), ends_at=at(2, 11))  # a Wednesday, Paris
    pattern = recurrence_of(event)
    assert pattern["range"]["startDate"] == "2030-01-02" and pattern["range"]["recurrenceTimeZone"] == "Europe/Paris"
    assert rrule_of(pattern, EventTime(at(2), None, "Europe/Paris")) == expected


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=MONTHLY;BYMONTHDAY=1,15",
        "FREQ=MONTHLY;BYMONTHDAY=-1",
        "FREQ=YEARLY;BYMONTH=1,7",
        "FREQ=DAILY;INTERVAL=2;BYDAY=MO",
        "FREQ=MONTHLY;BYDAY=1MO,3MO",
        "FREQ=WEEKLY;BYDAY=1MO",
        "FREQ=MONTHLY;BYMONTH=1,7",
        "FREQ=MONTHLY;BYDAY=MO",
    ],
)
def test_rules_outlook_cannot_hold(rule: str) -> None:
    with pytest.raises(Unsupported):
        recurrence_of(horae_event(recurrence={"rrule": rule}))


def test_html_descriptions_become_text() -> None:
    item = {"id": "e", "subject": "S", "start": {"dateTime": "2030-01-01T10:00:00.0000000", "timeZone": "UTC"}}
    item["body"] = {"contentType": "html", "content": "<html><body><p>One &amp; two</p>three<br/>four</body></html>"}
    assert read_single(item).description == "One & two\nthree\nfour"
    assert read_single(item).end == EventTime(at(1), None, "Etc/UTC")  # no end: an instant


def test_zone_names_and_uids() -> None:
    assert tzid_of("Pacific Standard Time") == "America/Los_Angeles" and tzid_of("tzone://Microsoft/Utc") == "Etc/UTC"
    assert tzid_of("Europe/Berlin") == "Europe/Berlin" and tzid_of("Customized Time Zone", "Asia/Tokyo") == "Asia/Tokyo"
    assert uid_of({"transactionId": transaction_id("evt_1"), "iCalUId": "x"}) == "evt_1"
    assert uid_of({"transactionId": "someone-else", "iCalUId": "ical"}) == "ical"
    assert transaction_id("u" * 300).startswith("horae#") and len(transaction_id("u" * 300)) < 80


def test_farm_is_shared_by_the_session(request: pytest.FixtureRequest) -> None:
    assert graph_farm(request.config) is graph_farm(request.config)
    provider = provider_for(graph_farm(request.config).server.url + "/nobody")
    with pytest.raises(ProviderError):
        provider.complete("code", REDIRECT)
    provider.close()
