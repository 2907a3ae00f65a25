"""Running outbox jobs: claim one safely, run its handler in a transaction, retry or give up."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

from horae.domain import ids, retry
from horae.domain.model import Job
from horae.ports import Clock, UnitOfWork, UnitOfWorkFactory

JobHandler = Callable[[UnitOfWork, dict[str, Any]], None]
log = logging.getLogger(__name__)


def new_job(clock: Clock, kind: str, payload: dict[str, Any], dedupe_key: str | None = None) -> Job:
    """A pending job, due now; add it to a unit of work to write it together with its cause."""
    now = clock.now()
    return Job(ids.new_id("job"), kind, payload, "pending", now, now, dedupe_key=dedupe_key)


class LeaseLost(Exception):
    """Another worker took the job over while this one still ran it."""


class JobRunner:
    """Executes jobs by id. Safe to call twice for one job, from any number of workers at once.

    A claim is fenced by the attempt number it set: a worker that outlives its lease finds the
    job claimed by a newer attempt and its work is rolled back, so no job's effects land twice.
    """

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        handlers: dict[str, JobHandler],
        lease: timedelta = timedelta(minutes=5),
        schedule: tuple[timedelta, ...] = retry.SCHEDULE,
        give_up: dict[str, JobHandler] | None = None,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._handlers = handlers
        # Per kind, what to do when a job is given up for good (e.g. close a push channel); it runs in
        # the transaction that marks the job failed, however the job came to fail.
        self._give_up = give_up or {}
        self._lease = lease
        self._schedule = schedule

    def run(self, job_id: str) -> str:
        """Run one job; returns what happened: done, skipped (not due, or taken), retry or failed."""
        with self._uow() as uow:
            if not uow.jobs.claim(job_id, self._clock.now(), self._lease):
                return "skipped"
            job = uow.jobs.get(job_id)
            assert job is not None
            attempt = job.attempts
            # Every earlier attempt ended without a word: its worker died. Such a job would kill
            # worker after worker, so it gets no more tries than one that fails politely.
            if attempt > len(self._schedule) + 1:
                error = "worker died during every attempt"
                if uow.jobs.finish(job_id, attempt, self._clock.now(), self._failed(error)):
                    self._on_give_up(uow, job, error)
                uow.commit()
                return "failed"
            uow.commit()
        try:
            with self._uow() as uow:
                handler = self._handlers.get(job.kind)
                if handler is None:
                    raise LookupError(f"no handler for job kind {job.kind!r}")
                handler(uow, dict(job.payload))
                # The handler's writes and the "done" mark commit together: a crash before this
                # commit leaves the job to run again, a crash after it leaves nothing to redo.
                if not uow.jobs.finish(
                    job_id, attempt, self._clock.now(), {"status": "done", "finished_at": self._clock.now()}
                ):
                    raise LeaseLost(job_id)
                uow.commit()
            log.info("job done", extra={"job_id": job_id, "kind": job.kind, "attempt": attempt})
            return "done"
        except LeaseLost:
            log.warning("job taken over by another worker; this attempt is discarded", extra={"job_id": job_id})
            return "skipped"
        except Exception as exc:  # noqa: BLE001 - any handler failure is recorded and retried
            return self._record_failure(job_id, attempt, exc)

    def due(self, limit: int = 100, grace: timedelta = timedelta(0)) -> Sequence[str]:
        """Jobs that should have started at least `grace` ago: missed wake-ups, retries that came
        due, and jobs of dead workers."""
        with self._uow() as uow:
            return uow.jobs.due(self._clock.now() - grace, limit)

    def _on_give_up(self, uow: UnitOfWork, job: Job, error: str) -> None:
        hook = self._give_up.get(job.kind)
        if hook is not None:
            hook(uow, {**job.payload, "error": error})

    def _failed(self, error: str) -> dict[str, object]:
        return {"status": "failed", "finished_at": self._clock.now(), "last_error": error[:2000]}

    def _record_failure(self, job_id: str, attempt: int, exc: Exception) -> str:
        error = f"{type(exc).__name__}: {exc}"[:2000]
        delay = retry.next_delay(attempt, self._schedule)
        asked = getattr(exc, "retry_after_seconds", None)
        if delay is not None and isinstance(asked, int) and asked > 0:
            delay = max(delay, timedelta(seconds=asked))  # a service that said when to come back (Retry-After)
        if delay is None:
            outcome = self._failed(error)
        else:
            outcome = {"status": "pending", "run_after": self._clock.now() + delay, "last_error": error}
        with self._uow() as uow:
            recorded = uow.jobs.finish(job_id, attempt, self._clock.now(), outcome)
            job = uow.jobs.get(job_id)
            if recorded and delay is None and job is not None:
                self._on_give_up(uow, job, error)
            uow.commit()
        if not recorded:
            return "skipped"
        log.warning("job failed", extra={"job_id": job_id, "error": error, "status": outcome["status"]})
        return "failed" if delay is None else "retry"
