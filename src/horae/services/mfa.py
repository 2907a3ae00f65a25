"""TOTP multi-factor sign-in: setting up an authenticator app, the single-use recovery codes that stand in
for it, the second step of signing in, and turning it off again (by the person, or by an operator)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from horae.domain import ids, totp
from horae.domain.model import Person
from horae.domain.security import (
    RECOVERY_CODES,
    MfaEnrolment,
    RecoveryCode,
    looks_like_totp,
    new_recovery_code,
    recovery_digest,
)
from horae.errors import AuthenticationFailed, InvalidRequest, NotFound
from horae.ports import Clock, PasswordHasher, SecretBox, UnitOfWork, UnitOfWorkFactory
from horae.services import lockout
from horae.services.accounts import SignedIn

log = logging.getLogger(__name__)
WRONG_CODE = "That code is not right (or was used already). Type the current code from your app, or a recovery code."


@dataclass(frozen=True)
class MfaStatus:
    """What the security page shows: whether the second factor is on, the set-up in progress (its secret
    and QR address, for the person's own eyes), and how many recovery codes are left."""

    active: bool
    setup_secret: str | None = None
    setup_uri: str | None = None
    recovery_codes_left: int = 0


class MfaService:
    """Everything about a person's second factor; secrets are sealed at rest, recovery codes digested."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, box: SecretBox, hasher: PasswordHasher) -> None:
        self._uow = uow
        self._clock = clock
        self._box = box
        self._hasher = hasher

    def required(self, person_id: str) -> bool:
        """Whether signing in as this person needs a code after the password."""
        with self._uow() as uow:
            enrolment = uow.mfa_enrolments.get(person_id)
            return enrolment is not None and enrolment.active

    def status(self, person_id: str) -> MfaStatus:
        with self._uow() as uow:
            enrolment = uow.mfa_enrolments.get(person_id)
            person = uow.people.get(person_id)
            if enrolment is None or person is None:
                return MfaStatus(active=False)
            if enrolment.active:
                return MfaStatus(active=True, recovery_codes_left=uow.recovery_codes.unused(person_id))
            secret = self._box.open(enrolment.sealed_secret)
        return MfaStatus(active=False, setup_secret=secret, setup_uri=totp.provisioning_uri(secret, person.email))

    def begin(self, person_id: str) -> MfaStatus:
        """A new secret for the person's app (replacing a set-up left unfinished); not in force until
        `confirm` sees a code made from it."""
        secret = totp.new_secret()
        with self._uow() as uow:
            person = _person(uow, person_id)
            enrolment = uow.mfa_enrolments.for_update(person_id)
            if enrolment is not None and enrolment.active:
                raise InvalidRequest.single("mfa", "errors.already_on", "two-step sign-in is already on")
            if enrolment is not None:
                uow.mfa_enrolments.delete(person_id)
                uow.flush()
            uow.mfa_enrolments.add(MfaEnrolment(person_id, self._box.seal(secret), self._clock.now()))
            uow.commit()
        log.info("two-step sign-in set-up started", extra={"person_id": person_id})
        return MfaStatus(active=False, setup_secret=secret, setup_uri=totp.provisioning_uri(secret, person.email))

    def confirm(self, person_id: str, code: str) -> list[str]:
        """Turn the second factor on once the app shows a right code; returns new recovery codes, the only
        time they are ever readable."""
        now = self._clock.now()
        with self._uow() as uow:
            enrolment = uow.mfa_enrolments.for_update(person_id)
            if enrolment is None or enrolment.active:
                raise InvalidRequest.single("code", "errors.no_setup", "start setting up two-step sign-in first")
            step = (
                totp.matching_step(self._box.open(enrolment.sealed_secret), code, now, None)
                if looks_like_totp(code)
                else None
            )
            if step is None:
                raise InvalidRequest.single("code", "errors.wrong_code", "that code is not right: type the current one")
            enrolment.confirmed_at, enrolment.last_step = now, step
            codes = self._new_recovery_codes(uow, person_id)
            uow.commit()
        log.info("two-step sign-in turned on", extra={"person_id": person_id})
        return codes

    def new_recovery_codes(self, person_id: str, password: str) -> list[str]:
        """A fresh set of recovery codes (the old ones stop working), after the password is checked again."""
        with self._uow() as uow:
            person = _person(uow, person_id)
            self._check_password(uow, person, password)
            enrolment = uow.mfa_enrolments.get(person_id)
            if enrolment is None or not enrolment.active:
                raise InvalidRequest.single("mfa", "errors.not_on", "two-step sign-in is not on")
            codes = self._new_recovery_codes(uow, person_id)
            uow.commit()
        log.info("recovery codes replaced", extra={"person_id": person_id})
        return codes

    def remove(self, person_id: str, password: str, code: str) -> None:
        """Turn the second factor off: the password and a current code (or a recovery code) are needed."""
        with self._uow() as uow:
            person = _person(uow, person_id)
            self._check_password(uow, person, password)
            enrolment = uow.mfa_enrolments.for_update(person_id)
            if enrolment is None or not enrolment.active:
                raise InvalidRequest.single("mfa", "errors.not_on", "two-step sign-in is not on")
            if not self._accept_code(uow, enrolment, code):
                lockout.count_failure(uow, person.email, self._clock.now())
                uow.commit()
                raise InvalidRequest.single("code", "errors.wrong_code", WRONG_CODE)
            self._drop(uow, person_id)
            uow.commit()
        log.info("two-step sign-in turned off", extra={"person_id": person_id})

    def complete_login(self, person_id: str, code: str) -> SignedIn:
        """The second step of signing in. A wrong code counts toward the lock-out like a wrong password,
        and a right one clears the count."""
        now = self._clock.now()
        with self._uow() as uow:
            person = uow.people.get(person_id)
            account = uow.accounts.by_person(person_id)
            if person is None or account is None:
                raise AuthenticationFailed("sign in again")
            lockout.refuse_if_locked(uow, person.email, now)
            enrolment = uow.mfa_enrolments.for_update(person_id)
            if enrolment is not None and enrolment.active and not self._accept_code(uow, enrolment, code):
                lockout.count_failure(uow, person.email, now)
                uow.commit()
                raise AuthenticationFailed(WRONG_CODE)
            lockout.clear(uow, person.email)
            uow.commit()
        return SignedIn(person, account)

    def turn_off(self, email: str) -> None:
        """An operator's recovery for someone who lost both their app and their recovery codes."""
        with self._uow() as uow:
            person = uow.people.by_email(email.strip().lower())
            if person is None:
                raise NotFound("no person has that email address")
            self._drop(uow, person.id)
            uow.commit()
        log.warning("two-step sign-in turned off by an operator", extra={"person_id": person.id})

    def _accept_code(self, uow: UnitOfWork, enrolment: MfaEnrolment, code: str) -> bool:
        """Whether `code` is a current authenticator code not used before, or an unused recovery code;
        either way it is spent. The enrolment is locked by the caller."""
        code = code.strip()
        if looks_like_totp(code):
            secret = self._box.open(enrolment.sealed_secret)
            step = totp.matching_step(secret, code, self._clock.now(), enrolment.last_step)
            if step is None:
                return False
            enrolment.last_step = step
            return True
        if not code:
            return False
        person_id = enrolment.person_id
        used = uow.recovery_codes.consume(person_id, recovery_digest(person_id, code), self._clock.now())
        if used:
            log.info("recovery code used", extra={"person_id": person_id, "left": uow.recovery_codes.unused(person_id)})
        return used

    def _check_password(self, uow: UnitOfWork, person: Person, password: str) -> None:
        now = self._clock.now()
        lockout.refuse_if_locked(uow, person.email, now)
        if not self._hasher.verify(person.password_hash, password):
            lockout.count_failure(uow, person.email, now)
            uow.commit()
            raise InvalidRequest.single("password", "errors.wrong_password", "that is not your current password")

    def _new_recovery_codes(self, uow: UnitOfWork, person_id: str) -> list[str]:
        uow.recovery_codes.delete_for(person_id)
        codes = [new_recovery_code() for _ in range(RECOVERY_CODES)]
        now = self._clock.now()
        for code in codes:
            uow.recovery_codes.add(RecoveryCode(ids.new_id("rc"), person_id, recovery_digest(person_id, code), now))
        return codes

    def _drop(self, uow: UnitOfWork, person_id: str) -> None:
        uow.recovery_codes.delete_for(person_id)
        uow.mfa_enrolments.delete(person_id)


def _person(uow: UnitOfWork, person_id: str) -> Person:
    person = uow.people.get(person_id)
    if person is None:
        raise NotFound("no such person")
    return person
