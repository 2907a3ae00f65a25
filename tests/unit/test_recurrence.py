"""Recurring series: the accepted rule shapes, expansion in the series' own zone across DST changes,
all-day series, and exceptions (moved and cancelled instances)."""

from __future__ import annotations

import time as clock
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from horae.domain import recurrence
from horae.domain.events import Event
from horae.domain.paging import Window, window_of_days
from horae.domain.recurrence import BadRecurrence
from horae.domain.times import EventTime

NOW = datetime(2026, 1, 1, tzinfo=UTC)
LONDON = ZoneInfo("Europe/London")


def timed(start: datetime, minutes: int, tzid: str, rule: dict[str, Any] | None) -> Event:
    starts_at = start.astimezone(UTC)
    return Event(
        id="evr_1",
        calendar_id="cal_1",
        account_id="acc_1",
        event_uid="evt_series",
        summary="Series",
        all_day=False,
        created_at=NOW,
        updated_at=NOW,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=minutes),
        start_tzid=tzid,
        end_tzid=tzid,
        recurrence=rule,
    )


def all_day(first: date, days: int, rule: dict[str, Any]) -> Event:
    return Event(
        id="evr_2",
        calendar_id="cal_1",
        account_id="acc_1",
        event_uid="evt_days",
        summary="Days",
        all_day=True,
        created_at=NOW,
        updated_at=NOW,
        start_date=first,
        end_date=first + timedelta(days=days),
        recurrence=rule,
    )


def utc_window(first: date, last: date) -> Window:
    return window_of_days(first, last, UTC)


def starts(master: Event, window: Window) -> list[datetime]:
    found = [i.starts_at for i in recurrence.instances(master, window)]
    return [s for s in found if s is not None]


WEEKLY = {"rules": [{"frequency": "weekly"}]}


def test_weekly_0900_london_stays_at_0900_local_across_both_dst_changes() -> None:
    master = timed(datetime(2026, 3, 16, 9, 0, tzinfo=LONDON), 60, "Europe/London", WEEKLY)
    spring = starts(master, utc_window(date(2026, 3, 16), date(2026, 4, 7)))
    assert [s.strftime("%m-%d %H:%M") for s in spring] == ["03-16 09:00", "03-23 09:00", "03-30 08:00", "04-06 08:00"]
    autumn = starts(master, utc_window(date(2026, 10, 19), date(2026, 11, 3)))
    assert [s.strftime("%m-%d %H:%M") for s in autumn] == ["10-19 08:00", "10-26 09:00", "11-02 09:00"]
    for instant in spring + autumn:
        assert instant.astimezone(LONDON).strftime("%H:%M") == "09:00"


@pytest.mark.parametrize(
    ("tzid", "first", "dst_day"),
    [
        ("America/New_York", date(2026, 3, 6), date(2026, 3, 8)),  # spring forward
        ("America/New_York", date(2026, 10, 30), date(2026, 11, 1)),  # fall back
        ("Australia/Sydney", date(2026, 4, 3), date(2026, 4, 5)),  # southern autumn: DST ends
        ("Australia/Sydney", date(2026, 10, 2), date(2026, 10, 4)),  # DST starts
    ],
)
def test_daily_series_keeps_its_local_time_over_a_dst_change(tzid: str, first: date, dst_day: date) -> None:
    zone = ZoneInfo(tzid)
    start = datetime(first.year, first.month, first.day, 9, 30, tzinfo=zone)
    master = timed(start, 45, tzid, {"rules": [{"frequency": "daily", "count": 5}]})
    found = recurrence.instances(master, utc_window(first - timedelta(days=1), first + timedelta(days=10)))
    assert len(found) == 5
    offsets = set()
    for instance in found:
        assert instance.starts_at is not None and instance.ends_at is not None
        local = instance.starts_at.astimezone(zone)
        assert local.strftime("%H:%M") == "09:30"
        assert instance.ends_at - instance.starts_at == timedelta(minutes=45)
        offsets.add(local.utcoffset())
    assert len(offsets) == 2, "the series crosses the change"
    assert any(i.starts_at and i.starts_at.astimezone(zone).date() == dst_day for i in found)


def test_a_utc_series_does_not_follow_anyones_dst() -> None:
    master = timed(datetime(2026, 3, 23, 9, 0, tzinfo=UTC), 60, "Etc/UTC", WEEKLY)
    found = starts(master, utc_window(date(2026, 3, 20), date(2026, 4, 10)))
    assert {s.strftime("%H:%M") for s in found} == {"09:00"}


def test_rrule_text_and_structured_rules_mean_the_same() -> None:
    structured = timed(
        datetime(2026, 1, 5, 9, tzinfo=LONDON),
        30,
        "Europe/London",
        {"rules": [{"frequency": "monthly", "by_day": ["-1FR"], "count": 3}]},
    )
    raw = timed(
        datetime(2026, 1, 5, 9, tzinfo=LONDON), 30, "Europe/London", {"rrule": "RRULE:FREQ=MONTHLY;BYDAY=-1FR;COUNT=3"}
    )
    window = utc_window(date(2026, 1, 1), date(2026, 12, 31))
    assert starts(structured, window) == starts(raw, window)
    # the event's own start is always the first instance, then the last Fridays of the month
    assert [s.date() for s in starts(raw, window)] == [date(2026, 1, 5), date(2026, 1, 30), date(2026, 2, 27)]


def test_until_as_a_date_includes_that_whole_local_day() -> None:
    master = timed(
        datetime(2026, 6, 1, 23, 0, tzinfo=LONDON),
        30,
        "Europe/London",
        {"rules": [{"frequency": "daily", "until": "2026-06-03"}]},
    )
    found = starts(master, utc_window(date(2026, 5, 1), date(2026, 7, 1)))
    assert [s.astimezone(LONDON).date() for s in found] == [date(2026, 6, 1), date(2026, 6, 2), date(2026, 6, 3)]


def test_interval_and_by_day() -> None:
    rule = {"rules": [{"frequency": "weekly", "interval": 2, "by_day": ["MO", "WE"], "count": 4}]}
    master = timed(datetime(2026, 1, 5, 9, tzinfo=UTC), 30, "Etc/UTC", rule)
    found = starts(master, utc_window(date(2026, 1, 1), date(2026, 3, 1)))
    assert [s.date().isoformat() for s in found] == ["2026-01-05", "2026-01-07", "2026-01-19", "2026-01-21"]


def test_all_day_series_repeat_floating_dates() -> None:
    master = all_day(date(2026, 2, 27), 2, {"rules": [{"frequency": "yearly", "count": 3}]})
    found = recurrence.instances(master, utc_window(date(2026, 1, 1), date(2030, 1, 1)))
    assert [(i.start_date, i.end_date) for i in found] == [
        (date(2026, 2, 27), date(2026, 3, 1)),
        (date(2027, 2, 27), date(2027, 3, 1)),
        (date(2028, 2, 27), date(2028, 2, 29)),
    ]
    assert all(i.starts_at is None for i in found)
    assert [i.key for i in found] == ["20260227", "20270227", "20280227"]


def test_window_edges_follow_the_read_rule() -> None:
    master = timed(datetime(2026, 1, 5, 9, tzinfo=UTC), 60, "Etc/UTC", {"rules": [{"frequency": "daily"}]})
    at_end = Window(
        datetime(2026, 1, 6, 10, tzinfo=UTC), datetime(2026, 1, 7, 9, tzinfo=UTC), date(2026, 1, 6), date(2026, 1, 7)
    )
    # 6 Jan 09:00-10:00 ends exactly at the window's start (included); 7 Jan starts exactly at its end (not)
    assert [s.day for s in starts(master, at_end)] == [6]


def test_moved_and_cancelled_instances() -> None:
    master = timed(datetime(2026, 1, 5, 9, tzinfo=UTC), 60, "Etc/UTC", {"rules": [{"frequency": "daily", "count": 5}]})
    moved_key = recurrence.instance_key(master, "2026-01-06T09:00:00Z")
    cancelled_key = recurrence.instance_key(master, "evt_series_20260107T090000Z")
    assert (moved_key, cancelled_key) == ("20260106T090000Z", "20260107T090000Z")
    moved = recurrence.moved_exception(
        master,
        EventTime(datetime(2026, 2, 1, 12, tzinfo=UTC), None, "Etc/UTC"),
        EventTime(datetime(2026, 2, 1, 13, tzinfo=UTC), None, "Etc/UTC"),
        {"summary": "Later"},
        NOW,
        "app_1",
    )
    master.details = recurrence.with_exception(master, moved_key, moved)
    master.details = recurrence.with_exception(master, cancelled_key, recurrence.cancelled_exception(NOW, "app_1"))
    january = recurrence.instances(master, utc_window(date(2026, 1, 1), date(2026, 1, 31)))
    assert [(i.key, i.deleted) for i in january] == [
        ("20260105T090000Z", False),
        ("20260107T090000Z", True),
        ("20260108T090000Z", False),
        ("20260109T090000Z", False),
    ]
    with_moved = recurrence.instances(master, utc_window(date(2026, 1, 1), date(2026, 1, 31)), include_moved=True)
    assert any(i.key == moved_key and i.starts_at == datetime(2026, 2, 1, 12, tzinfo=UTC) for i in with_moved)
    february = recurrence.instances(master, utc_window(date(2026, 2, 1), date(2026, 2, 2)))
    assert [(i.key, i.fields.get("summary")) for i in february] == [(moved_key, "Later")]


def test_instances_must_exist_in_the_series() -> None:
    master = timed(datetime(2026, 1, 5, 9, tzinfo=UTC), 60, "Etc/UTC", {"rules": [{"frequency": "weekly", "count": 2}]})
    for reference in ("2026-01-06T09:00:00Z", "2026-01-19T09:00:00Z", "2026-01-05", "evt_other_20260105T090000Z", "x"):
        with pytest.raises(BadRecurrence) as problem:
            recurrence.instance_key(master, reference)
        assert problem.value.field == "instance"
    assert recurrence.instance_key(master, "2026-01-12T09:00:00Z") == "20260112T090000Z"


def test_an_instance_keeps_the_kind_of_its_series() -> None:
    master = all_day(date(2026, 1, 5), 1, WEEKLY)
    with pytest.raises(BadRecurrence):
        recurrence.moved_exception(
            master,
            EventTime(datetime(2026, 1, 5, 9, tzinfo=UTC), None, "Etc/UTC"),
            EventTime(datetime(2026, 1, 5, 10, tzinfo=UTC), None, "Etc/UTC"),
            {},
            NOW,
            None,
        )


def test_split_uid() -> None:
    assert recurrence.split_uid("evt_abc_20260105T090000Z") == ("evt_abc", "20260105T090000Z")
    assert recurrence.split_uid("evt_abc_20260105") == ("evt_abc", "20260105")
    for plain in ("evt_abc", "evt_external_123", "evt_abc_20261399", "_20260105"):
        assert recurrence.split_uid(plain) is None


START = EventTime(datetime(2026, 1, 5, 9, tzinfo=UTC), None, "Europe/London")


@pytest.mark.parametrize(
    ("rule", "field"),
    [
        ("weekly", "recurrence"),
        ({}, "recurrence"),
        ({"rules": []}, "recurrence"),
        ({"rules": "weekly"}, "recurrence.rules"),
        ({"frequency": "weekly"}, "recurrence"),
        ({"rules": [{"frequency": "hourly"}]}, "recurrence.rules.0.frequency"),
        ({"rules": [{"frequency": "weekly", "interval": 0}]}, "recurrence.rules.0.interval"),
        ({"rules": [{"frequency": "weekly", "interval": True}]}, "recurrence.rules.0.interval"),
        ({"rules": [{"frequency": "weekly", "count": 0}]}, "recurrence.rules.0.count"),
        ({"rules": [{"frequency": "weekly", "count": 2, "until": "2027-01-01"}]}, "recurrence.rules.0.until"),
        ({"rules": [{"frequency": "weekly", "until": "soon"}]}, "recurrence.rules.0.until"),
        ({"rules": [{"frequency": "weekly", "by_day": ["XX"]}]}, "recurrence.rules.0.by_day"),
        ({"rules": [{"frequency": "weekly", "by_day": []}]}, "recurrence.rules.0.by_day"),
        ({"rules": [{"frequency": "monthly", "by_month_day": [32]}]}, "recurrence.rules.0.by_month_day"),
        ({"rules": [{"frequency": "yearly", "by_month": [0]}]}, "recurrence.rules.0.by_month"),
        ({"rules": [{"frequency": "weekly", "byday": ["MO"]}]}, "recurrence.rules.0.byday"),
        ({"rules": [{"frequency": "weekly", "week_start": "XX"}]}, "recurrence.rules.0.week_start"),
        ({"rules": [{"frequency": "yearly", "by_month": [2], "by_month_day": [30]}]}, "recurrence.rules.0"),
        ({"rules": [{"frequency": "weekly"}] * 6}, "recurrence"),
        ({"rrule": "FREQ=HOURLY"}, "recurrence.rrule"),
        ({"rrule": "FREQ=DAILY;BYHOUR=9"}, "recurrence.rrule"),
        ({"rrule": "FREQ=DAILY;INTERVAL=0"}, "recurrence.rrule"),
        ({"rrule": "FREQ=DAILY;COUNT=x"}, "recurrence.rrule"),
        ({"rrule": "FREQ=DAILY;UNTIL=tomorrow"}, "recurrence.rrule"),
        ({"rrule": "FREQ=DAILY;FREQ=WEEKLY"}, "recurrence.rrule"),
        ({"rrule": "DTSTART:20260101T000000Z\nRRULE:FREQ=DAILY"}, "recurrence.rrule"),
        ({"rrule": ["FREQ=DAILY", 3]}, "recurrence.rrule"),
        ({"rrule": "FREQ=MONTHLY;BYDAY=MO;BYSETPOS=6"}, "recurrence.rrule"),
        ({"rrule": "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30"}, "recurrence.rrule"),
        ({"rules": [{"frequency": "weekly"}], "exdates": []}, "recurrence"),
    ],
)
def test_bad_rules_name_the_field(rule: Any, field: str) -> None:
    with pytest.raises(BadRecurrence) as problem:
        recurrence.check(rule, START)
    assert problem.value.field == field, problem.value.message


@pytest.mark.parametrize(
    "rule",
    [
        {"rules": [{"frequency": "WEEKLY", "by_day": ["mo", "1TU", "-1FR"], "week_start": "su"}]},
        {"rules": [{"frequency": "monthly", "by_month_day": [1, -1], "until": "2027-01-01T00:00:00Z"}]},
        {"rules": [{"frequency": "yearly", "by_month": [2], "by_month_day": [29]}]},
        {"rules": [{"frequency": "monthly", "by_day": ["MO", "TU", "WE", "TH", "FR"], "by_set_pos": [-1]}]},
        {"rrule": "FREQ=WEEKLY;UNTIL=20270101"},
        {"rrule": "FREQ=WEEKLY;UNTIL=20270101T090000"},
        {"rrule": ["FREQ=WEEKLY;BYDAY=MO", "freq=monthly;bymonthday=15"]},
    ],
)
def test_good_rules_pass(rule: dict[str, Any]) -> None:
    recurrence.check(rule, START)


def test_impossible_rules_are_refused_quickly() -> None:
    began = clock.perf_counter()
    for text in (
        "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30",
        "FREQ=MONTHLY;BYMONTH=4;BYMONTHDAY=31",
        "FREQ=WEEKLY;BYDAY=MO;BYSETPOS=2",
        "FREQ=DAILY;BYSETPOS=2",
    ):
        with pytest.raises(BadRecurrence):
            recurrence.check({"rrule": text}, START)
    assert clock.perf_counter() - began < 2


def test_all_day_series_take_date_untils() -> None:
    day_start = EventTime(None, date(2026, 1, 5), "Etc/UTC")
    recurrence.check({"rules": [{"frequency": "daily", "until": "2026-02-01T10:00:00Z"}]}, day_start)
    master = all_day(date(2026, 1, 5), 1, {"rrule": "FREQ=DAILY;UNTIL=20260107T120000Z"})
    found = recurrence.instances(master, utc_window(date(2026, 1, 1), date(2026, 2, 1)))
    assert [i.start_date for i in found] == [date(2026, 1, 5), date(2026, 1, 6), date(2026, 1, 7)]


def test_a_stored_rule_that_no_longer_parses_is_not_a_series() -> None:
    broken = timed(datetime(2026, 1, 5, 9, tzinfo=UTC), 60, "Etc/UTC", {"rules": [{"frequency": "fortnightly"}]})
    assert not recurrence.is_series(broken)
    assert not recurrence.is_series(timed(datetime(2026, 1, 5, 9, tzinfo=UTC), 60, "Etc/UTC", None))
    assert recurrence.is_series(timed(datetime(2026, 1, 5, 9, tzinfo=UTC), 60, "Etc/UTC", WEEKLY))


def test_a_long_running_series_is_capped_per_read() -> None:
    master = timed(datetime(2000, 1, 1, tzinfo=UTC), 1, "Etc/UTC", {"rules": [{"frequency": "daily"}]})
    found = recurrence.instances(master, utc_window(date(2000, 1, 1), date(2030, 1, 1)))
    assert len(found) == recurrence.MAX_INSTANCES
