"""Passwords after sign-up: changing one (other sessions end, this one stays), signing out everywhere else,
and resetting a forgotten one through a single-use, hour-long link mailed over SMTP; the asking page says
the same whoever is asked about; and no password, code, secret or link ever reaches the logs."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from horae import bootstrap
from horae.api.app import create_app
from horae.container import Container
from horae.db import tables
from horae.domain.security import LOCKED_MESSAGE
from horae.settings import Settings
from tests.fakes import FakeClock
from tests.helpers import csrf_of
from tests.mail_catcher import MailCatcher, mail_catcher
from tests.security_flows import (
    GUARDED,
    PASSWORD,
    alert,
    code_now,
    enrol,
    new_browser,
    password_login,
    sign_in,
    signed_in,
    submit_code,
)

NEW = "a much better passphrase"
ADA = "ada@example.com"
TEST_SIDE_LOGGERS = ("httpx", "httpcore", "mail.log")


@pytest.fixture
def catcher() -> Iterator[MailCatcher]:
    with mail_catcher() as running:
        yield running


@pytest.fixture
def mailing(settings: Settings, clock: FakeClock, catcher: MailCatcher) -> Iterator[Container]:
    """The app wired with an SMTP server, as `HORAE_SMTP_URL` would."""
    built = bootstrap.build(settings.model_copy(update={"smtp_url": catcher.url()}), clock)
    built.accounts.sign_up(ADA, PASSWORD, "Ada")
    yield built
    built.uow.engine.dispose()  # type: ignore[attr-defined]


@pytest.fixture
def web(mailing: Container) -> TestClient:
    return TestClient(create_app(mailing), base_url="http://127.0.0.1:8000")


def _change(client: TestClient, current: str, new: str, repeat: str | None = None) -> tuple[int, str]:
    token = csrf_of(client.get(GUARDED).text)
    form = {"current_password": current, "new_password": new, "repeat_password": new if repeat is None else repeat}
    answer = client.post("/dashboard/security/password", data={**form, "csrf_token": token})
    return answer.status_code, answer.text


def _ask_reset(client: TestClient, email: str) -> tuple[int, str]:
    page = client.get("/password-reset")
    answer = client.post("/password-reset", data={"email": email, "csrf_token": csrf_of(page.text)})
    return answer.status_code, answer.text


def _reset_path(catcher: MailCatcher, index: int = -1) -> str:
    [link] = catcher.links(index)
    assert link.startswith("http://127.0.0.1:8000/password-reset/")
    return urlsplit(link).path


def _set_new(client: TestClient, path: str, new: str = NEW, repeat: str | None = None) -> tuple[int, str]:
    page = client.get(path)
    token = csrf_of(page.text) if page.status_code == 200 else csrf_of(client.get("/password-reset").text)
    form = {"new_password": new, "repeat_password": new if repeat is None else repeat, "csrf_token": token}
    answer = client.post(path, data=form)
    return answer.status_code, answer.text


# --- changing the password -------------------------------------------------------------------------------


def test_changing_the_password_ends_every_other_session(web: TestClient) -> None:
    sign_in(web, ADA)
    laptop, phone = new_browser(web), new_browser(web)
    sign_in(laptop, ADA)
    sign_in(phone, ADA)
    status, page = _change(web, PASSWORD, NEW)
    assert status == 200 and "Password changed. 2 other sessions signed out." in page
    assert signed_in(web) and not signed_in(laptop) and not signed_in(phone)
    assert password_login(new_browser(web), ADA, PASSWORD).status_code == 401
    sign_in(laptop, ADA, NEW)


@pytest.mark.parametrize(
    ("current", "new", "repeat", "message"),
    [
        ("wrong password", NEW, NEW, "that is not your current password"),
        (PASSWORD, "short", "short", "at least 8 characters"),
        (PASSWORD, NEW, NEW + "!", "the two new passwords are not the same"),
    ],
)
def test_a_password_change_is_refused_with_a_reason(
    web: TestClient, current: str, new: str, repeat: str, message: str
) -> None:
    sign_in(web, ADA)
    other = new_browser(web)
    sign_in(other, ADA)
    status, page = _change(web, current, new, repeat)
    assert status == 422 and message in alert(page)
    assert signed_in(other)  # nothing changed
    sign_in(new_browser(web), ADA, PASSWORD)


def test_guessing_the_current_password_on_the_security_page_is_locked_out_too(web: TestClient) -> None:
    sign_in(web, ADA)
    for _ in range(5):
        assert _change(web, "guess", NEW)[0] == 422
    status, page = _change(web, PASSWORD, NEW)
    assert (status, alert(page)) == (429, LOCKED_MESSAGE)
    assert alert(password_login(new_browser(web), ADA).text) == LOCKED_MESSAGE


def test_signing_out_everywhere_else_keeps_this_browser(web: TestClient) -> None:
    sign_in(web, ADA)
    others = [new_browser(web) for _ in range(3)]
    for browser in others:
        sign_in(browser, ADA)
    page = web.get(GUARDED)
    answer = web.post("/dashboard/security/sessions/end-others", data={"csrf_token": csrf_of(page.text)})
    assert answer.status_code == 200 and "3 other sessions signed out." in answer.text
    assert signed_in(web) and not any(signed_in(b) for b in others)


# --- resetting a forgotten password ----------------------------------------------------------------------


def test_a_reset_link_is_mailed_and_sets_a_new_password_once(
    web: TestClient, mailing: Container, catcher: MailCatcher
) -> None:
    signed = new_browser(web)
    sign_in(signed, ADA)
    status, page = _ask_reset(web, " Ada@Example.com ")
    assert status == 200 and 'id="reset-sent"' in page
    [mail] = catcher.wait_for(1)
    assert (mail["To"], mail["Subject"], catcher.recipients) == (ADA, "Reset your Horae password", [[ADA]])
    path = _reset_path(catcher)
    form = web.get(path)
    assert form.status_code == 200 and 'id="new-password-form"' in form.text
    assert _set_new(web, path, NEW, "different")[0] == 422
    status, done = _set_new(web, path)
    assert status == 200 and 'id="reset-done"' in done
    assert not signed_in(signed)  # every session ended
    sign_in(new_browser(web), ADA, NEW)
    again = web.get(path)
    assert again.status_code == 404 and "expired or was already used" in again.text
    assert _set_new(web, path, "yet another one")[0] == 404
    sign_in(new_browser(web), ADA, NEW)


def test_the_asking_page_says_the_same_for_an_unknown_address(web: TestClient, catcher: MailCatcher) -> None:
    known = _ask_reset(web, ADA)
    unknown = _ask_reset(new_browser(web), "nobody@example.com")
    malformed = _ask_reset(new_browser(web), "not an address <script>")
    assert known == unknown == malformed
    catcher.wait_for(1)
    assert catcher.recipients == [[ADA]]


def test_a_forged_host_header_does_not_steer_the_link(web: TestClient, catcher: MailCatcher) -> None:
    page = web.get("/password-reset")
    form = {"email": ADA, "csrf_token": csrf_of(page.text)}
    assert web.post("/password-reset", data=form, headers={"Host": "evil.example"}).status_code == 200
    catcher.wait_for(1)
    _reset_path(catcher)  # still http://127.0.0.1:8000 (HORAE_HOST and HORAE_PORT, or HORAE_PUBLIC_BASE_URL)


def test_a_reset_link_lasts_one_hour(web: TestClient, catcher: MailCatcher, clock: FakeClock) -> None:
    _ask_reset(web, ADA)
    catcher.wait_for(1)
    path = _reset_path(catcher)
    clock.advance(minutes=59)
    assert web.get(path).status_code == 200
    clock.advance(minutes=1)
    assert web.get(path).status_code == 404
    assert _set_new(web, path)[0] == 404
    sign_in(web, ADA, PASSWORD)


def test_a_reset_lifts_the_lock_out_and_leaves_two_step_on(
    web: TestClient, catcher: MailCatcher, clock: FakeClock
) -> None:
    sign_in(web, ADA)
    secret, _ = enrol(web, clock)
    browser = new_browser(web)
    for _ in range(6):
        password_login(browser, ADA, "wrong password")
    assert alert(password_login(browser, ADA).text) == LOCKED_MESSAGE
    _ask_reset(browser, ADA)
    catcher.wait_for(1)
    assert _set_new(browser, _reset_path(catcher))[0] == 200
    assert password_login(browser, ADA, NEW).headers["location"] == "/login/mfa"
    assert submit_code(browser, code_now(secret, clock)).status_code == 303


def test_at_most_one_reset_mail_a_minute(web: TestClient, catcher: MailCatcher, clock: FakeClock) -> None:
    first = _ask_reset(web, ADA)
    catcher.wait_for(1)
    assert _ask_reset(web, ADA) == first
    clock.advance(seconds=61)
    _ask_reset(web, ADA)
    catcher.wait_for(2)
    assert len(catcher.messages) == 2
    # A password set through the newer link voids the older one too.
    older, newer = _reset_path(catcher, 0), _reset_path(catcher, 1)
    assert _set_new(web, newer)[0] == 200
    assert web.get(older).status_code == 404


def test_a_changed_password_voids_outstanding_reset_links(web: TestClient, catcher: MailCatcher) -> None:
    _ask_reset(web, ADA)
    catcher.wait_for(1)
    sign_in(web, ADA)
    assert _change(web, PASSWORD, NEW)[0] == 200
    assert web.get(_reset_path(catcher)).status_code == 404


def test_a_mail_server_that_is_down_changes_nothing_in_the_answer(
    settings: Settings, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    with mail_catcher() as gone:
        url = gone.url()
    built = bootstrap.build(settings.model_copy(update={"smtp_url": url}), clock)
    try:
        built.accounts.sign_up(ADA, PASSWORD, "Ada")
        client = TestClient(create_app(built), base_url="http://127.0.0.1:8000")
        with caplog.at_level(logging.WARNING):
            status, page = _ask_reset(client, ADA)
        assert status == 200 and 'id="reset-sent"' in page
        assert any(r.getMessage() == "password reset mail failed" for r in caplog.records)
    finally:
        built.uow.engine.dispose()  # type: ignore[attr-defined]


def test_reset_tokens_are_stored_only_as_digests(web: TestClient, mailing: Container, catcher: MailCatcher) -> None:
    _ask_reset(web, ADA)
    catcher.wait_for(1)
    token = _reset_path(catcher).rsplit("/", 1)[1]
    with mailing.uow.engine.connect() as conn:  # type: ignore[attr-defined]
        stored = repr(list(conn.execute(select(tables.password_resets))))
    assert token not in stored and len(token) >= 40


def test_an_operator_link_works_like_a_mailed_one(web: TestClient, mailing: Container) -> None:
    link = mailing.account_security.reset_link("ADA@example.com", "https://horae.example/")
    assert re.fullmatch(r"https://horae\.example/password-reset/[A-Za-z0-9_-]{40,}", link)
    assert _set_new(web, urlsplit(link).path)[0] == 200
    sign_in(web, ADA, NEW)


# --- nothing secret in the logs ----------------------------------------------------------------------------


def test_no_password_code_secret_or_link_reaches_the_logs(
    web: TestClient, mailing: Container, catcher: MailCatcher, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        sign_in(web, ADA)
        password_login(new_browser(web), ADA, "a wrong guess")
        secret, codes = enrol(web, clock)
        browser = new_browser(web)
        password_login(browser, ADA)
        code = code_now(secret, clock)
        submit_code(browser, code)
        other = new_browser(web)
        password_login(other, ADA)
        submit_code(other, codes[0])
        _change(web, PASSWORD, NEW)
        _ask_reset(web, ADA)
        catcher.wait_for(1)
        path = _reset_path(catcher)
        _set_new(web, path, "the newest passphrase")
        web.get(path)  # spent by now: refused, and logged like any request
    token = path.rsplit("/", 1)[1]
    # Everything but the test's own side: its HTTP client and its SMTP server, which see the link by design.
    server_side = [r for r in caplog.records if not r.name.startswith(TEST_SIDE_LOGGERS)]
    logged = "\n".join(f"{r.getMessage()} {r.__dict__!r}" for r in server_side)
    assert "request" in logged and "password reset mailed" in logged  # the flows were logged at all
    for secret_value in [PASSWORD, "a wrong guess", NEW, "the newest passphrase", secret, code, token, *codes]:
        assert secret_value not in logged, secret_value
    assert "/password-reset/[secret]" in logged
