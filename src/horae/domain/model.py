"""Entities of the foundation: people, accounts, profiles, calendars, applications and grants."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(eq=False)
class Person:
    """Someone who signs in on Horae's pages with an email address and password."""

    id: str
    email: str
    password_hash: str
    name: str
    created_at: datetime


@dataclass(eq=False)
class Account:
    """A calendar account (`acc_...`, or `apc_...` for application calendars)."""

    id: str
    email: str
    name: str
    default_tzid: str
    kind: str  # "account" | "application_calendar" | "service_account"
    created_at: datetime
    person_id: str | None = None
    application_id: str | None = None  # owner of an application calendar
    external_id: str | None = None  # the application calendar's id in the owner's own terms


@dataclass(eq=False)
class Profile:
    """One connection from an account to a calendar service (`pro_...`)."""

    id: str
    account_id: str
    provider_name: str  # wire name, e.g. "cronofy" for built-in calendars
    provider_service: str
    provider_key: str  # which provider plugin serves it, e.g. "local"
    name: str
    status: str  # "pending" | "active" | "disconnected"
    created_at: datetime
    revoked_at: datetime | None = None
    connection: dict[str, str] | None = None  # plain settings: server URL, user name
    sealed_credentials: str | None = None  # passwords and tokens, sealed
    auth_failures: int = 0
    failures: int = 0
    last_synced_at: datetime | None = None
    next_sync_at: datetime | None = None
    last_error: str = ""
    sync_job_id: str | None = None

    @property
    def connected(self) -> bool:
        """Whether Horae can currently read and write through this profile."""
        return self.status != "disconnected"


@dataclass(eq=False)
class Calendar:
    """A calendar inside a profile (`cal_...`)."""

    id: str
    profile_id: str
    account_id: str
    name: str
    primary: bool
    readonly: bool
    created_at: datetime
    deleted: bool = False
    color: str = "#49BED8"
    remote_id: str | None = None
    sync_cursor: str | None = None
    full_sync_at: datetime | None = None


@dataclass(eq=False)
class Application:
    """A developer's OAuth client: its id, name and registered redirect URIs."""

    id: str
    client_id: str
    name: str
    redirect_uris: list[str]
    created_at: datetime
    unit_id: str | None = None  # its organizational unit; set by ApplicationService, None only in old rows
    created_by: str | None = None  # the person who created it on the dashboard


@dataclass(eq=False)
class ClientSecret:
    """One of an application's secrets: hashed for lookup, sealed for signing callbacks."""

    id: str
    application_id: str
    secret_digest: str
    sealed_secret: str
    created_at: datetime
    expires_at: datetime | None = None

    def active(self, now: datetime) -> bool:
        """A secret works until its expiry (set when it is rotated out)."""
        return self.expires_at is None or self.expires_at > now


@dataclass(eq=False)
class Grant:
    """An account's authorization of an application, with the scope it agreed to."""

    id: str
    account_id: str
    application_id: str
    scope: str
    created_at: datetime
    linking_profile_id: str | None = None
    revoked_at: datetime | None = None


@dataclass(eq=False)
class AuthorizationCode:
    """A short-lived, single-use code issued at the end of the authorize flow."""

    code_digest: str
    application_id: str
    account_id: str
    redirect_uri: str
    scope: str
    expires_at: datetime
    created_at: datetime
    used_at: datetime | None = None
    grant_id: str | None = None  # set once exchanged, so a replay can revoke what it issued


@dataclass(eq=False)
class Token:
    """An access or refresh token, stored only as a digest."""

    token_digest: str
    kind: str  # "access" | "refresh"
    grant_id: str
    created_at: datetime
    expires_at: datetime | None = None
    revoked_at: datetime | None = None

    def usable(self, now: datetime) -> bool:
        """Neither revoked nor expired."""
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


@dataclass(eq=False)
class WebSession:
    """A signed-in browser session, revocable because it lives in the database."""

    id_digest: str
    person_id: str
    created_at: datetime
    expires_at: datetime


@dataclass(eq=False)
class Job:
    """A unit of background work written to the outbox in the same transaction as its cause."""

    id: str
    kind: str
    payload: dict[str, Any]
    status: str  # "pending" | "running" | "done" | "failed"
    created_at: datetime
    run_after: datetime
    attempts: int = 0
    locked_until: datetime | None = None
    last_error: str = ""
    finished_at: datetime | None = None
    dedupe_key: str | None = None
