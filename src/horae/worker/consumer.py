"""Consumers: huey's, inside the server or in `horae worker`, plus the sweeper that loses nothing."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from huey import Huey
from huey.consumer import Consumer

from horae.services.jobs import JobRunner

log = logging.getLogger(__name__)


class Sweeper(threading.Thread):
    """Every few seconds, runs jobs that are due but were never picked up: wake-ups lost in a crash,
    retries that came due, and jobs whose worker died holding them (their lease lapsed)."""

    def __init__(self, runner: JobRunner, interval: float) -> None:
        super().__init__(name="horae-sweeper", daemon=True)
        self._runner = runner
        self._interval = interval
        self._stopped = threading.Event()

    def run(self) -> None:
        # Leave fresh jobs to the queue for a moment so the sweeper rarely races it.
        grace = timedelta(seconds=self._interval)
        while not self._stopped.wait(self._interval):
            try:
                for job_id in self._runner.due(grace=grace):
                    if self._stopped.is_set():
                        return
                    self._runner.run(job_id)
            except Exception:
                log.exception("sweep failed; trying again next round")

    def stop(self) -> None:
        self._stopped.set()


class _QuietConsumer(Consumer):  # type: ignore[misc]  # huey ships no type hints
    """huey's consumer without its signal handlers, for running inside another server's process."""

    def _set_signal_handlers(self) -> None:
        pass


class EmbeddedWorker:
    """The Background port for the embedded deployment: consumer threads plus the sweeper."""

    def __init__(self, huey: Huey, runner: JobRunner, threads: int, interval: float) -> None:
        self._huey = huey
        self._runner = runner
        self._threads = threads
        self._interval = interval
        self._consumer: Consumer | None = None
        self._sweeper: Sweeper | None = None

    def start(self) -> None:
        if self._huey.immediate:
            return
        self._consumer = _QuietConsumer(
            self._huey, workers=self._threads, worker_type="thread", periodic=False, max_delay=1.0
        )
        self._consumer.start()
        self._sweeper = Sweeper(self._runner, self._interval)
        self._sweeper.start()
        log.info("embedded worker started", extra={"threads": self._threads})

    def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.stop()
        if self._consumer is not None:
            self._consumer.stop(graceful=True)
        if self._sweeper is not None:
            self._sweeper.join(timeout=30)


def run_worker(huey: Huey, runner: JobRunner, threads: int, interval: float) -> None:
    """`horae worker`: huey's consumer in the foreground (it handles SIGTERM/SIGINT) and the sweeper."""
    sweeper = Sweeper(runner, interval)
    sweeper.start()
    consumer = Consumer(huey, workers=threads, worker_type="thread", periodic=False, max_delay=1.0)
    try:
        consumer.run()
    finally:
        sweeper.stop()
        sweeper.join(timeout=30)
