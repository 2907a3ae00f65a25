"""The scale-out deployment for real: PostgreSQL + Redis, two `horae serve` processes without a
worker, and `horae worker` processes, each with its own data directory (they share nothing else).

The schema comes from `horae migrate` and the first account from `horae account create`; the
application, further accounts and all tokens are made in-process against the same database, as an
operator's tooling could. Everything a client does goes over HTTP to the API processes. Each test
counts how often its job ran: the jobs table (attempts) and the workers' logs ("job done" lines).
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from sqlalchemy import select

from horae import bootstrap
from horae.container import Container
from horae.domain import scopes
from horae.domain.model import Job
from horae.services.identity import REVOKE_PROFILE
from horae.worker.queue import HueyJobQueue, build_huey
from tests.conftest import drop_postgres_database, fast_settings, fresh_postgres_database, redis_database_of_our_own
from tests.e2e.processes import HORAE, HoraeProcess, base_env, free_port

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("scale_out")]

T = TypeVar("T")
PASSWORD = "correct horse battery"


def wait_for(what: str, probe: Callable[[], T | None], timeout: float = 20.0) -> T:
    """Poll until probe returns something truthy; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.1)


@dataclass
class User:
    sub: str
    token: str
    profile_id: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class Cluster:
    """The running deployment: API processes, the current worker, and an operator's container."""

    root: Path
    env: dict[str, str]
    queue_url: str
    client_id: str
    ops: Container
    api: dict[str, HoraeProcess] = field(default_factory=dict)
    workers: list[HoraeProcess] = field(default_factory=list)

    def process(self, name: str, args: list[str], port: int | None = None) -> HoraeProcess:
        data_dir = self.root / name
        env = {**self.env, "HORAE_DATA_DIR": str(data_dir)}
        return HoraeProcess(args, env, self.root / f"{name}.log", port)

    def start_api(self, name: str) -> HoraeProcess:
        port = free_port()
        self.api[name] = self.process(f"api-{name}-{port}", ["serve", "--no-demo", "--port", str(port)], port).start()
        return self.api[name]

    def start_worker(self) -> HoraeProcess:
        worker = self.process(f"worker-{len(self.workers) + 1}", ["worker"]).start()
        self.workers.append(worker)
        return worker

    @property
    def worker(self) -> HoraeProcess:
        return self.workers[-1]

    def new_user(self, email: str) -> User:
        signed_up = self.ops.accounts.sign_up(email, PASSWORD, email.split("@")[0])
        return self.user(signed_up.account.id)

    def user(self, sub: str) -> User:
        """A token for an existing account, issued directly (no browser) by the operator's container."""
        app = self.ops.applications.get(self.client_id)
        grant = self.ops.oauth.issue_direct_grant(sub, app.id, scopes.ALL_SCOPES, 3600)
        with self.ops.uow() as uow:
            [profile] = uow.profiles.for_account(sub)
        return User(sub, grant.access_token, profile.id)

    def job_for(self, profile_id: str) -> Job:
        with self.ops.uow() as uow:
            found = [
                job
                for job in uow.session.scalars(select(Job))  # type: ignore[attr-defined]
                if job.kind == REVOKE_PROFILE and job.payload == {"profile_id": profile_id}
            ]
        assert len(found) == 1, found
        return found[0]

    def executions(self, job_id: str) -> int:
        """How many times any worker finished this job, from their JSON logs."""
        count = 0
        for worker in self.workers:
            for line in worker.log().splitlines():
                if line.startswith("{"):
                    entry = json.loads(line)
                    count += entry.get("message") == "job done" and entry.get("job_id") == job_id
        return count

    def waiting_in_redis(self) -> list[str]:
        """Job ids whose wake-ups sit in the Redis queue, not yet taken by a worker."""
        queue = HueyJobQueue(build_huey(self.queue_url, self.root))
        return [task.args[0] for task in queue.huey.pending()]


def horae(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([*HORAE, *args], env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, f"horae {args} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def values(output: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in output.splitlines() if "=" in line)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    root = tmp_path_factory.mktemp("scale_out")
    secret_key = base64.b64encode(os.urandom(32)).decode()  # shared by every process, as in production
    with redis_database_of_our_own(12, 15) as queue_url:
        database_url = fresh_postgres_database("scaleout")
        env = base_env(
            root / "cli",
            HORAE_DATABASE_URL=database_url,
            HORAE_QUEUE_URL=queue_url,
            HORAE_EMBEDDED_WORKER="false",
            HORAE_SECRET_KEY=secret_key,
        )
        ops = bootstrap.build(fast_settings(root / "ops", database_url=database_url, secret_key=secret_key))
        made = Cluster(root, env, queue_url, "", ops)
        try:
            horae(env, "migrate")
            made.client_id = ops.applications.create("Scale-out", ["https://app.example/cb"]).application.client_id
            made.start_worker()
            with ThreadPoolExecutor(2) as pool:  # no process needs another to be up first
                for started in [pool.submit(made.start_api, name) for name in ("a", "b")]:
                    started.result()
            yield made
        finally:
            for proc in [*made.api.values(), *made.workers]:
                proc.stop()
            ops.uow.engine.dispose()  # type: ignore[attr-defined]
            drop_postgres_database(database_url)


def get_profile(server: HoraeProcess, user: User) -> dict[str, Any]:
    response = httpx.get(f"{server.url}/v1/profiles", headers=user.auth, timeout=10)
    assert response.status_code == 200, response.text
    [profile] = response.json()["profiles"]
    assert profile["profile_id"] == user.profile_id
    return dict(profile)


def revoke(server: HoraeProcess, user: User) -> None:
    response = httpx.post(f"{server.url}/v1/profiles/{user.profile_id}/revoke", headers=user.auth, timeout=10)
    assert response.status_code == 202, response.text


def disconnected(server: HoraeProcess, user: User) -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        profile = get_profile(server, user)
        return profile if profile["profile_connected"] is False else None

    return wait_for(f"{server.url} to show the profile disconnected", probe)


def ran_once(cluster: Cluster, user: User) -> None:
    def done() -> Job | None:
        job = cluster.job_for(user.profile_id)
        return job if job.status == "done" else None

    job = wait_for("the job to be done", done)
    assert (job.attempts, job.last_error) == (1, "")
    wait_for("the worker to log the job", lambda: cluster.executions(job.id))
    assert cluster.executions(job.id) == 1


def test_a_job_accepted_by_one_api_process_is_run_by_the_worker_and_seen_through_the_other(cluster: Cluster) -> None:
    sub = values(horae(cluster.env, "account", "create", "--email", "first@example.com", "--password", PASSWORD))["sub"]
    user = cluster.user(sub)
    a, b = cluster.api["a"], cluster.api["b"]
    assert get_profile(b, user)["profile_connected"] is True

    revoke(a, user)

    profile = disconnected(b, user)
    assert profile["profile_relink_url"] == f"{b.url}/profiles/{user.profile_id}/relink"
    assert get_profile(a, user)["profile_connected"] is False
    ran_once(cluster, user)


def test_a_job_accepted_while_the_worker_is_dead_runs_once_a_new_worker_starts(cluster: Cluster) -> None:
    user = cluster.new_user("second@example.com")
    cluster.worker.kill()

    revoke(cluster.api["a"], user)

    job = cluster.job_for(user.profile_id)
    assert (job.status, job.attempts) == ("pending", 0)
    assert job.id in cluster.waiting_in_redis()
    time.sleep(1.5)  # three sweep intervals of a worker, had one been running: the job must wait
    assert cluster.job_for(user.profile_id).status == "pending"
    assert get_profile(cluster.api["b"], user)["profile_connected"] is True

    cluster.start_worker()

    disconnected(cluster.api["b"], user)
    ran_once(cluster, user)
    assert job.id not in cluster.waiting_in_redis()


def test_an_api_process_killed_right_after_its_202_loses_nothing(cluster: Cluster) -> None:
    user = cluster.new_user("third@example.com")
    b = cluster.api["b"]

    revoke(b, user)
    b.kill()

    disconnected(cluster.api["a"], user)
    ran_once(cluster, user)
    restarted = cluster.start_api("b")
    assert get_profile(restarted, user)["profile_connected"] is False


def test_a_job_accepted_with_no_worker_and_then_its_api_process_killed_still_runs_once(cluster: Cluster) -> None:
    user = cluster.new_user("fourth@example.com")
    cluster.worker.kill()
    a = cluster.api["a"]

    revoke(a, user)
    a.kill()
    assert cluster.job_for(user.profile_id).status == "pending"

    cluster.start_worker()
    restarted = cluster.start_api("a")
    disconnected(restarted, user)
    ran_once(cluster, user)


def test_no_job_of_the_deployment_ran_twice(cluster: Cluster) -> None:
    """Across all the kills above: every job in the table finished on its first and only claim."""
    with cluster.ops.uow() as uow:
        jobs = list(uow.session.scalars(select(Job)))  # type: ignore[attr-defined]
    for job in jobs:
        assert (job.status, job.attempts, cluster.executions(job.id)) == ("done", 1, 1), job
