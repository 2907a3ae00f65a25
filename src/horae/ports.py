"""Ports: the Protocols services depend on; db/, adapters/ and worker/ implement them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from types import TracebackType
from typing import Protocol, Self, TypeVar

from horae.domain import model
from horae.domain.events import BusyRow, Event
from horae.domain.managed import AvailabilityRule, AvailablePeriod
from horae.domain.paging import Selection, Window
from horae.domain.push import Channel, Delivery, DeliveryAttempt

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


class JobQueue(Protocol):
    """Tells workers that committed jobs are waiting; losing a wake-up only delays a job."""

    def wake(self, job_ids: Sequence[str]) -> None: ...


class ChangeNotifier(Protocol):
    """Told, inside the writing transaction, that an event changed; queues push notifications."""

    def event_changed(self, uow: UnitOfWork, event: Event, changed_by: str | None) -> None: ...


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


@dataclass(frozen=True)
class ProviderCalendar:
    """A calendar as a provider created or reported it."""

    remote_id: str | None
    name: str
    readonly: bool


@dataclass(frozen=True)
class ProviderChanges:
    """What changed in a provider calendar since `cursor`: events to store, ids to drop, the next cursor.
    `complete` means the events are the whole window (a full sync), so anything not listed is gone."""

    events: list[Event]
    removed_remote_ids: list[str]
    cursor: str | None
    complete: bool


class CalendarProvider(Protocol):
    """A calendar backend (built-in, CalDAV, ICS, Google, Microsoft): one class per module in
    providers/calendars, chosen by short name, dotted path or the `horae.providers` entry point."""

    key: str
    provider_name: str  # the wire name: cronofy, apple, google, live_connect, exchange, ...
    provider_service: str
    writable: bool

    def create_calendar(self, profile: model.Profile, name: str, color: str | None) -> ProviderCalendar: ...
    def write_event(self, profile: model.Profile, calendar: model.Calendar, event: Event) -> None: ...
    def delete_event(self, profile: model.Profile, calendar: model.Calendar, event: Event) -> None: ...
    def changes(
        self, profile: model.Profile, calendar: model.Calendar, cursor: str | None, window: tuple[datetime, datetime]
    ) -> ProviderChanges: ...


class Repository(Protocol[E]):
    def add(self, item: E) -> None: ...
    def get(self, key: str) -> E | None: ...


class PersonRepository(Repository[model.Person], Protocol):
    def by_email(self, email: str) -> model.Person | None: ...


class AccountRepository(Repository[model.Account], Protocol):
    def by_person(self, person_id: str) -> model.Account | None: ...
    def by_external_id(self, application_id: str, external_id: str) -> model.Account | None: ...


class ProfileRepository(Repository[model.Profile], Protocol):
    def for_account(self, account_id: str) -> list[model.Profile]: ...


class CalendarRepository(Repository[model.Calendar], Protocol):
    def for_account(self, account_id: str) -> list[model.Calendar]: ...


class ApplicationRepository(Repository[model.Application], Protocol):
    def by_client_id(self, client_id: str) -> model.Application | None: ...
    def list_all(self) -> list[model.Application]: ...


class ClientSecretRepository(Repository[model.ClientSecret], Protocol):
    def by_digest(self, secret_digest: str) -> model.ClientSecret | None: ...
    def for_application(self, application_id: str) -> list[model.ClientSecret]: ...


class GrantRepository(Repository[model.Grant], Protocol):
    def active_for(self, account_id: str, application_id: str) -> list[model.Grant]: ...


class AuthorizationCodeRepository(Repository[model.AuthorizationCode], Protocol):
    def consume(self, code_digest: str, now: datetime) -> bool: ...


class TokenRepository(Repository[model.Token], Protocol):
    def revoke_grant(self, grant_id: str, now: datetime) -> None: ...


class WebSessionRepository(Repository[model.WebSession], Protocol):
    def delete(self, id_digest: str) -> None: ...


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
    def timed_page(
        self, selection: Selection, after: tuple[datetime, str] | None, limit: int
    ) -> tuple[list[Event], int]: ...
    def all_day_page(
        self, selection: Selection, after: tuple[date, str | None] | None, limit: int
    ) -> tuple[list[Event], int]: ...
    def irregular(self, selection: Selection) -> list[Event]: ...
    def busy(self, calendar_ids: Sequence[str], window: Window) -> tuple[list[BusyRow], list[Event]]: ...


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
    def get_for(self, account_id: str, rule_id: str) -> AvailabilityRule | None: ...
    def count(self, account_id: str) -> int: ...
    def delete(self, account_id: str, rule_id: str) -> bool: ...
    def lock_account(self, account_id: str) -> None: ...


class AvailablePeriodRepository(Protocol):
    """An account's available periods, each named by the account's own `available_period_id`."""

    def add(self, item: AvailablePeriod) -> None: ...
    def for_account(self, account_id: str, start: datetime | None, end: datetime | None) -> list[AvailablePeriod]: ...
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

    def __enter__(self) -> Self: ...
    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...
    def flush(self) -> None: ...
    def commit(self) -> None: ...


UnitOfWorkFactory = Callable[[], UnitOfWork]
