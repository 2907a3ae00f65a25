"""Classical mapping: domain dataclasses are mapped onto tables here, so the domain never imports SQLAlchemy."""

from __future__ import annotations

from sqlalchemy import Table
from sqlalchemy.orm import registry

from horae.db import tables
from horae.domain import conferencing, enterprise, events, managed, model, permissions, push, scheduling, security
from horae.domain import organizations as units

mapper_registry = registry()
_started = False


def start_mappers() -> None:
    """Map every entity once per process; later calls do nothing."""
    global _started
    if _started:
        return
    pairs: list[tuple[type, Table]] = [
        (model.Person, tables.people),
        (model.Account, tables.accounts),
        (model.Profile, tables.profiles),
        (model.Calendar, tables.calendars),
        (model.Application, tables.applications),
        (model.ClientSecret, tables.client_secrets),
        (model.Grant, tables.grants),
        (model.AuthorizationCode, tables.authorization_codes),
        (model.Token, tables.tokens),
        (model.WebSession, tables.web_sessions),
        (model.Job, tables.jobs),
        (events.Event, tables.events),
        (push.Channel, tables.channels),
        (push.Delivery, tables.deliveries),
        (push.DeliveryAttempt, tables.delivery_attempts),
        (managed.AvailabilityRule, tables.availability_rules),
        (managed.AvailablePeriod, tables.available_periods),
        (enterprise.ServiceAccount, tables.service_accounts),
        (enterprise.DelegationRequest, tables.delegation_requests),
        (permissions.CalendarPermission, tables.calendar_permissions),
        (permissions.PermissionRequest, tables.permission_requests),
        (conferencing.ConferencingProfile, tables.conferencing_profiles),
        (security.LoginThrottle, tables.login_throttles),
        (security.MfaEnrolment, tables.mfa_enrolments),
        (security.RecoveryCode, tables.recovery_codes),
        (security.PasswordReset, tables.password_resets),
        (units.OrganizationalUnit, tables.organizational_units),
        (units.Membership, tables.unit_memberships),
        (units.Invitation, tables.unit_invitations),
        (scheduling.SchedulingLink, tables.scheduling_links),
    ]
    for entity, table in pairs:
        mapper_registry.map_imperatively(entity, table)
    _started = True
