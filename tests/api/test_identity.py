"""`/v1/userinfo`, `/v1/account`, `/v1/profiles` and profile revoke: exact shapes, scopes, isolation, bad tokens."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from horae.container import Container
from horae.domain.model import Calendar, Profile
from tests.fakes import FakeClock
from tests.helpers import Connected, connect

BASE = "http://127.0.0.1:8000"


def profile_and_calendar(container: Container, person: Connected) -> tuple[Profile, Calendar]:
    ctx = container.oauth.authenticate(person.tokens.access_token)
    identity = container.identity.identity(ctx)
    assert len(identity.profiles) == 1 and len(identity.calendars) == 1
    return identity.profiles[0], identity.calendars[0]


def assert_refused(response: Any) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json()["error"] == "unauthorized"


# --- shapes ------------------------------------------------------------------------------------------------


def test_userinfo_has_cronofys_exact_shape(client: TestClient, container: Container) -> None:
    ada = connect(container, "ada@example.com")
    profile, calendar = profile_and_calendar(container, ada)
    response = client.get("/v1/userinfo", headers=ada.auth)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "sub": ada.sub,
        "email": "ada@example.com",
        "name": "Ada",
        "zoneinfo": "Etc/UTC",
        "cronofy.type": "account",
        "cronofy.data": {
            "authorization": {"scope": "read_write", "status": "active"},
            "profiles": [
                {
                    "provider_name": "cronofy",
                    "provider_service": "cronofy",
                    "profile_id": profile.id,
                    "profile_name": "ada@example.com",
                    "profile_connected": True,
                    "profile_initial_sync_required": False,
                    "profile_calendars": [
                        {
                            "calendar_id": calendar.id,
                            "calendar_name": "Calendar",
                            "calendar_readonly": False,
                            "calendar_deleted": False,
                            "calendar_primary": True,
                            "calendar_integrated_conferencing_available": True,  # Jitsi, built in
                            "calendar_attachments_available": False,
                            "permission_level": "sandbox",
                        }
                    ],
                }
            ],
            "conferencing_profiles": [],
        },
    }
    assert ada.sub.startswith("acc_") and profile.id.startswith("pro_")
    assert calendar.id.startswith(f"cal_{profile.id.removeprefix('pro_')[:12]}_")


def test_userinfo_reports_the_scope_as_granted(client: TestClient, container: Container) -> None:
    reader = connect(container, "reader@example.com", scope="read_events create_event")
    body = client.get("/v1/userinfo", headers=reader.auth).json()
    assert body["cronofy.data"]["authorization"] == {"scope": "read_events create_event", "status": "active"}


def test_account_has_cronofys_exact_shape(client: TestClient, container: Container) -> None:
    ada = connect(container, "ada@example.com")
    response = client.get("/v1/account", headers=ada.auth)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "account": {
            "account_id": ada.sub,
            "email": "ada@example.com",
            "name": "Ada",
            "default_tzid": "Etc/UTC",
            "scope": "read_write",
        }
    }


@pytest.mark.parametrize("scope", ["read_account", "read_only", "free_busy", "read_account read_events"])
def test_account_is_readable_with_read_account_or_a_scope_implying_it(
    client: TestClient, container: Container, scope: str
) -> None:
    person = connect(container, "reader@example.com", scope=scope)
    response = client.get("/v1/account", headers=person.auth)
    assert response.status_code == 200, response.text
    assert response.json()["account"]["scope"] == scope


@pytest.mark.parametrize("scope", ["read_events", "create_event delete_event", "list_calendars"])
def test_account_without_read_account_is_403(client: TestClient, container: Container, scope: str) -> None:
    person = connect(container, "reader@example.com", scope=scope)
    response = client.get("/v1/account", headers=person.auth)
    assert response.status_code == 403
    assert response.json() == {"error": "forbidden", "error_description": "the read_account scope is required"}
    assert "www-authenticate" not in response.headers
    # The same token still reads what it may.
    assert client.get("/v1/userinfo", headers=person.auth).status_code == 200


def test_profiles_has_cronofys_exact_shape_without_a_relink_url_while_connected(
    client: TestClient, container: Container
) -> None:
    ada = connect(container, "ada@example.com")
    profile, _ = profile_and_calendar(container, ada)
    response = client.get("/v1/profiles", headers=ada.auth)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "profiles": [
            {
                "provider_name": "cronofy",
                "provider_service": "cronofy",
                "profile_id": profile.id,
                "profile_name": "ada@example.com",
                "profile_connected": True,
            }
        ]
    }
    assert "profile_relink_url" not in response.text
    assert "profile_relink_url" not in client.get("/v1/userinfo", headers=ada.auth).text


# --- profile revoke ---------------------------------------------------------------------------------------


def test_revoking_a_profile_is_202_then_it_shows_disconnected_with_a_relink_url(
    client: TestClient, container: Container
) -> None:
    ada = connect(container, "ada@example.com")
    profile, _ = profile_and_calendar(container, ada)
    response = client.post(f"/v1/profiles/{profile.id}/revoke", headers=ada.auth)
    assert response.status_code == 202
    assert response.content == b""
    relink = f"{BASE}/profiles/{profile.id}/relink"
    listed = client.get("/v1/profiles", headers=ada.auth).json()["profiles"]
    assert listed == [
        {
            "provider_name": "cronofy",
            "provider_service": "cronofy",
            "profile_id": profile.id,
            "profile_name": "ada@example.com",
            "profile_connected": False,
            "profile_relink_url": relink,
        }
    ]
    info = client.get("/v1/userinfo", headers=ada.auth).json()["cronofy.data"]["profiles"][0]
    assert info["profile_connected"] is False and info["profile_relink_url"] == relink
    # The authorization itself lives on; revoking again changes nothing.
    assert client.post(f"/v1/profiles/{profile.id}/revoke", headers=ada.auth).status_code == 202
    assert client.get("/v1/profiles", headers=ada.auth).json()["profiles"] == listed


def test_revoking_an_unknown_profile_is_404(client: TestClient, container: Container) -> None:
    ada = connect(container, "ada@example.com")
    response = client.post("/v1/profiles/pro_doesnotexist/revoke", headers=ada.auth)
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_a_nul_in_a_profile_id_is_not_found(client: TestClient, container: Container) -> None:
    ada = connect(container, "ada@example.com")
    response = client.post("/v1/profiles/pro_%00/revoke", headers=ada.auth)
    assert response.status_code == 404


# --- isolation -----------------------------------------------------------------------------------------------


def test_one_accounts_token_never_reads_another_accounts_data(client: TestClient, container: Container) -> None:
    ada = connect(container, "ada@example.com")
    bob = connect(container, "bob@example.com")
    bob_profile, bob_calendar = profile_and_calendar(container, bob)
    for path in ("/v1/userinfo", "/v1/account", "/v1/profiles"):
        response = client.get(path, headers=ada.auth)
        assert response.status_code == 200
        for secret in (bob.sub, "bob@example.com", bob_profile.id, bob_calendar.id):
            assert secret not in response.text, (path, secret)
    assert client.get("/v1/userinfo", headers=bob.auth).json()["sub"] == bob.sub


def test_one_account_cannot_revoke_another_accounts_profile(client: TestClient, container: Container) -> None:
    ada = connect(container, "ada@example.com")
    bob = connect(container, "bob@example.com")
    bob_profile, _ = profile_and_calendar(container, bob)
    response = client.post(f"/v1/profiles/{bob_profile.id}/revoke", headers=ada.auth)
    assert response.status_code == 404
    assert response.json() == client.post("/v1/profiles/pro_doesnotexist/revoke", headers=ada.auth).json() | {
        "error_description": f"no profile {bob_profile.id}"
    }
    assert client.get("/v1/profiles", headers=bob.auth).json()["profiles"][0]["profile_connected"] is True


# --- bad credentials ----------------------------------------------------------------------------------------

PATHS = [("GET", "/v1/userinfo"), ("GET", "/v1/account"), ("GET", "/v1/profiles"), ("POST", "/v1/profiles/x/revoke")]


@pytest.mark.parametrize(("method", "path"), PATHS)
@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer undefined", "Bearer None", "Bearer null", "Bearer ", "Bearer", "Basic YTpi", "bearer_token_only"],
)
def test_missing_or_junk_credentials_are_401(
    client: TestClient, container: Container, method: str, path: str, authorization: str | None
) -> None:
    connect(container)  # there is someone to be, so a 401 is not merely an empty database
    headers = {"Authorization": authorization} if authorization is not None else {}
    assert_refused(client.request(method, path, headers=headers))


@pytest.mark.parametrize(("method", "path"), PATHS)
def test_the_api_key_is_not_an_account_token(client: TestClient, container: Container, method: str, path: str) -> None:
    ada = connect(container)
    assert_refused(client.request(method, path, headers={"Authorization": f"Bearer {ada.app.client_secret}"}))


def test_a_refresh_token_is_not_an_access_token(client: TestClient, container: Container) -> None:
    ada = connect(container)
    assert_refused(client.get("/v1/userinfo", headers={"Authorization": f"Bearer {ada.tokens.refresh_token}"}))


def test_the_bearer_scheme_is_case_insensitive(client: TestClient, container: Container) -> None:
    ada = connect(container)
    response = client.get("/v1/userinfo", headers={"Authorization": f"bearer {ada.tokens.access_token}"})
    assert response.status_code == 200


def test_a_revoked_token_is_401(client: TestClient, container: Container) -> None:
    ada = connect(container)
    assert client.get("/v1/userinfo", headers=ada.auth).status_code == 200
    revoked = client.post(
        "/oauth/token/revoke",
        json={
            "client_id": ada.app.application.client_id,
            "client_secret": ada.app.client_secret,
            "token": ada.tokens.refresh_token,
        },
    )
    assert revoked.status_code == 200
    for path in ("/v1/userinfo", "/v1/account", "/v1/profiles"):
        assert_refused(client.get(path, headers=ada.auth))


def test_an_expired_token_is_401(client: TestClient, container: Container, clock: FakeClock) -> None:
    ada = connect(container)
    clock.advance(seconds=ada.tokens.expires_in - 1)
    assert client.get("/v1/userinfo", headers=ada.auth).status_code == 200
    clock.advance(seconds=1)
    for path in ("/v1/userinfo", "/v1/account", "/v1/profiles"):
        assert_refused(client.get(path, headers=ada.auth))
