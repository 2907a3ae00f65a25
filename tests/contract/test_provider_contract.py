"""One contract, every calendar service: the same tests run unchanged against built-in calendars (Horae's
own store), CalDAV (a real Radicale), an ICS feed served on loopback, Google (emulator) and Microsoft Graph
(emulator), each through its rig."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest

from horae.domain import recurrence
from horae.domain.events import Event
from horae.errors import ProviderAuthRejected, ProviderUnavailable
from horae.ports import ProviderChanges, RemoteItem
from tests.contract.rigs import Rig

SERVICES = ["local", "caldav", "ics", "google", "microsoft"]
NOW = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
WINDOW = (NOW - timedelta(days=42), NOW + timedelta(days=201))


@pytest.fixture(params=SERVICES)
def rig(request: pytest.FixtureRequest) -> Iterator[Rig]:
    module = importlib.import_module(f"tests.contract.rig_{request.param}")
    with module.make_rig(request) as made:
        yield made


def full(rig: Rig) -> ProviderChanges:
    return rig.provider.changes(rig.conn, rig.calendar_id, None, WINDOW)


def by_summary(changes: ProviderChanges) -> dict[str, RemoteItem]:
    return {item.event.summary: item for item in changes.items}


def test_the_calendar_is_listed(rig: Rig) -> None:
    listed = {c.remote_id: c for c in rig.provider.calendars(rig.conn)}
    assert rig.calendar_id in listed
    assert listed[rig.calendar_id].readonly is not rig.writable


def test_a_full_listing_holds_every_event_with_its_times(rig: Rig) -> None:
    start = NOW + timedelta(days=2)
    timed = rig.add("Planning", start, start + timedelta(hours=1), tzid="Europe/Berlin")
    rig.add("Holiday", date(start.year, start.month, start.day), (start + timedelta(days=1)).date())
    found = full(rig)
    assert found.complete and set(by_summary(found)) == {"Planning", "Holiday"}
    planning = by_summary(found)["Planning"]
    assert planning.remote_id == timed
    assert planning.event.start.instant == start and planning.event.end.instant == start + timedelta(hours=1)
    holiday = by_summary(found)["Holiday"].event
    assert holiday.all_day and holiday.start.day == start.date()


def test_changes_since_a_cursor_hold_renames_and_removals(rig: Rig) -> None:
    start = NOW + timedelta(days=3)
    kept = rig.add("Kept", start, start + timedelta(hours=1))
    renamed = rig.add("Old name", start + timedelta(hours=2), start + timedelta(hours=3))
    removed = rig.add("Doomed", start + timedelta(hours=4), start + timedelta(hours=5))
    first = full(rig)
    rig.change(renamed, "New name")
    rig.remove(removed)
    later = rig.provider.changes(rig.conn, rig.calendar_id, first.cursor, WINDOW)
    names = by_summary(later)
    assert names["New name"].remote_id == renamed
    if later.complete:  # services without incremental sync list everything again
        assert set(names) == {"Kept", "New name"}
    else:
        assert removed in later.removed and "Kept" not in names
    assert by_summary(first)["Kept"].etag == by_summary(full(rig))["Kept"].etag  # unchanged: same version
    assert kept


def test_a_series_with_a_moved_and_a_cancelled_instance(rig: Rig) -> None:
    start = NOW.replace(hour=9) + timedelta(days=7)
    series = rig.add("Daily", start, start + timedelta(minutes=30), tzid="Europe/London", rrule="FREQ=DAILY;COUNT=5")
    rig.move_instance(
        series, start + timedelta(days=1), start + timedelta(days=1, hours=3), start + timedelta(days=1, hours=4)
    )
    rig.cancel_instance(series, start + timedelta(days=2))
    [item] = [i for i in full(rig).items if i.remote_id == series]
    remote = item.event
    assert remote.recurrence is not None and "FREQ=DAILY" in str(remote.recurrence)
    cancelled = set(remote.cancelled) | {o.key for o in remote.overrides if o.cancelled}  # either form will do
    assert cancelled == {recurrence.key_of(start + timedelta(days=2))}
    [moved] = [o for o in remote.overrides if not o.cancelled]
    assert moved.key == recurrence.key_of(start + timedelta(days=1))
    assert moved.start is not None and moved.start.instant == start + timedelta(days=1, hours=3)


def test_writes_create_update_and_delete_once(rig: Rig) -> None:
    if not rig.writable:
        pytest.skip("a read-only service")
    start = NOW + timedelta(days=4)
    event = Event("evr_x", "cal_x", "acc_x", "evt_contract" + NOW.strftime("%H%M%S"), "Written", False, NOW, NOW)
    event.starts_at, event.ends_at = start, start + timedelta(hours=1)
    first = rig.provider.write_event(rig.conn, rig.calendar_id, event, None, None)
    again = rig.provider.write_event(rig.conn, rig.calendar_id, event, None, None)  # a retry after a crash
    assert again.remote_id == first.remote_id
    assert [i.event.summary for i in full(rig).items] == ["Written"]
    event.summary = "Rewritten"
    updated = rig.provider.write_event(rig.conn, rig.calendar_id, event, again.remote_id, again.etag)
    assert rig.summary_of(updated.remote_id) == "Rewritten"
    rig.provider.delete_event(rig.conn, rig.calendar_id, updated.remote_id, updated.etag)
    rig.provider.delete_event(rig.conn, rig.calendar_id, updated.remote_id, None)  # gone already: fine
    assert rig.summary_of(updated.remote_id) is None
    assert full(rig).items == []


def test_refused_credentials_are_reported_as_such(rig: Rig) -> None:
    rig.break_auth()
    with pytest.raises(ProviderAuthRejected):
        full(rig)
    rig.restore_auth()
    assert full(rig).complete


def test_a_busy_service_says_when_to_come_back(rig: Rig) -> None:
    rig.throttle(37)
    with pytest.raises(ProviderUnavailable) as busy:
        full(rig)
    assert busy.value.retry_after_seconds == 37
    assert full(rig).complete
