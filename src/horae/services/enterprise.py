"""Enterprise Connect: an administrator authorizes a service account over a domain's calendar server, and
the service account asks for delegated access to people and resources of that domain. Each request is a
job; its outcome (a code, or unknown_user, sync_failing, request_expired) reaches the request's callback
URL signed, through the outbox, in the same transaction that decided it."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from horae.domain import enterprise as ec
from horae.domain import ids, retry, scopes
from horae.domain.enterprise import DelegationRequest, ServiceAccount
from horae.domain.model import Account, Profile
from horae.errors import (
    FieldError,
    InvalidRequest,
    OAuthRedirect,
    PermissionDenied,
    ProviderAuthRejected,
    ProviderError,
    UnknownUser,
)
from horae.ports import Clock, Connection, DelegatingProvider, UnitOfWork, UnitOfWorkFactory
from horae.services.calendars import ProviderLookup
from horae.services.callbacks import Callbacks
from horae.services.credentials import Credentials
from horae.services.jobs import JobHandler, new_job
from horae.services.oauth import AccessContext, AuthorizeRequest, OAuthService
from horae.services.sync import CalendarSync

DELEGATE = "enterprise.delegate"
log = logging.getLogger(__name__)
# Connectors with admin-level (delegated) access: a CalDAV service user, a Google Workspace service account
# with domain-wide delegation, a Microsoft Entra application with application permissions (docs/compat.md).
ADMIN_KINDS = ("caldav", "google", "microsoft")


@dataclass(frozen=True)
class AdminRequest:
    """A checked `/enterprise_connect/oauth/authorize` request, waiting for the administrator."""

    oauth: AuthorizeRequest
    delegated_scope: str


@dataclass(frozen=True)
class AccessEntry:
    """One delegated-access request as the API received it."""

    email: str
    callback_url: str
    scope: str
    state: str | None = None


class EnterpriseService:
    """Service accounts and their delegated-access requests."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        oauth: OAuthService,
        credentials: Credentials,
        providers: ProviderLookup,
        sync: CalendarSync,
        callbacks: Callbacks,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._oauth = oauth
        self._credentials = credentials
        self._providers = providers
        self._sync = sync
        self._callbacks = callbacks

    # --- the administrator's authorization ----------------------------------------------------------------

    def check_admin_authorize(self, params: Mapping[str, str]) -> AdminRequest:
        request = self._oauth.check_authorize(params, ec.parse_service_scope)
        try:
            delegated = scopes.parse(params.get("delegated_scope", ""))
        except scopes.UnknownScope as exc:
            message = f"unknown delegated_scope {exc}"
            raise OAuthRedirect("invalid_scope", message, request.redirect_uri, request.state) from exc
        if not delegated:
            raise OAuthRedirect(
                "invalid_scope", "delegated_scope must be specified", request.redirect_uri, request.state
            )
        return AdminRequest(request, " ".join(delegated))

    def authorize_admin(self, request: AdminRequest, person_id: str, kind: str, form: dict[str, str]) -> str:
        """The administrator connected the calendar server: a service account and a code for the client."""
        domain = form.get("domain", "").strip().lower().lstrip("@")
        if not domain or ec.email_domain(f"x@{domain}") != domain:
            raise InvalidRequest.single("domain", "errors.invalid", "give the domain, e.g. example.com")
        try:
            resources = ec.parse_resources(form.get("resources", ""))
        except ValueError as exc:
            raise InvalidRequest.single("resources", "errors.invalid", str(exc)) from exc
        provider = self._providers(kind) if kind in ADMIN_KINDS else None
        if not isinstance(provider, DelegatingProvider):
            raise InvalidRequest.single("kind", "errors.unknown_provider", f"cannot connect {kind!r} with admin access")
        try:
            linked = provider.link_admin(form)
        except ProviderAuthRejected as exc:  # field-specific problems come from the provider as InvalidRequest
            field = "password" if kind == "caldav" else "connection"
            raise InvalidRequest.single(field, "errors.credentials_rejected", exc.message) from exc
        except ProviderError as exc:
            raise InvalidRequest.single("connection", "errors.unreachable", exc.message) from exc
        now = self._clock.now()
        with self._uow() as uow:
            account = Account(ids.new_id("ser"), f"service@{domain}", domain, "Etc/UTC", "service_account", now)
            account.application_id = request.oauth.application_id
            uow.accounts.add(account)
            uow.flush()
            uow.service_accounts.add(
                ServiceAccount(
                    account.id,
                    request.oauth.application_id,
                    person_id,
                    domain,
                    request.oauth.scope_text,
                    request.delegated_scope,
                    kind,
                    dict(linked.settings),
                    self._credentials.seal(dict(linked.secrets)),
                    now,
                    resources,
                )
            )
            code = self._oauth.add_code(
                uow, request.oauth.application_id, account.id, request.oauth.redirect_uri, request.oauth.scope_text
            )
            uow.commit()
            return code

    # --- the service account's API ------------------------------------------------------------------------

    def resources(self, ctx: AccessContext) -> list[dict[str, str]]:
        with self._uow() as uow:
            account = self._service_account(uow, ctx)
            return [dict(r) for r in account.resources]

    def request_access(self, ctx: AccessContext, entries: list[AccessEntry], batch: bool) -> list[str]:
        """Check every entry (422 naming the bad ones), then queue one job per entry; returns their ids."""
        if not 1 <= len(entries) <= ec.MAX_BATCH:
            raise InvalidRequest.single(
                "service_account_authorizations", "errors.invalid", f"a batch holds 1 to {ec.MAX_BATCH} requests"
            )
        now = self._clock.now()
        with self._uow() as uow:
            account = self._service_account(uow, ctx)
            problems: dict[str, list[FieldError]] = {}
            for n, entry in enumerate(entries):
                prefix = f"service_account_authorizations.{n}." if batch else ""
                for name, error in _entry_problems(account, entry):
                    problems.setdefault(prefix + name, []).append(error)
            if problems:
                raise InvalidRequest(problems)
            made = []
            for entry in entries:
                request = DelegationRequest(
                    ids.new_id("sar"),
                    account.id,
                    account.application_id,
                    entry.email.strip().lower(),
                    entry.callback_url,
                    " ".join(scopes.parse(entry.scope)),
                    entry.state,
                    ec.PENDING,
                    now,
                )
                uow.delegation_requests.add(request)
                self._next_try(uow, request, now)
                made.append(request.id)
            uow.commit()
            return made

    def _service_account(self, uow: UnitOfWork, ctx: AccessContext) -> ServiceAccount:
        account = uow.service_accounts.get(ctx.account_id) if ctx.account_id.startswith("ser_") else None
        if account is None or account.revoked_at is not None or account.application_id != ctx.application_id:
            raise PermissionDenied("a service account token is required (Enterprise Connect)")
        return account

    # --- the job ------------------------------------------------------------------------------------------

    def job_handlers(self) -> dict[str, JobHandler]:
        return {DELEGATE: self.run_request}

    def run_request(self, uow: UnitOfWork, payload: dict[str, Any]) -> None:
        """One attempt at one request. The calendar server is read outside any transaction; the outcome,
        the person's account and the callback are written in the job's."""
        with self._uow() as reading:
            request = reading.delegation_requests.get(str(payload.get("request_id", "")))
            if request is None or request.outcome != ec.PENDING or request.job_id != payload.get("job_id"):
                return  # finished, or a newer try speaks for it
            account = reading.service_accounts.get(request.service_account_id)
            earlier = reading.delegation_requests.granted_before(request.service_account_id, request.email)
        if account is None or account.revoked_at is not None:
            self._finish(uow, request.id, ec.REQUEST_EXPIRED)
            return
        if earlier is not None and earlier.account_id is not None:
            self._grant(uow, request.id, earlier.account_id)  # their account exists: no new sync needed
            return
        provider = self._providers(account.provider_key)
        assert isinstance(provider, DelegatingProvider)
        admin = self._credentials.open(account.id, account.connection, account.sealed_credentials)
        try:
            person = provider.delegate(admin, request.email)
        except UnknownUser:
            self._finish(uow, request.id, ec.UNKNOWN_USER)
            return
        except ProviderError as exc:
            self._failed_try(uow, request.id, str(exc), first_sync=False)
            return
        try:
            first = self._sync.first_pull(account.provider_key, person)
        except ProviderError as exc:
            self._failed_try(uow, request.id, str(exc), first_sync=True)
            return
        uow.delegation_requests.lock_service_account(account.id)
        stored = uow.delegation_requests.get(request.id)
        if stored is None or stored.outcome != ec.PENDING:
            return
        earlier = uow.delegation_requests.granted_before(account.id, request.email)
        if earlier is not None and earlier.account_id is not None:
            self._grant(uow, stored.id, earlier.account_id)  # another worker made their account meanwhile
            return
        profile = self._keep_person(uow, account, stored, provider.provider_name, person)
        self._sync.keep_first(uow, profile, person, first)
        self._grant(uow, stored.id, profile.account_id)

    def _keep_person(
        self, uow: UnitOfWork, service: ServiceAccount, request: DelegationRequest, wire_name: str, conn: Connection
    ) -> Profile:
        now = self._clock.now()
        resource = ec.resource_named(service, request.email)
        prefix, kind = ("res", "resource") if resource else ("acc", "account")
        name = resource["name"] if resource else request.email
        account = Account(ids.new_id(prefix), request.email, name, "Etc/UTC", kind, now)
        uow.accounts.add(account)
        profile = Profile(ids.new_id("pro"), account.id, wire_name, wire_name, service.provider_key, request.email,
                          "pending", now)  # fmt: skip
        profile.connection = dict(conn.settings)
        profile.sealed_credentials = self._credentials.seal(dict(conn.secrets))
        uow.profiles.add(profile)
        return profile

    def _grant(self, uow: UnitOfWork, request_id: str, account_id: str) -> None:
        request = uow.delegation_requests.get(request_id)
        if request is None or request.outcome != ec.PENDING:
            return
        code = self._oauth.add_code(uow, request.application_id, account_id, request.callback_url, request.scope)
        request.account_id = account_id
        self._close(uow, request, ec.GRANTED, code)

    def _finish(self, uow: UnitOfWork, request_id: str, outcome: str) -> None:
        request = uow.delegation_requests.get(request_id)
        if request is not None and request.outcome == ec.PENDING:
            self._close(uow, request, outcome, None)

    def _close(self, uow: UnitOfWork, request: DelegationRequest, outcome: str, code: str | None) -> None:
        request.outcome, request.finished_at, request.job_id = outcome, self._clock.now(), None
        body = ec.callback_body(request, code)
        self._callbacks.queue(uow, request.application_id, request.callback_url, body, "service_account_authorization")

    def _failed_try(self, uow: UnitOfWork, request_id: str, error: str, first_sync: bool) -> None:
        """The server could not be reached, or the first sync failed: try again on the retry schedule, until
        SYNC_TRIES first syncs have failed (sync_failing) or the schedule runs out (request_expired)."""
        request = uow.delegation_requests.get(request_id)
        if request is None or request.outcome != ec.PENDING:
            return
        request.tries += 1
        if first_sync:
            request.sync_failures += 1
            if request.sync_failures >= ec.SYNC_TRIES:
                self._close(uow, request, ec.SYNC_FAILING, None)
                return
        log.warning("delegated access attempt failed", extra={"request_id": request.id, "error": error[:500]})
        delay = retry.next_delay(request.tries)
        if delay is None:
            self._close(uow, request, ec.REQUEST_EXPIRED, None)
            return
        self._next_try(uow, request, self._clock.now() + delay)

    def _next_try(self, uow: UnitOfWork, request: DelegationRequest, when: datetime) -> None:
        job = new_job(self._clock, DELEGATE, {})
        job.payload = {"request_id": request.id, "job_id": job.id}
        job.run_after = when
        request.job_id = job.id
        uow.jobs.add(job)


def _entry_problems(account: ServiceAccount, entry: AccessEntry) -> list[tuple[str, FieldError]]:
    found: list[tuple[str, FieldError]] = []
    email = entry.email.strip().lower()
    resource = ec.resource_named(account, email)
    if ec.email_domain(email) is None:
        found.append(("email", FieldError("errors.invalid", "email must be an email address")))
    elif resource is None and ec.email_domain(email) != account.domain:
        found.append(("email", FieldError("errors.invalid", f"email must be in the domain {account.domain}")))
    wanted = "resources" if resource else "accounts"
    if not any(word.startswith(f"service_account/{wanted}/") for word in account.scope.split()) and not (
        wanted == "accounts" and "service_account/manage_accounts" in account.scope.split()
    ):
        found.append(("email", FieldError("errors.forbidden", f"the service account may not manage {wanted}")))
    if not entry.callback_url.startswith(("https://", "http://")):
        found.append(("callback_url", FieldError("errors.invalid", "callback_url must be an http(s) URL")))
    try:
        if not scopes.parse(entry.scope):
            found.append(("scope", FieldError("errors.required", "scope must be specified")))
        elif not ec.within(entry.scope, account.delegated_scope):
            message = f"scope must be within the delegated_scope granted: {account.delegated_scope}"
            found.append(("scope", FieldError("errors.outside_delegated_scope", message)))
    except scopes.UnknownScope as exc:
        found.append(("scope", FieldError("errors.invalid", f"unknown scope {exc}")))
    return found
