"""pycronofy 2.1.1, unchanged, through the whole OAuth flow against a live `horae serve`: the authorize
pages in Chromium (sign up, log in, consent or deny), then code exchange, userinfo, account, profiles,
refresh, profile revocation and authorization revocation."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pycronofy  # type: ignore[import-untyped]
import pytest
from pycronofy.exceptions import PyCronofyRequestError  # type: ignore[import-untyped]

from tests.e2e.conftest import Application, AuthorizePages, CallbackRecorder, Person
from tests.e2e.processes import HoraeProcess

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("browser")]

SCOPE = "read_account list_calendars read_events create_event delete_event"
REVOKE_WAIT_SECONDS = 15.0


def sdk_client(server: HoraeProcess, app: Application, **tokens: str) -> Any:
    """A pycronofy client as shipped, with only its two base URLs pointed at Horae."""
    client = pycronofy.Client(client_id=app.client_id, client_secret=app.client_secret, **tokens)
    client.request_handler.base_url = server.url
    client.app_base_url = server.url
    return client


def status_of_call(call: Any) -> int:
    """The HTTP status of an SDK call that is expected to fail."""
    with pytest.raises(PyCronofyRequestError) as failure:
        call()
    return int(failure.value.response.status_code)


def wait_until_disconnected(client: Any, profile_id: str) -> dict[str, Any]:
    """Poll list_profiles (bounded) until the background job has disconnected this profile."""
    deadline = time.monotonic() + REVOKE_WAIT_SECONDS
    while True:
        (profile,) = [p for p in client.list_profiles() if p["profile_id"] == profile_id]
        if profile["profile_connected"] is False or time.monotonic() > deadline:
            return dict(profile)
        time.sleep(0.2)


def test_sign_up_consent_and_every_token_call(
    horae_server: HoraeProcess, application: Application, callback: CallbackRecorder, authorize_pages: AuthorizePages
) -> None:
    client = sdk_client(horae_server, application)
    redirect_uri = callback.redirect_uri
    state = f"state-{uuid.uuid4().hex}"
    person = Person.new("ada")

    link = client.user_auth_link(redirect_uri, scope=SCOPE, state=state)
    assert link.startswith(f"{horae_server.url}/oauth/authorize?")
    page = authorize_pages.open(link)
    authorize_pages.sign_up(page, person)
    returned = authorize_pages.decide(page, "allow", state)
    assert returned["state"] == state
    assert "error" not in returned
    code = returned["code"]

    # Code exchange: pycronofy keeps the tokens on its Auth object.
    tokens = client.get_authorization_from_code(code, redirect_uri=redirect_uri)
    assert tokens["access_token"] and tokens["refresh_token"] and tokens["token_expiration"]
    assert client.auth.access_token == tokens["access_token"]

    userinfo = client.userinfo()
    sub = userinfo["sub"]
    assert sub.startswith("acc_")
    assert userinfo["email"] == person.email
    assert userinfo["name"] == person.name
    assert userinfo["cronofy.type"] == "account"
    assert userinfo["cronofy.data"]["authorization"]["status"] == "active"

    account = client.account()
    assert account["account_id"] == sub
    assert account["email"] == person.email
    assert account["name"] == person.name
    assert set(account["scope"].split()) >= set(SCOPE.split())

    profiles = client.list_profiles()
    assert profiles, "a new account comes with its built-in calendar profile"
    assert all(p["profile_connected"] is True for p in profiles)
    assert {p["profile_id"] for p in profiles} == {p["profile_id"] for p in userinfo["cronofy.data"]["profiles"]}

    # Refresh: a new access token that works; the refresh token stays the same.
    first_access, first_refresh = tokens["access_token"], tokens["refresh_token"]
    refreshed = client.refresh_authorization()
    assert refreshed["access_token"] and refreshed["access_token"] != first_access
    assert refreshed["refresh_token"] == first_refresh
    assert client.auth.access_token == refreshed["access_token"]
    assert client.userinfo()["sub"] == sub

    # Revoking one profile is accepted (202) and carried out by the worker in the background.
    profile_id = profiles[0]["profile_id"]
    client.revoke_profile(profile_id)
    revoked_profile = wait_until_disconnected(client, profile_id)
    assert revoked_profile["profile_connected"] is False, f"not disconnected within {REVOKE_WAIT_SECONDS} s"
    assert revoked_profile["profile_relink_url"].startswith(f"{horae_server.url}/")

    # Revoking the authorization ends every token of the grant.
    refreshed_access = client.auth.access_token
    client.revoke_authorization()
    assert client.auth.access_token is None and client.auth.refresh_token is None
    for old_token in (refreshed_access, first_access):
        assert status_of_call(sdk_client(horae_server, application, access_token=old_token).userinfo) == 401
    stale = sdk_client(horae_server, application, refresh_token=first_refresh)
    assert status_of_call(stale.refresh_authorization) == 400

    # The person comes back in a fresh browser: a wrong password is refused, the right one logs
    # in to the same account, and a new authorization works.
    again_state = f"state-{uuid.uuid4().hex}"
    page = authorize_pages.open(client.user_auth_link(redirect_uri, scope=SCOPE, state=again_state))
    authorize_pages.log_in(page, person, password="not-the-password")
    assert page.get_by_role("alert").is_visible()
    assert page.locator("#login-form").is_visible()
    authorize_pages.log_in(page, person)
    again = authorize_pages.decide(page, "allow", again_state)
    assert again["state"] == again_state
    returning = sdk_client(horae_server, application)
    returning.get_authorization_from_code(again["code"], redirect_uri=redirect_uri)
    assert returning.userinfo()["sub"] == sub
    assert returning.account()["email"] == person.email


def test_deny_returns_access_denied_with_state(
    horae_server: HoraeProcess, application: Application, callback: CallbackRecorder, authorize_pages: AuthorizePages
) -> None:
    client = sdk_client(horae_server, application)
    state = f"state-{uuid.uuid4().hex}"
    page = authorize_pages.open(client.user_auth_link(callback.redirect_uri, scope=SCOPE, state=state))
    authorize_pages.sign_up(page, Person.new("grace"))
    returned = authorize_pages.decide(page, "deny", state)
    assert returned["error"] == "access_denied"
    assert returned["state"] == state
    assert "code" not in returned


def test_a_replayed_code_is_refused_and_withdraws_its_tokens(
    horae_server: HoraeProcess, application: Application, callback: CallbackRecorder, authorize_pages: AuthorizePages
) -> None:
    client = sdk_client(horae_server, application)
    state = f"state-{uuid.uuid4().hex}"
    page = authorize_pages.open(client.user_auth_link(callback.redirect_uri, scope=SCOPE, state=state))
    authorize_pages.sign_up(page, Person.new("linus"))
    code = authorize_pages.decide(page, "allow", state)["code"]
    client.get_authorization_from_code(code, redirect_uri=callback.redirect_uri)
    assert client.userinfo()["sub"].startswith("acc_")

    replay = sdk_client(horae_server, application)
    assert status_of_call(lambda: replay.get_authorization_from_code(code, redirect_uri=callback.redirect_uri)) == 400
    assert status_of_call(client.userinfo) == 401
