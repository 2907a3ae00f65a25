"""Conferencing on events: an upsert's `conferencing` chooses a service (the calendar's integrated one, or
details given explicitly); the event is written at once and a job provisions the conference with retries;
templates in the description and location follow the details; subscribers hear `conferencing_assigned`
and `conferencing_failing` through the callback outbox; moving or deleting the event updates or deletes
the conference."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, time
from typing import Any

from horae.domain import conferencing as conf
from horae.domain import retry
from horae.domain.events import Event
from horae.domain.model import Calendar, Profile
from horae.domain.times import format_instant
from horae.errors import InvalidRequest, ProviderAuthRejected, ProviderError
from horae.ports import ChangeNotifier, Clock, ConferencingProvider, Connection, UnitOfWork, UnitOfWorkFactory
from horae.services.callbacks import Callbacks
from horae.services.conferencing_profiles import ConferencingProfiles
from horae.services.events import EventInput, Outbound
from horae.services.jobs import JobHandler, new_job
from horae.services.oauth import AccessContext

PROVISION = "conferencing.provision"
REMOVE = "conferencing.remove"
BUILT_IN_CALENDARS = "local"
log = logging.getLogger(__name__)


class ConferencingService:
    """The EventService's conferencing hooks, and the jobs that talk to conferencing services."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        providers: Callable[[str], ConferencingProvider],
        built_in: str,
        callbacks: Callbacks,
        outbound: Outbound,
        notifier: ChangeNotifier,
        profiles: ConferencingProfiles,
    ) -> None:
        self._uow = uow
        self._profiles = profiles
        self._clock = clock
        self._providers = providers
        self._built_in = built_in  # the service built-in calendars use ("jitsi"); "" for none
        self._callbacks = callbacks
        self._outbound = outbound
        self._notifier = notifier

    def integrated_available(self, profile: Profile) -> bool:
        """Whether the calendars of this profile have integrated conferencing (`integrated` is allowed)."""
        return profile.provider_key == BUILT_IN_CALENDARS and bool(self._built_in)

    # --- hooks in the writing transaction -----------------------------------------------------------------

    def on_upsert(
        self, uow: UnitOfWork, event: Event, calendar: Calendar, profile: Profile, data: EventInput, ctx: AccessContext
    ) -> None:
        """After the upsert was applied to `event`: record what was asked, queue the work, render templates."""
        if data.subscriptions is not None:
            event.details = {**event.details, "subscriptions": data.subscriptions}
        state: dict[str, Any] = dict(event.details.get("conferencing") or {})
        wanted = data.conferencing
        if wanted is not None:
            self._drop_meeting(uow, state)
            state = self._start(uow, event, profile, wanted, ctx)
        elif (
            state.get("state") == conf.READY and state.get("remote_id") and state.get("meeting") != _meeting_key(event)
        ):
            state = self._queue(uow, event, {**state, "state": conf.PENDING})  # moved or renamed: update it
        templates = _templates(data, event.details.get("templates"))
        event.details = {**event.details, "conferencing": state, "templates": templates}
        _render(event)
        if wanted is not None and wanted.profile_id == conf.EXPLICIT:
            self._announce(uow, event, state, conf.ASSIGNED)  # written as given: the details exist at once

    def on_delete(self, uow: UnitOfWork, event: Event) -> None:
        """The event is gone: so is its conference."""
        state = dict(event.details.get("conferencing") or {})
        if state:
            self._drop_meeting(uow, state)
            event.details = {**event.details, "conferencing": {}}

    def _start(
        self, uow: UnitOfWork, event: Event, profile: Profile, wanted: conf.ConferencingRequest, ctx: AccessContext
    ) -> dict[str, Any]:
        if wanted.profile_id == conf.NONE:
            return {}
        base = {"profile_id": wanted.profile_id, "application_id": ctx.application_id}
        if wanted.profile_id == conf.EXPLICIT:
            assert wanted.provider_description is not None and wanted.join_url is not None
            given = conf.Provisioned("", conf.ConferencingDetails(wanted.provider_description, wanted.join_url))
            return conf.with_details(base, given)
        key, through = self._service_for(uow, event.account_id, profile, wanted)
        if _starts(event) < self._clock.now():
            return {}  # no conference for what has begun already (docs/compat.md)
        chosen = {"provider_key": key, "conferencing_profile_id": through, "state": conf.PENDING, "failures": 0}
        return self._queue(uow, event, {**base, **chosen})

    def _service_for(
        self, uow: UnitOfWork, account_id: str, profile: Profile, wanted: conf.ConferencingRequest
    ) -> tuple[str, str]:
        """Which service provisions the conference, and through which conferencing profile ("" for none)."""
        field = "conferencing.profile_id"
        mine = uow.conferencing_profiles.for_account(account_id)
        if wanted.by_profile:
            chosen = next((p for p in mine if p.id == wanted.profile_id), None)
            if chosen is None:
                raise InvalidRequest.single(field, "errors.unknown_conferencing_profile",
                                            f"no conferencing profile {wanted.profile_id} in this account")  # fmt: skip
            if not chosen.connected:
                raise InvalidRequest.single(field, "errors.conferencing_profile_disconnected",
                                            f"the conferencing profile {chosen.id} needs relinking")  # fmt: skip
            return chosen.provider_key, chosen.id
        if self.integrated_available(profile):
            return self._built_in, ""
        if wanted.profile_id == conf.INTEGRATED:
            raise InvalidRequest.single(
                field, "errors.integrated_unavailable", "this calendar has no integrated conferencing"
            )
        default = next((p for p in mine if p.is_default and p.connected), None)
        if default is not None:
            return default.provider_key, default.id
        raise InvalidRequest.single(
            field, "errors.no_conferencing_available", "this calendar has no integrated conferencing and the "
            "account has no default conferencing service",
        )  # fmt: skip

    def _queue(
        self, uow: UnitOfWork, event: Event, state: dict[str, Any], when: datetime | None = None
    ) -> dict[str, Any]:
        job = new_job(self._clock, PROVISION, {})
        job.payload = {"event_id": event.id, "job_id": job.id}
        if when is not None:
            job.run_after = when
        uow.jobs.add(job)
        return {**state, "job_id": job.id}

    def _drop_meeting(self, uow: UnitOfWork, state: dict[str, Any]) -> None:
        if state.get("remote_id") and state.get("provider_key"):
            payload = {"provider_key": state["provider_key"], "remote_id": state["remote_id"],
                       "conferencing_profile_id": state.get("conferencing_profile_id") or ""}  # fmt: skip
            uow.jobs.add(new_job(self._clock, REMOVE, payload))

    # --- jobs -----------------------------------------------------------------------------------------------

    def job_handlers(self) -> dict[str, JobHandler]:
        return {PROVISION: self.provision, REMOVE: self.remove}

    def provision(self, uow: UnitOfWork, payload: dict[str, Any]) -> None:
        """Create (or update) the event's conference. The service is called outside any transaction; the
        details, the rendered templates and the notifications are written in the job's."""
        with self._uow() as reading:
            event = reading.events.get(str(payload.get("event_id", "")))
        state = _current(event, payload)
        if event is None or state is None:
            return  # deleted, changed again meanwhile, or done
        provider = self._providers(str(state["provider_key"]))
        through = str(state.get("conferencing_profile_id") or "")
        conn = self._connection(through)
        meeting = conf.Meeting(event.summary, _starts(event), _ends(event), event.start_tzid)
        try:
            if state.get("remote_id"):
                made = provider.update(conn, str(state["remote_id"]), meeting)
            else:
                made = provider.create(conn, meeting)
        except ProviderError as exc:
            if isinstance(exc, ProviderAuthRejected) and through:
                self._profiles.disconnect(uow, through)
            self._failed(uow, event.id, payload, exc)
            return
        finally:
            if conn is not None:
                self._profiles.keep(uow, through, conn)
        stored = uow.events.get(event.id)
        if stored is None or _current(stored, payload) is None:
            self._drop_meeting(uow, conf.with_details(state, made))  # nobody wants it any more
            return
        ready = {**conf.with_details(state, made), "job_id": None, "meeting": _meeting_key(stored)}
        first = state.get("remote_id") is None
        stored.details = {**stored.details, "conferencing": ready}
        _render(stored)
        stored.updated_at = self._clock.now()
        self._written(uow, stored)
        if first:
            self._announce(uow, stored, ready, conf.ASSIGNED)

    def remove(self, uow: UnitOfWork, payload: dict[str, Any]) -> None:
        """Delete a conference nobody needs; a failure raises, and the job runner tries again."""
        through = str(payload.get("conferencing_profile_id") or "")
        conn = self._connection(through)
        self._providers(str(payload["provider_key"])).delete(conn, str(payload["remote_id"]))
        if conn is not None:
            self._profiles.keep(uow, through, conn)

    def _connection(self, conferencing_profile_id: str) -> Connection | None:
        """The conferencing profile's connection (None for the built-in service, which needs none)."""
        if not conferencing_profile_id:
            return None
        with self._uow() as reading:
            found = reading.conferencing_profiles.get(conferencing_profile_id)
        if found is None:
            raise ProviderAuthRejected(f"the conferencing profile {conferencing_profile_id} is gone")
        return self._profiles.connection(found)

    def _failed(self, uow: UnitOfWork, event_id: str, payload: dict[str, Any], exc: ProviderError) -> None:
        event = uow.events.get(event_id)
        state = _current(event, payload)
        if event is None or state is None:
            return
        failures = int(state.get("failures") or 0) + 1
        log.warning("conferencing not provisioned", extra={"event_id": event_id, "error": str(exc)[:300]})
        delay = retry.next_delay(failures)
        if delay is None:
            state = {**state, "state": conf.GAVE_UP, "job_id": None, "failures": failures}
        else:
            state = self._queue(uow, event, {**state, "failures": failures}, self._clock.now() + delay)
        event.details = {**event.details, "conferencing": state}
        if failures == 1:
            self._announce(uow, event, state, conf.FAILING)

    def _written(self, uow: UnitOfWork, event: Event) -> None:
        calendar = uow.calendars.get(event.calendar_id)
        profile = uow.profiles.get(calendar.profile_id) if calendar is not None else None
        if profile is not None:
            self._outbound(uow, profile, event)
        self._notifier.event_changed(uow, event, None)

    def _announce(self, uow: UnitOfWork, event: Event, state: dict[str, Any], interaction: str) -> None:
        """Tell the event's subscribers, signed for the application that asked for the conferencing."""
        application_id = state.get("application_id") or event.application_id
        if not application_id:
            return
        body = {"notification": {"type": interaction}, "event": _event_json(event, state)}
        for uri in conf.wanting(event.details.get("subscriptions"), interaction):
            self._callbacks.queue(uow, str(application_id), uri, body, interaction)


# --- helpers -----------------------------------------------------------------------------------------------


def _current(event: Event | None, payload: dict[str, Any]) -> dict[str, Any] | None:
    """The event's conferencing state if this job still speaks for it."""
    if event is None or event.deleted:
        return None
    state = event.details.get("conferencing")
    if (
        not isinstance(state, dict)
        or state.get("job_id") != payload.get("job_id")
        or state.get("state") != conf.PENDING
    ):
        return None
    return state


def _templates(data: EventInput, before: Any) -> dict[str, str]:
    """The raw templates to keep: the description's and the location's, when they hold variables."""
    kept: dict[str, str] = {}
    location = (data.location or {}).get("description") if data.location is not None else None
    if conf.has_templates(data.description):
        kept["description"] = data.description
    if data.location is None and isinstance(before, dict) and before.get("location"):
        kept["location"] = str(before["location"])  # the location was left as it was
    elif isinstance(location, str) and conf.has_templates(location):
        kept["location"] = location
    return kept


def _render(event: Event) -> None:
    """The description and location from their templates, with the best details known."""
    templates = event.details.get("templates") or {}
    details = conf.details_of(event.details.get("conferencing") or {})
    locale = event.details.get("locale")
    if templates.get("description"):
        event.description = conf.render(templates["description"], details, locale)
    if templates.get("location"):
        event.location = {**(event.location or {}), "description": conf.render(templates["location"], details, locale)}


def _starts(event: Event) -> datetime:
    if event.starts_at is not None:
        return event.starts_at
    assert event.start_date is not None
    return datetime.combine(event.start_date, time(), UTC)


def _ends(event: Event) -> datetime:
    if event.ends_at is not None:
        return event.ends_at
    assert event.end_date is not None
    return datetime.combine(event.end_date, time(), UTC)


def _meeting_key(event: Event) -> list[str]:
    """What a conference knows of its event: a change here is pushed to the service."""
    return [event.summary, format_instant(_starts(event)), format_instant(_ends(event))]


def _event_json(event: Event, state: dict[str, Any]) -> dict[str, Any]:
    """The event in conferencing callbacks (the fields docs/compat.md lists)."""
    shown: dict[str, Any] = {
        "calendar_id": event.calendar_id,
        "event_uid": event.event_uid,
        "summary": event.summary,
        "description": event.description,
        "start": format_instant(_starts(event)) if event.starts_at else str(event.start_date),
        "end": format_instant(_ends(event)) if event.ends_at else str(event.end_date),
    }
    if event.event_id is not None:
        shown["event_id"] = event.event_id
    if event.location:
        shown["location"] = event.location
    read = conf.as_read(state)
    if read is not None:
        shown["conferencing"] = read
    return shown
