"""Unit of work: one transaction, its repositories, and the job wake-ups sent once it commits."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from horae.db import availability_repositories as ar
from horae.db import enterprise_repositories as xr
from horae.db import event_repositories as er
from horae.db import organization_repositories as ur
from horae.db import repositories as r
from horae.db import scheduling_repositories as sch
from horae.db import security_repositories as sr
from horae.ports import JobQueue


class SqlUnitOfWork:
    """A transaction over the database; jobs it adds are handed to the queue only after commit."""

    people: r.PersonRepository
    accounts: r.AccountRepository
    profiles: r.ProfileRepository
    calendars: r.CalendarRepository
    applications: r.ApplicationRepository
    client_secrets: r.ClientSecretRepository
    grants: r.GrantRepository
    codes: r.AuthorizationCodeRepository
    tokens: r.TokenRepository
    web_sessions: r.WebSessionRepository
    jobs: r.JobRepository
    events: er.EventRepository
    channels: er.ChannelRepository
    deliveries: er.DeliveryRepository
    availability_rules: ar.AvailabilityRuleRepository
    available_periods: ar.AvailablePeriodRepository
    service_accounts: xr.ServiceAccountRepository
    delegation_requests: xr.DelegationRequestRepository
    calendar_permissions: xr.CalendarPermissionRepository
    permission_requests: xr.PermissionRequestRepository
    conferencing_profiles: xr.ConferencingProfileRepository
    login_throttles: sr.LoginThrottleRepository
    mfa_enrolments: sr.MfaEnrolmentRepository
    recovery_codes: sr.RecoveryCodeRepository
    password_resets: sr.PasswordResetRepository
    units: ur.OrganizationalUnitRepository
    memberships: ur.MembershipRepository
    invitations: ur.InvitationRepository
    app_activity: ur.ApplicationActivityRepository
    scheduling_links: sch.SchedulingLinkRepository

    def __init__(self, session_factory: sessionmaker[Session], queue: JobQueue) -> None:
        self._session_factory = session_factory
        self._queue = queue

    def __enter__(self) -> SqlUnitOfWork:
        self.session = self._session_factory()
        s = self.session
        self.people = r.PersonRepository(s)
        self.accounts = r.AccountRepository(s)
        self.profiles = r.ProfileRepository(s)
        self.calendars = r.CalendarRepository(s)
        self.applications = r.ApplicationRepository(s)
        self.client_secrets = r.ClientSecretRepository(s)
        self.grants = r.GrantRepository(s)
        self.codes = r.AuthorizationCodeRepository(s)
        self.tokens = r.TokenRepository(s)
        self.web_sessions = r.WebSessionRepository(s)
        self.jobs = r.JobRepository(s)
        self.events = er.EventRepository(s)
        self.channels = er.ChannelRepository(s)
        self.deliveries = er.DeliveryRepository(s)
        self.availability_rules = ar.AvailabilityRuleRepository(s)
        self.available_periods = ar.AvailablePeriodRepository(s)
        self.service_accounts = xr.ServiceAccountRepository(s)
        self.delegation_requests = xr.DelegationRequestRepository(s)
        self.calendar_permissions = xr.CalendarPermissionRepository(s)
        self.permission_requests = xr.PermissionRequestRepository(s)
        self.conferencing_profiles = xr.ConferencingProfileRepository(s)
        self.login_throttles = sr.LoginThrottleRepository(s)
        self.mfa_enrolments = sr.MfaEnrolmentRepository(s)
        self.recovery_codes = sr.RecoveryCodeRepository(s)
        self.password_resets = sr.PasswordResetRepository(s)
        self.units = ur.OrganizationalUnitRepository(s)
        self.memberships = ur.MembershipRepository(s)
        self.invitations = ur.InvitationRepository(s)
        self.app_activity = ur.ApplicationActivityRepository(s)
        self.scheduling_links = sch.SchedulingLinkRepository(s)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        # Detach first so entities handed out keep their loaded values; then drop anything
        # not committed.
        self.session.expunge_all()
        self.session.rollback()
        self.session.close()

    def flush(self) -> None:
        self.session.flush()

    def commit(self) -> None:
        self.session.commit()
        woken, self.jobs.added = self.jobs.added, []
        if woken:
            # After commit, so a worker never looks for a job that is not yet visible. If the
            # process dies right here the sweeper still finds the job: nothing is lost.
            self._queue.wake(woken)


class SqlUnitOfWorkFactory:
    """Makes units of work over one engine."""

    def __init__(self, engine: Engine, queue: JobQueue) -> None:
        self.engine = engine
        self.queue = queue
        self._sessions = sessionmaker(bind=engine, expire_on_commit=False)

    def __call__(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self._sessions, self.queue)
