"""The connect pages: a signed-in person subscribes to an ICS feed and tries a CalDAV server with a wrong
password, through the forms a browser would post; CSRF is required; the consent page links here and the
way back is only ever into Horae's own authorize page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from horae.container import Container
from tests.contract import rig_ics
from tests.fakes import FakeClock
from tests.helpers import csrf_of, make_app, sign_up_and_consent


def signed_in_page(client: TestClient, container: Container) -> str:
    sign_up_and_consent(client, make_app(container), "ada@example.com")
    page = client.get("/connect")
    assert page.status_code == 200 and "Signed in as ada@example.com" in page.text
    return page.text


def test_subscribing_to_a_feed_from_the_page(
    request: pytest.FixtureRequest, client: TestClient, container: Container, clock: FakeClock
) -> None:
    page = signed_in_page(client, container)
    with rig_ics.make_rig(request) as feed:
        start = clock.now() + timedelta(days=1)
        feed.add("Match day", start, start + timedelta(hours=2))
        form = {"url": feed.conn.secrets["url"], "csrf_token": csrf_of(page), "return_to": "https://evil.example/"}
        done = client.post("/connect/ics", data=form, follow_redirects=False)
        assert done.status_code == 303 and done.headers["location"].startswith("/connect?linked=pro_")
        listed = client.get(done.headers["location"]).text
        assert "Connected." in listed and "connected</span>" in listed


def test_a_wrong_caldav_password_is_shown_on_the_form(client: TestClient, container: Container) -> None:
    page = signed_in_page(client, container)
    form = {"server_url": "http://127.0.0.1:9/", "username": "ada", "password": "x", "csrf_token": csrf_of(page)}
    refused = client.post("/connect/caldav", data=form)
    assert refused.status_code == 422 and 'role="alert"' in refused.text
    assert 'value="ada"' in refused.text  # what was typed is kept, except the password


def test_forms_need_the_csrf_token(client: TestClient, container: Container) -> None:
    signed_in_page(client, container)
    assert client.post("/connect/ics", data={"url": "https://example.com/feed.ics"}).status_code == 403


def test_signed_out_visitors_are_asked_to_sign_in(client: TestClient) -> None:
    page = client.get("/connect")
    assert page.status_code == 200 and "Sign in to connect a calendar" in page.text
