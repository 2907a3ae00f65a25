"""Ports: the Protocols services depend on; db/, adapters/ and worker/ implement them."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from types import TracebackType
from typing import Protocol, Self, TypeVar, runtime_checkable

from horae.domain import model
from horae.domain.conferencing import ConferencingProfile, Meeting, Provisioned
from horae.domain.enterprise import DelegationRequest, ServiceAccount
from horae.domain.events import BusyRow, Event, SeriesRow
from horae.domain.integrated import RemoteConference
from horae.domain.managed import AvailabilityRule, AvailablePeriod
from horae.domain.organizations import Invitation, Membership, OrganizationalUnit
from horae.domain.paging import Selection, Window
from horae.domain.permissions import CalendarPermission, PermissionRequest
from horae.domain.push import Channel, Delivery, DeliveryAttempt
from horae.domain.remote import RemoteEvent
from horae.domain.security import LoginThrottle, MfaEnrolment, PasswordReset, RecoveryCode

E = TypeVar("E")


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


class Repository(Protocol[E]):
    def add(self, item: E) -> None: ...
    def get(self, key: str) -> E | None: ...


class PersonRepository(Repository[model.Person], Protocol):
    def by_email(self, email: str) -> model.Person | None: ...


class AccountRepository(Repository[model.Account], Protocol):
    def by_person(self, person_id: str) -> model.Account | None: ...
    def by_external_id(self, application_id: str, external_id: str) -> model.Account | None: ...
    def many(self, account_ids: Sequence[str]) -> list[model.Account]: ...


class ProfileRepository(Repository[model.Profile], Protocol):
    def for_account(self, account_id: str) -> list[model.Profile]: ...
    def for_accounts(self, account_ids: Sequence[str]) -> list[model.Profile]: ...


class CalendarRepository(Repository[model.Calendar], Protocol):
    def for_account(self, account_id: str) -> list[model.Calendar]: ...
    def for_accounts(self, account_ids: Sequence[str]) -> list[model.Calendar]: ...


class ApplicationRepository(Repository[model.Application], Protocol):
    def by_client_id(self, client_id: str) -> model.Application | None: ...
    def list_all(self) -> list[model.Application]: ...


class ClientSecretRepository(Repository[model.ClientSecret], Protocol):
    def by_digest(self, secret_digest: str) -> model.ClientSecret | None: ...
    def for_application(self, application_id: str) -> list[model.ClientSecret]: ...


class GrantRepository(Repository[model.Grant], Protocol):
    def active_for(self, account_id: str, application_id: str) -> list[model.Grant]: ...
    def active_for_accounts(self, account_ids: Sequence[str], application_id: str) -> list[model.Grant]: ...


class AuthorizationCodeRepository(Repository[model.AuthorizationCode], Protocol):
    def consume(self, code_digest: str, now: datetime) -> bool: ...


class TokenRepository(Repository[model.Token], Protocol):
    def revoke_grant(self, grant_id: str, now: datetime) -> None: ...


class WebSessionRepository(Repository[model.WebSession], Protocol):
    def delete(self, id_digest: str) -> None: ...
    def delete_for_person(self, person_id: str, keep: str | None = None) -> int: ...


class JobRepository(Repository[model.Job], Protocol):
    def claim(self, job_id: str, now: datetime, lease: timedelta) -> bool: ...
    def finish(self, job_id: str, attempt: int, now: datetime, outcome: dict[str, object]) -> bool: ...
    def due(self, now: datetime, limit: int) -> Sequence[str]: ...
    def counts(self) -> dict[str, int]: ...


class EventRepository(Repository[Event], Protocol):
    def managed(self, calendar_id: str, application_id: str, event_id: str) -> Event | None: ...
    def by_uid(self, event_uid: str) -> Event | None: ...
    def in_calendars(self, calendar_ids: Sequence[str], include_deleted: bool = False) -> list[Event]: ...
    def changed_since(self, calendar_ids: Sequence[str], since: datetime) -> list[Event]: ...
    def by_remote_ids(self, calendar_id: str, remote_ids: Sequence[str]) -> list[Event]: ...
    def synced(self, calendar_id: str) -> list[Event]: ...
    def timed_page(
        self, selection: Selection, after: tuple[datetime, str] | None, limit: int
    ) -> tuple[list[Event], int]: ...
    def all_day_page(
        self, selection: Selection, after: tuple[date, str | None] | None, limit: int
    ) -> tuple[list[Event], int]: ...
    def irregular(self, selection: Selection) -> list[Event]: ...
    def busy(self, calendar_ids: Sequence[str], window: Window) -> tuple[list[BusyRow], list[SeriesRow]]: ...
    def many(self, event_ids: Sequence[str]) -> list[Event]: ...


class ChannelRepository(Repository[Channel], Protocol):
    def open_for_account(self, account_id: str) -> list[Channel]: ...
    def any_open(self, account_id: str) -> bool: ...
    def count_open(self, account_id: str) -> int: ...
    def lock_account(self, account_id: str) -> None: ...
    def for_application(self, account_id: str, application_id: str, include_closed: bool) -> list[Channel]: ...


class DeliveryRepository(Repository[Delivery], Protocol):
    def for_channel(self, channel_id: str, limit: int) -> list[Delivery]: ...
    def attempts(self, delivery_ids: Sequence[str]) -> list[DeliveryAttempt]: ...
    def add_attempt(self, attempt: DeliveryAttempt) -> None: ...


class AvailabilityRuleRepository(Protocol):
    """An account's availability rules, each named by the account's own `availability_rule_id`."""

    def add(self, item: AvailabilityRule) -> None: ...
    def for_account(self, account_id: str) -> list[AvailabilityRule]: ...
    def for_accounts(self, account_ids: Sequence[str]) -> list[AvailabilityRule]: ...
    def get_for(self, account_id: str, rule_id: str) -> AvailabilityRule | None: ...
    def count(self, account_id: str) -> int: ...
    def delete(self, account_id: str, rule_id: str) -> bool: ...
    def lock_account(self, account_id: str) -> None: ...


class AvailablePeriodRepository(Protocol):
    """An account's available periods, each named by the account's own `available_period_id`."""

    def add(self, item: AvailablePeriod) -> None: ...
    def for_account(self, account_id: str, start: datetime | None, end: datetime | None) -> list[AvailablePeriod]: ...
    def for_accounts(
        self, account_ids: Sequence[str], start: datetime | None, end: datetime | None
    ) -> list[AvailablePeriod]: ...
    def page(
        self,
        account_id: str,
        start: datetime | None,
        end: datetime | None,
        after: tuple[datetime, str] | None,
        limit: int,
    ) -> tuple[list[AvailablePeriod], int]: ...
    def get_for(self, account_id: str, period_id: str) -> AvailablePeriod | None: ...
    def delete(self, account_id: str, period_id: str) -> bool: ...
    def delete_all(self, account_id: str) -> int: ...
    def lock_account(self, account_id: str) -> None: ...


class DelegationRequestRepository(Repository[DelegationRequest], Protocol):
    def granted_before(self, service_account_id: str, email: str) -> DelegationRequest | None: ...
    def lock_service_account(self, service_account_id: str) -> None: ...
    def granted_to(self, account_id: str, application_id: str) -> DelegationRequest | None: ...


class ConferencingProfileRepository(Repository[ConferencingProfile], Protocol):
    def for_account(self, account_id: str) -> list[ConferencingProfile]: ...


class CalendarPermissionRepository(Protocol):
    def unrestricted(self, application_id: str, calendar_ids: Collection[str]) -> set[str]: ...
    def grant(self, item: CalendarPermission) -> None: ...
    def revoke(self, application_id: str, calendar_ids: Collection[str]) -> None: ...


class LoginThrottleRepository(Repository[LoginThrottle], Protocol):
    def for_update(self, key: str, now: datetime) -> LoginThrottle: ...
    def delete(self, key: str) -> None: ...


class MfaEnrolmentRepository(Repository[MfaEnrolment], Protocol):
    def for_update(self, person_id: str) -> MfaEnrolment | None: ...
    def delete(self, person_id: str) -> None: ...


class RecoveryCodeRepository(Repository[RecoveryCode], Protocol):
    def consume(self, person_id: str, code_digest: str, now: datetime) -> bool: ...
    def unused(self, person_id: str) -> int: ...
    def delete_for(self, person_id: str) -> None: ...


class PasswordResetRepository(Repository[PasswordReset], Protocol):
    def consume(self, token_digest: str, now: datetime) -> bool: ...
    def latest_created(self, person_id: str) -> datetime | None: ...
    def void_for(self, person_id: str, now: datetime) -> None: ...


class OrganizationalUnitRepository(Repository[OrganizationalUnit], Protocol):
    def add_if_missing(self, unit: OrganizationalUnit) -> None: ...
    def list_all(self) -> list[OrganizationalUnit]: ...
    def many(self, unit_ids: list[str]) -> list[OrganizationalUnit]: ...
    def lock(self, unit_id: str) -> None: ...
    def applications(self, unit_id: str) -> list[model.Application]: ...


class MembershipRepository(Protocol):
    def add(self, item: Membership) -> None: ...
    def of(self, unit_id: str, person_id: str) -> Membership | None: ...
    def for_unit(self, unit_id: str) -> list[Membership]: ...
    def for_person(self, person_id: str) -> list[Membership]: ...
    def with_people(self, unit_id: str) -> list[tuple[Membership, model.Person]]: ...
    def remove(self, item: Membership) -> None: ...


class InvitationRepository(Repository[Invitation], Protocol):
    def by_digest(self, token_digest: str) -> Invitation | None: ...
    def pending_for_unit(self, unit_id: str, now: datetime) -> list[Invitation]: ...
    def accept(self, invitation_id: str, person_id: str, now: datetime) -> bool: ...


class ApplicationActivityRepository(Protocol):
    def connected_accounts(self, application_id: str, limit: int) -> list[model.Account]: ...
    def recent_deliveries(self, application_id: str, limit: int) -> list[Delivery]: ...


class UnitOfWork(Protocol):
    """One transaction and the repositories that work inside it."""

    @property
    def people(self) -> PersonRepository: ...
    @property
    def accounts(self) -> AccountRepository: ...
    @property
    def profiles(self) -> ProfileRepository: ...
    @property
    def calendars(self) -> CalendarRepository: ...
    @property
    def applications(self) -> ApplicationRepository: ...
    @property
    def client_secrets(self) -> ClientSecretRepository: ...
    @property
    def grants(self) -> GrantRepository: ...
    @property
    def codes(self) -> AuthorizationCodeRepository: ...
    @property
    def tokens(self) -> TokenRepository: ...
    @property
    def web_sessions(self) -> WebSessionRepository: ...
    @property
    def jobs(self) -> JobRepository: ...
    @property
    def events(self) -> EventRepository: ...
    @property
    def channels(self) -> ChannelRepository: ...
    @property
    def deliveries(self) -> DeliveryRepository: ...
    @property
    def availability_rules(self) -> AvailabilityRuleRepository: ...
    @property
    def available_periods(self) -> AvailablePeriodRepository: ...
    @property
    def service_accounts(self) -> Repository[ServiceAccount]: ...
    @property
    def delegation_requests(self) -> DelegationRequestRepository: ...
    @property
    def calendar_permissions(self) -> CalendarPermissionRepository: ...
    @property
    def permission_requests(self) -> Repository[PermissionRequest]: ...
    @property
    def conferencing_profiles(self) -> ConferencingProfileRepository: ...
    @property
    def login_throttles(self) -> LoginThrottleRepository: ...
    @property
    def mfa_enrolments(self) -> MfaEnrolmentRepository: ...
    @property
    def recovery_codes(self) -> RecoveryCodeRepository: ...
    @property
    def password_resets(self) -> PasswordResetRepository: ...
    @property
    def units(self) -> OrganizationalUnitRepository: ...
    @property
    def memberships(self) -> MembershipRepository: ...
    @property
    def invitations(self) -> InvitationRepository: ...
    @property
    def app_activity(self) -> ApplicationActivityRepository: ...

    def __enter__(self) -> Self: ...
    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...
    def flush(self) -> None: ...
    def commit(self) -> None: ...


UnitOfWorkFactory = Callable[[], UnitOfWork]
