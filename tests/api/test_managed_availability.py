"""Managed availability over raw HTTP: availability rules and available periods (create, replace, read,
delete), their 422s field by field, accounts kept apart, paging, and their entries in a batch."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from horae.container import Container
from horae.services.managed_availability import MAX_RULES
from tests.fakes import FakeClock
from tests.helpers import Connected, also_authorize, connect

RULE: dict[str, Any] = {
    "availability_rule_id": "default",
    "tzid": "America/Chicago",
    "weekly_periods": [
        {"day": "monday", "start_time": "09:30", "end_time": "12:30"},
        {"day": "monday", "start_time": "14:00", "end_time": "17:00"},
        {"day": "wednesday", "start_time": "09:30", "end_time": "24:00"},
    ],
}
PERIOD = {"available_period_id": "p-1", "start": "2026-11-24T09:00:00Z", "end": "2026-11-24T17:00:00Z"}
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


def calendar_ids(client: TestClient, who: Connected) -> list[str]:
    response = client.get("/v1/calendars", headers=who.auth)
    assert response.status_code == 200, response.text
    return [c["calendar_id"] for c in response.json()["calendars"]]


def put_rule(client: TestClient, who: Connected, rule: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/v1/availability_rules", json=rule, headers=who.auth)
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()["availability_rule"]
    return found


def refused(client: TestClient, who: Connected, method: str, url: str, data: Any) -> dict[str, Any]:
    response = client.request(method, url, json=data, headers=who.auth)
    assert response.status_code == 422, response.text
    errors: dict[str, Any] = response.json()["errors"]
    return errors


def keys(errors: dict[str, Any]) -> dict[str, str]:
    return {field: found[0]["key"] for field, found in errors.items()}


def listed(client: TestClient, who: Connected, **params: str) -> list[dict[str, Any]]:
    response = client.get("/v1/available_periods", params=params, headers=who.auth)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["pages"]["current"] == 1
    return list(body["available_periods"])


# --- availability rules ----------------------------------------------------------------------------------


def test_a_rule_is_created_read_replaced_and_deleted(client: TestClient, container: Container) -> None:
    ada = connect(container)
    created = put_rule(client, ada, RULE)
    assert created == RULE  # calendar_ids left out when the rule has none
    assert client.get("/v1/availability_rules", headers=ada.auth).json() == {"availability_rules": [RULE]}
    assert client.get("/v1/availability_rules/default", headers=ada.auth).json() == {"availability_rule": RULE}

    [calendar_id] = calendar_ids(client, ada)
    replaced = {
        "availability_rule_id": "default",
        "tzid": "Europe/London",
        "calendar_ids": [calendar_id, calendar_id],
        "weekly_periods": [{"day": "friday", "start_time": "00:00", "end_time": "24:00"}],
        "ignored": "extra keys are tolerated",
    }
    again = put_rule(client, ada, replaced)
    assert again == {**{k: v for k, v in replaced.items() if k != "ignored"}, "calendar_ids": [calendar_id]}
    put_rule(client, ada, {**RULE, "availability_rule_id": "second", "weekly_periods": []})
    ids = [
        r["availability_rule_id"]
        for r in client.get("/v1/availability_rules", headers=ada.auth).json()["availability_rules"]
    ]
    assert ids == ["default", "second"]

    deleted = client.delete("/v1/availability_rules/default", headers=ada.auth)
    assert deleted.status_code == 202 and deleted.content == b""
    assert client.get("/v1/availability_rules/default", headers=ada.auth).status_code == 404
    assert client.delete("/v1/availability_rules/default", headers=ada.auth).status_code == 404
    with container.uow() as uow:
        [left] = uow.availability_rules.for_account(ada.sub)
    assert left.rule_id == "second" and left.weekly_periods == () and left.calendar_ids is None


def test_any_printable_ascii_id_can_be_read_and_deleted(client: TestClient, container: Container) -> None:
    ada = connect(container)
    odd = "team/hours? #1 & 100%"
    put_rule(client, ada, {**RULE, "availability_rule_id": odd})
    url = f"/v1/availability_rules/{quote(odd, safe='')}"
    assert client.get(url, headers=ada.auth).json()["availability_rule"]["availability_rule_id"] == odd
    assert client.delete(url, headers=ada.auth).status_code == 202
    assert client.get("/v1/availability_rules", headers=ada.auth).json() == {"availability_rules": []}


def test_rules_are_the_accounts_shared_by_its_applications_and_hidden_from_others(
    client: TestClient, container: Container
) -> None:
    ada = connect(container)
    bob = connect(container, email="bob@example.com")
    put_rule(client, ada, RULE)
    other_app = also_authorize(container, ada)
    assert client.get("/v1/availability_rules/default", headers=other_app.auth).status_code == 200

    assert client.get("/v1/availability_rules", headers=bob.auth).json() == {"availability_rules": []}
    assert client.get("/v1/availability_rules/default", headers=bob.auth).status_code == 404
    assert client.delete("/v1/availability_rules/default", headers=bob.auth).status_code == 404
    bobs = put_rule(client, bob, {**RULE, "tzid": "Asia/Tokyo"})  # the same id, his own rule
    assert bobs["tzid"] == "Asia/Tokyo"
    assert client.get("/v1/availability_rules/default", headers=ada.auth).json()["availability_rule"] == RULE
    [bobs_calendar] = calendar_ids(client, bob)
    errors = refused(client, ada, "POST", "/v1/availability_rules", {**RULE, "calendar_ids": [bobs_calendar]})
    assert keys(errors) == {"calendar_ids": "errors.not_found"}


def test_calls_without_a_valid_token_are_refused(client: TestClient, container: Container) -> None:
    connect(container)
    nobody = {"Authorization": "Bearer nope"}
    assert client.post("/v1/availability_rules", json=RULE).status_code == 401
    assert client.get("/v1/availability_rules", headers=nobody).status_code == 401
    assert client.get("/v1/availability_rules/default", headers=nobody).status_code == 401
    assert client.delete("/v1/availability_rules/default", headers=nobody).status_code == 401
    assert client.post("/v1/available_periods", json=PERIOD, headers=nobody).status_code == 401
    assert client.get("/v1/available_periods", headers=nobody).status_code == 401
    assert client.request("DELETE", "/v1/available_periods", json={"delete_all": True}).status_code == 401


def _period(day: str, start: str, end: str) -> dict[str, str]:
    return {"day": day, "start_time": start, "end_time": end}


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"availability_rule_id": ""}, {"availability_rule_id": "errors.required"}),
        ({"availability_rule_id": "x" * 65}, {"availability_rule_id": "errors.invalid"}),
        ({"availability_rule_id": "caf\u00e9"}, {"availability_rule_id": "errors.invalid"}),
        ({"availability_rule_id": "tab\there"}, {"availability_rule_id": "errors.invalid"}),
        ({"availability_rule_id": 5}, {"availability_rule_id": "errors.string_type"}),
        ({"tzid": "Mars/Olympus"}, {"tzid": "errors.invalid_tzid"}),
        ({"calendar_ids": []}, {"calendar_ids": "errors.required"}),
        ({"calendar_ids": ["cal_nope"]}, {"calendar_ids": "errors.not_found"}),
        ({"weekly_periods": [_period("funday", "09:00", "10:00")]}, {"weekly_periods.0.day": "errors.invalid"}),
        ({"weekly_periods": [_period("Monday", "09:00", "10:00")]}, {"weekly_periods.0.day": "errors.invalid"}),
        (
            {"weekly_periods": [_period("monday", "9:00", "10:00")]},
            {"weekly_periods.0.start_time": "errors.invalid_time"},
        ),
        (
            {"weekly_periods": [_period("monday", "24:00", "24:00")]},
            {"weekly_periods.0.start_time": "errors.invalid_time"},
        ),
        (
            {"weekly_periods": [_period("monday", "09:00", "24:30")]},
            {"weekly_periods.0.end_time": "errors.invalid_time"},
        ),
        (
            {"weekly_periods": [_period("monday", "09:00", "09:00")]},
            {"weekly_periods.0.end_time": "errors.end_before_start"},
        ),
        (
            {"weekly_periods": [_period("monday", "09:00", "10:00"), _period("monday", "11:00", "10:00")]},
            {"weekly_periods.1.end_time": "errors.end_before_start"},
        ),
        ({"weekly_periods": [_period("monday", "09:00", "10:00")] * 201}, {"weekly_periods": "errors.too_many"}),
        (
            {"weekly_periods": [{"day": "monday"}]},
            {"weekly_periods.0.start_time": "errors.required", "weekly_periods.0.end_time": "errors.required"},
        ),
        ({"weekly_periods": None}, {"weekly_periods": "errors.list_type"}),
    ],
)
def test_rule_problems_are_named_by_field(
    client: TestClient, container: Container, change: dict[str, Any], expected: dict[str, str]
) -> None:
    ada = connect(container)
    assert keys(refused(client, ada, "POST", "/v1/availability_rules", {**RULE, **change})) == expected
    assert client.get("/v1/availability_rules", headers=ada.auth).json() == {"availability_rules": []}


def test_rules_need_their_required_fields(client: TestClient, container: Container) -> None:
    ada = connect(container)
    errors = refused(client, ada, "POST", "/v1/availability_rules", {})
    assert keys(errors) == {
        "availability_rule_id": "errors.required",
        "tzid": "errors.required",
        "weekly_periods": "errors.required",
    }


def test_two_hundred_periods_and_a_hundred_rules_at_most(client: TestClient, container: Container) -> None:
    ada = connect(container)
    many = [_period("monday", "09:00", "10:00")] * 200
    for number in range(MAX_RULES):
        put_rule(client, ada, {**RULE, "availability_rule_id": f"rule-{number}", "weekly_periods": many[:number]})
    errors = refused(client, ada, "POST", "/v1/availability_rules", {**RULE, "availability_rule_id": "one-more"})
    assert keys(errors) == {"availability_rule_id": "errors.too_many"}
    assert put_rule(client, ada, {**RULE, "availability_rule_id": "rule-7", "weekly_periods": many})  # replacing
    assert len(client.get("/v1/availability_rules", headers=ada.auth).json()["availability_rules"]) == MAX_RULES


# --- available periods -----------------------------------------------------------------------------------


def test_periods_are_created_moved_listed_and_deleted(client: TestClient, container: Container) -> None:
    ada = connect(container)
    answer = client.post("/v1/available_periods", json=PERIOD, headers=ada.auth)
    assert answer.status_code == 202 and answer.content == b""
    assert listed(client, ada) == [PERIOD]
    moved = {**PERIOD, "start": "2026-11-25T09:00:00Z", "end": "2026-11-25T10:00:00Z"}
    assert client.post("/v1/available_periods", json=moved, headers=ada.auth).status_code == 202
    second = {"available_period_id": "p-2", "start": "2026-11-21T09:00:00Z", "end": "2026-11-21T10:00:00Z"}
    assert client.post("/v1/available_periods", data=second, headers=ada.auth).status_code == 202  # a form
    assert listed(client, ada) == [second, moved]

    gone = client.request("DELETE", "/v1/available_periods", json={"available_period_id": "p-1"}, headers=ada.auth)
    assert gone.status_code == 202 and gone.content == b""
    assert listed(client, ada) == [second]
    again = client.request("DELETE", "/v1/available_periods", json={"available_period_id": "p-1"}, headers=ada.auth)
    assert again.status_code == 404
    client.post("/v1/available_periods", json=PERIOD, headers=ada.auth)
    everything = client.request("DELETE", "/v1/available_periods", data={"delete_all": "true"}, headers=ada.auth)
    assert everything.status_code == 202
    assert listed(client, ada) == []


def test_deleting_needs_exactly_one_of_id_and_delete_all(client: TestClient, container: Container) -> None:
    ada = connect(container)
    client.post("/v1/available_periods", json=PERIOD, headers=ada.auth)
    for data in ({}, {"delete_all": False}, {"available_period_id": "p-1", "delete_all": True}):
        assert keys(refused(client, ada, "DELETE", "/v1/available_periods", data)) == {
            "available_period_id": "errors.exactly_one"
        }
    assert listed(client, ada) == [PERIOD]
    both = {"available_period_id": "p-1", "delete_all": False}
    assert client.request("DELETE", "/v1/available_periods", json=both, headers=ada.auth).status_code == 202


def test_period_times_in_every_form(client: TestClient, container: Container) -> None:
    ada = connect(container)
    forms = [
        {"start": {"time": "2026-11-24T09:00:00", "tzid": "America/Chicago"}, "end": "2026-11-24T17:00:00Z"},
        {"start": {"time": "2026-11-24T09:00:00Z", "tzid": "Europe/London"}, "end": "2026-11-24T17:00:00+01:00"},
        {"tzid": "Europe/Paris", "start": {"time": "2026-11-24T10:00"}, "end": "2026-11-24T16:00:00 UTC"},
        {"start": "2026-11-24T09:00:00.750Z", "end": "2026-11-24T16:00:00Z"},
    ]
    for number, times in enumerate(forms):
        data = {"available_period_id": f"p-{number}", **times}
        assert client.post("/v1/available_periods", json=data, headers=ada.auth).status_code == 202, data
    found = {p["available_period_id"]: (p["start"], p["end"]) for p in listed(client, ada)}
    assert found == {
        "p-0": ("2026-11-24T15:00:00Z", "2026-11-24T17:00:00Z"),
        "p-1": ("2026-11-24T09:00:00Z", "2026-11-24T16:00:00Z"),
        "p-2": ("2026-11-24T09:00:00Z", "2026-11-24T16:00:00Z"),
        "p-3": ("2026-11-24T09:00:00Z", "2026-11-24T16:00:00Z"),
    }


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"available_period_id": ""}, {"available_period_id": "errors.required"}),
        ({"available_period_id": "x" * 65}, {"available_period_id": "errors.invalid"}),
        ({"start": "tomorrow"}, {"start": "errors.invalid_time"}),
        ({"start": "2026-11-24"}, {"start": "errors.invalid_time"}),
        ({"end": {"time": "2026-11-24T09:00:00", "tzid": "Mars/Olympus"}}, {"end": "errors.invalid_time"}),
        ({"tzid": "Mars/Olympus"}, {"tzid": "errors.invalid_tzid"}),
        ({"end": "2026-11-24T09:00:00Z"}, {"end": "errors.end_before_start"}),
        ({"end": "2026-11-24T08:00:00Z"}, {"end": "errors.end_before_start"}),
        ({"end": "2027-11-25T09:00:01Z"}, {"end": "errors.too_long"}),
        ({"start": None}, {"start.str": "errors.string_type", "start.PeriodTime": "errors.model_type"}),
    ],
)
def test_period_problems_are_named_by_field(
    client: TestClient, container: Container, change: dict[str, Any], expected: dict[str, str]
) -> None:
    ada = connect(container)
    assert keys(refused(client, ada, "POST", "/v1/available_periods", {**PERIOD, **change})) == expected
    assert listed(client, ada) == []


def test_a_period_may_span_366_days(client: TestClient, container: Container) -> None:
    ada = connect(container)
    year = {**PERIOD, "end": "2027-11-25T09:00:00Z"}
    assert client.post("/v1/available_periods", json=year, headers=ada.auth).status_code == 202


def test_the_read_window_from_to_and_tzid(client: TestClient, container: Container) -> None:
    ada = connect(container)
    stamps = {
        "old": ("2026-10-01T09:00:00Z", "2026-10-01T10:00:00Z"),  # more than 42 days before NOW
        "recent": ("2026-10-15T09:00:00Z", "2026-10-15T10:00:00Z"),
        "late-23rd": ("2026-11-23T23:00:00Z", "2026-11-24T01:00:00Z"),
        "25th": ("2026-11-25T09:00:00Z", "2026-11-25T10:00:00Z"),
        "far": ("2027-06-01T09:00:00Z", "2027-06-01T10:00:00Z"),
    }
    for name, (start, end) in stamps.items():
        data = {"available_period_id": name, "start": start, "end": end}
        assert client.post("/v1/available_periods", json=data, headers=ada.auth).status_code == 202

    def names(**params: str) -> list[str]:
        return [p["available_period_id"] for p in listed(client, ada, **params)]

    assert names() == ["recent", "late-23rd", "25th", "far"]  # from 42 days back, no end
    assert names(**{"from": "2026-09-01"}) == list(stamps)
    assert names(**{"from": "2026-11-24", "to": "2026-11-25"}) == ["late-23rd"]  # overlaps the 24th
    assert names(**{"from": "2026-11-24", "to": "2026-11-25", "tzid": "Asia/Tokyo"}) == ["late-23rd"]
    assert names(**{"from": "2026-11-24", "to": "2026-11-25", "tzid": "Pacific/Honolulu"}) == ["25th"]  # UTC-10
    assert names(**{"from": "2026-11-24T00:30:00Z", "to": "2026-11-24T00:45:00Z"}) == ["late-23rd"]
    assert names(to="2026-10-16") == ["old", "recent"]  # from 42 days before `to`, when that is before today
    localized = listed(client, ada, **{"from": "2026-11-25", "to": "2026-11-26", "localized_times": "true"})
    assert localized == [
        {
            "available_period_id": "25th",
            "start": {"time": "2026-11-25T09:00:00Z", "tzid": "Etc/UTC"},
            "end": {"time": "2026-11-25T10:00:00Z", "tzid": "Etc/UTC"},
        }
    ]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"from": "2026-11-25", "to": "2026-11-25"}, {"to": "errors.before_from"}),
        ({"from": "2026-11-26", "to": "2026-11-25"}, {"to": "errors.before_from"}),
        ({"from": "soon"}, {"from": "errors.invalid_date"}),
        ({"to": "2026-02-30"}, {"to": "errors.invalid_date"}),
        ({"tzid": "Mars/Olympus"}, {"tzid": "errors.invalid_tzid"}),
    ],
)
def test_read_problems_are_named(
    client: TestClient, container: Container, params: dict[str, str], expected: dict[str, str]
) -> None:
    ada = connect(container)
    response = client.get("/v1/available_periods", params=params, headers=ada.auth)
    assert response.status_code == 422, response.text
    assert keys(response.json()["errors"]) == expected


def test_periods_page_behind_signed_tokens(client: TestClient, container: Container) -> None:
    ada = connect(container)
    bob = connect(container, email="bob@example.com")
    container.managed_availability.page_size = 2
    start = datetime(2026, 11, 24, 9, tzinfo=UTC)
    for number in range(5):
        when = start + timedelta(hours=number // 2)  # two periods start together: ordered by id
        data = {
            "available_period_id": f"p-{4 - number}",
            "start": when.isoformat().replace("+00:00", "Z"),
            "end": (when + timedelta(minutes=30)).isoformat().replace("+00:00", "Z"),
        }
        assert client.post("/v1/available_periods", json=data, headers=ada.auth).status_code == 202
    first = client.get("/v1/available_periods", params={"localized_times": "true"}, headers=ada.auth).json()
    assert first["pages"]["current"] == 1 and first["pages"]["total"] == 3
    assert [p["available_period_id"] for p in first["available_periods"]] == ["p-3", "p-4"]
    next_url = first["pages"]["next_page"]
    assert next_url.startswith("http://127.0.0.1:8000/v1/available_periods/pages/")
    path = next_url.removeprefix("http://127.0.0.1:8000")
    assert client.get(path, headers=bob.auth).status_code == 404  # another account's token
    assert client.get(path + "x", headers=ada.auth).status_code == 404
    second = client.get(path, headers=ada.auth).json()
    assert second["pages"] == {"current": 2, "total": 3, "next_page": second["pages"]["next_page"]}
    assert [p["available_period_id"] for p in second["available_periods"]] == ["p-1", "p-2"]
    assert second["available_periods"][0]["start"]["tzid"] == "Etc/UTC"  # the query travels in the token
    third = client.get(second["pages"]["next_page"].removeprefix("http://127.0.0.1:8000"), headers=ada.auth).json()
    assert third["pages"] == {"current": 3, "total": 3}
    assert [p["available_period_id"] for p in third["available_periods"]] == ["p-0"]


def test_periods_of_other_accounts_are_invisible(client: TestClient, container: Container) -> None:
    ada = connect(container)
    bob = connect(container, email="bob@example.com")
    client.post("/v1/available_periods", json=PERIOD, headers=ada.auth)
    assert listed(client, bob) == []
    missing = client.request("DELETE", "/v1/available_periods", json={"available_period_id": "p-1"}, headers=bob.auth)
    assert missing.status_code == 404
    assert (
        client.request("DELETE", "/v1/available_periods", json={"delete_all": True}, headers=bob.auth).status_code
        == 202
    )
    assert listed(client, ada) == [PERIOD]
    assert listed(client, also_authorize(container, ada)) == [PERIOD]


def test_the_repository_reads_periods_overlapping_a_range(client: TestClient, container: Container) -> None:
    ada = connect(container)
    for name, start, end in [("b", "10:00", "11:00"), ("a", "09:00", "10:00"), ("c", "11:30", "12:00")]:
        data = {"available_period_id": name, "start": f"2026-11-24T{start}:00Z", "end": f"2026-11-24T{end}:00Z"}
        client.post("/v1/available_periods", json=data, headers=ada.auth)

    def at(hour: int, minute: int = 0) -> datetime:
        return datetime(2026, 11, 24, hour, minute, tzinfo=UTC)

    with container.uow() as uow:
        assert [p.period_id for p in uow.available_periods.for_account(ada.sub, None, None)] == ["a", "b", "c"]
        assert [p.period_id for p in uow.available_periods.for_account(ada.sub, at(10), at(11, 30))] == ["b"]
        assert [p.period_id for p in uow.available_periods.for_account(ada.sub, at(9, 59), None)] == ["a", "b", "c"]
        assert [p.period_id for p in uow.available_periods.for_account(ada.sub, None, at(9))] == []
        [period] = uow.available_periods.for_account(ada.sub, at(11, 45), at(13))
    assert (period.starts_at, period.ends_at) == (at(11, 30), at(12))
    assert period.starts_at.tzinfo is not None


# --- inside a batch --------------------------------------------------------------------------------------


def test_rules_and_periods_inside_a_batch(client: TestClient, container: Container) -> None:
    ada = connect(container)
    put_rule(client, ada, {**RULE, "availability_rule_id": "old rule"})
    client.post("/v1/available_periods", json={**PERIOD, "available_period_id": "old"}, headers=ada.auth)
    entries = [
        {"method": "POST", "relative_url": "/v1/availability_rules", "data": RULE},
        {"method": "POST", "relative_url": "/v1/availability_rules", "data": {**RULE, "tzid": "Nowhere"}},
        {"method": "DELETE", "relative_url": "/v1/availability_rules/old%20rule"},
        {"method": "DELETE", "relative_url": "/v1/availability_rules/never"},
        {"method": "POST", "relative_url": "/v1/available_periods", "data": PERIOD},
        {"method": "POST", "relative_url": "/v1/available_periods", "data": {**PERIOD, "end": PERIOD["start"]}},
        {"method": "DELETE", "relative_url": "/v1/available_periods", "data": {"available_period_id": "old"}},
        {"method": "DELETE", "relative_url": "/v1/available_periods", "data": {"available_period_id": "old"}},
        {"method": "DELETE", "relative_url": "/v1/available_periods", "data": {}},
    ]
    response = client.post("/v1/batch", json={"batch": entries}, headers=ada.auth)
    assert response.status_code == 207, response.text
    results = response.json()["batch"]
    assert [r["status"] for r in results] == [202, 422, 202, 404, 202, 422, 202, 404, 422]
    assert keys(results[1]["data"]["errors"]) == {"tzid": "errors.invalid_tzid"}
    assert keys(results[5]["data"]["errors"]) == {"end": "errors.end_before_start"}
    assert client.get("/v1/availability_rules", headers=ada.auth).json() == {"availability_rules": [RULE]}
    assert listed(client, ada) == [PERIOD]
    cleared = [{"method": "DELETE", "relative_url": "/v1/available_periods?delete_all=true"}]
    assert client.post("/v1/batch", json={"batch": cleared}, headers=ada.auth).json() == {"batch": [{"status": 202}]}
    assert listed(client, ada) == []


def test_the_operations_are_documented(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert set(paths["/v1/availability_rules"]) == {"get", "post"}
    assert set(paths["/v1/availability_rules/{rule_id}"]) == {"get", "delete"}
    assert set(paths["/v1/available_periods"]) == {"get", "post", "delete"}
    assert paths["/v1/availability_rules"]["post"]["security"] == [{"accessToken": []}]
    assert "202" in paths["/v1/available_periods"]["post"]["responses"]
