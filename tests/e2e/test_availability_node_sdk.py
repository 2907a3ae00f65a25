"""The Cronofy Node SDK (`cronofy` 3.8.4 from npm, unchanged) asking a live `horae serve` for availability,
managed availability and sequenced availability (tests/e2e/node/availability.mjs)."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from tests.e2e.conftest import Application
from tests.e2e.node_sdk import run_script
from tests.e2e.processes import HoraeProcess

pytestmark = [pytest.mark.e2e]


def test_node_sdk_availability(horae_server: HoraeProcess, application: Application) -> None:
    day = dt.date.today() + dt.timedelta(days=4)
    config = {
        "api_url": horae_server.url,
        "client_id": application.client_id,
        "client_secret": application.client_secret,
        "application_calendar_id": f"node-availability-{uuid.uuid4().hex[:10]}",
        "day": day.isoformat(),
    }
    summary = run_script("availability.mjs", config)

    def hour(text: str) -> str:
        assert text.startswith(day.isoformat())
        return text[11:16]

    sub = summary["sub"]
    # 10:00-11:00 is busy.
    slots = summary["slots"]["available_slots"]
    assert [(hour(s["start"]), hour(s["end"])) for s in slots] == [
        ("09:00", "10:00"),
        ("11:00", "12:00"),
        ("12:00", "13:00"),
    ]
    assert all(s["participants"] == [{"sub": sub}] for s in slots)
    assert summary["rule"]["availability_rule"]["availability_rule_id"] == "mornings"
    # Only 09:00-12:00 by the rule, less the meeting.
    managed = summary["managed"]["available_periods"]
    assert [(hour(p["start"]), hour(p["end"])) for p in managed] == [("09:00", "10:00"), ("11:00", "12:00")]
    # The second step starts at least an hour after the first ends, and its hour before is also kept clear
    # of the 10:00-11:00 meeting: so noon.
    first = summary["sequences"]["sequences"][0]["sequence"]
    assert [(s["sequence_id"], hour(s["start"])) for s in first] == [("first", "09:00"), ("second", "12:00")]
