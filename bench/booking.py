"""Print how fast Real-Time Scheduling links answer over real HTTP: making a link, the invitee's page of free
times, a whole booking (the confirm page, then the POST that locks the host, checks the slot again, writes
the event and queues the callback), and many invitees racing for one slot.

Starts `horae serve` with a throwaway data directory (SQLite; BENCH_DATABASE_URL=postgresql://... for an
empty PostgreSQL database instead) and uses its demo account as the host. Prints figures; nothing here
asserts a speed. Run with `make bench`.
"""

from __future__ import annotations

import os
import re
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from demo_server import demo_server, latency

RUNS = 30
RACERS = 20
_SLOT = re.compile(r'name="slot" value="([^"]+)"')
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def link_body(demo: dict[str, str], calendar_id: str, days: list[str]) -> dict[str, Any]:
    return {
        "oauth": {"redirect_uri": "http://127.0.0.1/callback"},
        "event": {"event_id": f"bench-{time.perf_counter_ns()}", "summary": "Bench call", "tzid": "Etc/UTC"},
        "availability": {
            "participants": [{"members": [{"sub": demo["HORAE_SUB"]}]}],
            "required_duration": {"minutes": 30},
            "query_periods": [{"start": f"{day}T08:00:00Z", "end": f"{day}T20:00:00Z"} for day in days],
        },
        "target_calendars": [{"sub": demo["HORAE_SUB"], "calendar_id": calendar_id}],
        "redirect_urls": {"completed_url": "http://127.0.0.1/booked"},
    }


def book(base: str, path: str, slot: str | None = None) -> int:
    """One invitee's visit: the page, the confirm page of `slot` (the first time offered when None), the
    POST. The POST's status: 303 booked, 409 taken meanwhile."""
    with httpx.Client(base_url=base, timeout=60) as browser:
        offered = _SLOT.findall(browser.get(path, params={"tz": "Etc/UTC"}).text)
        chosen = slot or offered[0]
        confirm = browser.get(f"{path}/confirm", params={"slot": chosen, "tz": "Etc/UTC"})
        if confirm.status_code != 200:
            return confirm.status_code
        form = {"slot": chosen, "tz": "Etc/UTC", "csrf_token": _CSRF.findall(confirm.text)[0]}
        return browser.post(f"{path}/book", data=form).status_code


def main() -> None:
    with demo_server(os.environ.get("BENCH_DATABASE_URL", "")) as (server, demo):
        key = {"Authorization": f"Bearer {demo['HORAE_CLIENT_SECRET']}"}
        account = {"Authorization": f"Bearer {demo['HORAE_ACCESS_TOKEN']}"}
        with httpx.Client(base_url=server.url, timeout=60) as http:
            calendar_id = http.get("/v1/calendars", headers=account).json()["calendars"][0]["calendar_id"]
            # Three days of 24 half-hour times each: room for every booking below, one after another.
            days = [(datetime.now(UTC) + timedelta(days=n)).date().isoformat() for n in (3, 4, 5)]

            def make_link() -> str:
                made = http.post("/v1/real_time_scheduling", json=link_body(demo, calendar_id, days), headers=key)
                made.raise_for_status()
                return urlsplit(made.json()["real_time_scheduling"]["url"]).path

            created, paths = [], []
            for _ in range(RUNS):
                started = time.perf_counter()
                paths.append(make_link())
                created.append(time.perf_counter() - started)
            print(f"create a link (POST /v1/real_time_scheduling): {latency(created)}")

            pages = []
            for path in paths:
                started = time.perf_counter()
                http.get(path, params={"tz": "Europe/London"}).raise_for_status()
                pages.append(time.perf_counter() - started)
            print(f"the invitee's page of free times (GET /rts/...): {latency(pages)}")

            booked = []
            for path in paths:  # each books the first time still free: the day fills up as it goes
                started = time.perf_counter()
                status = book(server.url, path)
                booked.append(time.perf_counter() - started)
                assert status in (200, 303), status
            print(f"a whole booking (page, confirm page, POST): {latency(booked)}")

            racers = [make_link() for _ in range(RACERS)]
            contested = _SLOT.findall(http.get(racers[0], params={"tz": "Etc/UTC"}).text)[0]
            started = time.perf_counter()
            with ThreadPoolExecutor(RACERS) as pool:
                outcomes = list(pool.map(lambda path: book(server.url, path, contested), racers))
            took = time.perf_counter() - started
            won = sum(1 for status in outcomes if status in (200, 303))
            taken = outcomes.count(409)
            print(f"{RACERS} invitees racing for one slot: {won} booked, {taken} taken, {took:.2f} s in all")


if __name__ == "__main__":
    main()
