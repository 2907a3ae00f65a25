"""What Google Calendar's error answers mean for Horae: which ask the person to consent again, which pass with
time, which are conflicts; and the checked JSON body of a successful answer."""

from __future__ import annotations

from typing import Any

import httpx

from horae.errors import ProviderAuthRejected, ProviderError, ProviderUnavailable, RemoteConflict
from horae.providers.calendars.caldav_errors import parse_retry_after

EXCERPT_CHARS = 300
# 403 reasons (https://developers.google.com/calendar/api/guides/errors): the quota ones pass with time,
# the auth ones need the person to consent again.
BUSY_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded", "dailyLimitExceeded", "quotaExceeded"})
AUTH_REASONS = frozenset({"authError", "insufficientPermissions", "ACCESS_TOKEN_SCOPE_INSUFFICIENT"})


def error_for(what: str, response: httpx.Response) -> ProviderError:
    """The ProviderError a failed Calendar API answer means: relink, wait (with Retry-After), a conflict, or other."""
    status = response.status_code
    reason, message = _reason_and_message(response)
    text = f"{what}: HTTP {status}{f' {reason}' if reason else ''}{f': {message}' if message else ''}"[:EXCERPT_CHARS]
    if status == 401 or (status == 403 and reason in AUTH_REASONS):
        return ProviderAuthRejected(text)
    if status == 429 or status >= 500 or (status == 403 and reason in BUSY_REASONS):
        return ProviderUnavailable(text, parse_retry_after(response.headers.get("Retry-After")))
    if status == 412:
        return RemoteConflict(text)
    return ProviderError(text)


def _reason_and_message(response: httpx.Response) -> tuple[str, str]:
    """The first reason and the message of Google's `{"error": {"errors": [{"reason": ...}], "message": ...}}`."""
    try:
        error = response.json().get("error")
    except (ValueError, AttributeError):
        return "", response.text[:EXCERPT_CHARS].strip()
    if not isinstance(error, dict):
        return "", ""
    details = error.get("errors")
    first = details[0] if isinstance(details, list) and details and isinstance(details[0], dict) else {}
    return str(first.get("reason") or error.get("status") or ""), str(error.get("message") or "")


def json_body(response: httpx.Response) -> dict[str, Any]:
    """The JSON object of a successful answer; ProviderError for anything else."""
    try:
        body = response.json()
    except ValueError as exc:
        raise ProviderError(f"Google answered HTTP {response.status_code} with something other than JSON") from exc
    if not isinstance(body, dict):
        raise ProviderError(f"Google answered HTTP {response.status_code} with unexpected JSON")
    return body
