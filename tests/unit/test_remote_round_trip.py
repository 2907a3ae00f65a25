"""A provider's event stored by Horae reads back as the same provider event (what built-in calendars answer
the provider contract with): to_event_fields + to_exceptions, then from_stored, is the identity."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from horae.domain import recurrence
from horae.domain.events import Event
from horae.domain.remote import RemoteEvent, RemoteOverride, from_stored, to_event_fields, to_exceptions
from horae.domain.times import EventTime

NOW = datetime(2026, 11, 25, 9, tzinfo=UTC)


def stored(remote: RemoteEvent) -> Event:
    event = Event("evr_1", "cal_1", "acc_1", remote.uid, remote.summary, remote.all_day, NOW, NOW)
    for name, value in to_event_fields(remote).items():
        setattr(event, name, value)
    event.details = {recurrence.EXCEPTIONS: to_exceptions(remote, NOW)} if remote.recurrence else {}
    return event


def test_a_timed_series_with_a_moved_and_a_cancelled_instance_reads_back_as_given() -> None:
    start = datetime(2026, 12, 1, 9, tzinfo=UTC)
    moved_from = start + timedelta(days=1)
    remote = RemoteEvent(
        uid="abc",
        summary="Stand-up",
        description="Daily",
        location="Room 1",
        url=None,
        transparency="opaque",
        status="confirmed",
        start=EventTime(start, None, "Europe/London"),
        end=EventTime(start + timedelta(minutes=15), None, "Europe/London"),
        recurrence={"rrule": "FREQ=DAILY;COUNT=5"},
        cancelled=(recurrence.key_of(start + timedelta(days=2)),),
        overrides=(
            RemoteOverride(
                recurrence.key_of(moved_from),
                False,
                EventTime(moved_from + timedelta(hours=2), None, "Europe/London"),
                EventTime(moved_from + timedelta(hours=3), None, "Europe/London"),
                {"summary": "Late stand-up", "location": "Room 2"},
            ),
        ),
    )
    assert from_stored(stored(remote)) == remote


def test_an_all_day_event_reads_back_with_its_dates() -> None:
    remote = RemoteEvent(
        uid="day",
        summary="Holiday",
        description="",
        location=None,
        url="https://example.com/",
        transparency="transparent",
        status="tentative",
        start=EventTime(None, date(2026, 12, 24), "Etc/UTC"),
        end=EventTime(None, date(2026, 12, 27), "Etc/UTC"),
    )
    assert from_stored(stored(remote)) == remote
