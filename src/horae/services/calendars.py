"""Calendars: listing and creating them, and application calendars (accounts owned by an application)."""

from __future__ import annotations

from collections.abc import Callable

from horae.domain import scopes
from horae.domain.model import Calendar, Profile
from horae.errors import InvalidRequest, Locked, NotFound, PermissionDenied, ProviderError
from horae.ports import CalendarProvider, Clock, UnitOfWork, UnitOfWorkFactory
from horae.services.accounts import new_calendar, provision_account
from horae.services.applications import ApplicationService
from horae.services.credentials import Credentials
from horae.services.oauth import AccessContext, OAuthService, TokenGrant

ProviderLookup = Callable[[str], CalendarProvider]
MAX_NAME = 1024


class CalendarService:
    """What an application may do with the calendars of an account it is authorized for."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        providers: ProviderLookup,
        applications: ApplicationService,
        oauth: OAuthService,
        credentials: Credentials,
    ) -> None:
        self._credentials = credentials
        self._uow = uow
        self._clock = clock
        self._providers = providers
        self._apps = applications
        self._oauth = oauth

    def list(self, ctx: AccessContext) -> tuple[list[Calendar], dict[str, Profile], set[str]]:
        """The account's calendars, with their profiles by id, and those where the caller has unrestricted
        permission."""
        _need_any(ctx, "list_calendars", "read_events", "read_free_busy", "create_event")
        with self._uow() as uow:
            profiles = {p.id: p for p in uow.profiles.for_account(ctx.account_id)}
            calendars = uow.calendars.for_account(ctx.account_id)
            unrestricted = uow.calendar_permissions.unrestricted(ctx.application_id, [c.id for c in calendars])
            return calendars, profiles, unrestricted

    def create(self, ctx: AccessContext, profile_id: str, name: str, color: str | None) -> tuple[Calendar, Profile]:
        ctx.require("create_calendar")
        name = name.strip()
        if not name:
            raise InvalidRequest.single("name", "errors.required", "name must be specified")
        if len(name) > MAX_NAME:
            raise InvalidRequest.single("name", "errors.too_long", f"name must be at most {MAX_NAME} characters")
        with self._uow() as uow:
            profile = uow.profiles.get(profile_id)
            if profile is None or profile.account_id != ctx.account_id:
                raise InvalidRequest.single("profile_id", "errors.not_found", f"no profile {profile_id}")
            provider = self._providers(profile.provider_key)
            if not profile.connected or not provider.writable:
                raise Locked(f"profile {profile_id} cannot have calendars created in it now")
            taken = {c.name.casefold() for c in uow.calendars.for_account(ctx.account_id) if not c.deleted}
            if name.casefold() in taken:
                raise InvalidRequest.single(
                    "name", "errors.duplicate_calendar_name", f"a calendar named {name!r} already exists"
                )
            try:
                conn = self._credentials.connection(profile)
                made = provider.create_calendar(conn, name, color)
                self._credentials.keep(profile, conn)
            except ProviderError as exc:
                raise Locked(f"the calendar service did not create the calendar: {exc.message}") from exc
            calendar = new_calendar(profile, made.name, self._clock, primary=False)
            calendar.readonly = made.readonly
            calendar.remote_id = made.remote_id
            if color:
                calendar.color = color
            uow.calendars.add(calendar)
            uow.commit()
            return calendar, profile

    def application_calendar(self, client_id: str, client_secret: str, external_id: str) -> TokenGrant:
        """Create, or find again, the application's calendar account named `external_id`; new tokens."""
        with self._uow() as uow:
            app = self._apps.authenticate_client(uow, client_id, client_secret)
            if not external_id:
                raise InvalidRequest.single(
                    "application_calendar_id", "errors.required", "application_calendar_id must be specified"
                )
            account = uow.accounts.by_external_id(app.id, external_id)
            if account is None:
                account = provision_account(
                    uow, self._clock, email="", name=external_id, kind="application_calendar", prefix="apc"
                )
                account.application_id = app.id
                account.external_id = external_id
                uow.commit()
            account_id, application_id = account.id, app.id
        return self._oauth.issue_direct_grant(account_id, application_id, scopes.ALL_SCOPES, self._oauth.access_ttl)

    def calendar_for_write(self, uow: UnitOfWork, ctx: AccessContext, calendar_id: str) -> tuple[Calendar, Profile]:
        """The caller's calendar, if it can be written; NotFound or PermissionDenied otherwise."""
        calendar = uow.calendars.get(calendar_id)
        if calendar is None or calendar.account_id != ctx.account_id:
            raise NotFound(f"no calendar {calendar_id}")
        profile = uow.profiles.get(calendar.profile_id)
        assert profile is not None
        if calendar.readonly or calendar.deleted:
            raise PermissionDenied(f"calendar {calendar_id} is read-only")
        if not profile.connected:
            raise Locked(f"the profile of calendar {calendar_id} is disconnected")
        return calendar, profile


def _need_any(ctx: AccessContext, *permissions: str) -> None:
    if not any(p in ctx.permissions for p in permissions):
        raise PermissionDenied(f"one of the scopes {', '.join(permissions)} is required")
