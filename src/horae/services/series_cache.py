"""Busy instances of recurring series, expanded once and kept across availability queries until the series
changes: expanding rules is the dearest part of reading members, and the same series are asked about again
and again (a booking page asks for the same people every few seconds)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from horae.domain import recurrence
from horae.domain.events import Event, SeriesRow
from horae.domain.paging import Window, day_start

PAD = timedelta(days=31)  # expanded beyond the window asked for, so that nearby windows hit too
MAX_SERIES = 50_000


@dataclass(frozen=True)
class Occurrence:
    """One busy instance of a series, before a member's own filters."""

    start: int
    end: int
    uid: str
    tentative: bool


@dataclass(frozen=True)
class _Entry:
    window: Window
    items: tuple[Occurrence, ...]


Key = tuple[str, tuple[object, ...], str]


class SeriesCache:
    """An LRU of expanded series keyed by (event id, version, zone): any change to a series (its rule,
    times, an instance moved or cancelled) changes its version, so a stale entry is never read again."""

    def __init__(self, max_series: int = MAX_SERIES) -> None:
        self._entries: OrderedDict[Key, _Entry] = OrderedDict()
        self._lock = threading.Lock()
        self._max = max_series

    def instances(
        self,
        series: Sequence[tuple[SeriesRow, tzinfo]],
        window: Window,
        load: Callable[[list[str]], list[Event]],
    ) -> dict[tuple[str, str], tuple[Occurrence, ...]]:
        """The busy instances in `window` of each series (in its owner's zone, which matters to all-day
        series), keyed by (event id, zone); the series not cached are loaded in one call and expanded."""
        found: dict[tuple[str, str], tuple[Occurrence, ...]] = {}
        missing: dict[str, list[tuple[SeriesRow, tzinfo]]] = {}
        with self._lock:
            for row, zone in series:
                entry = self._entries.get(_key(row, zone))
                if entry is not None and _covers(entry.window, window):
                    self._entries.move_to_end(_key(row, zone))
                    found[(row.id, str(zone))] = _within(entry.items, window)
                else:
                    missing.setdefault(row.id, []).append((row, zone))
        if not missing:
            return found
        wide = Window(window.start - PAD, window.end + PAD, window.first_day - PAD, window.last_day + PAD)
        fresh: dict[Key, _Entry] = {}
        for master in load(list(missing)):
            # Keyed by the version read with the busy rows: if the series changed in between, the next
            # query sees a new version and expands it again.
            for row, zone in missing[master.id]:
                entry = _Entry(wide, tuple(_expand(master, wide, zone)))
                fresh[_key(row, zone)] = entry
                found[(master.id, str(zone))] = _within(entry.items, window)
        with self._lock:
            self._entries.update(fresh)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)
        return found


def _key(row: SeriesRow, zone: tzinfo) -> Key:
    return row.id, row.version, str(zone)


def _covers(have: Window, want: Window) -> bool:
    return (
        have.start <= want.start
        and want.end <= have.end
        and have.first_day <= want.first_day
        and want.last_day <= have.last_day
    )


def _within(items: tuple[Occurrence, ...], window: Window) -> tuple[Occurrence, ...]:
    start, end = _seconds(window.start), _seconds(window.end)
    return tuple(item for item in items if item.start < end and item.end > start)


def _seconds(instant: datetime) -> int:
    return int(instant.timestamp())


def _expand(master: Event, window: Window, zone: tzinfo) -> Iterator[Occurrence]:
    """The instances that make the owner busy: not cancelled, declined or transparent (as changed)."""
    for item in recurrence.instances(master, window):
        if item.deleted:
            continue
        fields = item.fields
        if fields.get("transparency", master.transparency) == "transparent":
            continue
        status = fields.get("status", master.status)
        participation = fields.get("participation_status", master.participation_status)
        if status == "cancelled" or participation == "declined":
            continue
        if master.all_day:
            if item.start_date is None or item.end_date is None:
                continue
            start, end = day_start(item.start_date, zone), day_start(item.end_date, zone)
        elif item.starts_at is None or item.ends_at is None:
            continue
        else:
            start, end = item.starts_at, item.ends_at
        tentative = "tentative" in (status, participation)
        yield Occurrence(_seconds(start), _seconds(end), recurrence.instance_uid(master, item.key), tentative)
