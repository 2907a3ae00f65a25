"""The iCalendar mapping: round trips through serialize/parse, exports as Google, iCloud/Radicale and
Outlook write them, errors, and series expanding as dateutil reads their RRULEs."""

from __future__ import annotations

import contextlib
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

import pytest
from dateutil.rrule import rrulestr
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from horae.domain import recurrence
from horae.domain.events import Event
from horae.domain.paging import window_of_days
from horae.domain.recurrence_rules import SeriesStart, rule_texts
from horae.domain.times import EventTime
from horae.providers.calendars.ical import (
    EXCEPTIONS,
    ICalError,
    RemoteEvent,
    parse_calendar,
    to_event_fields,
    to_exceptions,
)
from horae.providers.calendars.ical_writer import serialize_event

NOW = datetime(2026, 1, 1, tzinfo=UTC)
ZONES = sorted(z for z in available_timezones() if not z.startswith(("posix/", "right/", "SystemV/")))


def event(**values: Any) -> Event:
    base: dict[str, Any] = {
        "id": "evr_1",
        "calendar_id": "cal_1",
        "account_id": "acc_1",
        "event_uid": "evt_1",
        "summary": "Planning",
        "all_day": False,
        "created_at": NOW,
        "updated_at": NOW,
    }
    return Event(**{**base, **values})


def timed(start: datetime, minutes: int, tzid: str, **values: Any) -> Event:
    begins = start.astimezone(UTC)
    return event(
        starts_at=begins, ends_at=begins + timedelta(minutes=minutes), start_tzid=tzid, end_tzid=tzid, **values
    )


def one(text: str, default_tzid: str = "Etc/UTC") -> RemoteEvent:
    found = parse_calendar(text, default_tzid)
    assert len(found) == 1
    return found[0]


def calendar(*lines: str) -> str:
    return "\r\n".join(["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Test//EN", *lines, "END:VCALENDAR", ""])


def expanded(master: Event, first: date, last: date) -> list[tuple[str, bool, datetime | date | None]]:
    window = window_of_days(first, last, UTC)
    return [
        (i.key, i.deleted, i.starts_at if i.starts_at is not None else i.start_date)
        for i in recurrence.instances(master, window)
    ]


def stored(remote: RemoteEvent) -> Event:
    """What a sync engine would store for a parsed event."""
    master = event(event_uid=remote.uid, **to_event_fields(remote))
    master.details = {EXCEPTIONS: to_exceptions(remote, NOW)}
    return master


# --- round trips -----------------------------------------------------------------------------------


def test_timed_utc_round_trip() -> None:
    original = timed(datetime(2026, 3, 10, 9, tzinfo=UTC), 45, "Etc/UTC", description="Agenda", url="https://x.test/")
    original.location = {"description": "Room 1"}
    original.transparency, original.status = "transparent", "tentative"
    remote = one(serialize_event(original, "uid-1"))
    assert remote.uid == "uid-1"
    fields = to_event_fields(remote)
    for name in ("summary", "description", "location", "url", "transparency", "status", "all_day"):
        assert fields[name] == getattr(original, name), name
    assert (fields["starts_at"], fields["ends_at"]) == (original.starts_at, original.ends_at)
    assert fields["start_tzid"] == fields["end_tzid"] == "Etc/UTC"
    assert remote.recurrence is None and remote.problems == ()


def test_all_day_round_trip() -> None:
    original = event(all_day=True, start_date=date(2026, 5, 1), end_date=date(2026, 5, 4), status="cancelled")
    remote = one(serialize_event(original, "uid-2"))
    assert (remote.start.day, remote.end.day, remote.status) == (date(2026, 5, 1), date(2026, 5, 4), "cancelled")
    assert remote.all_day


def test_zoned_round_trip_writes_a_vtimezone() -> None:
    original = timed(datetime(2026, 7, 1, 9, tzinfo=ZoneInfo("America/New_York")), 30, "America/New_York")
    original.end_tzid = "Europe/Paris"
    text = serialize_event(original, "uid-3")
    assert "DTSTART;TZID=America/New_York:20260701T090000" in text
    assert "TZID:America/New_York" in text and "TZID:Europe/Paris" in text  # the VTIMEZONEs
    remote = one(text)
    assert (remote.start.tzid, remote.end.tzid) == ("America/New_York", "Europe/Paris")
    assert (remote.start.instant, remote.end.instant) == (original.starts_at, original.ends_at)


def test_recurring_round_trip_with_moved_and_cancelled_instances() -> None:
    london = ZoneInfo("Europe/London")
    master = timed(datetime(2026, 3, 2, 9, tzinfo=london), 60, "Europe/London")
    master.recurrence = {"rules": [{"frequency": "weekly", "by_day": ["MO", "WE"], "count": 8}]}
    moved_start = EventTime(datetime(2026, 3, 4, 15, tzinfo=UTC), None, "Europe/London")
    moved_end = EventTime(datetime(2026, 3, 4, 16, tzinfo=UTC), None, "Europe/London")
    moved_key = recurrence.key_of(datetime(2026, 3, 4, 9, tzinfo=UTC))
    cancelled_key = recurrence.key_of(datetime(2026, 3, 30, 8, tzinfo=UTC))  # 09:00 BST
    moved = recurrence.moved_exception(master, moved_start, moved_end, {"summary": "Moved"}, NOW, None)
    master.details = recurrence.with_exception(master, moved_key, moved)
    master.details = recurrence.with_exception(master, cancelled_key, recurrence.cancelled_exception(NOW, None))
    text = serialize_event(master, "uid-4")
    assert "RRULE:FREQ=WEEKLY;COUNT=8;BYDAY=MO,WE" in text
    assert "EXDATE;TZID=Europe/London:20260330T090000" in text
    assert "RECURRENCE-ID;TZID=Europe/London:20260304T090000" in text
    remote = one(text)
    assert remote.cancelled == (cancelled_key,)
    assert [(o.key, o.start, o.end, o.fields) for o in remote.overrides] == [
        (moved_key, moved_start, moved_end, {"summary": "Moved"})
    ]
    series = SeriesStart.of_event(master)
    assert remote.recurrence is not None
    assert rule_texts(remote.recurrence, series) == rule_texts(master.recurrence, series)
    assert expanded(stored(remote), date(2026, 3, 1), date(2026, 5, 1)) == expanded(
        master, date(2026, 3, 1), date(2026, 5, 1)
    )


def test_all_day_series_round_trip() -> None:
    master = event(all_day=True, start_date=date(2026, 1, 5), end_date=date(2026, 1, 6))
    master.recurrence = {"rrule": "FREQ=MONTHLY;BYMONTHDAY=5;UNTIL=20261231"}
    key = recurrence.key_of(date(2026, 2, 5))
    master.details = recurrence.with_exception(master, key, recurrence.cancelled_exception(NOW, None))
    text = serialize_event(master, "uid-5")
    assert "EXDATE;VALUE=DATE:20260205" in text
    remote = one(text)
    assert remote.cancelled == (key,)
    assert expanded(stored(remote), date(2026, 1, 1), date(2027, 1, 1)) == expanded(
        master, date(2026, 1, 1), date(2027, 1, 1)
    )


TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=80)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    summary=TEXT,
    tzid=st.sampled_from(ZONES),
    start=st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2037, 12, 31)),
    minutes=st.integers(min_value=0, max_value=60 * 24 * 3),
)
def test_round_trip_property(summary: str, tzid: str, start: datetime, minutes: int) -> None:
    begins = start.replace(microsecond=0, tzinfo=UTC)
    original = timed(begins, minutes, tzid, summary=summary)
    remote = one(serialize_event(original, "uid-p"))
    # iCalendar has no way to write a carriage return in text that survives line unfolding unchanged.
    assert remote.summary == summary.replace("\r\n", "\n").replace("\r", "\n") or "\r" in summary
    assert (remote.start.instant, remote.end.instant) == (original.starts_at, original.ends_at)
    local = begins.astimezone(ZoneInfo(tzid))
    ambiguous = local.replace(fold=0).astimezone(UTC) != begins  # written in UTC (see ical._local)
    if tzid in ("UTC", "Etc/UTC"):
        assert remote.start.tzid == "Etc/UTC"
    elif not ambiguous:
        assert remote.start.tzid == tzid


# --- exports as others write them ------------------------------------------------------------------

GOOGLE = calendar(
    "X-WR-TIMEZONE:Europe/Berlin",
    "BEGIN:VTIMEZONE",
    "TZID:Europe/Berlin",
    "BEGIN:STANDARD",
    "DTSTART:19701025T030000",
    "TZOFFSETFROM:+0200",
    "TZOFFSETTO:+0100",
    "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU",
    "END:STANDARD",
    "END:VTIMEZONE",
    "BEGIN:VEVENT",
    "DTSTART;TZID=Europe/Berlin:20260302T100000",
    "DTEND;TZID=Europe/Berlin:20260302T103000",
    "RRULE:FREQ=WEEKLY;WKST=MO;UNTIL=20260427T075959Z;BYDAY=MO",
    "EXDATE;TZID=Europe/Berlin:20260316T100000",
    "DTSTAMP:20260101T000000Z",
    "UID:abc123@google.com",
    "SUMMARY:Standup",
    "STATUS:CONFIRMED",
    "TRANSP:OPAQUE",
    "END:VEVENT",
    "BEGIN:VEVENT",
    "DTSTART;TZID=Europe/Berlin:20260324T140000",
    "DTEND;TZID=Europe/Berlin:20260324T143000",
    "RECURRENCE-ID;TZID=Europe/Berlin:20260323T100000",
    "UID:abc123@google.com",
    "SUMMARY:Standup (moved)",
    "END:VEVENT",
    "BEGIN:VEVENT",
    "RECURRENCE-ID;TZID=Europe/Berlin:20260406T100000",
    "DTSTART;TZID=Europe/Berlin:20260406T100000",
    "UID:abc123@google.com",
    "STATUS:CANCELLED",
    "END:VEVENT",
)


def test_google_series_with_override_and_cancellation() -> None:
    remote = one(GOOGLE)
    berlin = ZoneInfo("Europe/Berlin")
    assert remote.start == EventTime(datetime(2026, 3, 2, 9, tzinfo=UTC), None, "Europe/Berlin")
    assert remote.recurrence == {"rrule": "FREQ=WEEKLY;UNTIL=20260427T075959Z;BYDAY=MO;WKST=MO"}
    assert remote.cancelled == ("20260316T090000Z",)
    moved, cancelled = remote.overrides
    assert moved.key == "20260323T090000Z" and moved.fields == {"summary": "Standup (moved)"}
    assert moved.start == EventTime(datetime(2026, 3, 24, 14, tzinfo=berlin).astimezone(UTC), None, "Europe/Berlin")
    assert cancelled.key == "20260406T080000Z" and cancelled.cancelled
    instances = recurrence.instances(stored(remote), window_of_days(date(2026, 3, 1), date(2026, 5, 1), UTC))
    live = [i.starts_at for i in instances if not i.deleted]
    assert live == [
        datetime(2026, 3, 2, 9, tzinfo=UTC),
        datetime(2026, 3, 9, 9, tzinfo=UTC),
        datetime(2026, 3, 24, 13, tzinfo=UTC),  # moved; summer time by then
        datetime(2026, 3, 30, 8, tzinfo=UTC),
        datetime(2026, 4, 13, 8, tzinfo=UTC),
        datetime(2026, 4, 20, 8, tzinfo=UTC),  # UNTIL stops before the 27th's 08:00Z
    ]


ICLOUD = calendar(
    "BEGIN:VEVENT",
    "UID:8F6A-floating",
    "DTSTAMP:20260101T000000Z",
    "DTSTART:20260610T083000",
    "DURATION:PT1H30M",
    "SUMMARY:Dentist",
    "LOCATION:Main Street 1\\, Springfield",
    "DESCRIPTION:Bring the card\\, and the form\\nSecond line\\; with semicolon and a rather long tail tha",
    " t is folded across lines by the exporter",
    "URL:https://example.test/appointment",
    "TRANSP:TRANSPARENT",
    "STATUS:TENTATIVE",
    "END:VEVENT",
    "BEGIN:VEVENT",
    "UID:all-day@radicale",
    "DTSTART;VALUE=DATE:20260701",
    "SUMMARY:Holiday",
    "END:VEVENT",
    "BEGIN:VEVENT",
    "UID:no-end@radicale",
    "DTSTART:20260701T120000Z",
    "SUMMARY:Reminder",
    "END:VEVENT",
)


def test_icloud_radicale_floating_duration_folding_escaping() -> None:
    dentist, holiday, reminder = parse_calendar(ICLOUD, "America/Chicago")
    chicago = ZoneInfo("America/Chicago")
    assert dentist.start == EventTime(
        datetime(2026, 6, 10, 8, 30, tzinfo=chicago).astimezone(UTC), None, "America/Chicago"
    )
    assert dentist.end.instant == datetime(2026, 6, 10, 10, tzinfo=chicago).astimezone(UTC)
    assert dentist.description == (
        "Bring the card, and the form\nSecond line; with semicolon and a rather long tail that is folded across "
        "lines by the exporter"
    )
    assert dentist.location == "Main Street 1, Springfield"
    assert (dentist.url, dentist.transparency, dentist.status) == (
        "https://example.test/appointment",
        "transparent",
        "tentative",
    )
    assert to_event_fields(dentist)["location"] == {"description": "Main Street 1, Springfield"}
    assert (holiday.start.day, holiday.end.day, holiday.all_day) == (date(2026, 7, 1), date(2026, 7, 2), True)
    assert reminder.start == reminder.end and reminder.start.tzid == "Etc/UTC"


OUTLOOK = calendar(
    "BEGIN:VTIMEZONE",
    "TZID:Customized Time Zone",
    "BEGIN:STANDARD",
    "DTSTART:16011104T020000",
    "RRULE:FREQ=YEARLY;BYDAY=1SU;BYMONTH=11",
    "TZOFFSETFROM:-0400",
    "TZOFFSETTO:-0500",
    "END:STANDARD",
    "BEGIN:DAYLIGHT",
    "DTSTART:16010311T020000",
    "RRULE:FREQ=YEARLY;BYDAY=2SU;BYMONTH=3",
    "TZOFFSETFROM:-0500",
    "TZOFFSETTO:-0400",
    "END:DAYLIGHT",
    "END:VTIMEZONE",
    "BEGIN:VTIMEZONE",
    "TZID:Odd Fixed",
    "BEGIN:STANDARD",
    "DTSTART:16010101T000000",
    "TZOFFSETFROM:+0117",
    "TZOFFSETTO:+0117",
    "END:STANDARD",
    "END:VTIMEZONE",
    "BEGIN:VEVENT",
    "UID:040000008200E00074C5B7101A82E008",
    "DTSTART;TZID=Customized Time Zone:20261102T090000",
    "DTEND;TZID=Customized Time Zone:20261102T100000",
    "RRULE:FREQ=DAILY;COUNT=10",
    "SUMMARY:Sync",
    "END:VEVENT",
    "BEGIN:VEVENT",
    "UID:vendor-prefixed",
    "DTSTART;TZID=/freeassociation.sourceforge.net/Europe/Berlin:20260115T090000",
    "END:VEVENT",
    "BEGIN:VEVENT",
    "UID:windows-name",
    "DTSTART;TZID=W. Europe Standard Time:20260115T090000",
    "DTEND;TZID=Odd Fixed:20260115T100000",
    "SUMMARY:Windows",
    "END:VEVENT",
)


def test_outlook_custom_and_windows_tzids() -> None:
    sync, vendor, windows = parse_calendar(OUTLOOK)
    assert vendor.start == EventTime(datetime(2026, 1, 15, 8, tzinfo=UTC), None, "Europe/Berlin")
    assert sync.start.tzid == "America/New_York"  # matched by its offsets and DST rules
    assert sync.start.instant == datetime(2026, 11, 2, 14, tzinfo=UTC)
    assert windows.start == EventTime(datetime(2026, 1, 15, 8, tzinfo=UTC), None, "Europe/Berlin")
    # No IANA zone is +01:17: the instant is kept, the zone becomes UTC.
    assert windows.end == EventTime(datetime(2026, 1, 15, 8, 43, tzinfo=UTC), None, "Etc/UTC")


def test_unsupported_parts_are_reported() -> None:
    remote, orphan = parse_calendar(
        calendar(
            "BEGIN:VEVENT",
            "UID:hourly",
            "DTSTART:20260101T090000Z",
            "RRULE:FREQ=HOURLY;COUNT=3",
            "RDATE:20260105T090000Z",
            "END:VEVENT",
            "BEGIN:VEVENT",
            "UID:orphan",
            "RECURRENCE-ID:20260101T090000Z",
            "DTSTART:20260102T090000Z",
            "END:VEVENT",
        )
    )
    assert remote.recurrence is None and len(remote.problems) == 2
    assert orphan.start.instant == datetime(2026, 1, 2, 9, tzinfo=UTC) and len(orphan.problems) == 1


def test_calendar_without_events_and_several_events() -> None:
    assert parse_calendar(calendar()) == []
    two = parse_calendar(calendar(*ICLOUD.split("\r\n")[3:-2], *GOOGLE.split("\r\n")[3:-2]))
    assert [r.uid for r in two] == ["8F6A-floating", "all-day@radicale", "no-end@radicale", "abc123@google.com"]


# --- errors ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "garbage",
        "",
        "BEGIN:VEVENT\r\nUID:x\r\nDTSTART:20260101T000000Z\r\nEND:VEVENT\r\n",
        "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\n",
        calendar("BEGIN:VEVENT", "UID:x", "SUMMARY:No start", "END:VEVENT"),
        calendar("BEGIN:VEVENT", "UID:x", "DTSTART:2026xx", "END:VEVENT"),
        calendar("BEGIN:VEVENT", "DTSTART:20260101T000000Z", "END:VEVENT"),
        calendar("BEGIN:VEVENT", "UID:x", "DTSTART:20260101T000000Z", "DURATION:soon", "END:VEVENT"),
        calendar("BEGIN:VEVENT", "UID:x", "DTSTART;VALUE=DATE:20260101", "DTEND:20260102T000000Z", "END:VEVENT"),
    ],
)
def test_malformed_input_raises_ical_error(text: str) -> None:
    with pytest.raises(ICalError):
        parse_calendar(text)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(GOOGLE.split("\r\n") + OUTLOOK.split("\r\n") + ["X:\\", ":", ";;"]), max_size=40))
def test_shuffled_lines_raise_only_ical_error(lines: list[str]) -> None:
    with contextlib.suppress(ICalError):
        parse_calendar("\r\n".join(lines))


# --- expansion agrees with dateutil ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("dtstart", "rule"),
    [
        ("DTSTART;TZID=America/New_York:20260305T093000", "FREQ=WEEKLY;BYDAY=TU,TH;COUNT=12"),
        ("DTSTART;TZID=Europe/London:20260131T090000", "FREQ=MONTHLY;BYMONTHDAY=-1;UNTIL=20261231T235959Z"),
        ("DTSTART;TZID=Australia/Sydney:20260127T080000", "FREQ=MONTHLY;BYDAY=MO,TU;BYSETPOS=-1;COUNT=9"),
        ("DTSTART:20260301T120000Z", "FREQ=DAILY;INTERVAL=3;COUNT=20"),
    ],
)
def test_parsed_series_expand_like_dateutil(dtstart: str, rule: str) -> None:
    # Each DTSTART is an occurrence of its rule: otherwise RFC 5545 (and Horae) add it as an extra first
    # instance, which dateutil's rrule alone does not.
    remote = one(calendar("BEGIN:VEVENT", "UID:s", dtstart, f"RRULE:{rule}", "END:VEVENT"))
    assert remote.start.instant is not None
    local_start = remote.start.instant.astimezone(ZoneInfo(remote.start.tzid))
    expected = [d.astimezone(UTC) for d in rrulestr(rule, dtstart=local_start)]
    ours = expanded(stored(remote), date(2025, 12, 1), date(2028, 1, 1))
    assert [start for _, _, start in ours] == expected
