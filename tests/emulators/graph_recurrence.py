"""Microsoft Graph events for the emulator: a `patternedRecurrence` expanded into occurrence start times, the
calendarView (single instances, occurrences, exceptions) of a window, and Graph's request bodies and errors."""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from dateutil import rrule
from starlette.responses import JSONResponse

from tests.emulators.common import parse_instant, zone

FREQ = {"daily": rrule.DAILY, "weekly": rrule.WEEKLY, "absoluteMonthly": rrule.MONTHLY}
FREQ |= {"relativeMonthly": rrule.MONTHLY, "absoluteYearly": rrule.YEARLY, "relativeYearly": rrule.YEARLY}
DAYS = {"monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5, "sunday": 6}
INDEX = {"first": 1, "second": 2, "third": 3, "fourth": 4, "last": -1}
Item = dict[str, Any]


def graph_time(moment: datetime) -> dict[str, str]:
    return {"dateTime": moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.0000000"), "timeZone": "UTC"}


def instant(value: dict[str, str]) -> datetime:
    return parse_instant(value["dateTime"], value.get("timeZone"))


def offset_text(moment: datetime) -> str:
    """An Edm.DateTimeOffset as Graph writes `originalStart`: UTC, e.g. `2030-01-11T10:00:00Z`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def original_instant(item: Item) -> datetime:
    value = item["originalStart"]
    return instant(value) if isinstance(value, dict) else parse_instant(value)


def public(stored: Item) -> Item:
    return copy.deepcopy({k: v for k, v in stored.items() if not k.startswith("_")})


def series_zone(master: Item) -> str:
    """The zone a series repeats in: its range's recurrenceTimeZone, else the zone its start was given in."""
    rng = (master.get("recurrence") or {}).get("range") or {}
    return str(rng.get("recurrenceTimeZone") or master.get("originalStartTimeZone") or "UTC")


def occurrence_starts(
    recurrence: dict[str, Any], first: datetime, window: tuple[datetime, datetime], tz_name: str = "UTC"
) -> list[datetime]:
    """Starts of the series beginning at `first` (aware) that fall in [window start - slack, window end); the
    pattern repeats in the wall-clock time of `tz_name` (a weekly 09:00 stays 09:00 across DST)."""
    pattern, rng = recurrence["pattern"], recurrence.get("range", {"type": "noEnd"})
    first = first.astimezone(zone(tz_name))
    kwargs: dict[str, Any] = {"dtstart": first, "interval": int(pattern.get("interval", 1))}
    days = [rrule.weekday(DAYS[d]) for d in pattern.get("daysOfWeek", [])]
    kind = pattern["type"]
    if kind == "weekly" and days:
        kwargs["byweekday"] = days
        kwargs["wkst"] = DAYS[pattern.get("firstDayOfWeek", "sunday")]
    elif kind in ("absoluteMonthly", "absoluteYearly"):
        kwargs["bymonthday"] = int(pattern.get("dayOfMonth") or first.day)
    elif kind in ("relativeMonthly", "relativeYearly"):
        index = INDEX[pattern.get("index", "first")]
        kwargs["byweekday"] = [d(index) for d in days]
    if kind in ("absoluteYearly", "relativeYearly"):
        kwargs["bymonth"] = int(pattern.get("month") or first.month)
    if rng.get("type") == "numbered":
        kwargs["count"] = int(rng["numberOfOccurrences"])
    elif rng.get("type") == "endDate":
        end_day = date.fromisoformat(rng["endDate"])
        kwargs["until"] = datetime.combine(end_day, time.max, tzinfo=zone(rng.get("recurrenceTimeZone") or tz_name))
    rule = rrule.rrule(FREQ[kind], **kwargs)
    start, end = window
    return [s for s in rule.between(start - timedelta(days=366), end, inc=False) if s < end]


def _edge(moment: datetime, all_day: bool, tz_name: str) -> dict[str, str]:
    if all_day:  # all-day events stay at midnight in their own zone
        return {"dateTime": moment.strftime("%Y-%m-%dT00:00:00.0000000"), "timeZone": tz_name}
    return graph_time(moment)


def occurrence_id(master_id: str, begin: datetime) -> str:
    """Occurrence ids name the master and the original start, so a DELETE or PATCH of one can be resolved."""
    return f"{master_id}_{begin.astimezone(UTC).strftime('%Y%m%dT%H%M%S')}"


def occurrences(master: Item, exceptions: list[Item], start: datetime, end: datetime) -> list[Item]:
    """The plain (unmodified, uncancelled) occurrences of a series master meeting [start, end)."""
    tz_name = series_zone(master)
    first = instant(master["start"])
    duration = instant(master["end"]) - first
    moved = {original_instant(e) for e in exceptions}
    found = []
    for begin in occurrence_starts(master["recurrence"], first, (start, end), tz_name):
        if begin in master["_exdates"] or begin in moved or begin + duration <= start:
            continue
        occurrence = {k: v for k, v in public(master).items() if k != "recurrence"}
        occurrence |= {"id": occurrence_id(master["id"], begin), "type": "occurrence", "seriesMasterId": master["id"]}
        start_edge = _edge(begin, master["isAllDay"], master["start"].get("timeZone", "UTC"))
        end_edge = _edge(begin + duration, master["isAllDay"], master["end"].get("timeZone", "UTC"))
        occurrence |= {"start": start_edge, "end": end_edge, "recurrence": None, "originalStart": offset_text(begin)}
        occurrence["iCalUId"] = master["iCalUId"] + begin.astimezone(UTC).strftime("%Y%m%dT%H%M%S")
        found.append(occurrence)
    return found


def calendar_view(
    events: Iterable[Item], start: datetime, end: datetime, master_id: str | None = None
) -> dict[str, Item]:
    """The calendarView of [start, end) by id: single instances, occurrences and exceptions (only those of one
    series with `master_id`, as `/events/{id}/instances` lists them)."""
    mine = list(events)
    view: dict[str, Item] = {}
    for stored in mine:
        if master_id is not None and master_id not in (stored["id"], stored["seriesMasterId"]):
            continue
        if stored["type"] == "seriesMaster":
            exceptions = [e for e in mine if e["seriesMasterId"] == stored["id"]]
            view |= {o["id"]: o for o in occurrences(stored, exceptions, start, end)}
        elif instant(stored["start"]) < end and instant(stored["end"]) > start:
            view[stored["id"]] = public(stored)
    return view


# -- requests and answers ------------------------------------------------------------------------------
def graph_error(status: int, code: str, message: str) -> JSONResponse:
    """Graph's error body: `{"error": {"code", "message", "innerError": {date, request-id, client-request-id}}}`."""
    rid = str(uuid.uuid4())
    inner = {"date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S"), "request-id": rid, "client-request-id": rid}
    return JSONResponse({"error": {"code": code, "message": message, "innerError": inner}}, status_code=status)


def etag_matches(if_match: str | None, etag: str) -> bool:
    """Whether an If-Match header (absent, `*`, or an etag, weak or not) allows a write to this version."""
    if not if_match or if_match.strip() == "*":
        return True
    return if_match.strip().removeprefix("W/").strip('"') == etag.removeprefix("W/").strip('"')


def parse_body(body: bytes, *, require_times: bool) -> tuple[Item, JSONResponse | None]:
    try:
        event = json.loads(body or b"{}")
    except ValueError:
        event = None
    if not isinstance(event, dict):
        return {}, graph_error(400, "BadRequest", "Unable to read JSON request payload.")
    for edge in ("start", "end"):
        value = event.get(edge)
        if (require_times or edge in event) and not (isinstance(value, dict) and value.get("dateTime")):
            return {}, graph_error(400, "ErrorInvalidRequest", f"The {edge} time of the event is missing or invalid.")
    return event, None
