"""Real-Time Scheduling links (§7) over HTTP: create, validation, status by id and by token, disable, and the
hosted page's flow (slots, confirm, book, callbacks, redirects) on both backends."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient

from horae.container import Container
from horae.domain.hmac import HEADER
from tests.api.test_availability import ada, bob, busy, fixed_now, key, primary
from tests.helpers import Connected, RecordingSender, csrf_of

__all__ = ["ada", "bob", "fixed_now"]  # fixtures shared with the availability tests

DAY = {"start": "2026-12-01T09:00:00Z", "end": "2026-12-01T11:00:00Z"}
COMPLETED = "https://app.example/rts/completed"
NONE_SUIT = "https://app.example/rts/none"
NONE_SHOWN = "https://app.example/rts/shown"
BACK = "https://app.example/thanks"


@pytest.fixture
def sender(container: Container) -> RecordingSender:
    recording = RecordingSender()
    container.callbacks.sender = recording
    container.push.sender = recording
    return recording


def link_body(who: Connected, *others: Connected, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "oauth": {"redirect_uri": "https://app.example/oauth", "state": "s1"},
        "event": {"event_id": "interview-1", "summary": "Interview", "tzid": "Europe/London"},
        "availability": {
            "participants": [{"members": [{"sub": w.sub} for w in (who, *others)], "required": "all"}],
            "required_duration": {"minutes": 30},
            "query_periods": [DAY],
            "start_interval": {"minutes": 30},
        },
        "target_calendars": [{"sub": who.sub, "calendar_id": PRIMARY[who.sub]}],
        "callback_urls": {
            "completed_url": COMPLETED,
            "no_times_suitable_url": NONE_SUIT,
            "no_times_displayed_url": NONE_SHOWN,
        },
        "redirect_urls": {"completed_url": BACK},
    }
    body.update(extra)
    return body


PRIMARY: dict[str, str] = {}


@pytest.fixture(autouse=True)
def primaries(client: TestClient, ada: Connected) -> None:
    PRIMARY.clear()
    PRIMARY[ada.sub] = primary(client, ada)


def create(client: TestClient, who: Connected, status: int = 200, **body: Any) -> dict[str, Any]:
    response = client.post("/v1/real_time_scheduling", json=body or link_body(who), headers=key(who))
    assert response.status_code == status, response.text
    return dict(response.json())


def token_of(url: str) -> str:
    return urlsplit(url).path.rsplit("/", 1)[1]


def slot_keys(html: str) -> list[str]:
    return re.findall(r'name="slot" value="([^"]+)"', html)


def book(client: TestClient, url: str, index: int = 0, tz: str = "Europe/London") -> Any:
    path = urlsplit(url).path
    page = client.get(path, params={"tz": tz})
    assert page.status_code == 200, page.text
    chosen = slot_keys(page.text)[index]
    confirm = client.get(f"{path}/confirm", params={"slot": chosen, "tz": tz})
    assert confirm.status_code == 200, confirm.text
    form = {"slot": chosen, "tz": tz, "csrf_token": csrf_of(confirm.text)}
    return client.post(f"{path}/book", data=form, follow_redirects=False)


def test_create_then_status_by_id_and_by_token(client: TestClient, ada: Connected) -> None:
    made = create(client, ada)["real_time_scheduling"]
    assert set(made) == {"real_time_scheduling_id", "url"}
    assert made["real_time_scheduling_id"].startswith("sch_")
    assert made["url"].startswith("http://127.0.0.1:8000/rts/")
    by_id = client.get(f"/v1/real_time_scheduling/{made['real_time_scheduling_id']}", headers=key(ada))
    assert by_id.status_code == 200, by_id.text
    status = by_id.json()["real_time_scheduling"]
    assert status["status"] == "open" and status["url"] == made["url"]
    assert status["event"]["summary"] == "Interview"
    by_token = client.get("/v1/real_time_scheduling", params={"token": token_of(made["url"])}, headers=key(ada))
    assert by_token.json() == by_id.json()


def test_links_belong_to_their_application(client: TestClient, container: Container, ada: Connected) -> None:
    made = create(client, ada)["real_time_scheduling"]
    other = container.applications.create("Other", ["https://other.example/cb"])
    stranger = {"Authorization": f"Bearer {other.client_secret}"}
    assert (
        client.get(f"/v1/real_time_scheduling/{made['real_time_scheduling_id']}", headers=stranger).status_code == 404
    )
    assert client.get("/v1/real_time_scheduling", params={"token": "nope"}, headers=key(ada)).status_code == 404
    assert client.get(f"/v1/real_time_scheduling/{made['real_time_scheduling_id']}").status_code == 401
    assert (
        client.get(f"/v1/real_time_sequencing/{made['real_time_scheduling_id']}", headers=key(ada)).status_code == 404
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"oauth": None}, "oauth"),
        ({"event": {"event_id": "x", "summary": "S"}}, "event.tzid"),
        ({"event": {"event_id": "x", "summary": "S", "tzid": "Mars/Base"}}, "event.tzid"),
        ({"event": {"summary": "S", "tzid": "Etc/UTC"}}, "event.event_id"),
        ({"event": {"event_id": "x", "tzid": "Etc/UTC"}}, "event.summary"),
        (
            {"event": {"event_id": "x", "summary": "S", "tzid": "Etc/UTC", "attendees": {"invite": []}}},
            "event.attendees",
        ),
        ({"target_calendars": []}, "target_calendars"),
        ({"target_calendars": [{"sub": "acc_x", "calendar_id": "cal_x"}]}, "target_calendars"),
        ({"callback_urls": {"completed_url": "javascript:alert(1)"}}, "callback_urls.completed_url"),
        ({"redirect_urls": {"completed_url": "/relative"}}, "redirect_urls.completed_url"),
        ({"minimum_notice": {"minutes": -5}}, "minimum_notice"),
        ({"event_creation": "many"}, "event_creation"),
    ],
)
def test_bad_input_is_a_422_naming_the_field(
    client: TestClient, ada: Connected, change: dict[str, Any], field: str
) -> None:
    body = link_body(ada, **change)
    body = {k: v for k, v in body.items() if v is not None}
    answer = create(client, ada, 422, **body)
    assert any(name.startswith(field) for name in answer["errors"]), answer


@pytest.mark.parametrize(
    ("availability", "field"),
    [
        (
            {"query_periods": [{"start": "2026-12-01T10:00:00Z", "end": "2026-12-01T09:00:00Z"}]},
            "availability.query_periods",
        ),
        ({"participants": [{"members": [{"sub": "acc_nobody"}]}]}, "availability.participants"),
        ({"required_duration": {"minutes": 0}}, "availability.required_duration"),
    ],
)
def test_availability_problems_are_named_under_availability(
    client: TestClient, ada: Connected, availability: dict[str, Any], field: str
) -> None:
    body = link_body(ada)
    body["availability"] = {**body["availability"], **availability}
    assert field in create(client, ada, 422, **body)["errors"]


def test_the_page_offers_slots_and_a_booking_writes_the_event_and_calls_back(
    client: TestClient, ada: Connected, sender: RecordingSender
) -> None:
    busy(client, ada, "2026-12-01T09:30:00Z", "2026-12-01T10:00:00Z")
    made = create(client, ada)["real_time_scheduling"]
    page = client.get(urlsplit(made["url"]).path, params={"tz": "America/New_York"})
    assert page.status_code == 200
    assert "04:00 – 04:30" in page.text and "05:00 – 05:30" in page.text and "04:30 – 05:00" not in page.text
    assert "Tuesday 1 December 2026" in page.text
    answer = book(client, made["url"], index=2, tz="America/New_York")
    assert answer.status_code == 303 and answer.headers["location"] == BACK
    events = client.get(
        "/v1/events",
        params={"tzid": "Etc/UTC", "from": "2026-12-01", "to": "2026-12-02", "include_managed": "true"},
        headers=ada.auth,
    )
    booked = [e for e in events.json()["events"] if e["summary"] == "Interview"]
    assert [(e["start"], e["end"]) for e in booked] == [("2026-12-01T10:30:00Z", "2026-12-01T11:00:00Z")]
    [sent] = [s for s in sender.sent if s.url == COMPLETED]
    secret = ada.app.client_secret.encode()
    assert sent.headers[HEADER] == base64.b64encode(hmac.new(secret, sent.body, hashlib.sha256).digest()).decode()
    assert sent.json["notification"] == {"type": "completed"}
    assert sent.json["event"]["start"] == {"time": "2026-12-01T10:30:00Z", "tzid": "Europe/London"}
    assert sent.json["event"]["event_id"] == "interview-1"
    assert sent.json["user"] == {"tzid": "America/New_York"}
    assert sent.json["participants"] == [{"sub": ada.sub}]
    assert sent.json["real_time_scheduling"]["real_time_scheduling_id"] == made["real_time_scheduling_id"]
    status = client.get(f"/v1/real_time_scheduling/{made['real_time_scheduling_id']}", headers=key(ada)).json()
    assert status["real_time_scheduling"]["status"] == "completed"
    assert status["real_time_scheduling"]["event"]["start"]["time"] == "2026-12-01T10:30:00Z"
    # Single use: the page now says it was used, and another booking is refused.
    again = client.get(urlsplit(made["url"]).path)
    assert again.status_code == 409 and "booked already" in again.text


def test_a_booked_event_gets_the_conferencing_the_link_asked_for(client: TestClient, ada: Connected) -> None:
    body = link_body(ada)
    body["event"] = {
        **body["event"],
        "conferencing": {"profile_id": "integrated"},
        "description": "Join: {{ cronofy.conferencing.join_url }}",
    }
    made = create(client, ada, **body)["real_time_scheduling"]
    assert book(client, made["url"]).status_code == 303
    events = client.get(
        "/v1/events",
        params={"tzid": "Etc/UTC", "from": "2026-12-01", "to": "2026-12-02", "include_managed": "true"},
        headers=ada.auth,
    )
    [booked] = [e for e in events.json()["events"] if e["summary"] == "Interview"]
    join_url = booked["conferencing"]["join_url"]
    assert join_url.startswith("https://meet.jit.si/") and booked["description"] == f"Join: {join_url}"


def test_without_a_redirect_the_invitee_sees_a_booked_page(client: TestClient, ada: Connected) -> None:
    made = create(client, ada, **link_body(ada, redirect_urls=None))["real_time_scheduling"]
    answer = book(client, made["url"])
    assert answer.status_code == 303 and answer.headers["location"].startswith(urlsplit(made["url"]).path + "/booked")
    page = client.get(answer.headers["location"])
    assert "You are booked" in page.text and "09:00 – 09:30" in page.text


def test_a_taken_slot_gives_a_clear_page(client: TestClient, ada: Connected, sender: RecordingSender) -> None:
    first = create(client, ada)["real_time_scheduling"]
    second = create(client, ada)["real_time_scheduling"]
    path = urlsplit(second["url"]).path
    chosen = slot_keys(client.get(path).text)[0]
    confirm = client.get(f"{path}/confirm", params={"slot": chosen})
    assert book(client, first["url"]).status_code == 303
    late = client.post(f"{path}/book", data={"slot": chosen, "tz": "Etc/UTC", "csrf_token": csrf_of(confirm.text)})
    assert late.status_code == 409 and "no longer available" in late.text
    assert len([s for s in sender.sent if s.url == COMPLETED]) == 1
    assert client.get(f"{path}/confirm", params={"slot": chosen}).status_code == 409


def test_booking_needs_the_form_token(client: TestClient, ada: Connected) -> None:
    made = create(client, ada)["real_time_scheduling"]
    path = urlsplit(made["url"]).path
    chosen = slot_keys(client.get(path).text)[0]
    assert client.post(f"{path}/book", data={"slot": chosen, "csrf_token": "forged"}).status_code == 403


def test_minimum_notice_hides_early_slots(client: TestClient, ada: Connected) -> None:
    today = {"start": "2026-11-20T12:00:00Z", "end": "2026-11-20T15:00:00Z"}  # it is 12:00 now
    body = link_body(ada, minimum_notice={"hours": 2})
    body["availability"]["query_periods"] = [today]
    made = create(client, ada, **body)["real_time_scheduling"]
    page = client.get(urlsplit(made["url"]).path, params={"tz": "Etc/UTC"})
    assert re.findall(r"<span>(\d\d:\d\d) –", page.text) == ["14:00", "14:30"]


def test_event_creation_single_or_one_per_target(client: TestClient, ada: Connected) -> None:
    profile = client.get("/v1/account", headers=ada.auth)
    assert profile.status_code == 200
    profiles = client.get("/v1/profiles", headers=ada.auth).json()["profiles"]
    side = client.post(
        "/v1/calendars", json={"profile_id": profiles[0]["profile_id"], "name": "Side"}, headers=ada.auth
    ).json()["calendar"]["calendar_id"]
    targets = [{"sub": ada.sub, "calendar_id": PRIMARY[ada.sub]}, {"sub": ada.sub, "calendar_id": side}]
    for creation, event_id, expected in (("default", "each", 2), ("single", "one", 1)):
        event = {"event_id": event_id, "summary": creation, "tzid": "Etc/UTC"}
        body = link_body(ada, target_calendars=targets, event_creation=creation, event=event)
        made = create(client, ada, **body)["real_time_scheduling"]
        assert book(client, made["url"], index=2 if creation == "single" else 0).status_code == 303
        events = client.get(
            "/v1/events", params={"from": "2026-12-01", "to": "2026-12-02", "include_managed": "true"}, headers=ada.auth
        )
        written = [e for e in events.json()["events"] if e["summary"] == creation]
        assert len(written) == expected, written
        wanted = {PRIMARY[ada.sub], side} if creation == "default" else {PRIMARY[ada.sub]}
        assert {e["calendar_id"] for e in written} == wanted


def test_no_times_shows_a_page_and_calls_back_once(client: TestClient, ada: Connected, sender: RecordingSender) -> None:
    made = create(client, ada)["real_time_scheduling"]
    busy(client, ada, "2026-12-01T09:00:00Z", "2026-12-01T11:00:00Z")
    for _ in range(2):
        page = client.get(urlsplit(made["url"]).path)
        assert page.status_code == 200 and 'id="no-times"' in page.text
    [sent] = [s for s in sender.sent if s.url == NONE_SHOWN]
    assert sent.json["notification"] == {"type": "no_times_displayed"}


def test_none_suitable_is_told_once(client: TestClient, ada: Connected, sender: RecordingSender) -> None:
    made = create(client, ada)["real_time_scheduling"]
    path = urlsplit(made["url"]).path
    page = client.get(path)
    for _ in range(2):
        answer = client.post(f"{path}/none", data={"csrf_token": csrf_of(page.text)})
        assert answer.status_code == 200 and "let them know" in answer.text
    [sent] = [s for s in sender.sent if s.url == NONE_SUIT]
    assert sent.json["notification"] == {"type": "no_times_suitable"}
    assert sent.json["real_time_scheduling"]["real_time_scheduling_id"] == made["real_time_scheduling_id"]


def test_disable_shows_the_message_to_later_visitors(client: TestClient, ada: Connected) -> None:
    made = create(client, ada)["real_time_scheduling"]
    link_id = made["real_time_scheduling_id"]
    too_long = client.post(
        f"/v1/real_time_scheduling/{link_id}/disable", json={"display_message": "x" * 501}, headers=key(ada)
    )
    assert too_long.status_code == 422 and "display_message" in too_long.json()["errors"]
    answer = client.post(
        f"/v1/real_time_scheduling/{link_id}/disable", json={"display_message": "Filled <b>up</b>"}, headers=key(ada)
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["real_time_scheduling"]["status"] == "disabled"
    page = client.get(urlsplit(made["url"]).path)
    assert page.status_code == 410 and "Filled &lt;b&gt;up&lt;/b&gt;" in page.text


def test_unknown_tokens_and_zones(client: TestClient, ada: Connected) -> None:
    assert client.get("/rts/not-a-token").status_code == 404
    made = create(client, ada)["real_time_scheduling"]
    page = client.get(urlsplit(made["url"]).path, params={"tz": "Not/AZone"})
    assert page.status_code == 200 and 'value="Europe/London" selected' in page.text
    bad = client.get(urlsplit(made["url"]).path + "/confirm", params={"slot": "12~x"})
    assert bad.status_code == 400


def test_pycronofy_creates_reads_and_disables(
    client: TestClient, ada: Connected, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pycronofy

    from tests.helpers import PycronofyViaTestClient

    monkeypatch.setattr(pycronofy.request_handler, "requests", PycronofyViaTestClient(client))
    sdk = pycronofy.Client(client_id=ada.app.application.client_id, client_secret=ada.app.client_secret)
    sdk.request_handler.base_url = str(client.base_url).rstrip("/")
    made = sdk.real_time_scheduling(
        {
            "participants": {"members": [ada.sub]},
            "required_duration": 30,
            "available_periods": [dict(DAY)],
        },
        {"redirect_uri": "https://app.example/oauth"},
        {"event_id": "sdk-1", "summary": "SDK", "tzid": "Etc/UTC"},
        target_calendars=[{"sub": ada.sub, "calendar_id": PRIMARY[ada.sub]}],
        minimum_notice={"minutes": 30},
        callback_urls={"completed_url": COMPLETED},
        event_creation="single",
    )["real_time_scheduling"]
    token = token_of(made["url"])
    assert sdk.get_real_time_scheduling_status(token=token)["real_time_scheduling"]["status"] == "open"
    by_id = sdk.get_real_time_scheduling_status(real_time_scheduling_id=made["real_time_scheduling_id"])
    assert by_id["real_time_scheduling"]["url"] == made["url"]
    off = sdk.disable_real_time_scheduling_link(made["real_time_scheduling_id"], "Closed")
    assert off["real_time_scheduling"]["status"] == "disabled"
    assert parse_qs(urlsplit(made["url"]).query) == {}


def test_a_host_who_withdrew_access_gives_a_page_not_an_error(client: TestClient, ada: Connected) -> None:
    made = create(client, ada)["real_time_scheduling"]
    path = urlsplit(made["url"]).path
    chosen = slot_keys(client.get(path).text)[0]
    confirm = client.get(f"{path}/confirm", params={"slot": chosen})
    body = {
        "client_id": ada.app.application.client_id,
        "client_secret": ada.app.client_secret,
        "token": ada.tokens.refresh_token,
    }
    assert client.post("/oauth/token/revoke", json=body).status_code == 200
    for answer in (
        client.get(path),
        client.post(f"{path}/book", data={"slot": chosen, "csrf_token": csrf_of(confirm.text)}),
    ):
        assert answer.status_code == 409 and "cannot be used right now" in answer.text
        assert answer.headers["content-type"].startswith("text/html")
