"""Two-step sign-in in Chromium against a live `horae serve`: a person sets up an authenticator on the
dashboard's Security page (reading the key shown beside the QR code, as an app would read the code), signs
out, and signs in again with a code; then once more with a recovery code."""

from __future__ import annotations

import time

import pyotp
import pytest
from playwright.sync_api import Browser, Page

from tests.e2e.conftest import BROWSER_TIMEOUT_MS, Person
from tests.e2e.processes import HoraeProcess

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("browser")]


def _sign_in_with_password(page: Page, base: str, person: Person) -> None:
    page.goto(f"{base}/login")
    form = page.locator("#login-form")
    form.get_by_label("Email").fill(person.email)
    form.get_by_label("Password").fill(person.password)
    form.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/login/mfa")


def _log_out(page: Page, base: str) -> None:
    page.locator("#logout").click()
    page.wait_for_url(f"{base}/login")


def test_enrol_totp_then_sign_in_with_a_code_and_with_a_recovery_code(
    horae_server: HoraeProcess, browser: Browser
) -> None:
    base = horae_server.url
    person = Person.new("mfa")
    context = browser.new_context()
    context.set_default_timeout(BROWSER_TIMEOUT_MS)
    try:
        page = context.new_page()
        page.goto(f"{base}/login?next=/dashboard/security")
        form = page.locator("#signup-form")
        form.get_by_label("Email").fill(person.email)
        form.get_by_label("Password (8 characters or more)").fill(person.password)
        form.get_by_role("button", name="Create account").click()
        page.wait_for_url(f"{base}/dashboard/security")
        assert "off" in page.locator("#mfa-status").inner_text()

        page.get_by_role("button", name="Set up two-step sign-in").click()
        qr = page.get_by_role("img", name="QR code for your authenticator app")
        qr.wait_for()
        assert qr.bounding_box() is not None and qr.bounding_box()["width"] > 50  # type: ignore[index]
        totp = pyotp.TOTP(page.locator("#mfa-secret").inner_text().strip())
        page.locator("#mfa-confirm-code").fill(totp.now())
        page.get_by_role("button", name="Turn on two-step sign-in").click()
        page.locator("#mfa-on-now").wait_for()
        recovery = [c.strip() for c in page.locator("#recovery-codes code").all_inner_texts()]
        assert len(recovery) == 10
        assert "on" in page.locator("#mfa-status").inner_text()

        _log_out(page, base)
        _sign_in_with_password(page, base, person)
        # The code the app shows next: a code is accepted once, and the one typed to confirm may still be current.
        page.locator("#mfa-code").fill(totp.at(time.time() + 30))
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{base}/dashboard/profile")
        assert person.email in page.locator(".dashboard-nav").inner_text()

        _log_out(page, base)
        _sign_in_with_password(page, base, person)
        page.locator("#mfa-code").fill(recovery[0])
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{base}/dashboard/profile")
        page.goto(f"{base}/dashboard/security")
        assert "9 recovery codes left" in page.locator("#mfa-status").inner_text()
    finally:
        context.close()
