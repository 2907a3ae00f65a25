""" "Your Profile" in the dashboard and the CLI: a person's details (name, email, time zone) and the calendar
services their account is connected to."""

from __future__ import annotations

from dataclasses import dataclass

from horae.domain import times
from horae.domain.model import Account, Person, Profile
from horae.errors import InvalidRequest, NotFound
from horae.ports import Clock, PasswordHasher, UnitOfWork, UnitOfWorkFactory
from horae.services.accounts import EMAIL_PATTERN
from horae.services.identity import REVOKE_PROFILE
from horae.services.jobs import new_job

BUILT_IN = "local"  # the account's own calendars: always there, never disconnected
MAX_NAME = 200


@dataclass(frozen=True)
class YourProfile:
    person: Person
    account: Account
    profiles: list[Profile]  # oldest first; the built-in one first of all


class ProfileSettingsService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, hasher: PasswordHasher) -> None:
        self._uow = uow
        self._clock = clock
        self._hasher = hasher

    def person_id(self, email: str) -> str:
        """Who signs in with this address (for the CLI); NotFound when nobody does."""
        with self._uow() as uow:
            person = uow.people.by_email(email.strip().lower())
            if person is None:
                raise NotFound(f"nobody signs in as {email}")
            return person.id

    def overview(self, person_id: str) -> YourProfile:
        with self._uow() as uow:
            person, account = _own(uow, person_id)
            profiles = sorted(
                uow.profiles.for_account(account.id), key=lambda p: (p.provider_key != BUILT_IN, p.created_at)
            )
            return YourProfile(person, account, profiles)

    def update_details(self, person_id: str, name: str, tzid: str) -> None:
        """Name and time zone; the time zone is the account's (`zoneinfo` in `/v1/userinfo`)."""
        name, tzid = name.strip(), tzid.strip()
        if not name or len(name) > MAX_NAME:
            raise InvalidRequest.single("name", "errors.invalid", f"give a name of 1 to {MAX_NAME} characters")
        try:
            times.zone(tzid)
        except times.BadTime as exc:
            raise InvalidRequest.single("tzid", "errors.invalid_tzid", f"{tzid!r} is not an IANA time zone") from exc
        with self._uow() as uow:
            person, account = _own(uow, person_id)
            person.name, account.name, account.default_tzid = name, name, tzid
            uow.commit()

    def change_email(self, person_id: str, new_email: str, password: str) -> None:
        """A new sign-in address, confirmed with the password (a borrowed session alone cannot take over)."""
        email = new_email.strip().lower()
        if not EMAIL_PATTERN.match(email):
            raise InvalidRequest.single("email", "errors.invalid_email", "enter a valid email address")
        with self._uow() as uow:
            person, account = _own(uow, person_id)
            if not self._hasher.verify(person.password_hash, password):
                raise InvalidRequest.single("password", "errors.wrong_password", "the password is not right")
            taken = uow.people.by_email(email)
            if taken is not None and taken.id != person.id:
                raise InvalidRequest.single("email", "errors.taken", "an account with this email already exists")
            person.email, account.email = email, email
            uow.commit()

    def disconnect(self, person_id: str, profile_id: str) -> None:
        """Disconnect one of the account's calendar services (the same job as the API's profile revoke)."""
        with self._uow() as uow:
            _, account = _own(uow, person_id)
            profile = uow.profiles.get(profile_id)
            if profile is None or profile.account_id != account.id:
                raise NotFound(f"no calendar service {profile_id} in your account")
            if profile.provider_key == BUILT_IN:
                raise InvalidRequest.single("profile_id", "errors.invalid", "your own calendars cannot be removed")
            uow.jobs.add(new_job(self._clock, REVOKE_PROFILE, {"profile_id": profile.id}))
            uow.commit()


def _own(uow: UnitOfWork, person_id: str) -> tuple[Person, Account]:
    person = uow.people.get(person_id)
    account = uow.accounts.by_person(person_id) if person is not None else None
    if person is None or account is None:
        raise NotFound("no such person")
    return person, account
