"""`POST /v1/sequenced_availability` (§6) over HTTP: steps in order, gaps, per-step periods and errors."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.test_availability import DAY, ada, bob, busy, fixed_now, key
from tests.helpers import Connected

__all__ = ["ada", "bob", "fixed_now"]  # fixtures shared with the availability tests


def step(step_id: Any, ordinal: int, *who: Connected, **extra: Any) -> dict[str, Any]:
    return {
        "sequence_id": step_id,
        "ordinal": ordinal,
        "participants": [{"members": [{"sub": w.sub} for w in who], "required": "all"}],
        "required_duration": {"minutes": 60},
        "start_interval": {"minutes": 60},
        **extra,
    }


def sequences(client: TestClient, who: Connected, status: int = 200, **body: Any) -> Any:
    body.setdefault("query_periods", [DAY])
    response = client.post("/v1/sequenced_availability", json=body, headers=key(who))
    assert response.status_code == status, response.text
    return response.json()


def hours(found: dict[str, Any]) -> list[list[tuple[Any, str]]]:
    return [[(s["sequence_id"], s["start"][11:16]) for s in option["sequence"]] for option in found["sequences"]]


def test_steps_follow_each_other_within_the_gaps(client: TestClient, ada: Connected, bob: Connected) -> None:
    busy(client, bob, "2026-12-01T10:00:00Z", "2026-12-01T12:00:00Z")
    gap = {"after": {"minimum": {"minutes": 0}, "maximum": {"minutes": 60}}}
    # Listed out of order: ordinals decide.
    found = sequences(client, ada, sequence=[step(2, 2, bob), step("intro", 1, ada, buffer=gap)], max_results=3)
    assert hours(found) == [
        [("intro", "10:00"), (2, "12:00")],
        [("intro", "11:00"), (2, "12:00")],
        [("intro", "12:00"), (2, "13:00")],
    ]
    assert found["sequences"][0]["sequence"][1]["participants"] == [{"sub": bob.sub}]


def test_a_minimum_gap_and_each_steps_own_periods(client: TestClient, ada: Connected) -> None:
    morning = [{"start": "2026-12-01T09:00:00Z", "end": "2026-12-01T11:00:00Z"}]
    later = {"before": {"minimum": {"minutes": 120}}}
    found = sequences(
        client, ada, sequence=[step("a", 1, ada, available_periods=morning), step("b", 2, ada, buffer=later)]
    )
    # b starts at least two hours after a ends, and a stays in the morning.
    assert hours(found)[:2] == [[("a", "09:00"), ("b", "12:00")], [("a", "10:00"), ("b", "13:00")]]
    assert len(found["sequences"]) == 2


def test_no_complete_sequence(client: TestClient, ada: Connected) -> None:
    busy(client, ada, "2026-12-01T09:00:00Z", "2026-12-01T17:00:00Z")
    assert sequences(client, ada, sequence=[step("a", 1, ada)]) == {"sequences": []}


def test_pycronofy_sends_an_empty_legacy_list_when_steps_bring_periods(client: TestClient, ada: Connected) -> None:
    own = [{"start": "2026-12-01T09:00:00Z", "end": "2026-12-01T10:00:00Z"}]
    found = sequences(client, ada, sequence=[step("a", 1, ada, available_periods=own)], available_periods=[])
    assert hours(found) == [[("a", "09:00")]]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"sequence": []}, "sequence"),
        ({"sequence": "steps"}, "sequence"),
        ({"query_periods": [{"start": "2026-12-01T10:00:00Z", "end": "2026-12-01T09:00:00Z"}]}, "query_periods"),
        ({"query_periods": None}, "query_periods"),
        ({"max_results": 0}, "max_results"),
    ],
)
def test_bad_input_names_the_field(client: TestClient, ada: Connected, body: dict[str, Any], field: str) -> None:
    body = {"sequence": [step("a", 1, ada)], **body}
    if body.get("query_periods", 1) is None:
        body.pop("query_periods")
        body["sequence"] = [step("a", 1, ada)]
        response = client.post("/v1/sequenced_availability", json=body, headers=key(ada))
    else:
        response = client.post("/v1/sequenced_availability", json={"query_periods": [DAY], **body}, headers=key(ada))
    assert response.status_code == 422, response.text
    assert field in response.json()["errors"]


def test_steps_need_their_own_ordinals_and_known_members(client: TestClient, ada: Connected) -> None:
    twice = sequences(client, ada, 422, sequence=[step("a", 1, ada), step("b", 1, ada)])
    assert "sequence" in twice["errors"]
    many = sequences(client, ada, 422, sequence=[step(str(n), n, ada) for n in range(11)])
    assert "sequence" in many["errors"]
    stranger = {**step("a", 1, ada), "participants": [{"members": [{"sub": "acc_nobody"}]}]}
    assert "participants" in sequences(client, ada, 422, sequence=[stranger])["errors"]


def test_sequences_never_start_in_the_past(client: TestClient, ada: Connected) -> None:
    today = [{"start": "2026-11-20T09:00:00Z", "end": "2026-11-20T15:00:00Z"}]  # it is 12:00 now
    found = sequences(client, ada, query_periods=today, sequence=[step("a", 1, ada), step("b", 2, ada)])
    assert hours(found) == [[("a", "12:00"), ("b", "13:00")], [("a", "13:00"), ("b", "14:00")]]
