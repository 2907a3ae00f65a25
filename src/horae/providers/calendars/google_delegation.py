"""Google Workspace domain-wide delegation: a service account's JSON key, the JWT it signs for one person of
the domain, the access token Google gives for it (RFC 7523 JWT-bearer grant), and how Google's token
endpoint says no (for this grant and the ordinary OAuth ones)."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from horae.errors import InvalidRequest, ProviderAuthRejected, ProviderError, ProviderUnavailable, UnknownUser
from horae.ports import Connection, Linked
from horae.providers.calendars.caldav_errors import parse_retry_after
from horae.providers.calendars.google_errors import EXCERPT_CHARS

DELEGATED_SCOPE = "https://www.googleapis.com/auth/calendar"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ASSERTION_LIFETIME = 3600  # Google's longest: "a short-lived token (60 minutes)"
KEY_FIELDS = ("client_email", "private_key", "private_key_id")
UNKNOWN_PERSON = "Invalid email or User ID"  # Google's words when `sub` names no one in the domain

Send = Callable[..., httpx.Response]  # the provider's `_send(method, url, **httpx arguments)`


class KeyProblem(ValueError):
    """The administrator's JSON key cannot be used; the message says why, in words for that person."""


class DelegationRefused(ProviderAuthRejected):
    """Google refused to act as the person: `error` is `unauthorized_client` (delegation not granted for the
    scope) or `invalid_grant` (a bad signature, a deleted key, a clock far off)."""

    def __init__(self, message: str, error: str, description: str) -> None:
        super().__init__(message)
        self.error = error
        self.description = description


@dataclass(frozen=True)
class ServiceAccountKey:
    """What Horae keeps of a service account's JSON key. Its `token_uri` is deliberately not kept: the key
    comes from an administrator's paste, and Horae only ever posts signed assertions to its configured
    token URL."""

    client_email: str
    private_key: str  # PEM, PKCS#8 as Google issues it
    private_key_id: str
    client_id: str = ""  # the number the Admin console's domain-wide delegation page asks for

    @property
    def secrets(self) -> dict[str, str]:
        return {"private_key": self.private_key, "private_key_id": self.private_key_id}


def parse_key(text: str) -> ServiceAccountKey:
    """The service account key from the JSON file Google Cloud downloads, checked down to its private key."""
    try:
        found = json.loads(text)
    except ValueError as exc:
        raise KeyProblem("this is not valid JSON; paste the whole key file Google Cloud downloaded") from exc
    if not isinstance(found, dict):
        raise KeyProblem("this JSON is not a service account key (expected an object with client_email etc.)")
    if found.get("type") != "service_account":
        raise KeyProblem(
            f"this key's type is {found.get('type')!r}, not 'service_account'; create a JSON key for a service account"
        )
    missing = [name for name in KEY_FIELDS if not isinstance(found.get(name), str) or not found[name].strip()]
    if missing:
        raise KeyProblem(f"the key lacks {', '.join(missing)}; download a new JSON key for the service account")
    key = ServiceAccountKey(
        client_email=found["client_email"].strip(),
        private_key=found["private_key"],
        private_key_id=found["private_key_id"].strip(),
        client_id=str(found.get("client_id") or ""),
    )
    load_private_key(key.private_key)
    return key


def stored_key(conn: Connection) -> ServiceAccountKey:
    """The key of an admin or delegated connection (`client_email` in settings, the private key in secrets)."""
    client_email = conn.settings.get("client_email", "")
    private_key, key_id = conn.secrets.get("private_key", ""), conn.secrets.get("private_key_id", "")
    if not client_email or not private_key or not key_id:
        raise ProviderAuthRejected("Google: the service account key is not stored; connect the domain again")
    return ServiceAccountKey(client_email, private_key, key_id)


def load_private_key(pem: str) -> rsa.RSAPrivateKey:
    try:
        loaded = serialization.load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise KeyProblem("the key's private_key does not load; download a new JSON key (it may be damaged)") from exc
    if not isinstance(loaded, rsa.RSAPrivateKey):
        raise KeyProblem("the key's private_key is not an RSA key; Google service account keys are RSA")
    return loaded


def sign_assertion(key: ServiceAccountKey, subject: str, scope: str, audience: str, now: float | None = None) -> str:
    """A JWT (RS256) by which the service account asks to act as `subject` for `scope`; `audience` is the
    token URL it is posted to, which Google checks."""
    issued = int(time.time() if now is None else now)
    header = {"alg": "RS256", "typ": "JWT", "kid": key.private_key_id}
    claims = {
        "iss": key.client_email,
        "sub": subject,
        "scope": scope,
        "aud": audience,
        "iat": issued,
        "exp": issued + ASSERTION_LIFETIME,
    }
    signing_input = f"{_b64(_compact(header))}.{_b64(_compact(claims))}"
    try:
        private = load_private_key(key.private_key)
    except KeyProblem as exc:  # a stored key that no longer loads: the connection needs a new key
        raise ProviderAuthRejected(f"Google: {exc}") from exc
    signature = private.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{_b64(signature)}"


def mint_token(send: Send, token_url: str, key: ServiceAccountKey, subject: str, scope: str) -> dict[str, str]:
    """An access token to act as `subject` (as `access_token` and `expires_at` secrets). Raises UnknownUser
    when the domain has no such person, DelegationRefused when Google will not let the service account act
    for anyone, ProviderUnavailable when Google is busy or out of reach."""
    form = {"grant_type": JWT_BEARER, "assertion": sign_assertion(key, subject, scope, token_url)}
    response = send("POST", token_url, data=form)
    if response.status_code != 200:
        raise token_error(response, subject)
    try:
        body = response.json()
    except ValueError as exc:
        raise ProviderError("Google's token endpoint answered with something other than JSON") from exc
    access = body.get("access_token") if isinstance(body, dict) else None
    if not isinstance(access, str) or not access:
        raise ProviderError("Google's token endpoint answered without an access token")
    try:
        lifetime = int(body.get("expires_in") or 3600)
    except (TypeError, ValueError):
        lifetime = 3600
    return {"access_token": access, "expires_at": str(int(time.time()) + lifetime)}


def token_error(response: httpx.Response, subject: str | None = None) -> ProviderError:
    """Google's token endpoint's refusal as a Horae provider error; `subject` names the person a JWT-bearer
    grant asked to act as (None for the ordinary OAuth grants)."""
    try:
        answer: Any = response.json()
    except ValueError:
        answer = {}
    answer = answer if isinstance(answer, dict) else {}
    error, said = str(answer.get("error", "")), str(answer.get("error_description", ""))
    status = response.status_code
    text = f"Google token endpoint: HTTP {status} {error}: {said}"[:EXCERPT_CHARS]
    if subject is not None and error == "invalid_grant" and said.strip() == UNKNOWN_PERSON:
        return UnknownUser(f"Google Workspace has no person {subject}")
    if subject is not None and error in ("invalid_grant", "unauthorized_client"):
        return DelegationRefused(text, error, said)
    if error == "invalid_grant":  # the code was used or expired, or the person revoked Horae's access
        return ProviderAuthRejected(text)
    if status == 429 or status >= 500:
        return ProviderUnavailable(text, parse_retry_after(response.headers.get("Retry-After")))
    return ProviderError(text)  # invalid_client and the like: this server's OAuth setup, not the person


def act_as(send: Send, token_url: str, conn: Connection) -> Connection:
    """`conn` with a fresh access token for its person (settings `email`; on the admin-level connection,
    the administrator who checked the key), minted with its stored key."""
    person = conn.settings.get("email") or conn.settings.get("admin_email", "")
    conn.secrets.update(mint_token(send, token_url, stored_key(conn), person, DELEGATED_SCOPE))
    return conn


def renew(send: Send, token_url: str, conn: Connection) -> str:
    """A new access token for a delegated connection, written into `conn.secrets` (the caller seals it)."""
    try:
        return act_as(send, token_url, conn).secrets["access_token"]
    except UnknownUser as exc:  # the person left the domain: this connection cannot work any more
        raise ProviderAuthRejected(exc.message) from exc


# --- Enterprise Connect forms and connections ------------------------------------------------------------


def read_admin_form(form: Mapping[str, str]) -> tuple[ServiceAccountKey, str]:
    """The key and the administrator's address from the form, or InvalidRequest on the field at fault."""
    try:
        key = parse_key(form.get("service_account_key", "").strip())
    except KeyProblem as exc:
        raise InvalidRequest.single("service_account_key", "errors.invalid", str(exc)) from exc
    admin_email = form.get("admin_email", "").strip()
    if "@" not in admin_email.strip("@"):
        raise InvalidRequest.single("admin_email", "errors.invalid", "give the address of a person of the domain")
    domain = form.get("domain", "").strip().lower().lstrip("@")
    if domain and admin_email.rpartition("@")[2].lower() != domain:
        raise InvalidRequest.single("admin_email", "errors.invalid", f"give the address of a person of {domain}")
    return key, admin_email


def link_admin(form: Mapping[str, str], list_calendars: Callable[[Connection], object]) -> Linked:
    """Checks the form's key by acting as its `admin_email`: `list_calendars` mints a token for that
    connection and lists the person's calendars. A refusal becomes InvalidRequest on the field to fix;
    ProviderUnavailable passes through (nothing to fix in the form)."""
    key, admin_email = read_admin_form(form)
    try:
        list_calendars(person_connection("", key, admin_email))
    except ProviderUnavailable:
        raise
    except ProviderError as exc:
        raise admin_form_error(exc, key, admin_email) from exc
    return admin_linked(key, admin_email)


def admin_form_error(exc: ProviderError, key: ServiceAccountKey, admin_email: str) -> InvalidRequest:
    """What went wrong while checking the key by acting as `admin_email`, next to the field to fix."""
    grant = (
        f"domain-wide delegation for the scope {DELEGATED_SCOPE} must be granted to this service account"
        f"{f' (client ID {key.client_id})' if key.client_id else ''} in the Google Admin console"
    )
    if isinstance(exc, UnknownUser):
        return InvalidRequest.single("admin_email", "errors.invalid", f"Google Workspace has no person {admin_email}")
    if isinstance(exc, DelegationRefused) and exc.error == "unauthorized_client":
        return InvalidRequest.single("service_account_key", "errors.invalid", f"Google refused: {grant}")
    if isinstance(exc, DelegationRefused):
        said = exc.description or exc.error
        text = f"Google did not accept this key ({said}); check that the key is current and that {grant}"
        return InvalidRequest.single("service_account_key", "errors.invalid", text[: EXCERPT_CHARS * 2])
    text = f"acting as {admin_email}, Google refused to list the calendars: {exc.message}"
    return InvalidRequest.single("service_account_key", "errors.invalid", text[:EXCERPT_CHARS])


def admin_linked(key: ServiceAccountKey, admin_email: str) -> Linked:
    return Linked(
        profile_name=key.client_email,
        settings={"client_email": key.client_email, "admin_email": admin_email},
        secrets=key.secrets,
    )


def person_connection(profile_id: str, key: ServiceAccountKey, email: str) -> Connection:
    """A connection acting as one person through the service account; its token is added by the caller."""
    settings = {"email": email, "client_email": key.client_email, "delegated": "true"}
    return Connection(profile_id, settings, key.secrets)


def is_delegated(conn: Connection) -> bool:
    """Renewed by signing a new assertion rather than with a refresh token."""
    return bool(conn.secrets.get("private_key"))


def _compact(value: dict[str, Any]) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")
