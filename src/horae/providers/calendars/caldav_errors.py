"""What a CalDAV server's refusals mean to Horae: credentials rejected, a lost conditional write, a busy
server (with its Retry-After), an expired sync token, or anything else."""

from __future__ import annotations

import email.utils
import math
from datetime import UTC, datetime

import httpx

EXCERPT_CHARS = 300


# These are deliberately not HoraeErrors: they describe one CalDAV server's answers, and the sync engine
# translates them (a disconnected profile, a retry later) rather than letting them reach the API.
class CalDAVError(Exception):
    """The server answered with an unexpected status (None when it could not be reached at all)."""

    def __init__(self, message: str, status: int | None = None, excerpt: str = "") -> None:
        super().__init__(f"{message} (HTTP {status}): {excerpt}" if status else message)
        self.status = status
        self.excerpt = excerpt


class AuthRejected(CalDAVError):
    """The server does not accept these credentials (401, or 403 while finding the user's principal)."""


class PreconditionFailed(CalDAVError):
    """A conditional write lost: the object changed (If-Match) or already exists (If-None-Match)."""


class ServerBusy(CalDAVError):
    """429 or 503: try again later, after `retry_after_seconds` when the server said how long."""

    def __init__(self, message: str, status: int, excerpt: str, retry_after_seconds: int | None) -> None:
        super().__init__(message, status, excerpt)
        self.retry_after_seconds = retry_after_seconds


class SyncTokenInvalid(CalDAVError):
    """The sync token is unknown or expired (RFC 6578 `valid-sync-token`): list the calendar in full instead."""


def error_for(method: str, href: str, response: httpx.Response, discovering: bool, sync_report: bool) -> CalDAVError:
    status, excerpt = response.status_code, response.text[:EXCERPT_CHARS]
    what = f"{method} {href}"
    if status == 401 or (status == 403 and discovering):
        return AuthRejected(f"{what}: credentials rejected", status, excerpt)
    if sync_report and status in (400, 403, 409) and "valid-sync-token" in response.text:
        return SyncTokenInvalid(f"{what}: sync token no longer valid", status, excerpt)
    if status == 412:
        return PreconditionFailed(f"{what}: precondition failed", status, excerpt)
    if status in (429, 503):
        wait = parse_retry_after(response.headers.get("Retry-After"))
        return ServerBusy(f"{what}: server busy", status, excerpt, wait)
    return CalDAVError(what, status, excerpt)


def parse_retry_after(value: str | None, now: datetime | None = None) -> int | None:
    """Seconds to wait from a Retry-After header (RFC 9110 §10.2.3: delay-seconds or an HTTP date); None if
    absent or unreadable. A date in the past means 0."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return int(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # RFC 9110 dates are always GMT; parsedate returns them naive for "-0000"
        when = when.replace(tzinfo=UTC)
    return max(0, math.ceil((when - (now or datetime.now(UTC))).total_seconds()))
