"""The relink page: after a profile revoke, its owner signs in and reconnects it."""

from __future__ import annotations

from fastapi.testclient import TestClient

from horae.container import Container
from tests.helpers import connect, csrf_of


def _profile(client: TestClient, auth: dict[str, str]) -> dict[str, object]:
    profiles = client.get("/v1/profiles", headers=auth).json()["profiles"]
    assert len(profiles) == 1
    return dict(profiles[0])


def test_owner_relinks_a_revoked_profile(client: TestClient, container: Container) -> None:
    ada = connect(container)
    profile_id = str(_profile(client, ada.auth)["profile_id"])
    assert client.post(f"/v1/profiles/{profile_id}/revoke", headers=ada.auth).status_code == 202
    revoked = _profile(client, ada.auth)
    assert revoked["profile_connected"] is False
    relink_url = str(revoked["profile_relink_url"])
    assert relink_url == f"http://127.0.0.1:8000/profiles/{profile_id}/relink"

    page = client.get(relink_url)
    assert page.status_code == 200 and "Sign in to reconnect" in page.text
    wrong = client.post(
        f"/profiles/{profile_id}/relink/login",
        data={"email": "ada@example.com", "password": "nope-nope-nope", "csrf_token": csrf_of(page.text)},
    )
    assert wrong.status_code == 401
    signed = client.post(
        f"/profiles/{profile_id}/relink/login",
        data={"email": "ada@example.com", "password": "correct horse battery", "csrf_token": csrf_of(wrong.text)},
    )
    assert signed.status_code == 200 and "Signed in as ada@example.com" in signed.text
    done = client.post(f"/profiles/{profile_id}/relink", data={"csrf_token": csrf_of(signed.text)})
    assert done.status_code == 200 and "connected again" in done.text

    relinked = _profile(client, ada.auth)
    assert relinked["profile_connected"] is True
    assert "profile_relink_url" not in relinked


def test_someone_else_cannot_relink_my_profile(client: TestClient, container: Container) -> None:
    ada = connect(container)
    profile_id = str(_profile(client, ada.auth)["profile_id"])
    client.post(f"/v1/profiles/{profile_id}/revoke", headers=ada.auth)
    container.accounts.sign_up("mallory@example.com", "mallory's password", "Mallory")
    page = client.get(f"/profiles/{profile_id}/relink")
    signed = client.post(
        f"/profiles/{profile_id}/relink/login",
        data={"email": "mallory@example.com", "password": "mallory's password", "csrf_token": csrf_of(page.text)},
    )
    assert signed.status_code == 404  # signed in, and told at once that the profile is not theirs
    token = csrf_of(client.get("/connect").text)  # a fresh token of the signed-in session
    refused = client.post(f"/profiles/{profile_id}/relink", data={"csrf_token": token})
    assert refused.status_code == 404
    assert _profile(client, ada.auth)["profile_connected"] is False


def test_relink_without_csrf_token_is_refused(client: TestClient, container: Container) -> None:
    ada = connect(container)
    profile_id = str(_profile(client, ada.auth)["profile_id"])
    client.post(f"/v1/profiles/{profile_id}/revoke", headers=ada.auth)
    assert client.post(f"/profiles/{profile_id}/relink", data={}).status_code == 403
    assert _profile(client, ada.auth)["profile_connected"] is False
