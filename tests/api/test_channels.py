"""`/v1/channels` over the API: create, list, close; the verification and change notifications they
queue (sent here by a recording sender, inline because tests run jobs immediately); the delivery log
and redelivery."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from horae.container import Container
from horae.domain import ids
from horae.domain.hmac import verify
from horae.domain.push import Channel
from horae.ports import WebhookResponse
from horae.services.push import MAX_OPEN_CHANNELS
from tests.helpers import Connected, RecordingSender, connect, make_app

HOOK = "https://receiver.example/hook"


@dataclass(frozen=True)
class Other:
    """A second application authorized on the same account."""

    token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture
def sender(container: Container) -> RecordingSender:
    recording = RecordingSender()
    container.push.sender = recording
    return recording


@pytest.fixture
def ada(container: Container) -> Connected:
    return connect(container)


def second_app(container: Container, who: Connected, scope: str = "read_write") -> Other:
    app = make_app(container, "Another app")
    grant = container.oauth.issue_direct_grant(who.sub, app.application.id, scope, 3600)
    return Other(grant.access_token)


def primary_calendar(client: TestClient, who: Connected) -> str:
    response = client.get("/v1/calendars", headers=who.auth)
    assert response.status_code == 200, response.text
    return str(response.json()["calendars"][0]["calendar_id"])


def create(client: TestClient, who: Connected, **body: Any) -> dict[str, Any]:
    response = client.post("/v1/channels", json={"callback_url": HOOK, **body}, headers=who.auth)
    assert response.status_code == 200, response.text
    channel: dict[str, Any] = response.json()["channel"]
    return channel


def listed(client: TestClient, who: Connected, **params: str) -> list[dict[str, Any]]:
    response = client.get("/v1/channels", params=params, headers=who.auth)
    assert response.status_code == 200, response.text
    return list(response.json()["channels"])


def upsert(client: TestClient, auth: dict[str, str], calendar_id: str, event_id: str) -> None:
    event = {
        "event_id": event_id,
        "summary": "Planning",
        "start": "2026-12-01T09:00:00Z",
        "end": "2026-12-01T10:00:00Z",
    }
    response = client.post(f"/v1/calendars/{calendar_id}/events", json=event, headers=auth)
    assert response.status_code == 202, response.text


def log_of(client: TestClient, who: Connected, channel_id: str) -> dict[str, Any]:
    response = client.get(f"/v1/channels/{channel_id}/deliveries", headers=who.auth)
    assert response.status_code == 200, response.text
    log: dict[str, Any] = response.json()
    return log


def field_error(response: Any) -> tuple[str, str]:
    assert response.status_code == 422, response.text
    [(name, [detail])] = response.json()["errors"].items()
    return name, detail["key"]


# --- create, list, close --------------------------------------------------------------------------------------


def test_create_answers_cronofys_shape_and_a_verification_follows(
    client: TestClient, container: Container, ada: Connected, sender: RecordingSender
) -> None:
    channel = create(client, ada)
    assert channel["channel_id"].startswith("chn_")
    assert channel == {"channel_id": channel["channel_id"], "callback_url": HOOK, "filters": {}}

    [sent] = sender.sent
    assert sent.url == HOOK
    assert sent.json == {"notification": {"type": "verification"}, "channel": channel}
    assert verify(sent.headers["Cronofy-HMAC-SHA256"], sent.body, ada.app.client_secret)
    assert sent.headers["Horae-Delivery-Id"].startswith("dlv_")

    assert listed(client, ada) == [channel]


def test_filters_are_echoed(client: TestClient, ada: Connected, sender: RecordingSender) -> None:
    calendar_id = primary_calendar(client, ada)
    channel = create(client, ada, filters={"calendar_ids": [calendar_id], "only_managed": False})
    assert channel["filters"] == {"calendar_ids": [calendar_id], "only_managed": False}
    assert sender.sent[0].json["channel"]["filters"] == channel["filters"]
    assert create(client, ada, filters={"only_managed": True})["filters"] == {"only_managed": True}


def test_a_form_encoded_create_works_too(client: TestClient, ada: Connected, sender: RecordingSender) -> None:
    response = client.post("/v1/channels", data={"callback_url": HOOK, "extra": "ignored"}, headers=ada.auth)
    assert response.status_code == 200, response.text
    assert response.json()["channel"]["filters"] == {}


def test_loopback_http_callbacks_are_accepted_in_development_mode(
    client: TestClient, ada: Connected, sender: RecordingSender
) -> None:
    assert (
        create(client, ada, callback_url="http://127.0.0.1:9876/hook")["callback_url"] == "http://127.0.0.1:9876/hook"
    )


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({}, ("callback_url", "errors.required")),
        ({"callback_url": ""}, ("callback_url", "errors.string_too_short")),
        ({"callback_url": 5}, ("callback_url", "errors.string_type")),
        ({"callback_url": "http://receiver.example/hook"}, ("callback_url", "errors.https_required")),
        ({"callback_url": "receiver.example/hook"}, ("callback_url", "errors.invalid_url")),
        ({"callback_url": HOOK, "filters": {"calendar_ids": []}}, ("filters.calendar_ids", "errors.too_short")),
        (
            {"callback_url": HOOK, "filters": {"calendar_ids": ["cal_nope"]}},
            ("filters.calendar_ids", "errors.not_found"),
        ),
        ({"callback_url": HOOK, "filters": {"only_managed": "maybe"}}, ("filters.only_managed", "errors.bool_parsing")),
    ],
)
def test_invalid_creates_are_422(
    client: TestClient, ada: Connected, sender: RecordingSender, body: dict[str, Any], error: tuple[str, str]
) -> None:
    response = client.post("/v1/channels", json=body, headers=ada.auth)
    assert field_error(response) == error
    assert sender.sent == [] and listed(client, ada) == []


def test_another_accounts_calendar_cannot_be_filtered_on(
    client: TestClient, container: Container, ada: Connected, sender: RecordingSender
) -> None:
    bob = connect(container, "bob@example.com")
    response = client.post(
        "/v1/channels",
        json={"callback_url": HOOK, "filters": {"calendar_ids": [primary_calendar(client, bob)]}},
        headers=ada.auth,
    )
    assert field_error(response) == ("filters.calendar_ids", "errors.not_found")


def test_at_most_128_open_channels_per_account(
    client: TestClient, container: Container, ada: Connected, sender: RecordingSender
) -> None:
    # All but one are written directly (quicker than 127 calls); the last through the API.
    with container.uow() as uow:
        for _ in range(MAX_OPEN_CHANNELS - 1):
            channel = Channel(ids.new_id("chn"), ada.sub, ada.app.application.id, HOOK, {}, container.clock.now())
            uow.channels.add(channel)
        uow.commit()
    first = listed(client, ada)[0]["channel_id"]
    create(client, ada)
    response = client.post("/v1/channels", json={"callback_url": HOOK}, headers=ada.auth)
    assert field_error(response) == ("channels", "errors.too_many_channels")
    # Closed channels do not count.
    assert client.delete(f"/v1/channels/{first}", headers=ada.auth).status_code == 202
    create(client, ada)
    assert len(listed(client, ada)) == MAX_OPEN_CHANNELS


def test_close_then_list_and_include_closed(client: TestClient, ada: Connected, sender: RecordingSender) -> None:
    kept, closed = create(client, ada), create(client, ada)
    response = client.delete(f"/v1/channels/{closed['channel_id']}", headers=ada.auth)
    assert response.status_code == 202 and response.content == b""
    assert listed(client, ada) == [kept]

    everything = {c["channel_id"]: c for c in listed(client, ada, include_closed="true")}
    assert set(everything) == {kept["channel_id"], closed["channel_id"]}
    assert everything[kept["channel_id"]] == kept
    assert everything[closed["channel_id"]]["closed_at"].endswith("Z")
    assert "closed by the application" in everything[closed["channel_id"]]["close_reason"]

    # Closing again changes nothing and is still accepted.
    assert client.delete(f"/v1/channels/{closed['channel_id']}", headers=ada.auth).status_code == 202


def test_unknown_and_other_peoples_channels_are_404(
    client: TestClient, container: Container, ada: Connected, sender: RecordingSender
) -> None:
    mine = create(client, ada)["channel_id"]
    bob = connect(container, "bob@example.com")
    other_app = second_app(container, ada)
    for auth in (bob.auth, other_app.auth):
        assert client.delete(f"/v1/channels/{mine}", headers=auth).status_code == 404
        assert client.get(f"/v1/channels/{mine}/deliveries", headers=auth).status_code == 404
        assert client.get("/v1/channels", headers=auth).json() == {"channels": []}
    for unknown in ("chn_unknown", "x" * 300, "chn%00"):
        assert client.delete(f"/v1/channels/{unknown}", headers=ada.auth).status_code == 404
    assert [c["channel_id"] for c in listed(client, ada)] == [mine]


def test_channels_need_a_read_scope(client: TestClient, container: Container, sender: RecordingSender) -> None:
    grace = connect(container, "grace@example.com", scope="read_account")
    response = client.post("/v1/channels", json={"callback_url": HOOK}, headers=grace.auth)
    assert response.status_code == 403
    assert client.get("/v1/channels", headers=grace.auth).status_code == 403
    assert client.get("/v1/channels").status_code == 401
    free_busy = connect(container, "fb@example.com", scope="free_busy")
    assert client.post("/v1/channels", json={"callback_url": HOOK}, headers=free_busy.auth).status_code == 200


# --- change notifications ---------------------------------------------------------------------------------------


def test_external_changes_notify_and_own_changes_do_not(
    client: TestClient, container: Container, ada: Connected, sender: RecordingSender
) -> None:
    calendar_id = primary_calendar(client, ada)
    channel = create(client, ada)
    other = second_app(container, ada)

    upsert(client, ada.auth, calendar_id, "mine")
    assert sender.of_type("change") == []

    upsert(client, other.auth, calendar_id, "theirs")
    [change] = sender.of_type("change")
    assert change.json["channel"] == channel
    assert set(change.json["notification"]) == {"type", "changes_since"}
    since = change.json["notification"]["changes_since"]
    assert since.endswith("Z") and len(since) == len("2026-01-01T00:00:00Z")
    assert verify(change.headers["Cronofy-HMAC-SHA256"], change.body, ada.app.client_secret)

    # The change is found by reading what changed since then.
    with container.uow() as uow:
        [event] = [e for e in uow.events.changed_since([calendar_id], _parse(since)) if e.event_id == "theirs"]
    assert event.application_id != ada.app.application.id
    read = client.get("/v1/events", params={"tzid": "Etc/UTC", "last_modified": since}, headers=ada.auth)
    assert read.status_code == 200, read.text
    assert [e["event_uid"] for e in read.json()["events"]] == [event.event_uid]  # ada's own change is not news

    # A delete by the other application is a change too.
    response = client.request(
        "DELETE", f"/v1/calendars/{calendar_id}/events", json={"event_id": "theirs"}, headers=other.auth
    )
    assert response.status_code == 202
    assert len(sender.of_type("change")) == 2


def test_calendar_and_only_managed_filters(
    client: TestClient, container: Container, ada: Connected, sender: RecordingSender
) -> None:
    calendar_id = primary_calendar(client, ada)
    created = client.post(
        "/v1/calendars", json={"profile_id": _profile(client, ada), "name": "Other"}, headers=ada.auth
    )
    assert created.status_code == 200, created.text
    elsewhere = created.json()["calendar"]["calendar_id"]
    by_calendar = create(client, ada, filters={"calendar_ids": [calendar_id]})
    only_managed = create(client, ada, filters={"only_managed": True})
    other = second_app(container, ada)

    upsert(client, other.auth, elsewhere, "a")
    upsert(client, other.auth, calendar_id, "b")
    reached = [s.json["channel"]["channel_id"] for s in sender.of_type("change")]
    # Neither event is managed by ada's application, and only "b" is in the filtered calendar.
    assert reached == [by_calendar["channel_id"]]
    assert only_managed["channel_id"] not in reached


def test_closed_channels_get_nothing(
    client: TestClient, container: Container, ada: Connected, sender: RecordingSender
) -> None:
    calendar_id = primary_calendar(client, ada)
    channel = create(client, ada)
    assert client.delete(f"/v1/channels/{channel['channel_id']}", headers=ada.auth).status_code == 202
    upsert(client, second_app(container, ada).auth, calendar_id, "x")
    assert sender.of_type("change") == []


# --- the delivery log and redelivery --------------------------------------------------------------------------


def test_the_log_shows_each_delivery_and_attempt(client: TestClient, ada: Connected, sender: RecordingSender) -> None:
    channel = create(client, ada)
    log = log_of(client, ada, channel["channel_id"])
    assert log["channel"]["status"] == "open" and log["channel"]["close_reason"] == ""
    assert log["channel"]["closed_at"] is None
    [delivery] = log["deliveries"]
    assert delivery["type"] == "verification" and delivery["status"] == "delivered"
    assert delivery["notification"] == sender.sent[0].json
    assert delivery["attempt_count"] == 1 and delivery["delivered_at"].endswith("Z")
    [attempt] = delivery["attempts"]
    assert attempt["status_code"] == 200 and attempt["error"] == "" and attempt["response_excerpt"] == "ok"
    assert attempt["duration_ms"] == 3


def test_a_failed_attempt_is_logged_and_left_to_retry(
    client: TestClient, container: Container, ada: Connected, sender: RecordingSender
) -> None:
    sender.answers.append(WebhookResponse(503, 40, "", "busy"))
    channel = create(client, ada)
    [delivery] = log_of(client, ada, channel["channel_id"])["deliveries"]
    assert delivery["status"] == "pending" and delivery["attempt_count"] == 1
    assert [(a["status_code"], a["response_excerpt"]) for a in delivery["attempts"]] == [(503, "busy")]
    assert container.runner.due() == []  # the retry waits for its back-off


def test_410_gone_closes_the_channel_at_once(client: TestClient, ada: Connected, sender: RecordingSender) -> None:
    sender.answers.append(WebhookResponse(410, 4))
    channel = create(client, ada)
    assert listed(client, ada) == []
    [closed] = listed(client, ada, include_closed="true")
    assert closed["close_reason"] == "closed because the receiver answered 410 Gone"
    log = log_of(client, ada, channel["channel_id"])
    assert log["channel"]["status"] == "closed" and "410" in log["channel"]["close_reason"]
    assert log["deliveries"][0]["status"] == "failed"


def test_redeliver_sends_the_same_bytes_again(client: TestClient, ada: Connected, sender: RecordingSender) -> None:
    channel_id = create(client, ada)["channel_id"]
    [delivery] = log_of(client, ada, channel_id)["deliveries"]
    response = client.post(
        f"/v1/channels/{channel_id}/deliveries/{delivery['delivery_id']}/redeliver", headers=ada.auth
    )
    assert response.status_code == 202 and response.content == b""
    first, again = sender.sent
    assert again.body == first.body
    assert again.headers["Cronofy-HMAC-SHA256"] == first.headers["Cronofy-HMAC-SHA256"]
    [logged] = log_of(client, ada, channel_id)["deliveries"]
    assert logged["status"] == "delivered" and len(logged["attempts"]) == 2


def test_redeliver_refusals(client: TestClient, container: Container, ada: Connected, sender: RecordingSender) -> None:
    channel_id = create(client, ada)["channel_id"]
    [delivery] = log_of(client, ada, channel_id)["deliveries"]
    path = f"/v1/channels/{channel_id}/deliveries"
    assert client.post(f"{path}/dlv_unknown/redeliver", headers=ada.auth).status_code == 404
    other_channel = create(client, ada)["channel_id"]
    wrong = f"/v1/channels/{other_channel}/deliveries/{delivery['delivery_id']}/redeliver"
    assert client.post(wrong, headers=ada.auth).status_code == 404
    bob = connect(container, "bob@example.com")
    assert client.post(f"{path}/{delivery['delivery_id']}/redeliver", headers=bob.auth).status_code == 404

    assert client.delete(f"/v1/channels/{channel_id}", headers=ada.auth).status_code == 202
    response = client.post(f"{path}/{delivery['delivery_id']}/redeliver", headers=ada.auth)
    assert field_error(response) == ("channel_id", "errors.channel_closed")


def test_the_log_limit(client: TestClient, container: Container, ada: Connected, sender: RecordingSender) -> None:
    calendar_id = primary_calendar(client, ada)
    channel_id = create(client, ada)["channel_id"]
    other = second_app(container, ada)
    for n in range(3):
        upsert(client, other.auth, calendar_id, f"e{n}")
    response = client.get(f"/v1/channels/{channel_id}/deliveries", params={"limit": 2}, headers=ada.auth)
    assert response.status_code == 200
    assert len(response.json()["deliveries"]) == 2
    assert len(log_of(client, ada, channel_id)["deliveries"]) == 4
    bad = client.get(f"/v1/channels/{channel_id}/deliveries", params={"limit": 0}, headers=ada.auth)
    assert bad.status_code == 422


def _parse(text: str) -> Any:
    from horae.domain.times import parse_instant

    return parse_instant(text)


def _profile(client: TestClient, who: Connected) -> str:
    return str(client.get("/v1/calendars", headers=who.auth).json()["calendars"][0]["profile_id"])
