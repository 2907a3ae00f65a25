"""`POST /v1/element_tokens` and element-token auth (`?et=`) with its CORS: what UI Elements call, for whom,
from which origin; and what they may not do."""

from __future__ import annotations

from typing import Any

import pycronofy
import pytest
from fastapi.testclient import TestClient

from horae.container import Container
from tests.api.test_availability import DAY, ada, bob, fixed_now, key
from tests.fakes import FakeClock
from tests.helpers import Connected, PycronofyViaTestClient, connect

ORIGIN = "http://127.0.0.1:5173"
ELEMENT = {"Cronofy-Element": "v1.67.7, agenda"}
__all__ = ["ada", "bob", "fixed_now"]  # fixtures shared with the availability tests


def issue(client: TestClient, who: Connected, permissions: list[str], subs: list[str], origin: str = ORIGIN) -> str:
    body = {"version": "1", "permissions": permissions, "subs": subs, "origin": origin}
    response = client.post("/v1/element_tokens", json=body, headers=key(who))
    assert response.status_code == 200, response.text
    return str(response.json()["element_token"]["token"])


def from_page(origin: str = ORIGIN) -> dict[str, str]:
    return {"Origin": origin, **ELEMENT}


def busy(client: TestClient, who: Connected, summary: str, start: str, end: str) -> None:
    calendar = client.get("/v1/calendars", headers=who.auth).json()["calendars"][0]["calendar_id"]
    body = {"event_id": f"e-{start}", "summary": summary, "start": start, "end": end}
    assert client.post(f"/v1/calendars/{calendar}/events", json=body, headers=who.auth).status_code == 202


def slot_query(*subs: str, **member: Any) -> dict[str, Any]:
    return {
        "participants": [{"members": [{"sub": s, **member} for s in subs], "required": "all"}],
        "required_duration": {"minutes": 60},
        "query_periods": [DAY],
        "response_format": "overlapping_slots",
    }


# --- issuing ----------------------------------------------------------------------------------------------


def test_pycronofy_gets_an_element_token(
    monkeypatch: pytest.MonkeyPatch, client: TestClient, ada: Connected, bob: Connected
) -> None:
    monkeypatch.setattr(pycronofy.request_handler, "requests", PycronofyViaTestClient(client))
    sdk = pycronofy.Client(client_id=ada.app.application.client_id, client_secret=ada.app.client_secret)
    sdk.request_handler.base_url = str(client.base_url).rstrip("/")
    answer = sdk.get_ui_element_token(["availability", "agenda"], [ada.sub, bob.sub], ORIGIN)
    token = answer["element_token"]
    assert set(token) == {"permissions", "origin", "token", "expires_in"}
    assert sorted(token["permissions"]) == ["agenda", "availability"]
    assert token["origin"] == ORIGIN and token["expires_in"] == 64800
    assert not set("+/=&#? %") & set(token["token"])
    slots = client.post(f"/v1/availability?et={token['token']}", json=slot_query(ada.sub, bob.sub))
    assert slots.status_code == 200, slots.text


def test_tokens_differ_each_time(client: TestClient, ada: Connected) -> None:
    assert issue(client, ada, ["agenda"], [ada.sub]) != issue(client, ada, ["agenda"], [ada.sub])


@pytest.mark.parametrize(
    ("given", "origin"),
    [("HTTP://LocalHost:80/", "http://localhost"), ("https://app.example:443", "https://app.example"),
     ("http://127.0.0.1:8080", "http://127.0.0.1:8080"), ("http://[::1]:3000", "http://[::1]:3000")],
)  # fmt: skip
def test_the_origin_comes_back_as_browsers_send_it(client: TestClient, ada: Connected, given: str, origin: str) -> None:
    body = {"version": "1", "permissions": ["agenda"], "subs": [ada.sub], "origin": given}
    response = client.post("/v1/element_tokens", json=body, headers=key(ada))
    assert response.status_code == 200, response.text
    assert response.json()["element_token"]["origin"] == origin


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"permissions": ["agenda", "read_events"]}, "permissions"),
        ({"permissions": []}, "permissions"),
        ({"origin": "http://localhost/page"}, "origin"),
        ({"origin": "http://localhost?x=1"}, "origin"),
        ({"origin": "ftp://localhost"}, "origin"),
        ({"origin": "localhost"}, "origin"),
        ({"origin": "http://user:pw@localhost"}, "origin"),
        ({"version": "2"}, "version"),
        ({"subs": ["acc_unknown"]}, "subs"),
        ({"origin": None}, "origin"),
    ],
)
def test_bad_requests_are_422(client: TestClient, ada: Connected, change: dict[str, Any], field: str) -> None:
    body = {"version": "1", "permissions": ["agenda"], "subs": [ada.sub], "origin": ORIGIN, **change}
    response = client.post("/v1/element_tokens", json=body, headers=key(ada))
    assert response.status_code == 422, response.text
    assert field in response.json()["errors"]


def test_an_account_of_another_application_is_refused(client: TestClient, container: Container, ada: Connected) -> None:
    other = connect(container, "eve@example.com")
    body = {"version": "1", "permissions": ["agenda"], "subs": [other.sub], "origin": ORIGIN}
    response = client.post("/v1/element_tokens", json=body, headers=key(ada))
    assert response.status_code == 422
    assert response.json()["errors"]["subs"][0]["key"] == "errors.unknown_sub"


def test_only_the_api_key_issues_tokens(client: TestClient, ada: Connected) -> None:
    body = {"version": "1", "permissions": ["agenda"], "subs": [ada.sub], "origin": ORIGIN}
    assert client.post("/v1/element_tokens", json=body).status_code == 401
    assert client.post("/v1/element_tokens", json=body, headers=ada.auth).status_code == 401


# --- what each permission allows ----------------------------------------------------------------------------


def test_agenda_reads_events_and_free_busy_with_userinfo(client: TestClient, ada: Connected) -> None:
    busy(client, ada, "Standup", "2026-11-23T10:00:00Z", "2026-11-23T10:30:00Z")
    et = issue(client, ada, ["agenda"], [ada.sub])
    query = {"et": et, "tzid": "Etc/UTC", "from": "2026-11-20", "to": "2026-11-30", "include_userinfo": "true",
             "include_geo": "true", "include_managed": "true"}  # fmt: skip
    events = client.get("/v1/events", params=query, headers=from_page())
    assert events.status_code == 200, events.text
    assert [e["summary"] for e in events.json()["events"]] == ["Standup"]
    assert events.json()["userinfo"]["sub"] == ada.sub
    assert events.headers["access-control-allow-origin"] == ORIGIN and "Origin" in events.headers["vary"]
    free_busy = client.get("/v1/free_busy", params=query, headers=from_page())
    assert free_busy.status_code == 200, free_busy.text
    assert [b["start"] for b in free_busy.json()["free_busy"]] == ["2026-11-23T10:00:00Z"]
    assert free_busy.json()["userinfo"]["email"] == "ada@example.com"


def test_each_permission_opens_only_its_calls(client: TestClient, ada: Connected) -> None:
    agenda = issue(client, ada, ["agenda"], [ada.sub])
    availability = issue(client, ada, ["availability"], [ada.sub])
    assert client.post(f"/v1/availability?et={agenda}", json=slot_query(ada.sub)).status_code == 403
    assert client.get(f"/v1/events?et={availability}&tzid=Etc/UTC").status_code == 403
    assert client.get(f"/v1/userinfo?et={availability}").status_code == 403
    rule = {"availability_rule_id": "default", "tzid": "Etc/UTC", "weekly_periods": []}
    assert client.post(f"/v1/availability_rules?et={agenda}", json=rule).status_code == 403
    # The Agenda follows `next_page` with the token appended: those pages are open to it (this one is unknown).
    assert client.get(f"/v1/events/pages/unknown?et={agenda}").status_code == 404
    assert client.get(f"/v1/free_busy/pages/unknown?et={availability}").status_code == 403
    # Calls no Element makes are never open to an element token.
    assert client.get(f"/v1/calendars?et={agenda}").status_code == 403
    assert client.get(f"/v1/account?et={agenda}").status_code == 403
    assert client.post(f"/v1/element_tokens?et={agenda}", json={}).status_code == 401


def test_availability_is_limited_to_the_tokens_subs(client: TestClient, ada: Connected, bob: Connected) -> None:
    busy(client, ada, "Busy", "2026-12-01T09:00:00Z", "2026-12-01T16:00:00Z")
    et = issue(client, ada, ["availability"], [ada.sub])
    answer = client.post(f"/v1/availability?et={et}", json=slot_query(ada.sub), headers=from_page())
    assert answer.status_code == 200, answer.text
    assert [s["start"] for s in answer.json()["available_slots"]] == ["2026-12-01T16:00:00Z"]
    # Bob authorized the same application, but the token is not for him.
    refused = client.post(f"/v1/availability?et={et}", json=slot_query(ada.sub, bob.sub), headers=from_page())
    assert refused.status_code == 422
    assert refused.json()["errors"]["participants"][0]["key"] == "errors.unknown_sub"
    sequence = {
        "sequence": [{"sequence_id": "one", "ordinal": 1, "participants": slot_query(ada.sub)["participants"],
                      "required_duration": {"minutes": 60}}],
        "query_periods": [DAY],
    }  # fmt: skip
    assert client.post(f"/v1/sequenced_availability?et={et}", json=sequence).status_code == 200


def test_without_max_results_up_to_512_slots_come_back(client: TestClient, ada: Connected) -> None:
    et = issue(client, ada, ["availability"], [ada.sub])
    query = {**slot_query(ada.sub), "start_interval": {"minutes": 5},
             "query_periods": [{"start": "2026-12-01T00:00:00Z", "end": "2026-12-04T00:00:00Z"}]}  # fmt: skip
    answer = client.post(f"/v1/availability?et={et}", json=query)
    assert answer.status_code == 200, answer.text
    assert len(answer.json()["available_slots"]) == 512


def test_availability_rules_saved_by_the_element_shape_the_next_query(client: TestClient, ada: Connected) -> None:
    et = issue(client, ada, ["managed_availability"], [ada.sub])
    assert client.get(f"/v1/availability_rules/default?et={et}").status_code == 404  # the Element's defaults
    assert client.get(f"/v1/userinfo?et={et}").json()["sub"] == ada.sub
    rule = {"availability_rule_id": "default", "tzid": "Etc/UTC",
            "weekly_periods": [{"day": "tuesday", "start_time": "13:00", "end_time": "15:00"}]}  # fmt: skip
    saved = client.post(f"/v1/availability_rules?et={et}", json=rule, headers=from_page())
    assert saved.status_code == 200, saved.text
    assert client.get(f"/v1/availability_rules/default?et={et}").json()["availability_rule"]["tzid"] == "Etc/UTC"
    query = {**slot_query(ada.sub, managed_availability=True), "response_format": "periods"}
    answer = client.post("/v1/availability", json=query, headers=key(ada))
    assert [(p["start"], p["end"]) for p in answer.json()["available_periods"]] == [
        ("2026-12-01T13:00:00Z", "2026-12-01T15:00:00Z")
    ]


def test_calendar_sync_revokes_only_its_accounts_profiles(client: TestClient, ada: Connected, bob: Connected) -> None:
    et = issue(client, ada, ["account_management"], [ada.sub])
    profiles = client.get(f"/v1/userinfo?et={et}").json()["cronofy.data"]["profiles"]
    bobs = client.get("/v1/userinfo", headers=bob.auth).json()["cronofy.data"]["profiles"]
    assert client.post(f"/v1/profiles/{bobs[0]['profile_id']}/revoke?et={et}").status_code == 404
    assert client.post(f"/v1/profiles/{profiles[0]['profile_id']}/revoke?et={et}").status_code == 202


def test_account_calls_need_a_token_for_one_sub(client: TestClient, ada: Connected, bob: Connected) -> None:
    et = issue(client, ada, ["agenda"], [ada.sub, bob.sub])
    assert client.get(f"/v1/userinfo?et={et}").status_code == 403
    assert client.get(f"/v1/userinfo?et={issue(client, ada, ['agenda'], [])}").status_code == 403


def test_expired_forged_and_withdrawn_tokens_are_401(
    client: TestClient, container: Container, clock: FakeClock, ada: Connected
) -> None:
    et = issue(client, ada, ["agenda"], [ada.sub])
    assert client.get(f"/v1/userinfo?et={et}").status_code == 200
    assert client.get(f"/v1/userinfo?et={et[:-2]}xx").status_code == 401
    assert client.get("/v1/userinfo?et=").status_code == 401
    clock.advance(seconds=64800)
    expired = client.get(f"/v1/userinfo?et={et}", headers=from_page())
    assert expired.status_code == 401
    assert expired.headers["access-control-allow-origin"] == ORIGIN  # so the Element can say why
    fresh = issue(client, ada, ["agenda"], [ada.sub])
    container.oauth.revoke(ada.app.application.client_id, ada.app.client_secret, "", ada.sub)
    assert client.get(f"/v1/userinfo?et={fresh}").status_code == 401


def test_a_token_of_another_application_reads_nothing_of_ours(client: TestClient, container: Container) -> None:
    ada = connect(container, "ada@example.com")
    eve = connect(container, "eve@example.com")
    theirs = issue(client, eve, ["availability"], [eve.sub])
    refused = client.post(f"/v1/availability?et={theirs}", json=slot_query(ada.sub))
    assert refused.status_code == 422


# --- CORS ---------------------------------------------------------------------------------------------------


def preflight(client: TestClient, url: str, origin: str, method: str = "GET") -> Any:
    headers = {"Origin": origin, "Access-Control-Request-Method": method,
               "Access-Control-Request-Headers": "content-type,cronofy-element"}  # fmt: skip
    return client.options(url, headers=headers)


def test_preflights_are_answered_for_the_tokens_origin_only(client: TestClient, ada: Connected) -> None:
    et = issue(client, ada, ["availability"], [ada.sub])
    ok = preflight(client, f"/v1/availability?et={et}", ORIGIN, "POST")
    assert ok.status_code in (200, 204)
    assert ok.headers["access-control-allow-origin"] == ORIGIN
    assert {m.strip() for m in ok.headers["access-control-allow-methods"].split(",")} >= {"GET", "POST"}
    assert {h.strip() for h in ok.headers["access-control-allow-headers"].lower().split(",")} >= {
        "content-type",
        "cronofy-element",
    }
    assert "Origin" in ok.headers["vary"]
    for origin in ("http://127.0.0.1:5174", "https://127.0.0.1:5173", "null"):
        wrong = preflight(client, f"/v1/availability?et={et}", origin, "POST")
        assert wrong.status_code == 403
        assert "access-control-allow-origin" not in wrong.headers
    forged = preflight(client, "/v1/availability?et=not-a-token", ORIGIN, "POST")
    assert forged.status_code == 403 and "access-control-allow-origin" not in forged.headers


def test_a_request_from_another_origin_is_refused(client: TestClient, ada: Connected) -> None:
    et = issue(client, ada, ["agenda"], [ada.sub])
    wrong = client.get(f"/v1/userinfo?et={et}", headers=from_page("http://evil.example"))
    assert wrong.status_code == 403
    assert "access-control-allow-origin" not in wrong.headers
    assert "sub" not in wrong.json()
    assert client.get(f"/v1/userinfo?et={et}", headers=from_page()).json()["sub"] == ada.sub


def test_no_cors_without_an_element_token(client: TestClient, ada: Connected) -> None:
    answer = client.get("/v1/userinfo", headers={"Origin": ORIGIN, **ada.auth})
    assert answer.status_code == 200
    assert "access-control-allow-origin" not in answer.headers
    assert "access-control-allow-origin" not in preflight(client, "/v1/userinfo", ORIGIN).headers


def test_an_authorization_header_wins_over_et(client: TestClient, ada: Connected) -> None:
    et = issue(client, ada, ["agenda"], [ada.sub])
    answer = client.get(f"/v1/account?et={et}", headers=ada.auth)
    assert answer.status_code == 200 and "access-control-allow-origin" not in answer.headers


def test_the_endpoint_is_documented_as_it_answers(client: TestClient, ada: Connected) -> None:
    document = client.get("/openapi.json").json()
    operation = document["paths"]["/v1/element_tokens"]["post"]
    assert operation["security"] == [{"apiKey": []}]
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    assert set(body["required"]) == {"version", "permissions", "origin"}
    assert body["properties"]["permissions"]["items"]["enum"] == [
        "agenda",
        "account_management",
        "availability",
        "managed_availability",
    ]
    assert set(operation["responses"]) >= {"200", "401", "422", "429"}
    ref = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    inner = document["components"]["schemas"][ref]["properties"]["element_token"]["$ref"].rsplit("/", 1)[-1]
    documented = set(document["components"]["schemas"][inner]["properties"])
    answer = client.post(
        "/v1/element_tokens",
        json={"version": "1", "permissions": ["agenda"], "subs": [ada.sub], "origin": ORIGIN},
        headers=key(ada),
    )
    assert set(answer.json()["element_token"]) == documented
