"""Keeping connected calendars in step with their services, as jobs: the sync of a profile (its calendars,
their events, its state and notifications) and the write of one Horae change out to the provider.

Both jobs talk to the service outside any transaction (SQLite takes its write lock at BEGIN, and nothing
should wait on a remote server while holding it), then store the outcome in the job runner's transaction,
so the outcome and the job's "done" mark commit together.

Each profile has one sync job that matters: `profiles.sync_job_id`. A run schedules its successor; a
trigger (connecting, relinking) schedules a fresh one, and a superseded job finds it is not the
profile's job and does nothing, even if it was already talking to the service.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from horae.domain import sync_policy
from horae.domain.events import Event
from horae.domain.integrated import PENDING, RemoteConference
from horae.domain.model import Calendar, Profile
from horae.errors import ProviderAuthRejected, ProviderError, ProviderUnavailable, SyncCursorExpired
from horae.ports import (
    ChangeNotifier,
    Clock,
    Connection,
    ProviderCalendar,
    ProviderChanges,
    UnitOfWork,
    UnitOfWorkFactory,
)
from horae.services.calendars import ProviderLookup
from horae.services.credentials import Credentials
from horae.services.jobs import JobHandler, new_job
from horae.services.sync_apply import PENDING_WRITE, apply_calendars, apply_changes

SYNC = "profile.sync"
WRITE = "provider.write"
# A calendar still making the conference it was asked for (Google Meet "pending"): read the calendar again then.
CONFERENCE_RECHECK = timedelta(seconds=10)
log = logging.getLogger(__name__)


class ConferenceReports(Protocol):
    """Told, in a sync or write job's transaction, of the conference a calendar keeps on an event
    (domain/integrated.py); returns whether the event changed (the ConferencingService records it)."""

    def on_calendar_conference(self, uow: UnitOfWork, event: Event, conference: RemoteConference) -> bool: ...


class _NoReports:
    def on_calendar_conference(self, uow: UnitOfWork, event: Event, conference: RemoteConference) -> bool:
        return False


@dataclass(frozen=True)
class SyncOptions:
    """The sync window and pace (Settings: sync_days_back, sync_days_ahead, sync_poll_seconds, ...)."""

    days_back: int = sync_policy.DAYS_BACK
    days_ahead: int = sync_policy.DAYS_AHEAD
    poll_every: timedelta = sync_policy.POLL_EVERY
    full_pass_every: timedelta = timedelta(hours=24)


@dataclass(frozen=True)
class _Pulled:
    """One calendar's answer from the service, before it is stored."""

    remote: ProviderCalendar
    changes: ProviderChanges
    full: bool


@dataclass(frozen=True)
class PulledProfile:
    """A first sync read from the service (CalendarSync.first_pull), to be stored with keep_first."""

    calendars: list[_Pulled]
    window: tuple[datetime, datetime]
    now: datetime


class CalendarSync:
    """The sync and provider-write jobs, and the calls that queue them."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        credentials: Credentials,
        providers: ProviderLookup,
        notifier: ChangeNotifier,
        options: SyncOptions | None = None,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._credentials = credentials
        self._providers = providers
        self._notifier = notifier
        self.options = options or SyncOptions()
        self.conferences: ConferenceReports = _NoReports()  # set once the conferencing service exists (bootstrap)

    def job_handlers(self) -> dict[str, JobHandler]:
        return {SYNC: self.run, WRITE: self.write_out}

    def give_up_handlers(self) -> dict[str, JobHandler]:
        return {SYNC: self.given_up}

    # --- sync ---------------------------------------------------------------------------------------------

    def schedule(self, uow: UnitOfWork, profile: Profile, when: datetime | None = None) -> str:
        """Make a new job the profile's sync job, due `when` (now by default); any earlier one is superseded."""
        job = new_job(self._clock, SYNC, {})
        job.payload = {"profile_id": profile.id, "job_id": job.id}
        job.run_after = when or self._clock.now()
        profile.sync_job_id = job.id
        profile.next_sync_at = job.run_after
        uow.jobs.add(job)
        return job.id

    def run(self, uow: UnitOfWork, payload: dict[str, Any]) -> None:
        """One sync of one profile: read the service, then store what it said and what it means."""
        job_id = str(payload.get("job_id", ""))
        with self._uow() as reading:
            profile = reading.profiles.get(str(payload.get("profile_id", "")))
            if not self._current(profile, job_id):
                return
            assert profile is not None
            calendars = [c for c in reading.calendars.for_account(profile.account_id) if c.profile_id == profile.id]
        conn = self._credentials.connection(profile)
        now = self._clock.now()
        window = sync_policy.window(now, self.options.days_back, self.options.days_ahead)
        try:
            pulled = self._pull(profile.provider_key, conn, calendars, window, now)
        except ProviderError as exc:
            self._store_failure(uow, profile.id, job_id, conn, exc)
            return
        stored = uow.profiles.get(profile.id)
        if not self._current(stored, job_id):
            return  # superseded while talking to the service: the newer job will do it
        assert stored is not None
        self._store(uow, stored, conn, pulled, window, now)

    def first_pull(self, provider_key: str, conn: Connection) -> PulledProfile:
        """Everything a profile not yet stored has in the sync window (Enterprise Connect reads a person's
        calendars before keeping their account); ProviderError when the service cannot say."""
        now = self._clock.now()
        window = sync_policy.window(now, self.options.days_back, self.options.days_ahead)
        return PulledProfile(self._pull(provider_key, conn, [], window, now), window, now)

    def keep_first(self, uow: UnitOfWork, profile: Profile, conn: Connection, first: PulledProfile) -> None:
        """Store a first_pull for a profile just added to `uow`: its calendars, events and state (active,
        with profile_initial_sync_completed), and its next sync job."""
        uow.flush()
        self._store(uow, profile, conn, first.calendars, first.window, first.now)

    def _store(
        self,
        uow: UnitOfWork,
        stored: Profile,
        conn: Connection,
        pulled: list[_Pulled],
        window: tuple[datetime, datetime],
        now: datetime,
    ) -> None:
        current = apply_calendars(uow, self._clock, stored, [p.remote for p in pulled])
        uow.flush()  # new calendars exist before their events
        changed: list[Event] = []
        for calendar, result in zip(current, pulled, strict=True):
            found = apply_changes(uow, calendar, result.changes, window, now)
            self._report_conferences(uow, found, result.changes)
            changed.extend(found)
            calendar.sync_cursor = result.changes.cursor
            if result.full:
                calendar.full_sync_at = now
        uow.flush()
        self._notifier.events_changed(uow, changed, None)
        outcome = sync_policy.succeeded(self._state(stored), now, self.options.poll_every)
        stored.last_error = ""
        self._settle(uow, stored, conn, outcome)
        log.info("profile synced", extra={"profile_id": stored.id, "calendars": len(current), "changed": len(changed)})

    def given_up(self, uow: UnitOfWork, payload: dict[str, Any]) -> None:
        """A sync job failed for good (a bug, or its workers died): keep the chain going, an hour on."""
        profile = uow.profiles.get(str(payload.get("profile_id", "")))
        if self._current(profile, str(payload.get("job_id", ""))):
            assert profile is not None
            profile.last_error = str(payload.get("error", ""))[:2000]
            self.schedule(uow, profile, self._clock.now() + sync_policy.MAX_BACKOFF)

    def _current(self, profile: Profile | None, job_id: str) -> bool:
        return (
            profile is not None
            and profile.sync_job_id == job_id
            and profile.revoked_at is None
            and profile.status != sync_policy.DISCONNECTED
        )

    def _pull(
        self,
        provider_key: str,
        conn: Connection,
        calendars: list[Calendar],
        window: tuple[datetime, datetime],
        now: datetime,
    ) -> list[_Pulled]:
        provider = self._providers(provider_key)
        stored = {c.remote_id: c for c in calendars}
        pulled = []
        for remote in provider.calendars(conn):
            if remote.remote_id is None:
                continue
            known = stored.get(remote.remote_id)
            cursor = known.sync_cursor if known is not None and not known.deleted else None
            if known is None or known.full_sync_at is None or known.full_sync_at + self.options.full_pass_every <= now:
                cursor = None  # a full listing now and then catches events that slid into the window
            try:
                changes = provider.changes(conn, remote.remote_id, cursor, window)
            except SyncCursorExpired:
                cursor = None
                changes = provider.changes(conn, remote.remote_id, None, window)
            pulled.append(_Pulled(remote, changes, full=cursor is None or changes.complete))
        return pulled

    def _store_failure(self, uow: UnitOfWork, profile_id: str, job_id: str, conn: Connection, exc: Exception) -> None:
        profile = uow.profiles.get(profile_id)
        if not self._current(profile, job_id):
            return
        assert profile is not None
        now = self._clock.now()
        state = self._state(profile)
        if isinstance(exc, ProviderAuthRejected):
            outcome = sync_policy.auth_failed(state, now)
        else:
            wait = getattr(exc, "retry_after_seconds", None) if isinstance(exc, ProviderUnavailable) else None
            outcome = sync_policy.failed(state, now, timedelta(seconds=wait) if wait else None)
        profile.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        log.warning(
            "profile sync failed",
            extra={"profile_id": profile_id, "error": profile.last_error, "status": outcome.state.status},
        )
        self._settle(uow, profile, conn, outcome)

    def _settle(self, uow: UnitOfWork, profile: Profile, conn: Connection, outcome: sync_policy.Outcome) -> None:
        """Store the new state, raise its notifications, and schedule the next sync (none once disconnected)."""
        state = outcome.state
        profile.status = state.status
        profile.auth_failures, profile.failures = state.auth_failures, state.failures
        profile.last_synced_at = state.last_synced_at
        self._credentials.keep(profile, conn)
        for kind in outcome.notifications:
            self._notifier.profile_notice(uow, profile.account_id, kind)
        if state.status == sync_policy.DISCONNECTED or state.next_sync_at is None:
            profile.sync_job_id, profile.next_sync_at = None, None
        else:
            self.schedule(uow, profile, state.next_sync_at)

    @staticmethod
    def _state(profile: Profile) -> sync_policy.SyncState:
        return sync_policy.SyncState(
            profile.status, profile.auth_failures, profile.failures, profile.last_synced_at, profile.next_sync_at
        )

    def relinked(self, uow: UnitOfWork, profile: Profile) -> None:
        """New working credentials: sync at once (the profile stays pending until its first sync ends)."""
        state = sync_policy.relinked(self._state(profile), self._clock.now())
        profile.status, profile.auth_failures, profile.failures = state.status, 0, 0
        profile.revoked_at = None
        self.schedule(uow, profile)

    # --- writes out to the service ------------------------------------------------------------------------

    def queue_write(self, uow: UnitOfWork, profile: Profile, event: Event) -> None:
        """Called in the transaction of an API write: a job carries the event's latest state to the
        provider (built-in calendars need nothing). Several writes of one event before the job runs are
        one write of the latest state, so each job writes whatever the event is when it runs."""
        if not self._providers(profile.provider_key).remote:
            return
        event.remote_state = PENDING_WRITE
        uow.jobs.add(new_job(self._clock, WRITE, {"event_id": event.id}))

    def write_out(self, uow: UnitOfWork, payload: dict[str, Any]) -> None:
        """The job: PUT (or DELETE) the event on the service; a failure raises, and the job runner retries,
        honouring Retry-After. Idempotent: the provider keys the object by the event's event_uid."""
        with self._uow() as reading:
            event = reading.events.get(str(payload.get("event_id", "")))
            if event is None or event.remote_state != PENDING_WRITE:
                return  # written already, by this job's earlier run or a later job
            calendar = reading.calendars.get(event.calendar_id)
            profile = reading.profiles.get(calendar.profile_id) if calendar is not None else None
        if calendar is None or profile is None or calendar.remote_id is None:
            self._written(uow, event, None, None)
            return
        if not profile.connected:
            raise ProviderAuthRejected("the profile is disconnected; the write waits for it to be relinked")
        provider = self._providers(profile.provider_key)
        conn = self._credentials.connection(profile)
        if event.deleted:
            if event.remote_id is not None:
                provider.delete_event(conn, calendar.remote_id, event.remote_id, event.remote_etag)
            self._written(uow, event, event.remote_id, None)
        else:
            result = provider.write_event(conn, calendar.remote_id, event, event.remote_id, event.remote_etag)
            self._written(uow, event, result.remote_id, result.etag)
            if result.conference is not None:
                self._written_conference(uow, event.id, profile.id, result.conference)
        stored_profile = uow.profiles.get(profile.id)
        if stored_profile is not None:
            self._credentials.keep(stored_profile, conn)

    def _report_conferences(self, uow: UnitOfWork, changed: list[Event], changes: ProviderChanges) -> None:
        reported = {item.remote_id: item.event.conference for item in changes.items if item.event.conference}
        for event in changed:
            conference = reported.get(event.remote_id or "")
            if conference is not None and not event.deleted:
                self.conferences.on_calendar_conference(uow, event, conference)  # notified with the sync's own

    def _written_conference(
        self, uow: UnitOfWork, event_id: str, profile_id: str, conference: RemoteConference
    ) -> None:
        """The calendar's answer to a write carried its conference: recorded; still being made, so the
        profile is read again soon (the sync reports it once made)."""
        event = uow.events.get(event_id)
        if event is None:
            return
        if self.conferences.on_calendar_conference(uow, event, conference):
            self._notifier.event_changed(uow, event, None)
        profile = uow.profiles.get(profile_id)
        soon = self._clock.now() + CONFERENCE_RECHECK
        if conference.status != PENDING or profile is None or not profile.connected or profile.revoked_at:
            return
        if profile.next_sync_at is None or profile.next_sync_at > soon:
            self.schedule(uow, profile, soon)

    def _written(self, uow: UnitOfWork, sent: Event, remote_id: str | None, etag: str | None) -> None:
        event = uow.events.get(sent.id)
        if event is None:
            return
        event.remote_id, event.remote_etag = remote_id, etag
        if event.updated_at == sent.updated_at:
            event.remote_state = None  # otherwise a newer change came meanwhile, and its own job follows
