"""The pure rules of push notifications: callback URLs, filters, bodies, changes_since, outcomes, giving up."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest

from horae.domain import retry
from horae.domain.events import Event
from horae.domain.push import Channel
from horae.errors import InvalidRequest
from horae.ports import WebhookResponse
from horae.services import push_policy as push

NOW = datetime(2026, 3, 1, 9, 24, 16, 987654, tzinfo=UTC)


def channel(**changes: object) -> Channel:
    values: dict[str, object] = {
        "id": "chn_1",
        "account_id": "acc_1",
        "application_id": "app_b",
        "callback_url": "https://example.com/hook",
        "filters": {},
        "created_at": NOW,
        **changes,
    }
    return Channel(**values)  # type: ignore[arg-type]


def event(**changes: object) -> Event:
    values: dict[str, object] = {
        "id": "evr_1",
        "calendar_id": "cal_1",
        "account_id": "acc_1",
        "event_uid": "evt_1",
        "summary": "Planning",
        "all_day": False,
        "created_at": NOW,
        "updated_at": NOW,
        **changes,
    }
    return Event(**values)  # type: ignore[arg-type]


def refusal(url: str, dev_mode: bool) -> str:
    with pytest.raises(InvalidRequest) as refused:
        push.check_callback_url(url, dev_mode)
    [(field, [detail])] = refused.value.errors.items()
    assert field == "callback_url"
    return detail.key


# --- callback URLs ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dev_mode", [True, False])
def test_https_urls_are_accepted(dev_mode: bool) -> None:
    push.check_callback_url("https://example.com/cronofy/hook?x=1", dev_mode)
    push.check_callback_url("https://203.0.113.7:8443/hook", dev_mode)


@pytest.mark.parametrize("url", ["http://127.0.0.1:8123/hook", "http://localhost/hook", "http://[::1]:9/x"])
def test_loopback_http_is_accepted_in_development_only(url: str) -> None:
    push.check_callback_url(url, dev_mode=True)
    assert refusal(url, dev_mode=False) == "errors.invalid_url"


def test_plain_http_elsewhere_needs_https() -> None:
    assert refusal("http://example.com/hook", dev_mode=True) == "errors.https_required"
    assert refusal("http://example.com/hook", dev_mode=False) == "errors.https_required"
    assert refusal("http://[zz/hook", dev_mode=True) == "errors.https_required"


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/x",
        "example.com/hook",
        "https://",
        "https:///path",
        "https://example.com:99999/",
        "https://example.com/a b",
        "https://example.com/\x00",
        "https://user:pw@example.com/",
        "javascript:alert(1)",
        "https://example.com/hook\n",
        "HTTPS://example.com/hook",
        "https://[2001:db8::1]/hook",
        "https://exämple.com/hook",
        "https://example.com/\x7f",
    ],
)
def test_malformed_urls_are_refused(url: str) -> None:
    assert refusal(url, dev_mode=True) == "errors.invalid_url"


def test_empty_and_overlong_urls_are_refused() -> None:
    assert refusal("", dev_mode=True) == "errors.required"
    assert refusal("https://example.com/" + "a" * push.MAX_CALLBACK_URL, dev_mode=True) == "errors.too_long"


def test_loopback_names() -> None:
    assert push.is_loopback("127.0.0.1") and push.is_loopback("127.8.9.10") and push.is_loopback("::1")
    assert push.is_loopback("localhost") and push.is_loopback("api.localhost") and push.is_loopback("LOCALHOST.")
    assert not push.is_loopback("example.com") and not push.is_loopback("10.0.0.1")


# --- filters -------------------------------------------------------------------------------------------------------


def test_filters_keep_only_what_was_given() -> None:
    assert push.channel_filters(None, None) == {}
    assert push.channel_filters(["cal_1", "cal_2", "cal_1"], None) == {"calendar_ids": ["cal_1", "cal_2"]}
    assert push.channel_filters(None, False) == {"only_managed": False}


def test_the_applications_own_changes_are_not_news_to_it() -> None:
    assert not push.matches(channel(), event(), changed_by="app_b")
    assert push.matches(channel(), event(), changed_by="app_a")
    assert push.matches(channel(), event(), changed_by=None)  # the person, or a provider sync


def test_calendar_filters() -> None:
    filtered = channel(filters={"calendar_ids": ["cal_2"]})
    assert not push.matches(filtered, event(calendar_id="cal_1"), "app_a")
    assert push.matches(filtered, event(calendar_id="cal_2"), "app_a")


def test_only_managed_means_events_the_channels_application_manages() -> None:
    only = channel(filters={"only_managed": True})
    assert not push.matches(only, event(application_id="app_a", event_id="x"), None)
    assert not push.matches(only, event(), None)
    assert push.matches(only, event(application_id="app_b", event_id="x"), None)
    assert push.matches(channel(filters={"only_managed": False}), event(), "app_a")


def test_closed_channels_and_other_accounts_never_match() -> None:
    assert not push.matches(channel(closed_at=NOW), event(), "app_a")
    assert not push.matches(channel(), event(account_id="acc_2"), "app_a")


# --- bodies ----------------------------------------------------------------------------------------------------------


def test_changes_since_is_the_change_time_cut_to_the_second() -> None:
    since = push.changes_since(NOW)
    assert since == "2026-03-01T09:24:16Z"
    # last_modified means "updated at or after": the change itself is always included.
    assert datetime.fromisoformat(since.replace("Z", "+00:00")) <= NOW


def test_a_change_body_is_cronofys_shape_and_bytes() -> None:
    filtered = channel(filters={"calendar_ids": ["cal_1"], "only_managed": False})
    body = push.notification_body(filtered, "change", push.changes_since(NOW))
    assert push.encode(body) == (
        b'{"notification":{"type":"change","changes_since":"2026-03-01T09:24:16Z"},'
        b'"channel":{"channel_id":"chn_1","callback_url":"https://example.com/hook",'
        b'"filters":{"calendar_ids":["cal_1"],"only_managed":false}}}'
    )


def test_a_verification_body_has_no_changes_since() -> None:
    body = push.notification_body(channel(), "verification")
    assert body == {
        "notification": {"type": "verification"},
        "channel": {"channel_id": "chn_1", "callback_url": "https://example.com/hook", "filters": {}},
    }


def test_encoding_a_stored_body_again_gives_the_same_bytes() -> None:
    body = push.notification_body(channel(callback_url="https://exämple.test/ü"), "change", "2026-03-01T09:24:16Z")
    first = push.encode(body)
    assert push.encode(json.loads(first)) == first
    assert "ü".encode() in first


# --- outcomes and giving up -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        (WebhookResponse(200, 5), "delivered"),
        (WebhookResponse(204, 5), "delivered"),
        (WebhookResponse(299, 5), "delivered"),
        (WebhookResponse(301, 5), "failed"),
        (WebhookResponse(404, 5), "failed"),
        (WebhookResponse(410, 5), "gone"),
        (WebhookResponse(500, 5), "failed"),
        (WebhookResponse(None, 5000, "timed out after 5s"), "failed"),
        (WebhookResponse(200, 6000, "answered after the 5s deadline"), "failed"),
    ],
)
def test_verdicts(response: WebhookResponse, expected: str) -> None:
    assert push.verdict(response) == expected


def test_retries_last_at_least_72_hours_then_give_up() -> None:
    assert timedelta(hours=72) <= retry.HORIZON
    tries = len(retry.SCHEDULE) + 1
    assert not any(push.is_last_try(n) for n in range(1, tries))
    assert push.is_last_try(tries)
    short = (timedelta(seconds=1), timedelta(seconds=2))
    assert [push.is_last_try(n, short) for n in (1, 2, 3)] == [False, False, True]


def test_the_reason_given_for_closing_a_channel() -> None:
    reason = push.give_up_reason(retry.SCHEDULE, WebhookResponse(503, 12))
    assert reason == (
        f"closed after {len(retry.SCHEDULE) + 1} failed delivery attempts over 79 hours; "
        "last attempt: the receiver answered 503"
    )
    assert "timed out" in push.give_up_reason(retry.SCHEDULE, WebhookResponse(None, 5000, "timed out after 5s"))
    assert "410" in push.gone_reason()


@pytest.mark.parametrize(
    "url",
    ["https://example.com", "https://a-b.example.com:8443/x?y=1#z", "http://127.0.0.1:9/x", "http://api.localhost/"],
)
def test_the_published_pattern_matches_what_is_accepted(url: str) -> None:
    push.check_callback_url(url, dev_mode=True)
    assert re.search(push.CALLBACK_URL_PATTERN, url)
