"""Google's JSON and Horae: event resources to RemoteEvents and back, derived ids and etags, token answers."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from horae.domain import recurrence
from horae.domain.events import Event
from horae.domain.recurrence_rules import BadRecurrence, SeriesStart, basic_date, check, rule_texts
from horae.domain.remote import RemoteEvent, RemoteOverride
from horae.domain.times import BadTime, EventTime, zone
from horae.errors import ProviderError
from horae.providers.calendars import google_meet as meet

# Horae chooses the ids of the events it creates (events.insert accepts base32hex ids, 5-1024 characters), so a
# retried insert names the same object. `horae0` + the event_uid in base32hex reads back as the event_uid;
# uids too long for that get `horae1` + a hash, which cannot be read back (the iCalUID stands in then).
READABLE_ID = "horae0"
HASHED_ID = "horae1"
MAX_ID = 1024
UTC_TZIDS = frozenset({"UTC", "Etc/UTC", "GMT", "Etc/GMT"})
_BASIC_TIME = re.compile(r"^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(Z?)$")
_BASIC_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")


def event_id_for(event_uid: str) -> str:
    """The Google event id Horae gives the event with this event_uid (the same every time)."""
    readable = READABLE_ID + base64.b32hexencode(event_uid.encode()).decode().rstrip("=").lower()
    if len(readable) <= MAX_ID:
        return readable
    digest = hashlib.sha256(event_uid.encode()).digest()
    return HASHED_ID + base64.b32hexencode(digest).decode().rstrip("=").lower()


def uid_from_id(event_id: str) -> str | None:
    """The event_uid an id made by event_id_for stands for (None for other ids)."""
    if not event_id.startswith(READABLE_ID):
        return None
    text = event_id[len(READABLE_ID) :].upper()
    try:
        return base64.b32hexdecode(text + "=" * (-len(text) % 8)).decode()
    except (binascii.Error, ValueError):
        return None


def instance_id(master_id: str, key: str) -> str:
    """The id Google gives one instance of a series: the master's id and the original start in UTC (or date)."""
    return f"{master_id}_{key}"


def master_etag(etag: str | None) -> str | None:
    """The master's own etag inside a series etag (see series_etag)."""
    return etag.split("+", 1)[0] if etag else None


def series_etag(master: Mapping[str, Any], exceptions: Sequence[Mapping[str, Any]]) -> str | None:
    """A version tag for a series: changing one instance leaves the master's etag as it was, so the tag
    also covers the exceptions' etags (`<master etag>+<digest>`)."""
    etag = master.get("etag")
    if not exceptions or etag is None:
        return str(etag) if etag is not None else None
    parts = sorted(f"{e.get('id')}={e.get('etag')}" for e in exceptions)
    return f"{etag}+{hashlib.sha256(chr(10).join(parts).encode()).hexdigest()[:16]}"


# --- reading ---------------------------------------------------------------------------------------


def read_event(
    master: Mapping[str, Any], exceptions: Sequence[Mapping[str, Any]], default_tzid: str, as_series: bool = True
) -> RemoteEvent:
    """One Google event (a series master with its exception resources) as a RemoteEvent. Times without a
    zone of their own are in `default_tzid` (the calendar's)."""
    notes: list[str] = []
    start, end = _span(master, default_tzid)
    fields = _fields(master)
    rules: dict[str, Any] | None = None
    cancelled: list[str] = []
    lines = [str(line) for line in master.get("recurrence") or []] if as_series else []
    if lines:
        rules, cancelled = _recurrence(lines, start, notes)
    changes: list[RemoteOverride] = []
    if rules is not None:
        for exception in exceptions:
            change = _override(exception, start, fields, notes)
            if change is not None:
                changes.append(change)
    uid = uid_from_id(str(master.get("id", ""))) or str(master.get("iCalUID") or master.get("id", ""))
    return RemoteEvent(
        uid=uid,
        start=start,
        end=end,
        recurrence=rules,
        cancelled=tuple(dict.fromkeys(cancelled)),
        overrides=tuple(changes),
        problems=tuple(notes),
        conference=meet.read_conference(master) if as_series else None,
        **fields,
    )


def _fields(resource: Mapping[str, Any]) -> dict[str, Any]:
    source = resource.get("source")
    url = source.get("url") if isinstance(source, Mapping) else None
    status = resource.get("status")
    return {
        "summary": _clean(resource.get("summary")),
        "description": _clean(resource.get("description")),
        "location": _clean(resource.get("location")) or None,
        "url": _clean(url) or None,
        "transparency": "transparent" if resource.get("transparency") == "transparent" else "opaque",
        "status": status if status in ("tentative", "cancelled") else "confirmed",
    }


def _clean(value: object) -> str:
    # PostgreSQL cannot store NUL, so it never reaches the store.
    return str(value).replace("\x00", "") if value is not None else ""


def _span(resource: Mapping[str, Any], default_tzid: str) -> tuple[EventTime, EventTime]:
    start = _time(resource.get("start"), default_tzid)
    end = _time(resource.get("end"), start.tzid) if resource.get("end") else start
    if start.all_day != end.all_day:
        end = start
    if start.day is not None and end.day is not None and end.day <= start.day:
        end = EventTime(None, start.day + timedelta(days=1), end.tzid)  # Horae's all-day ends are exclusive
    if start.instant is not None and end.instant is not None and end.instant < start.instant:
        end = EventTime(start.instant, None, end.tzid)
    return start, end


def _tzid(name: object, fallback: str) -> str:
    """The first known IANA zone of the two; Google's "UTC" is Horae's usual "Etc/UTC"."""
    for candidate in (name, fallback):
        if isinstance(candidate, str) and candidate:
            try:
                zone(candidate)
            except BadTime:
                continue
            return "Etc/UTC" if candidate == "UTC" else candidate
    return "Etc/UTC"


def _time(value: object, default_tzid: str) -> EventTime:
    """`{"dateTime": ..., "timeZone": ...}` or `{"date": ...}`; an unreadable value becomes the epoch, so
    one odd event cannot stop a calendar's sync."""
    if not isinstance(value, Mapping):
        return EventTime(datetime(1970, 1, 1, tzinfo=UTC), None, "Etc/UTC")
    tzid = _tzid(value.get("timeZone"), default_tzid)
    try:
        if value.get("date"):
            return EventTime(None, date.fromisoformat(str(value["date"])), tzid)
        moment = datetime.fromisoformat(str(value.get("dateTime")).replace("Z", "+00:00"))
    except ValueError:
        return EventTime(datetime(1970, 1, 1, tzinfo=UTC), None, "Etc/UTC")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone(tzid))
    return EventTime(moment.astimezone(UTC).replace(microsecond=0), None, tzid)


def _recurrence(lines: list[str], start: EventTime, notes: list[str]) -> tuple[dict[str, Any] | None, list[str]]:
    """The RRULEs and EXDATE keys of a master's `recurrence` lines (RDATE and EXRULE are noted, not kept)."""
    texts: list[str] = []
    cancelled: list[str] = []
    for line in lines:
        head, _, value = line.partition(":")
        name, *params = head.split(";")
        name = name.strip().upper()
        if name == "RRULE":
            texts.append(value.strip())
        elif name == "EXDATE":
            options = dict(p.split("=", 1) for p in params if "=" in p)
            for item in value.split(","):
                key = _exdate_key(item.strip(), options.get("TZID"), start)
                if key is None:
                    notes.append(f"EXDATE {item.strip()!r} not understood: left out")
                else:
                    cancelled.append(key)
        else:
            notes.append(f"{name} is not supported: left out")
    if not texts:
        return None, []
    rules = {"rrule": texts[0] if len(texts) == 1 else texts}
    try:
        check(rules, start)
    except BadRecurrence as exc:
        notes.append(f"RRULE not supported ({exc.message}): only the first instance is kept")
        return None, []
    return rules, cancelled


def _exdate_key(text: str, tzid: str | None, series: EventTime) -> str | None:
    if found := _BASIC_DATE.match(text):
        try:
            return _key_of(date(*(int(p) for p in found.groups())), series)
        except ValueError:
            return None
    if found := _BASIC_TIME.match(text):
        try:
            year, month, day, hour, minute, second = (int(p) for p in found.groups()[:6])
            naive = datetime(year, month, day, hour, minute, second)
            tz = UTC if found.group(7) else zone(_tzid(tzid, series.tzid))
        except ValueError:
            return None
        return _key_of(naive.replace(tzinfo=tz), series)
    return None


def _key_of(original: datetime | date, series: EventTime) -> str:
    """The Horae key of the instance an original start names, in the series' own terms."""
    local = SeriesStart.of_time(series)
    if isinstance(original, datetime):
        if series.day is not None:  # a time naming a date-only instance: its day in the series' zone
            return recurrence.key_of(original.astimezone(local.zone).date())
        return recurrence.key_of(original.astimezone(UTC))
    if series.day is not None:
        return recurrence.key_of(original)
    # A date naming a timed instance: that day at the series' wall-clock time.
    wall = datetime.combine(original, local.dtstart.time()).replace(tzinfo=local.zone)
    return recurrence.key_of(wall.astimezone(UTC))


def original_key(exception: Mapping[str, Any], series: EventTime) -> str | None:
    """The key of the instance an exception resource changes (from its `originalStartTime`)."""
    original = exception.get("originalStartTime")
    if not isinstance(original, Mapping) or not (original.get("date") or original.get("dateTime")):
        return None
    when = _time(original, series.tzid)
    moment = when.day if when.day is not None else when.instant
    assert moment is not None
    return _key_of(moment, series)


def _override(
    exception: Mapping[str, Any], series: EventTime, master: Mapping[str, Any], notes: list[str]
) -> RemoteOverride | None:
    key = original_key(exception, series)
    if key is None:
        notes.append(f"instance {exception.get('id')} has no originalStartTime: left out")
        return None
    if exception.get("status") == "cancelled":
        return RemoteOverride(key, True)
    start, end = _span(exception, series.tzid)
    if start.all_day != series.all_day:
        notes.append(f"instance {key} changes between dates and times: left out")
        return None
    fields = _fields(exception)
    differ = {name: value for name, value in fields.items() if value != master[name]}
    return RemoteOverride(key, False, start, end, differ)


# --- writing ---------------------------------------------------------------------------------------


def event_body(event: Event) -> dict[str, Any]:
    """The Google resource for a Horae event (or series master): its rules as RRULE lines and its cancelled
    instances as EXDATE lines. Moved instances are written apart, onto the instances (instance_body)."""
    location = event.location.get("description") if isinstance(event.location, Mapping) else None
    body = _body(event.summary, event.description, location, event.url, event.transparency, event.status)
    body["start"] = _when(EventTime(event.starts_at, event.start_date, event.start_tzid))
    body["end"] = _when(EventTime(event.ends_at, event.end_date, event.end_tzid))
    if recurrence.is_series(event):
        series = SeriesStart.of_event(event)
        lines = [f"RRULE:{text}" for text in rule_texts(event.recurrence, series)]
        for key, change in sorted(recurrence.exceptions(event).items()):
            if change.get("deleted") and recurrence.occurs(event, key):
                lines.append(_exdate_line(event, key))
        body["recurrence"] = lines
    return body


def instance_body(event: Event, key: str, change: Mapping[str, Any]) -> dict[str, Any] | None:
    """The Google resource for one moved instance of a Horae series (None when the change does not fit it)."""
    fields = change.get("fields")
    fields = fields if isinstance(fields, Mapping) else {}
    location = fields.get("location", event.location)
    location = location.get("description") if isinstance(location, Mapping) else None
    body = _body(
        str(fields.get("summary", event.summary) or ""),
        str(fields.get("description", event.description) or ""),
        location,
        fields.get("url", event.url),
        str(fields.get("transparency", event.transparency)),
        str(fields.get("status", event.status)),
    )
    original = recurrence.original_of(key)
    moved = _moved_times(event, change)
    if moved is None:
        return None
    start, end = moved
    body["start"], body["end"] = _when(start), _when(end)
    if isinstance(original, datetime):
        body["originalStartTime"] = _when(EventTime(original, None, event.start_tzid))
    else:
        body["originalStartTime"] = _when(EventTime(None, original, event.start_tzid))
    return body


def _moved_times(event: Event, change: Mapping[str, Any]) -> tuple[EventTime, EventTime] | None:
    start_tzid = str(change.get("start_tzid") or event.start_tzid)
    end_tzid = str(change.get("end_tzid") or event.end_tzid)
    try:
        if event.all_day:
            first, last = date.fromisoformat(str(change["start"])), date.fromisoformat(str(change["end"]))
            return EventTime(None, first, start_tzid), EventTime(None, last, end_tzid)
        begins = datetime.fromisoformat(str(change["start"]).replace("Z", "+00:00"))
        ends = datetime.fromisoformat(str(change["end"]).replace("Z", "+00:00"))
    except (KeyError, ValueError):
        return None
    if begins.tzinfo is None or ends.tzinfo is None:
        return None
    return EventTime(begins.astimezone(UTC), None, start_tzid), EventTime(ends.astimezone(UTC), None, end_tzid)


def _body(
    summary: str,
    description: str,
    location: object,
    url: object,
    transparency: str,
    status: str,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "summary": summary,
        "description": description,
        "location": str(location) if location else "",
        "transparency": "transparent" if transparency == "transparent" else "opaque",
        # A cancelled status would delete the object on Google; Horae deletes through delete_event instead.
        "status": "tentative" if status == "tentative" else "confirmed",
    }
    if isinstance(url, str) and url.startswith(("http://", "https://")):
        body["source"] = {"title": summary or url, "url": url}  # Google keeps a link only as the event's source
    return body


def _when(value: EventTime) -> dict[str, str]:
    if value.day is not None:
        return {"date": value.day.isoformat()}
    assert value.instant is not None
    tzid = _tzid(value.tzid, "Etc/UTC")
    return {"dateTime": value.instant.astimezone(zone(tzid)).isoformat(), "timeZone": tzid}


def _exdate_line(event: Event, key: str) -> str:
    original = recurrence.original_of(key)
    if not isinstance(original, datetime):
        return f"EXDATE;VALUE=DATE:{basic_date(original)}"
    tzid = _tzid(event.start_tzid, "Etc/UTC")
    if tzid in UTC_TZIDS:
        return f"EXDATE:{recurrence.key_of(original)}"
    local = original.astimezone(zone(tzid))
    if local.replace(fold=0).astimezone(UTC) != original:  # the repeated hour of a fall-back: UTC says which
        return f"EXDATE:{recurrence.key_of(original)}"
    return f"EXDATE;TZID={tzid}:{basic_date(local)}T{local:%H%M%S}"


# --- the token endpoint's answers ------------------------------------------------------------------


def token_secrets(body: Mapping[str, Any], refresh: str) -> dict[str, str]:
    access = body.get("access_token")
    if not isinstance(access, str) or not access:
        raise ProviderError("Google's token endpoint answered without an access token")
    try:
        lifetime = int(body.get("expires_in") or 3600)
    except (TypeError, ValueError):
        lifetime = 3600
    refreshed = body.get("refresh_token")
    return {
        "access_token": access,
        "refresh_token": refreshed if isinstance(refreshed, str) and refreshed else refresh,
        "expires_at": str(int(time.time()) + lifetime),
    }


def id_token_email(token: object) -> str | None:
    """The `email` claim of an OpenID id_token. Its signature is not checked: it came straight from Google's
    token endpoint over TLS, which OpenID Connect Core §3.1.3.7 accepts in place of one."""
    if not isinstance(token, str) or token.count(".") != 2:
        return None
    payload = token.split(".")[1]
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (ValueError, binascii.Error):
        return None
    email = claims.get("email") if isinstance(claims, dict) else None
    return email if isinstance(email, str) and "@" in email else None
