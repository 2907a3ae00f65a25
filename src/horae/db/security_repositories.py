"""Repositories for account security: sign-in throttles, TOTP enrolments, recovery codes and reset tokens.
Whatever must hold across several server processes (a code used once, a count that two failures both
raise) is decided in the database: a conditional UPDATE or a row lock."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Executable, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from horae.db import tables as t
from horae.db.repositories import _Repository
from horae.domain.security import LoginThrottle, MfaEnrolment, PasswordReset, RecoveryCode


class LoginThrottleRepository(_Repository[LoginThrottle]):
    entity = LoginThrottle

    def for_update(self, key: str, now: datetime) -> LoginThrottle:
        """The key's row, created when missing, locked until the transaction ends: two failures at once in
        two processes are both counted."""
        values = {"key": key, "failures": 0, "window_started_at": now, "locked_until": None}
        statement = _insert_ignoring_duplicate(self.session, values)
        self.session.execute(statement)
        query = (
            select(LoginThrottle)
            .where(t.login_throttles.c.key == key)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return self.session.scalars(query).one()

    def delete(self, key: str) -> None:
        self.session.execute(delete(t.login_throttles).where(t.login_throttles.c.key == key))


def _insert_ignoring_duplicate(session: Session, values: dict[str, object]) -> Executable:
    """INSERT ... ON CONFLICT DO NOTHING, which both databases spell alike but SQLAlchemy builds per dialect."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(t.login_throttles).values(values).on_conflict_do_nothing()
    return sqlite.insert(t.login_throttles).values(values).on_conflict_do_nothing()


class MfaEnrolmentRepository(_Repository[MfaEnrolment]):
    entity = MfaEnrolment

    def for_update(self, person_id: str) -> MfaEnrolment | None:
        """The enrolment, locked until the transaction ends: one code is accepted once even when two
        processes check it at the same moment."""
        query = (
            select(MfaEnrolment)
            .where(t.mfa_enrolments.c.person_id == person_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return self.session.scalars(query).first()

    def delete(self, person_id: str) -> None:
        # Through the session, not a bulk DELETE: the caller may hold the (changed) enrolment.
        item = self.get(person_id)
        if item is not None:
            self.session.delete(item)


class RecoveryCodeRepository(_Repository[RecoveryCode]):
    entity = RecoveryCode

    def consume(self, person_id: str, code_digest: str, now: datetime) -> bool:
        """Mark the code used in one statement; False when it is unknown or was already used."""
        c = t.recovery_codes.c
        result = self.session.execute(
            update(t.recovery_codes)
            .where(c.person_id == person_id, c.code_digest == code_digest, c.used_at.is_(None))
            .values(used_at=now)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def unused(self, person_id: str) -> int:
        c = t.recovery_codes.c
        query = select(func.count()).select_from(t.recovery_codes).where(c.person_id == person_id, c.used_at.is_(None))
        return int(self.session.scalar(query) or 0)

    def delete_for(self, person_id: str) -> None:
        self.session.execute(delete(t.recovery_codes).where(t.recovery_codes.c.person_id == person_id))


class PasswordResetRepository(_Repository[PasswordReset]):
    entity = PasswordReset

    def consume(self, token_digest: str, now: datetime) -> bool:
        """Mark the token used in one statement; False when it was used already or has expired."""
        c = t.password_resets.c
        result = self.session.execute(
            update(t.password_resets)
            .where(c.token_digest == token_digest, c.used_at.is_(None), c.expires_at > now)
            .values(used_at=now)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def latest_created(self, person_id: str) -> datetime | None:
        c = t.password_resets.c
        latest: datetime | None = self.session.scalar(select(func.max(c.created_at)).where(c.person_id == person_id))
        return latest

    def void_for(self, person_id: str, now: datetime) -> None:
        """Every outstanding link of the person stops working (their password was just set)."""
        c = t.password_resets.c
        self.session.execute(
            update(t.password_resets).where(c.person_id == person_id, c.used_at.is_(None)).values(used_at=now)
        )
