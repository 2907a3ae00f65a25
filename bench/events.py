"""Print how fast events go in and come out over real HTTP: upserts one by one and through `POST /v1/batch`,
and the time to page through 10,000 events with `GET /v1/events` following `next_page`.

Starts `horae serve` on a free loopback port with a throwaway data directory (the embedded deployment,
SQLite), then measures. Run with `make bench`. Prints figures only; nothing here asserts a speed.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from demo_server import demo_server, latency

TOTAL_EVENTS = 10_000
ONE_BY_ONE = 500
BATCH_SIZE = 50
TIMED_BATCHES = 40
PAGING_RUNS = 3
PAGING_BUDGET_SECONDS = 30.0  # fewer runs when paging is slow, so the bench ends in a couple of minutes
FIRST_DAY = date.today() + timedelta(days=2)


def event(n: int) -> dict[str, Any]:
    """The n-th event: one minute long, a minute after the previous one (10,000 fit in a week)."""
    start = datetime.combine(FIRST_DAY, datetime.min.time(), tzinfo=UTC) + timedelta(minutes=n)
    return {
        "event_id": f"bench-{n}",
        "summary": f"Bench event {n}",
        "description": "Seeded by bench/events.py",
        "start": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "end": (start + timedelta(seconds=50)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "location": {"description": "Room 1"},
    }


def chunks(first: int, last: int) -> Iterator[range]:
    for start in range(first, last, BATCH_SIZE):
        yield range(start, min(start + BATCH_SIZE, last))


def main() -> None:
    with demo_server() as (server, credentials):
        auth = {"Authorization": f"Bearer {credentials['HORAE_ACCESS_TOKEN']}"}
        with httpx.Client(base_url=server.url, headers=auth, timeout=60) as http:
            measure(http)


def measure(http: httpx.Client) -> None:
    [primary] = http.get("/v1/calendars").raise_for_status().json()["calendars"]
    created = http.post("/v1/calendars", json={"profile_id": primary["profile_id"], "name": "Bench"})
    calendar_id = created.raise_for_status().json()["calendar"]["calendar_id"]
    events_url = f"/v1/calendars/{calendar_id}/events"
    warm_url = f"/v1/calendars/{primary['calendar_id']}/events"
    for n in range(20):
        http.post(warm_url, json={**event(n), "event_id": f"warm-{n}"}).raise_for_status()

    samples = []
    started = time.perf_counter()
    for n in range(ONE_BY_ONE):
        began = time.perf_counter()
        answer = http.post(events_url, json=event(n))
        samples.append(time.perf_counter() - began)
        assert answer.status_code == 202, answer.text
    elapsed = time.perf_counter() - started
    print(
        f"{'upserts one by one':30} {ONE_BY_ONE / elapsed:7.0f} upserts/s  "
        f"({ONE_BY_ONE} sequential POSTs, {latency(samples)})"
    )

    def run_batches(first: int, last: int) -> list[float]:
        timings = []
        for numbers in chunks(first, last):
            entries = [{"method": "POST", "relative_url": events_url, "data": event(n)} for n in numbers]
            began = time.perf_counter()
            answer = http.post("/v1/batch", json={"batch": entries})
            timings.append(time.perf_counter() - began)
            results = answer.json()["batch"] if answer.status_code == 207 else []
            assert [r["status"] for r in results] == [202] * len(entries), answer.text
        return timings

    timed_end = ONE_BY_ONE + TIMED_BATCHES * BATCH_SIZE
    started = time.perf_counter()
    timings = run_batches(ONE_BY_ONE, timed_end)
    elapsed = time.perf_counter() - started
    count = timed_end - ONE_BY_ONE
    print(
        f"{'upserts through batch':30} {count / elapsed:7.0f} upserts/s  "
        f"({TIMED_BATCHES} sequential batches of {BATCH_SIZE}, {latency(timings)} per batch)"
    )

    started = time.perf_counter()
    run_batches(timed_end, TOTAL_EVENTS)
    print(f"{'seeding the rest':30} {time.perf_counter() - started:7.1f} s      (to {TOTAL_EVENTS} events, by batch)")

    query = {
        "tzid": "Etc/UTC",
        "from": (FIRST_DAY - timedelta(days=1)).isoformat(),
        "to": (FIRST_DAY + timedelta(days=9)).isoformat(),
        "include_managed": "true",
        "calendar_ids[]": calendar_id,
    }
    first = http.get("/v1/events", params=query)
    if first.status_code != 200:
        print(f"{'page through events':30} not measured: GET /v1/events answered {first.status_code}")
        return
    runs: list[float] = []
    while len(runs) < PAGING_RUNS and sum(runs) < PAGING_BUDGET_SECONDS:
        started = time.perf_counter()
        page = http.get("/v1/events", params=query).raise_for_status().json()
        seen, pages = len(page["events"]), 1
        while page["pages"].get("next_page"):
            page = http.get(page["pages"]["next_page"]).raise_for_status().json()
            seen += len(page["events"])
            pages += 1
        runs.append(time.perf_counter() - started)
    print(
        f"{'page through events':30} {statistics.median(runs):7.2f} s      "
        f"({seen} events in {pages} pages, median of {len(runs)} run(s); best {min(runs):.2f} s, "
        f"{seen / statistics.median(runs):.0f} events/s)"
    )


if __name__ == "__main__":
    main()
