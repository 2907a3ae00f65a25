"""`POST /v1/availability` as a service: read the members from the store in one transaction, then let the
pure engine find the periods or slots, with member sync statuses and explanations if asked."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from horae.domain import availability as engine
from horae.domain.intervals import intersect, normalize
from horae.domain.model import Account, Profile
from horae.domain.sequencing import Placed, Step, find_sequences
from horae.ports import Clock, UnitOfWork, UnitOfWorkFactory
from horae.services.availability_members import MemberReader, engine_buffer, seconds
from horae.services.availability_request import (
    AvailabilityRequest,
    Caller,
    Period,
    SequenceRequest,
    check,
    check_sequence,
)
from horae.services.series_cache import SeriesCache

BUILT_IN = "local"


@dataclass(frozen=True)
class MemberStatus:
    sub: str
    sync_status: str  # "active" | "pending" | "disconnected"
    last_synced_at: datetime | None


@dataclass(frozen=True)
class Answer:
    """What the engine found, under the response key the format names."""

    key: str  # "available_periods" | "available_slots"
    found: list[engine.Found]
    statuses: list[MemberStatus] | None
    explanations: list[engine.Explanation] | None


class AvailabilityService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock
        self.series_cache = SeriesCache()

    def availability(self, caller: Caller, request: AvailabilityRequest, periods_field: str) -> Answer:
        """`periods_field` names the field the periods came in (query_periods or the legacy
        available_periods), so that errors about them name it too."""
        check(request, periods_field)
        with self._uow() as uow:
            query, statuses = self._read(uow, caller, request)
        # The engine works outside the transaction: on SQLite a transaction holds the write lock.
        return _answer(request, query, statuses)

    def availability_in(self, uow: UnitOfWork, caller: Caller, request: AvailabilityRequest) -> Answer:
        """The same answer read inside the caller's transaction (a booking re-checks its slot under a lock);
        `request` was checked already."""
        return _answer(request, *self._read(uow, caller, request))

    def _read(
        self, uow: UnitOfWork, caller: Caller, request: AvailabilityRequest
    ) -> tuple[engine.Query, list[MemberStatus] | None]:
        periods = _periods(request)
        buffers = [request.buffer] + [m.buffer for g in request.groups for m in g.members if m.buffer]
        pad = max(max(b.before, b.after) for b in buffers)
        span = (min(s for s, _ in periods) - pad, max(e for _, e in periods) + pad)
        reader = MemberReader(uow, caller, span, request.excluded_events, self.series_cache)
        groups = reader.groups(request.groups)
        statuses = self._statuses(uow, reader.accounts.values()) if request.include_member_statuses else None
        query = engine.Query(
            groups,
            tuple(self._from_now(periods)),
            request.duration,
            request.interval,
            engine_buffer(request.buffer),
            request.max_results,
        )
        return query, statuses

    def sequenced(self, caller: Caller, request: SequenceRequest, periods_field: str) -> list[tuple[Placed, ...]]:
        """Complete sequences: one slot per step in ordinal order, each gap within the steps' bounds."""
        check_sequence(request, periods_field)
        with self._uow() as uow:
            steps = self._steps(uow, caller, request)
        return find_sequences(steps, request.max_results)

    def sequenced_in(self, uow: UnitOfWork, caller: Caller, request: SequenceRequest) -> list[tuple[Placed, ...]]:
        """The same sequences read inside the caller's transaction; `request` was checked already."""
        return find_sequences(self._steps(uow, caller, request), request.max_results)

    def _steps(self, uow: UnitOfWork, caller: Caller, request: SequenceRequest) -> list[Step]:
        ordered = sorted(request.steps, key=lambda step: step.ordinal)
        shared = None if request.periods is None else normalize(_spans(request.periods))
        step_periods = []
        for step in ordered:
            own = None if step.periods is None else normalize(_spans(step.periods))
            chosen = own if shared is None else shared if own is None else intersect(shared, own)
            step_periods.append(None if chosen is None else self._from_now(chosen))
        pad = max(max(s.buffer.before, s.buffer.after) for s in ordered)
        every = [span for periods in step_periods for span in periods or []] or [(0, 0)]
        span = (min(s for s, _ in every) - pad, max(e for _, e in every) + pad)
        reader = MemberReader(uow, caller, span, cache=self.series_cache)
        return [
            Step(
                step.step_id,
                engine.Query(
                    reader.groups(step.groups),
                    tuple(periods or ()),
                    step.duration,
                    step.interval,
                    engine_buffer(step.buffer),
                ),
                gap_before=(step.buffer.before, step.buffer.before_max),
                gap_after=(step.buffer.after, step.buffer.after_max),
            )
            for step, periods in zip(ordered, step_periods, strict=True)
        ]

    def _from_now(self, periods: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
        """The periods without their past: a time that has gone is never offered."""
        now = int(self._clock.now().timestamp())
        return [(max(start, now), end) for start, end in periods if end > now]

    def _statuses(self, uow: UnitOfWork, accounts: Iterable[Account]) -> list[MemberStatus]:
        """Each member's calendar connections at a glance: disconnected if any is, else pending if any is;
        `last_synced_at` is when the stalest connection last finished a sync (built-in calendars are the
        store itself, so synced as of now), None while any has never finished one."""
        now = self._clock.now()
        chosen = list(accounts)
        profiles: dict[str, list[Profile]] = {}
        for profile in uow.profiles.for_accounts([a.id for a in chosen]):
            if profile.revoked_at is None:
                profiles.setdefault(profile.account_id, []).append(profile)
        found = []
        for account in chosen:
            own = profiles.get(account.id, [])
            states = {p.status for p in own}
            status = "disconnected" if "disconnected" in states else "pending" if "pending" in states else "active"
            times = [now if p.provider_key == BUILT_IN else p.last_synced_at for p in own]
            synced = None if not times or any(t is None for t in times) else min(t for t in times if t is not None)
            found.append(MemberStatus(account.id, status, synced))
        return found


def _answer(request: AvailabilityRequest, query: engine.Query, statuses: list[MemberStatus] | None) -> Answer:
    if request.query_slots is not None:
        found = engine.check_slots(query, [seconds(t) for t in request.query_slots])
    elif request.response_format == "periods":
        found = engine.find_periods(query)
    else:
        found = engine.find_slots(query, overlapping=request.response_format == "overlapping_slots")
    key = "available_periods" if request.response_format == "periods" else "available_slots"
    explanations = [engine.explain(query, seconds(t)) for t in request.explain] if request.explain else None
    return Answer(key, found, statuses, explanations)


def _spans(periods: Iterable[Period]) -> list[tuple[int, int]]:
    return [(seconds(p.start), seconds(p.end)) for p in periods]


def _periods(request: AvailabilityRequest) -> list[tuple[int, int]]:
    if request.query_slots is not None:
        return [(seconds(t), seconds(t) + request.duration) for t in request.query_slots]
    return _spans(request.periods)
