"""Day boundaries of `from`/`to` in the reader's `tzid`, as properties over every IANA zone: a local day
starts at its first instant (DST gaps and skipped days included), timed events meet the window by
Cronofy's rule (start before `to`, end on or after `from`), and all-day events never shift with the zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, available_timezones

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from horae.domain.paging import Window, day_start, local_date
from horae.domain.times import BadTime
from horae.domain.times import zone as known_zone
from horae.errors import InvalidRequest
from horae.services.event_reads import EVENTS, EventReadService
from horae.services.read_models import ReadQuery, Resolved
from tests.fakes import FakeClock

TODAY = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
EPSILON = timedelta(microseconds=1)
SECOND = timedelta(seconds=1)


def _known(name: str) -> bool:
    try:
        known_zone(name)
    except BadTime:
        return False
    return True


# Every IANA zone Horae knows (aliases included); `posix/` and `right/` copies are refused (see the last test).
KNOWN = frozenset(name for name in available_timezones() if _known(name))
zones = st.timezone_keys(allow_prefix=False).filter(lambda name: name in KNOWN).map(ZoneInfo)
days = st.dates(min_value=date(1970, 1, 1), max_value=date(2100, 12, 31))
spans = st.integers(min_value=1, max_value=60)


def resolve(**query: object) -> Resolved:
    service = EventReadService(uow=None, clock=FakeClock(TODAY), page_key=b"k" * 32)  # type: ignore[arg-type]
    return service.resolve(ReadQuery(**query), EVENTS)  # type: ignore[arg-type]


def key(zone: ZoneInfo) -> str:
    return str(zone.key)


@settings(max_examples=200)
@given(zone=zones, day=days)
def test_a_local_day_starts_at_its_first_instant(zone: ZoneInfo, day: date) -> None:
    start = day_start(day, zone)
    assert start.tzinfo is not None
    assert local_date(start, zone) >= day  # later only when the zone skipped the whole day
    assert local_date(start - EPSILON, zone) < day
    assert day_start(day + timedelta(days=1), zone) >= start


@settings(max_examples=100)
@given(zone=zones, first=days, span=spans)
def test_date_bounds_are_local_midnights_of_the_readers_zone(zone: ZoneInfo, first: date, span: int) -> None:
    last = first + timedelta(days=span)
    window = resolve(tzid=key(zone), start=first.isoformat(), end=last.isoformat()).window
    assert (window.start, window.end) == (day_start(first, zone), day_start(last, zone))
    assert (window.first_day, window.last_day) == (first, last)


@settings(max_examples=100)
@given(zone=zones, first=days, span=spans, minutes=st.integers(min_value=0, max_value=600))
def test_timed_events_meet_the_window_by_cronofys_rule(zone: ZoneInfo, first: date, span: int, minutes: int) -> None:
    window = resolve(tzid=key(zone), start=first.isoformat(), end=(first + timedelta(days=span)).isoformat()).window
    length = timedelta(minutes=minutes)
    # Starting exactly at local midnight of `from`: in.
    assert window.has_timed(window.start, window.start + length)
    # Ending exactly at that midnight: in ("end on or after from"); ending a moment before: out.
    assert window.has_timed(window.start - length - SECOND, window.start)
    assert not window.has_timed(window.start - length - SECOND, window.start - EPSILON)
    # Starting exactly at local midnight of `to`: out; a moment before: in.
    assert not window.has_timed(window.end, window.end + length)
    if window.end > window.start:
        assert window.has_timed(window.end - EPSILON, window.end + length)


@settings(max_examples=100)
@given(zone=zones, first=days, span=spans, length=st.integers(min_value=1, max_value=5))
def test_all_day_events_never_shift_with_the_readers_zone(zone: ZoneInfo, first: date, span: int, length: int) -> None:
    last = first + timedelta(days=span)
    window = resolve(tzid=key(zone), start=first.isoformat(), end=last.isoformat()).window
    days_of = timedelta(days=length)
    assert window.has_days(first, first + days_of)  # starts on `from`
    assert window.has_days(first - days_of + timedelta(days=1), first + timedelta(days=1))  # ends on `from`
    assert not window.has_days(first - days_of, first)  # ended the day before `from` (end is exclusive)
    assert window.has_days(last - timedelta(days=1), last - timedelta(days=1) + days_of)  # on the last day
    assert not window.has_days(last, last + days_of)  # starts on `to`
    # The same all-day event is in the same windows whatever the reader's zone.
    in_utc = resolve(tzid="Etc/UTC", start=first.isoformat(), end=last.isoformat()).window
    assert (in_utc.first_day, in_utc.last_day) == (window.first_day, window.last_day)


@settings(max_examples=100)
@given(zone=zones, at=st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2099, 1, 1)), span=spans)
def test_time_bounds_are_exact_and_touch_their_local_days(zone: ZoneInfo, at: datetime, span: int) -> None:
    start = at.replace(tzinfo=UTC, microsecond=0)
    end = start + timedelta(hours=span)
    window = resolve(tzid=key(zone), start=_z(start), end=_z(end)).window
    assert (window.start, window.end) == (start, end)
    assert window.first_day == local_date(start, zone)
    assert window.last_day == local_date(end - EPSILON, zone) + timedelta(days=1)


@settings(max_examples=100)
@given(zone=zones)
def test_the_default_window_is_42_days_back_and_201_ahead_in_local_days(zone: ZoneInfo) -> None:
    resolved = resolve(tzid=key(zone))
    today = local_date(TODAY, zone)
    window = resolved.window
    assert (window.first_day, window.last_day) == (today - timedelta(days=42), today + timedelta(days=201))
    assert window.start == day_start(window.first_day, zone)
    assert resolved.managed_unbounded


@settings(max_examples=50)
@given(zone=zones, day=days)
def test_only_one_bound_given_still_makes_a_forward_window(zone: ZoneInfo, day: date) -> None:
    only_from = resolve(tzid=key(zone), start=day.isoformat()).window
    assert only_from.first_day == day and only_from.last_day > day
    only_to = resolve(tzid=key(zone), end=day.isoformat()).window
    assert only_to.last_day == day and only_to.first_day < day
    assert not resolve(tzid=key(zone), end=day.isoformat()).managed_unbounded


def _z(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_a_day_the_zone_skipped_still_makes_a_valid_window() -> None:
    # Samoa skipped 30 December 2011: the 30th and the 31st begin at the same instant.
    apia = ZoneInfo("Pacific/Apia")
    assert day_start(date(2011, 12, 30), apia) == day_start(date(2011, 12, 31), apia)
    window = resolve(tzid="Pacific/Apia", start="2011-12-30", end="2011-12-31").window
    assert window.start == window.end and window.has_days(date(2011, 12, 30), date(2011, 12, 31))


def test_midnight_in_a_dst_gap() -> None:
    # Sao Paulo's clocks went from 00:00 to 01:00 on 4 November 2018: that day began at 01:00 local.
    sao_paulo = ZoneInfo("America/Sao_Paulo")
    start = day_start(date(2018, 11, 4), sao_paulo)
    assert start == datetime(2018, 11, 4, 3, 0, tzinfo=UTC)
    assert start.astimezone(sao_paulo).strftime("%H:%M") == "01:00"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"tzid": "Mars/Olympus_Mons"}, "tzid"),
        ({"start": "2026-02-30"}, "from"),
        ({"start": "tomorrow"}, "from"),
        ({"end": "2026-1-1"}, "to"),
        ({"start": ""}, "from"),
        ({"tzid": ""}, "tzid"),
        ({"start": "0001-01-01T00:00:00+05:00"}, "from"),
        ({"last_modified": "9999-12-31T23:00:00-05:00"}, "last_modified"),
        ({"start": "2026-01-02", "end": "2026-01-02"}, "to"),
        ({"start": "2026-01-03", "end": "2026-01-02"}, "to"),
        ({"start": "2026-01-02T10:00:00Z", "end": "2026-01-02T09:00:00Z"}, "to"),
        ({"last_modified": "2026-01-02"}, "last_modified"),
        ({"calendar_ids": ("",)}, "calendar_ids"),
    ],
)
def test_bad_bounds_name_their_parameter(query: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidRequest) as problem:
        resolve(**query)
    assert field in problem.value.errors


def test_a_window_travels_in_a_token_unchanged() -> None:
    resolved = resolve(tzid="Europe/London", start="2026-03-01", end="2026-04-01", include_geo=True)
    again = Resolved.from_state(resolved.to_state())
    assert again == resolved
    assert isinstance(again.window, Window)
    assert Resolved.from_state({"kind": "events"}) is None


@settings(max_examples=50)
@given(zone=st.timezones())
def test_any_zone_name_is_read_or_refused_with_a_422(zone: ZoneInfo) -> None:
    try:
        window = resolve(tzid=key(zone), start="2026-03-01", end="2026-04-01").window
    except InvalidRequest as problem:
        assert "tzid" in problem.errors
    else:
        assert window.start == day_start(date(2026, 3, 1), zone)


@settings(max_examples=100)
@given(zone=zones, first=st.dates(), last=st.dates() | st.none(), at=st.datetimes() | st.none())
def test_any_date_from_year_1_to_9999_is_read_or_refused_never_crashes(
    zone: ZoneInfo, first: date, last: date | None, at: datetime | None
) -> None:
    query: dict[str, object] = {"tzid": key(zone), "start": first.isoformat()}
    if last is not None:
        query["end"] = last.isoformat()
    if at is not None:
        query["last_modified"] = at.replace(tzinfo=UTC).isoformat()
    try:
        window = resolve(**query).window
    except InvalidRequest as problem:
        assert set(problem.errors) == {"to"} and last is not None and last <= first
    else:
        assert window.start <= window.end and window.first_day <= window.last_day
