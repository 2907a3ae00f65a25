"""Data for the UI Elements pages, made over HTTP on a live `horae serve`: the demo person's meetings, a room
(an application calendar) with its own, element tokens for a page origin, and each Element's options."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

TZID = "Etc/UTC"
MEETINGS = (("Design review", 10, 11), ("Lunch with Sam", 12, 13), ("Planning", 15, 16))
ROOM_MEETINGS = (("Room booked", 9, 10),)
RULE_ID = "work_hours"


def next_monday(today: dt.date | None = None) -> dt.date:
    """The Monday after this week: a week with every weekday in the future."""
    today = today or dt.datetime.now(dt.UTC).date()
    return today + dt.timedelta(days=7 - today.weekday())


def z(value: dt.datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=dt.UTC)


def read_demo_credentials(data_dir: Path) -> dict[str, str]:
    """The demo application and person that `horae serve` seeds (its demo-credentials.env)."""
    values = {}
    for line in (data_dir / "demo-credentials.env").read_text().splitlines():
        if line.startswith("export ") and "=" in line:
            name, _, value = line.removeprefix("export ").partition("=")
            values[name] = value
    return values


@dataclass
class World:
    """Who the Elements show: the demo person (`sub`) and a room (`room_sub`), both of one application."""

    api: str
    client_id: str
    client_secret: str
    sub: str
    access_token: str
    room_sub: str
    week: dt.date  # a Monday; the meetings are on it and the next days

    @property
    def key(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.client_secret}"}

    def element_token(self, permissions: list[str], subs: list[str], origin: str) -> str:
        body = {"version": "1", "permissions": permissions, "subs": subs, "origin": origin}
        answer = httpx.post(f"{self.api}/v1/element_tokens", json=body, headers=self.key, timeout=30)
        answer.raise_for_status()
        return str(answer.json()["element_token"]["token"])

    def query(self, days: int = 5, duration: int = 60) -> dict[str, Any]:
        """Both of them free for `duration` minutes, 09:00-17:00 on `days` weekdays from `week`."""
        periods = [
            {"start": z(at(self.week + dt.timedelta(days=d), 9)), "end": z(at(self.week + dt.timedelta(days=d), 17))}
            for d in range(days)
        ]
        return {
            "participants": [{"required": "all", "members": [{"sub": self.sub}, {"sub": self.room_sub}]}],
            "required_duration": {"minutes": duration},
            "query_periods": periods,
        }


def seed(api: str, data_dir: Path, week: dt.date | None = None) -> World:
    """The demo person with three meetings a day for a week, and a room booked each morning."""
    demo = read_demo_credentials(data_dir)
    client_id, client_secret = demo["HORAE_CLIENT_ID"], demo["HORAE_CLIENT_SECRET"]
    room = httpx.post(
        f"{api}/v1/application_calendars",
        json={"client_id": client_id, "client_secret": client_secret, "application_calendar_id": "Meeting room"},
        timeout=30,
    )
    room.raise_for_status()
    world = World(
        api,
        client_id,
        client_secret,
        demo["HORAE_SUB"],
        demo["HORAE_ACCESS_TOKEN"],
        str(room.json()["sub"]),
        week or next_monday(),
    )
    today = dt.datetime.now(dt.UTC).date()
    days = [today, *[world.week + dt.timedelta(days=d) for d in range(5)]]
    _book(api, demo["HORAE_ACCESS_TOKEN"], MEETINGS, days)
    _book(api, str(room.json()["access_token"]), ROOM_MEETINGS, days)
    return world


def _book(api: str, access_token: str, meetings: tuple[tuple[str, int, int], ...], days: list[dt.date]) -> None:
    auth = {"Authorization": f"Bearer {access_token}"}
    calendars = httpx.get(f"{api}/v1/calendars", headers=auth, timeout=30)
    calendars.raise_for_status()
    calendar_id = calendars.json()["calendars"][0]["calendar_id"]
    for day in dict.fromkeys(days):
        for summary, start, end in meetings:
            event = {
                "event_id": f"{summary}-{day}-{uuid.uuid4().hex[:6]}",
                "summary": summary,
                "start": z(at(day, start)),
                "end": z(at(day, end)),
                "tzid": TZID,
            }
            answer = httpx.post(f"{api}/v1/calendars/{calendar_id}/events", json=event, headers=auth, timeout=30)
            answer.raise_for_status()


def element_options(world: World, origin: str, app_domain: str | None = None) -> dict[str, tuple[str, dict[str, Any]]]:
    """Each of the six Elements: its CronofyElements constructor and options, with a fresh token for `origin`."""
    pair = [world.sub, world.room_sub]
    common = {"api_domain": world.api, "tzid": TZID}
    return {
        "agenda": (
            "Agenda",
            {**common, "element_token": world.element_token(["agenda"], [world.sub], origin)},
        ),
        "slot-picker": (
            "SlotPicker",
            {
                **common,
                "element_token": world.element_token(["availability"], pair, origin),
                "availability_query": world.query(days=2),
                "config": {"mode": "no_confirm"},
            },
        ),
        "availability-viewer": (
            "AvailabilityViewer",
            {
                **common,
                "element_token": world.element_token(["availability"], pair, origin),
                "availability_query": {**world.query(), "start_interval": {"minutes": 60}},
                "config": {"start_time": "08:00", "end_time": "18:00", "interval": 60, "mode": "no_confirm"},
            },
        ),
        "date-time-picker": (
            "DateTimePicker",
            {
                **common,
                "element_token": world.element_token(["availability"], pair, origin),
                "availability_query": world.query(),
                "config": {"mode": "no_confirm"},
            },
        ),
        "availability-rules": (
            "AvailabilityRules",
            {
                **common,
                "element_token": world.element_token(["managed_availability"], [world.sub], origin),
                "availability_rule_id": RULE_ID,
                "config": {"start_time": "08:00", "end_time": "18:00", "duration": 60},
            },
        ),
        "calendar-sync": (
            "CalendarSync",
            {
                **common,
                "element_token": world.element_token(["account_management"], [world.sub], origin),
                "app_domain": app_domain or world.api,
                "authorization": {
                    "redirect_uri": "http://127.0.0.1/callback",
                    "client_id": world.client_id,
                    "scope": "read_write",
                },
            },
        ),
    }
