"""Account security records and their pure rules: the sign-in lock-out, TOTP multi-factor enrolments,
single-use recovery codes and password-reset tokens."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from horae.domain import ids

# Five wrong answers (passwords or codes) within fifteen minutes lock the address for fifteen minutes:
# enough for a person who mistypes, far too few to guess a password or a 6-digit code (at most 480 tries
# a day, against a million codes that change every 30 seconds).
MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)
LOCKOUT = timedelta(minutes=15)
LOCKED_MESSAGE = "Too many failed attempts to sign in. Wait 15 minutes and try again, or reset your password."

RECOVERY_CODES = 10
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: they are read off paper
RESET_LIFETIME = timedelta(hours=1)
RESET_SPACING = timedelta(minutes=1)  # at most one reset mail a minute per person, so nobody floods an inbox


@dataclass(eq=False)
class LoginThrottle:
    """Recent failed sign-ins for one email address (known or not), stored under a digest of it."""

    key: str
    failures: int
    window_started_at: datetime
    locked_until: datetime | None = None

    def locked(self, now: datetime) -> bool:
        return self.locked_until is not None and now < self.locked_until

    def record_failure(self, now: datetime) -> None:
        """Count one more failure; the count starts again once the window has passed, and reaching the
        limit locks the address."""
        if self.locked(now):
            return
        if now >= self.window_started_at + FAILURE_WINDOW or self.locked_until is not None:
            self.failures, self.window_started_at, self.locked_until = 0, now, None
        self.failures += 1
        if self.failures >= MAX_FAILURES:
            self.locked_until = now + LOCKOUT


def throttle_key(email: str) -> str:
    """Where an address's failures are counted: a digest, so the table holds no typed-in addresses."""
    return ids.digest("login:" + email.strip().lower())


@dataclass(eq=False)
class MfaEnrolment:
    """A person's TOTP authenticator. Until `confirmed_at` is set (a code from the app was typed in) it is
    only being set up and does not guard sign-in. `last_step` is the TOTP time step of the last accepted
    code, so that no code is accepted twice."""

    person_id: str
    sealed_secret: str
    created_at: datetime
    confirmed_at: datetime | None = None
    last_step: int | None = None

    @property
    def active(self) -> bool:
        return self.confirmed_at is not None


@dataclass(eq=False)
class RecoveryCode:
    """One single-use code that stands in for the authenticator; stored only as a digest."""

    id: str
    person_id: str
    code_digest: str
    created_at: datetime
    used_at: datetime | None = None


def new_recovery_code() -> str:
    """Ten random characters (about 49 bits), shown as `xxxxx-xxxxx`."""
    chars = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(10))
    return f"{chars[:5]}-{chars[5:]}"


def recovery_digest(person_id: str, code: str) -> str:
    """The stored form of a recovery code, as typed in any case, with or without the dash and spaces."""
    cleaned = "".join(c for c in code.lower() if c.isalnum())
    return ids.digest(f"recovery:{person_id}:{cleaned}")


def looks_like_totp(code: str) -> bool:
    """Six digits (spaces allowed, as apps show `123 456`)."""
    digits = code.replace(" ", "")
    return len(digits) == 6 and digits.isascii() and digits.isdigit()


@dataclass(eq=False)
class PasswordReset:
    """A single-use link to set a new password, valid for an hour; only the token's digest is stored."""

    token_digest: str
    person_id: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None

    def usable(self, now: datetime) -> bool:
        return self.used_at is None and now < self.expires_at
