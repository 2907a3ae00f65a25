"""Print how fast `POST /v1/availability` answers over real HTTP, and where the time goes: the same query run
in-process through the service, the store read of the members' busy rows alone, and the engine alone.

Starts `horae serve` on a free loopback port with a throwaway data directory (the embedded deployment,
SQLite), then seeds it in-process against the same data directory: accounts that authorized the demo
application with read_free_busy, each with about three events a day (one-off meetings, weekly series in
London and New York time, and now and then an all-day event). Run with `make bench`. Prints figures and
the targets beside them; nothing here asserts a speed.

Per case: the p50/p95 over HTTP; the same request through the service in-process (no HTTP); building the
members alone (checking the accounts and grants, reading busy rows, expanding series); the store read
alone (`uow.events.busy` for every member's calendars at once, as the service calls it); and the engine
alone on those members.
"""

from __future__ import annotations

import os
import random
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
from demo_server import demo_server, latency

from horae import bootstrap
from horae.container import Container
from horae.domain import availability as engine
from horae.domain import ids, recurrence
from horae.domain.events import Event
from horae.domain.paging import Window, window_of_instants
from horae.domain.times import EventTime
from horae.services.availability_members import MemberReader
from horae.services.availability_request import AvailabilityRequest, Caller, GroupSpec, MemberSpec, Period
from horae.services.events import EventInput, apply
from horae.settings import Settings

MEMBERS = 100
DAYS = 90
FIRST_DAY = date.today() + timedelta(days=2)
ONE_OFFS_A_DAY = 2  # meetings of 30 to 90 minutes in working hours, UTC
SERIES = 5  # weekly meetings, one on each working day, in the series' own zone
ALL_DAY_EVERY = 3  # weekend days between all-day events (on average): a weekday "Away" would leave a
# hundred people no common day at all
SERIES_ZONES = ("Europe/London", "America/New_York", "Etc/UTC")
DURATION = timedelta(minutes=60)
WARM_UP = 3
RUNS = 30
BUDGET_SECONDS = 20.0  # fewer runs when a case is slow, so the bench ends in a few minutes


@dataclass(frozen=True)
class Case:
    label: str
    members: int
    days: int
    required: int | None  # None: "all"
    response_format: str = "slots"
    target_ms: float | None = None  # for the p95 over HTTP


CASES = [
    Case("10 members x 30 days, all", 10, 30, None, target_ms=25),
    Case("10 members x 30 days, all", 10, 30, None, "periods", target_ms=25),
    Case("100 members x 90 days, all", 100, 90, None, target_ms=250),
    Case("100 members x 90 days, all", 100, 90, None, "periods", target_ms=250),
    Case("10 members x 30 days, 7 of 10", 10, 30, 7),
    Case("100 members x 90 days, 60 of 100", 100, 90, 60),
]


def main() -> None:
    # BENCH_DATABASE_URL=postgresql://... (an empty database) runs the same figures on PostgreSQL.
    database_url = os.environ.get("BENCH_DATABASE_URL", "")
    with demo_server(database_url) as (server, credentials):
        data_dir = Path(server.env["HORAE_DATA_DIR"])
        container = bootstrap.build(
            Settings(
                data_dir=data_dir,
                database_url=database_url,
                queue_url="immediate",
                embedded_worker=False,
                password_time_cost=1,
                password_memory_cost=8,
                log_format="console",
            )
        )
        application_id = container.applications.get(credentials["HORAE_CLIENT_ID"]).id
        started = time.perf_counter()
        members, seeded = seed(container, application_id)
        print(f"{'seeding in-process':44} {time.perf_counter() - started:.1f} s ({MEMBERS} accounts, {seeded} events)")
        bootstrap.settle_garbage_collector()  # as `horae serve` does, so in-process figures compare
        auth = {"Authorization": f"Bearer {credentials['HORAE_CLIENT_SECRET']}"}
        with httpx.Client(base_url=server.url, headers=auth, timeout=120) as http:
            for case in CASES:
                measure(case, http, container, Caller(application_id), members[: case.members])


# --- seeding ---------------------------------------------------------------------------------------------


def seed(container: Container, application_id: str) -> tuple[list[tuple[str, str]], int]:
    """The accounts (sub, primary calendar id), each authorized for the application and given its events
    in one transaction; and how many events that made."""
    members = []
    seeded = 0
    for number in range(MEMBERS):
        signed = container.accounts.sign_up(f"member{number}@bench.localhost", "correct horse battery", f"M {number}")
        container.oauth.issue_direct_grant(signed.account.id, application_id, "read_free_busy", 3600)
        with container.uow() as uow:
            [calendar] = uow.calendars.for_account(signed.account.id)
            now = datetime.now(UTC)
            for n, data in enumerate(events_of(random.Random(number))):
                event = Event(
                    id=ids.new_id("evr"),
                    calendar_id=calendar.id,
                    account_id=signed.account.id,
                    event_uid=ids.new_id("evt"),
                    summary=data.summary,
                    all_day=data.start.all_day,
                    created_at=now,
                    updated_at=now,
                    event_id=f"bench-{n}",
                    application_id=application_id,
                )
                apply(event, data, now)
                uow.events.add(event)
                seeded += 1
            uow.commit()
        members.append((signed.account.id, calendar.id))
    return members, seeded


def at(day: date, minutes: int, tzid: str = "Etc/UTC") -> EventTime:
    wall = datetime.combine(day, datetime.min.time(), tzinfo=ZoneInfo(tzid)) + timedelta(minutes=minutes)
    return EventTime(wall.astimezone(UTC), None, tzid)


def events_of(rng: random.Random) -> Iterator[EventInput]:
    """About three events a day from the day before the first query day to the day after the last."""
    first = FIRST_DAY - timedelta(days=1)
    for offset in range(DAYS + 2):
        day = first + timedelta(days=offset)
        for _ in range(ONE_OFFS_A_DAY):
            start = rng.randrange(8 * 60, 18 * 60, 15)
            length = rng.choice((30, 45, 60, 90))
            yield EventInput("Meeting", at(day, start), at(day, start + length))
        if day.weekday() >= 5 and rng.randrange(ALL_DAY_EVERY) == 0:
            after = day + timedelta(days=1)
            yield EventInput("Away", EventTime(None, day, "Etc/UTC"), EventTime(None, after, "Etc/UTC"))
    monday = first - timedelta(days=first.weekday())
    for weekday in range(SERIES):
        tzid = rng.choice(SERIES_ZONES)
        start = rng.randrange(9 * 60, 17 * 60, 30)
        day = monday + timedelta(days=weekday)
        rule = {"rules": [{"frequency": "weekly"}]}
        begins = at(day, start, tzid)
        recurrence.check(rule, begins)
        yield EventInput("Weekly", begins, at(day, start + 30, tzid), recurrence=rule)


# --- measuring -------------------------------------------------------------------------------------------


def query_span(days: int) -> tuple[datetime, datetime]:
    start = datetime.combine(FIRST_DAY, datetime.min.time(), tzinfo=UTC)
    return start, start + timedelta(days=days)


def query_window(days: int) -> Window:
    """The window the service reads: the query's instants, one more day each side for all-day events."""
    window = window_of_instants(*query_span(days), UTC)
    return Window(window.start, window.end, window.first_day - timedelta(days=1), window.last_day + timedelta(days=1))


def stamp(instant: datetime) -> str:
    return instant.strftime("%Y-%m-%dT%H:%M:%SZ")


def timed(call: Callable[[], object]) -> list[float]:
    """Seconds per call: after a warm-up, RUNS calls or as many as BUDGET_SECONDS allows (at least 5)."""
    for _ in range(WARM_UP):
        call()
    samples: list[float] = []
    while len(samples) < RUNS and (len(samples) < 5 or sum(samples) < BUDGET_SECONDS):
        began = time.perf_counter()
        call()
        samples.append(time.perf_counter() - began)
    return samples


def measure(
    case: Case, http: httpx.Client, container: Container, caller: Caller, members: list[tuple[str, str]]
) -> None:
    start, end = query_span(case.days)
    body = {
        "participants": [
            {"members": [{"sub": sub} for sub, _ in members], "required": case.required or "all"},
        ],
        "required_duration": {"minutes": DURATION.seconds // 60},
        "query_periods": [{"start": stamp(start), "end": stamp(end)}],
        "response_format": case.response_format,
        "max_results": 512,
    }
    found: list[int] = []

    def over_http() -> None:
        answer = http.post("/v1/availability", json=body)
        assert answer.status_code == 200, answer.text
        payload = answer.json()
        found[:] = [len(payload.get("available_slots", payload.get("available_periods", [])))]

    label = f"{case.label}, {case.response_format}"
    samples = timed(over_http)
    target = f"  [target p95 < {case.target_ms:.0f} ms]" if case.target_ms else ""
    print(f"{label:44} HTTP       {latency(samples)}  ({found[0]} found, {len(samples)} runs){target}")

    request = AvailabilityRequest(
        groups=(GroupSpec(tuple(MemberSpec(sub) for sub, _ in members), case.required),),
        periods=(Period(start, end),),
        duration=int(DURATION.total_seconds()),
        max_results=512,
        response_format=case.response_format,
    )
    periods_field = "query_periods"
    service = container.availability
    print(f"{'':44} in-process {latency(timed(lambda: service.availability(caller, request, periods_field)))}")

    window = query_window(case.days)
    calendars = [calendar for _, calendar in members]

    def store_read() -> None:
        with container.uow() as uow:
            uow.events.busy(calendars, window)

    read = timed(store_read)
    span = (int(start.timestamp()), int(end.timestamp()))

    def build_members() -> tuple[engine.Group, ...]:
        with container.uow() as uow:
            return MemberReader(uow, caller, span, cache=service.series_cache).groups(request.groups)

    built = timed(build_members)
    groups = build_members()
    query = engine.Query(groups, (span,), request.duration, request.interval, engine.Buffer(), request.max_results)
    if case.response_format == "periods":
        alone = timed(lambda: engine.find_periods(query))
    else:
        alone = timed(lambda: engine.find_slots(query, overlapping=False))
    blocks = sum(len(m.busy) for g in groups for m in g.members)
    print(f"{'':44} members    {latency(built)}  (accounts and grants checked, busy read, series expanded)")
    print(f"{'':44} store read {latency(read)}  (one busy() call for {len(calendars)} calendars, {blocks} busy blocks)")
    ratio = statistics.median(alone) / statistics.median(read)
    print(f"{'':44} engine     {latency(alone)}  ({ratio:.2f}x the store read by p50)  [target within 3x]")


if __name__ == "__main__":
    main()
