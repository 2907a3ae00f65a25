"""Domain-wide delegation end to end: the Google provider's link_admin/delegate against the Workspace
emulator over real HTTP, and the emulator's own token endpoint answers."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from horae.errors import InvalidRequest, ProviderAuthRejected, ProviderUnavailable, UnknownUser
from horae.ports import Connection
from horae.providers.calendars.google import GoogleCalendarProvider
from horae.providers.calendars.google_delegation import JWT_BEARER, parse_key, sign_assertion
from tests.contract.rig_google import provider_options
from tests.emulators.google_workspace import CALENDAR_SCOPE, GoogleWorkspaceEmulator
from tests.emulators.server import serve

ADMIN = "admin@example.com"
ALICE = "alice@example.com"
BOB = "bob@example.com"
WINDOW = (datetime(2029, 12, 1, tzinfo=UTC), datetime(2030, 3, 1, tzinfo=UTC))


@pytest.fixture
def served() -> Iterator[tuple[GoogleWorkspaceEmulator, str]]:
    workspace = GoogleWorkspaceEmulator()
    with serve(workspace.app) as url:
        workspace.use_base_url(url)
        for person in (ADMIN, ALICE, BOB):
            workspace.add_person(person)
        yield workspace, url


@pytest.fixture
def workspace(served: tuple[GoogleWorkspaceEmulator, str]) -> GoogleWorkspaceEmulator:
    return served[0]


@pytest.fixture
def google(served: tuple[GoogleWorkspaceEmulator, str]) -> Iterator[GoogleCalendarProvider]:
    provider = GoogleCalendarProvider(provider_options(served[1]))
    yield provider
    provider.close()


def form(key: dict[str, Any] | str, admin_email: str = ADMIN) -> dict[str, str]:
    text = key if isinstance(key, str) else json.dumps(key)
    return {"domain": "example.com", "service_account_key": text, "admin_email": admin_email}


def field_of(refusal: pytest.ExceptionInfo[InvalidRequest]) -> tuple[str, str]:
    [(name, [error])] = refusal.value.errors.items()
    assert error.key == "errors.invalid"
    return name, error.description


def admin_connection(google: GoogleCalendarProvider, key: dict[str, Any]) -> Connection:
    linked = google.link_admin(form(key))
    return Connection("pro_admin", dict(linked.settings), dict(linked.secrets))


def timed(summary: str, day: int) -> dict[str, Any]:
    return {
        "summary": summary,
        "start": {"dateTime": f"2030-01-{day:02d}T10:00:00Z"},
        "end": {"dateTime": f"2030-01-{day:02d}T11:00:00Z"},
    }


def token_requests(workspace: GoogleWorkspaceEmulator, person: str) -> int:
    return sum(1 for r in workspace.requests if r.path == "/token" and r.person == person)


# -- link_admin ---------------------------------------------------------------------------------------------


def test_link_admin_accepts_a_delegated_key_and_lists_the_admins_calendars(
    google: GoogleCalendarProvider, workspace: GoogleWorkspaceEmulator
) -> None:
    key = workspace.new_service_account_key()
    linked = google.link_admin(form(key))
    assert linked.profile_name == key["client_email"]
    assert linked.settings == {"client_email": key["client_email"], "admin_email": ADMIN}
    assert linked.secrets == {"private_key": key["private_key"], "private_key_id": key["private_key_id"]}
    calls = [(r.path, r.person) for r in workspace.requests]
    assert calls == [("/token", ADMIN), ("/calendar/v3/users/me/calendarList", ADMIN)]


def test_the_token_uri_inside_the_key_is_never_used(
    google: GoogleCalendarProvider, workspace: GoogleWorkspaceEmulator
) -> None:
    key = workspace.new_service_account_key() | {"token_uri": "http://127.0.0.1:9/token"}
    assert google.link_admin(form(key)).profile_name == key["client_email"]
    assert token_requests(workspace, ADMIN) == 1


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("{not json", "not valid JSON"),
        (json.dumps({"type": "authorized_user", "client_id": "x"}), "'authorized_user'"),
        (json.dumps({"type": "service_account", "client_email": "a@b"}), "lacks private_key, private_key_id"),
    ],
)
def test_link_admin_refuses_an_unusable_key_on_its_field(
    google: GoogleCalendarProvider, workspace: GoogleWorkspaceEmulator, text: str, words: str
) -> None:
    with pytest.raises(InvalidRequest) as refusal:
        google.link_admin(form(text))
    name, description = field_of(refusal)
    assert name == "service_account_key" and words in description
    assert workspace.requests == []  # refused before asking Google anything


def test_link_admin_refuses_a_key_without_delegation(
    google: GoogleCalendarProvider, workspace: GoogleWorkspaceEmulator
) -> None:
    key = workspace.new_service_account_key(delegated=False)
    with pytest.raises(InvalidRequest) as refusal:
        google.link_admin(form(key))
    name, description = field_of(refusal)
    assert name == "service_account_key"
    assert "domain-wide delegation" in description and CALENDAR_SCOPE in description
    assert key["client_id"] in description  # the number the Admin console asks for

    workspace.grant_delegation(key["client_email"])
    assert google.link_admin(form(key)).settings["client_email"] == key["client_email"]


def test_link_admin_refuses_an_unknown_admin_on_the_admin_email_field(
    google: GoogleCalendarProvider, workspace: GoogleWorkspaceEmulator
) -> None:
    key = workspace.new_service_account_key()
    with pytest.raises(InvalidRequest) as refusal:
        google.link_admin(form(key, admin_email="nobody@example.com"))
    assert field_of(refusal) == ("admin_email", "Google Workspace has no person nobody@example.com")
    with pytest.raises(InvalidRequest) as elsewhere:
        google.link_admin(form(key, admin_email="admin@elsewhere.org"))
    assert field_of(elsewhere)[0] == "admin_email"


def test_link_admin_refuses_a_tampered_private_key(
    google: GoogleCalendarProvider, workspace: GoogleWorkspaceEmulator
) -> None:
    key = workspace.new_service_account_key()
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with pytest.raises(InvalidRequest) as refusal:
        google.link_admin(form(key | {"private_key": other.decode()}))
    name, description = field_of(refusal)
    assert name == "service_account_key" and "Invalid JWT Signature." in description
    assert "domain-wide delegation" in description

    damaged = key["private_key"].replace("\n", "\nAA", 3)
    with pytest.raises(InvalidRequest) as broken:
        google.link_admin(form(key | {"private_key": damaged}))
    assert field_of(broken)[0] == "service_account_key" and "does not load" in field_of(broken)[1]


# -- delegate -----------------------------------------------------------------------------------------------


def test_delegate_acts_as_the_person_and_shows_only_their_events(
    google: GoogleCalendarProvider, workspace: GoogleWorkspaceEmulator
) -> None:
    workspace.people[ALICE].add_event("primary", timed("Alice's standup", 6))
    workspace.people[BOB].add_event("primary", timed("Bob's dentist", 7))
    key = workspace.new_service_account_key()
    admin = admin_connection(google, key)

    alice = google.delegate(admin, ALICE)
    assert alice.profile_id == "pro_admin"
    assert alice.settings == {"email": ALICE, "client_email": key["client_email"], "delegated": "true"}
    assert set(alice.secrets) == {"private_key", "private_key_id", "access_token", "expires_at"}
    assert alice.secrets["private_key"] == key["private_key"]
    assert int(alice.secrets["expires_at"]) > time.time() + 3000
    assert admin.secrets == {"private_key": key["private_key"], "private_key_id": key["private_key_id"]}

    [calendar] = google.calendars(alice)
    assert (calendar.remote_id, calendar.primary, calendar.readonly) == (ALICE, True, False)
    changes = google.changes(alice, ALICE, None, WINDOW)
    assert [item.event.summary for item in changes.items] == ["Alice's standup"]

    bob = google.delegate(admin, BOB)
    assert [item.event.summary for item in google.changes(bob, BOB, None, WINDOW).items] == ["Bob's dentist"]
    assert [c.remote_id for c in google.calendars(bob)] == [BOB]


def test_delegate_of_someone_outside_the_directory_is_an_unknown_user(
    google: GoogleCalendarProvider, workspace: GoogleWorkspaceEmulator
) -> None:
    admin = admin_connection(google, workspace.new_service_account_key())
    with pytest.raises(UnknownUser):
        google.delegate(admin, "carol@example.com")


def test_an_expired_token_is_renewed_by_signing_again(
    google: GoogleCalendarProvider, workspace: GoogleWorkspaceEmulator
) -> None:
    workspace.people[ALICE].add_event("primary", timed("Planning", 8))
    alice = google.delegate(admin_connection(google, workspace.new_service_account_key()), ALICE)
    first = alice.secrets["access_token"]

    workspace.people[ALICE].expire_access_tokens()  # Google dropped it early: the API answers 401 once
    assert [c.remote_id for c in google.calendars(alice)] == [ALICE]
    second = alice.secrets["access_token"]
    assert second != first and token_requests(workspace, ALICE) == 2
    assert "refresh_token" not in alice.secrets

    alice.secrets["expires_at"] = str(int(time.time()) - 1)  # due: renewed before the call
    summaries = [item.event.summary for item in google.changes(alice, ALICE, None, WINDOW).items]
    assert summaries == ["Planning"]
    assert alice.secrets["access_token"] not in (first, second) and token_requests(workspace, ALICE) == 3


def test_renewal_fails_as_rejected_auth_when_the_person_left_or_delegation_was_revoked(
    google: GoogleCalendarProvider, workspace: GoogleWorkspaceEmulator
) -> None:
    key = workspace.new_service_account_key()
    admin = admin_connection(google, key)
    alice, bob = google.delegate(admin, ALICE), google.delegate(admin, BOB)

    workspace.remove_person(ALICE)
    with pytest.raises(ProviderAuthRejected, match="no person alice@example.com"):
        google.calendars(alice)

    workspace.revoke_delegation(key["client_email"])
    bob.secrets["expires_at"] = str(int(time.time()) - 1)
    with pytest.raises(ProviderAuthRejected, match="unauthorized_client"):
        google.calendars(bob)


def test_broken_events_let_the_calendar_list_through_but_not_the_first_sync(
    google: GoogleCalendarProvider, workspace: GoogleWorkspaceEmulator
) -> None:
    alice = google.delegate(admin_connection(google, workspace.new_service_account_key()), ALICE)
    workspace.break_events(ALICE)
    assert [c.remote_id for c in google.calendars(alice)] == [ALICE]
    with pytest.raises(ProviderUnavailable, match="HTTP 500 backendError"):
        google.changes(alice, ALICE, None, WINDOW)
    bob = google.delegate(admin_connection(google, workspace.new_service_account_key()), BOB)
    assert google.changes(bob, BOB, None, WINDOW).items == []  # only Alice's calendar is broken

    workspace.mend_events(ALICE)
    assert google.changes(alice, ALICE, None, WINDOW).complete


def test_an_unreachable_token_endpoint_is_unavailable_not_a_form_problem(
    served: tuple[GoogleWorkspaceEmulator, str],
) -> None:
    workspace, url = served
    key = workspace.new_service_account_key()
    provider = GoogleCalendarProvider(provider_options(url, token_url="http://127.0.0.1:9/token"))
    try:
        with pytest.raises(ProviderUnavailable):
            provider.link_admin(form(key))
        admin = Connection("pro_admin", {"client_email": key["client_email"], "admin_email": ADMIN}, {})
        admin.secrets |= {"private_key": key["private_key"], "private_key_id": key["private_key_id"]}
        with pytest.raises(ProviderUnavailable):
            provider.delegate(admin, ALICE)
    finally:
        provider.close()


# -- the emulator's token endpoint --------------------------------------------------------------------------


def grant(url: str, assertion: str) -> httpx.Response:
    return httpx.post(f"{url}/token", data={"grant_type": JWT_BEARER, "assertion": assertion}, timeout=5)


def test_token_endpoint_answers_as_google_does(served: tuple[GoogleWorkspaceEmulator, str]) -> None:
    workspace, url = served
    key = parse_key(json.dumps(workspace.new_service_account_key()))
    audience = f"{url}/token"

    issued = grant(url, sign_assertion(key, ALICE, CALENDAR_SCOPE, audience))
    assert issued.status_code == 200
    body = issued.json()
    assert set(body) == {"access_token", "expires_in", "token_type"} and body["token_type"] == "Bearer"
    calendars = httpx.get(
        f"{url}/calendar/v3/users/me/calendarList", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert [c["id"] for c in calendars.json()["items"]] == [ALICE]

    def refusal(assertion: str) -> tuple[int, str, str]:
        answer = grant(url, assertion)
        return answer.status_code, answer.json()["error"], answer.json()["error_description"]

    unknown = refusal(sign_assertion(key, "carol@example.com", CALENDAR_SCOPE, audience))
    assert unknown == (400, "invalid_grant", "Invalid email or User ID")
    unknown_key = refusal(sign_assertion(replace(key, private_key_id="0" * 40), ALICE, CALENDAR_SCOPE, audience))
    assert unknown_key == (400, "invalid_grant", "Invalid JWT Signature.")
    status, error, said = refusal(sign_assertion(key, ALICE, CALENDAR_SCOPE, "https://oauth2.googleapis.com/token"))
    assert (status, error) == (400, "invalid_grant") and "audience" in said
    status, error, said = refusal(sign_assertion(key, ALICE, CALENDAR_SCOPE, audience, now=time.time() - 7200))
    assert (status, error) == (400, "invalid_grant") and "short-lived" in said
    wider = refusal(sign_assertion(key, ALICE, f"{CALENDAR_SCOPE} https://mail.google.com/", audience))
    assert wider[:2] == (401, "unauthorized_client")
    assert refusal("not-a-jwt")[:2] == (400, "invalid_grant")


def test_api_calls_with_an_unknown_token_are_refused_google_style(served: tuple[GoogleWorkspaceEmulator, str]) -> None:
    _, url = served
    answer = httpx.get(f"{url}/calendar/v3/users/me/calendarList", headers={"Authorization": "Bearer nope"})
    assert answer.status_code == 401
    assert answer.json()["error"]["errors"][0]["reason"] == "authError"
