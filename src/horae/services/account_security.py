"""Passwords and sessions after sign-up: changing a password (which signs out everywhere else), signing out
other browsers, resetting a forgotten password through a single-use link, and the operator's tools
(a reset link, an unlock, a new password)."""

from __future__ import annotations

import logging

from horae.domain import ids
from horae.domain.model import Person
from horae.domain.security import RESET_LIFETIME, RESET_SPACING, PasswordReset
from horae.errors import FieldError, InvalidRequest, NotFound
from horae.ports import Clock, Mailer, PasswordHasher, UnitOfWork, UnitOfWorkFactory
from horae.services import lockout
from horae.services.accounts import MIN_PASSWORD

log = logging.getLogger(__name__)
RESET_SUBJECT = "Reset your Horae password"
BAD_LINK = "This password reset link has expired or was already used. Ask for a new one."


def reset_url(link_base: str, token: str) -> str:
    return f"{link_base.rstrip('/')}/password-reset/{token}"


def _check_new_password(new: str, repeat: str) -> None:
    problems: dict[str, list[FieldError]] = {}
    if len(new) < MIN_PASSWORD:
        problems["new_password"] = [
            FieldError("errors.too_short", f"the new password must be at least {MIN_PASSWORD} characters")
        ]
    elif new != repeat:
        problems["repeat_password"] = [FieldError("errors.mismatch", "the two new passwords are not the same")]
    if problems:
        raise InvalidRequest(problems)


class AccountSecurityService:
    """Password changes, resets and session ends; every one of them ends the sessions it should."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, hasher: PasswordHasher, mailer: Mailer) -> None:
        self._uow = uow
        self._clock = clock
        self._hasher = hasher
        self._mailer = mailer

    def change_password(self, person_id: str, current: str, new: str, repeat: str, session_token: str) -> int:
        """A new password once the current one is given; every other session of the person ends (the one
        making the change stays). Returns how many ended."""
        _check_new_password(new, repeat)
        now = self._clock.now()
        with self._uow() as uow:
            person = _person(uow, person_id)
            lockout.refuse_if_locked(uow, person.email, now)
            if not self._hasher.verify(person.password_hash, current):
                lockout.count_failure(uow, person.email, now)
                uow.commit()
                raise InvalidRequest.single(
                    "current_password", "errors.wrong_password", "that is not your current password"
                )
            person.password_hash = self._hasher.hash(new)
            ended = uow.web_sessions.delete_for_person(person_id, keep=ids.digest(session_token))
            uow.password_resets.void_for(person_id, now)
            uow.commit()
        log.info("password changed", extra={"person_id": person_id, "sessions_ended": ended})
        return ended

    def end_other_sessions(self, person_id: str, session_token: str) -> int:
        """Sign out every other browser of the person; returns how many sessions ended."""
        with self._uow() as uow:
            ended = uow.web_sessions.delete_for_person(person_id, keep=ids.digest(session_token))
            uow.commit()
        log.info("other sessions ended", extra={"person_id": person_id, "sessions_ended": ended})
        return ended

    def request_reset(self, email: str, link_base: str) -> None:
        """Mail a reset link if someone has this address. Says nothing either way, so the form cannot be
        used to find out who has an account; at most one mail a minute goes to the same person."""
        now = self._clock.now()
        with self._uow() as uow:
            person = uow.people.by_email(email.strip().lower())
            if person is None:
                return
            latest = uow.password_resets.latest_created(person.id)
            if latest is not None and now < latest + RESET_SPACING:
                log.info("password reset not sent again so soon", extra={"person_id": person.id})
                return
            token = self._new_reset(uow, person)
            uow.commit()
        body = (
            f"Someone (hopefully you) asked to reset the password of your Horae account {person.email}.\n\n"
            f"To choose a new password, open this link within the next hour:\n\n{reset_url(link_base, token)}\n\n"
            "The link works once. If you did not ask for this, ignore this mail: your password stays as it is.\n"
        )
        try:
            self._mailer.send(person.email, RESET_SUBJECT, body)
        except OSError as exc:  # the mail server is down or refused: the person can ask again
            log.warning("password reset mail failed", extra={"person_id": person.id, "error": type(exc).__name__})
            return
        log.info("password reset mailed", extra={"person_id": person.id})

    def reset_link(self, email: str, link_base: str) -> str:
        """A reset link for an operator to hand over by other means (the CLI)."""
        with self._uow() as uow:
            person = uow.people.by_email(email.strip().lower())
            if person is None:
                raise NotFound("no person has that email address")
            token = self._new_reset(uow, person)
            uow.commit()
        log.info("password reset link made by an operator", extra={"person_id": person.id})
        return reset_url(link_base, token)

    def reset_usable(self, token: str) -> bool:
        with self._uow() as uow:
            reset = uow.password_resets.get(ids.digest(token))
            return reset is not None and reset.usable(self._clock.now())

    def reset_password(self, token: str, new: str, repeat: str) -> None:
        """Set a new password through a reset link: the link is spent, every session of the person ends and
        the lock-out is lifted. The second factor, if any, stays on."""
        _check_new_password(new, repeat)
        now = self._clock.now()
        with self._uow() as uow:
            reset = uow.password_resets.get(ids.digest(token))
            if reset is None or not uow.password_resets.consume(reset.token_digest, now):
                raise NotFound(BAD_LINK)
            person = _person(uow, reset.person_id)
            self._set_password(uow, person, new)
            uow.commit()
        log.info("password reset", extra={"person_id": person.id})

    def set_password(self, email: str, new: str) -> None:
        """An operator sets someone's password (the CLI); like a reset, it ends their sessions."""
        _check_new_password(new, new)
        with self._uow() as uow:
            person = uow.people.by_email(email.strip().lower())
            if person is None:
                raise NotFound("no person has that email address")
            self._set_password(uow, person, new)
            uow.commit()
        log.warning("password set by an operator", extra={"person_id": person.id})

    def unlock(self, email: str) -> None:
        """Lift a lock-out (the CLI); works for any address, as the lock-out does."""
        with self._uow() as uow:
            lockout.clear(uow, email.strip().lower())
            uow.commit()

    def _new_reset(self, uow: UnitOfWork, person: Person) -> str:
        token = ids.new_token()
        now = self._clock.now()
        uow.password_resets.add(PasswordReset(ids.digest(token), person.id, now, now + RESET_LIFETIME))
        return token

    def _set_password(self, uow: UnitOfWork, person: Person, new: str) -> None:
        person.password_hash = self._hasher.hash(new)
        uow.web_sessions.delete_for_person(person.id)
        uow.password_resets.void_for(person.id, self._clock.now())
        lockout.clear(uow, person.email)


def _person(uow: UnitOfWork, person_id: str) -> Person:
    person = uow.people.get(person_id)
    if person is None:
        raise NotFound("no such person")
    return person
