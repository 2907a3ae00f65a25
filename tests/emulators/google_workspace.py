"""An in-memory Google Workspace: several people, each with a Google Calendar of their own (one GoogleEmulator
each), reached by a service account with domain-wide delegation through the JWT-bearer grant.

Mirrors https://developers.google.com/identity/protocols/oauth2/service-account: the service account signs a
JWT (RS256, `kid` = its key id) naming the person (`sub`), the scopes and the token URL (`aud`); the token
endpoint answers an access token that acts as that person, and no refresh token.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from tests.emulators.google import GoogleEmulator, google_error, oauth_error

CALENDAR_SCOPE = "https://www.googleapis.com/auth/calendar"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
GOOGLE_TOKEN_URL = "https://oauth2.googleapis.com/token"
PROJECT = "horae-emulated"
LONGEST_ASSERTION = 3600  # Google refuses assertions meant to live longer than an hour
CLOCK_SKEW = 300  # and tolerates clocks this far apart
EVENTS_LIST = re.compile(r"^/calendar/v3/calendars/[^/]+/events/?$")
SHORT_LIVED = (
    "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. "
    "Check your iat and exp values in the JWT claim."
)
NOT_DELEGATED = (
    "Client is unauthorized to retrieve access tokens using this method, "
    "or client not authorized for any of the scopes requested."
)


@dataclass
class ServiceAccount:
    """A service account as Google Cloud and the Admin console know it: its public keys by key id, and the
    scopes an administrator delegated to its client id (none: delegation not granted)."""

    client_email: str
    client_id: str
    public_keys: dict[str, rsa.RSAPublicKey] = field(default_factory=dict)
    delegated_scopes: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class WorkspaceRequest:
    """One request the workspace answered; `person` is the `sub` a token request asked for, or whose
    access token an API call carried (None when neither is known)."""

    method: str
    path: str
    person: str | None
    at: float


class GoogleWorkspaceEmulator:
    """The workspace's token endpoint and a router to each person's Calendar API; `app` is the Starlette app
    to serve, the other public methods are test controls. Every mutation holds `self.lock`."""

    def __init__(self, domain: str = "example.com", base_url: str | None = None) -> None:
        self.domain = domain
        self.lock = threading.RLock()
        self.people: dict[str, GoogleEmulator] = {}
        self.service_accounts: dict[str, ServiceAccount] = {}
        self.token_owners: dict[str, str] = {}  # access token → the person it acts as
        self.broken_events: set[str] = set()
        self.requests: list[WorkspaceRequest] = []
        self.token_url: str | None = None
        if base_url:
            self.use_base_url(base_url)
        self.app = Starlette(
            routes=[
                Route("/token", self._token, methods=["POST"]),
                Route("/calendar/v3/{rest:path}", _ToPerson(self)),
            ]
        )

    # -- test controls -------------------------------------------------------------------------------------
    def use_base_url(self, url: str) -> None:
        """Where the workspace is served: its token URL (`<url>/token`) is then the only audience it accepts,
        and the `token_uri` of the keys it makes."""
        with self.lock:
            self.token_url = url.rstrip("/") + "/token"

    def add_person(self, email: str) -> GoogleEmulator:
        """A person of the domain with their primary calendar (id = their address); add events through the
        returned emulator. Adding someone already there returns their emulator."""
        with self.lock:
            key = email.lower()
            if key not in self.people:
                self.people[key] = GoogleEmulator(email=email)
            return self.people[key]

    def remove_person(self, email: str) -> None:
        """The person leaves the domain: tokens for them are refused, theirs stop working."""
        with self.lock:
            self.people.pop(email.lower(), None)
            self.token_owners = {t: p for t, p in self.token_owners.items() if p != email.lower()}

    def new_service_account_key(self, delegated: bool = True) -> dict[str, Any]:
        """A new service account with a fresh RSA key pair, and its JSON key as Google Cloud downloads it.
        `delegated=False`: the administrator has not granted domain-wide delegation for the calendar scope,
        so its token requests answer `unauthorized_client`."""
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        key_id = secrets.token_hex(20)
        client_id = str(10**20 + secrets.randbelow(9 * 10**20))
        with self.lock:
            client_email = f"horae-sync-{len(self.service_accounts) + 1}@{PROJECT}.iam.gserviceaccount.com"
            account = ServiceAccount(client_email, client_id, {key_id: private.public_key()})
            if delegated:
                account.delegated_scopes.add(CALENDAR_SCOPE)
            self.service_accounts[client_email] = account
            token_uri = self.token_url or GOOGLE_TOKEN_URL
        pem = private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        return {
            "type": "service_account",
            "project_id": PROJECT,
            "private_key_id": key_id,
            "private_key": pem,
            "client_email": client_email,
            "client_id": client_id,
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": token_uri,
            "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
            "client_x509_cert_url": f"https://www.googleapis.com/robot/v1/metadata/x509/{client_email}",
            "universe_domain": "googleapis.com",
        }

    def grant_delegation(self, client_email: str, scopes: str = CALENDAR_SCOPE) -> None:
        """The administrator grants domain-wide delegation for `scopes` (space-separated)."""
        with self.lock:
            self.service_accounts[client_email].delegated_scopes.update(scopes.split())

    def revoke_delegation(self, client_email: str) -> None:
        """The administrator removes the service account's domain-wide delegation (tokens already issued
        keep working until they expire, as in Google)."""
        with self.lock:
            self.service_accounts[client_email].delegated_scopes.clear()

    def break_events(self, email: str) -> None:
        """The person's calendar list still answers, every events list answers 500 backendError."""
        with self.lock:
            self.broken_events.add(email.lower())

    def mend_events(self, email: str) -> None:
        with self.lock:
            self.broken_events.discard(email.lower())

    # -- the token endpoint --------------------------------------------------------------------------------
    async def _token(self, request: Request) -> Response:
        form = await request.form()
        grant_type, assertion = str(form.get("grant_type", "")), str(form.get("assertion", ""))
        with self.lock:
            header, claims = _decode(assertion)
            subject = claims.get("sub") if isinstance(claims.get("sub"), str) else None
            self.requests.append(WorkspaceRequest(request.method, request.url.path, subject, time.time()))
            if grant_type != JWT_BEARER:
                return oauth_error(400, "unsupported_grant_type", f"Invalid grant_type: {grant_type}")
            if header is None:
                return oauth_error(400, "invalid_grant", "Invalid JWT: the assertion is not a signed JWT.")
            refused = self._refusal(assertion, header, claims, self.token_url or str(request.url.replace(query="")))
            if refused is not None:
                return refused
            person = self.people[str(subject).lower()]
            with person.lock:
                token = person.tokens.issue_access()
                lifetime = person.tokens.access_ttl
            self.token_owners[token] = str(subject).lower()
            return JSONResponse({"access_token": token, "expires_in": lifetime, "token_type": "Bearer"})

    def _refusal(
        self, assertion: str, header: dict[str, Any], claims: dict[str, Any], audience: str
    ) -> JSONResponse | None:
        """Google's answer to an assertion it will not honour, in the order it checks; None to issue a token."""
        account = self.service_accounts.get(str(claims.get("iss")))
        if account is None:
            return oauth_error(400, "invalid_grant", "Invalid grant: account not found")
        kid = header.get("kid")
        keys = [account.public_keys[kid]] if kid in account.public_keys else []
        if header.get("alg") != "RS256" or not any(_signed_by(k, assertion) for k in keys):
            return oauth_error(400, "invalid_grant", "Invalid JWT Signature.")
        if claims.get("aud") != audience:
            return oauth_error(
                400, "invalid_grant", f"Invalid JWT: Failed audience check. The right audience is {audience}"
            )
        issued, expires, now = claims.get("iat"), claims.get("exp"), time.time()
        if not isinstance(issued, int) or not isinstance(expires, int):
            return oauth_error(400, "invalid_grant", SHORT_LIVED)
        if expires - issued > LONGEST_ASSERTION or expires <= now - CLOCK_SKEW or issued > now + CLOCK_SKEW:
            return oauth_error(400, "invalid_grant", SHORT_LIVED)
        scopes = set(str(claims.get("scope") or "").split())
        if not scopes:
            return oauth_error(400, "invalid_scope", "Empty or missing scope not allowed.")
        if not isinstance(claims.get("sub"), str):
            return oauth_error(400, "invalid_request", "emulated: only domain-wide delegation (a `sub`) is supported")
        if not scopes <= account.delegated_scopes:
            return oauth_error(401, "unauthorized_client", NOT_DELEGATED)
        if claims["sub"].lower() not in self.people:
            return oauth_error(400, "invalid_grant", "Invalid email or User ID")
        return None

    # -- the Calendar API, per person ----------------------------------------------------------------------
    async def route_to_person(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Hand the call to the emulator of the person the bearer token acts as."""
        request = Request(scope)
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        with self.lock:
            owner = self.token_owners.get(token.strip()) if scheme.lower() == "bearer" else None
            person = self.people.get(owner) if owner else None
            self.requests.append(WorkspaceRequest(request.method, request.url.path, owner, time.time()))
            broken = owner in self.broken_events
        if person is None:
            answer: Response = google_error(
                401, "Invalid Credentials", "authError", locationType="header", location="Authorization"
            )
            await answer(scope, receive, send)
            return
        if broken and request.method == "GET" and EVENTS_LIST.match(request.url.path):
            with person.lock:
                valid = person.tokens.access_status(request) == "ok"
            if valid:  # Google checks the token first; an expired one still gets its 401
                await google_error(500, "Backend Error", "backendError")(scope, receive, send)
                return
        await person.app(scope, receive, send)


class _ToPerson:
    """The ASGI app behind `/calendar/v3/...` (a class, so Starlette hands it the raw request)."""

    def __init__(self, workspace: GoogleWorkspaceEmulator) -> None:
        self._workspace = workspace

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._workspace.route_to_person(scope, receive, send)


def _decode(assertion: str) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """The header and claims of a compact JWT, (None, {}) when it is not one."""
    parts = assertion.split(".")
    if len(parts) != 3:
        return None, {}
    try:
        header, claims = (json.loads(_unb64(part)) for part in parts[:2])
    except ValueError:
        return None, {}
    if not isinstance(header, dict) or not isinstance(claims, dict):
        return None, {}
    return header, claims


def _signed_by(public: rsa.RSAPublicKey, assertion: str) -> bool:
    signing_input, _, signature = assertion.rpartition(".")
    try:
        public.verify(_unb64(signature), signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError):
        return False
    return True


def _unb64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
