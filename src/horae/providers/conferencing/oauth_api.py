"""HTTP for conferencing services a person connects through OAuth (Zoom, Microsoft Teams): the consent URL, the
code exchange, tokens renewed before expiry or once on a 401 and written back into the connection, and failed
answers turned into Horae's provider errors. Secrets never reach a message."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx

from horae.errors import ProviderAuthRejected, ProviderError, ProviderUnavailable
from horae.ports import Connection
from horae.providers.calendars.caldav_errors import parse_retry_after

REFRESH_MARGIN = 120  # seconds before expiry when a token is renewed rather than used
EXCERPT = 200
# Token-endpoint refusals that mean Horae's own app registration is wrong: connecting again would not help.
CLIENT_ERRORS = frozenset({"invalid_client", "unauthorized_client", "unsupported_grant_type", "invalid_scope"})

# Reads a failed API answer's (code, message) from the service's own error body.
ErrorReader = Callable[[httpx.Response], tuple[str, str]]


@dataclass(frozen=True)
class OAuthService:
    """Where a service's consent page, token endpoint and API are, and Horae's app registration there."""

    name: str  # for messages: "Zoom", "Microsoft Teams"
    auth_url: str
    token_url: str
    api_url: str
    client_id: str
    client_secret: str
    scope: str = ""  # sent with every token request when set (the Microsoft identity platform wants it)
    basic_auth: bool = False  # client credentials as HTTP Basic (Zoom) rather than in the form

    @classmethod
    def from_options(
        cls,
        name: str,
        options: Mapping[str, str],
        defaults: Mapping[str, str],
        scope: str = "",
        basic_auth: bool = False,
    ) -> OAuthService:
        """The service as a provider's options (`Settings.provider_options`) configure it, else `defaults`."""
        return cls(
            name=name,
            auth_url=options.get("auth_url") or defaults["auth_url"],
            token_url=options.get("token_url") or defaults["token_url"],
            api_url=(options.get("api_url") or defaults["api_url"]).rstrip("/"),
            client_id=options.get("client_id", ""),
            client_secret=options.get("client_secret", ""),
            scope=scope,
            basic_auth=basic_auth,
        )


class OAuthApi:
    """One provider instance's connection to a service (one httpx.Client, reused). Secrets kept per connection:
    `access_token`, `refresh_token` and `expires_at` (epoch seconds)."""

    def __init__(self, service: OAuthService, timeout: float, read_error: ErrorReader) -> None:
        self.service = service
        self._read_error = read_error
        self._http = httpx.Client(timeout=timeout, follow_redirects=False)

    def close(self) -> None:
        self._http.close()

    def authorization_url(self, redirect_uri: str, state: str, extra: Mapping[str, str] | None = None) -> str:
        query = {"response_type": "code", "client_id": self.service.client_id, "redirect_uri": redirect_uri}
        query |= dict(extra or {}) | {"state": state}
        url = self.service.auth_url
        return f"{url}{'&' if '?' in url else '?'}{urlencode(query)}"

    def exchange(self, code: str, redirect_uri: str) -> dict[str, str]:
        """The secrets to keep for an authorization code the consent page sent back."""
        tokens = self._token({"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri})
        if not tokens.get("refresh_token"):
            raise ProviderError(f"{self.service.name} sent no refresh token; connect the account again")
        return secrets_of(tokens)

    def call(
        self,
        conn: Connection | None,
        method: str,
        path: str,
        *,
        body: Mapping[str, Any] | None = None,
        expect: tuple[int, ...] = (),
    ) -> httpx.Response:
        """One API call (`path` below the API root) with the connection's token. Answers with a status in
        `expect` are the caller's to read; other failures raise."""
        if conn is None:
            raise ProviderError(f"{self.service.name} needs a connected conferencing profile")
        if _expiring(conn.secrets.get("expires_at", "")):
            self.refresh(conn)
        url = self.service.api_url + path
        for attempt in range(2):
            headers = {"Authorization": f"Bearer {conn.secrets.get('access_token', '')}"}
            response = self._send(method, url, json=body, headers=headers)
            if response.status_code != 401 or attempt:
                break
            self.refresh(conn)  # expired early, or revoked: the token endpoint tells which
        if response.status_code < 300 or response.status_code in expect:
            return response
        raise self._error(method, path, response)

    def json(self, conn: Connection | None, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        return self.json_of(self.call(conn, method, path, **kwargs))

    def json_of(self, response: httpx.Response) -> dict[str, Any]:
        try:
            data = response.json()
        except ValueError:
            data = None
        if not isinstance(data, dict):
            where = urlsplit(str(response.url)).path
            raise ProviderError(f"{self.service.name} answered {where} with something other than a JSON object")
        return data

    def refresh(self, conn: Connection) -> None:
        """A new access token, kept in `conn.secrets` for the caller to seal; both services rotate refresh
        tokens, so the new one replaces the old."""
        refresh = conn.secrets.get("refresh_token", "")
        if not refresh:
            raise ProviderAuthRejected(f"{self.service.name}: no refresh token is stored; connect the account again")
        conn.secrets.update(secrets_of(self._token({"grant_type": "refresh_token", "refresh_token": refresh}), refresh))

    # --- plumbing -------------------------------------------------------------------------------------------

    def _token(self, form: dict[str, str]) -> dict[str, Any]:
        service = self.service
        auth: tuple[str, str] | None = None
        if service.basic_auth:
            auth = (service.client_id, service.client_secret)
        else:
            form |= {"client_id": service.client_id, "client_secret": service.client_secret}
        if service.scope:
            form["scope"] = service.scope
        response = self._send("POST", service.token_url, data=form, auth=auth)
        try:
            data = response.json()
        except ValueError:
            data = None
        data = data if isinstance(data, dict) else {}
        if response.status_code == 200 and isinstance(data.get("access_token"), str):
            return data
        error = str(data.get("error") or f"HTTP {response.status_code}")
        if response.status_code in (400, 401) and data.get("error") and error not in CLIENT_ERRORS:
            raise ProviderAuthRejected(f"{service.name} refused the grant ({error}): connect the account again")
        if response.status_code == 429 or response.status_code >= 500:
            wait = parse_retry_after(response.headers.get("Retry-After"))
            raise ProviderUnavailable(f"{service.name}'s token service is unavailable ({error})", wait)
        raise ProviderError(f"{service.name}'s token service refused Horae's app ({error})")

    def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        # `from None`: an httpx error's text names the request, which is not for logs.
        name, path = self.service.name, urlsplit(url).path
        try:
            return self._http.request(method, url, **kwargs)
        except httpx.TimeoutException:
            raise ProviderUnavailable(f"{name} did not answer {method} {path} in time") from None
        except httpx.TransportError as exc:
            raise ProviderUnavailable(f"{name} could not be reached ({type(exc).__name__})") from None
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise ProviderError(f"{name} {method} {path}: {type(exc).__name__}") from None

    def _error(self, method: str, path: str, response: httpx.Response) -> ProviderError:
        """What a failed answer means to Horae: refused credentials, a busy or failing service, or a refusal."""
        status, name = response.status_code, self.service.name
        code, message = self._read_error(response)
        what = f"{method} {path}: HTTP {status} {code}".rstrip()
        if status == 401:
            return ProviderAuthRejected(f"{name} refused the credentials ({what})")
        if status == 429 or status >= 500:
            wait = parse_retry_after(response.headers.get("Retry-After"))
            return ProviderUnavailable(f"{name} is busy or unavailable ({what})", wait)
        return ProviderError(f"{name} {what}: {message[:EXCERPT]}".rstrip(": "))


def secrets_of(tokens: Mapping[str, Any], refresh: str = "") -> dict[str, str]:
    """What to keep of a token answer."""
    try:
        lifetime = int(tokens.get("expires_in") or 3600)
    except (TypeError, ValueError):
        lifetime = 3600
    return {
        "access_token": str(tokens["access_token"]),
        "refresh_token": str(tokens.get("refresh_token") or refresh),
        "expires_at": str(int(time.time()) + lifetime),
    }


def _expiring(expires_at: str) -> bool:
    """Whether a stored token expires within REFRESH_MARGIN (unknown: no, the 401 path renews it)."""
    try:
        return bool(expires_at) and float(expires_at) - REFRESH_MARGIN < time.time()
    except ValueError:
        return True


def utc(moment: datetime) -> str:
    """An instant as both services take it: UTC, seconds, `Z`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
