"""Microsoft Graph event resources and Horae: JSON into RemoteEvents (a series with its exceptions) and Horae
events back into JSON (zones and recurrence patterns are translated in microsoft_recurrence)."""

from __future__ import annotations

import dataclasses
import hashlib
import html
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from horae.domain import recurrence
from horae.domain.events import Event
from horae.domain.paging import Window
from horae.domain.recurrence_rules import BadRecurrence, check
from horae.domain.remote import RemoteEvent, RemoteOverride
from horae.domain.times import BadTime, EventTime, zone
from horae.providers.calendars.microsoft_recurrence import Unsupported, graph_zone, recurrence_of, rrule_of, tzid_of

Item = Mapping[str, Any]
# Horae's writes carry the event_uid as Graph's transactionId (its idempotency key for creates), so a retried
# create names the same object and a read knows the event Horae wrote; long uids are hashed to keep it short.
TRANSACTION_PREFIX = "horae:"
HASHED_PREFIX = "horae#"
MAX_READABLE = 200
DIGEST_CHARS = 10
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # where an unreadable time goes, so one odd event cannot stop a sync
_TAG = re.compile(r"<[^>]*>")


# --- ids and versions ------------------------------------------------------------------------------


def transaction_id(event_uid: str) -> str:
    if len(event_uid) <= MAX_READABLE:
        return TRANSACTION_PREFIX + event_uid
    return HASHED_PREFIX + hashlib.sha256(event_uid.encode()).hexdigest()


def uid_of(item: Item) -> str:
    """The event_uid Horae wrote the event with, else Graph's iCalUId (or id)."""
    tid = item.get("transactionId")
    if isinstance(tid, str) and tid.startswith(TRANSACTION_PREFIX):
        return tid[len(TRANSACTION_PREFIX) :]
    return str(item.get("iCalUId") or item.get("id") or "")


def change_key(item: Item) -> str | None:
    key = item.get("changeKey") or str(item.get("@odata.etag") or "").removeprefix("W/").strip('"')
    return str(key) if key else None


def series_etag(master: Item, exceptions: Iterable[Item]) -> str | None:
    """A version tag for a series: the master's changeKey and a digest of its exceptions' (which change
    without the master's). changeKeys are base64, so `|` cannot occur in one."""
    parts = sorted(f"{e.get('id')}={change_key(e)}" for e in exceptions)
    key = change_key(master)
    if not parts or key is None:
        return key
    return f"{key}|{hashlib.sha256(chr(10).join(parts).encode()).hexdigest()[:16]}"


def if_match(etag: str | None) -> dict[str, str]:
    """The If-Match header for a version tag made by series_etag (or a plain changeKey)."""
    return {"If-Match": f'W/"{etag.split("|", 1)[0]}"'} if etag else {}


def digest(remote_id: str) -> str:
    """A short fingerprint of an occurrence id (DIGEST_CHARS long), for the sync cursor (see microsoft.py)."""
    return hashlib.sha256(remote_id.encode()).hexdigest()[:DIGEST_CHARS]


# --- reading ---------------------------------------------------------------------------------------


def parse_graph_time(value: object, tzid: str = "Etc/UTC") -> datetime | None:
    """A `dateTimeTimeZone` (`2030-01-10T10:00:00.0000000` + zone) or a DateTimeOffset text, as aware UTC."""
    zone_name = tzid
    if isinstance(value, Mapping):
        zone_name = tzid_of(value.get("timeZone"), tzid)
        value = value.get("dateTime")
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip().replace("Z", "+00:00")
    head, dot, rest = text.partition(".")
    if dot:  # Graph writes seven fractional digits; Python reads at most six, and Horae keeps whole seconds
        digits = len(rest) - len(rest.lstrip("0123456789"))
        text = head + rest[digits:]
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone(zone_name))
    return parsed.astimezone(UTC)


def _day(value: object) -> date | None:
    """The date of an all-day edge: its wall date, whatever zone it names (all-day dates float)."""
    text = value.get("dateTime") if isinstance(value, Mapping) else None
    try:
        return date.fromisoformat(str(text)[:10])
    except ValueError:
        return None


def _span(item: Item) -> tuple[EventTime, EventTime]:
    """Start and end (an unreadable time becomes the EPOCH)."""
    given = item.get("start")
    start_tzid = tzid_of(
        item.get("originalStartTimeZone"), tzid_of(given.get("timeZone") if isinstance(given, Mapping) else None)
    )
    end_tzid = tzid_of(item.get("originalEndTimeZone"), start_tzid)
    if item.get("isAllDay"):
        first = _day(item.get("start")) or date(1970, 1, 1)
        last = _day(item.get("end")) or first
        return EventTime(None, first, start_tzid), EventTime(None, max(last, first + timedelta(days=1)), end_tzid)
    begins = parse_graph_time(item.get("start")) or EPOCH
    ends = parse_graph_time(item.get("end")) or begins
    return EventTime(begins, None, start_tzid), EventTime(max(ends, begins), None, end_tzid)


def _clean(value: object) -> str:
    # PostgreSQL cannot store NUL, so it never reaches the store.
    return str(value).replace("\x00", "") if value is not None else ""


def _text_body(body: object) -> str:
    if not isinstance(body, Mapping):
        return ""
    content = _clean(body.get("content"))
    if str(body.get("contentType", "text")).lower() == "html":  # when the server ignored our Prefer
        content = html.unescape(_TAG.sub("", re.sub(r"(?i)<br\s*/?>|</p>", "\n", content)))
    return content.replace("\r\n", "\n").strip()


def _fields(item: Item) -> dict[str, Any]:
    location = item.get("location")
    show_as = item.get("showAs")
    return {
        "summary": _clean(item.get("subject")),
        "description": _text_body(item.get("body")),
        "location": _clean(location.get("displayName")) or None if isinstance(location, Mapping) else None,
        "url": None,
        "transparency": "transparent" if show_as == "free" else "opaque",
        "status": "cancelled" if item.get("isCancelled") else "tentative" if show_as == "tentative" else "confirmed",
    }


def read_single(item: Item) -> RemoteEvent:
    start, end = _span(item)
    return RemoteEvent(uid=uid_of(item), start=start, end=end, **_fields(item))


def original_key(item: Item, series: EventTime) -> str | None:
    """The recurrence.key_of form of an occurrence's or exception's original start."""
    original = parse_graph_time(item.get("originalStart")) if item.get("originalStart") else None
    if series.day is None:
        original = original or parse_graph_time(item.get("start"))
        return recurrence.key_of(original) if original else None
    if original is None:
        day = _day(item.get("start"))
        return recurrence.key_of(day) if day else None
    # An all-day original start is midnight somewhere: in UTC, or in the series' zone.
    local = original.astimezone(zone(series.tzid))
    return recurrence.key_of(local.date() if local.time() == time() else original.date())


def read_series(master: Item, instances: Sequence[Item], window: tuple[datetime, datetime]) -> RemoteEvent:
    """A series master with the occurrences and exceptions Graph lists for it in `window` (all of them: an
    instance the pattern has there, well inside the window, and Graph does not list is cancelled)."""
    single = read_single(master)
    notes: list[str] = []
    try:
        rules = {"rrule": rrule_of(master.get("recurrence") or {}, single.start)}
        check(rules, single.start)
    except (Unsupported, BadRecurrence, KeyError, ValueError, TypeError) as exc:
        notes.append(f"recurrence not supported ({exc}): only the first instance is kept")
        return dataclasses.replace(single, problems=tuple(notes))
    series = dataclasses.replace(single, recurrence=rules)
    present: set[str] = set()
    overrides: list[RemoteOverride] = []
    master_fields = _fields(master)
    for item in instances:
        key = original_key(item, single.start)
        if key is None:
            continue
        present.add(key)
        if item.get("type") == "exception":
            change = _override(item, key, single.start, master_fields, notes)
            if change is not None:
                overrides.append(change)
    cancelled = [key for key in _expected(series, window) if key not in present]
    return dataclasses.replace(series, cancelled=tuple(cancelled), overrides=tuple(overrides), problems=tuple(notes))


def _override(
    item: Item, key: str, series: EventTime, master: Mapping[str, Any], notes: list[str]
) -> RemoteOverride | None:
    if item.get("isCancelled"):
        return RemoteOverride(key, True)
    start, end = _span(item)
    if start.all_day != series.all_day:
        notes.append(f"instance {key} changes between dates and times: kept at its original time")
        return None
    differ = {name: value for name, value in _fields(item).items() if value != master[name]}
    return RemoteOverride(key, False, start, end, differ)


def _expected(series: RemoteEvent, window: tuple[datetime, datetime]) -> list[str]:
    """Keys of the pattern's instances lying wholly inside the window (Graph surely lists those), so an
    instance at the window's edge is never taken for a cancelled one."""
    start, end = window
    master = Event("", "", "", series.uid, series.summary, series.all_day, EPOCH, EPOCH, recurrence=series.recurrence)
    master.starts_at, master.ends_at, master.start_tzid = series.start.instant, series.end.instant, series.start.tzid
    master.start_date, master.end_date, master.end_tzid = series.start.day, series.end.day, series.end.tzid
    first_day, last_day = start.date() + timedelta(days=1), end.date() - timedelta(days=1)
    found = []
    for instance in recurrence.instances(master, Window(start, end, first_day, last_day)):
        timed = (instance.starts_at, instance.ends_at)
        days = (instance.start_date, instance.end_date)
        if timed[0] is not None and timed[1] is not None:
            inside = timed[0] >= start and timed[1] <= end
        else:
            inside = days[0] is not None and days[1] is not None and days[0] >= first_day and days[1] <= last_day
        if inside:
            found.append(instance.key)
    return found


# --- writing -----------------------------------------------------------------------------------------


def _edge(value: datetime | date | None, tzid: str) -> dict[str, str]:
    try:
        where = zone(tzid)
    except BadTime:
        tzid, where = "Etc/UTC", zone("Etc/UTC")
    if isinstance(value, datetime):
        return {"dateTime": value.astimezone(where).strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": graph_zone(tzid)}
    assert value is not None
    return {"dateTime": f"{value.isoformat()}T00:00:00", "timeZone": graph_zone(tzid)}


def _content(fields: Mapping[str, Any]) -> dict[str, Any]:
    location = fields.get("location")
    place = location.get("description") if isinstance(location, Mapping) else location
    show_as = "free" if fields.get("transparency") == "transparent" else "busy"
    return {
        "subject": fields.get("summary") or "",
        "body": {"contentType": "text", "content": fields.get("description") or ""},
        "location": {"displayName": str(place) if place else ""},
        "showAs": "tentative" if fields.get("status") == "tentative" and show_as == "busy" else show_as,
    }


def payload_of(event: Event) -> dict[str, Any]:
    """The Graph JSON for a Horae event or series master (its exceptions are written one by one)."""
    fields = {name: getattr(event, name) for name in ("summary", "description", "location", "transparency", "status")}
    body = _content(fields) | {"isAllDay": event.all_day}
    body["start"] = _edge(event.start_date if event.all_day else event.starts_at, event.start_tzid)
    body["end"] = _edge(event.end_date if event.all_day else event.ends_at, event.end_tzid)
    body["recurrence"] = recurrence_of(event) if recurrence.is_series(event) else None
    return body


def exception_payload(master: Event, change: Mapping[str, Any]) -> dict[str, Any] | None:
    """The PATCH for one moved instance (None when the stored exception no longer reads)."""
    fields = {name: getattr(master, name) for name in ("summary", "description", "location", "transparency", "status")}
    given = change.get("fields")
    fields |= dict(given) if isinstance(given, Mapping) else {}
    start_tzid = str(change.get("start_tzid") or master.start_tzid)
    end_tzid = str(change.get("end_tzid") or master.end_tzid)
    try:
        if master.all_day:
            begins: datetime | date = date.fromisoformat(str(change.get("start")))
            ends: datetime | date = date.fromisoformat(str(change.get("end")))
        else:
            begins = datetime.fromisoformat(str(change.get("start")).replace("Z", "+00:00"))
            ends = datetime.fromisoformat(str(change.get("end")).replace("Z", "+00:00"))
    except ValueError:
        return None
    return _content(fields) | {
        "isAllDay": master.all_day,
        "start": _edge(begins, start_tzid),
        "end": _edge(ends, end_tzid),
    }


def same_content(sent: Mapping[str, Any], found: Item) -> bool:
    """Whether the event Graph holds says what `sent` says (a retried create may answer an older version)."""
    if bool(sent.get("isAllDay")) != bool(found.get("isAllDay")):
        return False
    wanted, held = read_single(sent), read_single(found)
    if _fields(sent) != _fields(found):
        return False
    for mine, theirs in ((wanted.start, held.start), (wanted.end, held.end)):
        if (mine.instant, mine.day) != (theirs.instant, theirs.day):  # the zones may be named differently
            return False
    try:
        rules = [rrule_of(r, wanted.start) if r else None for r in (sent.get("recurrence"), found.get("recurrence"))]
    except (Unsupported, KeyError, ValueError, TypeError):
        return False
    return rules[0] == rules[1]
