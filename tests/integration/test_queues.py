"""The real job transports: the embedded SQLite queue, Redis with a separate consumer, and the
sweeper that runs jobs whose wake-up never arrived. No test calls the runner itself.

In the transport tests the sweeper's interval is a minute, so only the queue can have delivered the
job; in the lost-wake-up tests the queue cannot deliver, so only the sweeper can.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from horae import bootstrap
from horae.api.app import create_app
from horae.container import Container
from horae.domain.model import Job
from horae.services.identity import REVOKE_PROFILE
from horae.services.jobs import new_job
from horae.settings import Settings
from horae.worker.consumer import Sweeper
from tests.conftest import redis_database_of_our_own
from tests.e2e.processes import free_port
from tests.helpers import Connected, connect

T = TypeVar("T")
BASE = "http://127.0.0.1:8000"
NO_SWEEP = 60.0  # seconds: longer than any test here, so the sweeper never gets a turn


def wait_for(what: str, probe: Callable[[], T | None], timeout: float = 10.0) -> T:
    """Poll until probe returns something truthy; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


@contextmanager
def containers(settings: Settings) -> Iterator[Callable[..., Container]]:
    """Makes containers on the test's database with the real clock (the sweeper needs time to pass);
    stops their workers on the way out."""
    built: list[Container] = []

    def make(**overrides: object) -> Container:
        container = bootstrap.build(settings.model_copy(update=overrides))
        built.append(container)
        return container

    try:
        yield make
    finally:
        for container in built:
            container.background.stop()
            container.uow.engine.dispose()  # type: ignore[attr-defined]


@pytest.fixture
def build(settings: Settings) -> Iterator[Callable[..., Container]]:
    with containers(settings) as make:
        yield make


@pytest.fixture
def build_on_redis(settings: Settings) -> Iterator[Callable[..., Container]]:
    """Containers whose queue is a Redis database of this test's own; their consumers stop before
    the database is given back, so none of them takes another test's wake-ups."""
    with redis_database_of_our_own(8, 11) as url, containers(settings.model_copy(update={"queue_url": url})) as make:
        yield make


def only_profile(container: Container, connected: Connected) -> str:
    with container.uow() as uow:
        return uow.profiles.for_account(connected.sub)[0].id


def jobs(container: Container) -> list[Job]:
    with container.uow() as uow:
        return list(uow.session.scalars(select(Job)))  # type: ignore[attr-defined]


def waiting(container: Container) -> list[str]:
    """Ids of the jobs whose wake-ups sit in the container's queue, not yet taken by a consumer."""
    return [task.args[0] for task in container.uow.queue.huey.pending()]  # type: ignore[attr-defined]


def finished_job(container: Container) -> Job:
    """Waits for the one job to finish; returns it."""

    def probe() -> Job | None:
        found = jobs(container)
        assert len(found) == 1
        return found[0] if found[0].status in ("done", "failed") else None

    return wait_for("the job to finish", probe)


def disconnected_through_api(client: TestClient, connected: Connected, profile_id: str) -> dict[str, object]:
    def probe() -> dict[str, object] | None:
        response = client.get("/v1/profiles", headers=connected.auth)
        assert response.status_code == 200, response.text
        profile = next(p for p in response.json()["profiles"] if p["profile_id"] == profile_id)
        return profile if profile["profile_connected"] is False else None

    return wait_for("the profile to show as disconnected", probe)


def revoke_through_api(client: TestClient, connected: Connected, profile_id: str) -> None:
    response = client.post(f"/v1/profiles/{profile_id}/revoke", headers=connected.auth)
    assert response.status_code == 202, response.text


def test_embedded_queue_runs_a_revoke_inside_the_server(build: Callable[..., Container], tmp_path: Path) -> None:
    container = build(queue_url="sqlite", embedded_worker=True, job_poll_seconds=NO_SWEEP)
    connected = connect(container)
    profile_id = only_profile(container, connected)

    # The app's lifespan starts the embedded worker, as `horae serve` does.
    with TestClient(create_app(container), base_url=BASE) as client:
        revoke_through_api(client, connected, profile_id)
        profile = disconnected_through_api(client, connected, profile_id)

    assert profile["profile_relink_url"] == f"{BASE}/profiles/{profile_id}/relink"
    assert (tmp_path / "queue.db").exists()
    job = finished_job(container)
    assert (job.kind, job.payload, job.status, job.attempts) == (
        REVOKE_PROFILE,
        {"profile_id": profile_id},
        "done",
        1,
    )


def test_redis_queue_carries_a_job_from_the_api_to_a_separate_consumer(
    build_on_redis: Callable[..., Container],
) -> None:
    api = build_on_redis(embedded_worker=False, job_poll_seconds=NO_SWEEP)
    worker = build_on_redis(embedded_worker=False, job_poll_seconds=NO_SWEEP)
    worker.background.start()
    connected = connect(api)
    profile_id = only_profile(api, connected)

    with TestClient(create_app(api), base_url=BASE) as client:
        revoke_through_api(client, connected, profile_id)
        disconnected_through_api(client, connected, profile_id)

    job = finished_job(api)
    assert (job.status, job.attempts, job.last_error) == ("done", 1, "")
    assert job.id not in waiting(api)


def test_a_wake_up_sent_while_no_consumer_runs_waits_in_redis(build_on_redis: Callable[..., Container]) -> None:
    api = build_on_redis(job_poll_seconds=NO_SWEEP)
    connected = connect(api)
    profile_id = only_profile(api, connected)
    api.identity.request_profile_revoke(api.oauth.authenticate(connected.tokens.access_token), profile_id)

    [job] = jobs(api)
    assert (job.status, job.attempts) == ("pending", 0)
    assert job.id in waiting(api)

    worker = build_on_redis(job_poll_seconds=NO_SWEEP)
    worker.background.start()
    job = finished_job(api)
    assert (job.status, job.attempts) == ("done", 1)
    assert job.id not in waiting(api)


def test_the_sweeper_runs_a_job_whose_wake_up_failed(
    build: Callable[..., Container], caplog: pytest.LogCaptureFixture
) -> None:
    dead_redis = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    container = build(queue_url=dead_redis, job_poll_seconds=0.2)
    connected = connect(container)
    profile_id = only_profile(container, connected)
    ctx = container.oauth.authenticate(connected.tokens.access_token)

    with caplog.at_level(logging.WARNING, logger="horae.worker.queue"):
        container.identity.request_profile_revoke(ctx, profile_id)  # accepted although the queue is down
    assert "could not enqueue job" in caplog.text
    [job] = jobs(container)
    assert (job.status, job.attempts) == ("pending", 0)

    sweeper = Sweeper(container.runner, interval=0.2)
    sweeper.start()
    try:
        job = finished_job(container)
    finally:
        sweeper.stop()
        sweeper.join(timeout=10)
    assert (job.status, job.attempts) == ("done", 1)
    [profile] = container.identity.identity(ctx).profiles
    assert (profile.status, profile.connected) == ("disconnected", False)


def test_the_embedded_worker_sweeps_up_a_job_committed_without_a_wake_up(build: Callable[..., Container]) -> None:
    container = build(queue_url="sqlite", job_poll_seconds=0.2)
    connected = connect(container)
    profile_id = only_profile(container, connected)
    container.background.start()

    # As if the process died between the commit and the wake-up.
    with container.uow() as uow:
        uow.jobs.add(new_job(container.clock, REVOKE_PROFILE, {"profile_id": profile_id}))
        uow.jobs.added.clear()  # type: ignore[attr-defined]
        uow.commit()
    assert waiting(container) == []

    job = finished_job(container)
    assert (job.status, job.attempts) == ("done", 1)
    with container.uow() as uow:
        profile = uow.profiles.get(profile_id)
        assert profile is not None and profile.status == "disconnected"


def test_the_queue_keeps_nothing_once_a_job_has_run(build: Callable[..., Container]) -> None:
    container = build(queue_url="sqlite", job_poll_seconds=NO_SWEEP)
    connected = connect(container)
    container.background.start()
    container.identity.request_profile_revoke(
        container.oauth.authenticate(connected.tokens.access_token), only_profile(container, connected)
    )
    assert finished_job(container).status == "done"
    container.background.stop()  # waits for the consumer to finish with the task

    huey = container.uow.queue.huey  # type: ignore[attr-defined]
    assert (huey.pending_count(), huey.scheduled_count(), huey.result_count()) == (0, 0, 0)
