"""People and their accounts: sign-up, log-in, browser sessions, and provisioning a new account."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from horae.domain import ids
from horae.domain.model import Account, Calendar, Person, Profile, WebSession
from horae.errors import AuthenticationFailed, FieldError, InvalidRequest
from horae.ports import Clock, PasswordHasher, UnitOfWork, UnitOfWorkFactory
from horae.services import lockout

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
EMAIL_PATTERN = _EMAIL  # also what the profile page accepts as a new address
MIN_PASSWORD = 8
SESSION_LIFETIME = timedelta(days=14)


@dataclass(frozen=True)
class SignedIn:
    """A person with their account, as the pages need them."""

    person: Person
    account: Account


def provision_account(uow: UnitOfWork, clock: Clock, *, email: str, name: str, kind: str, prefix: str) -> Account:
    """A new account with a built-in profile holding one primary calendar (provider `cronofy`)."""
    now = clock.now()
    account = Account(ids.new_id(prefix), email, name, "Etc/UTC", kind, now)
    profile = Profile(ids.new_id("pro"), account.id, "cronofy", "cronofy", "local", email, "active", now)
    calendar = new_calendar(profile, "Calendar", clock, primary=True)
    uow.accounts.add(account)
    uow.flush()
    uow.profiles.add(profile)
    uow.flush()
    uow.calendars.add(calendar)
    return account


def new_calendar(profile: Profile, name: str, clock: Clock, primary: bool) -> Calendar:
    """A calendar with an id in Cronofy's form: `cal_{profile fragment}_{random}`."""
    fragment = profile.id.removeprefix("pro_")[:12]
    return Calendar(
        f"cal_{fragment}_{ids.new_token(6)}", profile.id, profile.account_id, name, primary, False, clock.now()
    )


class AccountService:
    """Sign-up and log-in on Horae's pages, and accounts made from the CLI."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, hasher: PasswordHasher) -> None:
        self._uow = uow
        self._clock = clock
        self._hasher = hasher
        self._dummy_hash = ""

    def sign_up(self, email: str, password: str, name: str = "") -> SignedIn:
        email = email.strip().lower()
        problems: dict[str, list[FieldError]] = {}
        if not _EMAIL.match(email):
            problems["email"] = [FieldError("errors.invalid_email", "enter a valid email address")]
        if len(password) < MIN_PASSWORD:
            problems["password"] = [
                FieldError("errors.too_short", f"the password must be at least {MIN_PASSWORD} characters")
            ]
        if problems:
            raise InvalidRequest(problems)
        name = name.strip() or email.split("@")[0]
        with self._uow() as uow:
            if uow.people.by_email(email) is not None:
                raise InvalidRequest.single("email", "errors.taken", "an account with this email already exists")
            person = Person(ids.new_id("per"), email, self._hasher.hash(password), name, self._clock.now())
            uow.people.add(person)
            uow.flush()
            account = provision_account(uow, self._clock, email=email, name=name, kind="account", prefix="acc")
            account.person_id = person.id
            uow.commit()
        return SignedIn(person, account)

    def log_in(self, email: str, password: str) -> SignedIn:
        """The person whose password this is. Failures count toward the lock-out of the address (known or
        not, so the answer never tells who has an account); when the person has a second factor, the
        count is only cleared once its code is right too (see MfaService.complete_login)."""
        email = email.strip().lower()
        now = self._clock.now()
        with self._uow() as uow:
            lockout.refuse_if_locked(uow, email, now)
            person = uow.people.by_email(email)
            if person is None:
                # Spend the same time as a real check, so response times do not reveal who has an account.
                self._dummy_hash = self._dummy_hash or self._hasher.hash("not-a-real-password")
                self._hasher.verify(self._dummy_hash, password)
            if person is None or not self._hasher.verify(person.password_hash, password):
                lockout.count_failure(uow, email, now)
                uow.commit()
                raise AuthenticationFailed("email or password not recognised")
            if self._hasher.needs_rehash(person.password_hash):
                person.password_hash = self._hasher.hash(password)
            enrolment = uow.mfa_enrolments.get(person.id)
            if enrolment is None or not enrolment.active:
                lockout.clear(uow, email)
            account = uow.accounts.by_person(person.id)
            assert account is not None, "every person has an account"
            uow.commit()
        return SignedIn(person, account)

    def start_session(self, person_id: str) -> str:
        """A new browser session; returns the cookie value (stored only as a digest)."""
        token = ids.new_token()
        now = self._clock.now()
        with self._uow() as uow:
            uow.web_sessions.add(WebSession(ids.digest(token), person_id, now, now + SESSION_LIFETIME))
            uow.commit()
        return token

    def resolve_session(self, token: str) -> SignedIn | None:
        with self._uow() as uow:
            session = uow.web_sessions.get(ids.digest(token))
            if session is None or session.expires_at <= self._clock.now():
                return None
            person = uow.people.get(session.person_id)
            account = uow.accounts.by_person(session.person_id)
        if person is None or account is None:
            return None
        return SignedIn(person, account)

    def end_session(self, token: str) -> None:
        with self._uow() as uow:
            uow.web_sessions.delete(ids.digest(token))
            uow.commit()
