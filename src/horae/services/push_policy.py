"""Push notification policy, free of I/O: which callback URLs are accepted, which changes a channel
hears of, what a notification says, and how an attempt's outcome is judged."""

from __future__ import annotations

import ipaddress
import json
import re
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from horae.domain import retry
from horae.domain.events import Event
from horae.domain.push import Channel
from horae.domain.times import format_instant
from horae.errors import InvalidRequest
from horae.ports import WebhookResponse

MAX_CALLBACK_URL = 2048


_PORT = r"(?::(?:6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[0-9]{1,4}))?"
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
_LOOPBACK = rf"(?:(?:[A-Za-z0-9-]+\.)*localhost|127\.{_OCTET}\.{_OCTET}\.{_OCTET}|\[::1\])"
_HOST = rf"(?:[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*|{_LOOPBACK})"
# Every callback URL Horae accepts (in development mode) matches this, and the OpenAPI document
# publishes it. It ends in a lookahead rather than `$`, which would also let a final newline through;
# the syntax means the same in Python and in ECMA-262 (JSON Schema's dialect).
CALLBACK_URL_PATTERN = rf"^(?:https://{_HOST}|http://{_LOOPBACK}){_PORT}(?:[/?#][^\s\x00-\x1F\x7F]*)?(?![\s\S])"


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1, `localhost` and names under `.localhost`."""
    host = host.lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_callback_url(url: str, dev_mode: bool) -> None:
    """A callback URL must be absolute http(s) with a host. https is required, except that in
    development mode plain http is accepted for loopback hosts; outside development mode loopback
    hosts are refused altogether."""

    def bad(key: str, description: str) -> InvalidRequest:
        return InvalidRequest.single("callback_url", key, description)

    if not url.strip():
        raise bad("errors.required", "callback_url must be specified")
    if len(url) > MAX_CALLBACK_URL:
        raise bad("errors.too_long", f"callback_url must be at most {MAX_CALLBACK_URL} characters")
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        raise bad("errors.invalid_url", "callback_url must not contain spaces or control characters")
    if url.startswith("http://") and not is_loopback(_host_of(url)):
        raise bad("errors.https_required", "callback_url must use https (http only for loopback in development)")
    if not re.search(CALLBACK_URL_PATTERN, url):
        raise bad("errors.invalid_url", "callback_url must be an absolute https URL with a host name or address")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError as exc:
        raise bad("errors.invalid_url", "callback_url is not a valid URL") from exc
    scheme, host = parts.scheme.lower(), parts.hostname or ""
    if scheme not in ("http", "https") or not host:
        raise bad("errors.invalid_url", "callback_url must be an absolute http or https URL")
    if parts.username is not None or parts.password is not None:
        raise bad("errors.invalid_url", "callback_url must not carry credentials")
    loopback = is_loopback(host)
    if loopback and not dev_mode:
        raise bad("errors.invalid_url", "callback_url must not point at a loopback address")
    if scheme == "http" and not (loopback and dev_mode):
        raise bad("errors.https_required", "callback_url must use https (http only for loopback in development)")


def _host_of(url: str) -> str:
    try:
        return urlsplit(url).hostname or ""
    except ValueError:
        return ""


def channel_filters(calendar_ids: list[str] | None, only_managed: bool | None) -> dict[str, Any]:
    """The filters as stored and echoed back: only the keys the caller gave."""
    filters: dict[str, Any] = {}
    if calendar_ids is not None:
        filters["calendar_ids"] = list(dict.fromkeys(calendar_ids))
    if only_managed is not None:
        filters["only_managed"] = bool(only_managed)
    return filters


def matches(channel: Channel, event: Event, changed_by: str | None) -> bool:
    """Whether a change to this event is news to this channel: never the application's own
    changes; only the filtered calendars; with `only_managed`, only events the channel's
    application manages."""
    if channel.closed_at is not None or channel.account_id != event.account_id:
        return False
    if changed_by is not None and changed_by == channel.application_id:
        return False
    calendar_ids = channel.filters.get("calendar_ids")
    if calendar_ids is not None and event.calendar_id not in calendar_ids:
        return False
    return not channel.filters.get("only_managed") or event.application_id == channel.application_id


def changes_since(changed_at: datetime) -> str:
    """`changes_since` for a change made at `changed_at`: that time, cut down to the whole second
    (the wire format has no fractions). The event's stored `updated_at` is `changed_at` itself, so
    `GET /v1/events?last_modified={changes_since}` (updated at or after) always includes it."""
    return format_instant(changed_at)


def channel_info(channel: Channel) -> dict[str, Any]:
    return {"channel_id": channel.id, "callback_url": channel.callback_url, "filters": dict(channel.filters)}


def notification_body(channel: Channel, kind: str, since: str | None = None) -> dict[str, Any]:
    """The body of §4.2: the notification (type, and `changes_since` on `change` only) and the channel."""
    notification: dict[str, Any] = {"type": kind}
    if since is not None:
        notification["changes_since"] = since
    return {"notification": notification, "channel": channel_info(channel)}


def encode(body: dict[str, Any]) -> bytes:
    """The bytes sent for a body: compact JSON in the body's own key order. The body is stored when
    the delivery is written and never changes, so every attempt sends (and signs) the same bytes."""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def verdict(response: WebhookResponse) -> str:
    """`delivered` (a 2xx in time), `gone` (410: the receiver wants no more), or `failed` (retry)."""
    if response.error or response.status_code is None:
        return "failed"
    if 200 <= response.status_code < 300:
        return "delivered"
    return "gone" if response.status_code == 410 else "failed"


def is_last_try(attempt: int, schedule: tuple[timedelta, ...] = retry.SCHEDULE) -> bool:
    """Whether the job runner gives up if try number `attempt` (1-based) fails."""
    return retry.next_delay(attempt, schedule) is None


def describe(response: WebhookResponse) -> str:
    if response.error:
        return response.error if response.status_code is None else f"{response.status_code}: {response.error}"
    return f"the receiver answered {response.status_code}"


def give_up_reason(schedule: tuple[timedelta, ...], response: WebhookResponse) -> str:
    hours = sum(schedule, timedelta()) / timedelta(hours=1)
    return (
        f"closed after {len(schedule) + 1} failed delivery attempts over {int(hours)} hours; "
        f"last attempt: {describe(response)}"
    )


def gone_reason() -> str:
    return "closed because the receiver answered 410 Gone"


def _plausible_id(value: str) -> bool:
    return 0 < len(value) <= 64 and "\x00" not in value
