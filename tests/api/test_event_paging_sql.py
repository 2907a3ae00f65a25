"""Reads page in SQL: each page asks the database for the events after its cursor, a page at a time, and
counts the rest there. These tests hold that to what reading every event and sorting in Python gives:
the same events, in the same order, on the same pages, under every filter and in zones far from UTC;
stable while events are added between pages; and a page's work does not grow with the window."""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event as sa_event

from horae.container import Container
from horae.domain import ids
from horae.domain.events import Event
from horae.services.event_reads import EVENTS, FREE_BUSY, EventReadService
from horae.services.oauth import AccessContext
from horae.services.read_models import Listed, Page, ReadQuery, Resolved
from tests.fakes import FakeClock
from tests.helpers import Connected, also_authorize, connect

NOW = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
FIRST = datetime(2026, 11, 1, tzinfo=UTC)
ZONES = ("Etc/UTC", "Pacific/Kiritimati", "America/St_Johns", "Europe/London", "Pacific/Pago_Pago")
# Code points that sort differently under a language collation than byte by byte.
UID_PARTS = ("A", "a", "_", "-", "Z", "0", "é", "ß", "~")


@pytest.fixture(autouse=True)
def fixed_now(clock: FakeClock) -> None:
    clock.current = NOW


def primary(client: TestClient, who: Connected) -> str:
    return str(client.get("/v1/calendars", headers=who.auth).json()["calendars"][0]["calendar_id"])


def second_calendar(client: TestClient, who: Connected) -> str:
    [calendar] = client.get("/v1/calendars", headers=who.auth).json()["calendars"][:1]
    created = client.post("/v1/calendars", json={"profile_id": calendar["profile_id"], "name": "Two"}, headers=who.auth)
    assert created.status_code in (200, 201), created.text
    return str(created.json()["calendar"]["calendar_id"])


def context(container: Container, who: Connected) -> AccessContext:
    return container.oauth.authenticate(who.tokens.access_token)


def reads(container: Container, page_size: int) -> EventReadService:
    return EventReadService(container.uow, container.clock, container.event_reads._page_key, page_size)


def z(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


# --- what reading everything gives ---------------------------------------------------------------------


def everything(container: Container, service: EventReadService, ctx: AccessContext, query: Resolved) -> list[Listed]:
    """Every event of the chosen calendars, tested one by one in Python and sorted: how reads worked
    before they paged in SQL (which loaded a superset of these and tested each the same way)."""
    with container.uow() as uow:
        calendars = {c.id: c for c in uow.calendars.for_account(ctx.account_id)}
        chosen = query.calendar_ids or [c.id for c in calendars.values() if not c.deleted]
        stored = uow.events.in_calendars(chosen, include_deleted=True)
    items = (item for e in stored for item in service._listed(ctx, query, e, calendars[e.calendar_id]))
    return sorted(items, key=lambda item: item.sort_key)


def pages(service: EventReadService, ctx: AccessContext, kind: str, query: ReadQuery) -> Iterator[Page]:
    page = service.events(ctx, query) if kind == EVENTS else service.free_busy(ctx, query)
    yield page
    while page.next_token is not None:
        page = service.next_page(ctx, kind, page.next_token)
        yield page


def shown(items: list[Listed]) -> list[tuple[str, datetime, str]]:
    return [(item.event_uid, item.sort_key[0], item.calendar.id) for item in items]


def assert_same_pages(
    container: Container, service: EventReadService, ctx: AccessContext, kind: str, query: ReadQuery
) -> int:
    read = list(pages(service, ctx, kind, query))
    expected = everything(container, service, ctx, read[0].query)
    size = service.page_size
    total = max(1, math.ceil(len(expected) / size))
    label = (kind, query)
    assert [(p.current, p.total) for p in read] == [(n, total) for n in range(1, total + 1)], label
    for number, page in enumerate(read):
        assert shown(page.items) == shown(expected[number * size : (number + 1) * size]), (label, number)
    return len(expected)


# --- a calendar with a bit of everything ------------------------------------------------------------------


def seed(client: TestClient, container: Container, ada: Connected, other: Connected, seed_value: int) -> None:
    """Timed and all-day events with ties (same start; timed events at local midnights, where all-day events
    sort), deleted, moved, managed by the reader or another application, changed by either, free and busy,
    far outside the default window, with rules that are not series; and recurring series, with an instance
    moved and one cancelled."""
    rng = random.Random(seed_value)
    mine_app, other_app = context(container, ada).application_id, context(container, other).application_id
    calendar_ids = [primary(client, ada), second_calendar(client, ada)]
    midnights = [
        datetime(2026, 11, d, tzinfo=UTC) + timedelta(hours=h) for d in (3, 4, 9) for h in (0, -14, 3.5, 11, 12)
    ]
    made: list[Event] = []
    for n in range(170):
        uid = f"evt_{rng.choice(UID_PARTS)}{rng.choice(UID_PARTS)}{n:03d}"
        all_day = rng.random() < 0.3
        event = Event(
            id=ids.new_id("evr"),
            calendar_id=rng.choice(calendar_ids),
            account_id=ada.sub,
            event_uid=uid,
            summary=f"S{n}",
            all_day=all_day,
            created_at=NOW - timedelta(days=20),
            updated_at=NOW - timedelta(hours=rng.randrange(0, 240)),
        )
        if all_day:
            event.start_date = date(2026, 10, 28) + timedelta(days=rng.randrange(0, 40))
            event.end_date = event.start_date + timedelta(days=rng.choice((1, 1, 2, 5)))
        else:
            roll = rng.random()
            if roll < 0.25:
                start = rng.choice(midnights)
            elif roll < 0.35 and made:
                same = rng.choice([e for e in made if not e.all_day] or made)
                start = same.starts_at or FIRST
            else:
                start = FIRST - timedelta(days=4) + timedelta(minutes=15 * rng.randrange(0, 40 * 96))
            event.starts_at, event.ends_at = start, start + timedelta(minutes=rng.choice((0, 15, 60, 60 * 30)))
            if rng.random() < 0.15:  # moved here from elsewhere, or from here to elsewhere
                was = FIRST + timedelta(hours=rng.randrange(-24 * 60, 24 * 60))
                event.previous_starts_at, event.previous_ends_at = was, was + timedelta(hours=1)
        owner = rng.random()
        if owner < 0.25:
            event.event_id, event.application_id = f"mine-{n}", mine_app
        elif owner < 0.35:
            event.event_id, event.application_id = f"theirs-{n}", other_app
        if rng.random() < 0.1 and event.event_id and not all_day:  # managed, far outside the default window
            far = datetime(2028, 5, 1, tzinfo=UTC) + timedelta(days=n)
            event.starts_at, event.ends_at = far, far + timedelta(hours=1)
        event.deleted = rng.random() < 0.1
        event.changed_by = rng.choice((None, None, mine_app, other_app))
        event.transparency = rng.choice(("opaque",) * 5 + ("transparent",))
        event.status = rng.choice(("confirmed",) * 6 + ("cancelled", "tentative"))
        event.participation_status = rng.choice(("accepted",) * 6 + ("declined", "tentative"))
        if rng.random() < 0.03:
            event.recurrence = rng.choice(({}, {"rules": "not a rule"}))  # a rule in name only: a plain event
        made.append(event)
    for n, (all_day, app) in enumerate(((False, mine_app), (True, mine_app), (False, other_app))):
        # No start at all (not something the API writes): shown only to its application, reading without from/to.
        made.append(
            Event(
                id=ids.new_id("evr"),
                calendar_id=calendar_ids[0],
                account_id=ada.sub,
                event_uid=f"evt_nowhen{n}",
                summary="Whenever",
                all_day=all_day,
                created_at=NOW,
                updated_at=NOW,
                event_id=f"nowhen-{n}",
                application_id=app,
            )
        )
    with container.uow() as uow:
        for event in made:
            uow.events.add(event)
        uow.commit()

    def upsert(who: Connected, calendar_id: str, body: dict[str, Any]) -> None:
        response = client.post(f"/v1/calendars/{calendar_id}/events", json=body, headers=who.auth)
        assert response.status_code == 202, response.text

    daily = {"summary": "Daily", "start": z(at(1, 9)), "end": z(at(1, 9, 30)), "tzid": "Europe/London"}
    upsert(ada, calendar_ids[0], {**daily, "event_id": "daily", "recurrence": {"rrule": "FREQ=DAILY;COUNT=25"}})
    for instance, moved_to in ((at(3, 9), at(9, 23)), (at(4, 9), at(30, 1))):
        moved = {"start": z(moved_to), "end": z(moved_to + timedelta(hours=1))}
        upsert(ada, calendar_ids[0], {**daily, **moved, "event_id": "daily", "instance": z(instance)})
    with container.uow() as uow:
        master = uow.events.managed(calendar_ids[0], mine_app, "daily")
        assert master is not None
    cancelled = {"event_uid": f"{master.event_uid}_20261106T090000Z"}
    response = client.request("DELETE", f"/v1/calendars/{calendar_ids[0]}/events", json=cancelled, headers=ada.auth)
    assert response.status_code == 202, response.text
    weekly = {"summary": "Weekly", "start": "2026-11-02", "end": "2026-11-03", "recurrence": {"rrule": "FREQ=WEEKLY"}}
    upsert(other, calendar_ids[1], {**weekly, "event_id": "weekly"})
    upsert(ada, calendar_ids[1], {**weekly, "event_id": "yearly", "recurrence": {"rrule": "FREQ=YEARLY"}})


def at(day: int, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


FLAGS: tuple[dict[str, Any], ...] = (
    {},
    {"include_managed": True},
    {"only_managed": True},
    {"include_managed": True, "include_deleted": True, "include_moved": True},
    {"include_moved": True, "last_modified": z(NOW - timedelta(days=4))},
    {"include_managed": True, "start": None, "end": None},  # the reader's managed events whenever they are
    {"only_managed": True, "include_deleted": True, "start": None, "end": None},
    {"start": "2026-11-04T05:30:00Z", "end": "2026-11-20"},
)


@pytest.mark.parametrize("page_size", [1, 7])
def test_pages_hold_what_reading_everything_gives(client: TestClient, container: Container, page_size: int) -> None:
    ada = connect(container)
    other = also_authorize(container, ada)
    seed(client, container, ada, other, 20261102 + page_size)
    ctx = context(container, ada)
    service = reads(container, page_size)
    window = {"start": "2026-10-30", "end": "2026-11-25"}
    seen = 0
    # Page by page, every cursor is tried (ties included) in the zone where local midnights fall mid-day UTC.
    for tzid in ZONES if page_size > 1 else ("Pacific/Kiritimati",):
        for flags in FLAGS:
            query = ReadQuery(tzid=tzid, **{**window, **flags})
            seen += assert_same_pages(container, service, ctx, EVENTS, query)
            for extra in ({}, {"include_free": True}) if page_size > 1 else ():
                fb = ReadQuery(tzid=tzid, **{**window, **flags, **extra})
                seen += assert_same_pages(container, service, ctx, FREE_BUSY, fb)
    assert seen > (2000 if page_size > 1 else 500)  # the cases above do read something
    # One calendar of the two, and both named.
    calendar_ids = tuple(c.id for c in container.calendars.list(ctx)[0])
    for chosen in (calendar_ids[1:], calendar_ids):
        query = ReadQuery(tzid="Pacific/Kiritimati", calendar_ids=chosen, include_managed=True, **window)
        assert assert_same_pages(container, service, ctx, EVENTS, query) > 0


def test_paging_stays_stable_while_events_are_added(client: TestClient, container: Container) -> None:
    """Events added between pages: those before the cursor never show (and nothing read shows twice), those
    after it show in their place; the events there from the start all show, once, in order."""
    ada = connect(container)
    calendar_id = primary(client, ada)
    ctx = context(container, ada)
    service = reads(container, 10)

    def add(uid: str, start: datetime | date) -> None:
        event = Event(
            id=ids.new_id("evr"),
            calendar_id=calendar_id,
            account_id=ada.sub,
            event_uid=uid,
            summary=uid,
            all_day=isinstance(start, date) and not isinstance(start, datetime),
            created_at=NOW,
            updated_at=NOW,
        )
        if isinstance(start, datetime):
            event.starts_at, event.ends_at = start, start + timedelta(minutes=30)
        else:
            event.start_date, event.end_date = start, start + timedelta(days=1)
        with container.uow() as uow:
            uow.events.add(event)
            uow.commit()

    for n in range(95):
        add(f"evt_t{n:03d}", at(3) + timedelta(hours=2 * n))
    for n in range(6):
        add(f"evt_d{n:03d}", date(2026, 11, 4 + 2 * n))
    query = ReadQuery(tzid="Europe/Paris", start="2026-11-01", end="2026-12-01")
    page = service.events(ctx, query)
    read = [item.event_uid for item in page.items]
    late: list[str] = []
    early: list[str] = []
    n = 0
    while page.next_token is not None:
        cursor = page.items[-1].sort_key[0]
        n += 1
        early.append(f"evt_early{n}")
        add(early[-1], cursor - timedelta(minutes=1))  # among those already read
        add(f"evt_same{n}", cursor)  # the very same start as the last one read: sorts by uid
        late.append(f"evt_late{n}")
        add(late[-1], cursor + timedelta(minutes=1))  # among those still to come
        page = service.next_page(ctx, EVENTS, page.next_token)
        read += [item.event_uid for item in page.items]
    originals = [uid for uid in read if uid.startswith(("evt_t", "evt_d"))]
    assert sorted(originals) == sorted({f"evt_t{n:03d}" for n in range(95)} | {f"evt_d{n:03d}" for n in range(6)})
    assert len(read) == len(set(read))
    assert not set(early) & set(read)
    assert set(late) <= set(read)
    assert page.current == page.total
    everything_now = everything(container, service, ctx, service.resolve(query, EVENTS))
    order = {item.event_uid: item.sort_key for item in everything_now}
    assert [order[uid] for uid in read] == sorted(order[uid] for uid in read)


@pytest.fixture
def counted(container: Container) -> Iterator[dict[str, int]]:
    """Statements run and events loaded, counted from the database engine and the ORM."""
    counts = {"statements": 0, "rows": 0}
    engine = container.uow.engine  # type: ignore[attr-defined]

    def statement(*_: Any) -> None:
        counts["statements"] += 1

    def loaded(*_: Any) -> None:
        counts["rows"] += 1

    sa_event.listen(engine, "before_cursor_execute", statement)
    sa_event.listen(Event, "load", loaded)
    yield counts
    sa_event.remove(Event, "load", loaded)
    sa_event.remove(engine, "before_cursor_execute", statement)


def test_a_pages_work_does_not_grow_with_the_window(
    client: TestClient, container: Container, counted: dict[str, int]
) -> None:
    ada = connect(container)
    calendar_id = primary(client, ada)
    ctx = context(container, ada)
    size = 20
    service = reads(container, size)
    response = client.post(
        f"/v1/calendars/{calendar_id}/events",
        json={
            "event_id": "s",
            "summary": "Series",
            "start": z(at(1)),
            "end": z(at(1, 10)),
            "recurrence": {"rrule": "FREQ=DAILY"},
        },
        headers=ada.auth,
    )
    assert response.status_code == 202, response.text

    def per_page(count: int, first: datetime) -> list[tuple[int, int]]:
        with container.uow() as uow:
            for n in range(count):
                start = first + timedelta(minutes=10 * n)
                all_day = n % 5 == 0
                uow.events.add(
                    Event(
                        id=ids.new_id("evr"),
                        calendar_id=calendar_id,
                        account_id=ada.sub,
                        event_uid=ids.new_id("evt"),
                        summary=str(n),
                        all_day=all_day,
                        created_at=NOW,
                        updated_at=NOW,
                        starts_at=None if all_day else start,
                        ends_at=None if all_day else start + timedelta(minutes=5),
                        start_date=start.date() if all_day else None,
                        end_date=start.date() + timedelta(days=1) if all_day else None,
                    )
                )
            uow.commit()
        end = first + timedelta(minutes=10 * count)
        query = ReadQuery(start=first.date().isoformat(), end=(end + timedelta(days=1)).date().isoformat())
        work = []
        page: Page | None = None
        while page is None or page.next_token is not None:
            before = dict(counted)
            page = service.events(ctx, query) if page is None else service.next_page(ctx, EVENTS, page.next_token)
            work.append((counted["statements"] - before["statements"], counted["rows"] - before["rows"]))
        return work

    small = per_page(100, datetime(2026, 11, 3, tzinfo=UTC))
    large = per_page(1000, datetime(2026, 12, 3, tzinfo=UTC))
    assert len(large) > 5 * len(small)
    # The daily series adds its master; plain events: at most a page and one each of timed and all-day.
    bound = 2 * (size + 1) + 1
    assert max(rows for _, rows in small) <= bound and max(rows for _, rows in large) <= bound
    # BEGIN (SQLite), the calendars, the timed and the all-day events each with their count, the series.
    assert max(statements for statements, _ in small + large) <= 7


def test_a_cursor_resumes_all_day_events_by_their_local_midnight(client: TestClient, container: Container) -> None:
    """All-day events sort at the start of their first day in the reader's zone, so timed events at that
    instant interleave with them by event_uid, across page boundaries."""
    ada = connect(container)
    calendar_id = primary(client, ada)
    ctx = context(container, ada)
    midnight = datetime(2026, 11, 5, tzinfo=UTC) - timedelta(hours=14)  # 5 November in Kiritimati
    with container.uow() as uow:
        for n in range(12):
            uid = f"evt_{n:02d}"
            event = Event(
                id=ids.new_id("evr"),
                calendar_id=calendar_id,
                account_id=ada.sub,
                event_uid=uid,
                summary=uid,
                all_day=n % 2 == 0,
                created_at=NOW,
                updated_at=NOW,
            )
            if event.all_day:
                event.start_date, event.end_date = date(2026, 11, 5), date(2026, 11, 6)
            else:
                event.starts_at, event.ends_at = midnight, midnight + timedelta(hours=1)
            uow.events.add(event)
        uow.commit()
    for page_size in (1, 2, 3, 5):
        service = reads(container, page_size)
        query = ReadQuery(tzid="Pacific/Kiritimati", start="2026-11-01", end="2026-11-10")
        read = [item.event_uid for page in pages(service, ctx, EVENTS, query) for item in page.items]
        assert read == [f"evt_{n:02d}" for n in range(12)], page_size
        utc = [
            item.event_uid
            for page in pages(service, ctx, EVENTS, replace(query, tzid="Etc/UTC"))
            for item in page.items
        ]
        assert utc == [f"evt_{n:02d}" for n in range(1, 12, 2)] + [f"evt_{n:02d}" for n in range(0, 12, 2)]


def test_pages_read_on_past_series_masters_with_nothing_to_show(client: TestClient, container: Container) -> None:
    """Series masters sit among the events a page query walks (it leaves the recurrence test to Python);
    masters whose instances are all cancelled show nothing, and the page reads on past them."""
    ada = connect(container)
    other = also_authorize(container, ada)
    calendar_id = primary(client, ada)
    ctx = context(container, ada)
    with container.uow() as uow:
        for n in range(6):
            start = at(3, n)
            uow.events.add(
                Event(
                    id=ids.new_id("evr"),
                    calendar_id=calendar_id,
                    account_id=ada.sub,
                    event_uid=f"evt_plain{n}",
                    summary=f"P{n}",
                    all_day=False,
                    created_at=NOW,
                    updated_at=NOW,
                    starts_at=start,
                    ends_at=start + timedelta(minutes=5),
                )
            )
        uow.commit()
    for hour in (0, 4):
        for minute in (10, 20, 30, 40):
            start = at(3, hour, minute)
            body = {
                "event_id": f"once-{hour}-{minute}",
                "summary": "Once",
                "start": z(start),
                "end": z(start + timedelta(minutes=5)),
                "recurrence": {"rrule": "FREQ=DAILY;COUNT=1"},
            }
            response = client.post(f"/v1/calendars/{calendar_id}/events", json=body, headers=other.auth)
            assert response.status_code == 202, response.text
            with container.uow() as uow:
                master = uow.events.managed(calendar_id, context(container, other).application_id, body["event_id"])
                assert master is not None
            cancel = {"event_uid": f"{master.event_uid}_{start.strftime('%Y%m%dT%H%M%SZ')}"}
            response = client.request("DELETE", f"/v1/calendars/{calendar_id}/events", json=cancel, headers=other.auth)
            assert response.status_code == 202, response.text
    for page_size in (1, 2, 3):
        service = reads(container, page_size)
        for flags in ({}, {"include_deleted": True}):
            query = ReadQuery(tzid="Etc/UTC", start="2026-11-01", end="2026-11-10", **flags)
            assert_same_pages(container, service, ctx, EVENTS, query)
        query = ReadQuery(tzid="Etc/UTC", start="2026-11-01", end="2026-11-10")
        read = [item.event_uid for page in pages(service, ctx, EVENTS, query) for item in page.items]
        assert read == [f"evt_plain{n}" for n in range(6)], page_size
