"""The Cronofy Node SDK (`cronofy` 3.8.4 from npm, unchanged) against a live `horae serve`: tests/e2e/node/
events.mjs takes an application calendar, lists and creates calendars, creates events, runs batches, reads
events and free/busy following next_page, and deletes one by one and in bulk; this checks what it got."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest

from tests.e2e.conftest import Application
from tests.e2e.node_sdk import run_script
from tests.e2e.processes import HoraeProcess

pytestmark = [pytest.mark.e2e]

PAGED_EVENTS = 250  # more than two pages of ~100


def run_events(config: dict[str, Any]) -> dict[str, Any]:
    summary: dict[str, Any] = run_script("events.mjs", config, timeout=120)
    return summary


def utc(day: dt.date, hours: float) -> str:
    moment = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC) + dt.timedelta(hours=hours)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_node_sdk_calendars_events_batches_and_reads(horae_server: HoraeProcess, application: Application) -> None:
    first_day = dt.date.today() + dt.timedelta(days=2)
    room = f"node-room-{uuid.uuid4().hex[:10]}"
    summary = run_events(
        {
            "api_url": horae_server.url,
            "client_id": application.client_id,
            "client_secret": application.client_secret,
            "application_calendar_id": room,
            "first_day": first_day.isoformat(),
            "from": (first_day - dt.timedelta(days=1)).isoformat(),
            "to": (first_day + dt.timedelta(days=12)).isoformat(),
            "paged_events": PAGED_EVENTS,
        }
    )

    token = summary["application_calendar"]
    assert token["sub"].startswith("apc_") and token["application_calendar_id"] == room
    assert token["access_token"] and token["refresh_token"] and token["expires_in"] > 0
    assert summary["stored_access_token"] == token["access_token"]

    [primary] = summary["calendars"]["calendars"]
    assert summary["calendars"]["sub"] == token["sub"]
    created = summary["created"]["calendar"]
    assert created["calendar_name"] == "Node events" and created["profile_id"] == primary["profile_id"]
    duplicate = summary["duplicate"]
    assert duplicate["failed"] is True and duplicate["status"] == 422
    assert duplicate["body"]["errors"]["name"][0]["key"] == "errors.duplicate_calendar_name"
    assert {c["calendar_id"] for c in summary["calendars_after"]["calendars"]} == {
        primary["calendar_id"],
        created["calendar_id"],
    }

    # createEvent answers 202 with an empty body, which axios hands back as "".
    assert summary["create"] == [""] * 4
    assert summary["invalid"]["status"] == 422
    assert summary["invalid"]["body"]["errors"]["summary"][0]["key"] == "errors.required"
    assert summary["unknown_calendar"]["status"] == 404

    events = {e["event_id"]: e for e in summary["small_read"]["items"]}
    assert set(events) == {"utc", "all-day", "zoned"}
    assert events["utc"]["summary"] == "UTC (moved)"
    assert (events["utc"]["start"], events["utc"]["end"]) == (utc(first_day, 11), utc(first_day, 12))
    assert events["all-day"]["start"] == (first_day + dt.timedelta(days=3)).isoformat()
    assert events["zoned"]["start"] == utc(first_day, 38)
    localized = {e["event_id"]: e for e in summary["small_read_localized"]["items"]}
    assert localized["zoned"]["start"]["tzid"] == "Europe/London"
    busy = summary["small_free_busy"]["items"]
    assert len(busy) == 3 and {b["free_busy_status"] for b in busy} == {"busy"}
    assert summary["delete"] == ""
    assert {e["event_id"] for e in summary["after_delete"]["items"]} == {"all-day", "zoned"}

    # Batches: 207 with one 202 per entry; a bad entry fails alone; 51 entries are refused whole.
    for batch in summary["batches"]:
        assert batch == {"batch": [{"status": 202}] * 50}
    [deleted, no_summary] = summary["mixed_batch"]["batch"]
    assert deleted == {"status": 202}
    assert no_summary["status"] == 422
    assert no_summary["data"]["errors"]["summary"][0]["key"] == "errors.required"
    too_big = summary["too_big_batch"]
    assert too_big["failed"] is True and too_big["status"] == 422
    assert too_big["body"]["errors"]["batch"][0]["key"] == "errors.too_many"

    # Reads across pages: next_page is absolute on Horae, absent on the last page, and every event
    # comes back once.
    paged = summary["paged_read"]
    assert len(paged["pages"]) > 1
    assert [p["current"] for p in paged["pages"]] == list(range(1, len(paged["pages"]) + 1))
    assert all(p["total"] == len(paged["pages"]) for p in paged["pages"])
    assert all(p["next_page"].startswith(f"{horae_server.url}/") for p in paged["pages"][:-1])
    assert "next_page" not in paged["pages"][-1]
    ids = [e["event_id"] for e in paged["items"]]
    assert sorted(ids) == sorted(f"bulk-{n}" for n in range(1, PAGED_EVENTS))
    free_busy = summary["paged_free_busy"]
    assert len(free_busy["pages"]) > 1
    assert len(free_busy["items"]) == PAGED_EVENTS - 1

    assert summary["bulk_delete_calendar"] == ""
    assert summary["after_bulk_calendar"]["primary"] == []
    assert {e["event_id"] for e in summary["after_bulk_calendar"]["other"]} == {"all-day", "zoned"}
    assert summary["bulk_delete_all"] == ""
    assert summary["after_bulk_all"] == []
    assert summary["bulk_delete_both"]["status"] == 422
