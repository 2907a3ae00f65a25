"""`GET /v1/events`: every filter of §2.1, the event shape, stable paging behind absolute `next_page` URLs,
and the 422s for bad parameters."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from horae import bootstrap
from horae.api.app import create_app
from horae.container import Container
from horae.domain import ids
from horae.domain.events import Event
from tests.conftest import Deployment, fast_settings
from tests.fakes import FakeClock
from tests.helpers import Connected, also_authorize, connect

NOW = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
BASE = "http://127.0.0.1:8000"


@pytest.fixture(autouse=True)
def fixed_now(clock: FakeClock) -> None:
    clock.current = NOW


def primary(client: TestClient, who: Connected) -> str:
    calendars = client.get("/v1/calendars", headers=who.auth).json()["calendars"]
    return str(calendars[0]["calendar_id"])


def upsert(client: TestClient, who: Connected, calendar_id: str, **body: Any) -> None:
    response = client.post(f"/v1/calendars/{calendar_id}/events", json={"summary": "Event", **body}, headers=who.auth)
    assert response.status_code == 202, response.text


def read(client: TestClient, who: Connected, path: str = "/v1/events", **params: Any) -> dict[str, Any]:
    response = client.get(path, params=params, headers=who.auth)
    assert response.status_code == 200, response.text
    return dict(response.json())


def summaries(body: dict[str, Any]) -> list[str]:
    return [e["summary"] for e in body["events"]]


def external(
    container: Container,
    who: Connected,
    calendar_id: str,
    summary: str,
    start: datetime | date,
    end: datetime | date,
    **fields: Any,
) -> Event:
    """An event the person made in their calendar (no application manages it)."""
    now = container.clock.now()
    event = Event(
        id=ids.new_id("evr"),
        calendar_id=calendar_id,
        account_id=who.sub,
        event_uid=ids.new_id("evt_external"),
        summary=summary,
        all_day=not isinstance(start, datetime),
        created_at=fields.pop("created_at", now),
        updated_at=fields.pop("updated_at", now),
    )
    if isinstance(start, datetime) and isinstance(end, datetime):
        event.starts_at, event.ends_at = start, end
    else:
        assert not isinstance(start, datetime) and not isinstance(end, datetime)
        event.start_date, event.end_date = start, end
    for name, value in fields.items():
        setattr(event, name, value)
    with container.uow() as uow:
        uow.events.add(event)
        uow.commit()
    return event


def many(container: Container, who: Connected, calendar_id: str, count: int, first: datetime, prefix: str) -> None:
    """`count` external events an hour apart, added in one go."""
    with container.uow() as uow:
        for n in range(count):
            start = first + timedelta(hours=n)
            uow.events.add(
                Event(
                    id=ids.new_id("evr"),
                    calendar_id=calendar_id,
                    account_id=who.sub,
                    event_uid=ids.new_id("evt_external"),
                    summary=f"{prefix}{n:03d}",
                    all_day=False,
                    created_at=NOW,
                    updated_at=NOW,
                    starts_at=start,
                    ends_at=start + timedelta(minutes=30),
                )
            )
        uow.commit()


def at(day: int, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def z(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


# --- the event shape ---------------------------------------------------------------------------


def test_a_managed_event_reads_back_with_every_field(client: TestClient, container: Container) -> None:
    ada = connect(container)
    calendar_id = primary(client, ada)
    upsert(
        client,
        ada,
        calendar_id,
        event_id="planning",
        summary="Planning",
        description="Quarterly",
        start={"time": z(at(3, 9)), "tzid": "Europe/Paris"},
        end={"time": z(at(3, 10)), "tzid": "Europe/Paris"},
        location={"description": "Room 4", "lat": "51.5", "long": "-0.12"},
        attendees={"invite": [{"email": "bob@example.com", "display_name": "Bob"}]},
        transparency="opaque",
        color="#49BED8",
        event_private=True,
    )
    [event] = read(client, ada, include_managed="true", tzid="Etc/UTC")["events"]
    assert event["calendar_id"] == calendar_id
    assert event["event_id"] == "planning" and event["event_uid"].startswith("evt_")
    assert (event["summary"], event["description"]) == ("Planning", "Quarterly")
    assert (event["start"], event["end"]) == ("2026-11-03T09:00:00Z", "2026-11-03T10:00:00Z")
    assert event["deleted"] is False and event["recurring"] is False and "series_identifier" not in event
    assert event["created"] == event["updated"] == z(NOW)
    assert event["location"] == {"description": "Room 4"}  # lat/long only with include_geo
    assert event["attendees"] == [{"email": "bob@example.com", "display_name": "Bob", "status": "needs_action"}]
    assert event["participation_status"] == "accepted"
    assert (event["transparency"], event["status"], event["categories"]) == ("opaque", "confirmed", [])
    assert event["event_private"] is True and event["color"] == "#49BED8"
    assert event["options"] == {"delete": True, "update": True, "change_participation_status": True}


def test_localized_times_and_geo(client: TestClient, container: Container) -> None:
    ada = connect(container)
    calendar_id = primary(client, ada)
    upsert(
        client,
        ada,
        calendar_id,
        event_id="geo",
        start={"time": z(at(3, 9)), "tzid": "Europe/Paris"},
        end={"time": z(at(3, 10)), "tzid": "America/New_York"},
        location={"description": "Room 4", "lat": "51.5", "long": "-0.12"},
    )
    upsert(client, ada, calendar_id, event_id="day", start="2026-11-04", end="2026-11-05", tzid="Asia/Tokyo")
    events = read(client, ada, include_managed=True, localized_times=True, include_geo=True)["events"]
    assert events[0]["start"] == {"time": "2026-11-03T09:00:00Z", "tzid": "Europe/Paris"}
    assert events[0]["end"] == {"time": "2026-11-03T10:00:00Z", "tzid": "America/New_York"}
    assert events[0]["location"] == {"description": "Room 4", "lat": "51.5", "long": "-0.12"}
    assert events[1]["start"] == {"time": "2026-11-04", "tzid": "Asia/Tokyo"}


# --- managed and external events ----------------------------------------------------------------


def test_managed_events_are_left_out_unless_asked_for(client: TestClient, container: Container) -> None:
    ada = connect(container)
    other = also_authorize(container, ada)
    calendar_id = primary(client, ada)
    upsert(client, ada, calendar_id, event_id="mine", summary="Mine", start=z(at(3)), end=z(at(3, 10)))
    upsert(client, other, calendar_id, event_id="theirs", summary="Theirs", start=z(at(4)), end=z(at(4, 10)))
    external(container, ada, calendar_id, "Person's", at(5), at(5, 10))
    assert summaries(read(client, ada)) == ["Theirs", "Person's"]
    assert summaries(read(client, ada, include_managed=True)) == ["Mine", "Theirs", "Person's"]
    assert summaries(read(client, ada, only_managed=True)) == ["Mine"]
    everything = read(client, other, include_managed=True)["events"]
    # Another application's events are external: no event_id, and no update or delete.
    mine_as_seen_by_other = everything[0]
    assert "event_id" not in mine_as_seen_by_other
    assert mine_as_seen_by_other["options"]["update"] is False and mine_as_seen_by_other["options"]["delete"] is False
    assert everything[1]["event_id"] == "theirs"


def test_managed_events_ignore_the_default_window_only(client: TestClient, container: Container) -> None:
    ada = connect(container)
    calendar_id = primary(client, ada)
    far = NOW + timedelta(days=400)
    upsert(client, ada, calendar_id, event_id="far", summary="Far", start=z(far), end=z(far + timedelta(hours=1)))
    external(container, ada, calendar_id, "Far external", far, far + timedelta(hours=1))
    assert summaries(read(client, ada, include_managed=True)) == ["Far"]
    assert summaries(read(client, ada, only_managed=True)) == ["Far"]
    assert summaries(read(client, ada, include_managed=True, to="2027-01-01")) == []
    # Both start at once, so their order follows their (random) uids: compare as a set.
    both = summaries(read(client, ada, include_managed=True, **{"from": "2027-12-01", "to": "2027-12-31"}))
    assert sorted(both) == ["Far", "Far external"]


def test_the_default_window_is_42_days_back_and_201_ahead(client: TestClient, container: Container) -> None:
    ada = connect(container)
    calendar_id = primary(client, ada)
    today = NOW.replace(hour=0)
    for name, days in (("-43", -43), ("-42", -42), ("+200", 200), ("+201", 201)):
        start = today + timedelta(days=days, hours=9)
        external(container, ada, calendar_id, name, start, start + timedelta(hours=1))
    assert summaries(read(client, ada)) == ["-42", "+200"]


# --- the window and the reader's zone -------------------------------------------------------------


def test_tzid_sets_the_day_boundaries(client: TestClient, container: Container) -> None:
    ada = connect(container)
    calendar_id = primary(client, ada)
    external(container, ada, calendar_id, "Late", at(3, 23, 30), at(4, 0, 15))
    day = {"from": "2026-11-04", "to": "2026-11-05"}
    assert summaries(read(client, ada, tzid="Etc/UTC", **day)) == ["Late"]  # ends after midnight UTC
    assert summaries(read(client, ada, tzid="America/New_York", **day)) == []  # 18:30 on the 3rd there
    assert summaries(read(client, ada, tzid="Asia/Tokyo", **day)) == ["Late"]  # 08:30 on the 4th
    assert summaries(read(client, ada, tzid="Asia/Tokyo", **{"from": "2026-11-05", "to": "2026-11-06"})) == []


def test_from_is_inclusive_and_to_exclusive(client: TestClient, container: Container) -> None:
    ada = connect(container)
    calendar_id = primary(client, ada)
    external(container, ada, calendar_id, "Ends at from", at(2, 23), at(3, 0))
    external(container, ada, calendar_id, "Ends before from", at(2, 22), at(2, 23, 59))
    external(container, ada, calendar_id, "Starts at from", at(3, 0), at(3, 1))
    external(container, ada, calendar_id, "Starts before to", at(4, 23, 59), at(5, 1))
    external(container, ada, calendar_id, "Starts at to", at(5, 0), at(5, 1))
    found = summaries(read(client, ada, **{"from": "2026-11-03", "to": "2026-11-05"}))
    assert found == ["Ends at from", "Starts at from", "Starts before to"]
    exact = read(client, ada, **{"from": "2026-11-03T00:30:00Z", "to": "2026-11-05T00:00:00Z"})
    assert summaries(exact) == ["Starts at from", "Starts before to"]


def test_all_day_events_never_shift_with_the_readers_zone(client: TestClient, container: Container) -> None:
    ada = connect(container)
    calendar_id = primary(client, ada)
    external(container, ada, calendar_id, "Holiday", date(2026, 11, 4), date(2026, 11, 5))
    for tzid in ("Pacific/Kiritimati", "Etc/UTC", "Pacific/Pago_Pago", "Asia/Kathmandu"):
        events = read(client, ada, tzid=tzid, **{"from": "2026-11-04", "to": "2026-11-05"})["events"]
        assert [(e["start"], e["end"]) for e in events] == [("2026-11-04", "2026-11-05")], tzid
        assert read(client, ada, tzid=tzid, **{"from": "2026-11-05", "to": "2026-11-06"})["events"] == [], tzid
        assert read(client, ada, tzid=tzid, **{"from": "2026-11-03", "to": "2026-11-04"})["events"] == [], tzid


def test_events_sort_by_start_with_all_day_events_at_local_midnight(client: TestClient, container: Container) -> None:
    ada = connect(container)
    calendar_id = primary(client, ada)
    external(container, ada, calendar_id, "B 09:00", at(4, 9), at(4, 10))
    external(container, ada, calendar_id, "A all day", date(2026, 11, 4), date(2026, 11, 5))
    external(container, ada, calendar_id, "C 3rd 20:00", at(3, 20), at(3, 21))
    body = read(client, ada, tzid="Etc/UTC", **{"from": "2026-11-03", "to": "2026-11-06"})
    assert summaries(body) == ["C 3rd 20:00", "A all day", "B 09:00"]
    tokyo = read(client, ada, tzid="Asia/Tokyo", **{"from": "2026-11-03", "to": "2026-11-06"})
    assert summaries(tokyo) == ["A all day", "C 3rd 20:00", "B 09:00"]  # midnight in Tokyo is 15:00 UTC the 3rd


def test_calendar_ids_restrict_the_read(client: TestClient, container: Container) -> None:
    ada = connect(container)
    first = primary(client, ada)
    profile_id = client.get("/v1/calendars", headers=ada.auth).json()["calendars"][0]["profile_id"]
    created = client.post("/v1/calendars", json={"profile_id": profile_id, "name": "Team"}, headers=ada.auth)
    second = created.json()["calendar"]["calendar_id"]
    external(container, ada, first, "In first", at(3), at(3, 10))
    external(container, ada, second, "In second", at(4), at(4, 10))
    assert summaries(read(client, ada)) == ["In first", "In second"]
    assert summaries(read(client, ada, **{"calendar_ids[]": second})) == ["In second"]
    assert summaries(read(client, ada, **{"calendar_ids[]": [first, second]})) == ["In first", "In second"]
    assert summaries(read(client, ada, calendar_ids=first)) == ["In first"]  # brackets left off: tolerated


# --- changes ----------------------------------------------------------------------------------------


def test_last_modified_returns_changes_made_by_others(
    client: TestClient, container: Container, clock: FakeClock
) -> None:
    ada = connect(container)
    other = also_authorize(container, ada)
    calendar_id = primary(client, ada)
    upsert(client, ada, calendar_id, event_id="old", summary="Old", start=z(at(3)), end=z(at(3, 10)))
    clock.advance(minutes=5)
    since = z(clock.now())
    upsert(client, ada, calendar_id, event_id="mine", summary="Mine", start=z(at(4)), end=z(at(4, 10)))
    upsert(client, other, calendar_id, event_id="theirs", summary="Theirs", start=z(at(5)), end=z(at(5, 10)))
    external(container, ada, calendar_id, "Person's", at(6), at(6, 10))
    external(container, ada, calendar_id, "Person's old", at(7), at(7, 10), updated_at=NOW)
    assert summaries(read(client, ada, include_managed=True, last_modified=since)) == ["Theirs", "Person's"]
    assert summaries(read(client, other, include_managed=True, last_modified=since)) == ["Mine", "Person's"]
    # A later change by the other application to its own event is, for Ada's application, an external one.
    clock.advance(minutes=5)
    later = z(clock.now())
    upsert(client, other, calendar_id, event_id="theirs", summary="Theirs, moved", start=z(at(8)), end=z(at(8, 10)))
    assert summaries(read(client, ada, last_modified=later)) == ["Theirs, moved"]


def test_deleted_events_only_with_include_deleted(client: TestClient, container: Container) -> None:
    ada = connect(container)
    other = also_authorize(container, ada)
    calendar_id = primary(client, ada)
    upsert(client, other, calendar_id, event_id="gone", summary="Gone", start=z(at(3)), end=z(at(3, 10)))
    deleted = client.request(
        "DELETE", f"/v1/calendars/{calendar_id}/events", json={"event_id": "gone"}, headers=other.auth
    )
    assert deleted.status_code == 202
    assert read(client, ada)["events"] == []
    [event] = read(client, ada, include_deleted=True)["events"]
    assert event["summary"] == "Gone" and event["deleted"] is True


def test_moved_events_only_with_include_moved(client: TestClient, container: Container) -> None:
    ada = connect(container)
    calendar_id = primary(client, ada)
    upsert(client, ada, calendar_id, event_id="mover", summary="Mover", start=z(at(3)), end=z(at(3, 10)))
    upsert(client, ada, calendar_id, event_id="mover", summary="Mover", start=z(at(20)), end=z(at(20, 10)))
    window = {"from": "2026-11-03", "to": "2026-11-04", "include_managed": True}
    assert read(client, ada, **window)["events"] == []
    [event] = read(client, ada, include_moved=True, **window)["events"]
    assert event["start"] == z(at(20))  # where it is now


def test_include_userinfo(client: TestClient, container: Container) -> None:
    ada = connect(container)
    body = read(client, ada, include_userinfo="true")
    assert body["userinfo"]["sub"] == ada.sub
    assert body["userinfo"]["cronofy.type"] == "account"
    assert body["userinfo"]["cronofy.data"]["profiles"][0]["profile_calendars"]
    assert "userinfo" not in read(client, ada)


def test_pycronofy_style_requests(client: TestClient, container: Container) -> None:
    ada = connect(container)
    calendar_id = primary(client, ada)
    upsert(client, ada, calendar_id, event_id="x", summary="X", start=z(at(3)), end=z(at(3, 10)))
    params = {
        "tzid": "Etc/UTC",
        "from": "2026-11-01",
        "to": "2026-11-30T00:00:00Z",
        "only_managed": "False",
        "include_managed": "True",
        "include_deleted": "False",
        "include_moved": "False",
        "include_geo": "False",
        "localized_times": "0",
    }
    response = client.request("GET", "/v1/events", params=params, json={}, headers=ada.auth)
    assert response.status_code == 200, response.text
    assert summaries(response.json()) == ["X"]


# --- paging -------------------------------------------------------------------------------------------


def follow(client: TestClient, who: Connected, body: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield body
    while "next_page" in body["pages"]:
        response = client.get(body["pages"]["next_page"], headers=who.auth)
        assert response.status_code == 200, response.text
        body = response.json()
        yield body


def test_pages_of_100_with_absolute_next_page_urls(client: TestClient, container: Container) -> None:
    ada = connect(container)
    calendar_id = primary(client, ada)
    many(container, ada, calendar_id, 230, at(3, 0), "E")
    pages = list(follow(client, ada, read(client, ada)))
    assert [len(p["events"]) for p in pages] == [100, 100, 30]
    assert [(p["pages"]["current"], p["pages"]["total"]) for p in pages] == [(1, 3), (2, 3), (3, 3)]
    for page in pages[:-1]:
        url = urlsplit(page["pages"]["next_page"])
        assert f"{url.scheme}://{url.netloc}" == BASE and url.path.startswith("/v1/events/pages/")
        assert not url.query and not url.fragment
        assert not set(url.path.rsplit("/", 1)[1]) & set("+/=&#?")
    assert "next_page" not in pages[-1]["pages"]
    assert [e["summary"] for p in pages for e in p["events"]] == [f"E{n:03d}" for n in range(230)]


def test_next_page_tolerates_extra_query_parameters(client: TestClient, container: Container) -> None:
    ada = connect(container)
    many(container, ada, primary(client, ada), 120, at(3, 0), "E")
    first = read(client, ada)
    # The Node SDK appends the original options to next_page.
    response = client.get(
        first["pages"]["next_page"] + "?tzid=Etc%2FUTC&include_managed=true&calendar_ids[]=x&bogus=1", headers=ada.auth
    )
    assert response.status_code == 200, response.text
    assert len(response.json()["events"]) == 20


def test_paging_is_stable_while_events_are_added(client: TestClient, container: Container) -> None:
    ada = connect(container)
    calendar_id = primary(client, ada)
    many(container, ada, calendar_id, 150, at(3, 0), "E")
    first = read(client, ada)
    assert first["events"][-1]["summary"] == "E099"
    # Mid-paging, one event lands among those already read, one among those still to come.
    external(container, ada, calendar_id, "Early newcomer", at(3, 0, 10), at(3, 1))
    external(container, ada, calendar_id, "Late newcomer", at(9, 0, 10), at(9, 1))
    rest = list(follow(client, ada, first))[1:]
    seen = [e["summary"] for page in [first, *rest] for e in page["events"]]
    assert [s for s in seen if s.startswith("E")] == [f"E{n:03d}" for n in range(150)]
    assert len(seen) == len(set(seen))
    assert "Late newcomer" in seen and "Early newcomer" not in seen
    assert rest[-1]["pages"]["current"] == rest[-1]["pages"]["total"] == 2


def test_next_page_uses_the_configured_public_base_url(
    tmp_path: Path, deployment: Deployment, clock: FakeClock
) -> None:
    settings = fast_settings(
        tmp_path,
        database_url=deployment.database_url,
        redis_url=deployment.redis_url,
        public_base_url="https://calendar.example.org/horae/",
    )
    built = bootstrap.build(settings, clock)
    try:
        with TestClient(create_app(built), base_url=BASE) as client:
            ada = connect(built)
            many(built, ada, primary(client, ada), 101, at(3, 0), "E")
            next_page = read(client, ada)["pages"]["next_page"]
            assert next_page.startswith("https://calendar.example.org/horae/v1/events/pages/")
            path = urlsplit(next_page).path.removeprefix("/horae")
            assert len(client.get(path, headers=ada.auth).json()["events"]) == 1
    finally:
        built.uow.engine.dispose()  # type: ignore[attr-defined]


def test_page_tokens_are_tamper_proof_and_private(client: TestClient, container: Container) -> None:
    ada = connect(container)
    many(container, ada, primary(client, ada), 101, at(3, 0), "E")
    path = urlsplit(read(client, ada)["pages"]["next_page"]).path
    token = path.rsplit("/", 1)[1]
    flipped = token[:-3] + ("A" if token[-3] != "A" else "B") + token[-2:]
    for bad in (flipped, token[:-1], "x", "%00", token + "x" * 9000):
        response = client.get(f"/v1/events/pages/{bad}", headers=ada.auth)
        assert response.status_code == 404, (bad[:20], response.text)
        assert response.json()["error"] == "not_found"
    bob = connect(container, "bob@example.com")
    assert client.get(path, headers=bob.auth).status_code == 404
    other_app = also_authorize(container, ada)
    assert client.get(path, headers=other_app.auth).status_code == 404
    assert client.get(path.replace("/v1/events/", "/v1/free_busy/"), headers=ada.auth).status_code == 404
    assert client.get(path).status_code == 401


# --- bad input and permissions ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"tzid": "Mars/Olympus_Mons"}, "tzid"),
        ({"tzid": "posix/Europe/London"}, "tzid"),
        ({"from": "2026-02-30"}, "from"),
        ({"from": "next week"}, "from"),
        ({"to": "20261201"}, "to"),
        ({"from": "2026-12-02", "to": "2026-12-01"}, "to"),
        ({"from": "2026-12-01", "to": "2026-12-01"}, "to"),
        ({"from": ""}, "from"),
        ({"tzid": ""}, "tzid"),
        ({"from": "0001-01-01T00:00:00+05:00"}, "from"),
        ({"last_modified": "yesterday"}, "last_modified"),
        ({"include_deleted": "maybe"}, "include_deleted"),
        ({"only_managed": ""}, "only_managed"),
        ({"localized_times": "2"}, "localized_times"),
        ({"calendar_ids[]": "cal_nope"}, "calendar_ids"),
        ({"calendar_ids[]": ""}, "calendar_ids"),
    ],
)
def test_bad_parameters_get_field_errors(
    client: TestClient, container: Container, params: dict[str, str], field: str
) -> None:
    ada = connect(container)
    response = client.get("/v1/events", params=params, headers=ada.auth)
    assert response.status_code == 422, response.text
    errors = response.json()["errors"]
    assert field in errors, errors
    assert errors[field][0]["key"].startswith("errors.") and errors[field][0]["description"]


def test_another_accounts_calendar_is_unknown(client: TestClient, container: Container) -> None:
    ada = connect(container)
    bob = connect(container, "bob@example.com")
    response = client.get("/v1/events", params={"calendar_ids[]": primary(client, bob)}, headers=ada.auth)
    assert response.status_code == 422 and "calendar_ids" in response.json()["errors"]


def test_scopes(client: TestClient, container: Container) -> None:
    free_busy_only = connect(container, "fb@example.com", scope="free_busy")
    assert client.get("/v1/events", headers=free_busy_only.auth).status_code == 403
    writer = connect(container, "writer@example.com", scope="create_event")
    assert client.get("/v1/events", headers=writer.auth).status_code == 403
    mine = client.get("/v1/events", params={"only_managed": "true"}, headers=writer.auth)
    assert mine.status_code == 200, mine.text
    assert client.get("/v1/events").status_code == 401
