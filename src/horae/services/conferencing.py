"""Conferencing on events: an upsert's `conferencing` chooses a service (the calendar's integrated one, or
details given explicitly); the event is written at once and a job provisions the conference with retries
(or, for a calendar's own conferencing such as Google Meet, the calendar makes it along with the event);
templates in the description and location follow the details; subscribers hear `conferencing_assigned`
and `conferencing_failing` through the callback outbox; moving or deleting the event updates or deletes
the conference."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from horae.domain import conferencing as conf
from horae.domain import ids, integrated, retry
from horae.domain.events import Event
from horae.domain.integrated import BY_CALENDAR, RemoteConference
from horae.domain.model import Calendar, Profile
from horae.errors import InvalidRequest, ProviderAuthRejected, ProviderError
from horae.ports import (
    ChangeNotifier,
    Clock,
    ConferencingProvider,
    Connection,
    IntegratedConferencing,
    UnitOfWork,
    UnitOfWorkFactory,
)
from horae.services import conferencing_shape as shape
from horae.services.calendars import ProviderLookup
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
        calendars: ProviderLookup | None = None,
    ) -> None:
        self._uow = uow
        self._profiles = profiles
        self._clock = clock
        self._providers = providers
        self._built_in = built_in  # the service built-in calendars use ("jitsi"); "" for none
        self._callbacks = callbacks
        self._outbound = outbound
        self._notifier = notifier
        self._calendars = calendars  # calendar providers: which have conferencing of their own (Google Meet)

    def integrated_available(self, profile: Profile) -> bool:
        """Whether the calendars of this profile have integrated conferencing (`integrated` is allowed)."""
        if profile.provider_key == BUILT_IN_CALENDARS:
            return bool(self._built_in)
        return bool(self._made_by_calendar(profile))

    def _made_by_calendar(self, profile: Profile) -> str:
        """The conferencing the profile's calendar service makes along with its events ("" for none)."""
        if self._calendars is None or profile.provider_key == BUILT_IN_CALENDARS:
            return ""
        provider = self._calendars(profile.provider_key)
        return provider.integrated_conferencing if isinstance(provider, IntegratedConferencing) else ""

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
            chosen = self._start(uow, event, profile, wanted, ctx, state)
            if chosen.get("remote_id") != state.get("remote_id"):
                self._drop_meeting(uow, state)
            state = chosen
        state = self._follow(uow, event, state)
        templates = shape.templates_of(data, event.details.get("templates"))
        if state.get(BY_CALENDAR):
            event.details = integrated.managing(event.details, str(state["provider_key"]))
        event.details = {**event.details, "conferencing": state, "templates": templates}
        shape.render(event)
        if wanted is not None and wanted.profile_id == conf.EXPLICIT:
            self._announce(uow, event, state, conf.ASSIGNED)  # written as given: the details exist at once

    def _follow(self, uow: UnitOfWork, event: Event, state: dict[str, Any]) -> dict[str, Any]:
        """A made meeting whose event moved or was renamed is updated to match."""
        if (
            state.get("state") == conf.READY
            and state.get("remote_id")
            and not state.get(BY_CALENDAR)  # the calendar's own conference follows its event by itself
            and state.get("meeting") != shape.meeting_key(event)
        ):
            return self._queue(uow, event, {**state, "state": conf.PENDING})
        return state

    def on_delete(self, uow: UnitOfWork, event: Event) -> None:
        """The event is gone: so is its conference."""
        state = dict(event.details.get("conferencing") or {})
        if state:
            self._drop_meeting(uow, state)
            event.details = {**event.details, "conferencing": {}}

    def _start(
        self,
        uow: UnitOfWork,
        event: Event,
        profile: Profile,
        wanted: conf.ConferencingRequest,
        ctx: AccessContext,
        before: dict[str, Any],
    ) -> dict[str, Any]:
        if wanted.profile_id == conf.NONE:
            return {}
        base = {"profile_id": wanted.profile_id, "application_id": ctx.application_id}
        if wanted.profile_id == conf.EXPLICIT:
            assert wanted.provider_description is not None and wanted.join_url is not None
            given = conf.Provisioned("", conf.ConferencingDetails(wanted.provider_description, wanted.join_url))
            return conf.with_details(base, given)
        key, through = self._service_for(uow, event.account_id, profile, wanted)
        if _same_service(before, key, through):
            return {**before, **base}  # asked again (apps re-send whole events): the same meeting, followed
        if shape.starts(event) < self._clock.now():
            return {}  # no conference for what has begun already (docs/compat.md)
        chosen = {"provider_key": key, "conferencing_profile_id": through, "state": conf.PENDING, "failures": 0}
        if not through and key == self._made_by_calendar(profile):
            # Made by the calendar in the event's own write (queued by the EventService), asked under this id.
            return {**base, **chosen, BY_CALENDAR: True, "request_id": ids.new_id("req")}
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
            return self._made_by_calendar(profile) or self._built_in, ""
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
        """A provisioned meeting nobody wants goes (a calendar's own goes with the event's next write)."""
        if state.get("remote_id") and state.get("provider_key") and not state.get(BY_CALENDAR):
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
        if state.get(BY_CALENDAR):
            self._ask_calendar_again(uow, event.id, payload)
            return
        provider = self._providers(str(state["provider_key"]))
        through = str(state.get("conferencing_profile_id") or "")
        conn = self._connection(through)
        meeting = conf.Meeting(event.summary, shape.starts(event), shape.ends(event), event.start_tzid)
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
        ready = {**conf.with_details(state, made), "job_id": None, "meeting": shape.meeting_key(stored)}
        first = state.get("remote_id") is None
        stored.details = {**stored.details, "conferencing": ready}
        shape.render(stored)
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

    # --- a calendar's own conferencing (Google Meet), reported by the sync and write jobs --------------------

    def on_calendar_conference(self, uow: UnitOfWork, event: Event, conference: RemoteConference) -> bool:
        """The calendar reported the conference it keeps on `event` (in a write's answer or a sync). The one
        Horae asked for is recorded once made: templates rendered (and written out again when that changed
        them), subscribers told. One the calendar could not make is asked for again later, like a failed
        provisioning. Returns whether the event changed."""
        state = event.details.get("conferencing")
        if integrated.failed(state, conference):
            assert isinstance(state, dict)
            log.warning("the calendar could not make the conference", extra={"event_id": event.id})
            self._try_again(uow, event, state)
            return True
        ready = integrated.recorded(state, conference)
        if ready is None:
            return False
        first = isinstance(state, dict) and state.get("state") != conf.READY
        shown = (event.description, event.location)
        event.details = {**event.details, "conferencing": ready}
        shape.render(event)
        event.updated_at = self._clock.now()
        if (event.description, event.location) != shown:
            self._write_out(uow, event)  # the calendar shows the join URL in the description too
        if first:
            self._announce(uow, event, ready, conf.ASSIGNED)
        return True

    def _ask_calendar_again(self, uow: UnitOfWork, event_id: str, payload: dict[str, Any]) -> None:
        """The retry of a conference the calendar could not make: the event's next write asks under a new id."""
        event = uow.events.get(event_id)
        state = _current(event, payload)
        if event is None or state is None:
            return
        again = {**state, "request_id": ids.new_id("req"), "job_id": None}
        event.details = {**event.details, "conferencing": again}
        event.updated_at = self._clock.now()
        self._written(uow, event)

    def _failed(self, uow: UnitOfWork, event_id: str, payload: dict[str, Any], exc: ProviderError) -> None:
        event = uow.events.get(event_id)
        state = _current(event, payload)
        if event is None or state is None:
            return
        log.warning("conferencing not provisioned", extra={"event_id": event_id, "error": str(exc)[:300]})
        self._try_again(uow, event, state)

    def _try_again(self, uow: UnitOfWork, event: Event, state: dict[str, Any]) -> None:
        """Another try after the retry policy's delay; the first failure is announced, the last gives up."""
        failures = int(state.get("failures") or 0) + 1
        delay = retry.next_delay(failures)
        if delay is None:
            state = {**state, "state": conf.GAVE_UP, "job_id": None, "failures": failures}
        else:
            state = self._queue(uow, event, {**state, "failures": failures}, self._clock.now() + delay)
        event.details = {**event.details, "conferencing": state}
        if failures == 1:
            self._announce(uow, event, state, conf.FAILING)

    def _written(self, uow: UnitOfWork, event: Event) -> None:
        self._write_out(uow, event)
        self._notifier.event_changed(uow, event, None)

    def _write_out(self, uow: UnitOfWork, event: Event) -> None:
        calendar = uow.calendars.get(event.calendar_id)
        profile = uow.profiles.get(calendar.profile_id) if calendar is not None else None
        if profile is not None:
            self._outbound(uow, profile, event)

    def _announce(self, uow: UnitOfWork, event: Event, state: dict[str, Any], interaction: str) -> None:
        """Tell the event's subscribers, signed for the application that asked for the conferencing."""
        application_id = state.get("application_id") or event.application_id
        if not application_id:
            return
        body = {"notification": {"type": interaction}, "event": shape.event_json(event, state)}
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


def _same_service(before: dict[str, Any], key: str, through: str) -> bool:
    """Whether the stored conference, made or being made, is by this service through this profile."""
    live = integrated.live(before) if before.get(BY_CALENDAR) else before.get("state") in (conf.PENDING, conf.READY)
    return live and before.get("provider_key") == key and (before.get("conferencing_profile_id") or "") == through
