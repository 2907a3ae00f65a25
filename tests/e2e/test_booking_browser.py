"""Real-Time Scheduling in Chromium against a live `horae serve`: pycronofy makes a link, an invitee in
Tokyo opens it (their zone detected), picks a time with the keyboard, confirms, and lands on the
application's page; the event reads back through `GET /v1/events` and the completed callback arrives
signed on a loopback receiver. A disabled link shows its message."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pycronofy  # type: ignore[import-untyped]
import pytest
from playwright.sync_api import Browser

from tests.e2e.conftest import BROWSER_TIMEOUT_MS, Application, AuthorizePages, CallbackRecorder, Person
from tests.e2e.processes import HoraeProcess
from tests.integration.test_push_delivery import Receiver

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("browser")]

SCOPE = "read_account list_calendars read_events create_event delete_event read_free_busy"
CALLBACK_WAIT_SECONDS = 20.0


def the_one_post(receiver: Receiver) -> tuple[bytes, dict[str, str]]:
    """The raw body and headers of the one callback the receiver should get."""
    deadline = time.monotonic() + CALLBACK_WAIT_SECONDS
    while not receiver.received and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(receiver.received) == 1, receiver.received
    return receiver.received[0].body, receiver.received[0].headers


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    made = Receiver()
    yield made
    made.close()


def host(server: HoraeProcess, app: Application, pages: AuthorizePages, callback: CallbackRecorder) -> Any:
    """A person who signed up and let the application write their calendar; their pycronofy client."""
    client = pycronofy.Client(client_id=app.client_id, client_secret=app.client_secret)
    client.request_handler.base_url = client.app_base_url = server.url
    state = f"state-{uuid.uuid4().hex}"
    page = pages.open(client.user_auth_link(callback.redirect_uri, scope=SCOPE, state=state))
    pages.sign_up(page, Person.new("host"))
    code = pages.decide(page, "allow", state)["code"]
    client.get_authorization_from_code(code, redirect_uri=callback.redirect_uri)
    return client


def make_link(client: Any, receiver: Receiver, redirect: str, summary: str) -> dict[str, Any]:
    sub = client.userinfo()["sub"]
    calendar = client.list_calendars()[0]["calendar_id"]
    day = (datetime.now(UTC) + timedelta(days=2)).date().isoformat()
    made = client.real_time_scheduling(
        {
            "participants": {"members": [sub]},
            "required_duration": 30,
            "available_periods": [{"start": f"{day}T01:00:00Z", "end": f"{day}T03:00:00Z"}],
        },
        {"redirect_uri": redirect},
        {"event_id": f"rts-{uuid.uuid4().hex[:8]}", "summary": summary, "tzid": "Europe/London"},
        target_calendars=[{"sub": sub, "calendar_id": calendar}],
        callback_urls={"completed_url": receiver.url},
        redirect_urls={"completed_url": redirect},
    )
    return dict(made["real_time_scheduling"])


def test_an_invitee_books_a_time(
    horae_server: HoraeProcess,
    application: Application,
    callback: CallbackRecorder,
    authorize_pages: AuthorizePages,
    browser: Browser,
    receiver: Receiver,
) -> None:
    client = host(horae_server, application, authorize_pages, callback)
    state = f"booked-{uuid.uuid4().hex}"
    link = make_link(client, receiver, f"{callback.redirect_uri}?state={state}", "Intro call")
    context = browser.new_context(timezone_id="Asia/Tokyo", viewport={"width": 390, "height": 844})
    context.set_default_timeout(BROWSER_TIMEOUT_MS)
    try:
        page = context.new_page()
        page.goto(link["url"])
        page.wait_for_url(lambda url: "tz=Asia%2FTokyo" in url)  # the browser's zone, detected
        assert page.get_by_label("Times are shown in").input_value() == "Asia/Tokyo"
        # 01:00 UTC is 10:00 in Tokyo; nothing runs off the side of a phone's screen.
        assert page.locator("label.slot span").first.inner_text() == "10:00 – 10:30"
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        first = page.get_by_role("radio").first
        first.focus()
        page.keyboard.press("Space")
        assert first.is_checked()
        page.get_by_role("button", name="Continue").click()
        page.get_by_role("button", name="Confirm booking").wait_for()
        assert "10:00 – 10:30" in page.locator("#chosen").inner_text()
        page.get_by_role("button", name="Confirm booking").click()
        page.wait_for_url(lambda url: url.startswith(callback.redirect_uri))
        assert callback.visit_with_state(state) == {"state": state}
    finally:
        context.close()

    events = [e for e in client.read_events(include_managed=True, tzid="Etc/UTC") if e["summary"] == "Intro call"]
    assert len(events) == 1 and events[0]["start"].endswith("T01:00:00Z")
    raw, headers = the_one_post(receiver)
    expected = base64.b64encode(hmac.new(application.client_secret.encode(), raw, hashlib.sha256).digest()).decode()
    assert expected in headers["cronofy-hmac-sha256"].split(",")
    body = json.loads(raw)
    assert body["event"]["summary"] == "Intro call" and body["user"] == {"tzid": "Asia/Tokyo"}
    status = client.get_real_time_scheduling_status(real_time_scheduling_id=link["real_time_scheduling_id"])
    assert status["real_time_scheduling"]["status"] == "completed"


def test_a_disabled_link_shows_its_message(
    horae_server: HoraeProcess,
    application: Application,
    callback: CallbackRecorder,
    authorize_pages: AuthorizePages,
    browser: Browser,
    receiver: Receiver,
) -> None:
    client = host(horae_server, application, authorize_pages, callback)
    link = make_link(client, receiver, callback.redirect_uri, "Closed call")
    client.disable_real_time_scheduling_link(link["real_time_scheduling_id"], "This interview slot has been filled.")
    context = browser.new_context()
    context.set_default_timeout(BROWSER_TIMEOUT_MS)
    try:
        page = context.new_page()
        response = page.goto(link["url"])
        assert response is not None and response.status == 410
        assert page.get_by_role("status").inner_text() == "This interview slot has been filled."
        assert page.get_by_role("radio").count() == 0
    finally:
        context.close()
