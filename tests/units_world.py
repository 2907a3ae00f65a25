"""A populated organizational unit for dashboard tests, and signed-in browsers of its members and of an outsider."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient

from horae.container import Container
from horae.domain.model import Person
from horae.services.organizations import OPERATOR, Actor
from tests.helpers import REDIRECT, csrf_of

PASSWORD = "correct horse battery"
BASE = "http://127.0.0.1:8000"
# Who plays which part; `olga` is a second Owner so that the first may leave, `tom` the member acted upon.
PEOPLE = {
    "owner": "ada@example.com",
    "owner2": "olga@example.com",
    "developer": "dev@example.com",
    "support": "sue@example.com",
    "target": "tom@example.com",
    "outsider": "out@example.com",
}
ROLES_IN_UNIT = {
    "owner": "owner",
    "owner2": "owner",
    "developer": "developer",
    "support": "support",
    "target": "developer",
}


@dataclass
class World:
    """One unit ("Platform") with an application ("Billing") that has two active secrets, and a pending
    invitation; `secrets` holds the plain secret values, oldest first."""

    unit_id: str
    app_id: str
    client_id: str
    secret_ids: list[str]
    secrets: list[str]
    invitation_id: str
    people: dict[str, Person]


def build_world(container: Container) -> World:
    people = {
        part: container.accounts.sign_up(email, PASSWORD, part.capitalize()).person for part, email in PEOPLE.items()
    }
    owner = Actor.person(people["owner"].id)
    unit = container.organizations.create_unit("Platform", people["owner"].id)
    for part, role in ROLES_IN_UNIT.items():
        if part != "owner":
            container.organizations.set_role(OPERATOR, unit.id, people[part].id, role)
    created = container.unit_applications.create(owner, unit.id, "Billing", [REDIRECT])
    container.clock.advance(seconds=1)  # type: ignore[attr-defined]  # secrets are listed by creation time
    rotated = container.unit_applications.rotate_secret(owner, created.application.id)
    container.clock.advance(seconds=1)  # type: ignore[attr-defined]
    secret_ids = [s.id for s in container.applications.secrets(created.application.id)]
    invited = container.organizations.invite(owner, unit.id, "new@example.com", "developer", BASE)
    return World(
        unit.id, created.application.id, created.application.client_id, secret_ids,
        [created.client_secret, rotated.client_secret], invited.invitation.id, people,
    )  # fmt: skip


@dataclass
class Browser:
    """A browser signed in as one person, with its session's CSRF token."""

    client: TestClient
    csrf: str

    def get(self, path: str) -> str:
        page = self.client.get(path)
        assert page.status_code == 200, (path, page.status_code, page.text)
        return page.text

    def post(self, path: str, **data: str) -> httpx.Response:
        return self.client.post(path, data={**data, "csrf_token": self.csrf}, follow_redirects=False)


def browser(app: FastAPI, email: str) -> Browser:
    """Signs in through the dashboard's login form."""
    client = TestClient(app, base_url=BASE)
    page = client.get("/login?next=/dashboard/units")
    form = {"email": email, "password": PASSWORD, "next": "/dashboard/units", "csrf_token": csrf_of(page.text)}
    landed = client.post("/login", data=form)
    assert landed.status_code == 200 and landed.url.path == "/dashboard/units", landed.text
    return Browser(client, csrf_of(landed.text))
