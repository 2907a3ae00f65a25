"""The Cronofy Node SDK (`cronofy` 3.8.4 from npm, unchanged) against a live `horae serve`: a code
obtained through the authorize pages in Chromium, then tests/e2e/node/flow.mjs makes the SDK's token,
identity and revocation calls and reports what it got."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.e2e.conftest import Application, AuthorizePages, CallbackRecorder, Person
from tests.e2e.node_sdk import run_script
from tests.e2e.processes import HoraeProcess

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("browser")]

SCOPE = "read_account list_calendars read_events create_event delete_event"


def run_flow(config: dict[str, str]) -> dict[str, Any]:
    summary: dict[str, Any] = run_script("flow.mjs", config)
    return summary


def test_node_sdk_token_identity_and_revoke_calls(
    horae_server: HoraeProcess, application: Application, callback: CallbackRecorder, authorize_pages: AuthorizePages
) -> None:
    person = Person.new("katherine")
    state = f"state-{uuid.uuid4().hex}"
    query = {
        "response_type": "code",
        "client_id": application.client_id,
        "redirect_uri": callback.redirect_uri,
        "scope": SCOPE,
        "state": state,
    }
    page = authorize_pages.open(f"{horae_server.url}/oauth/authorize?{urlencode(query)}")
    authorize_pages.sign_up(page, person)
    returned = authorize_pages.decide(page, "allow", state)
    assert returned["state"] == state

    summary = run_flow(
        {
            "api_url": horae_server.url,
            "client_id": application.client_id,
            "client_secret": application.client_secret,
            "code": returned["code"],
            "redirect_uri": callback.redirect_uri,
        }
    )

    token = summary["token"]
    assert token["token_type"] == "bearer"
    assert token["access_token"] and token["refresh_token"]
    assert isinstance(token["expires_in"], int) and token["expires_in"] > 0
    assert set(token["scope"].split()) >= set(SCOPE.split())
    sub = token["sub"]
    assert sub.startswith("acc_") and token["account_id"] == sub
    assert summary["stored_after_exchange"] == {
        "access_token": token["access_token"],
        "refresh_token": token["refresh_token"],
    }

    assert summary["userinfo"]["sub"] == sub
    assert summary["userinfo"]["email"] == person.email
    assert summary["userinfo"]["cronofy.type"] == "account"
    account = summary["account"]["account"]
    assert account["account_id"] == sub
    assert account["email"] == person.email
    assert account["name"] == person.name

    profiles = summary["profiles"]["profiles"]
    assert profiles and all(p["profile_id"].startswith("pro_") for p in profiles)
    assert all(p["profile_connected"] is True for p in profiles)
    assert {p["profile_id"] for p in profiles} == {
        p["profile_id"] for p in summary["userinfo"]["cronofy.data"]["profiles"]
    }

    refreshed = summary["refreshed"]
    assert refreshed["access_token"] and refreshed["access_token"] != token["access_token"]
    assert refreshed["refresh_token"] == token["refresh_token"]
    assert summary["stored_after_refresh"]["access_token"] == refreshed["access_token"]
    assert summary["userinfo_after_refresh"]["sub"] == sub

    # revokeAuthorization sends the refresh token as `refresh_token`; the whole grant ends.
    assert summary["revoked"] is True
    assert summary["stored_after_revoke"] == {"access_token": None, "refresh_token": None}
    after = summary["after_revoke"]
    assert after["refreshed_access_token"]["failed"] is True
    assert after["refreshed_access_token"]["status"] == 401
    assert after["first_access_token"]["failed"] is True
    assert after["first_access_token"]["status"] == 401
    assert after["refresh"]["failed"] is True
    assert after["refresh"]["status"] == 400
    assert after["refresh"]["body"]["error"] == "invalid_grant"
