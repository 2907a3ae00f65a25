"""The outbox job runner on each backend: exclusive claims, retries, dead workers, idempotence.

Jobs here are written through a unit-of-work factory over the container's engine whose queue
only records wake-ups, so nothing runs a job unless the test asks a runner to.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.exc import IntegrityError

from horae.container import Container
from horae.db.uow import SqlUnitOfWorkFactory
from horae.domain import retry
from horae.domain.model import Job
from horae.ports import UnitOfWork
from horae.services.jobs import JobHandler, JobRunner, new_job
from tests.fakes import FakeClock

KIND = "test.rename"


class RecordingQueue:
    """A JobQueue that only remembers which job ids it was woken for."""

    def __init__(self) -> None:
        self.woken: list[str] = []

    def wake(self, job_ids: Sequence[str]) -> None:
        self.woken.extend(job_ids)


class WorkerDied(BaseException):
    """Stands for the process dying inside a handler: not an Exception, so nothing records it."""


class Renamer:
    """A handler that renames a profile and counts how often it ran; optionally fails first."""

    def __init__(self, fail_times: int = 0, error: BaseException | None = None) -> None:
        self.calls = 0
        self.completed = 0
        self.fail_times = fail_times
        self.error = error or RuntimeError("boom")
        self._lock = threading.Lock()

    def __call__(self, uow: UnitOfWork, payload: dict[str, Any]) -> None:
        with self._lock:
            self.calls += 1
            failing = self.calls <= self.fail_times
        profile = uow.profiles.get(payload["profile_id"])
        assert profile is not None
        profile.name = payload["name"]
        uow.flush()  # the partial write reaches the database before the failure below
        if failing:
            raise self.error
        with self._lock:
            self.completed += 1


@pytest.fixture
def uow(container: Container) -> SqlUnitOfWorkFactory:
    return SqlUnitOfWorkFactory(container.uow.engine, RecordingQueue())  # type: ignore[attr-defined]


@pytest.fixture
def profile_id(container: Container) -> str:
    signed_up = container.accounts.sign_up("jobs@example.com", "correct horse battery", "Jobs")
    with container.uow() as uow:
        return uow.profiles.for_account(signed_up.account.id)[0].id


def runner_for(uow: SqlUnitOfWorkFactory, clock: FakeClock, handler: JobHandler, **options: Any) -> JobRunner:
    return JobRunner(uow, clock, {KIND: handler}, **options)


def add_job(uow: SqlUnitOfWorkFactory, clock: FakeClock, profile_id: str, name: str = "Renamed") -> str:
    job = new_job(clock, KIND, {"profile_id": profile_id, "name": name})
    with uow() as unit:
        unit.jobs.add(job)
        unit.commit()
    return job.id


def job_of(uow: SqlUnitOfWorkFactory, job_id: str) -> Job:
    with uow() as unit:
        job = unit.jobs.get(job_id)
    assert job is not None
    return job


def profile_name(uow: SqlUnitOfWorkFactory, profile_id: str) -> str:
    with uow() as unit:
        profile = unit.profiles.get(profile_id)
    assert profile is not None
    return profile.name


def test_jobs_wake_the_queue_only_once_committed(uow: SqlUnitOfWorkFactory, clock: FakeClock, profile_id: str) -> None:
    queue = uow.queue
    assert isinstance(queue, RecordingQueue)
    with uow() as unit:
        unit.jobs.add(new_job(clock, KIND, {"profile_id": profile_id, "name": "x"}))
        # Rolled back: neither a row nor a wake-up.
    assert queue.woken == []
    with uow() as unit:
        assert unit.jobs.counts() == {}
    job_id = add_job(uow, clock, profile_id)
    assert queue.woken == [job_id]
    assert job_of(uow, job_id).status == "pending"


def test_a_job_runs_once_and_is_marked_done(uow: SqlUnitOfWorkFactory, clock: FakeClock, profile_id: str) -> None:
    handler = Renamer()
    runner = runner_for(uow, clock, handler)
    job_id = add_job(uow, clock, profile_id)
    assert runner.due() == [job_id]

    assert runner.run(job_id) == "done"

    job = job_of(uow, job_id)
    assert (job.status, job.attempts, job.locked_until, job.last_error) == ("done", 1, None, "")
    assert job.finished_at == clock.now()
    assert handler.calls == 1
    assert profile_name(uow, profile_id) == "Renamed"
    assert runner.due() == []


def test_a_done_job_is_never_run_again(uow: SqlUnitOfWorkFactory, clock: FakeClock, profile_id: str) -> None:
    handler = Renamer()
    runner = runner_for(uow, clock, handler)
    job_id = add_job(uow, clock, profile_id)
    assert runner.run(job_id) == "done"

    # A duplicate wake-up, a second worker, or a sweep long after: all leave it alone.
    assert runner.run(job_id) == "skipped"
    assert runner_for(uow, clock, handler).run(job_id) == "skipped"
    clock.advance(days=30)
    assert runner.due() == []
    assert runner.run(job_id) == "skipped"

    job = job_of(uow, job_id)
    assert (job.status, job.attempts) == ("done", 1)
    assert handler.calls == 1


def test_racing_runners_run_each_job_exactly_once(uow: SqlUnitOfWorkFactory, clock: FakeClock, profile_id: str) -> None:
    handler = Renamer()
    job_ids = [add_job(uow, clock, profile_id, name=f"Round {n}") for n in range(8)]
    outcomes: dict[str, list[str]] = {job_id: [] for job_id in job_ids}
    errors: list[BaseException] = []

    def race(job_id: str, barrier: threading.Barrier) -> None:
        runner = runner_for(uow, clock, handler)  # a runner per worker, sharing only the database
        try:
            barrier.wait(timeout=10)
            outcomes[job_id].append(runner.run(job_id))
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    for job_id in job_ids:
        barrier = threading.Barrier(2)
        threads = [threading.Thread(target=race, args=(job_id, barrier)) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)

    assert errors == []
    for job_id in job_ids:
        assert sorted(outcomes[job_id]) == ["done", "skipped"], outcomes[job_id]
        job = job_of(uow, job_id)
        assert (job.status, job.attempts) == ("done", 1)
    assert handler.calls == handler.completed == len(job_ids)


def test_a_failing_job_is_retried_on_the_schedule_and_its_writes_rolled_back(
    uow: SqlUnitOfWorkFactory, clock: FakeClock, profile_id: str
) -> None:
    handler = Renamer(fail_times=2)
    runner = runner_for(uow, clock, handler)
    original = profile_name(uow, profile_id)
    job_id = add_job(uow, clock, profile_id)

    assert runner.run(job_id) == "retry"
    job = job_of(uow, job_id)
    assert (job.status, job.attempts, job.locked_until) == ("pending", 1, None)
    assert job.run_after == clock.now() + retry.SCHEDULE[0]
    assert job.last_error == "RuntimeError: boom"
    assert job.finished_at is None
    assert profile_name(uow, profile_id) == original  # the failed attempt's rename was rolled back

    # Not due yet: neither a wake-up nor a sweep runs it early.
    assert runner.due() == []
    assert runner.run(job_id) == "skipped"
    clock.advance(seconds=retry.SCHEDULE[0].total_seconds() - 1)
    assert runner.run(job_id) == "skipped"
    clock.advance(seconds=1)
    assert runner.due() == [job_id]

    assert runner.run(job_id) == "retry"
    job = job_of(uow, job_id)
    assert (job.status, job.attempts) == ("pending", 2)
    assert job.run_after == clock.now() + retry.SCHEDULE[1]
    assert profile_name(uow, profile_id) == original

    clock.advance(seconds=retry.SCHEDULE[1].total_seconds())
    assert runner.run(job_id) == "done"
    job = job_of(uow, job_id)
    assert (job.status, job.attempts) == ("done", 3)
    assert profile_name(uow, profile_id) == "Renamed"
    assert handler.calls == 3 and handler.completed == 1


def test_after_the_whole_schedule_a_job_is_failed_and_keeps_its_last_error(
    uow: SqlUnitOfWorkFactory, clock: FakeClock, profile_id: str
) -> None:
    handler = Renamer(fail_times=10_000, error=ValueError("receiver says no"))
    runner = runner_for(uow, clock, handler)
    original = profile_name(uow, profile_id)
    job_id = add_job(uow, clock, profile_id)
    started = clock.now()

    for attempt, delay in enumerate(retry.SCHEDULE, start=1):
        assert runner.due() == [job_id]
        assert runner.run(job_id) == "retry"
        job = job_of(uow, job_id)
        assert (job.status, job.attempts) == ("pending", attempt)
        assert job.run_after == clock.now() + delay
        clock.advance(seconds=delay.total_seconds())

    assert clock.now() - started == retry.HORIZON
    assert runner.run(job_id) == "failed"
    job = job_of(uow, job_id)
    assert (job.status, job.attempts) == ("failed", len(retry.SCHEDULE) + 1)
    assert job.last_error == "ValueError: receiver says no"
    assert job.finished_at == clock.now()
    assert job.locked_until is None
    assert handler.calls == len(retry.SCHEDULE) + 1
    assert profile_name(uow, profile_id) == original

    # Given up means given up: no sweep or wake-up brings it back.
    clock.advance(days=30)
    assert runner.due() == []
    assert runner.run(job_id) == "skipped"
    assert handler.calls == len(retry.SCHEDULE) + 1


def test_a_job_without_a_handler_is_recorded_as_a_failure(
    uow: SqlUnitOfWorkFactory, clock: FakeClock, profile_id: str
) -> None:
    job = new_job(clock, "test.unknown", {})
    with uow() as unit:
        unit.jobs.add(job)
        unit.commit()
    assert runner_for(uow, clock, Renamer()).run(job.id) == "retry"
    stored = job_of(uow, job.id)
    assert stored.status == "pending"
    assert "no handler for job kind 'test.unknown'" in stored.last_error


def test_a_job_whose_worker_died_is_picked_up_again_once_its_lease_lapses(
    uow: SqlUnitOfWorkFactory, clock: FakeClock, profile_id: str
) -> None:
    lease = timedelta(minutes=5)
    original = profile_name(uow, profile_id)
    job_id = add_job(uow, clock, profile_id)

    # The first worker claims the job and dies in the middle of the handler: nothing records it.
    dying = Renamer(fail_times=1, error=WorkerDied())
    with pytest.raises(WorkerDied):
        runner_for(uow, clock, dying, lease=lease).run(job_id)
    job = job_of(uow, job_id)
    assert (job.status, job.attempts) == ("running", 1)
    assert job.locked_until == clock.now() + lease
    assert profile_name(uow, profile_id) == original  # its uncommitted write is gone

    survivor = Renamer()
    runner = runner_for(uow, clock, survivor, lease=lease)
    # While the lease holds, the job is taken: other workers and the sweeper leave it alone.
    clock.advance(seconds=lease.total_seconds() - 1)
    assert runner.due() == []
    assert runner.run(job_id) == "skipped"
    assert survivor.calls == 0

    clock.advance(seconds=2)
    assert runner.due() == [job_id]
    assert runner.run(job_id) == "done"
    job = job_of(uow, job_id)
    assert (job.status, job.attempts, job.locked_until) == ("done", 2, None)
    assert profile_name(uow, profile_id) == "Renamed"
    assert survivor.calls == 1
    assert runner.run(job_id) == "skipped"


def test_a_job_that_kills_every_worker_is_given_up_after_the_schedule(
    uow: SqlUnitOfWorkFactory, clock: FakeClock, profile_id: str
) -> None:
    lease = timedelta(minutes=5)
    handler = Renamer(fail_times=10_000, error=WorkerDied())
    runner = runner_for(uow, clock, handler, lease=lease)
    job_id = add_job(uow, clock, profile_id)
    for _ in range(len(retry.SCHEDULE) + 1):  # as many tries as a job that raises gets
        with pytest.raises(WorkerDied):
            runner.run(job_id)
        clock.advance(seconds=lease.total_seconds() + 1)

    assert runner.run(job_id) == "failed"  # given up without running the handler again
    assert handler.calls == len(retry.SCHEDULE) + 1
    stored = job_of(uow, job_id)
    assert stored.status == "failed" and "worker died" in stored.last_error
    assert runner.due() == []


def test_due_lists_what_a_sweep_should_run_oldest_first_within_its_limit(
    uow: SqlUnitOfWorkFactory, clock: FakeClock, profile_id: str
) -> None:
    runner = runner_for(uow, clock, Renamer())
    first = add_job(uow, clock, profile_id)
    clock.advance(seconds=1)
    second = add_job(uow, clock, profile_id)
    clock.advance(seconds=1)
    third = add_job(uow, clock, profile_id)
    assert runner.due() == [first, second, third]
    assert runner.due(limit=2) == [first, second]
    # The grace period leaves jobs younger than it to their wake-up.
    assert runner.due(grace=timedelta(seconds=1)) == [first, second]
    assert runner.run(second) == "done"
    assert runner.due() == [first, third]


def test_a_dedupe_key_admits_one_job(uow: SqlUnitOfWorkFactory, clock: FakeClock, profile_id: str) -> None:
    payload = {"profile_id": profile_id, "name": "x"}
    with uow() as unit:
        unit.jobs.add(new_job(clock, KIND, payload, dedupe_key="rename:once"))
        unit.commit()
    with uow() as unit, pytest.raises(IntegrityError):
        unit.jobs.add(new_job(clock, KIND, payload, dedupe_key="rename:once"))
        unit.commit()
    with uow() as unit:
        assert unit.jobs.counts() == {"pending": 1}
    assert isinstance(uow.queue, RecordingQueue)
    assert len(uow.queue.woken) == 1


class SlowRenamer(Renamer):
    """A handler that is still working when its lease lapses: meanwhile another worker takes over."""

    def __init__(self, clock: FakeClock, lease: timedelta, meanwhile: JobRunner, job_id: str) -> None:
        super().__init__()
        self.clock, self.lease, self.meanwhile, self.job_id = clock, lease, meanwhile, job_id

    def __call__(self, uow: UnitOfWork, payload: dict[str, Any]) -> None:
        # Stalls past its lease before touching anything (holding no locks), while a second
        # worker takes the job over and finishes it; then it carries on as if nothing happened.
        self.clock.advance(seconds=self.lease.total_seconds() + 1)
        assert self.meanwhile.run(self.job_id) == "done"
        super().__call__(uow, {**payload, "name": "Slow"})


def test_a_worker_that_outlives_its_lease_does_not_apply_the_job_twice(
    uow: SqlUnitOfWorkFactory, clock: FakeClock, profile_id: str
) -> None:
    lease = timedelta(minutes=5)
    job_id = add_job(uow, clock, profile_id, name="Fast")
    fast = Renamer()
    slow = SlowRenamer(clock, lease, runner_for(uow, clock, fast, lease=lease), job_id)
    assert runner_for(uow, clock, slow, lease=lease).run(job_id) == "skipped"
    job = job_of(uow, job_id)
    assert (job.status, job.attempts) == ("done", 2)
    assert profile_name(uow, profile_id) == "Fast"  # the slow attempt's write was rolled back
    assert (fast.completed, slow.completed) == (1, 1)


class GiveUpRecorder:
    """A give-up hook that writes where the test can see it, in the transaction that fails the job."""

    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []

    def __call__(self, uow: UnitOfWork, payload: dict[str, Any]) -> None:
        self.seen.append(payload)
        profile = uow.profiles.get(payload["profile_id"])
        assert profile is not None
        profile.name = "Given up"


def test_the_give_up_hook_runs_once_when_a_job_fails_for_good(
    uow: SqlUnitOfWorkFactory, clock: FakeClock, profile_id: str
) -> None:
    hook = GiveUpRecorder()
    schedule = (timedelta(seconds=1),)
    runner = JobRunner(uow, clock, {KIND: Renamer(fail_times=10)}, schedule=schedule, give_up={KIND: hook})
    job_id = add_job(uow, clock, profile_id)
    assert runner.run(job_id) == "retry"
    assert hook.seen == [] and profile_name(uow, profile_id) != "Given up"
    clock.advance(seconds=2)
    assert runner.run(job_id) == "failed"
    assert [p["error"] for p in hook.seen] == ["RuntimeError: boom"]
    assert profile_name(uow, profile_id) == "Given up"


def test_the_give_up_hook_also_runs_for_a_job_that_killed_every_worker(
    uow: SqlUnitOfWorkFactory, clock: FakeClock, profile_id: str
) -> None:
    hook = GiveUpRecorder()
    lease = timedelta(seconds=10)
    schedule = (timedelta(seconds=1),)
    dying = Renamer(fail_times=10_000, error=WorkerDied())
    runner = JobRunner(uow, clock, {KIND: dying}, lease=lease, schedule=schedule, give_up={KIND: hook})
    job_id = add_job(uow, clock, profile_id)
    for _ in range(len(schedule) + 1):
        with pytest.raises(WorkerDied):
            runner.run(job_id)
        clock.advance(seconds=lease.total_seconds() + 1)
    assert runner.run(job_id) == "failed"
    assert [p["error"] for p in hook.seen] == ["worker died during every attempt"]
    assert profile_name(uow, profile_id) == "Given up"
