"""`GET /v1/free_busy` (§2.2): one block per event, busy / tentative / free, the same window and paging
as events, and its own scope."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from horae.container import Container
from horae.domain import ids
from horae.domain.events import Event
from tests.fakes import FakeClock
from tests.helpers import Connected, connect

NOW = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
WINDOW = {"from": "2026-11-01", "to": "2026-11-30"}


@pytest.fixture(autouse=True)
def fixed_now(clock: FakeClock) -> None:
    clock.current = NOW


def primary(client: TestClient, who: Connected) -> str:
    return str(client.get("/v1/calendars", headers=who.auth).json()["calendars"][0]["calendar_id"])


def at(day: int, hour: int = 9) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=UTC)


def z(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def stored(
    container: Container, who: Connected, calendar_id: str, summary: str, start: Any, end: Any, **fields: Any
) -> str:
    event = Event(
        id=ids.new_id("evr"),
        calendar_id=calendar_id,
        account_id=who.sub,
        event_uid=ids.new_id("evt_external"),
        summary=summary,
        all_day=not isinstance(start, datetime),
        created_at=NOW,
        updated_at=NOW,
    )
    if isinstance(start, datetime):
        event.starts_at, event.ends_at = start, end
    else:
        event.start_date, event.end_date = start, end
    for name, value in fields.items():
        setattr(event, name, value)
    with container.uow() as uow:
        uow.events.add(event)
        uow.commit()
    return event.event_uid


def free_busy(client: TestClient, who: Connected, **params: Any) -> dict[str, Any]:
    response = client.get("/v1/free_busy", params={**WINDOW, **params}, headers=who.auth)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_blocks_and_statuses(client: TestClient, container: Container) -> None:
    ada = connect(container)
    calendar_id = primary(client, ada)
    stored(container, ada, calendar_id, "Busy", at(3), at(3, 10))
    stored(container, ada, calendar_id, "Transparent", at(4), at(4, 10), transparency="transparent")
    stored(container, ada, calendar_id, "Maybe", at(5), at(5, 10), participation_status="tentative")
    stored(container, ada, calendar_id, "Declined", at(6), at(6, 10), participation_status="declined")
    stored(container, ada, calendar_id, "Cancelled", at(7), at(7, 10), status="cancelled")
    stored(container, ada, calendar_id, "Gone", at(8), at(8, 10), deleted=True)
    stored(container, ada, calendar_id, "Holiday", date(2026, 11, 9), date(2026, 11, 10))
    body = free_busy(client, ada)
    assert body["pages"] == {"current": 1, "total": 1}
    assert body["free_busy"] == [
        {"calendar_id": calendar_id, "start": z(at(3)), "end": z(at(3, 10)), "free_busy_status": "busy"},
        {"calendar_id": calendar_id, "start": z(at(5)), "end": z(at(5, 10)), "free_busy_status": "tentative"},
        {"calendar_id": calendar_id, "start": "2026-11-09", "end": "2026-11-10", "free_busy_status": "busy"},
    ]
    with_free = free_busy(client, ada, include_free="true")["free_busy"]
    assert [b["free_busy_status"] for b in with_free] == ["busy", "free", "tentative", "free", "free", "busy"]


def test_tentative_participation_set_through_the_api(client: TestClient, container: Container) -> None:
    ada = connect(container)
    calendar_id = primary(client, ada)
    uid = stored(container, ada, calendar_id, "Invite", at(3), at(3, 10))
    response = client.post(
        f"/v1/calendars/{calendar_id}/events/{uid}/participation_status", json={"status": "tentative"}, headers=ada.auth
    )
    assert response.status_code == 202, response.text
    [block] = free_busy(client, ada)["free_busy"]
    assert block["free_busy_status"] == "tentative"


def test_managed_events_ids_and_localized_times(client: TestClient, container: Container) -> None:
    ada = connect(container)
    calendar_id = primary(client, ada)
    body = {
        "event_id": "mine",
        "summary": "Mine",
        "start": {"time": z(at(3)), "tzid": "Europe/Berlin"},
        "end": {"time": z(at(3, 10)), "tzid": "Europe/Berlin"},
    }
    assert client.post(f"/v1/calendars/{calendar_id}/events", json=body, headers=ada.auth).status_code == 202
    assert free_busy(client, ada)["free_busy"] == []  # managed events are left out by default
    [block] = free_busy(client, ada, include_managed="True", include_ids="true", localized_times="true")["free_busy"]
    assert block["start"] == {"time": z(at(3)), "tzid": "Europe/Berlin"}
    assert block["event_id"] == "mine" and block["event_uid"].startswith("evt_") and block["deleted"] is False
    [plain] = free_busy(client, ada, include_managed="1")["free_busy"]
    assert set(plain) == {"calendar_id", "start", "end", "free_busy_status"}


def test_tzid_window_and_calendar_ids(client: TestClient, container: Container) -> None:
    ada = connect(container)
    calendar_id = primary(client, ada)
    stored(container, ada, calendar_id, "Late", at(3, 23), at(4, 0))
    day = {"from": "2026-11-04", "to": "2026-11-05"}
    assert len(free_busy(client, ada, tzid="Asia/Tokyo", **day)["free_busy"]) == 1
    assert free_busy(client, ada, tzid="America/Los_Angeles", **day)["free_busy"] == []
    assert len(free_busy(client, ada, **{"calendar_ids[]": calendar_id})["free_busy"]) == 1
    bad = client.get("/v1/free_busy", params={"calendar_ids[]": "cal_nope"}, headers=ada.auth)
    assert bad.status_code == 422 and "calendar_ids" in bad.json()["errors"]


def test_paging(client: TestClient, container: Container) -> None:
    ada = connect(container)
    calendar_id = primary(client, ada)
    with container.uow() as uow:
        for n in range(130):
            start = at(3, 0) + timedelta(hours=n)
            uow.events.add(
                Event(
                    id=ids.new_id("evr"),
                    calendar_id=calendar_id,
                    account_id=ada.sub,
                    event_uid=ids.new_id("evt_external"),
                    summary=str(n),
                    all_day=False,
                    created_at=NOW,
                    updated_at=NOW,
                    starts_at=start,
                    ends_at=start + timedelta(hours=1),
                )
            )
        uow.commit()
    first = free_busy(client, ada)
    assert (len(first["free_busy"]), first["pages"]["current"], first["pages"]["total"]) == (100, 1, 2)
    next_page = first["pages"]["next_page"]
    assert urlsplit(next_page).path.startswith("/v1/free_busy/pages/")
    second = client.get(next_page + "?tzid=Etc/UTC", headers=ada.auth).json()
    assert (len(second["free_busy"]), second["pages"]) == (30, {"current": 2, "total": 2})
    starts = [b["start"] for b in first["free_busy"] + second["free_busy"]]
    assert starts == sorted(starts) and len(set(starts)) == 130
    assert client.get(next_page.replace("/free_busy/", "/events/"), headers=ada.auth).status_code == 404


def test_recurring_series_show_each_instance(client: TestClient, container: Container) -> None:
    ada = connect(container)
    calendar_id = primary(client, ada)
    body = {
        "event_id": "standup",
        "summary": "Standup",
        "start": {"time": z(at(2, 9)), "tzid": "Europe/London"},
        "end": {"time": z(at(2, 9) + timedelta(minutes=15)), "tzid": "Europe/London"},
        "recurrence": {"rules": [{"frequency": "daily", "count": 5}]},
    }
    assert client.post(f"/v1/calendars/{calendar_id}/events", json=body, headers=ada.auth).status_code == 202
    blocks = free_busy(client, ada, include_managed="true")["free_busy"]
    assert [b["start"] for b in blocks] == [z(at(d, 9)) for d in range(2, 7)]


def test_scope_and_bad_input(client: TestClient, container: Container) -> None:
    free_busy_only = connect(container, "fb@example.com", scope="free_busy")
    assert client.get("/v1/free_busy", headers=free_busy_only.auth).status_code == 200
    assert client.get("/v1/events", headers=free_busy_only.auth).status_code == 403
    nothing = connect(container, "cal@example.com", scope="create_calendar")
    assert client.get("/v1/free_busy", headers=nothing.auth).status_code == 403
    for params, field in (
        ({"tzid": "Nowhere"}, "tzid"),
        ({"from": "x"}, "from"),
        ({"include_free": "?"}, "include_free"),
    ):
        response = client.get("/v1/free_busy", params=params, headers=free_busy_only.auth)
        assert response.status_code == 422 and field in response.json()["errors"], response.text
