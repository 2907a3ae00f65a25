"""pycronofy 2.1.1, unchanged, against a live `horae serve`: availability rules through the SDK's own
methods, and available periods (which pycronofy 2.1.1 has no methods for) over plain HTTP and in batches."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from pycronofy.batch import BatchBuilder  # type: ignore[import-untyped]
from pycronofy.exceptions import PyCronofyPartialSuccessError, PyCronofyRequestError  # type: ignore[import-untyped]

from tests.e2e.conftest import Application
from tests.e2e.processes import HoraeProcess
from tests.e2e.test_events_sdk import application_calendar_client

pytestmark = [pytest.mark.e2e]

DAY = dt.date.today() + dt.timedelta(days=3)


def utc(hour: int, day: dt.date = DAY) -> str:
    return f"{day.isoformat()}T{hour:02d}:00:00Z"


def test_availability_rules_through_the_sdk(horae_server: HoraeProcess, application: Application) -> None:
    client, tokens = application_calendar_client(horae_server, application)
    [calendar] = client.list_calendars()
    rule = {
        "availability_rule_id": "default",
        "tzid": "America/Chicago",
        "calendar_ids": [calendar["calendar_id"]],
        "weekly_periods": [
            {"day": "monday", "start_time": "09:30", "end_time": "12:30"},
            {"day": "monday", "start_time": "14:00", "end_time": "17:00"},
            {"day": "friday", "start_time": "13:00", "end_time": "24:00"},
        ],
    }
    assert client.upsert_availability_rule(rule) == rule
    assert client.list_availability_rules() == [rule]
    assert client.get_availability_rule("default") == rule

    changed = {"availability_rule_id": "default", "tzid": "Europe/London", "weekly_periods": []}
    assert client.upsert_availability_rule(changed) == changed  # replaced; calendar_ids left out when unset
    client.upsert_availability_rule({**rule, "availability_rule_id": "second"})
    assert [r["availability_rule_id"] for r in client.list_availability_rules()] == ["default", "second"]

    client.delete_availability_rule("default")
    with pytest.raises(PyCronofyRequestError) as missing:
        client.get_availability_rule("default")
    assert missing.value.response.status_code == 404
    with pytest.raises(PyCronofyRequestError) as invalid:
        client.upsert_availability_rule({**rule, "tzid": "Mars/Olympus"})
    assert invalid.value.response.status_code == 422
    assert "tzid" in invalid.value.response.json()["errors"]

    # Rules belong to the account: another account sees none of them.
    stranger, _ = application_calendar_client(horae_server, application)
    assert stranger.list_availability_rules() == []
    with pytest.raises(PyCronofyRequestError) as hidden:
        stranger.get_availability_rule("second")
    assert hidden.value.response.status_code == 404
    assert tokens["sub"].startswith("apc_")


def test_available_periods_over_http_and_in_batches(horae_server: HoraeProcess, application: Application) -> None:
    client, tokens = application_calendar_client(horae_server, application)
    auth = {"Authorization": f"Bearer {tokens['access_token']}"}
    base = f"{horae_server.url}/v1/available_periods"
    with httpx.Client(headers=auth, timeout=10) as http:
        first = {"available_period_id": f"p-{uuid.uuid4().hex[:8]}", "start": utc(9), "end": utc(12)}
        local = {
            "available_period_id": "local",
            "start": {"time": f"{DAY.isoformat()}T14:00:00", "tzid": "Europe/Paris"},
            "end": {"time": f"{DAY.isoformat()}T16:00:00", "tzid": "Europe/Paris"},
        }
        for period in (first, local):
            assert http.post(base, json=period).status_code == 202

        def listed(**params: str) -> list[dict[str, Any]]:
            response = http.get(base, params=params)
            assert response.status_code == 200, response.text
            assert response.json()["pages"]["current"] == 1
            return list(response.json()["available_periods"])

        window = {"from": DAY.isoformat(), "to": (DAY + dt.timedelta(days=1)).isoformat()}
        found = listed(**window)
        assert [p["available_period_id"] for p in found] == [first["available_period_id"], "local"]
        assert found[0] == first
        paris = dt.datetime.combine(DAY, dt.time(14), ZoneInfo("Europe/Paris")).astimezone(dt.UTC)
        assert found[1]["start"] == paris.strftime("%Y-%m-%dT%H:%M:%SZ")
        zoned = listed(**window, tzid="Europe/Paris", localized_times="true")
        assert zoned[0]["start"] == {"time": first["start"], "tzid": "Europe/Paris"}

        builder = BatchBuilder()
        builder.post("/v1/available_periods", {"available_period_id": "batched", "start": utc(18), "end": utc(19)})
        builder.delete("/v1/available_periods", {"available_period_id": "local"})
        builder.post("/v1/availability_rules", {"availability_rule_id": "b", "tzid": "Etc/UTC", "weekly_periods": []})
        result = client.batch(builder)
        assert [entry.status() for entry in result.entries] == [202, 202, 202]
        assert [p["available_period_id"] for p in listed(**window)] == [first["available_period_id"], "batched"]
        assert client.get_availability_rule("b")["weekly_periods"] == []

        failing = BatchBuilder()
        failing.delete("/v1/available_periods", {"available_period_id": "never-there"})
        failing.post("/v1/available_periods", {"available_period_id": "bad", "start": utc(10), "end": utc(9)})
        with pytest.raises(PyCronofyPartialSuccessError) as partial:
            client.batch(failing)
        assert [entry.status() for entry in partial.value.batch_response.entries] == [404, 422]

        assert http.request("DELETE", base, json={"available_period_id": "never-there"}).status_code == 404
        assert http.request("DELETE", base, json={"delete_all": True}).status_code == 202
        assert listed(**window) == []
