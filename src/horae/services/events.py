"""Event writes: upsert by the application's event_id, deletes (single and bulk), participation status."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from horae.domain import ids, recurrence
from horae.domain.conferencing import ConferencingRequest
from horae.domain.events import Event
from horae.domain.model import Calendar, Profile
from horae.domain.times import EventTime
from horae.errors import FieldError, InvalidRequest, NotFound, PermissionDenied
from horae.ports import ChangeNotifier, Clock, UnitOfWork, UnitOfWorkFactory
from horae.services.calendars import CalendarService
from horae.services.oauth import AccessContext

MAX_SUMMARY = 1024
MAX_DESCRIPTION = 4096
PARTICIPATION = frozenset({"accepted", "tentative", "declined"})
# Queues an event's latest state for its provider, in the writing transaction (CalendarSync.queue_write).
Outbound = Callable[[UnitOfWork, Profile, Event], None]


def _nothing_outbound(uow: UnitOfWork, profile: Profile, event: Event) -> None:
    """Built-in calendars only: the store is the calendar."""


class EventHooks(Protocol):
    """Told inside the writing transaction about an upsert (after it was applied) and a delete: how
    conferencing (services/conferencing.py) follows its event."""

    def on_upsert(
        self, uow: UnitOfWork, event: Event, calendar: Calendar, profile: Profile, data: EventInput, ctx: AccessContext
    ) -> None: ...
    def on_delete(self, uow: UnitOfWork, event: Event) -> None: ...


class _NoHooks:
    def on_upsert(
        self, uow: UnitOfWork, event: Event, calendar: Calendar, profile: Profile, data: EventInput, ctx: AccessContext
    ) -> None:
        """Nothing follows events."""

    def on_delete(self, uow: UnitOfWork, event: Event) -> None:
        """Nothing follows events."""


@dataclass(frozen=True)
class EventInput:
    """A checked upsert request (times already parsed; the API layer checked types)."""

    summary: str
    start: EventTime
    end: EventTime
    event_id: str | None = None
    event_uid: str | None = None
    description: str = ""
    location: dict[str, Any] | None = None
    url: str | None = None
    transparency: str | None = None
    event_private: bool | None = None
    color: str | None = None
    reminders: list[dict[str, Any]] | None = None
    invite: list[dict[str, Any]] = field(default_factory=list)
    remove: list[str] = field(default_factory=list)
    recurrence: dict[str, Any] | None = None
    instance: str | None = None  # change one instance of the series `event_id` names (docs/compat.md)
    details: dict[str, Any] = field(default_factory=dict)
    conferencing: ConferencingRequest | None = None  # None: leave the event's conferencing as it is
    subscriptions: list[dict[str, Any]] | None = None  # per-event webhooks (conferencing interactions)


def check_times(start: EventTime, end: EventTime) -> None:
    """Both ends of one kind, and the end not before the start (all-day ends are exclusive)."""
    if start.all_day != end.all_day:
        raise InvalidRequest.single("end", "errors.mismatched_times", "start and end must both be dates or both times")
    if start.day is not None and end.day is not None and end.day <= start.day:
        raise InvalidRequest.single(
            "end", "errors.end_before_start", "end must be after start (the end date is exclusive)"
        )
    if start.instant is not None and end.instant is not None and end.instant < start.instant:
        raise InvalidRequest.single("end", "errors.end_before_start", "end must not be before start")


def check_input(data: EventInput) -> None:
    problems: dict[str, list[FieldError]] = {}
    if not data.event_id and not data.event_uid:
        problems["event_id"] = [FieldError("errors.required", "event_id must be specified")]
    if not data.summary.strip():
        problems["summary"] = [FieldError("errors.required", "summary must be specified")]
    elif len(data.summary) > MAX_SUMMARY:
        problems["summary"] = [FieldError("errors.too_long", f"summary must be at most {MAX_SUMMARY} characters")]
    if len(data.description) > MAX_DESCRIPTION:
        problems["description"] = [
            FieldError("errors.too_long", f"description must be at most {MAX_DESCRIPTION} characters")
        ]
    if problems:
        raise InvalidRequest(problems)
    check_times(data.start, data.end)


class EventService:
    """Writes to events; every change is also offered to push notifications in the same transaction."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        calendars: CalendarService,
        notifier: ChangeNotifier,
        outbound: Outbound = _nothing_outbound,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._calendars = calendars
        self._notifier = notifier
        self._outbound = outbound
        self.hooks: EventHooks = _NoHooks()  # set once the conferencing service exists (bootstrap)

    def upsert(self, ctx: AccessContext, calendar_id: str, data: EventInput) -> Event:
        ctx.require("create_event")
        check_input(data)
        if data.instance is not None or (data.event_uid and not data.event_id and self._is_instance(data.event_uid)):
            master = self._change_instance(ctx, calendar_id, data.event_id, data.event_uid, data.instance, data)
            assert master is not None
            return master
        with self._uow() as uow:
            event = self._write(uow, ctx, calendar_id, data)
            uow.commit()
            return event

    def upsert_in(self, uow: UnitOfWork, ctx: AccessContext, calendar_id: str, data: EventInput) -> Event:
        """An upsert by event_id inside the caller's transaction (a booking writes its events with the
        slot it locked): provider writes, conferencing and notifications are queued in it as for the API."""
        ctx.require("create_event")
        check_input(data)
        if data.instance is not None or not data.event_id:
            raise InvalidRequest.single("event_id", "errors.required", "event_id must be specified")
        return self._write(uow, ctx, calendar_id, data)

    def _write(self, uow: UnitOfWork, ctx: AccessContext, calendar_id: str, data: EventInput) -> Event:
        calendar, profile = self._calendars.calendar_for_write(uow, ctx, calendar_id)
        now = self._clock.now()
        if data.event_id:
            event = uow.events.managed(calendar.id, ctx.application_id, data.event_id)
        else:
            found = uow.events.by_uid(data.event_uid or "")
            event = found if found is not None and found.calendar_id == calendar.id and not found.deleted else None
            self._may_change(uow, ctx, calendar.id, event, "editing")
            if event is None:
                raise NotFound(f"no event {data.event_uid} in calendar {calendar_id}")
        if event is None:
            event = Event(
                id=ids.new_id("evr"),
                calendar_id=calendar.id,
                account_id=calendar.account_id,
                event_uid=ids.new_id("evt"),
                summary=data.summary,
                all_day=data.start.all_day,
                created_at=now,
                updated_at=now,
                event_id=data.event_id,
                application_id=ctx.application_id,
            )
            uow.events.add(event)
        apply(event, data, now)
        event.changed_by = ctx.application_id
        self.hooks.on_upsert(uow, event, calendar, profile, data, ctx)
        self._outbound(uow, profile, event)
        self._notifier.event_changed(uow, event, ctx.application_id)
        return event

    def delete(self, ctx: AccessContext, calendar_id: str, event_id: str | None, event_uid: str | None) -> None:
        ctx.require("delete_event")
        if not event_id and not event_uid:
            raise InvalidRequest.single("event_id", "errors.required", "event_id or event_uid must be specified")
        if event_uid and not event_id and self._is_instance(event_uid):
            self._change_instance(ctx, calendar_id, None, event_uid, None, None)
            return
        with self._uow() as uow:
            calendar, profile = self._calendars.calendar_for_write(uow, ctx, calendar_id)
            if event_id:
                event = uow.events.managed(calendar.id, ctx.application_id, event_id)
            else:
                found = uow.events.by_uid(event_uid or "")
                event = found if found is not None and found.calendar_id == calendar.id else None
                if event is not None:
                    self._may_change(uow, ctx, calendar.id, event, "deleting")
            if event is None or event.deleted:
                return  # deleting what is not there is done already
            self._remove(uow, event, ctx.application_id)
            self._outbound(uow, profile, event)
            uow.commit()

    def bulk_delete(self, ctx: AccessContext, delete_all: bool, calendar_ids: list[str] | None) -> int:
        """Delete the caller's managed events everywhere, or in the named calendars. Returns how many."""
        ctx.require("delete_event")
        if delete_all == (calendar_ids is not None):
            raise InvalidRequest.single(
                "delete_all", "errors.exactly_one", "give exactly one of delete_all and calendar_ids"
            )
        if calendar_ids is not None and not calendar_ids:
            raise InvalidRequest.single("calendar_ids", "errors.required", "calendar_ids must not be empty")
        with self._uow() as uow:
            owned = {c.id: c for c in uow.calendars.for_account(ctx.account_id)}
            wanted = list(owned) if delete_all else list(calendar_ids or [])
            unknown = [c for c in wanted if c not in owned]
            if unknown:
                raise InvalidRequest.single(
                    "calendar_ids", "errors.not_found", f"unknown calendars: {', '.join(unknown)}"
                )
            profiles = {p.id: p for p in uow.profiles.for_account(ctx.account_id)}
            count = 0
            for event in uow.events.in_calendars(wanted):
                if event.application_id == ctx.application_id:
                    self._remove(uow, event, ctx.application_id)
                    self._outbound(uow, profiles[owned[event.calendar_id].profile_id], event)
                    count += 1
            uow.commit()
            return count

    def set_participation(self, ctx: AccessContext, calendar_id: str, event_uid: str, status: str) -> None:
        ctx.require("change_participation_status")
        if status not in PARTICIPATION:
            raise InvalidRequest.single("status", "errors.invalid", "status must be accepted, tentative or declined")
        with self._uow() as uow:
            calendar, _ = self._calendars.calendar_for_write(uow, ctx, calendar_id)
            event = uow.events.by_uid(event_uid)
            if event is None or event.calendar_id != calendar.id or event.deleted:
                raise NotFound(f"no event {event_uid}")
            event.participation_status = status
            event.updated_at = self._clock.now()
            event.changed_by = ctx.application_id
            self._notifier.event_changed(uow, event, ctx.application_id)
            uow.commit()

    def _is_instance(self, event_uid: str) -> bool:
        """Whether `event_uid` names an instance of a series (as reads show them), not a stored event."""
        if recurrence.split_uid(event_uid) is None:
            return False
        with self._uow() as uow:
            return uow.events.by_uid(event_uid) is None

    def _change_instance(
        self,
        ctx: AccessContext,
        calendar_id: str,
        event_id: str | None,
        event_uid: str | None,
        instance: str | None,
        data: EventInput | None,
    ) -> Event | None:
        """Move (`data` given) or cancel one instance of one of the caller's series, named by the series'
        `event_id` and `instance`, or by the instance's `event_uid`. The change is kept on the master."""
        with self._uow() as uow:
            calendar, profile = self._calendars.calendar_for_write(uow, ctx, calendar_id)
            master: Event | None = None
            if event_id:
                master = uow.events.managed(calendar.id, ctx.application_id, event_id)
            else:
                series = recurrence.split_uid(event_uid or "")
                found = uow.events.by_uid(series[0]) if series else None
                master = found if found is not None and found.calendar_id == calendar.id else None
                if master is not None:
                    self._may_change(uow, ctx, calendar.id, master, "changing")
                instance = instance or event_uid
            if master is None or master.deleted or not recurrence.is_series(master):
                if data is None:
                    return None  # deleting what is not there is done already
                raise InvalidRequest.single("instance", "errors.not_found", "no recurring event of yours to change")
            now = self._clock.now()
            try:
                key = recurrence.instance_key(master, instance or "")
                if data is None:
                    change = recurrence.cancelled_exception(now, ctx.application_id)
                else:
                    fields: dict[str, Any] = {"summary": data.summary, "description": data.description}
                    for name in ("location", "url", "transparency", "event_private", "color"):
                        if getattr(data, name) is not None:
                            fields[name] = getattr(data, name)
                    change = recurrence.moved_exception(master, data.start, data.end, fields, now, ctx.application_id)
            except recurrence.BadRecurrence as exc:
                raise InvalidRequest.single(exc.field, "errors.invalid_instance", exc.message) from exc
            master.details = recurrence.with_exception(master, key, change)
            master.updated_at = now
            master.changed_by = ctx.application_id
            self._outbound(uow, profile, master)
            self._notifier.event_changed(uow, master, ctx.application_id)
            uow.commit()
            return master

    @staticmethod
    def _may_change(uow: UnitOfWork, ctx: AccessContext, calendar_id: str, event: Event | None, doing: str) -> None:
        """An application changes the events it manages; others (external events, or events it cannot see)
        only where the calendar granted it unrestricted permission (`POST /v1/permissions`)."""
        if event is not None and event.application_id == ctx.application_id:
            return
        if not uow.calendar_permissions.unrestricted(ctx.application_id, [calendar_id]):
            raise PermissionDenied(f"{doing} external events needs unrestricted permission on the calendar")

    def _remove(self, uow: UnitOfWork, event: Event, changed_by: str | None) -> None:
        self.hooks.on_delete(uow, event)
        event.deleted = True
        event.updated_at = self._clock.now()
        event.changed_by = changed_by
        self._notifier.event_changed(uow, event, changed_by)


def apply(event: Event, data: EventInput, now: Any) -> None:
    """Copy an upsert onto the stored event; fields the request leaves out keep their values."""
    moved_from = (event.starts_at, event.ends_at)
    event.summary = data.summary
    event.description = data.description
    event.all_day = data.start.all_day
    event.starts_at, event.ends_at = data.start.instant, data.end.instant
    event.start_date, event.end_date = data.start.day, data.end.day
    event.start_tzid, event.end_tzid = data.start.tzid, data.end.tzid
    if moved_from != (event.starts_at, event.ends_at) and moved_from[0] is not None:
        event.previous_starts_at, event.previous_ends_at = moved_from
    if data.location is not None:
        event.location = data.location
    if data.url is not None:
        event.url = data.url
    if data.transparency is not None:
        event.transparency = data.transparency
    if data.event_private is not None:
        event.event_private = data.event_private
    if data.color is not None:
        event.color = data.color
    if data.reminders is not None:
        event.reminders = data.reminders
    if data.recurrence is not None:
        event.recurrence = data.recurrence
    if data.invite or data.remove:
        event.attendees = merge_attendees(event.attendees, data.invite, data.remove)
    event.details = {**event.details, **data.details}
    event.deleted = False
    event.updated_at = now


def merge_attendees(
    current: list[dict[str, Any]], invite: list[dict[str, Any]], remove: list[str]
) -> list[dict[str, Any]]:
    """Add invitees (status needs_action), drop removed ones; emails compare case-insensitively."""
    gone = {email.casefold() for email in remove}
    kept = [a for a in current if str(a.get("email", "")).casefold() not in gone]
    known = {str(a.get("email", "")).casefold() for a in kept}
    for person in invite:
        email = str(person.get("email", ""))
        if email.casefold() not in known and email.casefold() not in gone:
            kept.append({"email": email, "display_name": person.get("display_name") or email, "status": "needs_action"})
            known.add(email.casefold())
    return kept
