"""The application API key (`Bearer {client_secret}`), as later endpoints (availability, ...) use it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from horae.api.auth import ApplicationKey
from horae.api.errors import install
from horae.api.middleware import RequestContext
from horae.container import Container
from tests.fakes import FakeClock
from tests.helpers import connect, make_app


@pytest.fixture
def keyed(container: Container) -> Iterator[TestClient]:
    """A minimal app with one route guarded by the API-key dependency, over the real container."""
    app = FastAPI()
    app.state.container = container
    install(app)
    app.add_middleware(RequestContext)

    @app.get("/whoami")
    def whoami(application: ApplicationKey) -> dict[str, str]:
        return {"client_id": application.client_id}

    with TestClient(app) as client:
        yield client


def test_client_secret_authenticates_as_its_application(keyed: TestClient, container: Container) -> None:
    app = make_app(container)
    response = keyed.get("/whoami", headers={"Authorization": f"Bearer {app.client_secret}"})
    assert response.status_code == 200
    assert response.json() == {"client_id": app.application.client_id}
    assert response.headers["ratelimit-limit"]


@pytest.mark.parametrize("header", ["", "Bearer undefined", "Bearer None", "Bearer CRN_not-a-secret", "Basic abc"])
def test_missing_or_wrong_keys_are_401(keyed: TestClient, container: Container, header: str) -> None:
    make_app(container)
    response = keyed.get("/whoami", headers={"Authorization": header} if header else {})
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_an_account_access_token_is_not_an_api_key(keyed: TestClient, container: Container) -> None:
    connected = connect(container)
    assert keyed.get("/whoami", headers=connected.auth).status_code == 401


def test_rotated_secret_works_until_its_grace_ends(keyed: TestClient, container: Container, clock: FakeClock) -> None:
    app = make_app(container)
    rotated = container.applications.rotate_secret(app.application.client_id, timedelta(hours=1))
    for secret in (app.client_secret, rotated.client_secret):
        assert keyed.get("/whoami", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    clock.advance(hours=1, seconds=1)
    assert keyed.get("/whoami", headers={"Authorization": f"Bearer {app.client_secret}"}).status_code == 401
    assert keyed.get("/whoami", headers={"Authorization": f"Bearer {rotated.client_secret}"}).status_code == 200
