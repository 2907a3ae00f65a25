"""Screenshots of Cronofy's six UI Elements running on Horae, at desktop and phone width, for the docs.

Starts a throwaway `horae serve` (its own temporary data directory, demo data seeded), gives the demo person a
week of meetings and a room, serves a page per Element from another loopback origin (the real
`cronofy-elements` package from tests/e2e/elements/node_modules: run `npm ci` there first) and saves
`elements-<name>-desktop.png` (1280x800) and `elements-<name>-phone.png` (390x844) into docs/screenshots/.
Chromium is Debian's (HORAE_TEST_CHROMIUM or /usr/bin/chromium) and resolves no names: nothing leaves loopback.

    .venv/bin/python scripts/screenshots_elements.py [--out docs/screenshots]
"""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Page
from screenshot_kit import SIZES, TIMEOUT_MS, chromium, output_dir, save, throwaway_server

from tests.e2e.elements_page import ElementsSite
from tests.e2e.elements_world import element_options, seed


def _slot_picker(page: Page) -> None:
    page.locator(".SlotPicker__slot").first.click()  # a day: its times are the more telling view
    page.locator(".SlotPicker__slot", has_text="11:00").first.wait_for()


# Each Element: its page title, and how to tell it has rendered Horae's data (then what to show).
READY: dict[str, tuple[str, Callable[[Page], None]]] = {
    "agenda": ("Agenda", lambda page: page.get_by_text("Design review").first.wait_for()),
    "slot-picker": ("Slot Picker", _slot_picker),
    "availability-viewer": (
        "Availability Viewer",
        lambda page: page.locator(".CronofyAvailabilityViewer__slot-background--available").first.wait_for(),
    ),
    "date-time-picker": (
        "Date-Time Picker",
        lambda page: page.get_by_role("button", name="11:00 AM - 12:00 PM (UTC)").wait_for(),
    ),
    "availability-rules": (
        "Availability Rules",
        lambda page: page.locator(".AvailabilityViewer__slot--available").first.wait_for(),
    ),
    "calendar-sync": ("Calendar Sync", lambda page: page.get_by_text("demo@horae.localhost").wait_for()),
}


def main() -> int:
    out = output_dir(__doc__.splitlines()[0])
    site = ElementsSite().start()
    try:
        with throwaway_server() as (server, data_dir), chromium() as browser:
            options = element_options(seed(server.url, data_dir), site.origin)
            for name, (title, ready) in READY.items():
                element, settings = options[name]
                url = site.put(f"/{name}.html", element, f"{title} on Horae", settings)
                for size, (width, height) in SIZES.items():
                    context = browser.new_context(viewport={"width": width, "height": height})
                    context.set_default_timeout(TIMEOUT_MS)
                    page = context.new_page()
                    page.goto(url)
                    ready(page)
                    save(page, out / f"elements-{name}-{size}.png")
                    context.close()
    finally:
        site.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
