"""Table definitions for SQLite and PostgreSQL alike; entities are mapped onto them in mapping.py."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    text,
)

from horae.domain.managed import WeeklyPeriod


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out; SQLite would otherwise hand back naive values."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime reached the database layer")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class WeeklyPeriodsJSON(TypeDecorator[tuple[WeeklyPeriod, ...]]):
    """An availability rule's weekly periods: a JSON list of `{day, start_time, end_time}`."""

    impl = JSON
    cache_ok = True

    def process_bind_param(self, value: tuple[WeeklyPeriod, ...] | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        return [{"day": p.day, "start_time": p.start_time, "end_time": p.end_time} for p in value]

    def process_result_value(self, value: Any, dialect: Dialect) -> tuple[WeeklyPeriod, ...] | None:
        if value is None:
            return None
        return tuple(WeeklyPeriod(p["day"], p["start_time"], p["end_time"]) for p in value)


class StringTupleJSON(TypeDecorator[tuple[str, ...]]):
    """A tuple of strings as a JSON list; None stays SQL NULL."""

    impl = JSON(none_as_null=True)
    cache_ok = True

    def process_bind_param(self, value: tuple[str, ...] | None, dialect: Dialect) -> Any:
        return None if value is None else list(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> tuple[str, ...] | None:
        return None if value is None else tuple(str(item) for item in value)


metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

ID = String(64)

# A stored event has a recurrence rule (is a series master): `None` is stored as the JSON text `null`.
# Queries test exactly this text, with the literal inline, so the partial index on it serves them.
HAS_RULE = "CAST(recurrence AS TEXT) != 'null'"
UID_OPS = {"event_uid": 'COLLATE "C"'}

people = Table(
    "people",
    metadata,
    Column("id", ID, primary_key=True),
    Column("email", String(320), nullable=False, unique=True),
    Column("password_hash", String(255), nullable=False),
    Column("name", String(255), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

accounts = Table(
    "accounts",
    metadata,
    Column("id", ID, primary_key=True),
    Column("email", String(320), nullable=False),
    Column("name", String(255), nullable=False),
    Column("default_tzid", String(64), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("person_id", ID, ForeignKey("people.id"), nullable=True, unique=True),
    Column("application_id", ID, ForeignKey("applications.id"), nullable=True, index=True),
    Column("external_id", String(255), nullable=True),  # an application calendar's own id
    Index("ix_accounts_application_external", "application_id", "external_id", unique=True),
)

profiles = Table(
    "profiles",
    metadata,
    Column("id", ID, primary_key=True),
    Column("account_id", ID, ForeignKey("accounts.id"), nullable=False, index=True),
    Column("provider_name", String(64), nullable=False),
    Column("provider_service", String(64), nullable=False),
    Column("provider_key", String(255), nullable=False),
    Column("name", String(320), nullable=False),
    Column("status", String(32), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime, nullable=True),
    # How to reach the service (plain settings) and the sealed secrets (AES-256-GCM, see SecretBox).
    Column("connection", JSON, nullable=True),
    Column("sealed_credentials", Text, nullable=True),
    # Where sync stands (domain.sync_policy.SyncState) and the one job that carries it forward.
    Column("auth_failures", Integer, nullable=False, server_default="0"),
    Column("failures", Integer, nullable=False, server_default="0"),
    Column("last_synced_at", UTCDateTime, nullable=True),
    Column("next_sync_at", UTCDateTime, nullable=True),
    Column("last_error", Text, nullable=False, server_default=""),
    Column("sync_job_id", ID, nullable=True),
)

calendars = Table(
    "calendars",
    metadata,
    Column("id", String(255), primary_key=True),
    Column("profile_id", ID, ForeignKey("profiles.id"), nullable=False, index=True),
    Column("account_id", ID, ForeignKey("accounts.id"), nullable=False, index=True),
    Column("name", String(1024), nullable=False),
    Column("primary", Boolean, nullable=False),
    Column("readonly", Boolean, nullable=False),
    Column("deleted", Boolean, nullable=False),
    Column("color", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("remote_id", Text, nullable=True),  # the provider's id for it (CalDAV href, Google id, ...)
    Column("sync_cursor", Text, nullable=True),  # sync token / delta link for the next incremental sync
    Column("full_sync_at", UTCDateTime, nullable=True),  # the last full listing (catches window entries)
)

applications = Table(
    "applications",
    metadata,
    Column("id", ID, primary_key=True),
    Column("client_id", String(64), nullable=False, unique=True),
    Column("name", String(255), nullable=False),
    Column("redirect_uris", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    # The organizational unit it belongs to. Nullable only because SQLite cannot add a NOT NULL reference
    # to a table others refer to (migration 0009); the services always set it.
    Column("unit_id", ID, ForeignKey("organizational_units.id"), nullable=True, index=True),
    Column("created_by", ID, ForeignKey("people.id"), nullable=True),
)

client_secrets = Table(
    "client_secrets",
    metadata,
    Column("id", ID, primary_key=True),
    Column("application_id", ID, ForeignKey("applications.id"), nullable=False, index=True),
    Column("secret_digest", String(64), nullable=False, unique=True),
    Column("sealed_secret", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=True),
)

grants = Table(
    "grants",
    metadata,
    Column("id", ID, primary_key=True),
    Column("account_id", ID, ForeignKey("accounts.id"), nullable=False),
    Column("application_id", ID, ForeignKey("applications.id"), nullable=False),
    Column("scope", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("linking_profile_id", ID, nullable=True),
    Column("revoked_at", UTCDateTime, nullable=True),
    Index("ix_grants_account_application", "account_id", "application_id"),
)

authorization_codes = Table(
    "authorization_codes",
    metadata,
    Column("code_digest", String(64), primary_key=True),
    Column("application_id", ID, ForeignKey("applications.id"), nullable=False),
    Column("account_id", ID, ForeignKey("accounts.id"), nullable=False),
    Column("redirect_uri", Text, nullable=False),
    Column("scope", Text, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("used_at", UTCDateTime, nullable=True),
    Column("grant_id", ID, nullable=True),
)

tokens = Table(
    "tokens",
    metadata,
    Column("token_digest", String(64), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("grant_id", ID, ForeignKey("grants.id"), nullable=False, index=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=True),
    Column("revoked_at", UTCDateTime, nullable=True),
)

web_sessions = Table(
    "web_sessions",
    metadata,
    Column("id_digest", String(64), primary_key=True),
    Column("person_id", ID, ForeignKey("people.id"), nullable=False, index=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
)

jobs = Table(
    "jobs",
    metadata,
    Column("id", ID, primary_key=True),
    Column("kind", String(64), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("run_after", UTCDateTime, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("locked_until", UTCDateTime, nullable=True),
    Column("last_error", Text, nullable=False),
    Column("finished_at", UTCDateTime, nullable=True),
    Column("dedupe_key", String(255), nullable=True, unique=True),
    Index("ix_jobs_status_run_after", "status", "run_after"),
)

events = Table(
    "events",
    metadata,
    Column("id", ID, primary_key=True),
    Column("calendar_id", String(255), ForeignKey("calendars.id"), nullable=False),
    Column("account_id", ID, ForeignKey("accounts.id"), nullable=False),
    Column("event_uid", String(255), nullable=False, unique=True),
    Column("event_id", String(1024), nullable=True),
    Column("application_id", ID, nullable=True),
    Column("summary", Text, nullable=False),
    Column("description", Text, nullable=False),
    Column("all_day", Boolean, nullable=False),
    Column("starts_at", UTCDateTime, nullable=True),
    Column("ends_at", UTCDateTime, nullable=True),
    Column("start_date", Date, nullable=True),
    Column("end_date", Date, nullable=True),
    Column("start_tzid", String(64), nullable=False),
    Column("end_tzid", String(64), nullable=False),
    Column("location", JSON, nullable=True),
    Column("url", Text, nullable=True),
    Column("transparency", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("participation_status", String(16), nullable=False),
    Column("event_private", Boolean, nullable=False),
    Column("color", String(16), nullable=True),
    Column("attendees", JSON, nullable=False),
    Column("organizer", JSON, nullable=True),
    Column("reminders", JSON, nullable=True),
    Column("details", JSON, nullable=False),
    Column("recurrence", JSON, nullable=True),
    Column("deleted", Boolean, nullable=False),
    Column("changed_by", ID, nullable=True),
    Column("previous_starts_at", UTCDateTime, nullable=True),
    Column("previous_ends_at", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("remote_id", Text, nullable=True),  # the provider object holding it (href, event id)
    Column("remote_etag", Text, nullable=True),  # its version there when last read or written
    Column("remote_state", String(16), nullable=True),  # None in sync; "pending" while a write waits
    Index("ix_events_calendar_managed", "calendar_id", "application_id", "event_id"),
    Index("ix_events_account_starts", "account_id", "starts_at"),
    Index("ix_events_account_dates", "account_id", "start_date"),
    Index("ix_events_account_updated", "account_id", "updated_at"),
    # Reads page timed and all-day events in (start, event_uid) order, one calendar after the cursor. They
    # order event_uid by code point, as Python does: SQLite's own way, PostgreSQL's with COLLATE "C".
    Index("ix_events_calendar_timed", "calendar_id", "all_day", "starts_at", "event_uid", postgresql_ops=UID_OPS),
    Index("ix_events_calendar_days", "calendar_id", "all_day", "start_date", "event_uid", postgresql_ops=UID_OPS),
    # Series masters, which reads expand in Python: few among many events.
    Index("ix_events_calendar_remote", "calendar_id", "remote_id"),
    Index("ix_events_calendar_series", "calendar_id", sqlite_where=text(HAS_RULE), postgresql_where=text(HAS_RULE)),
)

channels = Table(
    "channels",
    metadata,
    Column("id", ID, primary_key=True),
    Column("account_id", ID, ForeignKey("accounts.id"), nullable=False, index=True),
    Column("application_id", ID, ForeignKey("applications.id"), nullable=False),
    Column("callback_url", Text, nullable=False),
    Column("filters", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("closed_at", UTCDateTime, nullable=True),
    Column("close_reason", Text, nullable=False),
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("id", ID, primary_key=True),
    Column("channel_id", ID, ForeignKey("channels.id"), nullable=False, index=True),
    Column("application_id", ID, nullable=False),
    Column("kind", String(64), nullable=False),
    Column("body", JSON, nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("delivered_at", UTCDateTime, nullable=True),
    Column("job_id", ID, nullable=True),
    Index("ix_deliveries_application_created", "application_id", "created_at"),  # the dashboard's delivery log
)

delivery_attempts = Table(
    "delivery_attempts",
    metadata,
    Column("id", ID, primary_key=True),
    Column("delivery_id", ID, ForeignKey("deliveries.id"), nullable=False, index=True),
    Column("attempted_at", UTCDateTime, nullable=False),
    Column("duration_ms", Integer, nullable=False),
    Column("status_code", Integer, nullable=True),
    Column("error", Text, nullable=False),
    Column("response_excerpt", Text, nullable=False),
    Column("extra", JSON, nullable=False),
)

availability_rules = Table(
    "availability_rules",
    metadata,
    Column("account_id", ID, ForeignKey("accounts.id"), primary_key=True),
    Column("rule_id", ID, primary_key=True),
    Column("tzid", String(64), nullable=False),
    Column("calendar_ids", StringTupleJSON, nullable=True),
    Column("weekly_periods", WeeklyPeriodsJSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

available_periods = Table(
    "available_periods",
    metadata,
    Column("account_id", ID, ForeignKey("accounts.id"), primary_key=True),
    Column("period_id", ID, primary_key=True),
    Column("starts_at", UTCDateTime, nullable=False),
    Column("ends_at", UTCDateTime, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_available_periods_account_starts", "account_id", "starts_at"),
)

service_accounts = Table(
    "service_accounts",
    metadata,
    # The same id as the Account row its grants and tokens hang on.
    Column("id", ID, ForeignKey("accounts.id"), primary_key=True),
    Column("application_id", ID, ForeignKey("applications.id"), nullable=False, index=True),
    Column("person_id", ID, ForeignKey("people.id"), nullable=True),
    Column("domain", String(255), nullable=False),
    Column("scope", Text, nullable=False),
    Column("delegated_scope", Text, nullable=False),
    Column("provider_key", String(255), nullable=False),
    Column("connection", JSON, nullable=False),
    Column("sealed_credentials", Text, nullable=False),
    Column("resources", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime, nullable=True),
)

delegation_requests = Table(
    "delegation_requests",
    metadata,
    Column("id", ID, primary_key=True),
    Column("service_account_id", ID, ForeignKey("service_accounts.id"), nullable=False),
    Column("application_id", ID, ForeignKey("applications.id"), nullable=False),
    Column("email", String(320), nullable=False),
    Column("callback_url", Text, nullable=False),
    Column("scope", Text, nullable=False),
    Column("state", Text, nullable=True),
    Column("outcome", String(32), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("tries", Integer, nullable=False),
    Column("sync_failures", Integer, nullable=False),
    Column("account_id", ID, ForeignKey("accounts.id"), nullable=True),
    Column("job_id", ID, nullable=True),
    Column("finished_at", UTCDateTime, nullable=True),
    # Earlier grants of the same person through the same service account are found by this.
    Index("ix_delegation_requests_account_email", "service_account_id", "email", "outcome"),
)

calendar_permissions = Table(
    "calendar_permissions",
    metadata,
    # A row means unrestricted: the application may change external events of the calendar.
    Column("calendar_id", ID, ForeignKey("calendars.id"), primary_key=True),
    Column("application_id", ID, ForeignKey("applications.id"), primary_key=True),
    Column("granted_at", UTCDateTime, nullable=False),
)

permission_requests = Table(
    "permission_requests",
    metadata,
    Column("id", ID, primary_key=True),
    Column("account_id", ID, ForeignKey("accounts.id"), nullable=False),
    Column("application_id", ID, ForeignKey("applications.id"), nullable=False),
    Column("calendar_ids", JSON, nullable=False),
    Column("redirect_uri", Text, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("outcome", String(32), nullable=False),
    Column("decided_at", UTCDateTime, nullable=True),
)

# --- organizational units: their members, invitations (and applications.unit_id above) ---

organizational_units = Table(
    "organizational_units",
    metadata,
    Column("id", ID, primary_key=True),
    Column("name", String(255), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

unit_memberships = Table(
    "unit_memberships",
    metadata,
    Column("unit_id", ID, ForeignKey("organizational_units.id"), primary_key=True),
    Column("person_id", ID, ForeignKey("people.id"), primary_key=True, index=True),
    Column("role", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

unit_invitations = Table(
    "unit_invitations",
    metadata,
    Column("id", ID, primary_key=True),
    Column("unit_id", ID, ForeignKey("organizational_units.id"), nullable=False, index=True),
    Column("email", String(320), nullable=False),
    Column("role", String(16), nullable=False),
    Column("token_digest", String(64), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("invited_by", ID, ForeignKey("people.id"), nullable=True),
    Column("accepted_at", UTCDateTime, nullable=True),
    Column("accepted_by", ID, ForeignKey("people.id"), nullable=True),
    Column("cancelled_at", UTCDateTime, nullable=True),
)

# --- account security (lock-out, TOTP multi-factor, recovery codes, password resets) ---

login_throttles = Table(
    "login_throttles",
    metadata,
    Column("key", String(64), primary_key=True),  # a digest of the typed-in email address
    Column("failures", Integer, nullable=False),
    Column("window_started_at", UTCDateTime, nullable=False),
    Column("locked_until", UTCDateTime, nullable=True),
)

mfa_enrolments = Table(
    "mfa_enrolments",
    metadata,
    Column("person_id", ID, ForeignKey("people.id"), primary_key=True),
    Column("sealed_secret", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("confirmed_at", UTCDateTime, nullable=True),
    Column("last_step", Integer, nullable=True),
)

recovery_codes = Table(
    "recovery_codes",
    metadata,
    Column("id", ID, primary_key=True),
    Column("person_id", ID, ForeignKey("people.id"), nullable=False, index=True),
    Column("code_digest", String(64), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("used_at", UTCDateTime, nullable=True),
)

password_resets = Table(
    "password_resets",
    metadata,
    Column("token_digest", String(64), primary_key=True),
    Column("person_id", ID, ForeignKey("people.id"), nullable=False, index=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("used_at", UTCDateTime, nullable=True),
)

conferencing_profiles = Table(
    "conferencing_profiles",
    metadata,
    Column("id", ID, primary_key=True),
    Column("account_id", ID, ForeignKey("accounts.id"), nullable=False, index=True),
    Column("provider_key", String(255), nullable=False),
    Column("name", String(320), nullable=False),
    Column("status", String(32), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("is_default", Boolean, nullable=False, default=False),
    Column("connection", JSON, nullable=True),
    Column("sealed_credentials", Text, nullable=True),
)

scheduling_links = Table(
    "scheduling_links",
    metadata,
    Column("id", ID, primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("application_id", ID, ForeignKey("applications.id"), nullable=False, index=True),
    Column("token_digest", String(64), nullable=False, unique=True),
    Column("sealed_token", Text, nullable=False),
    Column("status", String(32), nullable=False),
    Column("spec", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("display_message", Text, nullable=True),
    Column("completed_at", UTCDateTime, nullable=True),
    Column("booking", JSON, nullable=True),
    Column("no_times_suitable_at", UTCDateTime, nullable=True),
    Column("no_times_displayed_at", UTCDateTime, nullable=True),
    Column("host_ids", JSON, nullable=False),
)
