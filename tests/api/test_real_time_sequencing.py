"""Real-Time Sequencing links (§7.4) over HTTP and pycronofy: a sequence of steps offered as one choice,
booked as one event per step, with the completed callback listing every step."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import pycronofy
import pytest
from fastapi.testclient import TestClient

from tests.api.test_availability import ada, bob, busy, fixed_now, key, primary
from tests.api.test_real_time_scheduling import sender
from tests.helpers import Connected, PycronofyViaTestClient, RecordingSender, csrf_of

__all__ = ["ada", "bob", "fixed_now", "sender"]

DAY = {"start": "2026-12-01T09:00:00Z", "end": "2026-12-01T13:00:00Z"}
COMPLETED = "https://app.example/seq/completed"


def step(step_id: Any, ordinal: int, who: Connected, **extra: Any) -> dict[str, Any]:
    return {
        "sequence_id": step_id,
        "ordinal": ordinal,
        "participants": [{"members": [{"sub": who.sub}], "required": "all"}],
        "required_duration": {"minutes": 60},
        "start_interval": {"minutes": 60},
        "event": {"summary": f"Step {step_id}"},
        **extra,
    }


def link_body(client: TestClient, ada: Connected, bob: Connected) -> dict[str, Any]:
    return {
        "oauth": {"redirect_uri": "https://app.example/oauth"},
        "event": {"event_id": "loop", "summary": "Interview loop", "tzid": "Europe/Paris"},
        "availability": {"query_periods": [DAY], "sequence": [step("intro", 1, ada), step("deep", 2, bob)]},
        "target_calendars": [
            {"sub": ada.sub, "calendar_id": primary(client, ada)},
            {"sub": bob.sub, "calendar_id": primary(client, bob)},
        ],
        "callback_urls": {"completed_url": COMPLETED},
    }


def test_a_sequence_is_offered_and_booked_as_one_choice(
    client: TestClient, ada: Connected, bob: Connected, sender: RecordingSender
) -> None:
    busy(client, bob, "2026-12-01T10:00:00Z", "2026-12-01T11:00:00Z")
    made = client.post("/v1/real_time_sequencing", json=link_body(client, ada, bob), headers=key(ada))
    assert made.status_code == 200, made.text
    link = made.json()["real_time_sequencing"]
    assert link["real_time_sequencing_id"].startswith("seq_") and "/rts/" in link["url"]
    path = urlsplit(link["url"]).path
    page = client.get(path, params={"tz": "Etc/UTC"})
    keys = re.findall(r'name="slot" value="([^"]+)"', page.text)
    assert keys and all(k.count("~") == 1 for k in keys)
    confirm = client.get(f"{path}/confirm", params={"slot": keys[0], "tz": "Etc/UTC"})
    assert "Step intro" in confirm.text and "Step deep" in confirm.text
    form = {"slot": keys[0], "tz": "Etc/UTC", "csrf_token": csrf_of(confirm.text)}
    answer = client.post(f"{path}/book", data=form, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    params = {"from": "2026-12-01", "to": "2026-12-02", "include_managed": "true", "tzid": "Etc/UTC"}
    ada_events = client.get("/v1/events", params=params, headers=ada.auth).json()["events"]
    bob_events = client.get("/v1/events", params=params, headers=bob.auth).json()["events"]
    # Each step's event goes to every target calendar; the first step ends before the second starts.
    for events in (ada_events, bob_events):
        assert sorted((e["summary"], e["start"]) for e in events if e["summary"].startswith("Step")) == [
            ("Step deep", "2026-12-01T11:00:00Z"),
            ("Step intro", "2026-12-01T09:00:00Z"),
        ]
    [sent] = [s for s in sender.sent if s.url == COMPLETED]
    assert sent.json["notification"] == {"type": "completed"}
    assert [(s["sequence_id"], s["event"]["event_id"]) for s in sent.json["sequence"]] == [
        ("intro", "loop-intro"),
        ("deep", "loop-deep"),
    ]
    assert sent.json["real_time_sequencing"]["status"] == "completed"
    status = client.get(f"/v1/real_time_sequencing/{link['real_time_sequencing_id']}", headers=key(ada)).json()
    assert status["real_time_sequencing"]["status"] == "completed"


def test_sequence_problems_are_named(client: TestClient, ada: Connected, bob: Connected) -> None:
    body = link_body(client, ada, bob)
    body["availability"]["sequence"] = [step("a", 1, ada), step("b", 1, ada)]
    answer = client.post("/v1/real_time_sequencing", json=body, headers=key(ada))
    assert answer.status_code == 422 and "availability.sequence" in answer.json()["errors"]
    body["availability"] = {"sequence": []}
    answer = client.post("/v1/real_time_sequencing", json=body, headers=key(ada))
    assert answer.status_code == 422 and any(k.startswith("availability.sequence") for k in answer.json()["errors"])


def test_pycronofy_real_time_sequencing(
    client: TestClient, ada: Connected, bob: Connected, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pycronofy.request_handler, "requests", PycronofyViaTestClient(client))
    sdk = pycronofy.Client(client_id=ada.app.application.client_id, client_secret=ada.app.client_secret)
    sdk.request_handler.base_url = str(client.base_url).rstrip("/")
    body = link_body(client, ada, bob)
    made = sdk.real_time_sequencing(
        {"sequence": body["availability"]["sequence"], "available_periods": [dict(DAY)]},
        body["oauth"],
        body["event"],
        target_calendars=body["target_calendars"],
        minimum_notice={"minutes": 60},
    )
    assert made["real_time_sequencing"]["real_time_sequencing_id"].startswith("seq_")
    page = client.get(urlsplit(made["real_time_sequencing"]["url"]).path)
    assert page.status_code == 200 and 'name="slot"' in page.text


def test_each_step_may_bring_what_the_link_event_leaves_out(client: TestClient, ada: Connected, bob: Connected) -> None:
    body = link_body(client, ada, bob)
    body["event"] = {"event_id": "loop", "tzid": "Etc/UTC"}  # every step names its own summary
    assert client.post("/v1/real_time_sequencing", json=body, headers=key(ada)).status_code == 200
    body["availability"]["sequence"][1]["event"] = {}
    answer = client.post("/v1/real_time_sequencing", json=body, headers=key(ada))
    assert answer.status_code == 422 and "event.summary" in answer.json()["errors"]
