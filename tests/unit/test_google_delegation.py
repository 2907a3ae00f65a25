"""Service account keys, the RS256 assertion Horae signs, and how Google's token endpoint answers map to errors."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from horae.errors import InvalidRequest, ProviderAuthRejected, ProviderError, ProviderUnavailable, UnknownUser
from horae.ports import Connection
from horae.providers.calendars import google_delegation as delegation
from horae.providers.calendars.google_delegation import DelegationRefused, KeyProblem, ServiceAccountKey

TOKEN_URL = "https://tokens.example.test/token"
SCOPE = "https://www.googleapis.com/auth/calendar"


def pem(private: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> str:
    return private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


@pytest.fixture(scope="module")
def private() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def key_file(private: rsa.RSAPrivateKey) -> dict[str, Any]:
    return {
        "type": "service_account",
        "project_id": "p",
        "private_key_id": "kid-1",
        "private_key": pem(private),
        "client_email": "sync@p.iam.gserviceaccount.com",
        "client_id": "1234567890",
        "token_uri": "https://attacker.example/token",
    }


def unb64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


# -- the key ------------------------------------------------------------------------------------------------


def test_parse_key_keeps_what_signing_needs_and_not_the_token_uri(key_file: dict[str, Any]) -> None:
    key = delegation.parse_key(json.dumps(key_file))
    assert key == ServiceAccountKey("sync@p.iam.gserviceaccount.com", key_file["private_key"], "kid-1", "1234567890")
    assert key.secrets == {"private_key": key_file["private_key"], "private_key_id": "kid-1"}


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda k: "{", "not valid JSON"),
        (lambda k: "[1, 2]", "not a service account key"),
        (lambda k: json.dumps(k | {"type": "authorized_user"}), "'authorized_user', not 'service_account'"),
        (lambda k: json.dumps({n: v for n, v in k.items() if n != "type"}), "type is None"),
        (lambda k: json.dumps(k | {"client_email": " ", "private_key_id": 7}), "lacks client_email, private_key_id"),
        (lambda k: json.dumps(k | {"private_key": "-----BEGIN PRIVATE KEY-----\nAAAA\n"}), "does not load"),
        (lambda k: json.dumps(k | {"private_key": pem(ec.generate_private_key(ec.SECP256R1()))}), "not an RSA key"),
    ],
)
def test_parse_key_says_what_is_wrong(key_file: dict[str, Any], change: Any, words: str) -> None:
    with pytest.raises(KeyProblem, match=words):
        delegation.parse_key(change(key_file))


def test_the_stored_key_is_read_back_from_a_connection(key_file: dict[str, Any]) -> None:
    linked = delegation.admin_linked(delegation.parse_key(json.dumps(key_file)), "admin@example.com")
    assert linked.settings == {"client_email": key_file["client_email"], "admin_email": "admin@example.com"}
    admin = Connection("pro_1", linked.settings, linked.secrets)
    assert delegation.stored_key(admin).private_key_id == "kid-1"
    with pytest.raises(ProviderAuthRejected, match="not stored"):
        delegation.stored_key(Connection("pro_1", linked.settings, {"private_key": key_file["private_key"]}))


# -- the assertion ------------------------------------------------------------------------------------------


def test_sign_assertion_makes_an_rs256_jwt_google_can_verify(
    key_file: dict[str, Any], private: rsa.RSAPrivateKey
) -> None:
    key = delegation.parse_key(json.dumps(key_file))
    assertion = delegation.sign_assertion(key, "alice@example.com", SCOPE, TOKEN_URL, now=1_700_000_000.7)
    header, claims, signature = assertion.split(".")
    assert json.loads(unb64(header)) == {"alg": "RS256", "typ": "JWT", "kid": "kid-1"}
    assert json.loads(unb64(claims)) == {
        "iss": "sync@p.iam.gserviceaccount.com",
        "sub": "alice@example.com",
        "scope": SCOPE,
        "aud": TOKEN_URL,
        "iat": 1_700_000_000,
        "exp": 1_700_003_600,
    }
    signed = f"{header}.{claims}".encode()
    private.public_key().verify(unb64(signature), signed, padding.PKCS1v15(), hashes.SHA256())  # raises if not


def test_a_stored_key_that_no_longer_loads_is_rejected_auth(key_file: dict[str, Any]) -> None:
    key = ServiceAccountKey(key_file["client_email"], "garbage", "kid-1")
    with pytest.raises(ProviderAuthRejected, match="does not load"):
        delegation.sign_assertion(key, "alice@example.com", SCOPE, TOKEN_URL)


# -- the exchange -------------------------------------------------------------------------------------------


def test_mint_token_posts_the_assertion_to_the_configured_token_url(key_file: dict[str, Any]) -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"access_token": "ya29.x", "expires_in": 1800, "token_type": "Bearer"})

    key = delegation.parse_key(json.dumps(key_file))
    with httpx.Client(transport=httpx.MockTransport(answer)) as http:
        minted = delegation.mint_token(http.request, TOKEN_URL, key, "alice@example.com", SCOPE)
    assert minted["access_token"] == "ya29.x"
    assert abs(int(minted["expires_at"]) - (time.time() + 1800)) < 60
    [request] = seen
    assert str(request.url) == TOKEN_URL
    form = dict(httpx.QueryParams(request.content.decode()))
    assert form["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"
    claims = json.loads(unb64(form["assertion"].split(".")[1]))
    assert claims["aud"] == TOKEN_URL and claims["sub"] == "alice@example.com"


def refusal(status: int, body: dict[str, str], headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        (refusal(400, {"error": "invalid_grant", "error_description": "Invalid email or User ID"}), UnknownUser),
        (refusal(400, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."}), DelegationRefused),
        (
            refusal(401, {"error": "unauthorized_client", "error_description": "Client is unauthorized"}),
            DelegationRefused,
        ),
        (refusal(503, {"error": "internal_failure"}), ProviderUnavailable),
        (refusal(400, {"error": "invalid_request", "error_description": "?"}), ProviderError),
        (httpx.Response(502, text="<html>bad gateway</html>"), ProviderUnavailable),
    ],
)
def test_jwt_grant_refusals_map_to_provider_errors(response: httpx.Response, expected: type[ProviderError]) -> None:
    error = delegation.token_error(response, "alice@example.com")
    assert type(error) is expected


def test_a_throttled_token_endpoint_says_when_to_return() -> None:
    error = delegation.token_error(refusal(429, {"error": "rate_limited"}, {"Retry-After": "7"}), "a@example.com")
    assert isinstance(error, ProviderUnavailable) and error.retry_after_seconds == 7


def test_ordinary_oauth_refusals_keep_their_meaning() -> None:
    revoked = refusal(400, {"error": "invalid_grant", "error_description": "Invalid email or User ID"})
    assert type(delegation.token_error(revoked)) is ProviderAuthRejected
    assert type(delegation.token_error(refusal(401, {"error": "unauthorized_client"}))) is ProviderError


def test_delegation_refused_carries_googles_words() -> None:
    error = delegation.token_error(
        refusal(400, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."}), "a@b.c"
    )
    assert isinstance(error, DelegationRefused)
    assert (error.error, error.description) == ("invalid_grant", "Invalid JWT Signature.")


# -- the administrator's form -------------------------------------------------------------------------------


@pytest.mark.parametrize("admin_email", ["", "admin", "@example.com", "admin@other.example"])
def test_the_admin_email_must_be_a_person_of_the_domain(key_file: dict[str, Any], admin_email: str) -> None:
    form = {"domain": "example.com", "service_account_key": json.dumps(key_file), "admin_email": admin_email}
    with pytest.raises(InvalidRequest) as refused:
        delegation.read_admin_form(form)
    assert list(refused.value.errors) == ["admin_email"]


def test_a_key_problem_is_reported_on_the_key_field() -> None:
    form = {"domain": "example.com", "service_account_key": "nope", "admin_email": "admin@example.com"}
    with pytest.raises(InvalidRequest) as refused:
        delegation.read_admin_form(form)
    assert list(refused.value.errors) == ["service_account_key"]
