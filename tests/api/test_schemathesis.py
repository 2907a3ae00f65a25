"""Property-based conformance: every operation in /openapi.json, driven in-process by schemathesis.

Every operation is run through schemathesis' phases (schema examples, coverage, fuzzing; positive and
negative data) on every backend. Each response must be documented (status, content type, body schema,
headers), never a 5xx, and refused without valid credentials where the schema says they are needed
(schemathesis' default checks, `ignored_auth` included). Calls go either with a real access token, so the
authenticated paths are explored, or with none (schemathesis then makes credentials up, which must be
refused). Positive cases are sometimes steered onto real client credentials, codes, tokens and profile
ids, so the success paths of the OAuth and revoke endpoints are fuzzed too; hand-made requests then
confirm those paths answer as documented.

The schema is loaded once at import from an app over a stand-in container (the document does not depend
on it), and each case is sent to an app over the test's real container. The lazy
`schemathesis.pytest.from_fixture` would be the natural fit, but it fails under pytest 9.2 (it reads
`request.node._nodeid`).
"""

from __future__ import annotations

import gc
import re
from collections.abc import Iterator
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, cast

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import positive_data_acceptance

from horae import bootstrap
from horae.api.app import create_app
from horae.container import Container
from tests.conftest import BACKENDS, drop_postgres_database, fast_settings, fresh_postgres_database
from tests.fakes import FakeClock
from tests.helpers import REDIRECT, Connected, connect

OPERATIONS = [
    "POST /oauth/token",
    "POST /oauth/token/revoke",
    "GET /v1/userinfo",
    "GET /v1/account",
    "GET /v1/profiles",
    "POST /v1/profiles/{profile_id}/revoke",
    "GET /healthz",
]
EXAMPLES = 30
# Operations whose parameters obey rules no JSON schema states (an end after its start, `from` before
# `to`, a calendar name not yet taken, calendars and profiles of the caller's): a well-formed request may
# still get its documented 422, so the "valid data is accepted" check cannot apply; every other one does.
RULES_BEYOND_SCHEMA = {
    "POST /v1/application_calendars",  # ids may not hold NUL or lone surrogates, which JSON Schema cannot say
    "POST /v1/calendars",
    "POST /v1/calendars/{calendar_id}/events",
    "DELETE /v1/events",
    "POST /v1/batch",
    "GET /v1/events",
    "GET /v1/free_busy",
    "POST /v1/channels",
    "POST /v1/availability_rules",
    "POST /v1/available_periods",
    "GET /v1/available_periods",
    "POST /v1/availability",
    "POST /v1/sequenced_availability",
    "POST /v1/service_account_authorizations",  # emails in the domain, scopes within the delegated scope
    "POST /v1/conferencing_service_authorizations",  # an http(s) redirect_uri, a configured provider_name
    "POST /v1/permissions",  # calendars of the caller's account, a level Horae knows
    "DELETE /v1/calendars/{calendar_id}/events",  # ids may not hold NUL, which the generator sometimes sends
}
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


def _document() -> dict[str, Any]:
    stand_in = SimpleNamespace(settings=SimpleNamespace(public_base_url="", embedded_worker=False), session_secret="-")
    return create_app(cast(Container, stand_in)).openapi()


schema = schemathesis.openapi.from_dict(_document())


@dataclass(frozen=True)
class World:
    """Two people on two applications, so real credentials can be mixed into generated requests.

    Ada's access token authenticates the calls; the OAuth endpoints get Bob's credentials, so a revoke
    the fuzzer makes never takes Ada's token away mid-run."""

    container: Container
    app: FastAPI
    ada: Connected
    bob: Connected
    ada_profile: str
    bob_profile: str

    def client(self) -> dict[str, str]:
        return {"client_id": self.bob.app.application.client_id, "client_secret": self.bob.app.client_secret}

    def fresh_code(self) -> str:
        oauth = self.container.oauth
        client_id = self.bob.app.application.client_id
        query = {"client_id": client_id, "redirect_uri": REDIRECT, "response_type": "code", "scope": "read_write"}
        return oauth.issue_code(oauth.check_authorize(query), self.bob.sub)


def make_world(container: Container) -> World:
    ada = connect(container, "ada@example.com")
    bob = connect(container, "bob@example.com")

    def profile_of(person: Connected) -> str:
        ctx = container.oauth.authenticate(person.tokens.access_token)
        return container.identity.identity(ctx).profiles[0].id

    return World(container, create_app(container), ada, bob, profile_of(ada), profile_of(bob))


@pytest.fixture(scope="module", params=BACKENDS)
def fuzzed(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """One world per backend for all the fuzzing, in a database of its own (no other test empties it), so
    each operation costs its requests and not a fresh database; the hand-made checks below start clean."""
    data_dir = tmp_path_factory.mktemp("fuzz")
    if request.param == "postgres":
        database_url, redis_url = fresh_postgres_database("fuzz"), request.getfixturevalue("redis_url")
    else:
        database_url, redis_url = f"sqlite:///{data_dir / 'fuzz.db'}", ""
    settings = fast_settings(data_dir, database_url=database_url, redis_url=redis_url)
    bootstrap.migrate(settings)
    container = bootstrap.build(settings, FakeClock())
    # Collect what earlier tests left behind first: a finalizer that warns (an unclosed psycopg connection,
    # under `filterwarnings = error`) runs pytest's unraisable hook, whose traceback formatting calls
    # ast.parse; if that lands inside Hypothesis' own ast.parse (describing a strategy), CPython 3.11's
    # shared AST state raises "SystemError: AST constructor recursion depth mismatch".
    gc.collect()
    yield make_world(container)
    asgi.shutdown_lifespans()  # schemathesis keeps each app it called running until told otherwise
    container.uow.engine.dispose()  # type: ignore[attr-defined]
    if request.param == "postgres":
        drop_postgres_database(database_url)


@pytest.fixture
def world(container: Container) -> Iterator[World]:
    """A fresh world on the test's own container."""
    yield make_world(container)
    asgi.shutdown_lifespans()


@pytest.fixture(params=["token", "anonymous"])
def credentials(request: pytest.FixtureRequest, fuzzed: World) -> dict[str, str]:
    """What the generated calls carry: Ada's access token, or nothing (schemathesis may make some up)."""
    return fuzzed.ada.auth if request.param == "token" else {}


def steer(case: Any, data: st.DataObject, world: World) -> None:
    """Sometimes swap generated values for real ones; positive cases only, so negative ones stay invalid."""
    if case.meta is None or case.meta.generation.mode != GenerationMode.POSITIVE:
        return
    path = case.operation.path
    if path.startswith("/oauth/") and isinstance(case.body, dict):
        if data.draw(st.booleans(), label="real client"):
            case.body.update(world.client())
        if path == "/oauth/token" and data.draw(st.booleans(), label="real grant"):
            if case.body.get("grant_type") == "refresh_token":
                case.body["refresh_token"] = world.bob.tokens.refresh_token
            else:
                case.body.update(code=world.fresh_code(), redirect_uri=REDIRECT)
        if path == "/oauth/token/revoke":
            field = data.draw(st.sampled_from(["", "token", "refresh_token", "sub"]), label="real credential")
            real = {"token": world.bob.tokens.refresh_token, "refresh_token": world.bob.tokens.access_token}
            if field:
                case.body[field] = real.get(field, world.bob.sub)
    if path == "/v1/availability" and isinstance(case.body, dict) and data.draw(st.booleans(), label="real subs"):
        for group in case.body.get("participants") or []:
            for member in group.get("members") or [] if isinstance(group, dict) else []:
                if isinstance(member, dict):
                    member["sub"] = world.ada.sub
    if case.path_parameters and "profile_id" in case.path_parameters:
        choice = data.draw(st.sampled_from(["generated", "own", "other"]), label="profile")
        if choice != "generated":
            case.path_parameters["profile_id"] = world.ada_profile if choice == "own" else world.bob_profile


# Bodies nested several levels deep (sequence steps, each with its own event and participants): generating
# one takes Hypothesis a second or two, so these get fewer examples per run; each CI run draws new ones.
NESTED = "^/v1/(real_time_sequencing|sequenced_availability)$"
NESTED_EXAMPLES = 10
# Creating a sequencing link takes the API key only, so here (no credentials, or an account token) every
# body is refused before it is read: test_real_time_scheduling_fuzz.py fuzzes it with the key instead.
KEY_ONLY_NESTED = "/v1/real_time_sequencing"


@schema.exclude(method="POST", path_regex=NESTED).parametrize()
@schema.given(data=st.data())
@settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_every_operation_conforms(case: Any, data: st.DataObject, fuzzed: World, credentials: dict[str, str]) -> None:
    conforms(case, data, fuzzed, credentials)


@schema.include(method="POST", path_regex=NESTED).exclude(path=KEY_ONLY_NESTED).parametrize()
@schema.given(data=st.data())
@settings(max_examples=NESTED_EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_every_nested_operation_conforms(
    case: Any, data: st.DataObject, fuzzed: World, credentials: dict[str, str]
) -> None:
    conforms(case, data, fuzzed, credentials)


def conforms(case: Any, data: st.DataObject, fuzzed: World, credentials: dict[str, str]) -> None:
    """Never a 5xx, every answer as documented, and nothing served without the credentials it asks for."""
    steer(case, data, fuzzed)
    label = f"{case.operation.method.upper()} {case.operation.path}"
    beyond = label in RULES_BEYOND_SCHEMA or unstorable(case)
    excluded = [positive_data_acceptance] if beyond else []
    response = case.call_and_validate(app=fuzzed.app, headers=credentials, excluded_checks=excluded)
    if not credentials and case.operation.definition.raw.get("security"):
        # Refused; a 404 only when a generated id changed the path so that no route matches.
        assert response.status_code in (401, 404), response.text


UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def unstorable(case: Any) -> bool:
    """Whether the case carries text Horae refuses whatever the schema says (NUL, a lone surrogate:
    docs/compat.md "Unstorable text"), so that a 422 for it is right even for schema-valid data."""
    pending: list[Any] = [case.body, case.query, case.path_parameters]
    while pending:
        value = pending.pop()
        if isinstance(value, str) and UNSTORABLE.search(value):
            return True
        if isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list | tuple):
            pending.extend(value)
    return False


# --- the schema itself ---------------------------------------------------------------------------------------


@pytest.fixture
def served(container: Container) -> dict[str, Any]:
    with TestClient(create_app(container)) as client:
        response = client.get("/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def test_the_fuzzed_schema_is_the_one_served(served: dict[str, Any]) -> None:
    assert served == schema.raw_schema


def test_the_schema_has_the_identity_and_oauth_operations(served: dict[str, Any]) -> None:
    # Every operation in the schema is fuzzed above; these are the ones with hand-made checks below.
    labels = {f"{method.upper()} {path}" for path, item in served["paths"].items() for method in item}
    assert set(OPERATIONS) <= labels


def test_the_schema_documents_credentials(served: dict[str, Any]) -> None:
    flows = served["components"]["securitySchemes"]["accessToken"]["flows"]["authorizationCode"]
    assert flows["tokenUrl"] == "/oauth/token" and "read_account" in flows["scopes"]
    assert served["paths"]["/v1/account"]["get"]["security"] == [{"accessToken": ["read_account"]}]
    for label in OPERATIONS:
        method, path = label.split(" ", 1)
        security = served["paths"][path][method.lower()].get("security")
        assert bool(security) == path.startswith("/v1/"), label


def test_every_reference_resolves(served: dict[str, Any]) -> None:
    def refs(node: Any) -> Iterator[str]:
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                yield node["$ref"]
            for value in node.values():
                yield from refs(value)
        elif isinstance(node, list):
            for value in node:
                yield from refs(value)

    found = set(refs(served))
    assert found, "the document uses no references at all"
    for ref in found:
        assert ref.startswith("#/components/schemas/"), ref
        assert ref.removeprefix("#/components/schemas/") in served["components"]["schemas"], ref
    assert "$defs" not in str(served) and "x-horae" not in str(served)


def test_empty_answers_are_documented_without_a_body(served: dict[str, Any]) -> None:
    for path, method, status in [
        ("/oauth/token/revoke", "post", "200"),
        ("/v1/profiles/{profile_id}/revoke", "post", "202"),
    ]:
        documented = served["paths"][path][method]["responses"][status]
        assert "content" not in documented and not any(k.startswith("x-") for k in documented)


def test_rate_limit_headers_are_documented_where_credentials_count(served: dict[str, Any]) -> None:
    limits = {"RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"}
    responses = served["paths"]["/v1/userinfo"]["get"]["responses"]
    assert set(responses["429"]["headers"]) == limits | {"Retry-After"}
    assert set(responses["200"]["headers"]) == limits
    assert set(served["paths"]["/v1/profiles/{profile_id}/revoke"]["post"]["responses"]["202"]["headers"]) == limits
    assert "headers" not in served["paths"]["/healthz"]["get"]["responses"]["200"]
    assert "headers" not in served["paths"]["/oauth/token"]["post"]["responses"]["200"]


# --- hand-made requests on the success and isolation paths ------------------------------------------------------


def known_cases(label: str, world: World) -> list[tuple[Any, int]]:
    """Requests each operation must answer with the given status, and in the documented shape."""
    method, path = label.split(" ", 1)
    operation = schema[path][method]
    if label == "POST /oauth/token":
        refresh = {"grant_type": "refresh_token", "refresh_token": world.bob.tokens.refresh_token, **world.client()}
        code = {"grant_type": "authorization_code", "code": world.fresh_code(), "redirect_uri": REDIRECT}
        return [
            (operation.Case(body=refresh, media_type=JSON), 200),
            (operation.Case(body={**code, **world.client()}, media_type=FORM), 200),
            (operation.Case(body={**refresh, "client_secret": "CRN_wrong"}, media_type=JSON), 401),
            (operation.Case(body={**refresh, "refresh_token": "unknown"}, media_type=JSON), 400),
        ]
    if label == "POST /oauth/token/revoke":
        stranger = {"sub": world.bob.sub, "client_id": "no", "client_secret": "no"}
        return [
            (operation.Case(body={"token": "unknown", **world.client()}, media_type=JSON), 200),
            (operation.Case(body={"token": world.bob.tokens.refresh_token, **world.client()}, media_type=FORM), 200),
            (operation.Case(body=stranger, media_type=JSON), 401),
        ]
    if label == "POST /v1/profiles/{profile_id}/revoke":
        return [
            (operation.Case(path_parameters={"profile_id": world.bob_profile}), 404),
            (operation.Case(path_parameters={"profile_id": world.ada_profile}), 202),
        ]
    return [(operation.Case(), 200)]


@pytest.mark.parametrize("label", OPERATIONS)
def test_known_requests_answer_as_documented(world: World, label: str) -> None:
    for case, status in known_cases(label, world):
        response = case.call_and_validate(app=world.app, headers=world.ada.auth)
        assert response.status_code == status, (case.body, response.text)
