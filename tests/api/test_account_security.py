"""Signing in safely: the lock-out after repeated failures (same answer for unknown addresses, shared by
every server process), TOTP two-step sign-in on every page that signs people in, recovery codes, no code
used twice, a new session id at every sign-in, and CSRF on every security form."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from horae import bootstrap
from horae.container import Container
from horae.db import tables
from horae.domain.security import LOCKED_MESSAGE
from horae.errors import AuthenticationFailed
from horae.settings import Settings
from tests.fakes import FakeClock
from tests.helpers import authorize_query, csrf_of, make_app
from tests.security_flows import (
    GUARDED,
    PASSWORD,
    alert,
    code_now,
    enrol,
    new_browser,
    password_login,
    session_of,
    sign_in,
    signed_in,
    submit_code,
)

WRONG = "not the password"


@pytest.fixture
def ada(container: Container) -> str:
    container.accounts.sign_up("ada@example.com", PASSWORD, "Ada")
    return "ada@example.com"


def _fail(client: TestClient, email: str, times: int) -> list[tuple[int, str]]:
    """Wrong passwords on /login; the status and alert of each answer."""
    answers = [password_login(client, email, WRONG) for _ in range(times)]
    return [(a.status_code, alert(a.text)) for a in answers]


# --- lock-out ------------------------------------------------------------------------------------------


def test_five_wrong_passwords_lock_the_address_for_fifteen_minutes(
    client: TestClient, ada: str, clock: FakeClock
) -> None:
    answers = _fail(client, ada, 5)
    assert answers == [(401, "email or password not recognised")] * 5
    locked = password_login(client, ada, PASSWORD)
    assert (locked.status_code, alert(locked.text)) == (401, LOCKED_MESSAGE)
    assert not signed_in(client)
    clock.advance(minutes=14, seconds=59)
    assert password_login(client, ada, PASSWORD).status_code == 401
    clock.advance(seconds=1)
    sign_in(client, ada)


def test_an_unknown_address_gets_exactly_the_same_answers(client: TestClient, ada: str) -> None:
    known = [*_fail(client, ada, 6)]
    unknown = [*_fail(client, "nobody@example.com", 6)]
    assert known == unknown
    assert known[-1] == (401, LOCKED_MESSAGE)


def test_a_good_sign_in_clears_the_count(client: TestClient, ada: str) -> None:
    _fail(client, ada, 4)
    sign_in(client, ada)
    other = new_browser(client)
    assert _fail(other, ada, 4) == [(401, "email or password not recognised")] * 4
    sign_in(other, ada)


def test_failures_are_counted_in_the_database_for_every_server_process(
    container: Container, settings: Settings, clock: FakeClock, ada: str
) -> None:
    second_process = bootstrap.build(settings, clock)
    try:
        for service in [container.accounts, second_process.accounts] * 2 + [container.accounts]:
            with pytest.raises(AuthenticationFailed):
                service.log_in(ada, WRONG)
        with pytest.raises(AuthenticationFailed, match="Too many failed attempts"):
            second_process.accounts.log_in(ada, PASSWORD)
    finally:
        second_process.uow.engine.dispose()  # type: ignore[attr-defined]
    # Keyed by a digest: the table holds no address.
    with container.uow.engine.connect() as conn:  # type: ignore[attr-defined]
        rows = [dict(r._mapping) for r in conn.execute(select(tables.login_throttles))]
    assert len(rows) == 1 and "ada" not in repr(rows)


# --- two-step sign-in ----------------------------------------------------------------------------------


def test_setting_up_two_step_sign_in_shows_a_qr_code_and_needs_a_right_code(
    client: TestClient, ada: str, clock: FakeClock
) -> None:
    sign_in(client, ada)
    page = client.get(GUARDED)
    assert "Two-step sign-in is <strong>off</strong>" in page.text
    started = client.post("/dashboard/security/mfa/start", data={"csrf_token": csrf_of(page.text)})
    assert re.search(r'<div class="qr" id="mfa-qr"><svg role="img"[^>]*><path d="M', started.text)
    assert "http" not in started.text.split('id="mfa-qr"')[1].split("</div>")[0].replace(
        "http://www.w3.org/2000/svg", ""
    )  # drawn inline: nothing is fetched from elsewhere
    # Not in force until confirmed: signing in still needs only the password.
    assert password_login(new_browser(client), ada).headers["location"] == GUARDED
    wrong = client.post("/dashboard/security/mfa/confirm", data={"code": "000000", "csrf_token": csrf_of(page.text)})
    assert wrong.status_code == 422 and "that code is not right" in alert(wrong.text)
    assert "being set up" in wrong.text
    secret = re.search(r'id="mfa-secret">([A-Z2-7]{32})<', wrong.text)
    assert secret
    good = client.post(
        "/dashboard/security/mfa/confirm",
        data={"code": code_now(secret.group(1), clock), "csrf_token": csrf_of(page.text)},
    )
    assert good.status_code == 200 and "Two-step sign-in is <strong>on</strong>" in good.text
    assert len(re.findall(r"<code>[a-z2-9]{5}-[a-z2-9]{5}</code>", good.text)) == 10
    again = client.get(GUARDED)
    assert "10 recovery codes left" in again.text and "<code>" not in again.text  # shown once only


def test_signing_in_with_two_step_needs_a_code_and_starts_no_session_before_it(
    client: TestClient, ada: str, clock: FakeClock
) -> None:
    sign_in(client, ada)
    secret, _ = enrol(client, clock)
    browser = new_browser(client)
    answer = password_login(browser, ada, next_url="/dashboard/profile?tab=x")
    assert (answer.status_code, answer.headers["location"]) == (303, "/login/mfa")
    assert "sid" not in session_of(browser) and not signed_in(browser)
    wrong = submit_code(browser, "123456" if code_now(secret, clock) != "123456" else "654321")
    assert wrong.status_code == 401 and "not right" in alert(wrong.text)
    done = submit_code(browser, code_now(secret, clock))
    assert (done.status_code, done.headers["location"]) == (303, "/dashboard/profile?tab=x")
    assert signed_in(browser) and "mfa_pending" not in session_of(browser)


def test_a_code_is_accepted_once(client: TestClient, ada: str, clock: FakeClock) -> None:
    sign_in(client, ada)
    secret, _ = enrol(client, clock)
    code = code_now(secret, clock)
    first = new_browser(client)
    password_login(first, ada)
    assert submit_code(first, code).status_code == 303
    replay = new_browser(client)
    password_login(replay, ada)
    refused = submit_code(replay, code)
    assert refused.status_code == 401 and not signed_in(replay)
    clock.advance(seconds=30)
    assert submit_code(replay, code_now(secret, clock)).status_code == 303


def test_each_recovery_code_signs_in_once(client: TestClient, ada: str, clock: FakeClock) -> None:
    sign_in(client, ada)
    _, codes = enrol(client, clock)
    browser = new_browser(client)
    password_login(browser, ada)
    assert submit_code(browser, codes[0].upper().replace("-", " ")).status_code == 303
    again = new_browser(client)
    password_login(again, ada)
    assert submit_code(again, codes[0]).status_code == 401
    assert submit_code(again, codes[1]).status_code == 303
    assert "8 recovery codes left" in client.get(GUARDED).text


def test_wrong_codes_count_toward_the_lock_out_and_a_new_password_step_does_not_reset_them(
    client: TestClient, ada: str, clock: FakeClock
) -> None:
    sign_in(client, ada)
    secret, _ = enrol(client, clock)
    browser = new_browser(client)
    password_login(browser, ada)
    for _ in range(4):
        assert submit_code(browser, "000000").status_code == 401
    # The right password again must not clear the count, or codes could be guessed four at a time forever.
    assert password_login(browser, ada).headers["location"] == "/login/mfa"
    fifth = submit_code(browser, "000000")
    assert fifth.status_code == 401 and "not right" in alert(fifth.text)
    locked = submit_code(browser, code_now(secret, clock))
    assert (locked.status_code, alert(locked.text)) == (401, LOCKED_MESSAGE)
    assert alert(password_login(new_browser(client), ada).text) == LOCKED_MESSAGE
    clock.advance(minutes=15)  # the lock ends, and so has the waiting code page: start again
    assert password_login(browser, ada).headers["location"] == "/login/mfa"
    assert submit_code(browser, code_now(secret, clock)).status_code == 303


def test_the_code_page_waits_five_minutes_at_most(client: TestClient, ada: str, clock: FakeClock) -> None:
    sign_in(client, ada)
    secret, _ = enrol(client, clock)
    browser = new_browser(client)
    password_login(browser, ada)
    page = browser.get("/login/mfa")
    clock.advance(minutes=5)
    late = browser.post("/login/mfa", data={"code": code_now(secret, clock), "csrf_token": csrf_of(page.text)})
    assert late.history and late.history[0].headers["location"] == "/login"
    assert not signed_in(browser)
    assert browser.get("/login/mfa", follow_redirects=False).headers["location"] == "/login"


def test_removing_two_step_needs_the_password_and_a_code(client: TestClient, ada: str, clock: FakeClock) -> None:
    sign_in(client, ada)
    secret, codes = enrol(client, clock)
    token = csrf_of(client.get(GUARDED).text)
    remove = "/dashboard/security/mfa/remove"
    no_password = client.post(remove, data={"password": WRONG, "code": code_now(secret, clock), "csrf_token": token})
    assert no_password.status_code == 422 and "not your current password" in alert(no_password.text)
    no_code = client.post(remove, data={"password": PASSWORD, "code": "000000", "csrf_token": token})
    assert no_code.status_code == 422 and "not right" in alert(no_code.text)
    assert "Two-step sign-in is <strong>on</strong>" in no_code.text
    removed = client.post(remove, data={"password": PASSWORD, "code": codes[3], "csrf_token": token})
    assert removed.status_code == 200 and 'id="mfa-off-now"' in removed.text
    assert password_login(new_browser(client), ada).headers["location"] == GUARDED


def test_new_recovery_codes_replace_the_old_ones(client: TestClient, ada: str, clock: FakeClock) -> None:
    sign_in(client, ada)
    _, old = enrol(client, clock)
    token = csrf_of(client.get(GUARDED).text)
    refused = client.post("/dashboard/security/mfa/recovery-codes", data={"password": WRONG, "csrf_token": token})
    assert refused.status_code == 422
    fresh = client.post("/dashboard/security/mfa/recovery-codes", data={"password": PASSWORD, "csrf_token": token})
    new = re.findall(r"<code>([a-z2-9]{5}-[a-z2-9]{5})</code>", fresh.text)
    assert len(new) == 10 and not set(new) & set(old)
    browser = new_browser(client)
    password_login(browser, ada)
    assert submit_code(browser, old[0]).status_code == 401
    assert submit_code(browser, new[0]).status_code == 303


def test_secrets_are_sealed_and_recovery_codes_digested_at_rest(
    client: TestClient, container: Container, ada: str, clock: FakeClock
) -> None:
    sign_in(client, ada)
    secret, codes = enrol(client, clock)
    with container.uow.engine.connect() as conn:  # type: ignore[attr-defined]
        stored = repr([list(conn.execute(select(t))) for t in (tables.mfa_enrolments, tables.recovery_codes)])
    assert secret not in stored and "v1." in stored
    for code in codes:
        assert code not in stored and code.replace("-", "") not in stored


def test_an_operator_turns_two_step_off(client: TestClient, container: Container, ada: str, clock: FakeClock) -> None:
    sign_in(client, ada)
    enrol(client, clock)
    container.mfa.turn_off(" ADA@example.com ")
    assert password_login(new_browser(client), ada).headers["location"] == GUARDED
    assert "Two-step sign-in is <strong>off</strong>" in client.get(GUARDED).text


# --- every page that signs people in -------------------------------------------------------------------


@dataclass(frozen=True)
class SignInPage:
    """A page with a sign-in form: where its form is shown, where it posts, and where it goes on to."""

    page: str
    post: str
    form: dict[str, str]
    then: str


def _sign_in_pages(container: Container) -> dict[str, SignInPage]:
    app = make_app(container)
    query = authorize_query(app)
    enterprise = urlencode(
        {
            "response_type": "code",
            "client_id": app.application.client_id,
            "redirect_uri": "https://client.example/callback",
            "scope": "service_account/accounts/manage",
            "delegated_scope": "read_events",
            "state": "s",
        }
    )
    ec = "/enterprise_connect/oauth/authorize"
    return {
        "dashboard": SignInPage(f"/login?next={HOME}", "/login", {"next": HOME}, HOME),
        "authorize": SignInPage(f"{AUTHORIZE}?{query}", f"{AUTHORIZE}/login", {"query": query}, f"{AUTHORIZE}?{query}"),
        "connect": SignInPage("/connect", "/connect/login", {}, "/connect"),
        "enterprise": SignInPage(f"{ec}?{enterprise}", f"{ec}/login", {"query": enterprise}, f"{ec}?{enterprise}"),
        "relink": SignInPage("/profiles/pro_x/relink", "/profiles/pro_x/relink/login", {}, "/profiles/pro_x/relink"),
        "permissions": SignInPage("/permissions/prq_x", "/permissions/prq_x/login", {}, "/permissions/prq_x"),
    }  # fmt: skip


HOME = "/dashboard/profile"
AUTHORIZE = "/oauth/authorize"
PAGES = ["dashboard", "authorize", "connect", "enterprise", "relink", "permissions"]


@pytest.mark.parametrize("name", PAGES)
def test_every_sign_in_page_asks_for_the_code(
    client: TestClient, container: Container, ada: str, clock: FakeClock, name: str
) -> None:
    sign_in(client, ada)
    secret, _ = enrol(client, clock)
    target = _sign_in_pages(container)[name]
    browser = new_browser(client)
    page = browser.get(target.page)
    assert page.status_code == 200, page.text
    form = {"email": ada, "password": PASSWORD, "csrf_token": csrf_of(page.text), **target.form}
    answer = browser.post(target.post, data=form, follow_redirects=False)
    assert (answer.status_code, answer.headers.get("location")) == (303, "/login/mfa"), answer.text
    assert "sid" not in session_of(browser) and not signed_in(browser)
    done = submit_code(browser, code_now(secret, clock))
    assert (done.status_code, done.headers["location"]) == (303, target.then)
    assert signed_in(browser)


@pytest.mark.parametrize("name", PAGES)
def test_without_two_step_every_sign_in_page_signs_in_at_once(
    client: TestClient, container: Container, ada: str, name: str
) -> None:
    target = _sign_in_pages(container)[name]
    page = client.get(target.page)
    form = {"email": ada, "password": PASSWORD, "csrf_token": csrf_of(page.text), **target.form}
    answer = client.post(target.post, data=form, follow_redirects=False)
    assert (answer.status_code, answer.headers["location"]) == (303, target.then)
    assert signed_in(client)


@pytest.mark.parametrize("name", PAGES)
def test_every_sign_in_page_is_locked_out_alike(client: TestClient, container: Container, ada: str, name: str) -> None:
    target = _sign_in_pages(container)[name]
    page = client.get(target.page)
    form = {"email": ada, "password": WRONG, "csrf_token": csrf_of(page.text), **target.form}
    for _ in range(5):
        assert client.post(target.post, data=form).status_code == 401
    locked = client.post(target.post, data={**form, "password": PASSWORD})
    assert (locked.status_code, alert(locked.text)) == (401, LOCKED_MESSAGE)


# --- session fixation ----------------------------------------------------------------------------------


def test_a_session_planted_before_sign_in_is_not_the_one_after(
    client: TestClient, container: Container, ada: str
) -> None:
    container.accounts.sign_up("mallory@example.com", PASSWORD, "Mallory")
    attacker = new_browser(client)
    sign_in(attacker, "mallory@example.com")
    planted = attacker.cookies.get("horae_session")
    planted_session = session_of(attacker)
    victim = new_browser(client)
    victim.cookies.set("horae_session", str(planted), domain="127.0.0.1")
    sign_in(victim, ada)
    after = session_of(victim)
    assert after["sid"] != planted_session["sid"] and after.get("csrf") != planted_session["csrf"]
    # The attacker's cookie is still only the attacker's.
    assert "mallory@example.com" in attacker.get(GUARDED).text and "ada@example.com" not in attacker.get(GUARDED).text


def test_the_two_step_sign_in_also_gets_a_new_session_id(client: TestClient, ada: str, clock: FakeClock) -> None:
    sign_in(client, ada)
    secret, _ = enrol(client, clock)
    before = session_of(client)
    password_login(client, ada)
    assert "sid" not in session_of(client)  # the earlier session ended when the new sign-in began
    assert not signed_in(client)
    submit_code(client, code_now(secret, clock))
    assert session_of(client)["sid"] != before["sid"] and signed_in(client)


# --- CSRF -------------------------------------------------------------------------------------------------


SECURITY_FORMS: dict[str, dict[str, str]] = {
    "/dashboard/security/mfa/start": {},
    "/dashboard/security/mfa/confirm": {"code": "123456"},
    "/dashboard/security/mfa/remove": {"password": PASSWORD, "code": "123456"},
    "/dashboard/security/mfa/recovery-codes": {"password": PASSWORD},
    "/dashboard/security/password": {
        "current_password": PASSWORD,
        "new_password": "x" * 12,
        "repeat_password": "x" * 12,
    },
    "/dashboard/security/sessions/end-others": {},
    "/login/mfa": {"code": "123456"},
    "/password-reset": {"email": "ada@example.com"},
    "/password-reset/some-token": {"new_password": "x" * 12, "repeat_password": "x" * 12},
}


@pytest.mark.parametrize("path", list(SECURITY_FORMS))
@pytest.mark.parametrize("token", ["", "forged"])
def test_every_security_form_refuses_a_missing_or_forged_csrf_token(
    client: TestClient, ada: str, path: str, token: str
) -> None:
    sign_in(client, ada)
    answer = client.post(path, data={**SECURITY_FORMS[path], "csrf_token": token}, follow_redirects=False)
    assert answer.status_code == 403 and "did not come from this site" in answer.text
    sign_in(new_browser(client), ada)  # the password is unchanged
    assert signed_in(client)  # and no session ended


# --- pages never break on odd input ------------------------------------------------------------------------


@pytest.mark.parametrize("email", ["a\x00b@example.com", "", "x" * 5000, "<b>@example.com"])
def test_odd_addresses_are_refused_plainly_on_sign_in_and_reset(client: TestClient, email: str) -> None:
    assert password_login(client, email, WRONG).status_code == 401
    page = client.get("/password-reset")
    answer = client.post("/password-reset", data={"email": email, "csrf_token": csrf_of(page.text)})
    assert answer.status_code == 200 and 'id="reset-sent"' in answer.text


@pytest.mark.parametrize("code", ["", " ", "x" * 5000, "１２３４５６", "<script>", "12345\u0000"])
def test_odd_codes_are_refused_plainly(client: TestClient, ada: str, clock: FakeClock, code: str) -> None:
    sign_in(client, ada)
    enrol(client, clock)
    browser = new_browser(client)
    password_login(browser, ada)
    answer = submit_code(browser, code)
    assert answer.status_code == 401 and "<script>" not in answer.text
    token = csrf_of(client.get(GUARDED).text)
    assert client.post("/dashboard/security/mfa/confirm", data={"code": code, "csrf_token": token}).status_code == 422
