"""Elevated calendar permissions: an application may change events it does not manage (external events) in
a calendar where the person, or the service account that connected them, granted it `unrestricted` access."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

SANDBOX, UNRESTRICTED = "sandbox", "unrestricted"
LEVELS = (SANDBOX, UNRESTRICTED)
MAX_CALENDARS = 50
# How long the link a person follows to grant permission stays usable.
REQUEST_LIFETIME = timedelta(days=7)
PENDING, GRANTED, DECLINED = "pending", "granted", "declined"
# The service-account scopes that let Horae grant elevated permission at once, by the account's kind.
UNRESTRICTED_SCOPES = {
    "account": "service_account/accounts/unrestricted_access",
    "resource": "service_account/resources/unrestricted_access",
}


@dataclass(eq=False)
class CalendarPermission:
    """One application's unrestricted access to one calendar (no row: sandbox)."""

    calendar_id: str
    application_id: str
    granted_at: datetime


@dataclass(eq=False)
class PermissionRequest:
    """An application's request for unrestricted access to some of a person's calendars, waiting for them at
    its link (`/permissions/{id}`)."""

    id: str
    account_id: str
    application_id: str
    calendar_ids: list[str]
    redirect_uri: str | None
    created_at: datetime
    expires_at: datetime
    outcome: str = PENDING
    decided_at: datetime | None = None

    def open(self, now: datetime) -> bool:
        return self.outcome == PENDING and now < self.expires_at
