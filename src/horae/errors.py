"""The one exception tree of Horae; it knows nothing of HTTP (api/errors.py maps it).

HoraeError
 ├── InvalidRequest        a request parameter is missing or wrong (per-field details)
 ├── AuthenticationFailed  credentials not recognised
 ├── PermissionDenied      credentials valid, but not enough (a scope, a permission)
 ├── NotFound              the named resource does not exist for this caller
 ├── Locked                the resource exists but may not be written now
 ├── RateLimited           too many requests for this application
 ├── OAuthError            an RFC 6749 error from the token or authorize endpoints
 │    ├── InvalidClient    client credentials not recognised
 │    └── OAuthRedirect    an authorize error to send back to the client's redirect_uri
 └── ProviderError         a calendar service (CalDAV, ICS, Google, Microsoft) failed a call
      ├── ProviderAuthRejected  it refused the stored credentials (a password changed, a grant revoked)
      ├── ProviderUnavailable   it was down, slow or busy; `retry_after_seconds` if it said when to return
      ├── SyncCursorExpired     the incremental-sync cursor is no longer accepted: list everything again
      └── RemoteConflict        a conditional write found the object changed (or present) on the service
"""

from __future__ import annotations

from dataclasses import dataclass


class HoraeError(Exception):
    """Base of every error Horae raises on purpose."""

    def __init__(self, message: str = "") -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class FieldError:
    """One reason a field was rejected: a stable key and words for a person."""

    key: str
    description: str


class InvalidRequest(HoraeError):
    """A request parameter is missing or wrong; carries one list of reasons per field."""

    def __init__(self, errors: dict[str, list[FieldError]]) -> None:
        super().__init__("; ".join(f"{f}: {e.description}" for f, es in errors.items() for e in es))
        self.errors = errors

    @classmethod
    def single(cls, field: str, key: str, description: str) -> InvalidRequest:
        """Shorthand for the common case of one field with one reason."""
        return cls({field: [FieldError(key, description)]})


class Problems:
    """422 problems gathered field by field, so that one response names every bad field."""

    def __init__(self) -> None:
        self.found: dict[str, list[FieldError]] = {}

    def add(self, name: str, key: str, text: str) -> None:
        self.found.setdefault(name, []).append(FieldError(key, text))

    def raise_any(self) -> None:
        if self.found:
            raise InvalidRequest(self.found)


class AuthenticationFailed(HoraeError):
    """The credentials given are unknown, expired or revoked."""


class PermissionDenied(HoraeError):
    """The credentials are valid but do not allow this request."""


class NotFound(HoraeError):
    """The named resource does not exist, or is not visible to this caller."""


class Locked(HoraeError):
    """The resource exists but cannot be written at the moment."""


class RateLimited(HoraeError):
    """The application made too many requests; retry after `retry_after` seconds."""

    def __init__(self, retry_after: int, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"rate limit exceeded, retry after {retry_after}s")
        self.retry_after = retry_after
        self.headers = headers or {}


class OAuthError(HoraeError):
    """An RFC 6749 error (`invalid_grant`, `invalid_request`, ...) from a token endpoint."""

    def __init__(self, error: str, description: str = "") -> None:
        super().__init__(description or error)
        self.error = error
        self.description = description


class InvalidClient(OAuthError):
    """Client credentials were not recognised (RFC 6749 `invalid_client`)."""

    def __init__(self, description: str = "client credentials not recognised") -> None:
        super().__init__("invalid_client", description)


class OAuthRedirect(OAuthError):
    """An authorize-endpoint error that goes back to the (already validated) redirect_uri."""

    def __init__(self, error: str, description: str, redirect_uri: str, state: str | None) -> None:
        super().__init__(error, description)
        self.redirect_uri = redirect_uri
        self.state = state


class ProviderError(HoraeError):
    """A calendar service failed a call; the sync and write jobs decide what it means for the profile."""


class ProviderAuthRejected(ProviderError):
    """The service refused the stored credentials (401/403, `invalid_grant`)."""


class ProviderUnavailable(ProviderError):
    """The service was unreachable, failed (5xx) or throttled (429); try again later, not before
    `retry_after_seconds` when it said so."""

    def __init__(self, message: str, retry_after_seconds: int | None = None) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


class UnknownUser(ProviderError):
    """A delegated connection names a person the calendar server does not have (Enterprise Connect)."""


class SyncCursorExpired(ProviderError):
    """The sync token / delta link / ctag is no longer valid (CalDAV 403 valid-sync-token, Google 410,
    Graph 410 syncStateNotFound): the caller lists the calendar in full."""


class RemoteConflict(ProviderError):
    """A conditional write failed: the object changed since its etag was read, or already exists."""
