"""pycronofy 2.1.1, unchanged, against a live `horae serve`: application calendars, calendars, event upserts
in every time form, reading events and free/busy across pages, participation status, deletes, bulk deletes
and batches.

Tokens come without the browser: `application_calendar` makes an `apc_` account with every scope for the
application the operator created with the CLI."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pycronofy  # type: ignore[import-untyped]
import pytest
from pycronofy.batch import BatchBuilder  # type: ignore[import-untyped]
from pycronofy.exceptions import (  # type: ignore[import-untyped]
    PyCronofyPartialSuccessError,
    PyCronofyRequestError,
)

from tests.e2e.conftest import Application
from tests.e2e.processes import HoraeProcess

pytestmark = [pytest.mark.e2e]

# Events go a few days ahead, inside any read window; reads ask for this window explicitly.
FIRST_DAY = dt.date.today() + dt.timedelta(days=2)
FROM_DATE = FIRST_DAY - dt.timedelta(days=1)
TO_DATE = FIRST_DAY + dt.timedelta(days=12)
PAGED_EVENTS = 250  # more than two pages of ~100


def sdk_client(server: HoraeProcess, app: Application) -> Any:
    """A pycronofy client as shipped, with only its two base URLs pointed at Horae."""
    client = pycronofy.Client(client_id=app.client_id, client_secret=app.client_secret)
    client.request_handler.base_url = server.url
    client.app_base_url = server.url
    return client


def application_calendar_client(server: HoraeProcess, app: Application) -> tuple[Any, dict[str, Any]]:
    """A client holding the tokens of a new application calendar (pycronofy sends `Bearer None` here)."""
    client = sdk_client(server, app)
    tokens = client.application_calendar(f"room-{uuid.uuid4().hex[:10]}")
    return client, tokens


def new_calendar(client: Any, name: str) -> str:
    profile_id = client.list_calendars()[0]["profile_id"]
    return str(client.create_calendar(profile_id, name)["calendar"]["calendar_id"])


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    """A UTC datetime `day` days after FIRST_DAY."""
    base = dt.datetime.combine(FIRST_DAY, dt.time(hour, minute), tzinfo=dt.UTC)
    return base + dt.timedelta(days=day)


def read_all(client: Any, calendar_id: str, **options: Any) -> list[dict[str, Any]]:
    pages = client.read_events(calendar_ids=(calendar_id,), from_date=FROM_DATE, to_date=TO_DATE, **options)
    return list(pages)


def test_application_calendars_and_calendars(horae_server: HoraeProcess, application: Application) -> None:
    client = sdk_client(horae_server, application)
    room = f"room-{uuid.uuid4().hex[:10]}"
    tokens = client.application_calendar(room)
    assert tokens["sub"].startswith("apc_")
    assert tokens["application_calendar_id"] == room
    assert tokens["access_token"] and tokens["refresh_token"] and tokens["token_expiration"]
    assert client.auth.access_token == tokens["access_token"]
    again = sdk_client(horae_server, application).application_calendar(room)
    assert again["sub"] == tokens["sub"]

    [primary] = client.list_calendars()
    assert primary["calendar_id"].startswith("cal_")
    assert primary["provider_name"] == "cronofy"
    assert primary["calendar_readonly"] is False and primary["calendar_deleted"] is False
    profile_id = primary["profile_id"]

    created = client.create_calendar(profile_id, "Team")
    assert created["calendar"]["calendar_name"] == "Team"
    assert created["calendar"]["profile_id"] == profile_id
    # pycronofy reads `errors.name[0].key` to recognise a duplicate; it raises only when that key matches.
    with pytest.raises(PyCronofyRequestError) as duplicate:
        client.create_calendar(profile_id, "Team")
    assert duplicate.value.response.status_code == 422
    assert duplicate.value.response.json()["errors"]["name"][0]["key"] == "errors.duplicate_calendar_name"
    found = client.create_calendar(profile_id, "Team", error_on_duplicate=False)
    assert found["calendar_id"] == created["calendar"]["calendar_id"]
    names = sorted(c["calendar_name"] for c in client.list_calendars())
    assert names == sorted([primary["calendar_name"], "Team"])

    wrong_secret = sdk_client(horae_server, Application(application.client_id, "CRN_not-the-secret"))
    with pytest.raises(PyCronofyRequestError) as wrong:
        wrong_secret.application_calendar(room)
    assert wrong.value.response.status_code == 401


def test_upsert_read_participation_free_busy_and_delete(horae_server: HoraeProcess, application: Application) -> None:
    client, _ = application_calendar_client(horae_server, application)
    calendar_id = new_calendar(client, "Meetings")

    client.upsert_event(
        calendar_id,
        {"event_id": "utc", "summary": "UTC", "start": at(0, 9), "end": at(0, 10), "description": "plain times"},
    )
    holiday = FIRST_DAY + dt.timedelta(days=3)
    client.upsert_event(
        calendar_id, {"event_id": "all-day", "summary": "All day", "start": holiday, "end": holiday + dt.timedelta(1)}
    )
    client.upsert_event(
        calendar_id,
        {
            "event_id": "zoned",
            "summary": "Zoned",
            "start": {"time": at(1, 14), "tzid": "Europe/London"},
            "end": {"time": at(1, 15), "tzid": "Europe/London"},
            "tzid": "Europe/London",
            "location": {"description": "Board room"},
        },
    )
    # Upserting again updates in place.
    client.upsert_event(
        calendar_id, {"event_id": "utc", "summary": "UTC (moved)", "start": at(0, 11), "end": at(0, 12)}
    )

    events = {e["event_id"]: e for e in read_all(client, calendar_id)}
    assert set(events) == {"utc", "all-day", "zoned"}
    assert events["utc"]["summary"] == "UTC (moved)"
    assert events["utc"]["start"] == at(0, 11).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert events["utc"]["end"] == at(0, 12).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert events["all-day"]["start"] == holiday.isoformat()
    assert events["all-day"]["end"] == (holiday + dt.timedelta(1)).isoformat()
    assert events["zoned"]["start"] == at(1, 14).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert events["zoned"]["location"]["description"] == "Board room"
    assert all(e["calendar_id"] == calendar_id and e["event_uid"] for e in events.values())
    localized = {e["event_id"]: e for e in read_all(client, calendar_id, localized_times=True)}
    assert localized["zoned"]["start"]["tzid"] == "Europe/London"

    client.change_participation_status(calendar_id, events["zoned"]["event_uid"], "accepted")
    after = {e["event_id"]: e for e in read_all(client, calendar_id)}
    assert after["zoned"]["participation_status"] == "accepted"

    busy = list(
        client.read_free_busy(calendar_ids=(calendar_id,), from_date=FROM_DATE, to_date=TO_DATE, include_managed=True)
    )
    assert len(busy) == 3
    assert {b["calendar_id"] for b in busy} == {calendar_id}
    assert {b["free_busy_status"] for b in busy} == {"busy"}

    client.delete_event(calendar_id, "utc")
    client.delete_event(calendar_id, "never-existed")  # deleting what is not there is done already
    assert {e["event_id"] for e in read_all(client, calendar_id)} == {"all-day", "zoned"}

    with pytest.raises(PyCronofyRequestError) as missing:
        client.upsert_event("cal_not_mine", {"event_id": "x", "summary": "x", "start": at(0, 9), "end": at(0, 10)})
    assert missing.value.response.status_code == 404
    with pytest.raises(PyCronofyRequestError) as invalid:
        client.upsert_event(calendar_id, {"event_id": "x", "summary": "", "start": at(0, 9), "end": at(0, 10)})
    assert invalid.value.response.status_code == 422
    assert invalid.value.response.json()["errors"]["summary"][0]["key"] == "errors.required"


def test_batches_paging_and_bulk_deletes(horae_server: HoraeProcess, application: Application) -> None:
    client, _ = application_calendar_client(horae_server, application)
    bulk = new_calendar(client, "Bulk")
    other = new_calendar(client, "Other")

    for first in range(0, PAGED_EVENTS, 50):
        builder = BatchBuilder()
        for n in range(first, first + 50):
            start = at(n // 24, n % 24)
            builder.upsert_event(
                bulk,
                {
                    "event_id": f"bulk-{n}",
                    "summary": f"Bulk {n}",
                    "start": start,
                    "end": start + dt.timedelta(minutes=30),
                },
            )
        result = client.batch(builder)
        assert not result.has_errors()
        assert [entry.status() for entry in result.entries] == [202] * 50
    client.upsert_event(other, {"event_id": "keep", "summary": "Other", "start": at(0, 9), "end": at(0, 10)})

    pages = client.read_events(calendar_ids=(bulk,), from_date=FROM_DATE, to_date=TO_DATE)
    assert pages.total > 1 and len(pages.current_page()) < PAGED_EVENTS, "a single page holds everything"
    assert pages.next_page_url.startswith(f"{horae_server.url}/")
    seen = [e["event_id"] for e in pages]
    assert sorted(seen) == sorted(f"bulk-{n}" for n in range(PAGED_EVENTS))
    busy = client.read_free_busy(calendar_ids=(bulk,), from_date=FROM_DATE, to_date=TO_DATE).all()
    assert len(busy) == PAGED_EVENTS

    # A batch with a bad entry: pycronofy raises, carrying every entry's result.
    builder = (
        BatchBuilder()
        .delete_event(bulk, "bulk-0")
        .upsert_event(bulk, {"event_id": "no-summary", "start": at(0, 9), "end": at(0, 10)})
        .delete_external_event(bulk, "evt_unknown")
        .upsert_event(bulk, {"event_id": "bulk-1", "summary": "Renamed", "start": at(0, 1), "end": at(0, 2)})
    )
    with pytest.raises(PyCronofyPartialSuccessError) as partial:
        client.batch(builder)
    response = partial.value.batch_response
    assert [entry.status() for entry in response.entries] == [202, 422, 202, 202]
    [error] = response.errors()
    assert error.response["data"]["errors"]["summary"][0]["key"] == "errors.required"
    assert error.request["relative_url"] == f"/v1/calendars/{bulk}/events"
    events = {e["event_id"]: e for e in read_all(client, bulk)}
    assert "bulk-0" not in events and "no-summary" not in events
    assert events["bulk-1"]["summary"] == "Renamed"

    # Bulk delete by calendar (pycronofy: `calendar_ids[]` in the query), then everything (`delete_all`).
    client.delete_all_events(calendar_ids=(bulk,))
    assert read_all(client, bulk) == []
    assert [e["event_id"] for e in read_all(client, other)] == ["keep"]
    client.delete_all_events()
    assert read_all(client, other) == []


def test_scopes_and_tokens_are_checked(horae_server: HoraeProcess, application: Application) -> None:
    client, _ = application_calendar_client(horae_server, application)
    calendar_id = client.list_calendars()[0]["calendar_id"]
    stranger, _ = application_calendar_client(horae_server, application)
    with pytest.raises(PyCronofyRequestError) as not_theirs:
        stranger.delete_event(calendar_id, "x")
    assert not_theirs.value.response.status_code == 404
    builder = BatchBuilder().upsert_event(
        calendar_id, {"event_id": "x", "summary": "x", "start": at(0, 9), "end": at(0, 10)}
    )
    with pytest.raises(PyCronofyPartialSuccessError) as foreign:
        stranger.batch(builder)
    assert [e.status() for e in foreign.value.batch_response.entries] == [404]
    stranger.auth.access_token = "not-a-token"
    with pytest.raises(PyCronofyRequestError) as unknown:
        stranger.batch(builder)
    assert unknown.value.response.status_code == 401
