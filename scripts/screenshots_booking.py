"""Screenshots of the hosted Real-Time Scheduling page (the slot list and the confirm page) at desktop and
phone width, for the docs.

Starts a throwaway `horae serve` (its own temporary data directory, demo data seeded), gives the demo person
a few meetings, makes a link with the demo application's API key, and saves `booking-<page>-desktop.png`
(1280x800) and `booking-<page>-phone.png` (390x844) into docs/screenshots/. Chromium is Debian's
(HORAE_TEST_CHROMIUM or /usr/bin/chromium) and resolves no names: nothing leaves loopback.

    .venv/bin/python scripts/screenshots_booking.py [--out docs/screenshots]
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from screenshot_kit import SIZES, TIMEOUT_MS, chromium, output_dir, save, throwaway_server

ZONE = "Europe/London"


def credentials(data_dir: Path) -> dict[str, str]:
    text = (data_dir / "demo-credentials.env").read_text()
    return dict(line.removeprefix("export ").split("=", 1) for line in text.splitlines() if line.startswith("export "))


def make_link(url: str, demo: dict[str, str]) -> str:
    """A week of working hours for the demo person, with some meetings in it; the link's URL."""
    account = {"Authorization": f"Bearer {demo['HORAE_ACCESS_TOKEN']}"}
    key = {"Authorization": f"Bearer {demo['HORAE_CLIENT_SECRET']}"}
    with httpx.Client(base_url=url, timeout=30) as http:
        calendar = http.get("/v1/calendars", headers=account).json()["calendars"][0]["calendar_id"]
        monday = datetime.now(UTC).date() + timedelta(days=7 - datetime.now(UTC).weekday())
        periods = []
        for offset in range(3):
            day = monday + timedelta(days=offset)
            periods.append({"start": f"{day}T09:00:00Z", "end": f"{day}T17:00:00Z"})
            for hour, summary in ((10, "Design review"), (13, "Lunch"), (15, "1:1")):
                event = {
                    "event_id": f"demo-{day}-{hour}",
                    "summary": summary,
                    "start": f"{day}T{hour + offset % 2:02d}:00:00Z",
                    "end": f"{day}T{hour + offset % 2:02d}:45:00Z",
                }
                http.post(f"/v1/calendars/{calendar}/events", json=event, headers=account).raise_for_status()
        body: dict[str, Any] = {
            "oauth": {"redirect_uri": "http://127.0.0.1/callback"},
            "event": {"event_id": "intro-call", "summary": "Intro call with Demo Person", "tzid": ZONE},
            "availability": {
                "participants": [{"members": [{"sub": demo["HORAE_SUB"]}], "required": "all"}],
                "required_duration": {"minutes": 30},
                "start_interval": {"minutes": 30},
                "query_periods": periods,
            },
            "target_calendars": [{"sub": demo["HORAE_SUB"], "calendar_id": calendar}],
        }
        made = http.post("/v1/real_time_scheduling", json=body, headers=key)
        made.raise_for_status()
        return str(made.json()["real_time_scheduling"]["url"])


def main() -> int:
    out = output_dir(__doc__.splitlines()[0])
    with throwaway_server() as (server, data_dir), chromium() as browser:
        link = make_link(server.url, credentials(data_dir))
        for size, (width, height) in SIZES.items():
            context = browser.new_context(viewport={"width": width, "height": height}, timezone_id=ZONE)
            context.set_default_timeout(TIMEOUT_MS)
            page = context.new_page()
            page.goto(f"{link}?tz={ZONE}")
            page.get_by_role("radio").nth(2).check()
            save(page, out / f"booking-slots-{size}.png")
            page.get_by_role("button", name="Continue").click()
            page.get_by_role("button", name="Confirm booking").wait_for()
            save(page, out / f"booking-confirm-{size}.png")
            context.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
