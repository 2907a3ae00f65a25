"""Errors on the wire: every HoraeError's status and body, bad bodies, unknown routes and methods."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from pydantic import BaseModel

from horae import errors as e
from horae.api import body
from horae.api import errors as api_errors
from horae.api.app import create_app
from horae.container import Container
from horae.providers.calendars import google_delegation, microsoft_client
from horae.services import scheduling_links
from tests.helpers import connect, make_app

# Every HoraeError class, how to make one, and what the client must see: status, `error` key, extra headers.
# A new exception class fails `test_every_horae_error_class_has_an_expected_answer` until it is listed here.
EXPECTED: dict[type[e.HoraeError], tuple[Callable[[], e.HoraeError], int, str, dict[str, str]]] = {
    e.InvalidRequest: (
        lambda: e.InvalidRequest.single("summary", "errors.required", "summary must be specified"),
        422,
        "",
        {},
    ),
    e.AuthenticationFailed: (
        lambda: e.AuthenticationFailed("token not recognised"),
        401,
        "unauthorized",
        {"www-authenticate": 'Bearer realm="horae"'},
    ),
    e.PermissionDenied: (lambda: e.PermissionDenied("the read_account scope is required"), 403, "forbidden", {}),
    e.NotFound: (lambda: e.NotFound("no calendar cal_x"), 404, "not_found", {}),
    e.Locked: (lambda: e.Locked("profile is not writable"), 423, "locked", {}),
    scheduling_links.LinkUnavailable: (
        lambda: scheduling_links.LinkUnavailable("This link has been used already.", "completed"),
        423,
        "locked",
        {},
    ),
    scheduling_links.SlotTaken: (
        lambda: scheduling_links.SlotTaken("That time is no longer available."),
        423,
        "locked",
        {},
    ),
    e.ProviderError: (lambda: e.ProviderError("the server answered 500"), 502, "bad_gateway", {}),
    e.ProviderAuthRejected: (lambda: e.ProviderAuthRejected("401 from the server"), 502, "bad_gateway", {}),
    e.SyncCursorExpired: (lambda: e.SyncCursorExpired("sync token gone"), 502, "bad_gateway", {}),
    e.RemoteConflict: (lambda: e.RemoteConflict("412 Precondition Failed"), 502, "bad_gateway", {}),
    e.UnknownUser: (lambda: e.UnknownUser("no calendar home for carol"), 502, "bad_gateway", {}),
    google_delegation.DelegationRefused: (
        lambda: google_delegation.DelegationRefused("Google refused", "unauthorized_client", "not granted"),
        502,
        "bad_gateway",
        {},
    ),
    microsoft_client.TokenRefused: (
        lambda: microsoft_client.TokenRefused("Microsoft refused", "invalid_client", (7000215,)),
        502,
        "bad_gateway",
        {},
    ),
    e.ProviderUnavailable: (
        lambda: e.ProviderUnavailable("429 from the server", 30),
        503,
        "service_unavailable",
        {"retry-after": "30"},
    ),
    e.RateLimited: (
        lambda: e.RateLimited(7, {"RateLimit-Limit": "50", "RateLimit-Remaining": "0", "RateLimit-Reset": "7"}),
        429,
        "too_many_requests",
        {"retry-after": "7", "ratelimit-limit": "50", "ratelimit-remaining": "0", "ratelimit-reset": "7"},
    ),
    e.OAuthError: (
        lambda: e.OAuthError("invalid_grant", "the code is unknown or used"),
        400,
        "invalid_grant",
        {"cache-control": "no-store", "pragma": "no-cache"},
    ),
    e.InvalidClient: (
        lambda: e.InvalidClient(),
        401,
        "invalid_client",
        {"cache-control": "no-store", "www-authenticate": 'Basic realm="horae"'},
    ),
    e.OAuthRedirect: (
        lambda: e.OAuthRedirect("access_denied", "the person said no", "https://client.example/cb", "xyz"),
        400,
        "access_denied",
        {"cache-control": "no-store"},
    ),
}


def all_subclasses(cls: type) -> set[type]:
    found = set()
    for sub in cls.__subclasses__():
        found |= {sub} | all_subclasses(sub)
    return found


def horae_error_classes() -> set[type]:
    """HoraeError and every subclass defined in Horae's code. Importing `create_app` (above) loads every module
    behind the API, so every class whose instances can reach an HTTP answer is known; ones in tests don't count."""
    return {e.HoraeError} | {c for c in all_subclasses(e.HoraeError) if c.__module__.startswith("horae.")}


def test_every_horae_error_class_has_an_expected_answer() -> None:
    assert horae_error_classes() - {e.HoraeError} == set(EXPECTED)


def test_every_horae_error_class_is_mapped_to_a_status() -> None:
    for cls in horae_error_classes() - {e.HoraeError}:
        assert any(issubclass(cls, mapped) for mapped, _ in api_errors.STATUS), f"{cls.__name__} has no HTTP status"


# --- each class through a real FastAPI app with Horae's handlers ---------------------------------------


@pytest.fixture
def raising() -> Iterator[TestClient]:
    """A bare app with Horae's error handlers whose routes raise whatever the test names."""
    app = FastAPI()
    api_errors.install(app)

    @app.get("/raise/{name}")
    async def raise_named(name: str) -> None:
        if name == "RuntimeError":
            raise RuntimeError("boom")
        if name == "Unmapped":
            raise Unmapped("no status for me")
        [cls] = [c for c in EXPECTED if c.__name__ == name]  # errors of horae.errors and of providers
        raise EXPECTED[cls][0]()

    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


class Unmapped(e.HoraeError):
    """Only for the 500 test; defined in tests, so the coverage check above ignores it."""


@pytest.mark.parametrize("cls", list(EXPECTED), ids=lambda c: c.__name__)
def test_each_error_class_has_its_status_body_and_headers(raising: TestClient, cls: type[e.HoraeError]) -> None:
    make, status, key, headers = EXPECTED[cls]
    assert api_errors.status_for(make()) == status
    response = raising.get(f"/raise/{cls.__name__}")
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    for name, value in headers.items():
        assert response.headers[name] == value
    if status == 422:
        assert response.json() == {
            "errors": {"summary": [{"key": "errors.required", "description": "summary must be specified"}]}
        }
    else:
        assert response.json() == {"error": key, "error_description": make().message}
    if cls not in (e.AuthenticationFailed, e.InvalidClient):
        assert "www-authenticate" not in response.headers


def test_an_unmapped_horae_error_is_a_logged_json_500(raising: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="horae.api.errors"):
        response = raising.get("/raise/Unmapped")
    assert response.status_code == 500
    assert response.json() == {"error": "internal_error", "error_description": "internal error"}
    assert any(record.exc_info and record.exc_info[0] is Unmapped for record in caplog.records)


def test_an_unexpected_exception_is_a_json_500_without_details(raising: TestClient) -> None:
    response = raising.get("/raise/RuntimeError")
    assert response.status_code == 500
    assert response.json() == {"error": "internal_error", "error_description": "internal error"}
    assert "boom" not in response.text


# --- bodies on /v1 and /oauth through the real app ---------------------------------------------------------


class Echo(BaseModel):
    summary: str
    count: int = 0


@pytest.fixture
def app_client(container: Container) -> Iterator[TestClient]:
    """The real app plus two probe routes that read a body the way every Horae endpoint does."""
    app = create_app(container)

    async def v1_echo(request: Request) -> dict[str, object]:
        return (await body.parse(request, Echo)).model_dump()

    async def typed(number: int) -> dict[str, int]:
        return {"number": number}

    app.add_api_route("/v1/_probe/echo", v1_echo, methods=["POST"])
    app.add_api_route("/v1/_probe/typed/{number}", typed, methods=["GET"])
    app.add_api_route("/oauth/_probe/typed/{number}", typed, methods=["GET"])
    with TestClient(app, base_url="http://127.0.0.1:8000") as client:
        yield client


def cronofy_422(response: Any, field: str, key: str) -> None:
    assert response.status_code == 422, response.text
    found = response.json()
    assert set(found) == {"errors"}
    details = found["errors"][field]
    assert any(d["key"] == key for d in details), found
    assert all(set(d) == {"key", "description"} and d["description"] for d in details)


BAD_BODIES = [
    pytest.param(b'{"summary": ', "application/json", "errors.invalid_json", id="malformed-json"),
    pytest.param(b'["summary"]', "application/json", "errors.invalid_json", id="json-array"),
    pytest.param(b'"summary"', "application/json", "errors.invalid_json", id="json-string"),
    pytest.param(b"null", "application/json", "errors.invalid_json", id="json-null"),
    pytest.param(b"[" * 50_000, "application/json", "errors.invalid_json", id="json-nested-too-deep"),
    pytest.param(b'{"summary": "\xff"}', "application/json", "errors.invalid_json", id="json-not-utf8"),
    pytest.param(b"summary=hello", "text/plain", "errors.invalid_json", id="form-sent-as-text"),
    pytest.param(
        b"--x\r\nContent-Disposition: form-data",
        "multipart/form-data; boundary=x",
        "errors.invalid_json",
        id="multipart",
    ),
    pytest.param(b"summary=%FF", "application/x-www-form-urlencoded", "errors.invalid_encoding", id="form-bad-escape"),
    pytest.param(b"summary=\xff", "application/x-www-form-urlencoded", "errors.invalid_encoding", id="form-not-utf8"),
    pytest.param(b" " + b"x" * body.MAX_BODY, "application/json", "errors.too_large", id="huge"),
]


@pytest.mark.parametrize(("raw", "content_type", "key"), BAD_BODIES)
def test_bad_bodies_on_v1_are_cronofy_422s(app_client: TestClient, raw: bytes, content_type: str, key: str) -> None:
    response = app_client.post("/v1/_probe/echo", content=raw, headers={"Content-Type": content_type})
    cronofy_422(response, "request", key)


def test_a_huge_chunked_body_without_a_length_is_refused_too(app_client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(body.MAX_BODY // 65_536 + 2):
            yield b"x" * 65_536

    response = app_client.post("/v1/_probe/echo", content=chunks(), headers={"Content-Type": "application/json"})
    cronofy_422(response, "request", "errors.too_large")


def test_field_problems_name_each_field(app_client: TestClient) -> None:
    response = app_client.post("/v1/_probe/echo", json={"count": "many"})
    assert response.status_code == 422
    assert set(response.json()["errors"]) == {"summary", "count"}
    cronofy_422(response, "summary", "errors.required")
    cronofy_422(response, "count", "errors.int_parsing")


def test_a_nul_character_in_a_field_is_a_422(app_client: TestClient) -> None:
    cronofy_422(app_client.post("/v1/_probe/echo", json={"summary": "a\x00b"}), "summary", "errors.invalid_characters")


@pytest.mark.parametrize(
    "send",
    [
        pytest.param({"json": {"summary": "hi", "count": 2, "unknown": {"deep": ["x"]}, "extra\x00": 1}}, id="json"),
        pytest.param({"data": {"summary": "hi", "count": "2", "unknown": "x"}}, id="form"),
    ],
)
def test_unknown_fields_are_tolerated(app_client: TestClient, send: dict[str, object]) -> None:
    response = app_client.post("/v1/_probe/echo", **send)  # type: ignore[arg-type]
    assert response.status_code == 200, response.text
    assert response.json() == {"summary": "hi", "count": 2}


def test_bad_path_parameters_are_cronofy_422s_on_v1(app_client: TestClient) -> None:
    cronofy_422(app_client.get("/v1/_probe/typed/abc"), "number", "errors.int_parsing")


def test_bad_path_parameters_are_invalid_request_on_oauth(app_client: TestClient) -> None:
    response = app_client.get("/oauth/_probe/typed/abc")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_a_get_with_an_empty_json_body_is_fine(app_client: TestClient, container: Container) -> None:
    # pycronofy sends `{}` with GET and DELETE requests.
    person = connect(container)
    response = app_client.request(
        "GET", "/v1/userinfo", content=b"{}", headers={**person.auth, "Content-Type": "application/json"}
    )
    assert response.status_code == 200


@pytest.mark.parametrize(("raw", "content_type"), [(row.values[0], row.values[1]) for row in BAD_BODIES])
@pytest.mark.parametrize("path", ["/oauth/token", "/oauth/token/revoke"])
def test_bad_bodies_on_oauth_are_400_invalid_request(
    app_client: TestClient, path: str, raw: bytes, content_type: str
) -> None:
    response = app_client.post(path, content=raw, headers={"Content-Type": content_type})
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_request"
    assert response.headers["cache-control"] == "no-store"


def test_oauth_endpoints_tolerate_unknown_fields(app_client: TestClient, container: Container) -> None:
    person = connect(container)
    client = {"client_id": person.app.application.client_id, "client_secret": person.app.client_secret}
    extras = {"request_pii_erasure": True, "nonsense": {"a": [1, 2]}}
    refreshed = app_client.post(
        "/oauth/token",
        json={"grant_type": "refresh_token", "refresh_token": person.tokens.refresh_token, **client, **extras},
    )
    assert refreshed.status_code == 200, refreshed.text
    revoked = app_client.post("/oauth/token/revoke", json={"token": person.tokens.refresh_token, **client, **extras})
    assert revoked.status_code == 200, revoked.text
    assert app_client.get("/v1/userinfo", headers=person.auth).status_code == 401


def test_a_nul_in_an_oauth_field_is_invalid_request_not_a_crash(app_client: TestClient, container: Container) -> None:
    app = make_app(container)
    for payload in (
        {"client_id": "\x00", "client_secret": "x", "token": "t"},
        {"client_id": app.application.client_id, "client_secret": app.client_secret, "sub": "acc_\x00"},
    ):
        response = app_client.post("/oauth/token/revoke", json=payload)
        assert response.status_code == 400, response.text
        assert response.json()["error"] == "invalid_request"


# --- routing errors ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/v1/nope", "/v1/calendars/cal_x/nope", "/oauth/nope", "/nope"])
def test_unknown_routes_are_json_404s(client: TestClient, path: str) -> None:
    for method in ("GET", "POST", "DELETE"):
        response = client.request(method, path)
        assert response.status_code == 404, (method, path)
        assert response.headers["content-type"] == "application/json"
        assert response.json()["error"] == "not_found"


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("DELETE", "/v1/userinfo", "GET"),
        ("POST", "/v1/account", "GET"),
        ("PUT", "/v1/profiles", "GET"),
        ("GET", "/v1/profiles/pro_x/revoke", "POST"),
        ("GET", "/oauth/token", "POST"),
        ("PATCH", "/oauth/token/revoke", "POST"),
        ("POST", "/healthz", "GET"),
    ],
)
def test_a_wrong_method_is_a_json_405(client: TestClient, method: str, path: str, allowed: str) -> None:
    response = client.request(method, path, headers={"Authorization": "Bearer whatever"})
    assert response.status_code == 405
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"error": "method_not_allowed", "error_description": "Method Not Allowed"}
    assert allowed in response.headers["allow"]
