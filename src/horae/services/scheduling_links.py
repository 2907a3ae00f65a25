"""Real-Time Scheduling and Sequencing links (`POST /v1/real_time_scheduling`, `/v1/real_time_sequencing`):
making a link, its status, disabling it, the slots its page offers, and booking one safely when many
invitees confirm at once (the hosts locked, the slot checked again under the lock, then written)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from horae.domain import ids, scopes
from horae.domain.scheduling import (
    COMPLETED,
    DISABLED,
    MAX_DISPLAY_MESSAGE,
    OPEN,
    SCHEDULING,
    SchedulingLink,
    Slot,
)
from horae.domain.times import format_instant
from horae.errors import InvalidRequest, Locked, NotFound, Problems
from horae.ports import Clock, SecretBox, UnitOfWork, UnitOfWorkFactory
from horae.services.availability import AvailabilityService
from horae.services.availability_members import readable_accounts
from horae.services.availability_request import (
    AvailabilityRequest,
    Caller,
    Period,
    SequenceRequest,
    check,
    check_sequence,
)
from horae.services.callbacks import Callbacks
from horae.services.events import EventInput, EventService
from horae.services.oauth import AccessContext

CREATE_EVENT = "create_event"
# Makes the event of one step (its id as sent; None for scheduling) for a chosen start and end.
EventMaker = Callable[[object, datetime, datetime], EventInput]


class LinkUnavailable(Locked):
    """The link was completed or disabled; `message` is what its visitors are shown. (The booking page
    answers it; were it to reach the API it would be a 423 like any Locked.)"""

    def __init__(self, message: str, status: str) -> None:
        super().__init__(message)
        self.status = status


class SlotTaken(Locked):
    """The chosen slot is no longer available (someone else booked it, or it was never offered)."""


@dataclass(frozen=True)
class Target:
    sub: str
    calendar_id: str


@dataclass(frozen=True)
class LinkPlan:
    """A link's request in the service's terms (the entry points read it from the stored spec)."""

    kind: str
    targets: tuple[Target, ...]
    make_event: EventMaker
    event_tzid: str
    query: AvailabilityRequest | None = None
    sequence: SequenceRequest | None = None
    periods_field: str = "query_periods"
    minimum_notice: int = 0  # seconds
    single: bool = False  # event_creation "single": one event, in the first target calendar
    callback_urls: dict[str, str] = field(default_factory=dict)  # completed, no_times_suitable, ...
    completed_redirect: str | None = None

    def participants(self) -> list[str]:
        """Every member of the availability query (of every step, for a sequence)."""
        groups = (
            self.query.groups
            if self.query is not None
            else tuple(g for s in self.sequence.steps for g in s.groups)
            if self.sequence is not None
            else ()
        )
        return sorted({m.sub for g in groups for m in g.members})

    def hosts(self) -> list[str]:
        """Everyone whose time a booking takes: the participants and the target calendars' owners."""
        return sorted({*self.participants(), *(t.sub for t in self.targets)})


@dataclass(frozen=True)
class Booked:
    """What a confirmed booking wrote, and where the invitee's browser goes next."""

    link: SchedulingLink
    slot: Slot
    redirect: str | None


class SchedulingLinkService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        availability: AvailabilityService,
        events: EventService,
        callbacks: Callbacks,
        box: SecretBox,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._availability = availability
        self._events = events
        self._callbacks = callbacks
        self._box = box

    # --- the API ---------------------------------------------------------------------------------

    def create(self, application_id: str, plan: LinkPlan, spec: dict[str, Any]) -> tuple[SchedulingLink, str]:
        """Check the request as an availability query would be checked, and that the application may write
        each target calendar; store the link. Returns it with the token of its URL."""
        caller = Caller(application_id)
        with self._uow() as uow:
            try:
                if plan.query is not None:
                    check(plan.query, plan.periods_field)
                if plan.sequence is not None:
                    check_sequence(plan.sequence, plan.periods_field)
                # Unknown or unauthorized participants; their times are read only when the page is visited.
                readable_accounts(uow, caller, plan.participants())
            except InvalidRequest as exc:
                raise InvalidRequest({f"availability.{k}": v for k, v in exc.errors.items()}) from exc
            self._check_targets(uow, application_id, plan.targets)
            token = ids.new_token()
            link = SchedulingLink(
                id=ids.new_id("sch" if plan.kind == SCHEDULING else "seq"),
                kind=plan.kind,
                application_id=application_id,
                token_digest=ids.digest(token),
                sealed_token=self._box.seal(token),
                status=OPEN,
                spec=spec,
                created_at=self._clock.now(),
                host_ids=plan.hosts(),
            )
            uow.scheduling_links.add(link)
            uow.commit()
        return link, token

    def status(self, application_id: str, kind: str, link_id: str) -> tuple[SchedulingLink, str]:
        with self._uow() as uow:
            link = uow.scheduling_links.get(link_id)
        return self._own(link, application_id, kind)

    def status_by_token(self, application_id: str, kind: str, token: str) -> tuple[SchedulingLink, str]:
        return self._own(self._by_token(token), application_id, kind)

    def disable(self, application_id: str, kind: str, link_id: str, message: str) -> tuple[SchedulingLink, str]:
        """Close the link for good; later visitors see `message`. A completed link stays completed."""
        if len(message) > MAX_DISPLAY_MESSAGE:
            raise InvalidRequest.single(
                "display_message", "errors.too_long", f"display_message must be under {MAX_DISPLAY_MESSAGE} characters"
            )
        with self._uow() as uow:
            link = uow.scheduling_links.get(link_id)
            self._own(link, application_id, kind)
            assert link is not None
            if link.status != COMPLETED:
                link.status = DISABLED
            link.display_message = message
            uow.commit()
        return self._own(link, application_id, kind)

    def _own(self, link: SchedulingLink | None, application_id: str, kind: str) -> tuple[SchedulingLink, str]:
        if link is None or link.application_id != application_id or link.kind != kind:
            raise NotFound("no such link for this application")
        return link, self._box.open(link.sealed_token)

    def _check_targets(self, uow: UnitOfWork, application_id: str, targets: Sequence[Target]) -> None:
        problems = Problems()
        if not targets:
            problems.add("target_calendars", "errors.required", "at least one target calendar is required")
        grants = uow.grants.active_for_accounts(sorted({t.sub for t in targets}), application_id)
        writers = {g.account_id for g in grants if CREATE_EVENT in scopes.effective(g.scope.split())}
        for target in targets:
            calendar = uow.calendars.get(target.calendar_id)
            if target.sub not in writers or calendar is None or calendar.account_id != target.sub:
                problems.add(
                    "target_calendars",
                    "errors.not_found",
                    f"{target.calendar_id} is not a calendar of {target.sub} this application may write",
                )
            elif calendar.readonly or calendar.deleted:
                problems.add("target_calendars", "errors.read_only", f"{target.calendar_id} is read-only")
        problems.raise_any()

    # --- the booking page ------------------------------------------------------------------------

    def open(self, token: str) -> SchedulingLink:
        """The link behind a page's token, whatever its status; NotFound for an unknown token."""
        link = self._by_token(token)
        if link is None:
            raise NotFound("This scheduling link does not exist.")
        return link

    def _by_token(self, token: str) -> SchedulingLink | None:
        with self._uow() as uow:
            return uow.scheduling_links.by_token_digest(ids.digest(token)) if token else None

    def options(self, link: SchedulingLink, plan: LinkPlan) -> list[Slot]:
        """The slots the page offers now. When there are none, the application hears so once
        (`no_times_displayed_url`, else `no_times_suitable_url`)."""
        _require_open(link)
        with self._uow() as uow:
            slots = self._find(uow, Caller(link.application_id), plan)
        if not slots:
            url = plan.callback_urls.get("no_times_displayed") or plan.callback_urls.get("no_times_suitable")
            self._tell_once(link, plan, "no_times_displayed_at", "no_times_displayed", url)
        return slots

    def none_suitable(self, link: SchedulingLink, plan: LinkPlan) -> None:
        """The invitee said none of the times suit them: `no_times_suitable_url` hears so once."""
        _require_open(link)
        url = plan.callback_urls.get("no_times_suitable")
        self._tell_once(link, plan, "no_times_suitable_at", "no_times_suitable", url)

    def _tell_once(self, link: SchedulingLink, plan: LinkPlan, column: str, kind: str, url: str | None) -> None:
        with self._uow() as uow:
            if uow.scheduling_links.mark_once(link.id, column, self._clock.now()) and url:
                body = {"notification": {"type": kind}, **_envelope(link, "open")}
                self._callbacks.queue(uow, link.application_id, url, body, f"{_name(link)}.{kind}")
            uow.commit()

    def book(self, link: SchedulingLink, plan: LinkPlan, starts: tuple[int, ...], invitee_tzid: str) -> Booked:
        """Book the slot whose step starts are `starts`, in one transaction: the hosts locked, the link read
        again and the slot found again among the options under the lock, the events written, the link
        completed and the completed callback queued. SlotTaken when it is no longer available,
        LinkUnavailable when the link was completed or disabled meanwhile."""
        _require_open(link)
        with self._uow() as uow:
            uow.scheduling_links.lock_hosts(link.host_ids)
            current = uow.scheduling_links.by_token_digest(link.token_digest)
            assert current is not None
            _require_open(current)
            chosen = [s for s in self._find(uow, Caller(link.application_id), plan) if _starts(s) == starts]
            if not chosen:
                raise SlotTaken("That time is no longer available.")
            slot = chosen[0]
            written = self._write(uow, link, plan, slot)
            booking = {
                "slot": [[_jsonable(step_id), start, end, list(subs)] for step_id, start, end, subs in slot.steps],
                "tzid": invitee_tzid,
                "events": written,
            }
            if not uow.scheduling_links.complete(link.id, self._clock.now(), booking):
                raise LinkUnavailable("This link has been used already.", COMPLETED)
            url = plan.callback_urls.get("completed")
            if url:
                body = _completed_body(link, slot, written, invitee_tzid)
                self._callbacks.queue(uow, link.application_id, url, body, f"{_name(link)}.completed")
            uow.commit()
        done = dataclasses.replace(link, status=COMPLETED, booking=booking)
        return Booked(done, slot, plan.completed_redirect)

    def _write(self, uow: UnitOfWork, link: SchedulingLink, plan: LinkPlan, slot: Slot) -> list[dict[str, Any]]:
        grants = {
            g.account_id: g for g in uow.grants.active_for_accounts([t.sub for t in plan.targets], link.application_id)
        }
        targets = plan.targets[:1] if plan.single else plan.targets
        written: list[dict[str, Any]] = []
        for step_id, start, end, subs in slot.steps:
            data = plan.make_event(step_id, _instant(start), _instant(end))
            for target in targets:
                grant = grants.get(target.sub)
                if grant is None:
                    raise SlotTaken("The host no longer allows bookings here.")
                words = scopes.effective(grant.scope.split())
                ctx = AccessContext(target.sub, link.application_id, grant.id, words, grant.scope)
                self._events.upsert_in(uow, ctx, target.calendar_id, data)
            written.append(
                {
                    "sequence_id": _jsonable(step_id),
                    "event_id": data.event_id,
                    "summary": data.summary,
                    "start": {"time": format_instant(_instant(start)), "tzid": data.start.tzid},
                    "end": {"time": format_instant(_instant(end)), "tzid": data.end.tzid},
                    "participants": [{"sub": s} for s in subs],
                }
            )
        return written

    # --- finding the options ---------------------------------------------------------------------

    def _find(self, uow: UnitOfWork, caller: Caller, plan: LinkPlan) -> list[Slot]:
        earliest = self._clock.now() + timedelta(seconds=plan.minimum_notice)
        if plan.query is not None:
            query = _not_before(plan.query, earliest)
            if query is None:
                return []
            answer = self._availability.availability_in(uow, caller, query)
            return [Slot(((None, f.start, f.end, tuple(f.participants)),)) for f in answer.found]
        assert plan.sequence is not None
        sequence = _sequence_not_before(plan.sequence, earliest)
        if sequence is None:
            return []
        found = self._availability.sequenced_in(uow, caller, sequence)
        return [Slot(tuple((p.step_id, p.start, p.end, tuple(p.participants)) for p in option)) for option in found]


def _require_open(link: SchedulingLink) -> None:
    if link.status == DISABLED:
        raise LinkUnavailable(link.display_message or "This scheduling link is no longer available.", DISABLED)
    if link.status == COMPLETED:
        raise LinkUnavailable("This time has been booked already: the link was used.", COMPLETED)


def _starts(slot: Slot) -> tuple[int, ...]:
    return tuple(start for _, start, _, _ in slot.steps)


def _instant(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _jsonable(value: object) -> object:
    return value if value is None or isinstance(value, str | int) else str(value)


def _clip(periods: tuple[Period, ...], earliest: datetime) -> tuple[Period, ...]:
    return tuple(Period(max(p.start, earliest), p.end) for p in periods if p.end > earliest)


def _not_before(query: AvailabilityRequest, earliest: datetime) -> AvailabilityRequest | None:
    """The query as slots, none starting before `earliest` (minimum notice); None when nothing is left."""
    if query.query_slots is not None:
        kept = tuple(t for t in query.query_slots if t >= earliest)
        return dataclasses.replace(query, query_slots=kept, response_format="slots") if kept else None
    periods = _clip(query.periods, earliest)
    if not periods:
        return None
    fmt = "slots" if query.response_format == "periods" else query.response_format
    return dataclasses.replace(query, periods=periods, response_format=fmt, explain=(), include_member_statuses=False)


def _sequence_not_before(request: SequenceRequest, earliest: datetime) -> SequenceRequest | None:
    shared = None if request.periods is None else _clip(request.periods, earliest)
    steps = []
    for step in request.steps:
        own = None if step.periods is None else _clip(step.periods, earliest)
        if own == () or (own is None and not shared):
            return None
        steps.append(dataclasses.replace(step, periods=own))
    if shared == ():
        return None
    return dataclasses.replace(request, steps=tuple(steps), periods=shared)


def _name(link: SchedulingLink) -> str:
    return "real_time_scheduling" if link.kind == SCHEDULING else "real_time_sequencing"


def _envelope(link: SchedulingLink, status: str) -> dict[str, Any]:
    name = _name(link)
    return {name: {f"{name}_id": link.id, "status": status}}


def _completed_body(link: SchedulingLink, slot: Slot, written: list[dict[str, Any]], tzid: str) -> dict[str, Any]:
    """The completed callback (docs/compat.md): the event (the first step's, for a sequence), who takes
    part, the invitee's zone, the link; a sequence also lists every step."""
    first = written[0]
    body: dict[str, Any] = {
        "notification": {"type": "completed"},
        "event": {k: first[k] for k in ("event_id", "summary", "start", "end")},
        "participants": first["participants"],
        "user": {"tzid": tzid},
        **_envelope(link, COMPLETED),
    }
    if link.kind != SCHEDULING:
        body["sequence"] = [
            {
                "sequence_id": w["sequence_id"],
                "event": {k: w[k] for k in ("event_id", "summary", "start", "end")},
                "participants": w["participants"],
            }
            for w in written
        ]
    return body
