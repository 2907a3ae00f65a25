"""Read windows and paging: local-day boundaries in the reader's zone, stable sort keys, and signed
page tokens that carry a query and its cursor."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import zlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

EARLIEST = datetime.min.replace(tzinfo=UTC)
LATEST = datetime.max.replace(tzinfo=UTC)
_MAC_BYTES = 16
MAX_TOKEN = 8192


def day_start(day: date, zone: tzinfo) -> datetime:
    """The first instant (UTC) of `day` in `zone`.

    Midnight that does not exist (a DST gap at 00:00) is read with the offset before the gap, which is
    exactly the instant the day begins; an ambiguous midnight takes its first occurrence."""
    local = datetime(day.year, day.month, day.day, tzinfo=zone)
    try:
        return local.astimezone(UTC)
    except OverflowError:
        return EARLIEST if day.year < 2000 else LATEST


def local_date(instant: datetime, zone: tzinfo) -> date:
    """The calendar date in `zone` at `instant`."""
    try:
        return instant.astimezone(zone).date()
    except OverflowError:
        return instant.date()


def shift(instant: datetime, delta: timedelta) -> datetime:
    """`instant + delta`, clamped to the representable range."""
    try:
        return instant + delta
    except OverflowError:
        return EARLIEST if delta < timedelta(0) else LATEST


def shift_day(day: date, days: int) -> date:
    try:
        return day + timedelta(days=days)
    except OverflowError:
        return date.min if days < 0 else date.max


@dataclass(frozen=True)
class Window:
    """What a read covers: instants [start, end) for timed events, days [first_day, last_day) for all-day ones.

    A timed event is in the window when it starts before `end` and ends on or after `start` (Cronofy's
    rule). An all-day event is a run of floating days [start_date, end_date) and is in the window when
    one of its days is, whatever the reader's zone."""

    start: datetime
    end: datetime
    first_day: date
    last_day: date

    def has_timed(self, starts_at: datetime, ends_at: datetime) -> bool:
        return starts_at < self.end and ends_at >= self.start

    def has_days(self, start_date: date, end_date: date) -> bool:
        return start_date < self.last_day and end_date > self.first_day


def window_of_days(first: date, last: date, zone: tzinfo) -> Window:
    """The window of local days [first, last) in `zone`."""
    return Window(day_start(first, zone), day_start(last, zone), first, last)


def window_of_instants(start: datetime, end: datetime, zone: tzinfo) -> Window:
    """The window [start, end) of instants; its days are those it touches in `zone`."""
    last = local_date(shift(end, -timedelta(microseconds=1)), zone)
    return Window(start, end, local_date(start, zone), shift_day(last, 1))


@dataclass(frozen=True)
class Selection:
    """Which stored events a read shows, in terms a database can test; the reads merge what it finds
    with the instances of recurring series, which only Python expands.

    "Mine" are the events the reader's own application manages (`event_id` set, `application_id` its id)."""

    calendar_ids: tuple[str, ...]
    window: Window
    application_id: str
    mine: str  # "hide" (not asked for), "also" (include_managed) or "only" (only_managed)
    mine_anywhen: bool  # the reader's managed events whatever their times (a managed read without from/to)
    include_deleted: bool
    include_moved: bool
    changed_since: datetime | None  # last_modified: changed at or after it, and not by the reader's application
    busy_only: bool  # free/busy without include_free: events that show as free are left out


# --- sort keys and cursors ---------------------------------------------------------------------

SortKey = tuple[datetime, str]


def cursor_of(key: SortKey) -> list[str]:
    return [key[0].astimezone(UTC).isoformat(), key[1]]


def days_after(key: SortKey, zone: tzinfo) -> tuple[date, str | None] | None:
    """Where all-day events resume after `key`: all-day events sort by the instant their first day
    starts in the reader's zone, which grows with the date, so those after `key` are the ones with
    `start_date > day`, or `start_date == day` and `event_uid > uid` when that day starts exactly at
    the key's instant (uid None: the day itself is not after the key). None when every day is after it."""
    instant, uid = key
    day = local_date(instant, zone)
    later = shift_day(day, 1)
    while later != day and day_start(later, zone) <= instant:
        day, later = later, shift_day(later, 1)
    while day_start(day, zone) > instant:
        earlier = shift_day(day, -1)
        if earlier == day:
            return None
        day = earlier
    return day, (uid if day_start(day, zone) == instant else None)


def key_of(cursor: object) -> SortKey | None:
    """The sort key a cursor stands for, or None when it is not one."""
    if not isinstance(cursor, list) or len(cursor) != 2 or not all(isinstance(p, str) for p in cursor):
        return None
    try:
        when = datetime.fromisoformat(cursor[0])
    except ValueError:
        return None
    if when.tzinfo is None:
        return None
    return when, cursor[1]


# --- tokens ------------------------------------------------------------------------------------


def seal(state: dict[str, Any], key: bytes) -> str:
    """An opaque, URL-safe token (no `+ / = & #`) carrying `state`, signed with `key`."""
    body = zlib.compress(json.dumps(state, separators=(",", ":"), sort_keys=True).encode(), 9)
    mac = hmac.new(key, body, hashlib.sha256).digest()[:_MAC_BYTES]
    return base64.urlsafe_b64encode(body + mac).rstrip(b"=").decode("ascii")


def unseal(token: str, key: bytes) -> dict[str, Any] | None:
    """The state a token carries, or None when it was not made by `seal` with this key."""
    if not token or len(token) > MAX_TOKEN:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        return None
    body, mac = raw[:-_MAC_BYTES], raw[-_MAC_BYTES:]
    if len(raw) <= _MAC_BYTES or not hmac.compare_digest(mac, hmac.new(key, body, hashlib.sha256).digest()[:16]):
        return None
    try:
        state = json.loads(zlib.decompress(body))
    except (zlib.error, ValueError):
        return None
    return state if isinstance(state, dict) else None
