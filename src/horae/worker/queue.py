"""The huey queue that carries outbox job ids to workers: SQLite embedded, Redis scaled out."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path

from huey import Huey, MemoryHuey, RedisHuey, SqliteHuey

log = logging.getLogger(__name__)


def build_huey(queue_url: str, data_dir: Path) -> Huey:
    """The huey instance that `HORAE_QUEUE_URL` selects."""
    if queue_url == "immediate":
        return MemoryHuey("horae", immediate=True, results=False)
    if queue_url.startswith(("redis://", "rediss://", "unix://")):
        return RedisHuey("horae", url=queue_url, results=False)
    if queue_url in ("", "sqlite"):
        data_dir.mkdir(parents=True, exist_ok=True)
        return SqliteHuey("horae", filename=str(data_dir / "queue.db"), results=False)
    raise ValueError(f"unsupported HORAE_QUEUE_URL {queue_url!r}: use sqlite, redis://... or immediate")


class HueyJobQueue:
    """Implements the JobQueue port: a wake-up is a huey task carrying one job id."""

    def __init__(self, huey: Huey) -> None:
        self.huey = huey
        self._run: Callable[[str], str] | None = None
        self._task = huey.task(name="horae.run_job")(self._execute)

    def bind(self, run: Callable[[str], str]) -> None:
        """Connect the function that runs a job by id (done once the runner exists)."""
        self._run = run

    def wake(self, job_ids: Sequence[str]) -> None:
        for job_id in job_ids:
            try:
                self._task(job_id)
            except Exception:  # noqa: BLE001 - the job is safe in the outbox; the sweeper will find it
                log.warning("could not enqueue job; the sweeper will pick it up", extra={"job_id": job_id})

    def _execute(self, job_id: str) -> None:
        # The outcome lives in the jobs table; huey keeps no results (they would pile up unread).
        if self._run is None:
            raise RuntimeError("job queue used before a runner was bound")
        self._run(job_id)
