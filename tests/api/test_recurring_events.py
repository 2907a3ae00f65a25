"""Recurring events through the API: a `recurrence` on upsert, instances in reads (`recurring: true`,
their own `event_uid`, `series_identifier`), wall-clock times kept across DST, and one instance moved or
cancelled."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from horae.container import Container
from tests.fakes import FakeClock
from tests.helpers import Connected, authorize, connect, make_app

NOW = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
LONDON = ZoneInfo("Europe/London")


@pytest.fixture(autouse=True)
def fixed_now(clock: FakeClock) -> None:
    clock.current = NOW


def primary(client: TestClient, who: Connected) -> str:
    return str(client.get("/v1/calendars", headers=who.auth).json()["calendars"][0]["calendar_id"])


def z(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def upsert(client: TestClient, who: Connected, calendar_id: str, body: dict[str, Any]) -> Any:
    return client.post(f"/v1/calendars/{calendar_id}/events", json=body, headers=who.auth)


def delete(client: TestClient, who: Connected, calendar_id: str, body: dict[str, Any]) -> Any:
    return client.request("DELETE", f"/v1/calendars/{calendar_id}/events", json=body, headers=who.auth)


def events(client: TestClient, who: Connected, **params: Any) -> list[dict[str, Any]]:
    response = client.get("/v1/events", params={"include_managed": "true", **params}, headers=who.auth)
    assert response.status_code == 200, response.text
    pages = [response.json()]
    while "next_page" in pages[-1]["pages"]:
        pages.append(client.get(pages[-1]["pages"]["next_page"], headers=who.auth).json())
    return [e for page in pages for e in page["events"]]


def weekly_london(event_id: str = "weekly", **extra: Any) -> dict[str, Any]:
    start = datetime(2026, 3, 2, 9, 0, tzinfo=LONDON)
    return {
        "event_id": event_id,
        "summary": "Weekly 09:00",
        "start": {"time": z(start), "tzid": "Europe/London"},
        "end": {"time": z(start + timedelta(hours=1)), "tzid": "Europe/London"},
        "recurrence": {"rules": [{"frequency": "weekly", "by_day": ["MO"]}]},
        **extra,
    }


def test_weekly_0900_london_is_0900_local_in_gmt_and_bst(client: TestClient, container: Container) -> None:
    ada = connect(container)
    calendar_id = primary(client, ada)
    assert upsert(client, ada, calendar_id, weekly_london()).status_code == 202
    spring = events(client, ada, tzid="Europe/London", **{"from": "2026-03-16", "to": "2026-04-07"})
    assert [e["start"] for e in spring] == [
        "2026-03-16T09:00:00Z",
        "2026-03-23T09:00:00Z",
        "2026-03-30T08:00:00Z",  # BST from 29 March
        "2026-04-06T08:00:00Z",
    ]
    autumn = events(client, ada, tzid="Europe/London", **{"from": "2026-10-19", "to": "2026-11-03"})
    assert [e["start"] for e in autumn] == ["2026-10-19T08:00:00Z", "2026-10-26T09:00:00Z", "2026-11-02T09:00:00Z"]
    for event in spring + autumn:
        local = datetime.fromisoformat(event["start"].replace("Z", "+00:00")).astimezone(LONDON)
        assert local.strftime("%a %H:%M") == "Mon 09:00"
        assert event["recurring"] is True and event["event_id"] == "weekly"
    uids = [e["event_uid"] for e in spring + autumn]
    assert len(set(uids)) == len(uids)
    series = {e["series_identifier"] for e in spring + autumn}
    assert len(series) == 1 and all(uid.startswith(next(iter(series)) + "_") for uid in uids)
    localized = events(client, ada, localized_times="true", **{"from": "2026-03-30", "to": "2026-03-31"})
    assert localized[0]["start"] == {"time": "2026-03-30T08:00:00Z", "tzid": "Europe/London"}


@pytest.mark.parametrize(
    ("tzid", "first", "days"),
    [
        ("America/New_York", datetime(2026, 3, 5, 8, 30), 6),  # spring forward on 8 March
        ("America/New_York", datetime(2026, 10, 29, 8, 30), 6),  # fall back on 1 November
        ("Australia/Sydney", datetime(2026, 4, 2, 8, 30), 6),  # DST ends on 5 April
        ("Australia/Sydney", datetime(2026, 10, 1, 8, 30), 6),  # DST starts on 4 October
    ],
)
def test_daily_series_over_dst_changes_elsewhere(
    client: TestClient, container: Container, tzid: str, first: datetime, days: int
) -> None:
    ada = connect(container)
    calendar_id = primary(client, ada)
    zone = ZoneInfo(tzid)
    start = first.replace(tzinfo=zone)
    body = {
        "event_id": "daily",
        "summary": "Daily",
        "start": z(start),
        "end": z(start + timedelta(minutes=30)),
        "tzid": tzid,
        "recurrence": {"rrule": f"FREQ=DAILY;COUNT={days}"},
    }
    assert upsert(client, ada, calendar_id, body).status_code == 202, body
    found = events(client, ada, tzid=tzid, **{"from": (first - timedelta(days=1)).date().isoformat()})
    locals_ = [datetime.fromisoformat(e["start"].replace("Z", "+00:00")).astimezone(zone) for e in found]
    assert len(found) == days
    assert {t.strftime("%H:%M") for t in locals_} == {"08:30"}
    assert len({t.utcoffset() for t in locals_}) == 2


def test_all_day_series_never_shift_with_the_readers_zone(client: TestClient, container: Container) -> None:
    ada = connect(container)
    calendar_id = primary(client, ada)
    body = {
        "event_id": "payday",
        "summary": "Payday",
        "start": "2026-01-30",
        "end": "2026-01-31",
        "recurrence": {"rules": [{"frequency": "monthly", "by_month_day": [-1], "count": 4}]},
    }
    assert upsert(client, ada, calendar_id, body).status_code == 202
    for tzid in ("Pacific/Kiritimati", "Pacific/Pago_Pago", "Europe/London"):
        found = events(client, ada, tzid=tzid, **{"from": "2026-01-01", "to": "2026-06-01"})
        assert [(e["start"], e["end"]) for e in found] == [
            ("2026-01-30", "2026-01-31"),
            ("2026-01-31", "2026-02-01"),
            ("2026-02-28", "2026-03-01"),
            ("2026-03-31", "2026-04-01"),
        ], tzid


def test_an_instance_can_be_moved(client: TestClient, container: Container) -> None:
    ada = connect(container)
    calendar_id = primary(client, ada)
    assert upsert(client, ada, calendar_id, weekly_london()).status_code == 202
    march = {"from": "2026-03-01", "to": "2026-03-31"}
    [_, second, third, *_] = events(client, ada, **march)
    moved = {
        "event_id": "weekly",
        "instance": second["event_uid"],
        "summary": "Moved to Tuesday",
        "start": "2026-03-10T14:00:00Z",
        "end": "2026-03-10T15:00:00Z",
    }
    assert upsert(client, ada, calendar_id, moved).status_code == 202
    # The original start names an instance too.
    by_start = {**moved, "instance": third["start"], "summary": "Later", "start": "2026-05-01T10:00:00Z"}
    by_start["end"] = "2026-05-01T11:00:00Z"
    assert upsert(client, ada, calendar_id, by_start).status_code == 202
    after = events(client, ada, **march)
    assert [(e["start"], e["summary"]) for e in after] == [
        ("2026-03-02T09:00:00Z", "Weekly 09:00"),
        ("2026-03-10T14:00:00Z", "Moved to Tuesday"),
        ("2026-03-23T09:00:00Z", "Weekly 09:00"),
        ("2026-03-30T08:00:00Z", "Weekly 09:00"),
    ]
    assert after[1]["event_uid"] == second["event_uid"] and after[1]["recurring"] is True
    # Moved out of the window: there only with include_moved; and it shows where it went.
    with_moved = events(client, ada, include_moved="true", **march)
    assert ("2026-05-01T10:00:00Z", "Later") in [(e["start"], e["summary"]) for e in with_moved]
    may = events(client, ada, **{"from": "2026-05-01", "to": "2026-05-02"})
    assert [(e["event_uid"], e["summary"]) for e in may] == [(third["event_uid"], "Later")]
    # The instance's own event_uid works as well (moving it again).
    again = {**moved, "event_id": None, "event_uid": second["event_uid"], "start": "2026-03-11T14:00:00Z"}
    again["end"] = "2026-03-11T15:00:00Z"
    del again["instance"]
    assert upsert(client, ada, calendar_id, again).status_code == 202
    assert events(client, ada, **march)[1]["start"] == "2026-03-11T14:00:00Z"


def test_an_instance_can_be_deleted(client: TestClient, container: Container) -> None:
    ada = connect(container)
    calendar_id = primary(client, ada)
    assert upsert(client, ada, calendar_id, weekly_london()).status_code == 202
    march = {"from": "2026-03-01", "to": "2026-03-31"}
    before = events(client, ada, **march)
    assert delete(client, ada, calendar_id, {"event_uid": before[1]["event_uid"]}).status_code == 202
    after = events(client, ada, **march)
    assert [e["event_uid"] for e in after] == [before[0]["event_uid"], *[e["event_uid"] for e in before[2:]]]
    with_deleted = events(client, ada, include_deleted="true", **march)
    assert [e["deleted"] for e in with_deleted] == [False, True, False, False, False]
    assert delete(client, ada, calendar_id, {"event_uid": before[1]["event_uid"]}).status_code == 202  # again: fine
    # Deleting the series deletes every instance.
    assert delete(client, ada, calendar_id, {"event_id": "weekly"}).status_code == 202
    assert events(client, ada, **march) == []
    assert all(e["deleted"] for e in events(client, ada, include_deleted="true", **march))


def test_instance_changes_are_external_changes_for_other_applications(
    client: TestClient, container: Container, clock: FakeClock
) -> None:
    ada = connect(container)
    reader = authorize(container, make_app(container, "Reader"), ada.sub, "read_only")
    calendar_id = primary(client, ada)
    assert upsert(client, ada, calendar_id, weekly_london()).status_code == 202
    clock.advance(minutes=10)
    since = z(clock.now())
    march = {"from": "2026-03-01", "to": "2026-03-31"}
    uid = events(client, ada, **march)[1]["event_uid"]
    assert delete(client, ada, calendar_id, {"event_uid": uid}).status_code == 202
    changed = events(client, reader, last_modified=since, include_deleted="true", **march)
    assert uid in [e["event_uid"] for e in changed if e["deleted"]]
    assert "event_id" not in changed[0] and changed[0]["options"]["delete"] is False
    assert events(client, ada, last_modified=since, include_deleted="true", **march) == []  # its own change


def test_count_and_until_end_a_series(client: TestClient, container: Container) -> None:
    ada = connect(container)
    calendar_id = primary(client, ada)
    counted = weekly_london("counted", recurrence={"rules": [{"frequency": "weekly", "count": 3}]})
    until = weekly_london("until", recurrence={"rrule": "FREQ=WEEKLY;UNTIL=20260316"})
    for body in (counted, until):
        assert upsert(client, ada, calendar_id, body).status_code == 202
    found = events(client, ada, **{"from": "2026-03-01", "to": "2026-06-01"})
    by_series: dict[str, list[str]] = {}
    for event in found:
        by_series.setdefault(event["event_id"], []).append(event["start"][:10])
    assert by_series == {
        "counted": ["2026-03-02", "2026-03-09", "2026-03-16"],
        "until": ["2026-03-02", "2026-03-09", "2026-03-16"],
    }


def test_a_managed_series_without_from_and_to(client: TestClient, container: Container) -> None:
    ada = connect(container)
    calendar_id = primary(client, ada)
    start = datetime(2027, 6, 1, 9, tzinfo=UTC)  # beyond the default window
    body = {
        "event_id": "later",
        "summary": "Later",
        "start": z(start),
        "end": z(start + timedelta(hours=1)),
        "recurrence": {"rules": [{"frequency": "monthly", "count": 3}]},
    }
    assert upsert(client, ada, calendar_id, body).status_code == 202
    assert [e["start"][:10] for e in events(client, ada)] == ["2027-06-01", "2027-07-01", "2027-08-01"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"recurrence": {"rules": [{"frequency": "fortnightly"}]}}, "recurrence.rules.0.frequency"),
        (
            {"recurrence": {"rules": [{"frequency": "weekly", "count": 2, "until": "2027-01-01"}]}},
            "recurrence.rules.0.until",
        ),
        ({"recurrence": {"rules": [{"frequency": "weekly", "interval": 0}]}}, "recurrence.rules.0.interval"),
        ({"recurrence": {"rules": [{"frequency": "weekly", "by_day": ["Monday"]}]}}, "recurrence.rules.0.by_day"),
        (
            {"recurrence": {"rules": [{"frequency": "yearly", "by_month": [2], "by_month_day": [30]}]}},
            "recurrence.rules.0",
        ),
        ({"recurrence": {"rrule": "FREQ=SECONDLY"}}, "recurrence.rrule"),
        ({"recurrence": {"rrule": "FREQ=DAILY;BYHOUR=1,2,3"}}, "recurrence.rrule"),
        ({"recurrence": {"rrule": 42}}, "recurrence.rrule"),
        ({"recurrence": {}}, "recurrence"),
        ({"recurrence": {"frequency": "weekly"}}, "recurrence"),
        ({"recurrence": "FREQ=WEEKLY"}, "recurrence"),
    ],
)
def test_bad_recurrence_gets_field_errors(
    client: TestClient, container: Container, change: dict[str, Any], field: str
) -> None:
    ada = connect(container)
    response = upsert(client, ada, primary(client, ada), weekly_london(**change))
    assert response.status_code == 422, response.text
    assert field in response.json()["errors"], response.json()


def test_bad_instance_changes(client: TestClient, container: Container) -> None:
    ada = connect(container)
    calendar_id = primary(client, ada)
    assert upsert(client, ada, calendar_id, weekly_london()).status_code == 202
    plain = {"event_id": "plain", "summary": "Plain", "start": "2026-03-03T09:00:00Z", "end": "2026-03-03T10:00:00Z"}
    assert upsert(client, ada, calendar_id, plain).status_code == 202
    move = {"summary": "x", "start": "2026-03-10T14:00:00Z", "end": "2026-03-10T15:00:00Z"}
    cases = [
        ({"event_id": "weekly", "instance": "2026-03-03T09:00:00Z", **move}, "instance"),  # a Tuesday: no instance
        ({"event_id": "weekly", "instance": "soon", **move}, "instance"),
        ({"event_id": "plain", "instance": "2026-03-03T09:00:00Z", **move}, "instance"),  # not recurring
        ({"event_id": "nope", "instance": "2026-03-02T09:00:00Z", **move}, "instance"),
        (
            {
                "event_id": "weekly",
                "instance": "2026-03-02T09:00:00Z",
                **move,
                "start": "2026-03-10",
                "end": "2026-03-11",
            },
            "start",
        ),
        ({"event_id": "weekly", "instance": "2026-03-09T09:00:00Z", **move, "summary": ""}, "summary"),
        (
            {"event_id": "weekly", "instance": "2026-03-09T09:00:00Z", **move, "recurrence": {"rrule": "FREQ=DAILY"}},
            "recurrence",
        ),
    ]
    for body, field in cases:
        response = upsert(client, ada, calendar_id, body)
        assert response.status_code == 422, (body, response.text)
        assert field in response.json()["errors"], (body, response.json())


def test_other_applications_cannot_change_an_instance(client: TestClient, container: Container) -> None:
    ada = connect(container)
    calendar_id = primary(client, ada)
    assert upsert(client, ada, calendar_id, weekly_london()).status_code == 202
    uid = events(client, ada, **{"from": "2026-03-01", "to": "2026-03-08"})[0]["event_uid"]
    other = authorize(container, make_app(container, "Other"), ada.sub, "read_write")
    assert delete(client, other, calendar_id, {"event_uid": uid}).status_code == 403
    move = {"event_uid": uid, "summary": "Mine now", "start": "2026-03-03T09:00:00Z", "end": "2026-03-03T10:00:00Z"}
    assert upsert(client, other, calendar_id, move).status_code == 403
    # Its own event_id does not reach Ada's series.
    assert upsert(client, other, calendar_id, {**move, "event_id": "weekly", "instance": uid}).status_code == 422
