"""Organizational units in the dashboard: every role against every page and form (direct POSTs with a valid
CSRF token included), 404 for people outside a unit, invitations (single use, expiry, the right email), the
last-Owner rule, and CSRF."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from horae.api.app import create_app
from horae.container import Container
from horae.db import tables
from horae.domain import ids
from horae.services.organizations import OPERATOR, Actor
from horae.web import unit_applications, units
from tests.fakes import FakeClock
from tests.helpers import REDIRECT, csrf_of
from tests.units_world import BASE, PASSWORD, World, browser, build_world

UNITS = "/dashboard/units"
APPS = "/dashboard/applications"


@pytest.fixture
def web(container: Container) -> FastAPI:
    return create_app(container)


@pytest.fixture
def world(container: Container) -> World:
    return build_world(container)


def snapshot(container: Container, world: World) -> object:
    """Everything a dashboard form can change, to show that a refused one changed nothing."""
    view = container.organizations.view(OPERATOR, world.unit_id)
    return (
        view.unit.name,
        sorted((m.email, m.role) for m in view.members),
        [i.id for i in view.invitations],
        [(a.id, a.name, a.redirect_uris) for a in view.applications],
        [(s.id, s.active) for s in container.applications.secrets(world.app_id)],
    )


@dataclass(frozen=True)
class Route:
    name: str
    method: str
    path: Callable[[World], str]
    roles: frozenset[str]  # the roles that may; stated here, not looked up in the table under test
    success: int
    data: Callable[[World], dict[str, str]] = field(default=lambda w: {})


ALL = frozenset({"owner", "developer", "support"})
WORKERS = frozenset({"owner", "developer"})
OWNERS = frozenset({"owner"})
ROUTES = [
    Route("unit page", "GET", lambda w: f"{UNITS}/{w.unit_id}", ALL, 200),
    Route("new application page", "GET", lambda w: f"{UNITS}/{w.unit_id}/applications/new", WORKERS, 200),
    Route("application page", "GET", lambda w: f"{APPS}/{w.app_id}", ALL, 200),
    Route("rename", "POST", lambda w: f"{UNITS}/{w.unit_id}/name", OWNERS, 303, lambda w: {"name": "Core"}),
    Route(
        "invite",
        "POST",
        lambda w: f"{UNITS}/{w.unit_id}/invitations",
        OWNERS,
        200,
        lambda w: {"email": "someone@example.com", "role": "support"},
    ),
    Route(
        "cancel invitation",
        "POST",
        lambda w: f"{UNITS}/{w.unit_id}/invitations/{w.invitation_id}/cancel",
        OWNERS,
        303,
    ),
    Route(
        "change role",
        "POST",
        lambda w: f"{UNITS}/{w.unit_id}/members/{w.people['target'].id}/role",
        OWNERS,
        303,
        lambda w: {"role": "support"},
    ),
    Route(
        "remove member",
        "POST",
        lambda w: f"{UNITS}/{w.unit_id}/members/{w.people['target'].id}/remove",
        OWNERS,
        303,
    ),
    Route("leave", "POST", lambda w: f"{UNITS}/{w.unit_id}/leave", ALL, 303),
    Route(
        "create application",
        "POST",
        lambda w: f"{UNITS}/{w.unit_id}/applications",
        WORKERS,
        200,
        lambda w: {"name": "Reports", "redirect_uris": "https://reports.example/cb"},
    ),
    Route(
        "edit redirect URIs",
        "POST",
        lambda w: f"{APPS}/{w.app_id}/redirect_uris",
        WORKERS,
        303,
        lambda w: {"redirect_uris": f"{REDIRECT}\nhttps://other.example/cb"},
    ),
    Route("rotate secret", "POST", lambda w: f"{APPS}/{w.app_id}/secrets", WORKERS, 200),
    Route(
        "revoke secret",
        "POST",
        lambda w: f"{APPS}/{w.app_id}/secrets/{w.secret_ids[0]}/revoke",
        WORKERS,
        303,
    ),
]


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.name)
@pytest.mark.parametrize("who", ["owner", "developer", "support", "outsider"])
def test_every_role_on_every_dashboard_route(
    container: Container, web: FastAPI, world: World, who: str, route: Route
) -> None:
    person = world.people[who]
    visitor = browser(web, person.email)
    before = snapshot(container, world)
    if route.method == "GET":
        answer = visitor.client.get(route.path(world), follow_redirects=False)
    else:
        answer = visitor.post(route.path(world), **route.data(world))
    expected = 404 if who == "outsider" else (route.success if who in route.roles else 403)
    assert answer.status_code == expected, answer.text
    if expected != route.success:
        assert snapshot(container, world) == before, "a refused request changed something"
    elif route.method == "POST":
        assert snapshot(container, world) != before, "an allowed form did nothing"
    if who == "outsider":
        assert "Platform" not in answer.text and "Billing" not in answer.text  # nothing about the unit leaks


def test_the_table_names_every_route_of_a_unit_or_an_application(world: World) -> None:
    """A route added later without a row above would go untested for roles: this fails until it has one."""
    values = {
        "unit_id": world.unit_id,
        "application_id": world.app_id,
        "invitation_id": world.invitation_id,
        "person_id": world.people["target"].id,
        "secret_id": world.secret_ids[0],
    }
    in_table = {(r.method, r.path(world)) for r in ROUTES}
    routes = [r for r in [*units.router.routes, *unit_applications.router.routes] if isinstance(r, APIRoute)]
    served = {
        (method, route.path.format(**values))
        for route in routes
        if "{unit_id}" in route.path or "{application_id}" in route.path
        for method in route.methods - {"HEAD"}
    }
    assert served and served == in_table


def test_an_outsider_cannot_tell_a_unit_from_one_that_does_not_exist(web: FastAPI, world: World) -> None:
    outsider = browser(web, world.people["outsider"].email)
    real = outsider.client.get(f"{UNITS}/{world.unit_id}")
    made_up = outsider.client.get(f"{UNITS}/uni_0123456789abcdef01234567")
    assert real.status_code == made_up.status_code == 404
    assert real.text.replace(world.unit_id, "X") == made_up.text.replace("uni_0123456789abcdef01234567", "X")
    real_app = outsider.client.get(f"{APPS}/{world.app_id}")
    made_up_app = outsider.client.get(f"{APPS}/app_0123456789abcdef01234567")
    assert real_app.status_code == made_up_app.status_code == 404


def test_the_list_shows_only_ones_own_units_with_the_role(web: FastAPI, world: World) -> None:
    support = browser(web, world.people["support"].email)
    assert "Platform" in support.get(UNITS) and "Support" in support.get(UNITS)
    outsider = browser(web, world.people["outsider"].email)
    html = outsider.get(UNITS)
    assert "Platform" not in html and 'id="no-units"' in html


def test_creating_a_unit_makes_its_creator_the_owner(container: Container, web: FastAPI) -> None:
    container.accounts.sign_up("ada@example.com", PASSWORD, "Ada")
    ada = browser(web, "ada@example.com")
    blank = ada.post(UNITS, name="  ")
    assert blank.status_code == 422 and 'role="alert"' in blank.text
    made = ada.post(UNITS, name="Platform")
    assert made.status_code == 303
    html = ada.get(made.headers["location"])
    assert "<h1>Platform</h1>" in html and 'id="my-role">Owner' in html and 'id="invite-form"' in html


def test_pages_need_a_signed_in_person_and_forms_need_the_csrf_token(
    container: Container, web: FastAPI, world: World
) -> None:
    anonymous = TestClient(web, base_url=BASE)
    page = anonymous.get(f"{UNITS}/{world.unit_id}", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/login?next=")
    owner = browser(web, world.people["owner"].email)
    before = snapshot(container, world)
    for path, data in [
        (f"{UNITS}/{world.unit_id}/name", {"name": "Stolen"}),
        (f"{APPS}/{world.app_id}/secrets", {}),
        (f"{UNITS}/{world.unit_id}/members/{world.people['owner2'].id}/remove", {}),
    ]:
        assert owner.client.post(path, data=data).status_code == 403
        assert owner.client.post(path, data={**data, "csrf_token": "forged"}).status_code == 403
        assert anonymous.post(path, data={**data, "csrf_token": owner.csrf}).status_code == 403
    assert snapshot(container, world) == before


def test_the_last_owner_cannot_leave_be_removed_or_be_demoted(container: Container, web: FastAPI) -> None:
    ada = container.accounts.sign_up("ada@example.com", PASSWORD, "Ada").person
    bob = container.accounts.sign_up("bob@example.com", PASSWORD, "Bob").person
    unit = container.organizations.create_unit("Solo", ada.id)
    container.organizations.set_role(OPERATOR, unit.id, bob.id, "developer")
    owner = browser(web, ada.email)
    for path, data in [
        (f"{UNITS}/{unit.id}/leave", {}),
        (f"{UNITS}/{unit.id}/members/{ada.id}/remove", {}),
        (f"{UNITS}/{unit.id}/members/{ada.id}/role", {"role": "developer"}),
    ]:
        refused = owner.post(path, **data)
        assert refused.status_code == 422 and "at least one Owner" in refused.text
    # Once Bob is an Owner too, Ada may step down, and then Bob is the one who must stay.
    assert owner.post(f"{UNITS}/{unit.id}/members/{bob.id}/role", role="owner").status_code == 303
    assert owner.post(f"{UNITS}/{unit.id}/members/{ada.id}/role", role="support").status_code == 303
    assert [(m.email, m.role) for m in container.organizations.members(OPERATOR, unit.id)] == [
        ("ada@example.com", "support"),
        ("bob@example.com", "owner"),
    ]
    bob_browser = browser(web, bob.email)
    assert bob_browser.post(f"{UNITS}/{unit.id}/leave").status_code == 422
    assert owner.post(f"{UNITS}/{unit.id}/leave").status_code == 303
    assert owner.client.get(f"{UNITS}/{unit.id}").status_code == 404


def test_an_unknown_role_is_refused(web: FastAPI, world: World) -> None:
    owner = browser(web, world.people["owner"].email)
    target = world.people["target"].id
    assert owner.post(f"{UNITS}/{world.unit_id}/members/{target}/role", role="admin").status_code == 422
    bad = owner.post(f"{UNITS}/{world.unit_id}/invitations", email="not-an-address", role="boss")
    assert bad.status_code == 422 and "valid email" in bad.text and "must be one of" in bad.text


# --- invitations ---------------------------------------------------------------------------------------------


@pytest.fixture
def invited(container: Container, web: FastAPI, world: World) -> Iterator[tuple[str, Container]]:
    """An Owner invites carol@example.com as Support from the page; yields the link shown there."""
    owner = browser(web, world.people["owner"].email)
    sent = owner.post(f"{UNITS}/{world.unit_id}/invitations", email="Carol@Example.com", role="support")
    assert sent.status_code == 200 and 'id="invitation-link"' in sent.text  # no SMTP server: the link is shown
    link = sent.text.split('id="invitation-link" value="', 1)[1].split('"', 1)[0]
    assert link.startswith(f"{BASE}/invitations/")
    yield link.removeprefix(BASE), container


def test_an_invitation_is_accepted_once_by_the_invited_email(
    invited: tuple[str, Container], web: FastAPI, world: World
) -> None:
    path, container = invited
    carol = TestClient(web, base_url=BASE)
    # Not signed in: the link leads to sign-in (or sign-up) and back.
    guarded = carol.get(path, follow_redirects=False)
    assert guarded.status_code == 303 and guarded.headers["location"].startswith("/login?next=")
    login = carol.get(guarded.headers["location"])
    form = {"email": "carol@example.com", "password": PASSWORD, "name": "Carol", "next": path,
            "csrf_token": csrf_of(login.text)}  # fmt: skip
    page = carol.post("/signup", data=form)
    assert page.status_code == 200 and page.url.path == path and "Join <strong>Platform</strong>" in page.text
    joined = carol.post(path, data={"csrf_token": csrf_of(page.text)}, follow_redirects=False)
    assert joined.status_code == 303 and joined.headers["location"].startswith(f"{UNITS}/{world.unit_id}")
    members = {m.email: m.role for m in container.organizations.members(OPERATOR, world.unit_id)}
    assert members["carol@example.com"] == "support"
    # Single use: the same link does nothing more, for anyone.
    assert carol.get(path).status_code == 404
    assert carol.post(path, data={"csrf_token": csrf_of(page.text)}).status_code == 404


def test_an_invitation_for_another_email_is_refused(invited: tuple[str, Container], web: FastAPI, world: World) -> None:
    path, container = invited
    dave = browser(web, world.people["outsider"].email)
    page = dave.get(path)
    assert "carol@example.com" in page and 'id="accept-form"' not in page
    refused = dave.post(path)
    assert refused.status_code == 403 and "carol@example.com" in refused.text
    assert "out@example.com" not in {m.email for m in container.organizations.members(OPERATOR, world.unit_id)}
    # The right person can still use it.
    container.accounts.sign_up("carol@example.com", PASSWORD, "Carol")
    assert browser(web, "carol@example.com").post(path).status_code == 303


def test_an_invitation_expires_after_seven_days(
    invited: tuple[str, Container], web: FastAPI, world: World, clock: FakeClock
) -> None:
    path, container = invited
    container.accounts.sign_up("carol@example.com", PASSWORD, "Carol")
    carol = browser(web, "carol@example.com")
    clock.advance(days=7, seconds=-1)
    assert carol.client.get(path).status_code == 200
    clock.advance(seconds=1)
    assert carol.client.get(path).status_code == 404
    assert carol.post(path).status_code == 404
    assert "carol@example.com" not in {m.email for m in container.organizations.members(OPERATOR, world.unit_id)}


def test_a_cancelled_invitation_no_longer_works(invited: tuple[str, Container], web: FastAPI, world: World) -> None:
    path, container = invited
    owner = browser(web, world.people["owner"].email)
    pending = container.organizations.view(Actor.person(world.people["owner"].id), world.unit_id).invitations
    carols = [i for i in pending if i.email == "carol@example.com"]
    assert owner.post(f"{UNITS}/{world.unit_id}/invitations/{carols[0].id}/cancel").status_code == 303
    container.accounts.sign_up("carol@example.com", PASSWORD, "Carol")
    assert browser(web, "carol@example.com").post(path).status_code == 404


def test_members_and_unknown_tokens(container: Container, web: FastAPI, world: World) -> None:
    owner = browser(web, world.people["owner"].email)
    again = owner.post(f"{UNITS}/{world.unit_id}/invitations", email=world.people["developer"].email, role="owner")
    assert again.status_code == 422 and "already a member" in again.text
    assert owner.client.get("/invitations/not-a-real-token").status_code == 404
    assert owner.post("/invitations/not-a-real-token").status_code == 404


def test_pending_invitations_are_shown_to_owners_only(web: FastAPI, world: World) -> None:
    assert "new@example.com" in browser(web, world.people["owner"].email).get(f"{UNITS}/{world.unit_id}")
    for who in ("developer", "support"):
        html = browser(web, world.people[who].email).get(f"{UNITS}/{world.unit_id}")
        assert "new@example.com" not in html and 'id="invite-form"' not in html


def test_the_invitation_is_valid_for_exactly_seven_days(container: Container, world: World, clock: FakeClock) -> None:
    sent = container.organizations.invite(OPERATOR, world.unit_id, "x@example.com", "owner", BASE)
    assert sent.invitation.expires_at - clock.now() == timedelta(days=7)
    assert not sent.mailed and sent.invitation.invited_by is None


def test_invitation_tokens_are_stored_only_as_digests(container: Container, world: World) -> None:
    sent = container.organizations.invite(OPERATOR, world.unit_id, "x@example.com", "support", BASE)
    token = sent.link.rsplit("/", 1)[1]
    assert sent.invitation.token_digest == ids.digest(token)
    with container.uow.engine.connect() as conn:  # type: ignore[attr-defined]
        stored = "\n".join(repr(row) for table in tables.metadata.sorted_tables for row in conn.execute(table.select()))
    assert token not in stored and ids.digest(token) in stored
