"""What event reads carry: the query as given, the checked query that travels in page tokens, an
event (or series instance) as a read lists it, and one page of results."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from typing import Any

from horae.domain.events import Event
from horae.domain.model import Calendar
from horae.domain.paging import SortKey, Window
from horae.domain.times import BadTime, zone


@dataclass(frozen=True)
class ReadQuery:
    """The parameters of `GET /v1/events` and `GET /v1/free_busy`, as given (times still text)."""

    tzid: str | None = None
    start: str | None = None  # `from`: a date (local midnight in tzid) or a time
    end: str | None = None  # `to`: exclusive
    last_modified: str | None = None
    calendar_ids: tuple[str, ...] | None = None
    include_deleted: bool = False
    include_moved: bool = False
    include_managed: bool = False
    only_managed: bool = False
    localized_times: bool = False
    include_geo: bool = False
    include_userinfo: bool = False
    include_ids: bool = False  # free/busy: add event_uid (and event_id) to each block
    include_free: bool = False  # free/busy: also list transparent events, as `free`


@dataclass(frozen=True)
class Resolved:
    """A checked query with its window fixed; it travels inside page tokens so every page reads alike."""

    kind: str
    tzid: str
    window: Window
    managed_unbounded: bool  # neither from nor to given: the caller's managed events ignore the window
    last_modified: datetime | None
    calendar_ids: tuple[str, ...] | None
    include_deleted: bool = False
    include_moved: bool = False
    include_managed: bool = False
    only_managed: bool = False
    localized_times: bool = False
    include_geo: bool = False
    include_userinfo: bool = False
    include_ids: bool = False
    include_free: bool = False

    @property
    def zone(self) -> tzinfo:
        return zone(self.tzid)

    def to_state(self) -> dict[str, Any]:
        w = self.window
        return {
            "kind": self.kind,
            "tz": self.tzid,
            "w": [w.start.isoformat(), w.end.isoformat(), w.first_day.isoformat(), w.last_day.isoformat()],
            "mu": self.managed_unbounded,
            "lm": self.last_modified.isoformat() if self.last_modified else None,
            "cal": list(self.calendar_ids) if self.calendar_ids is not None else None,
            "f": [name for name in FLAGS if getattr(self, name)],
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> Resolved | None:
        try:
            start, end, first, last = state["w"]
            calendar_ids = state["cal"]
            flags = set(state["f"])
            resolved = cls(
                kind=str(state["kind"]),
                tzid=str(state["tz"]),
                window=Window(
                    datetime.fromisoformat(start),
                    datetime.fromisoformat(end),
                    date.fromisoformat(first),
                    date.fromisoformat(last),
                ),
                managed_unbounded=bool(state["mu"]),
                last_modified=datetime.fromisoformat(state["lm"]) if state["lm"] else None,
                calendar_ids=tuple(str(c) for c in calendar_ids) if calendar_ids is not None else None,
                **{name: name in flags for name in FLAGS},
            )
            resolved.zone  # noqa: B018 - the zone must still exist
        except (KeyError, TypeError, ValueError, BadTime):
            return None
        if resolved.window.start.tzinfo is None or resolved.window.end.tzinfo is None:
            return None
        return resolved


FLAGS = (
    "include_deleted",
    "include_moved",
    "include_managed",
    "only_managed",
    "localized_times",
    "include_geo",
    "include_userinfo",
    "include_ids",
    "include_free",
)


@dataclass(frozen=True)
class Listed:
    """One event (or one instance of a series) as a read shows it."""

    event: Event  # the stored event; for an instance, its series master
    calendar: Calendar
    event_uid: str
    starts_at: datetime | None
    ends_at: datetime | None
    start_date: date | None
    end_date: date | None
    start_tzid: str
    end_tzid: str
    deleted: bool
    updated_at: datetime
    changed_by: str | None
    managed_by_caller: bool
    sort_key: SortKey
    series_uid: str | None = None  # set on instances of a recurring series
    fields: Mapping[str, Any] = field(default_factory=dict)  # an instance's own values over its master's

    @property
    def all_day(self) -> bool:
        return self.start_date is not None

    def value(self, name: str) -> Any:
        """A field of the event: the instance's own value if it has one, else the stored event's."""
        return self.fields[name] if name in self.fields else getattr(self.event, name)

    @property
    def writable(self) -> bool:
        return not (self.calendar.readonly or self.calendar.deleted)

    @property
    def can_edit(self) -> bool:
        """Update and delete: the calling application's own events in a writable calendar."""
        return self.managed_by_caller and self.writable

    @property
    def free_busy_status(self) -> str:
        if self.value("transparency") == "transparent" or self.value("participation_status") == "declined":
            return "free"
        if self.value("status") == "cancelled":
            return "free"
        if self.value("participation_status") == "tentative" or self.value("status") == "tentative":
            return "tentative"
        return "busy"


@dataclass(frozen=True)
class Page:
    """One page of a read, and the token of the next (None on the last page)."""

    query: Resolved
    items: list[Listed]
    current: int
    total: int
    next_token: str | None
