"""The token endpoint: code exchange, refresh and revoke as Cronofy clients call them."""

from __future__ import annotations

from fastapi.testclient import TestClient

from horae.container import Container
from tests.fakes import FakeClock
from tests.helpers import REDIRECT, connect, make_app, sign_up_and_consent


def _exchange(client: TestClient, app, code: str, redirect: str = REDIRECT, **extra: str):  # type: ignore[no-untyped-def]
    body = {
        "grant_type": "authorization_code",
        "client_id": app.application.client_id,
        "client_secret": app.client_secret,
        "code": code,
        "redirect_uri": redirect,
        **extra,
    }
    return client.post("/oauth/token", json=body, headers={"Authorization": "Bearer undefined"})


def test_code_exchange_returns_cronofy_token_response(client: TestClient, container: Container) -> None:
    app = make_app(container)
    redirect = sign_up_and_consent(client, app, "ada@example.com")
    assert redirect["state"] == "xyz"
    response = _exchange(client, app, redirect["code"])
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["pragma"] == "no-cache"
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600
    assert body["scope"] == "read_events create_event"
    assert body["sub"] == body["account_id"] and body["sub"].startswith("acc_")
    assert body["linking_profile"]["provider_name"] == "cronofy"
    assert body["linking_profile"]["profile_id"].startswith("pro_")
    assert body["linking_profile"]["profile_name"] == "ada@example.com"
    assert body["access_token"] != body["refresh_token"]
    me = client.get("/v1/userinfo", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200 and me.json()["sub"] == body["sub"]


def test_form_encoded_token_request_works_too(client: TestClient, container: Container) -> None:
    app = make_app(container)
    code = sign_up_and_consent(client, app, "ada@example.com")["code"]
    form = {
        "grant_type": "authorization_code",
        "client_id": app.application.client_id,
        "client_secret": app.client_secret,
        "code": code,
        "redirect_uri": REDIRECT,
    }
    response = client.post("/oauth/token", data=form)
    assert response.status_code == 200, response.text


def test_reused_code_is_invalid_grant_and_withdraws_its_tokens(client: TestClient, container: Container) -> None:
    app = make_app(container)
    code = sign_up_and_consent(client, app, "ada@example.com")["code"]
    first = _exchange(client, app, code)
    assert first.status_code == 200
    again = _exchange(client, app, code)
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"
    stolen = client.get("/v1/account", headers={"Authorization": f"Bearer {first.json()['access_token']}"})
    assert stolen.status_code == 401


def test_mismatched_redirect_uri_is_invalid_grant(client: TestClient, container: Container) -> None:
    app = make_app(container)
    code = sign_up_and_consent(client, app, "ada@example.com")["code"]
    response = _exchange(client, app, code, redirect="https://client.example/other")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_expired_code_is_invalid_grant(client: TestClient, container: Container, clock: FakeClock) -> None:
    app = make_app(container)
    code = sign_up_and_consent(client, app, "ada@example.com")["code"]
    clock.advance(minutes=11)
    assert _exchange(client, app, code).json()["error"] == "invalid_grant"


def test_wrong_client_secret_is_401(client: TestClient, container: Container) -> None:
    app = make_app(container)
    code = sign_up_and_consent(client, app, "ada@example.com")["code"]
    response = client.post(
        "/oauth/token",
        json={
            "grant_type": "authorization_code",
            "client_id": app.application.client_id,
            "client_secret": "CRN_wrong",
            "code": code,
            "redirect_uri": REDIRECT,
        },
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_code_from_another_application_is_invalid_grant(client: TestClient, container: Container) -> None:
    app = make_app(container)
    other = make_app(container, "Other")
    code = sign_up_and_consent(client, app, "ada@example.com")["code"]
    assert _exchange(client, other, code).json()["error"] == "invalid_grant"


def test_unknown_and_missing_grant_types_are_400(client: TestClient) -> None:
    assert client.post("/oauth/token", json={"grant_type": "password"}).json()["error"] == "unsupported_grant_type"
    assert client.post("/oauth/token", json={}).json()["error"] == "invalid_request"
    broken = client.post("/oauth/token", content=b"{not json", headers={"content-type": "application/json"})
    assert broken.status_code == 400 and broken.json()["error"] == "invalid_request"


def test_access_tokens_expire_and_refresh_keeps_the_refresh_token(
    client: TestClient, container: Container, clock: FakeClock
) -> None:
    connected = connect(container)
    clock.advance(seconds=3601)
    assert client.get("/v1/userinfo", headers=connected.auth).status_code == 401
    response = client.post(
        "/oauth/token",
        json={
            "grant_type": "refresh_token",
            "client_id": connected.app.application.client_id,
            "client_secret": connected.app.client_secret,
            "refresh_token": connected.tokens.refresh_token,
        },
        headers={"Authorization": "Bearer undefined"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["refresh_token"] == connected.tokens.refresh_token
    assert body["access_token"] != connected.tokens.access_token
    assert body["sub"] == connected.sub
    assert client.get("/v1/userinfo", headers={"Authorization": f"Bearer {body['access_token']}"}).status_code == 200


def test_refresh_with_unknown_token_is_invalid_grant(client: TestClient, container: Container) -> None:
    connected = connect(container)
    body = {
        "grant_type": "refresh_token",
        "client_id": connected.app.application.client_id,
        "client_secret": connected.app.client_secret,
        "refresh_token": "nope",
    }
    response = client.post("/oauth/token", json=body)
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


def _revoke(client: TestClient, connected, **token: str):  # type: ignore[no-untyped-def]
    body = {"client_id": connected.app.application.client_id, "client_secret": connected.app.client_secret, **token}
    return client.post("/oauth/token/revoke", json=body, headers={"Authorization": "Bearer undefined"})


def test_revoke_by_refresh_token_ends_access_and_refresh(client: TestClient, container: Container) -> None:
    connected = connect(container)
    assert _revoke(client, connected, token=connected.tokens.refresh_token).status_code == 200
    assert client.get("/v1/userinfo", headers=connected.auth).status_code == 401
    again = {
        "grant_type": "refresh_token",
        "client_id": connected.app.application.client_id,
        "client_secret": connected.app.client_secret,
        "refresh_token": connected.tokens.refresh_token,
    }
    assert client.post("/oauth/token", json=again).json()["error"] == "invalid_grant"


def test_revoke_accepts_refresh_token_alias_and_sub(client: TestClient, container: Container) -> None:
    connected = connect(container)
    assert _revoke(client, connected, refresh_token=connected.tokens.refresh_token).status_code == 200
    assert client.get("/v1/userinfo", headers=connected.auth).status_code == 401

    other = connect(container, email="bob@example.com")
    assert _revoke(client, other, sub=other.sub).status_code == 200
    assert client.get("/v1/userinfo", headers=other.auth).status_code == 401


def test_revoke_of_unknown_token_succeeds_silently(client: TestClient, container: Container) -> None:
    connected = connect(container)
    assert _revoke(client, connected, token="never-issued").status_code == 200
    assert client.get("/v1/userinfo", headers=connected.auth).status_code == 200
    assert _revoke(client, connected).status_code == 400


def test_another_application_cannot_revoke_my_token(client: TestClient, container: Container) -> None:
    mine = connect(container)
    thief = make_app(container, "Thief")
    body = {
        "client_id": thief.application.client_id,
        "client_secret": thief.client_secret,
        "token": mine.tokens.access_token,
    }
    assert client.post("/oauth/token/revoke", json=body).status_code == 200
    assert client.get("/v1/userinfo", headers=mine.auth).status_code == 200
