"""The dashboard's "Your Profile" in Chromium against a live `horae serve`: a person signs up on the
dashboard, sets their time zone, and an application they authorize afterwards sees it as `zoneinfo` in
`/v1/userinfo` (through pycronofy)."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import Browser

from tests.e2e.conftest import BROWSER_TIMEOUT_MS, Application, AuthorizePages, CallbackRecorder, Person
from tests.e2e.processes import HoraeProcess
from tests.e2e.test_pycronofy_flow import sdk_client

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("browser")]


def test_the_time_zone_set_on_the_profile_page_is_the_userinfo_zoneinfo(
    horae_server: HoraeProcess,
    application: Application,
    callback: CallbackRecorder,
    browser: Browser,
    authorize_pages: AuthorizePages,
) -> None:
    person = Person.new("tz")
    context = browser.new_context(viewport={"width": 390, "height": 844})  # a phone-sized screen
    context.set_default_timeout(BROWSER_TIMEOUT_MS)
    try:
        page = context.new_page()
        page.goto(f"{horae_server.url}/dashboard")
        assert page.url.startswith(f"{horae_server.url}/login?next=")
        form = page.locator("#signup-form")
        form.get_by_label("Name").fill(person.name)
        form.get_by_label("Email").fill(person.email)
        form.get_by_label("Password (8 characters or more)").fill(person.password)
        form.get_by_role("button", name="Create account").click()
        page.wait_for_url(f"{horae_server.url}/dashboard/profile")
        assert page.get_by_role("link", name="Your profile").get_attribute("aria-current") == "page"

        details = page.locator("#details-form")
        details.get_by_label("Time zone").fill("America/Sao_Paulo")
        details.get_by_role("button", name="Save details").click()
        page.get_by_role("status").wait_for()
        assert details.get_by_label("Time zone").input_value() == "America/Sao_Paulo"

        # The same browser authorizes an application: it is signed in already, so consent comes at once.
        client = sdk_client(horae_server, application)
        state = f"state-{uuid.uuid4().hex}"
        page.goto(client.user_auth_link(callback.redirect_uri, scope="read_account", state=state))
        returned = authorize_pages.decide(page, "allow", state)
        client.get_authorization_from_code(returned["code"], redirect_uri=callback.redirect_uri)
        info = client.userinfo()
        assert info["email"] == person.email and info["zoneinfo"] == "America/Sao_Paulo"
    finally:
        context.close()
