"""Composition root: settings in, a wired Container out; also migrations and the demo seed."""

from __future__ import annotations

import base64
import gc
import hashlib
import hmac
import threading
from datetime import timedelta
from pathlib import Path

import redis
from alembic import command
from alembic.config import Config
from huey import Huey

from horae.adapters.clock import SystemClock
from horae.adapters.mail import build_mailer
from horae.adapters.passwords import Argon2PasswordHasher
from horae.adapters.ratelimit import MemoryRateLimiter, RedisRateLimiter
from horae.adapters.secretbox import AesGcmSecretBox, load_or_create_key
from horae.adapters.webhooks import HttpxWebhookSender
from horae.container import Container
from horae.db.engine import make_engine
from horae.db.mapping import start_mappers
from horae.db.uow import SqlUnitOfWorkFactory
from horae.domain.conferencing import WIRE_NAMES
from horae.ports import CalendarProvider, Clock, ConferencingProvider, RateLimiter, StoreBacked, UnitOfWorkFactory
from horae.providers.calendars import load_calendar_provider
from horae.providers.conferencing import load_conferencing_provider
from horae.services.account_security import AccountSecurityService
from horae.services.accounts import AccountService
from horae.services.applications import ApplicationService
from horae.services.availability import AvailabilityService
from horae.services.calendars import CalendarService
from horae.services.callbacks import Callbacks
from horae.services.conferencing import ConferencingService
from horae.services.conferencing_profiles import ConferencingProfiles
from horae.services.connections import ConnectionService
from horae.services.credentials import Credentials
from horae.services.element_tokens import ElementTokenService
from horae.services.enterprise import EnterpriseService
from horae.services.event_reads import EventReadService
from horae.services.events import EventService
from horae.services.identity import REVOKE_PROFILE, IdentityService
from horae.services.jobs import JobHandler, JobRunner
from horae.services.managed_availability import ManagedAvailabilityService
from horae.services.mfa import MfaService
from horae.services.oauth import OAuthService
from horae.services.organizations import OrganizationService
from horae.services.permissions import PermissionService
from horae.services.profile_settings import ProfileSettingsService
from horae.services.push import PushService
from horae.services.scheduling_links import SchedulingLinkService
from horae.services.sync import CalendarSync, SyncOptions
from horae.services.unit_applications import UnitApplicationService
from horae.settings import Settings
from horae.worker import consumer
from horae.worker.consumer import EmbeddedWorker
from horae.worker.queue import HueyJobQueue, build_huey

MIGRATIONS = Path(__file__).parent / "db" / "migrations"


def master_key(settings: Settings) -> bytes:
    """The 32-byte master key: from settings, or generated into the data directory on first run."""
    if settings.secret_key:
        return base64.b64decode(settings.secret_key)
    return load_or_create_key(settings.data_dir / "master.key")


def settle_garbage_collector() -> None:
    """Keep the collector off the long-lived start-up heap (modules, mappings, the app), for processes that
    serve: without this, reads that make tens of thousands of small rows (availability) spend half their
    time in full collections rescanning it. Measured in bench/availability.py: the busy read of 100 people
    over 90 days goes from ~145 ms to ~70 ms."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 20, 20)


def migrate(settings: Settings) -> None:
    """Bring the database schema up to date (`horae migrate`; `serve` does it on start)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["url"] = settings.resolved_database_url()
    command.upgrade(config, "head")


def build(settings: Settings, clock: Clock | None = None) -> Container:
    """Wire adapters and services for the deployment the settings describe."""
    return _wire(settings, clock)[0]


def run_worker(settings: Settings) -> None:
    """`horae worker`: consume jobs in the foreground until SIGTERM or SIGINT."""
    container, huey = _wire(settings, None)
    consumer.run_worker(huey, container.runner, settings.worker_threads, settings.job_poll_seconds)


def _wire(settings: Settings, clock: Clock | None) -> tuple[Container, Huey]:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    start_mappers()
    clock = clock or SystemClock()
    key = master_key(settings)
    box = AesGcmSecretBox(key)
    engine = make_engine(settings.resolved_database_url())
    huey = build_huey(settings.queue_url, settings.data_dir)
    queue = HueyJobQueue(huey)
    uow = SqlUnitOfWorkFactory(engine, queue)
    hasher = Argon2PasswordHasher(settings.password_time_cost, settings.password_memory_cost)
    mailer = build_mailer(settings.smtp_url, settings.mail_from)
    applications = ApplicationService(uow, clock, box)
    oauth = OAuthService(uow, clock, applications, settings.access_token_ttl_seconds)
    providers = ProviderRegistry(settings, uow, clock)
    credentials = Credentials(box)
    calendars = CalendarService(uow, clock, providers, applications, oauth, credentials)
    push = PushService(
        uow,
        clock,
        applications,
        HttpxWebhookSender(settings.push_timeout_seconds, loopback_only=settings.callbacks_loopback_only),
        dev_mode=settings.dev_mode,
    )
    sync = CalendarSync(uow, clock, credentials, providers, push, sync_options(settings))
    connections = ConnectionService(
        uow,
        clock,
        credentials,
        providers,
        sync,
        hmac.new(key, b"horae provider oauth state", hashlib.sha256).digest(),
        oauth_kinds=[k for k in ("google", "microsoft") if settings.provider_options(k).get("client_id")],
    )
    events = EventService(uow, clock, calendars, push, sync.queue_write)
    callbacks = Callbacks(clock, applications, push.sender)
    conference_providers = ConferencingRegistry(settings)
    conferencing_profiles = ConferencingProfiles(
        uow,
        clock,
        conference_providers,
        tuple(k for k in WIRE_NAMES if settings.provider_options(k).get("client_id")),
        credentials,
        push,
        hmac.new(key, b"horae conferencing links", hashlib.sha256).digest(),
    )
    conferencing = ConferencingService(
        uow, clock, conference_providers, settings.builtin_conferencing, callbacks, sync.queue_write, push,
        conferencing_profiles, calendars=providers,
    )  # fmt: skip
    events.hooks = conferencing
    sync.conferences = conferencing  # a calendar's own conference (Google Meet) is reported back to it
    enterprise = EnterpriseService(uow, clock, oauth, credentials, providers, sync, callbacks)
    identity = IdentityService(uow, clock)
    handlers: dict[str, JobHandler] = {
        REVOKE_PROFILE: identity.finish_profile_revoke,
        **push.job_handlers(),
        **sync.job_handlers(),
        **callbacks.job_handlers(),
        **enterprise.job_handlers(),
        **conferencing.job_handlers(),
    }
    lease = timedelta(seconds=settings.job_lease_seconds)
    give_up = {**push.give_up_handlers(), **sync.give_up_handlers(), **callbacks.give_up_handlers()}
    runner = JobRunner(uow, clock, handlers, lease=lease, give_up=give_up)
    queue.bind(runner.run)
    availability = AvailabilityService(uow, clock)
    container = Container(
        settings=settings,
        clock=clock,
        uow=uow,
        applications=applications,
        accounts=AccountService(uow, clock, hasher),
        oauth=oauth,
        calendars=calendars,
        events=events,
        event_reads=EventReadService(uow, clock, hmac.new(key, b"horae page tokens", hashlib.sha256).digest()),
        availability=availability,
        managed_availability=ManagedAvailabilityService(
            uow, clock, hmac.new(key, b"horae available period pages", hashlib.sha256).digest()
        ),
        push=push,
        sync=sync,
        connections=connections,
        callbacks=callbacks,
        enterprise=enterprise,
        conferencing=conferencing,
        conferencing_profiles=conferencing_profiles,
        permissions=PermissionService(uow, clock),
        profile_settings=ProfileSettingsService(uow, clock, hasher),
        identity=identity,
        runner=runner,
        rate_limiter=_rate_limiter(settings),
        background=EmbeddedWorker(huey, runner, settings.worker_threads, settings.job_poll_seconds),
        session_secret=hmac.new(key, b"horae web sessions", hashlib.sha256).hexdigest(),
        mailer=mailer,
        mfa=MfaService(uow, clock, box, hasher),
        account_security=AccountSecurityService(uow, clock, hasher, mailer),
        organizations=OrganizationService(uow, clock, mailer, mail_configured=bool(settings.smtp_url)),
        unit_applications=UnitApplicationService(uow, applications),
        scheduling_links=SchedulingLinkService(uow, clock, availability, events, callbacks, box),
        element_tokens=ElementTokenService(uow, clock, hmac.new(key, b"horae element tokens", hashlib.sha256).digest()),
    )
    return container, huey


def _rate_limiter(settings: Settings) -> RateLimiter:
    url = settings.resolved_redis_url()
    if url:
        return RedisRateLimiter(
            redis.Redis.from_url(url), settings.rate_limit_per_second, settings.rate_limit_per_minute
        )
    return MemoryRateLimiter(settings.rate_limit_per_second, settings.rate_limit_per_minute)


def sync_options(settings: Settings) -> SyncOptions:
    return SyncOptions(
        days_back=settings.sync_days_back,
        days_ahead=settings.sync_days_ahead,
        poll_every=timedelta(seconds=settings.sync_poll_seconds),
        full_pass_every=timedelta(hours=settings.sync_full_pass_hours),
    )


class ConferencingRegistry:
    """Conferencing providers by key, each loaded once with its options (`{key}_*` settings)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._loaded: dict[str, ConferencingProvider] = {}
        self._lock = threading.Lock()

    def __call__(self, key: str) -> ConferencingProvider:
        with self._lock:
            if key not in self._loaded:
                self._loaded[key] = load_conferencing_provider(key, self._settings.provider_options(key))
            return self._loaded[key]


class ProviderRegistry:
    """Calendar providers by key, each loaded once (short name, entry point or dotted path) with its options."""

    def __init__(self, settings: Settings, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._settings = settings
        self._uow = uow
        self._clock = clock
        self._loaded: dict[str, CalendarProvider] = {}
        self._lock = threading.Lock()

    def __call__(self, key: str) -> CalendarProvider:
        with self._lock:
            if key not in self._loaded:
                provider = load_calendar_provider(key, self._settings.provider_options(key))
                if isinstance(provider, StoreBacked):
                    provider.bind(self._uow, self._clock)
                self._loaded[key] = provider
            return self._loaded[key]
