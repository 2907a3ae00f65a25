"""Organizational units in Chromium against a live `horae serve`: an Owner signs up, creates a unit and invites
a colleague; the colleague accepts in a second browser context (another person's browser); the Owner
changes their role, creates an application and rotates its secret, and the new Developer sees the
application without its secret."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, BrowserContext, Page

from tests.e2e.conftest import BROWSER_TIMEOUT_MS, Person
from tests.e2e.processes import HoraeProcess

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("browser")]


def _sign_up(context: BrowserContext, base: str, person: Person, next_path: str) -> Page:
    page = context.new_page()
    page.goto(f"{base}/login?next={next_path}")
    form = page.locator("#signup-form")
    form.get_by_label("Name").fill(person.name)
    form.get_by_label("Email").fill(person.email)
    form.get_by_label("Password (8 characters or more)").fill(person.password)
    form.get_by_role("button", name="Create account").click()
    page.wait_for_url(f"{base}{next_path}")
    return page


def test_a_unit_is_created_shared_and_given_an_application(horae_server: HoraeProcess, browser: Browser) -> None:
    base = horae_server.url
    owner, colleague = Person.new("owner"), Person.new("colleague")
    contexts = [browser.new_context(), browser.new_context(viewport={"width": 390, "height": 844})]
    for context in contexts:
        context.set_default_timeout(BROWSER_TIMEOUT_MS)
    try:
        page = _sign_up(contexts[0], base, owner, "/dashboard/units")
        page.locator("#create-unit-form").get_by_label("Name").fill("Scheduling team")
        page.get_by_role("button", name="Create unit").click()
        page.wait_for_url(f"{base}/dashboard/units/uni_*")
        unit_url = page.url
        assert page.locator("#my-role").inner_text() == "Owner"

        invite = page.locator("#invite-form")
        invite.get_by_label("Email").fill(colleague.email)
        invite.get_by_label("Role").select_option("support")
        invite.get_by_role("button", name="Invite").click()
        link = page.locator("#invitation-link").input_value()  # no mail server: the Owner passes it on
        assert link.startswith(f"{base}/invitations/")

        # The colleague, in their own browser, follows the link, signs up and joins.
        other = contexts[1].new_page()
        other.goto(link)
        other.wait_for_url(f"{base}/login?next=*")
        form = other.locator("#signup-form")
        form.get_by_label("Name").fill(colleague.name)
        form.get_by_label("Email").fill(colleague.email)
        form.get_by_label("Password (8 characters or more)").fill(colleague.password)
        form.get_by_role("button", name="Create account").click()
        other.locator("#accept").click()
        other.wait_for_url(f"{unit_url}*")
        assert other.locator("#my-role").inner_text() == "Support"
        assert other.locator("#new-application").count() == 0  # Support creates nothing

        # The Owner makes the colleague a Developer, then creates an application and rotates its secret.
        page.goto(unit_url)
        page.get_by_role("combobox", name=f"Role of {colleague.email}").select_option("developer")
        page.get_by_role("button", name=f"Change the role of {colleague.email}").click()
        page.wait_for_load_state()
        assert page.get_by_role("combobox", name=f"Role of {colleague.email}").input_value() == "developer"
        page.locator("#new-application").click()
        created = page.locator("#create-application-form")
        created.get_by_label("Name").fill("Booking site")
        created.get_by_label("Redirect URIs, one per line").fill("https://booking.example/callback")
        created.get_by_role("button", name="Create application").click()
        first = page.locator("#client-secret").input_value()
        assert len(first) > 20
        page.locator("#rotate").click()
        second = page.locator("#client-secret").input_value()
        assert second and second != first
        assert page.locator("#secrets tbody tr").count() == 2  # the old one stays until revoked
        other.goto(unit_url)  # the new Developer finds the application on the unit's page
        other.get_by_role("link", name="Booking site").click()
        assert other.locator("#client-id").inner_text() == page.locator("#client-id").inner_text()
        html = other.content()
        assert first not in html and second not in html  # never shown again, to anyone
    finally:
        for context in contexts:
            context.close()
