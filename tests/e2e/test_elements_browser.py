"""Cronofy's own UI Elements (`cronofy-elements` 1.67.7 from npm, unchanged) in Chromium, on a page served from
another loopback origin, talking to a live `horae serve` through their `api_domain` option: each of the six
renders Horae's data, the pickers report `slot_selected`, Availability Rules saves a rule that the next
availability query honours, a page on a wrong origin gets nothing, and nothing is fetched from outside."""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.e2e.conftest import BROWSER_TIMEOUT_MS, CHROMIUM_ARGS
from tests.e2e.elements_page import ElementsSite
from tests.e2e.elements_world import RULE_ID, World, at, element_options, seed, z
from tests.e2e.processes import HoraeProcess, serve

pytestmark = [pytest.mark.e2e]

# No name resolves in this browser: an Element reaching for anything but the loopback addresses fails.
OFFLINE_ARGS = [*CHROMIUM_ARGS, "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]
LOOPBACK = "http://127.0.0.1:"


def answered(server: HoraeProcess, method: str, path: str) -> list[int]:
    """The statuses the server's request log shows for this method and path (preflights included)."""
    found = []
    for line in server.log().splitlines():
        if line.startswith("{"):
            entry = json.loads(line)
            if entry.get("message") == "request" and (entry.get("method"), entry.get("path")) == (method, path):
                found.append(int(entry["status"]))
    return found


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HoraeProcess]:
    data_dir = tmp_path_factory.mktemp("elements-data")
    started = serve(data_dir, tmp_path_factory.mktemp("elements-logs"), name="elements")
    yield started
    started.stop()


@pytest.fixture(scope="module")
def world(server: HoraeProcess) -> World:
    return seed(server.url, Path(server.env["HORAE_DATA_DIR"]))


@pytest.fixture(scope="module")
def site() -> Iterator[ElementsSite]:
    started = ElementsSite().start()
    yield started
    started.stop()


@pytest.fixture(scope="module")
def offline_browser() -> Iterator[Browser]:
    executable = os.environ.get("HORAE_TEST_CHROMIUM") or "/usr/bin/chromium"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, headless=True, args=OFFLINE_ARGS)
        yield launched
        launched.close()


class Visit:
    """One Element's page in a fresh browser context, with every request and console line it made."""

    def __init__(self, browser: Browser, url: str) -> None:
        self.context = browser.new_context(viewport={"width": 1280, "height": 800})
        self.context.set_default_timeout(BROWSER_TIMEOUT_MS)
        self.page: Page = self.context.new_page()
        self.requests: list[tuple[str, str]] = []
        self.console: list[str] = []
        self.page.on("request", lambda r: self.requests.append((r.method, r.url)))
        self.page.on("console", lambda m: self.console.append(f"{m.type}: {m.text}"))
        self.page.goto(url)

    def notifications(self, kind: str) -> list[dict[str, Any]]:
        """The page callback's notifications of this type, once at least one has arrived."""
        self.page.wait_for_function(
            "kind => window.notifications.some(n => n.notification && n.notification.type === kind)", arg=kind
        )
        found = self.page.evaluate("() => window.notifications")
        return [n for n in found if n.get("notification", {}).get("type") == kind]

    def api_calls(self, api: str) -> list[tuple[str, str]]:
        return [(method, urlsplit(url).path) for method, url in self.requests if url.startswith(api)]

    def assert_stayed_local(self) -> None:
        outside = [url for _, url in self.requests if not url.startswith(LOOPBACK)]
        assert outside == [], outside

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def visit(offline_browser: Browser, site: ElementsSite, world: World) -> Iterator[Any]:
    opened: list[Visit] = []

    def open_element(name: str, origin_site: ElementsSite | None = None) -> Visit:
        element, options = element_options(world, site.origin)[name]
        host = origin_site or site
        page = Visit(offline_browser, host.put(f"/{name}.html", element, name, options))
        opened.append(page)
        return page

    yield open_element
    for page in opened:
        page.assert_stayed_local()
        page.close()


def test_agenda_shows_the_accounts_events(visit: Any, world: World, server: HoraeProcess) -> None:
    page = visit("agenda")
    for summary in ("Design review", "Lunch with Sam", "Planning"):
        page.page.get_by_text(summary).first.wait_for()
    assert ("GET", "/v1/events") in page.api_calls(world.api)
    assert 204 in answered(server, "OPTIONS", "/v1/events")  # the Cronofy-Element header makes it preflighted
    [query] = [parse_qs(urlsplit(url).query) for m, url in page.requests if m == "GET" and "/v1/events" in url][:1]
    assert query["include_userinfo"] == ["true"] and "et" in query


def test_slot_picker_offers_the_common_free_slots_and_reports_the_choice(visit: Any, world: World) -> None:
    page = visit("slot-picker")
    days = page.page.locator(".SlotPicker__slot")
    days.first.wait_for()
    assert days.count() == 2  # the two days queried
    days.first.click()
    times = page.page.locator(".SlotPicker__slot", has_text="11:00")
    times.first.click()
    [selected] = page.notifications("slot_selected")
    slot = selected["notification"]["slot"]
    # 09:00 the room is booked, 10:00 the demo person's design review: 11:00 is the first common hour.
    assert (slot["start"], slot["end"]) == (z(at(world.week, 11)), z(at(world.week, 12)))
    assert {p["sub"] for p in slot["participants"]} == {world.sub, world.room_sub}
    assert ("POST", "/v1/availability") in page.api_calls(world.api)


def test_availability_viewer_shows_the_week_and_reports_the_choice(visit: Any, world: World) -> None:
    page = visit("availability-viewer")
    available = page.page.locator(".CronofyAvailabilityViewer__slot-background--available")
    available.first.wait_for()
    box = available.first.bounding_box()
    assert box is not None
    page.page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    [selected] = page.notifications("slot_selected")
    assert selected["notification"]["slot"]["start"] == z(at(world.week, 11))
    assert selected["notification"]["slot"]["end"] == z(at(world.week, 12))


def test_date_time_picker_shows_the_days_times(visit: Any, world: World) -> None:
    page = visit("date-time-picker")
    first = page.page.get_by_role("button", name="11:00 AM - 12:00 PM (UTC)")
    first.wait_for()
    for label in ("1:00 PM - 2:00 PM (UTC)", "4:00 PM - 5:00 PM (UTC)"):
        assert page.page.get_by_role("button", name=label).is_visible()
    # Meetings and the room's booking leave these hours out.
    assert page.page.get_by_role("button", name="10:00 AM - 11:00 AM (UTC)").count() == 0
    first.click()
    [selected] = page.notifications("slot_selected")
    assert selected["notification"]["slot"]["start"] == z(at(world.week, 11))


def test_availability_rules_saves_a_rule_the_next_query_honours(visit: Any, world: World) -> None:
    rule_url = f"{world.api}/v1/availability_rules/{RULE_ID}"
    assert httpx.get(rule_url, headers={"Authorization": f"Bearer {world.access_token}"}).status_code == 404
    page = visit("availability-rules")
    monday = page.page.locator(".AvailabilityViewer__slots-column").nth(1)
    nine = monday.locator(".AvailabilityViewer__slot").nth(1)  # 08:00 is the first row
    nine.locator("button").wait_for()
    assert "AvailabilityViewer__slot--available" in (nine.get_attribute("class") or "")
    nine.locator("button").click()  # Mondays 09:00-10:00: no longer available
    page.page.get_by_role("button", name="Save new rules").click()
    [saved] = page.notifications("availability_rule_saved")
    assert saved["availability_rule"]["availability_rule_id"] == RULE_ID
    stored = httpx.get(rule_url, headers={"Authorization": f"Bearer {world.access_token}"})
    assert stored.status_code == 200
    mondays = [p for p in stored.json()["availability_rule"]["weekly_periods"] if p["day"] == "monday"]
    assert [(p["start_time"], p["end_time"]) for p in mondays] == [("10:00", "17:00")]
    query = {
        "participants": [{"members": [{"sub": world.sub, "managed_availability": True}], "required": "all"}],
        "required_duration": {"minutes": 60},
        "query_periods": [
            {"start": z(at(world.week - dt.timedelta(days=2), 0)), "end": z(at(world.week + dt.timedelta(days=1), 0))}
        ],
    }
    answer = httpx.post(f"{world.api}/v1/availability", json=query, headers=world.key)
    assert answer.status_code == 200, answer.text
    periods = [(p["start"], p["end"]) for p in answer.json()["available_periods"]]
    # Nothing at the weekend, nothing before 10:00 on Monday, and the day's meetings stay busy.
    assert periods == [
        (z(at(world.week, 11)), z(at(world.week, 12))),
        (z(at(world.week, 13)), z(at(world.week, 15))),
        (z(at(world.week, 16)), z(at(world.week, 17))),
    ]


def test_calendar_sync_lists_the_profiles_and_links_to_horaes_authorize(visit: Any, world: World) -> None:
    page = visit("calendar-sync")
    page.page.get_by_text("demo@horae.localhost").wait_for()
    page.page.get_by_text("Add calendar account").click()
    links = page.page.locator(f"a[href^='{world.api}/oauth/authorize']")
    links.first.wait_for()
    href = links.first.get_attribute("href") or ""
    query = parse_qs(urlsplit(href).query)
    assert query["client_id"] == [world.client_id] and query["response_type"] == ["code"]
    assert ("GET", "/v1/userinfo") in page.api_calls(world.api)


def test_a_page_on_another_origin_gets_nothing(visit: Any, world: World, server: HoraeProcess) -> None:
    other = ElementsSite().start()
    try:
        page = visit("agenda", origin_site=other)
        page.page.get_by_text("There was an error loading the element").wait_for()
        assert page.page.get_by_text("Design review").count() == 0
        assert any("check your element_token is valid" in line for line in page.console), page.console
        assert any("blocked by CORS policy" in line for line in page.console), page.console
        assert 403 in answered(server, "OPTIONS", "/v1/events")
    finally:
        other.stop()
