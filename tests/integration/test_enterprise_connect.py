"""Enterprise Connect end to end against a real Radicale whose service user can reach everyone's calendars:
an administrator authorizes a service account on Horae's page; its token asks for delegated access; each
outcome (a code, unknown_user, sync_failing, request_expired) arrives signed at the callback URL."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pycronofy  # type: ignore[import-untyped]
import pytest
from fastapi.testclient import TestClient

from horae.container import Container
from horae.domain.hmac import HEADER, header_value
from horae.ports import WebhookResponse
from horae.services.applications import NewCredentials
from tests.fakes import FakeClock
from tests.helpers import REDIRECT, PycronofyViaTestClient, RecordingSender, authorize, csrf_of, make_app
from tests.integration.test_real_calendar_sync import run_due
from tests.radicale_org import SERVICE_PASSWORD, SERVICE_USER, Organization, start_organization

CALLBACK = "https://app.example/enterprise/callback"
DOWN = WebhookResponse(503, 2, "", "down for maintenance")
SERVICE_SCOPE = "service_account/accounts/manage service_account/resources/manage"


@pytest.fixture
def org(clock: FakeClock) -> Iterator[Organization]:
    made = start_organization()
    start = clock.now().replace(minute=0, second=0, microsecond=0) + timedelta(days=1)
    made.add_person("alice", {"Team sync": start})
    made.add_person("stuck", {"Lost": start})
    made.break_storage("stuck")
    yield made
    made.stop()
    shutil.rmtree(made.root, ignore_errors=True)


@pytest.fixture
def sender(container: Container) -> RecordingSender:
    recording = RecordingSender()
    container.callbacks.sender = recording
    container.push.sender = recording
    return recording


@pytest.fixture
def app(container: Container) -> NewCredentials:
    return make_app(container, "Scheduler")


def admin_authorizes(
    client: TestClient, container: Container, app: NewCredentials, org: Organization, scope: str = SERVICE_SCOPE
) -> str:
    """The administrator signs in on the Enterprise Connect page and connects Radicale; returns the code."""
    container.accounts.sign_up("admin@example.com", "correct horse battery", "Admin")
    query = urlencode(
        {
            "response_type": "code",
            "client_id": app.application.client_id,
            "redirect_uri": REDIRECT,
            "scope": scope,
            "delegated_scope": "read_events create_event",
            "state": "admin-state",
        }
    )
    page = client.get(f"/enterprise_connect/oauth/authorize?{query}")
    assert page.status_code == 200 and "Sign in as the administrator" in page.text
    login = {"email": "admin@example.com", "password": "correct horse battery", "query": query}
    signed = client.post("/enterprise_connect/oauth/authorize/login", data={**login, "csrf_token": csrf_of(page.text)})
    assert signed.status_code == 200 and "Read the events in your calendars" in signed.text
    form = {
        "query": query,
        "kind": "caldav",
        "domain": "example.com",
        "server_url": org.url,
        "username": SERVICE_USER,
        "password": SERVICE_PASSWORD,
        "resources": "boardroom@example.com = Board room",
        "decision": "allow",
        "csrf_token": csrf_of(signed.text),
    }
    wrong = client.post("/enterprise_connect/oauth/authorize/decision", data={**form, "password": "nope"})
    assert wrong.status_code == 422 and 'role="alert"' in wrong.text
    done = client.post("/enterprise_connect/oauth/authorize/decision", data=form, follow_redirects=False)
    assert done.status_code == 303, done.text
    answer = parse_qs(urlsplit(done.headers["location"]).query)
    assert answer["state"] == ["admin-state"]
    return answer["code"][0]


def exchange(client: TestClient, app: NewCredentials, code: str, redirect_uri: str) -> Any:
    body = {
        "grant_type": "authorization_code",
        "client_id": app.application.client_id,
        "client_secret": app.client_secret,
        "code": code,
        "redirect_uri": redirect_uri,
    }
    return client.post("/oauth/token", json=body)


def service_token(
    client: TestClient, container: Container, app: NewCredentials, org: Organization, scope: str = SERVICE_SCOPE
) -> str:
    token = exchange(client, app, admin_authorizes(client, container, app, org, scope), REDIRECT).json()
    assert token["service_account_id"].startswith("ser_") and "account_id" not in token
    assert token["scope"] == scope
    return str(token["access_token"])


def ask(client: TestClient, token: str, **entry: Any) -> Any:
    return client.post("/v1/service_account_authorizations", json=entry, headers={"Authorization": f"Bearer {token}"})


def outcome(sender: RecordingSender, app: NewCredentials, url: str = CALLBACK) -> list[dict[str, Any]]:
    """The callbacks received at `url`, each checked for its signature."""
    found = []
    for sent in sender.sent:
        if sent.url == url:
            assert sent.headers[HEADER] == header_value(sent.body, [app.client_secret])
            found.append(sent.json["authorization"])
    return found


def test_an_administrator_grants_access_and_each_request_reports_its_outcome(
    client: TestClient,
    container: Container,
    clock: FakeClock,
    app: NewCredentials,
    org: Organization,
    sender: RecordingSender,
) -> None:
    token = service_token(client, container, app, org)
    service = {"Authorization": f"Bearer {token}"}
    assert client.get("/v1/userinfo", headers=service).json()["sub"].startswith("ser_")
    assert client.get("/v1/events", headers=service).status_code == 403  # a service token reads no calendar
    assert client.get("/v1/resources", headers=service).json() == {
        "resources": [{"email": "boardroom@example.com", "name": "Board room"}]
    }

    # A known person: a code at the callback, exchanged with the callback URL for a token to their events.
    assert (
        ask(
            client, token, email="alice@example.com", callback_url=CALLBACK, scope="read_events", state="a1"
        ).status_code
        == 202
    )
    [granted] = outcome(sender, app)
    assert granted["state"] == "a1" and set(granted) == {"code", "state"}
    assert exchange(client, app, granted["code"], REDIRECT).status_code == 400  # the redirect_uri must match
    alice = exchange(client, app, granted["code"], CALLBACK).json()
    assert alice["sub"].startswith("acc_") and alice["scope"] == "read_events"
    read = client.get(
        "/v1/events", params={"tzid": "Etc/UTC"}, headers={"Authorization": f"Bearer {alice['access_token']}"}
    )
    assert [e["summary"] for e in read.json()["events"]] == ["Team sync"]
    [calendar] = client.get("/v1/calendars", headers={"Authorization": f"Bearer {alice['access_token']}"}).json()[
        "calendars"
    ]
    elevate = {"permissions": [{"calendar_id": calendar["calendar_id"], "permission_level": "unrestricted"}]}
    refused = client.post("/v1/permissions", json=elevate, headers={"Authorization": f"Bearer {alice['access_token']}"})
    assert refused.status_code == 403  # the administrator granted no unrestricted_access
    assert client.post("/v1/permissions", json=elevate, headers=service).status_code == 403

    # No such person on the server.
    assert (
        ask(
            client, token, email="nobody@example.com", callback_url=CALLBACK, scope="read_events", state="n1"
        ).status_code
        == 202
    )
    assert outcome(sender, app)[-1] == {
        "error": "unknown_user",
        "error_key": "unknown_user",
        "error_description": "The calendar server has no user with this email address.",
        "state": "n1",
    }

    # Access works but the calendar cannot be read: three tries, then sync_failing, and nothing more.
    assert ask(client, token, email="stuck@example.com", callback_url=CALLBACK, scope="read_events").status_code == 202
    before = len(outcome(sender, app))
    run_due(container, clock, seconds=6)
    assert len(outcome(sender, app)) == before
    run_due(container, clock, seconds=31)
    assert outcome(sender, app)[-1]["error"] == "sync_failing"
    run_due(container, clock, minutes=30)
    assert len(outcome(sender, app)) == before + 1

    # A batch: the same person again (the same account), and a resource of the domain.
    batch = [
        {"email": "alice@example.com", "callback_url": f"{CALLBACK}?n=1", "scope": "read_events", "state": "b1"},
        {"email": "boardroom@example.com", "callback_url": f"{CALLBACK}?n=2", "scope": "create_event", "state": "b2"},
    ]
    assert ask(client, token, service_account_authorizations=batch).status_code == 202
    [again] = outcome(sender, app, f"{CALLBACK}?n=1")
    assert exchange(client, app, again["code"], f"{CALLBACK}?n=1").json()["sub"] == alice["sub"]
    [room] = outcome(sender, app, f"{CALLBACK}?n=2")
    assert room["error"] == "unknown_user"  # listed as a resource, but Radicale has no such calendar user


def test_requests_outside_what_was_granted_are_refused(
    client: TestClient, container: Container, app: NewCredentials, org: Organization, sender: RecordingSender
) -> None:
    token = service_token(client, container, app, org)
    entry = {"email": "alice@example.com", "callback_url": CALLBACK, "scope": "read_events"}
    outside = ask(client, token, **{**entry, "scope": "read_events delete_event"})
    assert (
        outside.status_code == 422 and outside.json()["errors"]["scope"][0]["key"] == "errors.outside_delegated_scope"
    )
    assert ask(client, token, **{**entry, "email": "alice@elsewhere.org"}).status_code == 422
    assert ask(client, token, service_account_authorizations=[entry] * 51).status_code == 422
    assert ask(client, token, service_account_authorizations=[]).status_code == 422
    assert ask(client, token, **entry, service_account_authorizations=[entry]).status_code == 422
    bad = ask(client, token, service_account_authorizations=[entry, {**entry, "scope": "create_calendar"}])
    assert list(bad.json()["errors"]) == ["service_account_authorizations.1.scope"]
    assert sender.sent == []  # nothing was queued for a refused request, not even its valid entries

    person = container.accounts.sign_up("someone@example.com", "correct horse battery", "Someone")
    plain = authorize(container, app, person.account.id)
    assert client.post("/v1/service_account_authorizations", json=entry, headers=plain.auth).status_code == 403


def test_a_server_down_past_the_retry_horizon_expires_the_request(
    client: TestClient,
    container: Container,
    clock: FakeClock,
    app: NewCredentials,
    org: Organization,
    sender: RecordingSender,
) -> None:
    token = service_token(client, container, app, org)
    org.stop()
    assert (
        ask(client, token, email="alice@example.com", callback_url=CALLBACK, scope="read_events", state="x").status_code
        == 202
    )
    for _ in range(30):  # about 10 days, well past the ~79 hours of retries
        run_due(container, clock, hours=8)
    assert outcome(sender, app) == [
        {
            "error": "request_expired",
            "error_key": "request_expired",
            "error_description": "The request failed after repeated attempts and will not be retried.",
            "state": "x",
        }
    ]
    with container.uow() as uow:
        assert uow.jobs.counts().get("pending", 0) == 0  # no further attempts are scheduled


def test_a_callback_receiver_that_is_down_gets_the_outcome_later_once(
    client: TestClient,
    container: Container,
    clock: FakeClock,
    app: NewCredentials,
    org: Organization,
    sender: RecordingSender,
) -> None:
    token = service_token(client, container, app, org)
    sender.answers.extend([DOWN, DOWN])
    assert ask(client, token, email="alice@example.com", callback_url=CALLBACK, scope="read_events").status_code == 202
    run_due(container, clock, seconds=6)
    run_due(container, clock, seconds=31)
    run_due(container, clock, minutes=3)
    attempts = outcome(sender, app)
    assert len(attempts) == 3 and all(a == attempts[0] for a in attempts)  # the same bytes each time
    assert "code" in attempts[0]
    run_due(container, clock, hours=2)
    assert len(outcome(sender, app)) == 3  # delivered: no more attempts


def test_two_workers_granting_the_same_new_person_make_one_account(
    monkeypatch: pytest.MonkeyPatch,
    client: TestClient,
    container: Container,
    app: NewCredentials,
    org: Organization,
    sender: RecordingSender,
) -> None:
    """While one worker reads a new person's calendars, another worker grants the same person and creates
    their account: the first must then grant that account rather than create a second one."""
    token = service_token(client, container, app, org)
    first_pull = container.sync.first_pull
    interleaved: list[str] = []

    def other_worker_meanwhile(*args: Any, **kwargs: Any) -> Any:
        result = first_pull(*args, **kwargs)
        if not interleaved:
            interleaved.extend(container.runner.run(job_id) for job_id in container.runner.due())
        return result

    monkeypatch.setattr(container.sync, "first_pull", other_worker_meanwhile)
    batch = [
        {"email": "alice@example.com", "callback_url": f"{CALLBACK}?n={n}", "scope": "read_events"} for n in (1, 2)
    ]
    assert ask(client, token, service_account_authorizations=batch).status_code == 202
    assert "done" in interleaved  # the second request was decided while the first was reading
    subs = {exchange(client, app, outcome(sender, app, f"{CALLBACK}?n={n}")[0]["code"], f"{CALLBACK}?n={n}")
            .json()["sub"] for n in (1, 2)}  # fmt: skip
    assert len(subs) == 1


def test_pycronofy_asks_for_delegated_access(
    monkeypatch: pytest.MonkeyPatch,
    client: TestClient,
    container: Container,
    app: NewCredentials,
    org: Organization,
    sender: RecordingSender,
) -> None:
    token = service_token(client, container, app, org)
    monkeypatch.setattr(pycronofy.request_handler, "requests", PycronofyViaTestClient(client))
    sdk = pycronofy.Client(client_id=app.application.client_id, client_secret=app.client_secret, access_token=token)
    sdk.request_handler.base_url = str(client.base_url).rstrip("/")
    sdk.authorize_with_service_account("alice@example.com", "read_events", CALLBACK, state="sdk")
    sdk.authorize_multiple_accounts_via_service_account(
        [{"email": "nobody@example.com", "scope": "read_events", "callback_url": f"{CALLBACK}?b"}], state="batch"
    )
    assert outcome(sender, app)[0]["state"] == "sdk" and "code" in outcome(sender, app)[0]
    [batched] = outcome(sender, app, f"{CALLBACK}?b")
    assert batched["error"] == "unknown_user" and batched["state"] == "batch"  # the batch's state, per entry
    assert sdk.resources() == [{"email": "boardroom@example.com", "name": "Board room"}]


def test_unrestricted_access_granted_by_the_administrator_is_accepted_at_once(
    monkeypatch: pytest.MonkeyPatch,
    client: TestClient,
    container: Container,
    app: NewCredentials,
    org: Organization,
    sender: RecordingSender,
) -> None:
    token = service_token(client, container, app, org, "service_account/accounts/unrestricted_access")
    assert ask(client, token, email="alice@example.com", callback_url=CALLBACK, scope="read_events").status_code == 202
    [granted] = outcome(sender, app)
    alice = exchange(client, app, granted["code"], CALLBACK).json()
    monkeypatch.setattr(pycronofy.request_handler, "requests", PycronofyViaTestClient(client))
    sdk = pycronofy.Client(
        client_id=app.application.client_id, client_secret=app.client_secret, access_token=alice["access_token"]
    )
    sdk.request_handler.base_url = str(client.base_url).rstrip("/")
    [calendar] = sdk.list_calendars()
    assert calendar["permission_level"] == "sandbox"
    wanted = [{"calendar_id": calendar["calendar_id"], "permission_level": "unrestricted"}]
    assert sdk.elevated_permissions(wanted, redirect_uri="https://app.example/back") == {"accepted": True}
    assert sdk.list_calendars()[0]["permission_level"] == "unrestricted"
