"""`POST /v1/batch` over raw HTTP: per-entry results (207), whole-batch 422s, and that every entry answers
exactly as its single call would."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from pycronofy.batch import BatchBuilder  # type: ignore[import-untyped]

from horae.api.routes import batch as batch_routes
from horae.container import Container
from horae.domain.events import Event
from horae.ports import RateDecision
from tests.helpers import Connected, connect

EVENT = {"event_id": "ev-1", "summary": "Planning", "start": "2026-12-01T09:00:00Z", "end": "2026-12-01T10:00:00Z"}


def primary_calendar(client: TestClient, who: Connected) -> str:
    response = client.get("/v1/calendars", headers=who.auth)
    assert response.status_code == 200, response.text
    return str(response.json()["calendars"][0]["calendar_id"])


def stored(container: Container, calendar_id: str) -> dict[str, Event]:
    """The calendar's managed events by event_id, deleted ones included."""
    with container.uow() as uow:
        return {e.event_id or e.event_uid: e for e in uow.events.in_calendars([calendar_id], include_deleted=True)}


def live(container: Container, calendar_id: str) -> set[str]:
    return {key for key, event in stored(container, calendar_id).items() if not event.deleted}


def upsert(calendar_id: str, event: dict[str, Any]) -> dict[str, Any]:
    return {"method": "POST", "relative_url": f"/v1/calendars/{calendar_id}/events", "data": event}


def delete(calendar_id: str, **data: str) -> dict[str, Any]:
    return {"method": "DELETE", "relative_url": f"/v1/calendars/{calendar_id}/events", "data": data}


def run(client: TestClient, who: Connected, entries: list[Any]) -> list[dict[str, Any]]:
    response = client.post("/v1/batch", json={"batch": entries}, headers=who.auth)
    assert response.status_code == 207, response.text
    assert response.headers["content-type"].startswith("application/json")
    results: list[dict[str, Any]] = response.json()["batch"]
    assert len(results) == len(entries)
    return results


def refused(client: TestClient, who: Connected, payload: Any, **kwargs: Any) -> dict[str, Any]:
    """A whole batch refused with 422: its errors by field."""
    response = client.post("/v1/batch", json=payload, headers=who.auth, **kwargs)
    assert response.status_code == 422, response.text
    errors: dict[str, Any] = response.json()["errors"]
    return errors


# --- per-entry results ----------------------------------------------------------------------------------------


def test_the_documented_example_mixes_deletes_and_upserts(client: TestClient, container: Container) -> None:
    ada = connect(container)
    calendar_id = primary_calendar(client, ada)
    client.post(f"/v1/calendars/{calendar_id}/events", json={**EVENT, "event_id": "456"}, headers=ada.auth)
    no_summary = {k: v for k, v in EVENT.items() if k != "summary"}
    results = run(
        client,
        ada,
        [
            delete(calendar_id, event_id="456"),
            upsert(calendar_id, {**EVENT, "event_id": "qTtZdczOccgaPncGJaCiLg", "location": {"description": "Board"}}),
            upsert(calendar_id, {**no_summary, "event_id": "no-summary"}),
        ],
    )
    assert results[0] == {"status": 202}
    assert results[1] == {"status": 202}
    assert results[2]["status"] == 422
    assert results[2]["data"]["errors"]["summary"][0]["key"] == "errors.required"
    events = stored(container, calendar_id)
    assert events["456"].deleted
    assert events["qTtZdczOccgaPncGJaCiLg"].location == {"description": "Board"}
    assert "no-summary" not in events


def test_entries_run_in_order_and_each_stands_alone(client: TestClient, container: Container) -> None:
    ada = connect(container)
    calendar_id = primary_calendar(client, ada)
    results = run(
        client,
        ada,
        [
            upsert(calendar_id, {**EVENT, "event_id": "a", "summary": "first"}),
            upsert(calendar_id, {**EVENT, "event_id": "b", "end": "2026-12-01T08:00:00Z"}),  # ends before it starts
            upsert(calendar_id, {**EVENT, "event_id": "a", "summary": "second"}),  # the same event again: last wins
            delete(calendar_id, event_id="c"),  # not there: done already
            upsert(calendar_id, {**EVENT, "event_id": "c"}),
            delete(calendar_id, event_id="c"),
        ],
    )
    assert [r["status"] for r in results] == [202, 422, 202, 202, 202, 202]
    assert results[1]["data"]["errors"]["end"][0]["key"] == "errors.end_before_start"
    events = stored(container, calendar_id)
    assert events["a"].summary == "second" and not events["a"].deleted
    assert events["c"].deleted
    assert "b" not in events


def test_exactly_fifty_entries_are_accepted(client: TestClient, container: Container) -> None:
    ada = connect(container)
    calendar_id = primary_calendar(client, ada)
    entries = [upsert(calendar_id, {**EVENT, "event_id": f"ev-{n}"}) for n in range(50)]
    assert run(client, ada, entries) == [{"status": 202}] * 50
    assert live(container, calendar_id) == {f"ev-{n}" for n in range(50)}


def test_every_time_form_and_deletes_by_event_id_and_event_uid(client: TestClient, container: Container) -> None:
    ada = connect(container)
    calendar_id = primary_calendar(client, ada)
    zoned = {
        **EVENT,
        "event_id": "zoned",
        "start": {"time": "2026-12-01T09:00:00Z", "tzid": "Europe/London"},
        "end": {"time": "2026-12-01T10:00:00Z", "tzid": "America/New_York"},
    }
    all_day = {**EVENT, "event_id": "all-day", "start": "2026-12-24", "end": "2026-12-26"}
    local = {**EVENT, "event_id": "local", "tzid": "Europe/Paris"}
    assert run(client, ada, [upsert(calendar_id, e) for e in (EVENT, zoned, all_day, local)]) == [{"status": 202}] * 4
    events = stored(container, calendar_id)
    assert (events["zoned"].start_tzid, events["zoned"].end_tzid) == ("Europe/London", "America/New_York")
    assert events["all-day"].all_day and str(events["all-day"].start_date) == "2026-12-24"
    assert events["local"].start_tzid == "Europe/Paris"
    uid = events["zoned"].event_uid
    results = run(client, ada, [delete(calendar_id, event_uid=uid), delete(calendar_id, event_id="all-day")])
    assert results == [{"status": 202}, {"status": 202}]
    assert live(container, calendar_id) == {"ev-1", "local"}


def test_pycronofys_batch_builder_output_is_understood(client: TestClient, container: Container) -> None:
    ada = connect(container)
    calendar_id = primary_calendar(client, ada)
    client.post(f"/v1/calendars/{calendar_id}/events", json={**EVENT, "event_id": "old"}, headers=ada.auth)
    builder = (
        BatchBuilder()
        .upsert_event(calendar_id, {**EVENT, "event_id": "built"})
        .delete_event(calendar_id, "old")
        .delete_external_event(calendar_id, "evt_not_there")
    )
    assert run(client, ada, builder.build()) == [{"status": 202}] * 3
    assert live(container, calendar_id) == {"built"}


def test_entry_errors_are_what_the_single_call_answers(client: TestClient, container: Container) -> None:
    ada = connect(container)
    bob = connect(container, email="bob@example.com")
    calendar_id = primary_calendar(client, ada)
    bobs_calendar = primary_calendar(client, bob)
    cases: list[tuple[str, str, dict[str, Any]]] = [
        ("POST", calendar_id, {**EVENT, "start": "tomorrow"}),
        ("POST", calendar_id, {**EVENT, "summary": "x" * 1025}),
        ("POST", calendar_id, {**EVENT, "tzid": "Mars/Olympus"}),
        ("POST", calendar_id, {"event_id": "x", "summary": "s"}),
        ("POST", calendar_id, {**EVENT, "summary": "nul\x00"}),
        ("POST", calendar_id, {**EVENT, "reminders": [{"minutes": -1}], "color": "red"}),
        ("POST", calendar_id, {**EVENT, "event_id": None, "event_uid": "evt_external_x"}),
        ("POST", "cal_nope", EVENT),
        ("POST", bobs_calendar, EVENT),
        ("DELETE", calendar_id, {}),
        ("DELETE", calendar_id, {"event_id": 5}),
        ("DELETE", "cal_nope", {"event_id": "ev-1"}),
        ("DELETE", bobs_calendar, {"event_id": "ev-1"}),
    ]
    entries = [{"method": m, "relative_url": f"/v1/calendars/{c}/events", "data": d} for m, c, d in cases]
    results = run(client, ada, entries)
    for (method, calendar, data), result in zip(cases, results, strict=True):
        single = client.request(method, f"/v1/calendars/{calendar}/events", json=data, headers=ada.auth)
        assert single.status_code >= 400, (method, calendar, data)
        assert result == {"status": single.status_code, "data": single.json()}, (method, calendar, data)
    assert {r["status"] for r in results} == {403, 404, 422}
    assert live(container, calendar_id) == set()
    assert live(container, bobs_calendar) == set()


def test_missing_scopes_fail_entry_by_entry(client: TestClient, container: Container) -> None:
    reader = connect(container, scope="read_events create_event")
    calendar_id = primary_calendar(client, reader)
    results = run(client, reader, [upsert(calendar_id, EVENT), delete(calendar_id, event_id="ev-1")])
    assert results[0] == {"status": 202}
    assert results[1]["status"] == 403 and results[1]["data"]["error"] == "forbidden"
    assert live(container, calendar_id) == {"ev-1"}


def test_read_only_and_disconnected_calendars(client: TestClient, container: Container) -> None:
    ada = connect(container)
    calendar_id = primary_calendar(client, ada)
    created = client.post(
        "/v1/calendars", json={"profile_id": _profile(client, ada), "name": "Read only"}, headers=ada.auth
    )
    read_only = created.json()["calendar"]["calendar_id"]
    with container.uow() as uow:
        calendar = uow.calendars.get(read_only)
        assert calendar is not None
        calendar.readonly = True
        uow.commit()
    results = run(client, ada, [upsert(read_only, EVENT), upsert(calendar_id, EVENT)])
    assert [r["status"] for r in results] == [403, 202]
    with container.uow() as uow:
        profile = uow.profiles.get(_profile(client, ada))
        assert profile is not None
        profile.status = "disconnected"
        uow.commit()
    results = run(client, ada, [upsert(calendar_id, EVENT), delete(calendar_id, event_id="ev-1")])
    assert [r["status"] for r in results] == [423, 423]
    assert results[0]["data"]["error"] == "locked"


def _profile(client: TestClient, who: Connected) -> str:
    return str(client.get("/v1/calendars", headers=who.auth).json()["calendars"][0]["profile_id"])


def test_relative_url_forms(client: TestClient, container: Container) -> None:
    ada = connect(container)
    calendar_id = primary_calendar(client, ada)
    encoded = calendar_id.replace("_", "%5F")
    results = run(
        client,
        ada,
        [
            {"method": "POST", "relative_url": f"/v1/calendars/{encoded}/events", "data": {**EVENT, "event_id": "e"}},
            {"method": "POST", "relative_url": f"/v1/calendars/{calendar_id}/events?ignored=1", "data": EVENT},
            {"method": "DELETE", "relative_url": f"/v1/calendars/{calendar_id}/events?event_id=e"},
            {"method": "DELETE", "relative_url": f"/v1/calendars/{calendar_id}/events", "data": None},
            # Percent-encoded control characters name no calendar (and never reach the database).
            {"method": "POST", "relative_url": "/v1/calendars/%00/events", "data": EVENT},
            {"method": "DELETE", "relative_url": "/v1/calendars/cal%1F/events", "data": {"event_id": "e"}},
        ],
    )
    assert [r["status"] for r in results] == [202, 202, 202, 422, 404, 404]
    assert results[3]["data"]["errors"]["event_id"][0]["key"] == "errors.required"
    assert results[4]["data"]["error"] == "not_found"
    assert live(container, calendar_id) == {"ev-1"}


def test_an_entry_that_breaks_is_a_500_for_that_entry_only(
    client: TestClient, container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    ada = connect(container)
    calendar_id = primary_calendar(client, ada)
    real_upsert = container.events.upsert

    def flaky(ctx: Any, calendar: str, data: Any) -> Any:
        if data.event_id == "boom":
            raise RuntimeError("disk on fire")
        return real_upsert(ctx, calendar, data)

    monkeypatch.setattr(container.events, "upsert", flaky)
    entries = [upsert(calendar_id, {**EVENT, "event_id": name}) for name in ("before", "boom", "after")]
    results = run(client, ada, entries)
    assert results[0] == results[2] == {"status": 202}
    assert results[1] == {"status": 500, "data": {"error": "internal_error", "error_description": "internal error"}}
    assert live(container, calendar_id) == {"before", "after"}


# --- whole-batch problems ------------------------------------------------------------------------------------


def test_fifty_one_entries_are_refused_and_nothing_runs(client: TestClient, container: Container) -> None:
    ada = connect(container)
    calendar_id = primary_calendar(client, ada)
    entries = [upsert(calendar_id, {**EVENT, "event_id": f"ev-{n}"}) for n in range(51)]
    errors = refused(client, ada, {"batch": entries})
    assert list(errors) == ["batch"]
    assert errors["batch"][0]["key"] == "errors.too_many"
    assert "50" in errors["batch"][0]["description"]
    assert live(container, calendar_id) == set()


@pytest.mark.parametrize(
    ("payload", "key"),
    [
        ({}, "errors.required"),
        ({"batch": None}, "errors.required"),
        ({"batch": []}, "errors.required"),
        ({"batch": "all of them"}, "errors.invalid"),
        ({"batch": {"method": "POST"}}, "errors.invalid"),
    ],
)
def test_a_batch_that_is_not_a_list_of_entries(
    client: TestClient, container: Container, payload: dict[str, Any], key: str
) -> None:
    ada = connect(container)
    errors = refused(client, ada, payload)
    assert list(errors) == ["batch"]
    assert errors["batch"][0]["key"] == key


def test_bad_entries_are_named_and_nothing_runs(client: TestClient, container: Container) -> None:
    ada = connect(container)
    calendar_id = primary_calendar(client, ada)
    url = f"/v1/calendars/{calendar_id}/events"
    entries: list[Any] = [
        upsert(calendar_id, EVENT),  # 0: fine, but must not run
        "POST /v1/calendars",  # 1
        {"method": "GET", "relative_url": url},  # 2
        {"method": "PATCH", "relative_url": url, "data": EVENT},  # 3
        {"relative_url": url, "data": EVENT},  # 4
        {"method": "POST", "relative_url": "/v1/events", "data": {}},  # 5: a real call, not allowed in a batch
        {"method": "DELETE", "relative_url": "/v1/events", "data": {"delete_all": True}},  # 6
        {"method": "POST", "relative_url": "/v1/calendars", "data": {}},  # 7
        {"method": "POST", "relative_url": f"{url}/extra", "data": EVENT},  # 8
        {"method": "POST", "relative_url": f"https://api.cronofy.com{url}", "data": EVENT},  # 9
        {"method": "POST", "data": EVENT},  # 10
        {"method": "POST", "relative_url": 42, "data": EVENT},  # 11
        {"method": "POST", "relative_url": url, "data": [EVENT]},  # 12
        {"method": "POST", "relative_url": url, "data": "summary=x"},  # 13
        {"method": "post", "relative_url": url, "data": EVENT},  # 14: methods are upper case, as in HTTP
        {"method": "POST", "relative_url": "/v1/calendars/\x00/events", "data": EVENT},  # 15
        {"method": 7, "relative_url": url, "data": EVENT},  # 16
        {"method": "POST", "relative_url": "/v1/calendars//events", "data": EVENT},  # 17
        {"method": "POST", "relative_url": f"//evil.example{url}", "data": EVENT},  # 18
        {"method": "POST", "relative_url": "/" + "x" * 3000, "data": EVENT},  # 19
        {"method": "POST", "relative_url": url.removeprefix("/"), "data": EVENT},  # 20: relative to the host
        {"method": "POST", "relative_url": f"{url}#top", "data": EVENT},  # 21
    ]
    errors = refused(client, ada, {"batch": entries})
    assert errors == {
        "batch.1": [Key("errors.invalid")],
        "batch.2.method": [Key("errors.invalid")],
        "batch.3.method": [Key("errors.invalid")],
        "batch.4.method": [Key("errors.required")],
        "batch.5.relative_url": [Key("errors.unsupported")],
        "batch.6.relative_url": [Key("errors.unsupported")],
        "batch.7.relative_url": [Key("errors.unsupported")],
        "batch.8.relative_url": [Key("errors.unsupported")],
        "batch.9.relative_url": [Key("errors.unsupported")],
        "batch.10.relative_url": [Key("errors.required")],
        "batch.11.relative_url": [Key("errors.invalid")],
        "batch.12.data": [Key("errors.invalid")],
        "batch.13.data": [Key("errors.invalid")],
        "batch.14.method": [Key("errors.invalid")],
        "batch.15.relative_url": [Key("errors.invalid_characters")],
        "batch.16.method": [Key("errors.invalid")],
        "batch.17.relative_url": [Key("errors.unsupported")],
        "batch.18.relative_url": [Key("errors.unsupported")],
        "batch.19.relative_url": [Key("errors.invalid")],
        "batch.20.relative_url": [Key("errors.unsupported")],
        "batch.21.relative_url": [Key("errors.unsupported")],
    }
    positions = [int(field.split(".")[1]) for field in errors]
    assert positions == sorted(positions), "problems are listed in entry order"
    assert live(container, calendar_id) == set()


class Key:
    """Equal to any error detail with this key and some description."""

    def __init__(self, key: str) -> None:
        self.key = key

    def __eq__(self, other: object) -> bool:
        return isinstance(other, dict) and other.get("key") == self.key and bool(other.get("description"))

    def __repr__(self) -> str:
        return f"<error {self.key}>"


def test_a_method_the_url_does_not_take_names_the_method(
    client: TestClient, container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a registered path that takes only POST, a DELETE on it names the method, not the URL; the table
    of calls is all it takes to allow one more."""
    ran: list[tuple[dict[str, str], dict[str, Any], dict[str, Any]]] = []

    def only_post(services: Any, ctx: Any, entry: batch_routes.EntryRequest) -> None:
        ran.append((entry.params, entry.query, entry.data))

    monkeypatch.setattr(batch_routes, "CALLS", list(batch_routes.CALLS))
    batch_routes.batch_call("POST", "/v1/things/{thing_id}")(only_post)
    ada = connect(container)
    errors = refused(client, ada, {"batch": [{"method": "DELETE", "relative_url": "/v1/things/t1"}]})
    assert list(errors) == ["batch.0.method"]
    assert errors["batch.0.method"][0]["key"] == "errors.method_not_allowed"
    assert "POST" in errors["batch.0.method"][0]["description"]
    results = run(
        client, ada, [{"method": "POST", "relative_url": "/v1/things/t%201?x[]=1&x[]=2&y=", "data": {"a": 1}}]
    )
    assert results == [{"status": 202}]
    assert ran == [({"thing_id": "t 1"}, {"x": ["1", "2"], "y": ""}, {"a": 1})]


def test_bodies_that_are_not_json_objects(client: TestClient, container: Container) -> None:
    ada = connect(container)
    for content, content_type in [
        (b"{not json", "application/json"),
        (b"[1, 2]", "application/json"),
        (b'{"batch": [' * 5000, "application/json"),
    ]:
        response = client.post("/v1/batch", content=content, headers={**ada.auth, "Content-Type": content_type})
        assert response.status_code == 422, response.text
        assert list(response.json()["errors"]) == ["request"]
    form = client.post("/v1/batch", data={"batch[]": "x"}, headers=ada.auth)
    assert form.status_code == 422 and list(form.json()["errors"]) == ["batch.0"]
    empty = client.post("/v1/batch", headers=ada.auth)
    assert empty.status_code == 422 and empty.json()["errors"]["batch"][0]["key"] == "errors.required"


# --- credentials ---------------------------------------------------------------------------------------------


def test_a_batch_needs_an_access_token(client: TestClient, container: Container) -> None:
    ada = connect(container)
    calendar_id = primary_calendar(client, ada)
    body = {"batch": [upsert(calendar_id, EVENT)]}
    for headers in ({}, {"Authorization": "Bearer None"}, {"Authorization": "Bearer not-a-token"}):
        response = client.post("/v1/batch", json=body, headers=headers)
        assert response.status_code == 401, response.text
        assert response.headers["www-authenticate"].startswith("Bearer")
    # An API key is not an account token either.
    response = client.post("/v1/batch", json=body, headers={"Authorization": f"Bearer {ada.app.client_secret}"})
    assert response.status_code == 401
    assert live(container, calendar_id) == set()


def test_a_batch_counts_once_against_the_rate_limit(
    client: TestClient, container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    ada = connect(container)
    calendar_id = primary_calendar(client, ada)
    hits: list[str] = []
    limiter = container.rate_limiter

    class Counting:
        def hit(self, key: str) -> RateDecision:
            hits.append(key)
            return limiter.hit(key)

    monkeypatch.setattr(container, "rate_limiter", Counting())
    entries = [upsert(calendar_id, {**EVENT, "event_id": f"ev-{n}"}) for n in range(10)]
    response = client.post("/v1/batch", json={"batch": entries}, headers=ada.auth)
    assert response.status_code == 207
    assert hits == [f"app:{ada.app.application.id}"]
    assert "ratelimit-remaining" in response.headers


def test_the_batch_is_documented(client: TestClient) -> None:
    operation = client.get("/openapi.json").json()["paths"]["/v1/batch"]["post"]
    assert {"207", "401", "422", "429"} <= set(operation["responses"])
    assert "application/json" in operation["requestBody"]["content"]
