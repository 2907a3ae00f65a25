"""Elevated calendar permissions (`POST /v1/permissions`): granted at once for accounts a service account with
`unrestricted_access` connected, otherwise through a link where the person decides."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from horae.domain import ids
from horae.domain import permissions as perm
from horae.domain.permissions import CalendarPermission, PermissionRequest
from horae.errors import FieldError, InvalidRequest, NotFound, PermissionDenied
from horae.ports import Clock, UnitOfWork, UnitOfWorkFactory
from horae.services.oauth import AccessContext


@dataclass(frozen=True)
class Wanted:
    """One entry of a permissions request as the API received it."""

    calendar_id: str
    permission_level: str


@dataclass(frozen=True)
class Asked:
    """The answer to a permissions request: granted at once, or the id of the request the person decides."""

    accepted: bool
    request_id: str | None = None


@dataclass(frozen=True)
class PendingView:
    """What the decision page shows: who asks, for which calendars, of whose account."""

    request: PermissionRequest
    application_name: str
    calendar_names: list[str]


class PermissionService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    def request(self, ctx: AccessContext, wanted: list[Wanted], redirect_uri: str | None) -> Asked:
        if ctx.account_id.startswith("ser_"):
            raise PermissionDenied("a service account has no calendars; ask with the person's account token")
        now = self._clock.now()
        with self._uow() as uow:
            mine = {c.id for c in uow.calendars.for_account(ctx.account_id) if not c.deleted}
            _check(wanted, mine, redirect_uri)
            lowered = [w.calendar_id for w in wanted if w.permission_level == perm.SANDBOX]
            raised = list(dict.fromkeys(w.calendar_id for w in wanted if w.permission_level == perm.UNRESTRICTED))
            if lowered:
                uow.calendar_permissions.revoke(ctx.application_id, lowered)  # lowering needs no consent
            missing = [c for c in raised if c not in uow.calendar_permissions.unrestricted(ctx.application_id, raised)]
            if not missing:
                uow.commit()
                return Asked(accepted=True)
            delegated = uow.delegation_requests.granted_to(ctx.account_id, ctx.application_id)
            if delegated is not None:
                self._grant_for_service_account(uow, ctx, delegated.service_account_id, missing)
                uow.commit()
                return Asked(accepted=True)
            request = PermissionRequest(
                ids.new_id("prq"), ctx.account_id, ctx.application_id, missing, redirect_uri, now,
                now + perm.REQUEST_LIFETIME,
            )  # fmt: skip
            uow.permission_requests.add(request)
            uow.commit()
            return Asked(accepted=False, request_id=request.id)

    def _grant_for_service_account(
        self, uow: UnitOfWork, ctx: AccessContext, service_account_id: str, calendar_ids: list[str]
    ) -> None:
        """Accounts a service account connected get what its administrator allowed, without asking anyone."""
        service = uow.service_accounts.get(service_account_id)
        account = uow.accounts.get(ctx.account_id)
        needed = perm.UNRESTRICTED_SCOPES.get(account.kind if account else "", "")
        if service is None or service.revoked_at is not None or needed not in service.scope.split():
            raise PermissionDenied(f"the administrator did not grant {needed or 'unrestricted access'}")
        self._grant(uow, ctx.application_id, calendar_ids)

    def _grant(self, uow: UnitOfWork, application_id: str, calendar_ids: Collection[str]) -> None:
        now = self._clock.now()
        for calendar_id in calendar_ids:
            uow.calendar_permissions.grant(CalendarPermission(calendar_id, application_id, now))

    # --- the person's decision ----------------------------------------------------------------------------

    def pending(self, request_id: str, account_id: str) -> PendingView:
        """The open request for the signed-in person's account (NotFound for any other, or a closed one)."""
        with self._uow() as uow:
            request = self._open(uow, request_id, account_id)
            application = uow.applications.get(request.application_id)
            calendars = [uow.calendars.get(c) for c in request.calendar_ids]
            names = [c.name for c in calendars if c is not None and not c.deleted]
            return PendingView(request, application.name if application else "An application", names)

    def decide(self, request_id: str, account_id: str, allow: bool) -> str | None:
        """Record the person's answer; returns where to send them next (the application's redirect_uri)."""
        with self._uow() as uow:
            request = self._open(uow, request_id, account_id)
            if allow:
                live = {c.id for c in uow.calendars.for_account(account_id) if not c.deleted}
                self._grant(uow, request.application_id, [c for c in request.calendar_ids if c in live])
            request.outcome = perm.GRANTED if allow else perm.DECLINED
            request.decided_at = self._clock.now()
            uow.commit()
            return request.redirect_uri

    def _open(self, uow: UnitOfWork, request_id: str, account_id: str) -> PermissionRequest:
        request = uow.permission_requests.get(request_id)
        if request is None or request.account_id != account_id:
            raise NotFound("no such permission request for this account")
        if not request.open(self._clock.now()):
            raise NotFound("this permission request was answered already, or has expired")
        return request


def _check(wanted: list[Wanted], mine: set[str], redirect_uri: str | None) -> None:
    if not 1 <= len(wanted) <= perm.MAX_CALENDARS:
        raise InvalidRequest.single("permissions", "errors.invalid", f"name 1 to {perm.MAX_CALENDARS} calendars")
    problems: dict[str, list[FieldError]] = {}
    for n, entry in enumerate(wanted):
        if entry.calendar_id not in mine:
            problems[f"permissions.{n}.calendar_id"] = [
                FieldError("errors.unknown_calendar", f"no calendar {entry.calendar_id} in this account")
            ]
        if entry.permission_level not in perm.LEVELS:
            problems[f"permissions.{n}.permission_level"] = [
                FieldError("errors.invalid", f"permission_level must be one of {', '.join(perm.LEVELS)}")
            ]
    if redirect_uri is not None and not redirect_uri.startswith(("https://", "http://")):
        problems["redirect_uri"] = [FieldError("errors.invalid", "redirect_uri must be an http(s) URL")]
    if problems:
        raise InvalidRequest(problems)
