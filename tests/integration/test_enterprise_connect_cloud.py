"""Enterprise Connect over Google Workspace (a service account with domain-wide delegation) and Microsoft 365
(an Entra application with application permissions), each against its emulator over real HTTP: the
administrator connects on Horae's page; a known person gets a code whose token reads and writes their
calendar; an unknown person gets unknown_user; a person whose events cannot be read gets sync_failing."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from fastapi.testclient import TestClient

from horae.container import Container
from horae.services.applications import NewCredentials
from horae.settings import Settings
from tests.conftest import Deployment, fast_settings
from tests.contract import rig_google
from tests.emulators.google_workspace import GoogleWorkspaceEmulator
from tests.emulators.graph_recurrence import graph_time
from tests.emulators.graph_tenant import GraphTenantEmulator
from tests.emulators.server import serve
from tests.fakes import FakeClock
from tests.helpers import REDIRECT, RecordingSender, csrf_of, make_app
from tests.integration.test_enterprise_connect import CALLBACK, ask, exchange, outcome
from tests.integration.test_real_calendar_sync import run_due

PEOPLE = ("admin@example.com", "alice@example.com", "stuck@example.com")


@dataclass
class Cloud:
    """An emulated organization, how Horae reaches it, and the administrator's answers on the page."""

    kind: str
    settings: dict[str, str]
    form: dict[str, str]
    wrong: dict[str, str]  # one answer the page must refuse, next to its field
    add: Callable[[str, str, datetime], None]  # (person, summary, start): made in the provider's own app
    summaries: Callable[[str], list[str]]
    break_events: Callable[[str], None]


def google_cloud() -> Iterator[Cloud]:
    workspace = GoogleWorkspaceEmulator()
    with serve(workspace.app) as url:
        workspace.use_base_url(url)
        people = {email: workspace.add_person(email) for email in PEOPLE}
        key = json.dumps(workspace.new_service_account_key())
        undelegated = json.dumps(workspace.new_service_account_key(delegated=False))

        def add(email: str, summary: str, start: datetime) -> None:
            when = {"start": rig_google._when(start, "UTC"), "end": rig_google._when(start + timedelta(hours=1), "UTC")}
            people[email].add_event(email, {"summary": summary, **when})

        def summaries(email: str) -> list[str]:
            return [
                str(e.get("summary")) for e in people[email].events[email].values() if e.get("status") != "cancelled"
            ]

        yield Cloud(
            "google",
            {f"google_{k}": v for k, v in rig_google.provider_options(url).items() if k in _SETTINGS},
            {"service_account_key": key, "admin_email": "admin@example.com"},
            {"service_account_key": undelegated},
            add,
            summaries,
            workspace.break_events,
        )


def microsoft_cloud() -> Iterator[Cloud]:
    tenant = GraphTenantEmulator()
    people = {email: tenant.add_person(email) for email in PEOPLE}
    client_id, secret = tenant.register_app()
    with serve(tenant.app) as url:

        def add(email: str, summary: str, start: datetime) -> None:
            mailbox = people[email]
            body = {"subject": summary, "start": graph_time(start), "end": graph_time(start + timedelta(hours=1))}
            mailbox.add_event(mailbox.default_calendar_id, body)

        def summaries(email: str) -> list[str]:
            return [str(e.get("subject")) for e in people[email].events.values()]

        options = {
            "client_id": "horae-client",
            "client_secret": "horae-secret",
            "auth_url": f"{url}/common/oauth2/v2.0/authorize",
            "token_url": f"{url}/common/oauth2/v2.0/token",
            "api_url": f"{url}/v1.0",
        }
        yield Cloud(
            "microsoft",
            {f"microsoft_{k}": v for k, v in options.items()},
            {"tenant_id": tenant.tenant_id, "client_id": client_id, "client_secret": secret,
             "admin_email": "admin@example.com"},
            {"client_secret": "not the secret"},
            add,
            summaries,
            tenant.break_events,
        )  # fmt: skip


_SETTINGS = ("client_id", "client_secret", "auth_url", "token_url", "api_url")


@pytest.fixture(params=["google", "microsoft"])
def cloud(request: pytest.FixtureRequest) -> Iterator[Cloud]:
    yield from google_cloud() if request.param == "google" else microsoft_cloud()


@pytest.fixture
def settings(tmp_path: Path, deployment: Deployment, cloud: Cloud) -> Settings:
    base = fast_settings(tmp_path, database_url=deployment.database_url, redis_url=deployment.redis_url)
    return base.model_copy(update=cloud.settings)


@pytest.fixture
def sender(container: Container) -> RecordingSender:
    recording = RecordingSender()
    container.callbacks.sender = recording
    return recording


@pytest.fixture
def app(container: Container) -> NewCredentials:
    return make_app(container, "Scheduler")


def connect_organization(client: TestClient, container: Container, app: NewCredentials, cloud: Cloud) -> str:
    """The administrator signs in and connects the organization; returns the service account's token."""
    container.accounts.sign_up("admin@example.com", "correct horse battery", "Admin")
    query = urlencode(
        {
            "response_type": "code",
            "client_id": app.application.client_id,
            "redirect_uri": REDIRECT,
            "scope": "service_account/accounts/manage",
            "delegated_scope": "read_events create_event",
            "state": "s",
        }
    )
    page = client.get(f"/enterprise_connect/oauth/authorize?{query}")
    login = {"email": "admin@example.com", "password": "correct horse battery", "query": query}
    signed = client.post("/enterprise_connect/oauth/authorize/login", data={**login, "csrf_token": csrf_of(page.text)})
    assert signed.status_code == 200 and f'value="{cloud.kind}"' in signed.text
    form = {"query": query, "kind": cloud.kind, "domain": "example.com", "decision": "allow", **cloud.form}
    form["csrf_token"] = csrf_of(signed.text)
    decision = "/enterprise_connect/oauth/authorize/decision"
    wrong = client.post(decision, data={**form, **cloud.wrong})
    [field] = cloud.wrong
    assert wrong.status_code == 422 and 'role="alert"' in wrong.text, wrong.text
    assert cloud.wrong[field] not in wrong.text  # a refused secret is never shown back
    done = client.post(decision, data=form, follow_redirects=False)
    assert done.status_code == 303, done.text
    code = parse_qs(urlsplit(done.headers["location"]).query)["code"][0]
    token = exchange(client, app, code, REDIRECT).json()
    assert token["service_account_id"].startswith("ser_")
    return str(token["access_token"])


def test_a_cloud_organization_grants_delegated_access(
    client: TestClient,
    container: Container,
    clock: FakeClock,
    app: NewCredentials,
    sender: RecordingSender,
    cloud: Cloud,
) -> None:
    start = clock.now().replace(minute=0, second=0, microsecond=0) + timedelta(days=1)
    cloud.add("alice@example.com", "Team sync", start)
    cloud.add("admin@example.com", "Board meeting", start)
    cloud.break_events("stuck@example.com")
    token = connect_organization(client, container, app, cloud)

    assert ask(client, token, email="alice@example.com", callback_url=CALLBACK, scope="read_events create_event",
               state="a").status_code == 202  # fmt: skip
    [granted] = outcome(sender, app)
    assert set(granted) == {"code", "state"}
    alice = exchange(client, app, granted["code"], CALLBACK).json()
    auth = {"Authorization": f"Bearer {alice['access_token']}"}
    read = client.get("/v1/events", params={"tzid": "Etc/UTC"}, headers=auth).json()["events"]
    assert [e["summary"] for e in read] == ["Team sync"]  # hers, not the administrator's
    [calendar] = [
        c for c in client.get("/v1/calendars", headers=auth).json()["calendars"] if not c["calendar_readonly"]
    ]
    made: dict[str, Any] = {
        "event_id": "interview",
        "summary": "Interview",
        "start": (start + timedelta(hours=3)).isoformat(),
        "end": (start + timedelta(hours=4)).isoformat(),
        "tzid": "Etc/UTC",
    }
    assert client.post(f"/v1/calendars/{calendar['calendar_id']}/events", json=made, headers=auth).status_code == 202
    run_due(container, clock, seconds=1)
    assert sorted(cloud.summaries("alice@example.com")) == ["Interview", "Team sync"]

    assert ask(client, token, email="nobody@example.com", callback_url=CALLBACK, scope="read_events").status_code == 202
    assert outcome(sender, app)[-1]["error"] == "unknown_user"

    assert ask(client, token, email="stuck@example.com", callback_url=CALLBACK, scope="read_events").status_code == 202
    run_due(container, clock, seconds=6)
    run_due(container, clock, seconds=31)
    assert outcome(sender, app)[-1]["error"] == "sync_failing"
