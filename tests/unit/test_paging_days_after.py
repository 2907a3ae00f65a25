"""`paging.days_after`: where all-day events resume after a cursor, checked against the sort key itself
(the start of an all-day event's first day in the reader's zone) day by day."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest

from horae.domain import paging
from horae.domain.times import zone

ZONES = (
    "Etc/UTC",
    "Pacific/Kiritimati",  # +14
    "Pacific/Pago_Pago",  # -11
    "America/St_Johns",  # -3:30, DST
    "Europe/London",
    "America/Sao_Paulo",  # DST changes at midnight in past years
    "Asia/Kathmandu",  # +5:45
    "America/Havana",  # DST at midnight
)


def after(day: date, key: paging.SortKey, uid: str, tzid: str) -> bool:
    return (paging.day_start(day, zone(tzid)), uid) > key


def resumes(found: tuple[date, str | None] | None, day: date, uid: str) -> bool:
    if found is None:
        return True
    first, last_uid = found
    return day > first or (day == first and last_uid is not None and uid > last_uid)


def instants(rng: random.Random) -> list[datetime]:
    some = [datetime(2026, 11, 5, tzinfo=UTC) + timedelta(minutes=rng.randrange(-(10**6), 10**6)) for _ in range(40)]
    midnights = []
    for tzid in ZONES:
        for day in (date(2026, 3, 8), date(2026, 3, 29), date(2026, 11, 1), date(2026, 10, 25), date(2019, 11, 3)):
            midnights.append(paging.day_start(day, zone(tzid)))
    edges = [paging.EARLIEST, paging.LATEST, datetime(1, 1, 1, 13, tzinfo=UTC), datetime(9999, 12, 31, 3, tzinfo=UTC)]
    return some + midnights + edges


@pytest.mark.parametrize("tzid", ZONES)
def test_days_after_agrees_with_the_sort_key(tzid: str) -> None:
    rng = random.Random(tzid)
    for instant in instants(rng):
        for uid in ("evt_m", ""):
            key = (instant, uid)
            found = paging.days_after(key, zone(tzid))
            middle = paging.local_date(instant, zone(tzid))
            for offset in range(-3, 4):
                day = paging.shift_day(middle, offset)
                for other in ("evt_a", "evt_m", "evt_z"):
                    assert resumes(found, day, other) == after(day, key, other, tzid), (key, day, other, found)


def test_a_cursor_at_local_midnight_keeps_that_day_for_later_uids() -> None:
    kiritimati = zone("Pacific/Kiritimati")
    midnight = paging.day_start(date(2026, 11, 5), kiritimati)
    assert paging.days_after((midnight, "evt_m"), kiritimati) == (date(2026, 11, 5), "evt_m")
    assert paging.days_after((midnight + timedelta(seconds=1), "evt_m"), kiritimati) == (date(2026, 11, 5), None)
    assert paging.days_after((midnight - timedelta(seconds=1), "evt_m"), kiritimati) == (date(2026, 11, 4), None)
