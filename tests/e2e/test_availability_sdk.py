"""pycronofy 2.1.1, unchanged, asking a live `horae serve` for availability and sequenced availability; the
answers must match what the raw-HTTP tests expect of the same data."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Application
from tests.e2e.processes import HoraeProcess
from tests.e2e.test_events_sdk import application_calendar_client

pytestmark = [pytest.mark.e2e]

DAY = dt.date.today() + dt.timedelta(days=3)


def at(hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(DAY, dt.time(hour, minute), tzinfo=dt.UTC)


def z(value: dt.datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def person_with_meeting(horae_server: HoraeProcess, application: Application) -> tuple[Any, str]:
    """A client for a new account with one event, 10:00-11:00 on DAY; and the account's sub."""
    client, _ = application_calendar_client(horae_server, application)
    calendar_id = client.list_calendars()[0]["calendar_id"]
    client.upsert_event(calendar_id, {"event_id": "meeting", "summary": "Busy", "start": at(10), "end": at(11)})
    return client, str(client.userinfo()["sub"])


def test_availability_periods_and_slots(horae_server: HoraeProcess, application: Application) -> None:
    client, sub = person_with_meeting(horae_server, application)
    periods = client.availability(
        participants=[{"members": [sub]}],
        required_duration=60,
        available_periods=[{"start": at(9), "end": at(17)}],
    )
    assert [(p["start"], p["end"]) for p in periods] == [(z(at(9)), z(at(10))), (z(at(11)), z(at(17)))]
    assert periods[0]["participants"] == [{"sub": sub}]
    slots = client.availability(
        participants={"members": [{"sub": sub}], "required": "all"},
        required_duration=30,
        available_periods=[{"start": at(9), "end": at(12)}],
        start_interval=30,
        buffer={"after": 30},
        response_format="slots",
        max_results=10,
    )
    # 09:30-10:00 would end right before the 10:00 meeting, inside its 30 minute buffer.
    assert [s["start"] for s in slots] == [z(at(9)), z(at(11)), z(at(11, 30))]
    # The same question over raw HTTP, with the API key, answers the same.
    raw = httpx.post(
        f"{horae_server.url}/v1/availability",
        headers={"Authorization": f"Bearer {application.client_secret}"},
        json={
            "participants": [{"members": [{"sub": sub}], "required": "all"}],
            "required_duration": {"minutes": 30},
            "query_periods": [{"start": z(at(9)), "end": z(at(12))}],
            "start_interval": {"minutes": 30},
            "buffer": {"after": {"minutes": 30}},
            "response_format": "slots",
            "max_results": 10,
        },
    )
    assert raw.status_code == 200, raw.text
    assert raw.json()["available_slots"] == slots


def test_sequenced_availability(horae_server: HoraeProcess, application: Application) -> None:
    client, sub = person_with_meeting(horae_server, application)
    sequences = client.sequenced_availability(
        sequence=[
            {
                "sequence_id": "first",
                "ordinal": 1,
                "participants": [{"members": [sub]}],
                "required_duration": 60,
                "start_interval": 60,
                "buffer": {"after": {"minimum": {"minutes": 0}, "maximum": {"minutes": 30}}},
            },
            {
                "sequence_id": 2,
                "ordinal": 2,
                "participants": [{"members": [sub]}],
                "required_duration": 60,
                "start_interval": 60,
            },
        ],
        available_periods=[{"start": at(9), "end": at(14)}],
    )
    starts = [[(step["sequence_id"], step["start"]) for step in s["sequence"]] for s in sequences]
    # 10:00 is busy, so the first step cannot be at 9 with the second at 10 (nor start at 10).
    assert starts[0] == [("first", z(at(11))), (2, z(at(12)))]
    assert all(step["participants"] == [{"sub": sub}] for s in sequences for step in s["sequence"])
