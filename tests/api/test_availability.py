"""`POST /v1/availability` (§5) over HTTP: who may be asked about, each parameter, and the errors."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from horae.container import Container
from tests.fakes import FakeClock
from tests.helpers import Connected, authorize, connect, make_app

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
DAY = {"start": "2026-12-01T09:00:00Z", "end": "2026-12-01T17:00:00Z"}


@pytest.fixture(autouse=True)
def fixed_now(clock: FakeClock) -> None:
    clock.current = NOW


@pytest.fixture
def ada(container: Container) -> Connected:
    return connect(container, "ada@example.com")


@pytest.fixture
def bob(container: Container, ada: Connected) -> Connected:
    person = container.accounts.sign_up("bob@example.com", "correct horse battery", "Bob")
    return authorize(container, ada.app, person.account.id)


def key(who: Connected) -> dict[str, str]:
    return {"Authorization": f"Bearer {who.app.client_secret}"}


def primary(client: TestClient, who: Connected) -> str:
    return str(client.get("/v1/calendars", headers=who.auth).json()["calendars"][0]["calendar_id"])


def busy(client: TestClient, who: Connected, start: str, end: str, **fields: Any) -> None:
    body = {"event_id": f"e-{start}-{end}", "summary": "Busy", "start": start, "end": end, **fields}
    response = client.post(f"/v1/calendars/{primary(client, who)}/events", json=body, headers=who.auth)
    assert response.status_code == 202, response.text


def ask(client: TestClient, who: Connected, status: int = 200, **body: Any) -> dict[str, Any]:
    body.setdefault("query_periods", [DAY])
    body.setdefault("required_duration", {"minutes": 60})
    response = client.post("/v1/availability", json=body, headers=body.pop("headers", None) or key(who))
    assert response.status_code == status, response.text
    return dict(response.json())


def group(*who: Connected, required: Any = "all", **member: Any) -> dict[str, Any]:
    return {"members": [{"sub": w.sub, **member} for w in who], "required": required}


def spans(found: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(p["start"][11:16], p["end"][11:16]) for p in found]


def test_periods_for_everyone_avoid_each_members_events(client: TestClient, ada: Connected, bob: Connected) -> None:
    busy(client, ada, "2026-12-01T10:00:00Z", "2026-12-01T11:00:00Z")
    busy(client, bob, "2026-12-01T13:30:00Z", "2026-12-01T14:00:00Z")
    answer = ask(client, ada, participants=[group(ada, bob)])
    assert spans(answer["available_periods"]) == [("09:00", "10:00"), ("11:00", "13:30"), ("14:00", "17:00")]
    assert answer["available_periods"][0]["participants"] == [{"sub": ada.sub}, {"sub": bob.sub}]
    assert answer["available_periods"][0]["start"] == "2026-12-01T09:00:00Z"


def test_the_spec_example_shape(client: TestClient, ada: Connected, bob: Connected) -> None:
    answer = ask(
        client,
        ada,
        participants=[{"members": [{"sub": ada.sub, "managed_availability": False}, {"sub": bob.sub}]}],
        required_duration={"minutes": 60},
        query_periods=[{"start": "2026-12-01T09:00:00Z", "end": "2026-12-01T18:00:00Z"}],
        buffer={"before": {"minutes": 30}, "after": {"minutes": 15}},
        start_interval={"minutes": 30},
        max_results=256,
        response_format="slots",
        include_member_statuses=True,
    )
    assert len(answer["available_slots"]) == 9
    assert {s["sub"]: s["sync_status"] for s in answer["member_statuses"]} == {ada.sub: "active", bob.sub: "active"}
    assert all(s["last_synced_at"] == "2026-11-20T12:00:00Z" for s in answer["member_statuses"])


def test_slots_honour_interval_and_buffers(client: TestClient, ada: Connected) -> None:
    busy(client, ada, "2026-12-01T12:00:00Z", "2026-12-01T13:00:00Z")
    answer = ask(
        client,
        ada,
        participants=[group(ada)],
        response_format="overlapping_slots",
        start_interval={"minutes": 30},
        buffer={"before": {"minutes": 15}, "after": {"minutes": 30}},
    )
    starts = [s["start"][11:16] for s in answer["available_slots"]]
    # An hour must end 30 minutes before noon, and start 15 minutes after 13:00 (so 13:30 on the grid).
    assert starts == ["09:00", "09:30", "10:00", "10:30", "13:30", "14:00", "14:30", "15:00", "15:30", "16:00"]
    plain = ask(client, ada, participants=[group(ada)], response_format="slots", start_interval=30)
    assert spans(plain["available_slots"])[:3] == [("09:00", "10:00"), ("10:00", "11:00"), ("11:00", "12:00")]


def test_one_of_a_group_is_enough_and_only_the_chosen_appear(
    client: TestClient, ada: Connected, bob: Connected
) -> None:
    busy(client, ada, "2026-12-01T09:00:00Z", "2026-12-01T17:00:00Z")
    answer = ask(client, ada, participants=[group(ada, bob, required=1)], response_format="slots")
    assert answer["available_slots"] and all(s["participants"] == [{"sub": bob.sub}] for s in answer["available_slots"])
    nobody = ask(client, ada, participants=[group(ada, bob, required=2)])
    assert nobody["available_periods"] == []


def test_legacy_available_periods_are_accepted_but_not_with_query_periods(client: TestClient, ada: Connected) -> None:
    body = {"participants": [group(ada)], "required_duration": {"minutes": 60}, "available_periods": [DAY]}
    response = client.post("/v1/availability", json=body, headers=key(ada))
    assert response.status_code == 200
    assert spans(response.json()["available_periods"]) == [("09:00", "17:00")]
    both = client.post("/v1/availability", json={**body, "query_periods": [DAY]}, headers=key(ada))
    assert both.status_code == 422
    assert "query_periods" in both.json()["errors"]


def test_members_must_have_granted_the_application(client: TestClient, container: Container, ada: Connected) -> None:
    stranger = connect(container, "eve@example.com")  # authorized another application only
    answer = ask(client, ada, 422, participants=[group(stranger)])
    assert answer["errors"]["participants"][0]["key"] == "errors.unknown_sub"
    assert ask(client, ada, 422, participants=[{"members": [{"sub": "acc_nobody"}]}])["errors"]["participants"]


def test_an_account_token_may_ask_about_its_own_account_only(
    client: TestClient, ada: Connected, bob: Connected
) -> None:
    own = ask(client, ada, participants=[group(ada)], headers=ada.auth)
    assert spans(own["available_periods"]) == [("09:00", "17:00")]
    ask(client, ada, 422, participants=[group(ada, bob)], headers=ada.auth)


def test_an_account_token_needs_read_free_busy(client: TestClient, container: Container) -> None:
    app = make_app(container, "Writer")
    person = container.accounts.sign_up("cy@example.com", "correct horse battery", "Cy")
    writer = authorize(container, app, person.account.id, scope="create_event")
    ask(client, writer, 403, participants=[group(writer)], headers=writer.auth)
    ask(client, writer, 422, participants=[group(writer)])  # by API key: the account granted no free/busy


def test_without_credentials(client: TestClient) -> None:
    response = client.post("/v1/availability", json={})
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"max_results": 513}, "max_results"),
        ({"required_duration": {"minutes": 0}}, "required_duration"),
        ({"required_duration": {"minutes": 1441}}, "required_duration"),
        ({"start_interval": {"minutes": 0}}, "start_interval"),
        ({"query_periods": [{"start": "2026-12-01T09:00:00Z", "end": "2027-12-03T09:00:00Z"}]}, "query_periods"),
        ({"query_periods": [{"start": "2026-12-01T10:00:00Z", "end": "2026-12-01T09:00:00Z"}]}, "query_periods"),
        ({"query_periods": [DAY] * 501}, "query_periods"),
        ({"query_periods": [{"start": "tomorrow", "end": "2026-12-01T09:00:00Z"}]}, "query_periods"),
        ({"query_periods": [{"start": "2026-12-01", "end": "2026-12-02"}]}, "query_periods"),
        ({"query_periods": []}, "query_periods"),
        ({"response_format": "blocks"}, "response_format"),
        ({"excluded_events": [{}]}, "excluded_events"),
    ],
)
def test_bad_input_names_the_field(client: TestClient, ada: Connected, change: dict[str, Any], field: str) -> None:
    answer = ask(client, ada, 422, participants=[group(ada)], **change)
    assert field in answer["errors"], answer


@pytest.mark.parametrize(
    "participants",
    [[], [{"members": []}], [{"members": [{"sub": "x"}], "required": 2}], [{"members": [{"sub": "x"}], "required": 0}]],
)
def test_bad_groups(client: TestClient, ada: Connected, participants: list[Any]) -> None:
    assert "participants" in ask(client, ada, 422, participants=participants)["errors"]


def test_too_many_members(client: TestClient, ada: Connected) -> None:
    many = [{"members": [{"sub": ada.sub}] * 10} for _ in range(51)]
    assert "participants" in ask(client, ada, 422, participants=many)["errors"]


def test_free_tentative_and_declined_events(client: TestClient, container: Container, ada: Connected) -> None:
    busy(client, ada, "2026-12-01T09:00:00Z", "2026-12-01T10:00:00Z", transparency="transparent")
    busy(client, ada, "2026-12-01T11:00:00Z", "2026-12-01T12:00:00Z")
    with container.uow() as uow:
        for event in uow.events.in_calendars([primary(client, ada)]):
            if event.starts_at == datetime(2026, 12, 1, 11, tzinfo=UTC):
                event.participation_status = "tentative"
        uow.commit()
    answer = ask(client, ada, participants=[group(ada)])
    assert spans(answer["available_periods"]) == [("09:00", "11:00"), ("12:00", "17:00")]
    ignoring = ask(client, ada, participants=[group(ada, ignore_tentative=True)])
    assert spans(ignoring["available_periods"]) == [("09:00", "17:00")]


def test_only_managed_events_and_excluded_events(client: TestClient, container: Container, ada: Connected) -> None:
    busy(client, ada, "2026-12-01T10:00:00Z", "2026-12-01T11:00:00Z", event_id="mine")
    other = authorize(container, make_app(container, "Other"), ada.sub)
    busy(client, other, "2026-12-01T13:00:00Z", "2026-12-01T14:00:00Z", event_id="theirs")
    every = ask(client, ada, participants=[group(ada)])
    assert spans(every["available_periods"]) == [("09:00", "10:00"), ("11:00", "13:00"), ("14:00", "17:00")]
    managed = ask(client, ada, participants=[group(ada, only_managed_events=True)])
    assert spans(managed["available_periods"]) == [("09:00", "10:00"), ("11:00", "17:00")]
    excluded = ask(client, ada, participants=[group(ada)], excluded_events=[{"event_id": "mine"}])
    assert spans(excluded["available_periods"]) == [("09:00", "13:00"), ("14:00", "17:00")]


def test_recurring_and_all_day_events_are_busy(client: TestClient, ada: Connected) -> None:
    body = {
        "event_id": "standup",
        "summary": "Standup",
        "start": "2026-11-23T09:30:00Z",
        "end": "2026-11-23T10:00:00Z",
        "recurrence": {"rules": [{"frequency": "weekly", "interval": 1}]},
    }
    response = client.post(f"/v1/calendars/{primary(client, ada)}/events", json=body, headers=ada.auth)
    assert response.status_code == 202, response.text
    busy(client, ada, "2026-12-02", "2026-12-03")
    periods = [
        {"start": "2026-11-30T09:00:00Z", "end": "2026-11-30T12:00:00Z"},
        {"start": "2026-12-02T09:00:00Z", "end": "2026-12-02T12:00:00Z"},
    ]
    answer = ask(client, ada, participants=[group(ada)], query_periods=periods, required_duration={"minutes": 30})
    assert [(p["start"], p["end"]) for p in answer["available_periods"]] == [
        ("2026-11-30T09:00:00Z", "2026-11-30T09:30:00Z"),
        ("2026-11-30T10:00:00Z", "2026-11-30T12:00:00Z"),
    ]


def test_calendar_ids_limit_which_calendars_count(client: TestClient, ada: Connected) -> None:
    main = primary(client, ada)
    created = client.post(
        "/v1/calendars", json={"profile_id": profile_of(client, ada), "name": "Side"}, headers=ada.auth
    )
    assert created.status_code in (200, 202), created.text
    side = created.json()["calendar"]["calendar_id"]
    response = client.post(
        f"/v1/calendars/{side}/events",
        json={"event_id": "side", "summary": "S", "start": "2026-12-01T09:00:00Z", "end": "2026-12-01T12:00:00Z"},
        headers=ada.auth,
    )
    assert response.status_code == 202
    only_primary = ask(client, ada, participants=[group(ada, calendar_ids=[main])])
    assert spans(only_primary["available_periods"]) == [("09:00", "17:00")]
    assert spans(ask(client, ada, participants=[group(ada)])["available_periods"]) == [("12:00", "17:00")]
    unknown = ask(client, ada, 422, participants=[group(ada, calendar_ids=["cal_nope"])])
    assert unknown["errors"]["participants"][0]["key"] == "errors.unknown_calendar"


def profile_of(client: TestClient, who: Connected) -> str:
    return str(client.get("/v1/profiles", headers=who.auth).json()["profiles"][0]["profile_id"])


def test_member_available_periods_and_query_slots(client: TestClient, ada: Connected) -> None:
    window = [{"start": "2026-12-01T13:00:00Z", "end": "2026-12-01T15:00:00Z"}]
    answer = ask(client, ada, participants=[group(ada, available_periods=window)])
    assert spans(answer["available_periods"]) == [("13:00", "15:00")]
    busy(client, ada, "2026-12-01T10:00:00Z", "2026-12-01T11:00:00Z")
    slots = [{"start": "2026-12-01T09:10:00Z"}, {"start": "2026-12-01T10:30:00Z"}, {"start": "2026-12-01T11:00:00Z"}]
    body = {"participants": [group(ada)], "required_duration": {"minutes": 45}, "query_slots": slots}
    response = client.post("/v1/availability", json={**body, "response_format": "slots"}, headers=key(ada))
    assert response.status_code == 200, response.text
    assert spans(response.json()["available_slots"]) == [("09:10", "09:55"), ("11:00", "11:45")]


def test_constraints_close_a_day_with_enough_events(client: TestClient, ada: Connected) -> None:
    busy(client, ada, "2026-12-01T09:00:00Z", "2026-12-01T10:00:00Z")
    two_days = [{"start": "2026-12-01T09:00:00Z", "end": "2026-12-02T17:00:00Z"}]
    limited = [{"period": "day", "limit": 1}]
    answer = ask(client, ada, participants=[group(ada, availability_constraints=limited)], query_periods=two_days)
    assert [p["start"] for p in answer["available_periods"]] == ["2026-12-02T00:00:00Z"]
    tagged = [{"period": "day", "limit": 1, "tags": {"private": [{"value": "x"}]}}]
    ask(client, ada, 422, participants=[group(ada, availability_constraints=tagged)], query_periods=two_days)


def test_explain_names_who_and_why(client: TestClient, ada: Connected, bob: Connected) -> None:
    busy(client, bob, "2026-12-01T10:00:00Z", "2026-12-01T11:00:00Z")
    answer = ask(
        client,
        ada,
        participants=[group(ada, bob)],
        buffer={"after": {"minutes": 30}},
        explain=["2026-12-01T09:00:00Z", "2026-12-01T09:30:00Z", "2026-12-01T11:00:00Z", "2026-12-01T18:00:00Z"],
    )
    first, second, third, late = answer["explanations"]
    assert first["available"] is False
    assert {"reason": "buffer", "sub": bob.sub} == {k: first["reasons"][0][k] for k in ("reason", "sub")}
    assert second["reasons"][0]["reason"] == "busy"
    assert second["reasons"][0]["start"] == "2026-12-01T10:00:00Z"
    assert third["available"] is True and third["participants"] == [{"sub": ada.sub}, {"sub": bob.sub}]
    assert {r["reason"] for r in late["reasons"]} == {"outside_query_periods"}


def test_max_results(client: TestClient, ada: Connected) -> None:
    answer = ask(client, ada, participants=[group(ada)], response_format="overlapping_slots", max_results=3)
    assert len(answer["available_slots"]) == 3


def test_managed_availability_uses_rules_and_available_periods(client: TestClient, ada: Connected) -> None:
    rule = {
        "availability_rule_id": "work",
        "tzid": "America/New_York",
        "weekly_periods": [{"day": "tuesday", "start_time": "09:00", "end_time": "12:00"}],
    }
    saved = client.post("/v1/availability_rules", json=rule, headers=ada.auth)
    assert saved.status_code == 200, saved.text
    period = {"available_period_id": "extra", "start": "2026-12-01T20:00:00Z", "end": "2026-12-01T21:00:00Z"}
    assert client.post("/v1/available_periods", json=period, headers=ada.auth).status_code == 202
    busy(client, ada, "2026-12-01T15:00:00Z", "2026-12-01T16:00:00Z")
    whole_day = [{"start": "2026-12-01T00:00:00Z", "end": "2026-12-02T00:00:00Z"}]
    answer = ask(client, ada, participants=[group(ada, managed_availability=True)], query_periods=whole_day)
    # Tuesday 09:00-12:00 in New York is 14:00-17:00 UTC, less the event; then the extra period.
    assert spans(answer["available_periods"]) == [("14:00", "15:00"), ("16:00", "17:00"), ("20:00", "21:00")]
    named = ask(
        client,
        ada,
        participants=[group(ada, managed_availability=True, availability_rule_ids=["work"])],
        query_periods=whole_day,
        explain=["2026-12-01T18:00:00Z"],
    )
    assert named["explanations"][0]["reasons"][0] == {"reason": "managed_availability", "sub": ada.sub}
    unknown = ask(client, ada, 422, participants=[group(ada, managed_availability=True, availability_rule_ids=["x"])])
    assert unknown["errors"]["participants"][0]["key"] == "errors.unknown_rule"


def test_managed_availability_without_rules_or_periods_is_never_available(client: TestClient, ada: Connected) -> None:
    answer = ask(client, ada, participants=[group(ada, managed_availability=True)])
    assert answer["available_periods"] == []


def test_a_changed_series_is_read_afresh(client: TestClient, ada: Connected) -> None:
    """Series instances are cached between queries; moving or cancelling one must show at once."""
    calendar = primary(client, ada)
    series = {
        "event_id": "standup",
        "summary": "Standup",
        "start": "2026-11-23T09:30:00Z",
        "end": "2026-11-23T10:00:00Z",
        "recurrence": {"rules": [{"frequency": "weekly", "interval": 1}]},
    }
    assert client.post(f"/v1/calendars/{calendar}/events", json=series, headers=ada.auth).status_code == 202
    monday = [{"start": "2026-11-30T09:00:00Z", "end": "2026-11-30T12:00:00Z"}]

    def free() -> list[tuple[str, str]]:
        answer = ask(client, ada, participants=[group(ada)], query_periods=monday, required_duration=30)
        return spans(answer["available_periods"])

    assert free() == [("09:00", "09:30"), ("10:00", "12:00")]
    moved = {
        **series,
        "instance": "2026-11-30T09:30:00Z",
        "start": "2026-11-30T11:00:00Z",
        "end": "2026-11-30T11:30:00Z",
    }
    moved.pop("recurrence")
    response = client.post(f"/v1/calendars/{calendar}/events", json=moved, headers=ada.auth)
    assert response.status_code == 202, response.text
    assert free() == [("09:00", "11:00"), ("11:30", "12:00")]
    read = {"from": "2026-11-30", "to": "2026-12-01", "include_managed": "true"}
    uid = client.get("/v1/events", params=read, headers=ada.auth).json()
    instance_uid = uid["events"][0]["event_uid"]
    gone = client.request(
        "DELETE", f"/v1/calendars/{calendar}/events", json={"event_uid": instance_uid}, headers=ada.auth
    )
    assert gone.status_code == 202, gone.text
    assert free() == [("09:00", "12:00")]


def test_the_past_is_never_offered(client: TestClient, ada: Connected) -> None:
    today = [{"start": "2026-11-20T09:00:00Z", "end": "2026-11-20T17:00:00Z"}]  # it is 12:00 now
    answer = ask(client, ada, participants=[group(ada)], query_periods=today)
    assert [(p["start"], p["end"]) for p in answer["available_periods"]] == [
        ("2026-11-20T12:00:00Z", "2026-11-20T17:00:00Z")
    ]
    yesterday = [{"start": "2026-11-19T09:00:00Z", "end": "2026-11-19T17:00:00Z"}]
    assert ask(client, ada, participants=[group(ada)], query_periods=yesterday)["available_periods"] == []
    late = ask(client, ada, participants=[group(ada)], query_periods=today, explain=["2026-11-20T10:00:00Z"])
    assert late["explanations"][0]["reasons"] == [{"reason": "outside_query_periods"}]
