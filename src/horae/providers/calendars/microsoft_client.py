"""Microsoft Graph over HTTP for the Microsoft provider: OAuth tokens (exchanged, renewed before expiry or once on
a 401; app-only ones by client credentials) and API calls whose failures become Horae's provider errors. Secrets
never reach a message."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from horae.errors import ProviderAuthRejected, ProviderError, ProviderUnavailable, RemoteConflict
from horae.ports import Connection
from horae.providers.calendars.caldav_errors import parse_retry_after

SCOPE = "offline_access Calendars.ReadWrite User.Read openid email"
# Times in UTC (the zone each was given in stays in originalStartTimeZone), descriptions as plain text.
PREFER = 'outlook.timezone="UTC", outlook.body-content-type="text"'
DEFAULT_AUTH_URL = "https://login.microsoftonline.com/common/oauth2/v2.0/authorize"
DEFAULT_TOKEN_URL = "https://login.microsoftonline.com/common/oauth2/v2.0/token"
DEFAULT_API_URL = "https://graph.microsoft.com/v1.0"
REFUSED_GRANTS = frozenset({"invalid_grant", "interaction_required", "consent_required", "login_required"})
APP_SCOPE = "https://graph.microsoft.com/.default"  # client credentials: every application permission granted
# What a client-credentials request is refused with when the app, its secret or its tenant is gone or wrong.
REFUSED_APPS = frozenset({"invalid_client", "unauthorized_client", "invalid_request", "invalid_scope"})
TOKEN_PATH = re.compile(r"^(?P<head>.*/)(?P<tenant>[^/]+)(?P<tail>/oauth2/v2\.0/token)$")
CALENDARS_ROOT = re.compile(r"/(me|users/[^/]+)(/calendars)?$")  # who the connection reaches, and their calendars
CONFLICTS = (409, 412)  # 412 for If-Match, 409 ErrorIrresolvableConflict for a changeKey that moved on
REFRESH_MARGIN = 120  # seconds before expiry when a token is renewed rather than used
EXCERPT = 200
Item = Mapping[str, Any]


class TokenRefused(ProviderAuthRejected):
    """The token endpoint refused the request; `error` and `codes` (AADSTS numbers) say why."""

    def __init__(self, message: str, error: str, codes: tuple[int, ...]) -> None:
        super().__init__(message)
        self.error = error
        self.codes = codes


class GraphClient:
    """One provider instance's connection to the identity platform and Graph (one httpx.Client, reused)."""

    def __init__(self, options: Mapping[str, str]) -> None:
        self.client_id = options.get("client_id", "")
        self.client_secret = options.get("client_secret", "")
        self.token_url = options.get("token_url") or DEFAULT_TOKEN_URL
        self.api_url = (options.get("api_url") or DEFAULT_API_URL).rstrip("/")
        self.http = httpx.Client(timeout=float(options.get("timeout_seconds") or 30), follow_redirects=False)

    def close(self) -> None:
        self.http.close()

    def call(
        self,
        conn: Connection,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        expect: tuple[int, ...] = (),
    ) -> httpx.Response:
        """One Graph call (`url` below the API root, or a link Graph gave) with the connection's token.
        Answers with a status in `expect` are the caller's to read; other failures raise."""
        full = url if url.startswith(("https://", "http://")) else self.api_url + url
        if not self.ours(full):
            raise ProviderError("Microsoft sent a link to another server; it was not followed")
        if _expiring(conn.secrets.get("expires_at", "")):
            self.refresh(conn)
        response = None
        for attempt in range(2):
            sent = {"Authorization": f"Bearer {conn.secrets.get('access_token', '')}", "Prefer": PREFER}
            response = self.send(method, full, params=params, json=body, headers=sent | dict(headers or {}))
            if response.status_code != 401 or attempt:
                break
            self.refresh(conn)  # expired early, or revoked: a new token tells which
        assert response is not None
        if response.status_code < 300 or response.status_code in expect:
            return response
        raise error_for(method, full, response)

    def json(self, conn: Connection, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
        return json_of(self.call(conn, method, url, **kwargs))

    def pages(self, conn: Connection, url: str, params: Mapping[str, str] | None) -> Iterator[Item]:
        """The rows of a collection, following `@odata.nextLink`s."""
        while True:
            body = self.json(conn, "GET", url, params=params)
            yield from (row for row in body.get("value") or [] if isinstance(row, Mapping))
            if not body.get("@odata.nextLink"):
                return
            url, params = str(body["@odata.nextLink"]), None

    def event(self, conn: Connection, remote_id: str) -> Item | None:
        """An event (or series master) by id; None when it is gone."""
        response = self.call(conn, "GET", f"{me(conn)}/events/{q(remote_id)}", expect=(404,))
        return None if response.status_code == 404 else json_of(response)

    def send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        # `from None`: an httpx error's text names the request, which is not for logs.
        try:
            return self.http.request(method, url, **kwargs)
        except httpx.TimeoutException:
            raise ProviderUnavailable(f"Microsoft did not answer {method} {path_of(url)} in time") from None
        except httpx.HTTPError as exc:
            raise ProviderUnavailable(f"Microsoft could not be reached ({type(exc).__name__})") from None

    def ours(self, url: str) -> bool:
        """Whether a link Graph gave (nextLink, deltaLink) stays on the API's server: the token goes with it."""
        mine, theirs = urlsplit(self.api_url), urlsplit(url)
        return (theirs.scheme, theirs.netloc) == (mine.scheme, mine.netloc)

    # --- tokens ---------------------------------------------------------------------------------------------

    def token(self, form: Mapping[str, str]) -> dict[str, Any]:
        """A token endpoint answer for this grant (authorization_code or refresh_token)."""
        sent = dict(form) | {"client_id": self.client_id, "client_secret": self.client_secret, "scope": SCOPE}
        return self._token_answer(self.token_url, sent, REFUSED_GRANTS, "connect the account again")

    def app_token(self, tenant_id: str, client_id: str, client_secret: str) -> dict[str, str]:
        """An app-only token for an administrator's application (client credentials in their tenant), as the
        secrets to keep. Refusals raise TokenRefused."""
        form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": client_secret}
        form["scope"] = APP_SCOPE
        tokens = self._token_answer(tenant_token_url(self.token_url, tenant_id), form, REFUSED_APPS, "link it again")
        lifetime = int(tokens.get("expires_in") or 3600)
        return {"access_token": str(tokens["access_token"]), "expires_at": str(int(time.time()) + lifetime)}

    def _token_answer(self, url: str, form: Mapping[str, str], refusals: frozenset[str], remedy: str) -> dict[str, Any]:
        response = self.send("POST", url, data=dict(form))
        try:
            data = response.json()
        except ValueError:
            data = {}
        data = data if isinstance(data, dict) else {}
        if response.status_code == 200 and isinstance(data.get("access_token"), str):
            return data
        error = str(data.get("error") or f"HTTP {response.status_code}")
        numbers = tuple(c for c in data.get("error_codes") or [] if isinstance(c, int))
        codes = "".join(f" AADSTS{c}" for c in numbers)
        if error in refusals:
            raise TokenRefused(f"Microsoft refused the grant ({error}{codes}): {remedy}", error, numbers)
        if response.status_code == 429 or response.status_code >= 500:
            wait = parse_retry_after(response.headers.get("Retry-After"))
            raise ProviderUnavailable(f"Microsoft's token service is unavailable ({error})", wait)
        raise ProviderError(f"Microsoft's token service refused the request ({error}{codes})")

    def refresh(self, conn: Connection) -> None:
        """A new access token, kept in `conn.secrets` (with the rotated refresh token) for the caller to seal.
        An app-only connection has no refresh token: its application asks for a new one."""
        if conn.settings.get("app_only") == "true":
            settings, secrets = conn.settings, conn.secrets
            tenant, client = settings.get("tenant_id", ""), settings.get("client_id", "")
            conn.secrets.update(self.app_token(tenant, client, secrets.get("client_secret", "")))
            return
        refresh = conn.secrets.get("refresh_token", "")
        if not refresh:
            raise ProviderAuthRejected("no refresh token is stored: connect the account again")
        conn.secrets.update(secrets_of(self.token({"grant_type": "refresh_token", "refresh_token": refresh}), refresh))


def me(conn: Connection) -> str:
    """Where a connection's own resources live in Graph: `/me` for a person who signed in, `/users/{email}` for
    a person an administrator's application reaches (Enterprise Connect)."""
    user = conn.settings.get("user")
    return f"/users/{q(user)}" if user else "/me"


def tenant_token_url(token_url: str, tenant_id: str) -> str:
    """The configured token endpoint with its tenant segment (`common`, `organizations`...) replaced by a
    tenant's own: client credentials work only there. `tenant_id` must already be checked (a GUID or a name)."""
    found = TOKEN_PATH.match(token_url)
    if found is None:
        raise ProviderError("the configured Microsoft token_url does not end in /{tenant}/oauth2/v2.0/token")
    return f"{found['head']}{q(tenant_id)}{found['tail']}"


def _expiring(expires_at: str) -> bool:
    """Whether a stored token expires within REFRESH_MARGIN (unknown: no, the 401 path renews it)."""
    try:
        return bool(expires_at) and float(expires_at) - REFRESH_MARGIN < time.time()
    except ValueError:
        return True


def secrets_of(tokens: Mapping[str, Any], refresh: str = "") -> dict[str, str]:
    """What to keep of a token answer; Microsoft rotates refresh tokens, so a new one replaces the old."""
    lifetime = int(tokens.get("expires_in") or 3600)
    return {
        "access_token": str(tokens["access_token"]),
        "refresh_token": str(tokens.get("refresh_token") or refresh),
        "expires_at": str(int(time.time()) + lifetime),
    }


def error_for(method: str, url: str, response: httpx.Response) -> ProviderError:
    """What a failed Graph answer means to Horae."""
    status = response.status_code
    try:
        found = response.json().get("error") or {}
        code, message = str(found.get("code", "")), str(found.get("message", ""))[:EXCERPT]
    except (ValueError, AttributeError):
        code, message = "", response.text[:EXCERPT]
    what = f"{method} {path_of(url)}: HTTP {status} {code}".rstrip()
    if status == 401:
        return ProviderAuthRejected(f"Microsoft refused the credentials ({what})")
    if status == 403 and method == "GET" and CALENDARS_ROOT.search(path_of(url)):
        return ProviderAuthRejected(f"Microsoft refused access to the calendars ({what})")
    if status == 429 or status >= 500:
        wait = parse_retry_after(response.headers.get("Retry-After"))
        return ProviderUnavailable(f"Microsoft is busy or unavailable ({what})", wait)
    if status in CONFLICTS:
        return RemoteConflict(f"the Outlook event changed meanwhile ({what})")
    return ProviderError(f"{what}: {message}")


def json_of(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise ProviderError(f"Microsoft answered {path_of(str(response.url))} with something other than a JSON object")
    return data


def q(remote_id: str) -> str:
    """An id as one path segment (Graph ids may hold `=`, `+` or `/`)."""
    return quote(remote_id, safe="")


def path_of(url: str) -> str:
    return urlsplit(url).path  # never the query: a delta token is in it


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
