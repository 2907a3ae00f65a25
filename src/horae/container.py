"""The assembled application: services and adapters that entry points (API, pages, worker) use."""

from __future__ import annotations

from dataclasses import dataclass

from horae.ports import Background, Clock, Mailer, RateLimiter, UnitOfWorkFactory
from horae.services.account_security import AccountSecurityService
from horae.services.accounts import AccountService
from horae.services.applications import ApplicationService
from horae.services.availability import AvailabilityService
from horae.services.calendars import CalendarService
from horae.services.callbacks import Callbacks
from horae.services.conferencing import ConferencingService
from horae.services.conferencing_profiles import ConferencingProfiles
from horae.services.connections import ConnectionService
from horae.services.element_tokens import ElementTokenService
from horae.services.enterprise import EnterpriseService
from horae.services.event_reads import EventReadService
from horae.services.events import EventService
from horae.services.identity import IdentityService
from horae.services.jobs import JobRunner
from horae.services.managed_availability import ManagedAvailabilityService
from horae.services.mfa import MfaService
from horae.services.oauth import OAuthService
from horae.services.organizations import OrganizationService
from horae.services.permissions import PermissionService
from horae.services.profile_settings import ProfileSettingsService
from horae.services.push import PushService
from horae.services.scheduling_links import SchedulingLinkService
from horae.services.sync import CalendarSync
from horae.services.unit_applications import UnitApplicationService
from horae.settings import Settings


@dataclass
class Container:
    """Everything an entry point needs, built once by bootstrap."""

    settings: Settings
    clock: Clock
    uow: UnitOfWorkFactory
    applications: ApplicationService
    accounts: AccountService
    oauth: OAuthService
    identity: IdentityService
    calendars: CalendarService
    events: EventService
    event_reads: EventReadService
    availability: AvailabilityService
    managed_availability: ManagedAvailabilityService
    push: PushService
    sync: CalendarSync
    connections: ConnectionService
    callbacks: Callbacks
    enterprise: EnterpriseService
    conferencing: ConferencingService
    conferencing_profiles: ConferencingProfiles
    permissions: PermissionService
    profile_settings: ProfileSettingsService
    runner: JobRunner
    rate_limiter: RateLimiter
    background: Background
    session_secret: str
    mailer: Mailer
    mfa: MfaService
    account_security: AccountSecurityService
    organizations: OrganizationService
    unit_applications: UnitApplicationService
    scheduling_links: SchedulingLinkService
    element_tokens: ElementTokenService
