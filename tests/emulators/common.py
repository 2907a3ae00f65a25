"""Pieces both emulators share: OAuth grants and tokens, injected throttling, a request log, time helpers."""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from starlette.requests import Request


@dataclass
class Grant:
    """What a user consented to: which client, which redirect URI, which scopes."""

    client_id: str
    redirect_uri: str
    scope: str


@dataclass
class TokenStore:
    """Authorization codes (single use), refresh tokens (revocable) and access tokens (expiring)."""

    access_ttl: int = 3600
    codes: dict[str, Grant] = field(default_factory=dict)
    refresh_tokens: dict[str, Grant] = field(default_factory=dict)
    revoked: set[str] = field(default_factory=set)
    access_tokens: dict[str, float] = field(default_factory=dict)

    def issue_code(self, grant: Grant) -> str:
        code = "code-" + secrets.token_urlsafe(12)
        self.codes[code] = grant
        return code

    def redeem_code(self, code: str) -> Grant | None:
        return self.codes.pop(code, None)

    def issue_refresh(self, grant: Grant) -> str:
        token = "refresh-" + secrets.token_urlsafe(16)
        self.refresh_tokens[token] = grant
        return token

    def grant_for_refresh(self, token: str) -> Grant | None:
        return None if token in self.revoked else self.refresh_tokens.get(token)

    def issue_access(self) -> str:
        token = "access-" + secrets.token_urlsafe(16)
        self.access_tokens[token] = time.time() + self.access_ttl
        return token

    def revoke(self, token: str | None = None) -> None:
        self.revoked.update([token] if token else list(self.refresh_tokens))

    def expire_access_tokens(self) -> None:
        for token in self.access_tokens:
            self.access_tokens[token] = 0.0

    def access_status(self, request: Request) -> str:
        """`ok`, `missing`, `expired` or `invalid` for the request's `Authorization: Bearer` header."""
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if not token or scheme.lower() != "bearer":
            return "missing"
        expiry = self.access_tokens.get(token.strip())
        if expiry is None:
            return "invalid"
        return "ok" if expiry > time.time() else "expired"


@dataclass
class Throttle:
    """The next `remaining` API calls answer 429 with `Retry-After: retry_after`."""

    remaining: int = 0
    retry_after: int = 1

    def take(self) -> bool:
        if self.remaining <= 0:
            return False
        self.remaining -= 1
        return True


@dataclass(frozen=True)
class LoggedRequest:
    method: str
    path: str
    query: dict[str, str]
    at: float


class EmulatorBase:
    """State common to both emulators; every mutation goes through `self.lock` (tests run in another thread)."""

    def __init__(self, client_id: str, client_secret: str) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.lock = threading.RLock()
        self.tokens = TokenStore()
        self.throttle_state = Throttle()
        self.requests: list[LoggedRequest] = []
        self.consent_error: str | None = None

    def log(self, request: Request) -> None:
        self.requests.append(
            LoggedRequest(request.method, request.url.path, dict(request.query_params), time.monotonic())
        )

    # -- test controls -------------------------------------------------------------------------------------
    def throttle(self, count: int, retry_after: int = 1) -> None:
        """Make the next `count` API calls (not the OAuth endpoints) answer 429 with `Retry-After: retry_after`."""
        with self.lock:
            self.throttle_state = Throttle(count, retry_after)

    def revoke_refresh_token(self, token: str | None = None) -> None:
        """Revoke one refresh token, or every one issued so far (the user removed the app's access)."""
        with self.lock:
            self.tokens.revoke(token)

    def expire_access_tokens(self) -> None:
        """Make every access token issued so far expired; API calls with them answer 401."""
        with self.lock:
            self.tokens.expire_access_tokens()

    def set_access_token_lifetime(self, seconds: int) -> None:
        """`expires_in` (and real lifetime) of access tokens issued from now on."""
        with self.lock:
            self.tokens.access_ttl = seconds

    def deny_consent(self, error: str | None = "access_denied") -> None:
        """Make the authorize endpoint redirect back with `error=...` instead of a code (None restores consent)."""
        with self.lock:
            self.consent_error = error


def new_id(prefix: str = "") -> str:
    return prefix + secrets.token_hex(10)


def parse_instant(value: str, tz_name: str | None = None) -> datetime:
    """An RFC 3339 / ISO 8601 date-time (or a date, as midnight) as an aware datetime; naive ones in `tz_name`."""
    text = value.strip().replace("Z", "+00:00")
    if "T" in text:
        head, _, rest = text.partition(".")
        if rest:  # Graph writes 7 fractional digits; Python accepts at most 6.
            digits = "".join(c for c in rest if c.isdigit())
            text = f"{head}.{digits[:6]}{rest[len(digits) :]}"
        parsed = datetime.fromisoformat(text)
    else:
        parsed = datetime.combine(date.fromisoformat(text), datetime.min.time())
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone(tz_name))
    return parsed


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def rfc3339(moment: datetime | None = None) -> str:
    """Google's `updated` style: UTC with milliseconds, e.g. `2024-05-01T10:00:00.000Z`."""
    moment = (moment or datetime.now(UTC)).astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def query_int(request: Request, name: str, default: int, maximum: int) -> int:
    try:
        value = int(request.query_params.get(name, default))
    except ValueError:
        value = default
    return max(1, min(value, maximum))
