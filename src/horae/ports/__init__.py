"""Ports: the Protocols services depend on; db/, adapters/, providers/ and worker/ implement them. The clock,
secrets, mail, jobs and webhooks, and calendar and conferencing providers are here; storage is in
ports/repositories.py, re-exported."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from horae.domain.conferencing import Meeting, Provisioned
from horae.domain.events import Event
from horae.domain.integrated import RemoteConference
from horae.domain.remote import RemoteEvent
from horae.ports.repositories import (  # storage ports, kept importable from horae.ports
    AccountRepository,
    ApplicationActivityRepository,
    ApplicationRepository,
    AuthorizationCodeRepository,
    AvailabilityRuleRepository,
    AvailablePeriodRepository,
    CalendarPermissionRepository,
    CalendarRepository,
    ChannelRepository,
    ClientSecretRepository,
    ConferencingProfileRepository,
    DelegationRequestRepository,
    DeliveryRepository,
    EventRepository,
    GrantRepository,
    InvitationRepository,
    JobRepository,
    LoginThrottleRepository,
    MembershipRepository,
    MfaEnrolmentRepository,
    OrganizationalUnitRepository,
    PasswordResetRepository,
    PersonRepository,
    ProfileRepository,
    RecoveryCodeRepository,
    Repository,
    SchedulingLinkRepository,
    TokenRepository,
    UnitOfWork,
    UnitOfWorkFactory,
    WebSessionRepository,
)


class Clock(Protocol):
    """Where "now" comes from; injected so tests can travel in time."""

    def now(self) -> datetime: ...


class SecretBox(Protocol):
    """Seals secrets at rest (AES-256-GCM) and opens them again."""

    def seal(self, plain: str) -> str: ...
    def open(self, sealed: str) -> str: ...


class PasswordHasher(Protocol):
    """Hashes people's passwords (argon2id)."""

    def hash(self, password: str) -> str: ...
    def verify(self, hashed: str, password: str) -> bool: ...
    def needs_rehash(self, hashed: str) -> bool: ...


class Mailer(Protocol):
    """Sends one plain-text email (password resets, invitations); raises OSError (smtplib's errors are
    OSErrors) when the mail server could not be reached or refused the message."""

    def send(self, to: str, subject: str, body: str) -> None: ...


class JobQueue(Protocol):
    """Tells workers that committed jobs are waiting; losing a wake-up only delays a job."""

    def wake(self, job_ids: Sequence[str]) -> None: ...


class ChangeNotifier(Protocol):
    """Told, inside the writing transaction, that an event changed; queues push notifications."""

    def event_changed(self, uow: UnitOfWork, event: Event, changed_by: str | None) -> None: ...
    def events_changed(self, uow: UnitOfWork, events: Sequence[Event], changed_by: str | None) -> None: ...
    def profile_notice(self, uow: UnitOfWork, account_id: str, kind: str) -> None: ...


@dataclass(frozen=True)
class WebhookResponse:
    """How one callback POST ended: the status (None when no answer came), how long it took, why it
    failed (empty on an answer), and the start of what the receiver said."""

    status_code: int | None
    duration_ms: int
    error: str = ""
    excerpt: str = ""


class WebhookSender(Protocol):
    """Sends one signed callback (push notifications and other Cronofy-style callbacks); never raises
    for network trouble, which it reports in the response instead."""

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> WebhookResponse: ...


class Background(Protocol):
    """Background work that runs inside the server process (the embedded worker)."""

    def start(self) -> None: ...
    def stop(self) -> None: ...


@dataclass(frozen=True)
class RateDecision:
    """The outcome of counting one request against an application's limits."""

    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int


class RateLimiter(Protocol):
    """Counts requests per key across every process that shares it."""

    def hit(self, key: str) -> RateDecision: ...


@dataclass
class Connection:
    """What a provider needs to reach one profile's calendar service. `settings` are plain (server URL,
    user name); `secrets` (passwords, OAuth tokens, a feed URL with a key in it) are sealed at rest and
    opened only for the call. A provider that refreshes a token updates `secrets` in place and the
    caller seals them again."""

    profile_id: str
    settings: dict[str, str]
    secrets: dict[str, str]


@dataclass(frozen=True)
class ProviderCalendar:
    """A calendar as a provider created or reported it; `remote_id` is the provider's own id for it
    (a CalDAV collection href, a Google calendar id, a Graph id), None for built-in calendars."""

    remote_id: str | None
    name: str
    readonly: bool
    primary: bool = False
    color: str | None = None


@dataclass(frozen=True)
class RemoteItem:
    """One object of a provider calendar: its id there (CalDAV href, Google or Graph event id), its
    version tag (ETag, Google etag, Graph changeKey) and the event it holds."""

    remote_id: str
    etag: str | None
    event: RemoteEvent


@dataclass(frozen=True)
class ProviderChanges:
    """What changed in a provider calendar since `cursor`: objects to store, ids to drop, the next cursor.
    `complete` means `items` are every object in the window (a full listing), so anything stored and not
    listed is gone."""

    items: list[RemoteItem]
    removed: list[str]
    cursor: str | None
    complete: bool


@dataclass(frozen=True)
class WriteResult:
    """Where a written event now lives on the provider, and its new version tag."""

    remote_id: str
    etag: str | None
    conference: RemoteConference | None = None  # the calendar's own conference on it (Google Meet), if any


@dataclass(frozen=True)
class Linked:
    """The outcome of connecting a calendar service: the profile's name there (an email address, a user
    name, a feed title), plain settings and secrets to seal, and the wire names when this connection's
    differ from the provider's defaults (iCloud through CalDAV is `apple`/`icloud`)."""

    profile_name: str
    settings: dict[str, str]
    secrets: dict[str, str]
    provider_name: str | None = None
    provider_service: str | None = None


class CalendarProvider(Protocol):
    """A calendar backend (built-in, CalDAV, ICS, Google, Microsoft): one class per module in
    providers/calendars, chosen by short name, dotted path or the `horae.providers` entry point, and made
    with its options (`Settings.provider_options`). Every method may raise a ProviderError."""

    key: str
    provider_name: str  # the wire name: cronofy, apple, google, live_connect, exchange, ...
    provider_service: str
    writable: bool
    remote: bool  # False for built-in calendars: nothing to sync, nothing to push

    def calendars(self, conn: Connection) -> list[ProviderCalendar]: ...
    def create_calendar(self, conn: Connection, name: str, color: str | None) -> ProviderCalendar: ...
    def changes(
        self, conn: Connection, calendar_remote_id: str, cursor: str | None, window: tuple[datetime, datetime]
    ) -> ProviderChanges: ...
    def write_event(
        self, conn: Connection, calendar_remote_id: str, event: Event, remote_id: str | None, etag: str | None
    ) -> WriteResult: ...
    def delete_event(self, conn: Connection, calendar_remote_id: str, remote_id: str, etag: str | None) -> None: ...


class ConferencingProvider(Protocol):
    """A conferencing service (built-in Jitsi links, Zoom, Microsoft Teams, Google Meet): one class per module
    in providers/conferencing, made with its options like calendar providers. `conn` is the conferencing
    profile's connection (None for the built-in service, which needs no account); a renewed token is
    written back into `conn.secrets`. Every method may raise a ProviderError."""

    key: str
    provider_name: str  # what reads show as `conferencing.provider_name`, e.g. "Zoom"

    def create(self, conn: Connection | None, meeting: Meeting) -> Provisioned: ...
    def update(self, conn: Connection | None, remote_id: str, meeting: Meeting) -> Provisioned: ...
    def delete(self, conn: Connection | None, remote_id: str) -> None: ...


@runtime_checkable
class IntegratedConferencing(Protocol):
    """A calendar provider whose own events carry a conference it makes (Google Meet on Google Calendar):
    `write_event` honours the event's domain.integrated.wish and reports the conference in its WriteResult,
    and reads report it on RemoteEvent.conference."""

    integrated_conferencing: str  # the conferencing key, e.g. google_meet


@runtime_checkable
class DelegatingProvider(Protocol):
    """A provider an administrator connects with admin-level access (Enterprise Connect): `link_admin`
    checks the form and returns what to keep; `delegate` turns that connection into one for a single
    person of the domain, or raises UnknownUser when the server has no such person."""

    def link_admin(self, form: dict[str, str]) -> Linked: ...
    def delegate(self, admin: Connection, email: str) -> Connection: ...


@runtime_checkable
class StoreBacked(Protocol):
    """A provider whose calendars live in Horae's own store (built-in calendars): the registry hands it
    the store and the clock before first use."""

    def bind(self, uow: UnitOfWorkFactory, clock: Clock) -> None: ...


@runtime_checkable
class CredentialLinker(Protocol):
    """A provider people connect with a form (CalDAV: server, user name, app password; ICS: a feed URL):
    checks the answers against the service and returns what to keep."""

    def link(self, form: dict[str, str]) -> Linked: ...


@runtime_checkable
class OAuthLinker(Protocol):
    """A provider people connect through its own OAuth consent (Google, Microsoft)."""

    def authorization_url(self, redirect_uri: str, state: str) -> str: ...
    def complete(self, code: str, redirect_uri: str) -> Linked: ...


__all__ = [
    "AccountRepository",
    "ApplicationActivityRepository",
    "ApplicationRepository",
    "AuthorizationCodeRepository",
    "AvailabilityRuleRepository",
    "AvailablePeriodRepository",
    "Background",
    "CalendarPermissionRepository",
    "CalendarProvider",
    "CalendarRepository",
    "ChangeNotifier",
    "ChannelRepository",
    "ClientSecretRepository",
    "Clock",
    "ConferencingProfileRepository",
    "ConferencingProvider",
    "Connection",
    "CredentialLinker",
    "DelegatingProvider",
    "DelegationRequestRepository",
    "DeliveryRepository",
    "EventRepository",
    "GrantRepository",
    "IntegratedConferencing",
    "InvitationRepository",
    "JobQueue",
    "JobRepository",
    "Linked",
    "LoginThrottleRepository",
    "Mailer",
    "MembershipRepository",
    "MfaEnrolmentRepository",
    "OAuthLinker",
    "OrganizationalUnitRepository",
    "PasswordHasher",
    "PasswordResetRepository",
    "PersonRepository",
    "ProfileRepository",
    "ProviderCalendar",
    "ProviderChanges",
    "RateDecision",
    "RateLimiter",
    "RecoveryCodeRepository",
    "RemoteItem",
    "Repository",
    "SchedulingLinkRepository",
    "SecretBox",
    "StoreBacked",
    "TokenRepository",
    "UnitOfWork",
    "UnitOfWorkFactory",
    "WebSessionRepository",
    "WebhookResponse",
    "WebhookSender",
    "WriteResult",
]
