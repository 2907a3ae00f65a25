"""A unit's applications in the dashboard: secrets shown once and never to Support, rotation that keeps the old
secret working (and signing) until revoked, redirect URIs checked as at creation, connected accounts and the
delivery log, and the unit that holds applications made before units existed."""

from __future__ import annotations

import re

import pytest
from fastapi import FastAPI

from horae.api.app import create_app
from horae.container import Container
from horae.db import tables
from horae.domain import ids
from horae.domain.hmac import header_value, verify
from horae.domain.organizations import PRE_UNITS_ID, PRE_UNITS_NAME
from horae.domain.push import Channel, Delivery, DeliveryAttempt
from horae.errors import InvalidClient
from horae.services.applications import NewCredentials
from horae.services.organizations import OPERATOR
from tests.fakes import FakeClock
from tests.helpers import REDIRECT, authorize
from tests.units_world import PASSWORD, World, browser, build_world

APPS = "/dashboard/applications"


@pytest.fixture
def web(container: Container) -> FastAPI:
    return create_app(container)


@pytest.fixture
def world(container: Container) -> World:
    return build_world(container)


def authenticates(container: Container, client_id: str, secret: str) -> bool:
    try:
        with container.uow() as uow:
            container.applications.authenticate_client(uow, client_id, secret)
    except InvalidClient:
        return False
    return True


def shown_secret(html: str) -> str:
    found = re.search(r'id="client-secret" class="secret" value="([^"]+)"', html)
    assert found, "no secret on the page"
    return found.group(1)


def sealed_values(container: Container) -> list[str]:
    with container.uow.engine.connect() as conn:  # type: ignore[attr-defined]
        return [row.sealed_secret for row in conn.execute(tables.client_secrets.select())]


def test_a_developer_creates_an_application_and_sees_its_secret_once(
    container: Container, web: FastAPI, world: World
) -> None:
    dev = browser(web, world.people["developer"].email)
    form = dev.get(f"/dashboard/units/{world.unit_id}/applications/new")
    assert "<label>Name" in form and "Redirect URIs, one per line" in form
    made = dev.post(
        f"/dashboard/units/{world.unit_id}/applications", name=" Reports ", redirect_uris=f"\n{REDIRECT}\n\n"
    )
    assert made.status_code == 200
    secret = shown_secret(made.text)
    app = next(a for a in container.organizations.view(OPERATOR, world.unit_id).applications if a.name == "Reports")
    assert (app.redirect_uris, app.created_by) == ([REDIRECT], world.people["developer"].id)
    assert authenticates(container, app.client_id, secret)
    again = dev.get(f"{APPS}/{app.id}")
    assert app.client_id in again and secret not in again and 'id="client-secret"' not in again


def test_bad_input_creates_nothing(container: Container, web: FastAPI, world: World) -> None:
    dev = browser(web, world.people["developer"].email)
    path = f"/dashboard/units/{world.unit_id}/applications"
    bad_uri = dev.post(path, name="Reports", redirect_uris="ftp://files.example/cb")
    assert bad_uri.status_code == 422 and "is not an absolute http(s) URL" in bad_uri.text
    assert "ftp://files.example/cb" in bad_uri.text  # the form keeps what was typed
    no_name = dev.post(path, name=" ", redirect_uris=REDIRECT)
    assert no_name.status_code == 422 and "name must be specified" in no_name.text
    assert dev.post(path, name="x" * 256, redirect_uris=REDIRECT).status_code == 422
    assert [a.name for a in container.organizations.view(OPERATOR, world.unit_id).applications] == ["Billing"]


def test_redirect_uris_are_checked_as_at_creation(container: Container, web: FastAPI, world: World) -> None:
    dev = browser(web, world.people["developer"].email)
    path = f"{APPS}/{world.app_id}/redirect_uris"
    bad = dev.post(path, redirect_uris=f"{REDIRECT}\nhttps://evil.example/cb#fragment")
    assert bad.status_code == 422 and 'role="alert"' in bad.text
    assert container.applications.by_id(world.app_id).redirect_uris == [REDIRECT]
    saved = dev.post(path, redirect_uris=f"https://b.example/cb\n\n{REDIRECT}\nhttps://b.example/cb\n")
    assert saved.status_code == 303
    assert container.applications.by_id(world.app_id).redirect_uris == ["https://b.example/cb", REDIRECT]


def test_rotation_keeps_the_old_secret_working_and_signing_until_it_is_revoked(
    container: Container, web: FastAPI, world: World, clock: FakeClock
) -> None:
    owner = browser(web, world.people["owner"].email)
    rotated = owner.post(f"{APPS}/{world.app_id}/secrets")
    assert rotated.status_code == 200
    newest = shown_secret(rotated.text)
    everything = [*world.secrets, newest]
    clock.advance(days=400)  # no grace period runs out: they stay until revoked
    assert all(authenticates(container, world.client_id, s) for s in everything)
    body = b'{"notification":{"type":"change"}}'
    signature = header_value(body, container.applications.active_secrets(world.app_id))
    assert all(verify(signature, body, s) for s in everything)  # callbacks carry one signature per secret

    owner = browser(web, world.people["owner"].email)  # the first session has long expired
    secret_ids = [s.id for s in container.applications.secrets(world.app_id)]
    for old in secret_ids[:2]:
        revoked = owner.post(f"{APPS}/{world.app_id}/secrets/{old}/revoke")
        assert (revoked.status_code, revoked.headers["location"]) == (303, f"{APPS}/{world.app_id}?done=revoked")
    assert not authenticates(container, world.client_id, world.secrets[0])
    assert not authenticates(container, world.client_id, world.secrets[1])
    assert authenticates(container, world.client_id, newest)
    assert container.applications.active_secrets(world.app_id) == [newest]
    page = owner.get(f"{APPS}/{world.app_id}")
    assert page.count(">revoked<") == 2 and newest not in page

    last = owner.post(f"{APPS}/{world.app_id}/secrets/{secret_ids[2]}/revoke")
    assert last.status_code == 422 and "only active secret" in last.text
    assert authenticates(container, world.client_id, newest)
    other = owner.post(f"{APPS}/{world.app_id}/secrets/sec_0123456789abcdef01234567/revoke")
    assert other.status_code == 404


def test_rotation_through_the_token_endpoint(container: Container, web: FastAPI, world: World) -> None:
    """The OAuth token endpoint accepts either secret while both are active."""
    person = container.accounts.sign_up("kim@example.com", PASSWORD, "Kim")
    app = container.applications.by_id(world.app_id)
    request = container.oauth.check_authorize(
        {"client_id": app.client_id, "redirect_uri": REDIRECT, "response_type": "code", "scope": "read_events"}
    )
    client = browser(web, world.people["owner"].email).client
    for secret in world.secrets:
        code = container.oauth.issue_code(request, person.account.id)
        answer = client.post(
            "/oauth/token",
            json={"client_id": app.client_id, "client_secret": secret, "grant_type": "authorization_code",
                  "code": code, "redirect_uri": REDIRECT},
        )  # fmt: skip
        assert answer.status_code == 200, answer.text


def test_support_sees_applications_accounts_and_deliveries_but_never_a_secret(
    container: Container, web: FastAPI, world: World, clock: FakeClock
) -> None:
    kim = container.accounts.sign_up("kim@example.com", PASSWORD, "Kim")
    authorize(container, _credentials(container, world), kim.account.id)
    _one_delivery(container, world, kim.account.id, clock)
    support = browser(web, world.people["support"].email)
    pages = [
        support.get("/dashboard/units"),
        support.get(f"/dashboard/units/{world.unit_id}"),
        support.get(f"{APPS}/{world.app_id}"),
    ]
    app_page = pages[2]
    assert world.client_id in app_page and REDIRECT in app_page
    assert all(secret_id in app_page for secret_id in world.secret_ids)  # ids and dates, not values
    assert kim.account.id in app_page and "kim@example.com" in app_page
    assert "verification" in app_page and "pending" in app_page
    assert "503" in app_page and "receiver was down" in app_page
    for forbidden in ('id="rotate-form"', 'id="redirect-uris-form"', "/revoke", 'id="new-application"'):
        assert forbidden not in app_page + pages[1]
    secrets = [*world.secrets, *sealed_values(container)]
    for html in pages:
        assert not any(secret in html for secret in secrets)
    # Nor after a rotation by someone else, nor by asking for it directly.
    browser(web, world.people["owner"].email).post(f"{APPS}/{world.app_id}/secrets")
    again = support.get(f"{APPS}/{world.app_id}")
    assert not any(secret in again for secret in [*container.applications.active_secrets(world.app_id)])
    assert support.post(f"{APPS}/{world.app_id}/secrets").status_code == 403


def test_applications_made_without_a_unit_go_to_the_pre_units_unit(container: Container, web: FastAPI) -> None:
    made = container.applications.create("Legacy", [REDIRECT])
    assert made.application.unit_id == PRE_UNITS_ID
    units = {u.id: u.name for u in container.organizations.all_units()}
    assert units == {PRE_UNITS_ID: PRE_UNITS_NAME}
    assert container.organizations.members(OPERATOR, PRE_UNITS_ID) == []
    container.applications.create("Legacy 2", [REDIRECT])  # the unit is made once
    assert len(container.organizations.all_units()) == 1
    # The operator gives it an Owner, who then manages those applications on the dashboard.
    ada = container.accounts.sign_up("ada@example.com", PASSWORD, "Ada").person
    container.organizations.set_role(OPERATOR, PRE_UNITS_ID, ada.id, "owner")
    html = browser(web, ada.email).get(f"{APPS}/{made.application.id}")
    assert "Legacy" in html and 'id="rotate-form"' in html


def _credentials(container: Container, world: World) -> NewCredentials:
    return NewCredentials(container.applications.by_id(world.app_id), world.secrets[1])


def _one_delivery(container: Container, world: World, account_id: str, clock: FakeClock) -> None:
    """A push channel of the application with one delivery that failed once."""
    now = clock.now()
    channel = Channel(ids.new_id("chn"), account_id, world.app_id, "https://hooks.example/push", {}, now)
    delivery = Delivery(ids.new_id("dlv"), channel.id, world.app_id, "verification", {"x": 1}, "pending", now)
    attempt = DeliveryAttempt(ids.new_id("att"), delivery.id, now, 120, 503, "receiver was down", "")
    with container.uow() as uow:
        uow.channels.add(channel)
        uow.flush()
        uow.deliveries.add(delivery)
        uow.flush()
        uow.deliveries.add_attempt(attempt)
        uow.commit()
