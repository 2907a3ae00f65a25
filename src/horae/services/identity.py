"""Who the caller is: userinfo, account and profiles, and revoking one profile."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from horae.domain.conferencing import ConferencingProfile
from horae.domain.model import Account, Calendar, Profile
from horae.errors import AuthenticationFailed, NotFound
from horae.ports import Clock, UnitOfWork, UnitOfWorkFactory
from horae.services.jobs import new_job
from horae.services.oauth import AccessContext

REVOKE_PROFILE = "profile.revoke"


@dataclass(frozen=True)
class Identity:
    """An account with its profiles and their calendars."""

    account: Account
    profiles: list[Profile]
    calendars: list[Calendar]
    scope: str
    unrestricted: frozenset[str] = frozenset()  # calendars where the caller may change external events
    conferencing: tuple[ConferencingProfile, ...] = ()

    def calendars_of(self, profile_id: str) -> list[Calendar]:
        return [c for c in self.calendars if c.profile_id == profile_id]


class IdentityService:
    """Reads of the caller's own account, and profile revocation (a background job)."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    def identity(self, ctx: AccessContext) -> Identity:
        with self._uow() as uow:
            account = uow.accounts.get(ctx.account_id)
            if account is None:
                raise AuthenticationFailed("account no longer exists")
            profiles = uow.profiles.for_account(account.id)
            calendars = uow.calendars.for_account(account.id)
            unrestricted = uow.calendar_permissions.unrestricted(ctx.application_id, [c.id for c in calendars])
            conferencing = tuple(uow.conferencing_profiles.for_account(account.id))
        return Identity(account, profiles, calendars, ctx.scope, frozenset(unrestricted), conferencing)

    def profiles_of(self, account_id: str) -> list[Profile]:
        """The account's calendar connections, oldest first (for its own pages)."""
        with self._uow() as uow:
            return sorted(uow.profiles.for_account(account_id), key=lambda p: p.created_at)

    def request_profile_revoke(self, ctx: AccessContext, profile_id: str) -> None:
        """Accept a revoke of one of the caller's profiles; a worker carries it out."""
        with self._uow() as uow:
            profile = uow.profiles.get(profile_id)
            if profile is None or profile.account_id != ctx.account_id:
                raise NotFound(f"no profile {profile_id}")
            uow.jobs.add(new_job(self._clock, REVOKE_PROFILE, {"profile_id": profile_id}))
            uow.commit()

    def finish_profile_revoke(self, uow: UnitOfWork, payload: dict[str, Any]) -> None:
        """The job: disconnect the profile. Running it twice changes nothing more."""
        profile = uow.profiles.get(str(payload["profile_id"]))
        if profile is None or profile.revoked_at is not None:
            return
        profile.status = "disconnected"
        profile.revoked_at = self._clock.now()

    def relink_profile(self, account_id: str, profile_id: str) -> None:
        """The owner reconnects a disconnected profile (built-in profiles need nothing more)."""
        with self._uow() as uow:
            profile = uow.profiles.get(profile_id)
            if profile is None or profile.account_id != account_id:
                raise NotFound(f"no profile {profile_id}")
            profile.status = "active"
            profile.revoked_at = None
            uow.commit()
