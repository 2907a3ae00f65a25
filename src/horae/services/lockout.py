"""The sign-in lock-out, shared by every check of a password or a second-factor code: failures are counted
per email address in the database (so every server process sees them), whether or not anyone has that
address, and too many lock it for a while (the numbers are in domain/security.py)."""

from __future__ import annotations

import logging
from datetime import datetime

from horae.domain.security import LOCKED_MESSAGE, throttle_key
from horae.errors import AuthenticationFailed
from horae.ports import UnitOfWork

log = logging.getLogger(__name__)


def refuse_if_locked(uow: UnitOfWork, email: str, now: datetime) -> None:
    """Raise the lock-out message while the address is locked (before any password is checked)."""
    throttle = uow.login_throttles.get(throttle_key(email))
    if throttle is not None and throttle.locked(now):
        raise AuthenticationFailed(LOCKED_MESSAGE)


def count_failure(uow: UnitOfWork, email: str, now: datetime) -> None:
    """One more failure for the address; the caller commits."""
    throttle = uow.login_throttles.for_update(throttle_key(email), now)
    throttle.record_failure(now)
    if throttle.locked(now):
        # Neither the address nor its digest (addresses are easy to guess back from one): only that it happened.
        log.warning("sign-in locked after repeated failures")


def clear(uow: UnitOfWork, email: str) -> None:
    """Forget the address's failures (a complete sign-in, a password reset, an operator's unlock)."""
    uow.login_throttles.delete(throttle_key(email))
