"""Enterprise Connect: service accounts (`ser_...`) that an administrator authorizes for a domain, and the
delegated-access requests they make for that domain's people and resources, with their outcomes."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from horae.domain import scopes

# The service-account scopes Cronofy documents, plus the older spelling its Ruby samples use.
SERVICE_SCOPES: dict[str, str] = {
    "service_account/accounts/manage": "Connect the calendars of people in your domain",
    "service_account/accounts/unrestricted_access": "Read and change any event of people in your domain",
    "service_account/resources/manage": "Connect your domain's rooms and resources",
    "service_account/resources/unrestricted_access": "Read and change any event of your rooms and resources",
    "service_account/manage_accounts": "Connect the calendars of people in your domain",
}
MAX_BATCH = 50

# Outcomes of a delegated-access request; the three failures are the callback's `error` keys.
PENDING, GRANTED = "pending", "granted"
UNKNOWN_USER, SYNC_FAILING, REQUEST_EXPIRED = "unknown_user", "sync_failing", "request_expired"
FAILURES: dict[str, str] = {
    UNKNOWN_USER: "The calendar server has no user with this email address.",
    SYNC_FAILING: "Access was granted, but the initial synchronization of the calendars could not complete.",
    REQUEST_EXPIRED: "The request failed after repeated attempts and will not be retried.",
}
# Tries at the first sync of a user whose access was granted, before the request ends as sync_failing.
SYNC_TRIES = 3

_EMAIL = re.compile(r"^[^@\s]+@([^@\s]+\.[^@\s]+)$")


class BadServiceScope(ValueError):
    """A scope word that is not a service-account scope."""


@dataclass(eq=False)
class ServiceAccount:
    """An administrator's authorization of an application over one domain's calendars (`ser_...`), holding
    the admin-level connection to the calendar server. Its tokens are grants of the Account of the same id."""

    id: str
    application_id: str
    person_id: str | None  # the administrator who authorized it
    domain: str
    scope: str
    delegated_scope: str
    provider_key: str
    connection: dict[str, str]  # plain settings: server URL, the service user's name, the home template
    sealed_credentials: str
    created_at: datetime
    resources: list[dict[str, str]] = field(default_factory=list)  # {"email", "name"} for rooms and resources
    revoked_at: datetime | None = None


@dataclass(eq=False)
class DelegationRequest:
    """One `POST /v1/service_account_authorizations` entry: whose calendars, for which callback and scope,
    and how it ended (`outcome`: pending, granted, or one of FAILURES)."""

    id: str
    service_account_id: str
    application_id: str
    email: str
    callback_url: str
    scope: str
    state: str | None
    outcome: str
    created_at: datetime
    tries: int = 0  # failed attempts so far (the server unreachable, or the first sync failing)
    sync_failures: int = 0
    account_id: str | None = None  # the acc_/res_ account once access was granted
    job_id: str | None = None  # the request's current job; an older one finds it was replaced
    finished_at: datetime | None = None


def parse_service_scope(scope: str) -> tuple[str, ...]:
    words = tuple(dict.fromkeys(scope.split()))
    unknown = [w for w in words if w not in SERVICE_SCOPES]
    if unknown:
        raise BadServiceScope(unknown[0])
    return words


def within(requested: str, delegated_scope: str) -> bool:
    """Whether every permission `requested` grants is one the delegated scope grants."""
    return scopes.effective(scopes.parse(requested)) <= scopes.effective(scopes.parse(delegated_scope))


def email_domain(email: str) -> str | None:
    found = _EMAIL.match(email.strip())
    return found.group(1).lower() if found else None


def resource_named(account: ServiceAccount, email: str) -> dict[str, str] | None:
    return next((r for r in account.resources if r["email"].lower() == email.lower()), None)


def parse_resources(text: str) -> list[dict[str, str]]:
    """The admin form's resource list, one per line: `email` or `email = Name`."""
    found: list[dict[str, str]] = []
    for line in text.splitlines():
        email, _, name = (part.strip() for part in line.partition("="))
        if not email:
            continue
        if email_domain(email) is None:
            raise ValueError(f"{email!r} is not an email address")
        found.append({"email": email.lower(), "name": name or email.split("@")[0]})
    return found


def callback_body(request: DelegationRequest, code: str | None) -> dict[str, Any]:
    """What the request's callback URL receives: the code on success, otherwise the failure's key and words
    (the shape is documented in docs/compat.md)."""
    body: dict[str, Any] = {"code": code} if code else {
        "error": request.outcome,
        "error_key": request.outcome,
        "error_description": FAILURES[request.outcome],
    }  # fmt: skip
    if request.state is not None:
        body["state"] = request.state
    return {"authorization": body}
