"""The authorize pages driven as a browser would: query checks, log-in, sign-up, CSRF, consent, logout."""

from __future__ import annotations

from urllib.parse import parse_qs, parse_qsl, urlencode, urlsplit

import httpx2 as httpx  # what starlette.testclient returns
import pytest
from fastapi.testclient import TestClient
from markupsafe import escape
from sqlalchemy import func, select
from sqlalchemy.sql.schema import Table

from horae.container import Container
from horae.db import tables
from horae.domain import scopes
from horae.services.applications import NewCredentials
from tests.helpers import REDIRECT, authorize_query, csrf_of, make_app

PASSWORD = "correct horse battery"
BASE_URL = "http://127.0.0.1:8000"


# --- helpers ------------------------------------------------------------------------------------


def _count(container: Container, table: Table) -> int:
    engine = container.uow.engine  # type: ignore[attr-defined]
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def _query(app: NewCredentials, redirect: str | None = REDIRECT, **overrides: str | None) -> str:
    params: dict[str, str | None] = {
        "response_type": "code",
        "client_id": app.application.client_id,
        "redirect_uri": redirect,
        "scope": "read_events create_event",
        "state": "xyz",
        **overrides,
    }
    return urlencode({k: v for k, v in params.items() if v is not None})


def _redirect_params(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 303, response.text
    return dict(parse_qsl(urlsplit(response.headers["location"]).query, keep_blank_values=True))


def _is_login_page(response: httpx.Response) -> bool:
    return 'action="/oauth/authorize/login"' in response.text and "would like to" not in response.text


def _is_consent_page(response: httpx.Response) -> bool:
    return "would like to" in response.text and 'action="/oauth/authorize/decision"' in response.text


def _sign_up(
    client: TestClient, query: str, email: str = "ada@example.com", password: str = PASSWORD
) -> httpx.Response:
    page = client.get(f"/oauth/authorize?{query}")
    assert _is_login_page(page), page.text
    form = {"email": email, "password": password, "name": "Ada", "query": query, "csrf_token": csrf_of(page.text)}
    return client.post("/oauth/authorize/signup", data=form, follow_redirects=True)


def _consent_page(client: TestClient, query: str, email: str = "ada@example.com") -> httpx.Response:
    consent = _sign_up(client, query, email)
    assert consent.status_code == 200 and _is_consent_page(consent), consent.text
    return consent


def _decide(client: TestClient, query: str, consent: httpx.Response, decision: str) -> httpx.Response:
    form = {"decision": decision, "query": query, "csrf_token": csrf_of(consent.text)}
    return client.post("/oauth/authorize/decision", data=form, follow_redirects=False)


def _exchange(client: TestClient, app: NewCredentials, code: str, redirect: str = REDIRECT) -> httpx.Response:
    form = {
        "grant_type": "authorization_code",
        "client_id": app.application.client_id,
        "client_secret": app.client_secret,
        "code": code,
        "redirect_uri": redirect,
    }
    return client.post("/oauth/token", data=form)


def _new_browser(client: TestClient) -> TestClient:
    """Another browser on the same server, with its own cookie jar."""
    return TestClient(client.app, base_url=BASE_URL)


# --- problems with the authorize request --------------------------------------------------------


def test_unknown_client_id_shows_an_error_page_and_does_not_redirect(client: TestClient, container: Container) -> None:
    app = make_app(container)
    query = _query(app, client_id="not-a-known-client-id-0000000000")
    response = client.get(f"/oauth/authorize?{query}", follow_redirects=False)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/html")
    assert "location" not in response.headers
    assert "not known" in response.text
    assert 'action="/oauth/authorize/login"' not in response.text


def test_missing_client_id_shows_an_error_page(client: TestClient, container: Container) -> None:
    app = make_app(container)
    response = client.get(f"/oauth/authorize?{_query(app, client_id=None)}", follow_redirects=False)
    assert response.status_code == 400
    assert "location" not in response.headers


@pytest.mark.parametrize(
    "redirect",
    [
        "https://evil.example/callback",
        "https://client.example/callback/extra",
        "https://client.example:8443/callback",
        "http://client.example/callback",
        "https://client.example/callback?injected=1",
        None,
    ],
)
def test_unregistered_redirect_uri_shows_an_error_page_and_does_not_redirect(
    client: TestClient, container: Container, redirect: str | None
) -> None:
    app = make_app(container)
    query = _query(app, redirect_uri=redirect, scope="nonsense", response_type="token")
    response = client.get(f"/oauth/authorize?{query}", follow_redirects=False)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/html")
    assert "location" not in response.headers
    assert "redirect_uri" in response.text


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"scope": None}, "invalid_scope"),
        ({"scope": ""}, "invalid_scope"),
        ({"scope": "read_events make_coffee"}, "invalid_scope"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"response_type": None}, "unsupported_response_type"),
    ],
)
def test_other_problems_redirect_to_the_client_with_the_error_and_state(
    client: TestClient, container: Container, overrides: dict[str, str | None], error: str
) -> None:
    app = make_app(container)
    response = client.get(f"/oauth/authorize?{_query(app, **overrides)}", follow_redirects=False)
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith(REDIRECT + "?")
    params = _redirect_params(response)
    assert params["error"] == error
    assert params["state"] == "xyz"
    assert "code" not in params


def test_error_redirect_without_state_sends_no_state(client: TestClient, container: Container) -> None:
    app = make_app(container)
    response = client.get(f"/oauth/authorize?{_query(app, state=None, scope='bogus')}", follow_redirects=False)
    params = _redirect_params(response)
    assert params["error"] == "invalid_scope"
    assert "state" not in params


@pytest.mark.parametrize("requested", ["http://127.0.0.1:53682/callback", "http://127.0.0.1:8080/callback"])
def test_loopback_redirect_registered_without_port_matches_any_port(
    client: TestClient, container: Container, requested: str
) -> None:
    app = make_app(container, redirect="http://127.0.0.1/callback")
    query = _query(app, redirect=requested)
    page = client.get(f"/oauth/authorize?{query}")
    assert page.status_code == 200 and _is_login_page(page), page.text
    consent = _consent_page(client, query)
    params = _redirect_params(_decide(client, query, consent, "allow"))
    assert len(params["code"]) == 32
    # The code is bound to the URI the client asked for, port included.
    assert _exchange(client, app, params["code"], redirect="http://127.0.0.1/callback").status_code == 400
    assert _exchange(client, app, params["code"], redirect=requested).status_code == 200


def test_loopback_redirect_with_a_port_reaches_that_port(client: TestClient, container: Container) -> None:
    app = make_app(container, redirect="http://localhost/callback")
    query = _query(app, redirect="http://localhost:3000/callback")
    consent = _consent_page(client, query)
    answer = _decide(client, query, consent, "allow")
    assert answer.headers["location"].startswith("http://localhost:3000/callback?")


@pytest.mark.parametrize(
    "requested", ["http://127.0.0.1:53682/other", "https://127.0.0.1:53682/callback", "http://localhost:53682/callback"]
)
def test_loopback_still_needs_the_same_scheme_host_and_path(
    client: TestClient, container: Container, requested: str
) -> None:
    app = make_app(container, redirect="http://127.0.0.1/callback")
    response = client.get(f"/oauth/authorize?{_query(app, redirect=requested)}", follow_redirects=False)
    assert response.status_code == 400
    assert "location" not in response.headers


# --- log in and sign up -------------------------------------------------------------------------


def test_login_page_names_the_application(client: TestClient, container: Container) -> None:
    app = make_app(container, name="Acme Scheduler")
    page = client.get(f"/oauth/authorize?{authorize_query(app)}")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "Acme Scheduler" in page.text
    assert 'id="login-form"' in page.text and 'id="signup-form"' in page.text


def test_login_with_the_right_password_leads_to_consent(client: TestClient, container: Container) -> None:
    app = make_app(container)
    container.accounts.sign_up("ada@example.com", PASSWORD, "Ada")
    query = authorize_query(app)
    page = client.get(f"/oauth/authorize?{query}")
    form = {"email": "ADA@example.com ", "password": PASSWORD, "query": query, "csrf_token": csrf_of(page.text)}
    response = client.post("/oauth/authorize/login", data=form, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/oauth/authorize?{query}"
    assert _count(container, tables.web_sessions) == 1
    consent = client.get(f"/oauth/authorize?{query}")
    assert _is_consent_page(consent)
    assert "ada@example.com" in consent.text


@pytest.mark.parametrize(("email", "password"), [("ada@example.com", "wrong password"), ("bob@example.com", PASSWORD)])
def test_wrong_login_rerenders_the_page_with_an_error_and_no_session(
    client: TestClient, container: Container, email: str, password: str
) -> None:
    app = make_app(container)
    container.accounts.sign_up("ada@example.com", PASSWORD, "Ada")
    query = authorize_query(app)
    page = client.get(f"/oauth/authorize?{query}")
    form = {"email": email, "password": password, "query": query, "csrf_token": csrf_of(page.text)}
    response = client.post("/oauth/authorize/login", data=form, follow_redirects=False)
    assert response.status_code == 401
    assert _is_login_page(response)
    assert "not recognised" in response.text
    assert f'value="{email}"' in response.text  # the email is kept, the password is not
    assert password not in response.text
    assert _count(container, tables.web_sessions) == 0
    assert _is_login_page(client.get(f"/oauth/authorize?{query}"))


@pytest.mark.parametrize(
    ("email", "password", "message"),
    [
        ("ada@example.com", "short", "at least 8 characters"),
        ("not-an-email", PASSWORD, "valid email"),
        ("ada@example", PASSWORD, "valid email"),
        ("", "", "valid email"),
    ],
)
def test_signup_problems_are_shown_and_nothing_is_created(
    client: TestClient, container: Container, email: str, password: str, message: str
) -> None:
    app = make_app(container)
    query = authorize_query(app)
    page = client.get(f"/oauth/authorize?{query}")
    form = {"email": email, "password": password, "name": "Ada", "query": query, "csrf_token": csrf_of(page.text)}
    response = client.post("/oauth/authorize/signup", data=form, follow_redirects=False)
    assert response.status_code == 422
    assert _is_login_page(response)
    assert message in response.text
    assert 'role="alert"' in response.text
    for table in (tables.people, tables.accounts, tables.web_sessions):
        assert _count(container, table) == 0
    assert _is_login_page(client.get(f"/oauth/authorize?{query}"))


def test_signup_shows_both_problems_at_once(client: TestClient, container: Container) -> None:
    app = make_app(container)
    query = authorize_query(app)
    page = client.get(f"/oauth/authorize?{query}")
    form = {"email": "nope", "password": "short", "query": query, "csrf_token": csrf_of(page.text)}
    response = client.post("/oauth/authorize/signup", data=form)
    assert response.status_code == 422
    assert "valid email" in response.text and "at least 8 characters" in response.text


@pytest.mark.parametrize("email", ["ada@example.com", "  ADA@Example.com"])
def test_signup_of_an_existing_email_is_refused(client: TestClient, container: Container, email: str) -> None:
    app = make_app(container)
    container.accounts.sign_up("ada@example.com", PASSWORD, "Ada")
    query = authorize_query(app)
    page = client.get(f"/oauth/authorize?{query}")
    form = {"email": email, "password": "another password", "query": query, "csrf_token": csrf_of(page.text)}
    response = client.post("/oauth/authorize/signup", data=form, follow_redirects=False)
    assert response.status_code == 422
    assert "already exists" in response.text
    assert _count(container, tables.people) == 1
    assert _count(container, tables.web_sessions) == 0
    # The original password still works; the refused one does not.
    assert container.accounts.log_in("ada@example.com", PASSWORD).person.email == "ada@example.com"
    with pytest.raises(Exception, match="not recognised"):
        container.accounts.log_in("ada@example.com", "another password")


def test_signup_creates_a_person_account_and_session(client: TestClient, container: Container) -> None:
    app = make_app(container)
    consent = _consent_page(client, authorize_query(app), "grace@example.com")
    assert "grace@example.com" in consent.text
    assert _count(container, tables.people) == 1
    assert _count(container, tables.accounts) == 1
    assert _count(container, tables.web_sessions) == 1


def test_login_starts_a_new_session_and_csrf_token(client: TestClient, container: Container) -> None:
    """No session fixation: what the browser held before signing in is worthless afterwards."""
    app = make_app(container)
    query = authorize_query(app)
    page = client.get(f"/oauth/authorize?{query}")
    before_token = csrf_of(page.text)
    before_cookie = client.cookies.get("horae_session")
    assert before_cookie
    form = {"email": "ada@example.com", "password": PASSWORD, "query": query, "csrf_token": before_token}
    consent = client.post("/oauth/authorize/signup", data=form, follow_redirects=True)
    assert _is_consent_page(consent)
    assert csrf_of(consent.text) != before_token
    assert client.cookies.get("horae_session") != before_cookie
    stale = client.post(
        "/oauth/authorize/decision",
        data={"decision": "allow", "query": query, "csrf_token": before_token},
        follow_redirects=False,
    )
    assert stale.status_code == 403
    assert _count(container, tables.authorization_codes) == 0


# --- CSRF ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("token", ["forged-token", "", None])
def test_login_without_the_right_csrf_token_is_refused(
    client: TestClient, container: Container, token: str | None
) -> None:
    app = make_app(container)
    container.accounts.sign_up("ada@example.com", PASSWORD, "Ada")
    query = authorize_query(app)
    client.get(f"/oauth/authorize?{query}")
    form = {"email": "ada@example.com", "password": PASSWORD, "query": query}
    if token is not None:
        form["csrf_token"] = token
    response = client.post("/oauth/authorize/login", data=form, follow_redirects=False)
    assert response.status_code == 403
    assert "location" not in response.headers
    assert _count(container, tables.web_sessions) == 0
    assert _is_login_page(client.get(f"/oauth/authorize?{query}"))


@pytest.mark.parametrize("token", ["forged-token", "", None])
def test_signup_without_the_right_csrf_token_is_refused(
    client: TestClient, container: Container, token: str | None
) -> None:
    app = make_app(container)
    query = authorize_query(app)
    client.get(f"/oauth/authorize?{query}")
    form = {"email": "ada@example.com", "password": PASSWORD, "query": query}
    if token is not None:
        form["csrf_token"] = token
    response = client.post("/oauth/authorize/signup", data=form, follow_redirects=False)
    assert response.status_code == 403
    assert _count(container, tables.people) == 0
    assert _count(container, tables.web_sessions) == 0


def test_csrf_token_of_another_browser_is_refused(client: TestClient, container: Container) -> None:
    app = make_app(container)
    query = authorize_query(app)
    attacker = _new_browser(client)
    foreign = csrf_of(attacker.get(f"/oauth/authorize?{query}").text)
    client.get(f"/oauth/authorize?{query}")
    form = {"email": "ada@example.com", "password": PASSWORD, "query": query, "csrf_token": foreign}
    response = client.post("/oauth/authorize/signup", data=form, follow_redirects=False)
    assert response.status_code == 403
    assert _count(container, tables.people) == 0


def test_post_without_any_session_is_refused(client: TestClient, container: Container) -> None:
    app = make_app(container)
    query = authorize_query(app)
    form = {"email": "ada@example.com", "password": PASSWORD, "query": query, "csrf_token": "anything"}
    response = client.post("/oauth/authorize/signup", data=form, follow_redirects=False)
    assert response.status_code == 403
    assert _count(container, tables.people) == 0


@pytest.mark.parametrize("token", ["forged-token", "", None])
def test_decision_without_the_right_csrf_token_is_refused(
    client: TestClient, container: Container, token: str | None
) -> None:
    app = make_app(container)
    query = authorize_query(app)
    _consent_page(client, query)
    form = {"decision": "allow", "query": query}
    if token is not None:
        form["csrf_token"] = token
    response = client.post("/oauth/authorize/decision", data=form, follow_redirects=False)
    assert response.status_code == 403
    assert "location" not in response.headers
    assert _count(container, tables.authorization_codes) == 0
    assert _count(container, tables.grants) == 0


@pytest.mark.parametrize("token", ["forged-token", "", None])
def test_logout_without_the_right_csrf_token_is_refused(
    client: TestClient, container: Container, token: str | None
) -> None:
    app = make_app(container)
    query = authorize_query(app)
    _consent_page(client, query)
    form = {"query": query}
    if token is not None:
        form["csrf_token"] = token
    response = client.post("/oauth/authorize/logout", data=form, follow_redirects=False)
    assert response.status_code == 403
    assert _count(container, tables.web_sessions) == 1
    assert _is_consent_page(client.get(f"/oauth/authorize?{query}"))


def test_forbidden_page_is_html_with_the_page_headers(client: TestClient, container: Container) -> None:
    app = make_app(container)
    response = client.post("/oauth/authorize/login", data={"query": authorize_query(app), "csrf_token": "x"})
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["x-frame-options"] == "DENY"


# --- consent and decision ------------------------------------------------------------------------


@pytest.mark.parametrize("scope", ["read_events create_event", "read_write", "free_busy", "read_account"])
def test_consent_lists_the_scopes_in_plain_words_and_the_application_name(
    client: TestClient, container: Container, scope: str
) -> None:
    app = make_app(container, name="Acme Scheduler")
    consent = _consent_page(client, _query(app, scope=scope))
    assert "Acme Scheduler" in consent.text
    items = [line.split("</li>")[0] for line in consent.text.split("<li>")[1:]]
    assert items == [str(escape(line)) for line in scopes.describe(scopes.parse(scope))]


def test_consent_for_read_events_also_mentions_free_busy(client: TestClient, container: Container) -> None:
    app = make_app(container)
    consent = _consent_page(client, _query(app, scope="read_events"))
    assert str(escape(scopes.GRANULAR["read_free_busy"])) in consent.text
    assert str(escape(scopes.GRANULAR["create_event"])) not in consent.text


def test_deny_redirects_with_access_denied_and_the_state(client: TestClient, container: Container) -> None:
    app = make_app(container)
    query = _query(app, state="opaque/state+value=1&x")
    consent = _consent_page(client, query)
    response = _decide(client, query, consent, "deny")
    assert response.headers["location"].startswith(REDIRECT + "?")
    params = _redirect_params(response)
    assert params["error"] == "access_denied"
    assert params["state"] == "opaque/state+value=1&x"
    assert "code" not in params
    assert _count(container, tables.authorization_codes) == 0


def test_allow_redirects_with_a_code_and_the_state(client: TestClient, container: Container) -> None:
    app = make_app(container)
    query = _query(app, state="opaque/state+value=1&x")
    consent = _consent_page(client, query)
    response = _decide(client, query, consent, "allow")
    assert response.headers["location"].startswith(REDIRECT + "?")
    params = _redirect_params(response)
    assert set(params) == {"code", "state"}
    assert params["state"] == "opaque/state+value=1&x"
    code = params["code"]
    assert len(code) == 32 and code.isascii() and code.isalnum()
    assert _count(container, tables.authorization_codes) == 1


def test_allow_without_state_sends_no_state(client: TestClient, container: Container) -> None:
    app = make_app(container)
    query = _query(app, state=None)
    params = _redirect_params(_decide(client, query, _consent_page(client, query), "allow"))
    assert set(params) == {"code"}


def test_the_code_is_single_use(client: TestClient, container: Container) -> None:
    app = make_app(container)
    query = authorize_query(app)
    code = _redirect_params(_decide(client, query, _consent_page(client, query), "allow"))["code"]
    first = _exchange(client, app, code)
    assert first.status_code == 200, first.text
    assert first.json()["scope"] == "read_events create_event"
    second = _exchange(client, app, code)
    assert second.status_code == 400
    assert second.json()["error"] == "invalid_grant"


def test_each_allow_issues_a_different_code(client: TestClient, container: Container) -> None:
    app = make_app(container)
    query = authorize_query(app)
    consent = _consent_page(client, query)
    first = _redirect_params(_decide(client, query, consent, "allow"))["code"]
    again = client.get(f"/oauth/authorize?{query}")
    second = _redirect_params(_decide(client, query, again, "allow"))["code"]
    assert first != second


def test_decision_when_not_signed_in_goes_back_to_the_authorize_page(client: TestClient, container: Container) -> None:
    app = make_app(container)
    query = authorize_query(app)
    page = client.get(f"/oauth/authorize?{query}")
    response = client.post(
        "/oauth/authorize/decision",
        data={"decision": "allow", "query": query, "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/oauth/authorize?{query}"
    assert _count(container, tables.authorization_codes) == 0


def test_decision_rechecks_the_authorize_request(client: TestClient, container: Container) -> None:
    """A tampered hidden `query` cannot send the code to an unregistered redirect_uri."""
    app = make_app(container)
    query = authorize_query(app)
    consent = _consent_page(client, query)
    evil = _query(app, redirect="https://evil.example/callback")
    response = _decide(client, evil, consent, "allow")
    assert response.status_code == 400
    assert "location" not in response.headers
    assert _count(container, tables.authorization_codes) == 0


def test_existing_query_in_the_redirect_uri_is_kept(client: TestClient, container: Container) -> None:
    registered = "https://client.example/callback?tenant=42&mode=a+b"
    app = make_app(container, redirect=registered)
    query = _query(app, redirect=registered)
    consent = _consent_page(client, query)
    location = _decide(client, query, consent, "allow").headers["location"]
    assert location.startswith("https://client.example/callback?")
    params = parse_qs(urlsplit(location).query)
    assert params["tenant"] == ["42"]
    assert params["mode"] == ["a b"]
    assert params["state"] == ["xyz"]
    assert len(params["code"][0]) == 32
    # An error redirect keeps it too.
    error = client.get(f"/oauth/authorize?{_query(app, redirect=registered, scope='bogus')}", follow_redirects=False)
    error_params = parse_qs(urlsplit(error.headers["location"]).query)
    assert error_params["tenant"] == ["42"] and error_params["error"] == ["invalid_scope"]


# --- logout and the session cookie ---------------------------------------------------------------


def test_logout_ends_the_session(client: TestClient, container: Container) -> None:
    app = make_app(container)
    query = authorize_query(app)
    consent = _consent_page(client, query)
    response = client.post(
        "/oauth/authorize/logout", data={"query": query, "csrf_token": csrf_of(consent.text)}, follow_redirects=False
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/oauth/authorize?{query}"
    assert _count(container, tables.web_sessions) == 0
    assert _is_login_page(client.get(f"/oauth/authorize?{query}"))


def test_old_session_cookie_stops_working_after_logout(client: TestClient, container: Container) -> None:
    app = make_app(container)
    query = authorize_query(app)
    consent = _consent_page(client, query)
    stolen = client.cookies.get("horae_session")
    assert stolen
    replay = _new_browser(client)
    replay.cookies.set("horae_session", stolen)
    assert _is_consent_page(replay.get(f"/oauth/authorize?{query}"))  # the copy works while signed in
    client.post("/oauth/authorize/logout", data={"query": query, "csrf_token": csrf_of(consent.text)})
    replay = _new_browser(client)
    replay.cookies.set("horae_session", stolen)
    page = replay.get(f"/oauth/authorize?{query}")
    assert page.status_code == 200
    assert _is_login_page(page)


def test_session_cookie_is_httponly_and_samesite_lax(client: TestClient, container: Container) -> None:
    app = make_app(container)
    query = authorize_query(app)
    page = client.get(f"/oauth/authorize?{query}")
    form = {"email": "ada@example.com", "password": PASSWORD, "query": query, "csrf_token": csrf_of(page.text)}
    response = client.post("/oauth/authorize/signup", data=form, follow_redirects=False)
    assert response.status_code == 303
    cookies = [c for c in response.headers.get_list("set-cookie") if c.startswith("horae_session=")]
    assert len(cookies) == 1
    attributes = {part.strip().lower() for part in cookies[0].split(";")[1:]}
    assert "httponly" in attributes
    assert "samesite=lax" in attributes
    assert "path=/" in attributes


@pytest.mark.parametrize("kind", ["login", "consent", "error", "rejected-login"])
def test_pages_send_csp_and_frame_denial(client: TestClient, container: Container, kind: str) -> None:
    app = make_app(container)
    query = authorize_query(app)
    if kind == "login":
        response = client.get(f"/oauth/authorize?{query}")
    elif kind == "consent":
        response = _consent_page(client, query)
    elif kind == "error":
        response = client.get(f"/oauth/authorize?{_query(app, client_id='unknown')}")
    else:
        page = client.get(f"/oauth/authorize?{query}")
        form = {"email": "x@example.com", "password": "wrong pass", "query": query, "csrf_token": csrf_of(page.text)}
        response = client.post("/oauth/authorize/login", data=form)
    assert response.headers["content-type"].startswith("text/html")
    csp = response.headers["content-security-policy"]
    assert "default-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["cache-control"] == "no-store"


# --- escaping ------------------------------------------------------------------------------------


def test_application_name_is_html_escaped(client: TestClient, container: Container) -> None:
    app = make_app(container, name="<script>alert(1)</script>")
    query = authorize_query(app)
    login = client.get(f"/oauth/authorize?{query}")
    assert "<script>" not in login.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in login.text
    consent = _consent_page(client, query)
    assert "<script>" not in consent.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in consent.text


def test_query_values_are_escaped_in_hidden_fields(client: TestClient, container: Container) -> None:
    app = make_app(container)
    query = _query(app, state='"><img src=x onerror=alert(1)>')
    login = client.get(f"/oauth/authorize?{query}")
    assert login.status_code == 200
    assert "<img" not in login.text
    consent = _consent_page(client, query)
    assert "<img" not in consent.text
    # The state still comes back unchanged.
    params = _redirect_params(_decide(client, query, consent, "deny"))
    assert params["state"] == '"><img src=x onerror=alert(1)>'


def test_login_error_echo_is_escaped(client: TestClient, container: Container) -> None:
    app = make_app(container)
    query = authorize_query(app)
    page = client.get(f"/oauth/authorize?{query}")
    email = '"><script>alert(1)</script>@x.example'
    form = {"email": email, "password": "whatever1", "query": query, "csrf_token": csrf_of(page.text)}
    response = client.post("/oauth/authorize/login", data=form)
    assert response.status_code == 401
    assert "<script>" not in response.text
    assert str(escape(email)) in response.text
