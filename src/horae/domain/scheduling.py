"""Real-Time Scheduling and Sequencing links: what a link holds, its states, and how its slots are shown
to an invitee (grouped by day in their own zone)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

SCHEDULING = "scheduling"
SEQUENCING = "sequencing"
OPEN = "open"
COMPLETED = "completed"
DISABLED = "disabled"
MAX_DISPLAY_MESSAGE = 500


@dataclass
class SchedulingLink:
    """A link an application made for one invitee: the query, the event template and where to write and
    call back. `spec` keeps the request as sent (validated), read again whenever the page is shown.
    The token in the URL is stored only as its digest (lookup) and sealed (to show the URL again)."""

    id: str  # sch_... or seq_...
    kind: str  # scheduling | sequencing
    application_id: str
    token_digest: str
    sealed_token: str
    status: str
    spec: dict[str, Any]
    created_at: datetime
    display_message: str | None = None
    completed_at: datetime | None = None
    booking: dict[str, Any] | None = None  # what was chosen and written
    no_times_suitable_at: datetime | None = None
    no_times_displayed_at: datetime | None = None
    host_ids: list[str] = field(default_factory=list)  # accounts locked while booking (sorted)


@dataclass(frozen=True)
class Slot:
    """One option: its steps (one for scheduling), each `(step_id, start, end, subs)` in epoch seconds."""

    steps: tuple[tuple[object, int, int, tuple[str, ...]], ...]

    @property
    def start(self) -> int:
        return self.steps[0][1]

    @property
    def end(self) -> int:
        return self.steps[-1][2]

    @property
    def key(self) -> str:
        """What the form posts back: the start of every step, so a sequence is named exactly."""
        return "~".join(str(start) for _, start, _, _ in self.steps)


@dataclass(frozen=True)
class Day:
    day: date
    slots: tuple[tuple[Slot, str], ...]  # each with its local "09:30 – 10:00" label


def local(seconds: int, zone: ZoneInfo) -> datetime:
    return datetime.fromtimestamp(seconds, UTC).astimezone(zone)


def by_day(slots: list[Slot], zone: ZoneInfo) -> list[Day]:
    """The slots in order, grouped by the local day each starts on, labelled with local times."""
    days: dict[date, list[tuple[Slot, str]]] = {}
    for slot in sorted(slots, key=lambda s: (s.start, s.key)):
        start, end = local(slot.start, zone), local(slot.end, zone)
        label = f"{start:%H:%M} – {end:%H:%M}"
        if end.date() != start.date():
            label += f" ({end:%a %d %b})"
        days.setdefault(start.date(), []).append((slot, label))
    return [Day(day, tuple(items)) for day, items in days.items()]


def parse_key(text: str) -> tuple[int, ...] | None:
    """The step starts a posted slot key names, or None when it is not one."""
    parts = text.split("~")
    if not 1 <= len(parts) <= 20 or not all(p.isdigit() and len(p) <= 12 for p in parts):
        return None
    return tuple(int(p) for p in parts)
