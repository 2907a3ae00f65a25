"""Push notifications survive crashes: 1,000 external changes while `horae serve` is SIGKILLed twice.

The deployment is the embedded one: one `horae serve` process with the worker inside it, SQLite for
data and the job queue, restarted each time on the same data directory and port. Application A
upserts 1,000 events into an account over HTTP (several requests at once, each retried until
accepted); application B has a channel on that account whose callback is a loopback receiver that
records every POST. The server is killed with SIGKILL twice while this goes on.

Then, bounded by a deadline, every delivery must be delivered. The test checks that every change
notification written to the outbox reached the receiver, with a valid signature and the stored
bytes; and it counts duplicates, showing that each one is a delivery whose copies bracket a kill and
whose job was claimed once per copy, i.e. an attempt that was in flight when the process died.
"""

from __future__ import annotations

import base64
import os
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pycronofy  # type: ignore[import-untyped]
import pytest
from sqlalchemy import select

from horae import bootstrap
from horae.container import Container
from horae.domain import scopes
from horae.domain.model import Job
from horae.domain.push import Delivery
from horae.services.push_policy import encode
from tests.conftest import fast_settings
from tests.e2e.processes import HoraeProcess, base_env, free_port
from tests.integration.test_push_delivery import Receiver

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("push_crash")]

CHANGES = 1000
CONCURRENT_REQUESTS = 8
KILL_AFTER = (300, 650)  # accepted upserts before each SIGKILL
WORKER_THREADS = 2
DELIVERY_DEADLINE = 90.0


@dataclass(frozen=True)
class Kill:
    killed_at: float  # just before SIGKILL
    restarted_at: float  # the new process answers /healthz


@dataclass
class Deployment:
    server: HoraeProcess
    ops: Container  # the operator's view of the same database (apps, grants, reading the outbox)
    receiver: Receiver
    a_token: str
    b_token: str
    b_secret: str
    calendar_id: str


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[Deployment]:
    data_dir = tmp_path / "data"
    secret_key = base64.b64encode(os.urandom(32)).decode()
    env = base_env(
        data_dir,
        HORAE_SECRET_KEY=secret_key,
        HORAE_JOB_POLL_SECONDS="0.2",
        HORAE_JOB_LEASE_SECONDS="5",
        HORAE_PUSH_TIMEOUT_SECONDS="2",
        HORAE_WORKER_THREADS=str(WORKER_THREADS),
        HORAE_RATE_LIMIT_PER_SECOND="100000",
        HORAE_RATE_LIMIT_PER_MINUTE="1000000",
        HORAE_LOG_LEVEL="WARNING",
    )
    port = free_port()
    server = HoraeProcess(["serve", "--no-demo", "--port", str(port)], env, tmp_path / "serve.log", port).start()
    database_url = f"sqlite:///{(data_dir / 'horae.db').resolve()}"
    ops = bootstrap.build(fast_settings(tmp_path / "ops", database_url=database_url, secret_key=secret_key))
    receiver = Receiver(delay=0.005)
    try:
        person = ops.accounts.sign_up("crash@example.com", "correct horse battery", "Crash")
        app_a = ops.applications.create("Changer A", ["https://a.example/cb"])
        app_b = ops.applications.create("Listener B", ["https://b.example/cb"])
        sub = person.account.id
        a = ops.oauth.issue_direct_grant(sub, app_a.application.id, scopes.ALL_SCOPES, 3600)
        b = ops.oauth.issue_direct_grant(sub, app_b.application.id, scopes.ALL_SCOPES, 3600)
        calendars = httpx.get(f"{server.url}/v1/calendars", headers=bearer(a.access_token), timeout=10)
        calendar_id = calendars.json()["calendars"][0]["calendar_id"]
        yield Deployment(server, ops, receiver, a.access_token, b.access_token, app_b.client_secret, calendar_id)
    finally:
        server.stop()
        receiver.close()
        ops.uow.engine.dispose()  # type: ignore[attr-defined]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class Changer:
    """Upserts events through the API, each retried until the server accepts it. A request whose
    answer was lost (the server died after reading it) may or may not have been applied; those are
    counted, as each can add one more change when retried."""

    def __init__(self, deployment: Deployment) -> None:
        self.url = f"{deployment.server.url}/v1/calendars/{deployment.calendar_id}/events"
        self.headers = bearer(deployment.a_token)
        self.accepted = 0
        self.unknown_outcomes = 0
        self.lock = threading.Lock()
        self.client = httpx.Client(timeout=10)

    def upsert(self, n: int) -> None:
        body = {
            "event_id": f"crash-{n}",
            "summary": f"Change {n}",
            "start": "2026-12-01T09:00:00Z",
            "end": "2026-12-01T10:00:00Z",
        }
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                response = self.client.post(self.url, json=body, headers=self.headers)
            except httpx.ConnectError:
                time.sleep(0.05)  # the server is down; nothing was sent
                continue
            except httpx.TransportError:
                with self.lock:
                    self.unknown_outcomes += 1
                time.sleep(0.05)
                continue
            if response.status_code == 202:
                with self.lock:
                    self.accepted += 1
                return
            assert response.status_code >= 500, response.text
            with self.lock:
                self.unknown_outcomes += 1
        raise AssertionError(f"upsert {n} was never accepted")


def outbox(ops: Container) -> tuple[list[Delivery], dict[str, Job]]:
    with ops.uow() as uow:
        session = uow.session  # type: ignore[attr-defined]
        deliveries = list(session.scalars(select(Delivery)))
        jobs = {job.id: job for job in session.scalars(select(Job))}
    return deliveries, jobs


def wait_until_everything_is_delivered(deployment: Deployment) -> tuple[list[Delivery], dict[str, Job]]:
    deadline = time.monotonic() + DELIVERY_DEADLINE
    while True:
        deliveries, jobs = outbox(deployment.ops)
        statuses = Counter(d.status for d in deliveries)
        received = {r.headers.get("horae-delivery-id") for r in deployment.receiver.received}
        if statuses == {"delivered": len(deliveries)} and {d.id for d in deliveries} <= received:
            return deliveries, jobs
        if time.monotonic() > deadline:
            raise AssertionError(f"not everything delivered after {DELIVERY_DEADLINE}s: {statuses}")
        time.sleep(0.25)


def test_every_change_is_notified_across_two_sigkills(deployment: Deployment) -> None:
    server, receiver = deployment.server, deployment.receiver
    started = time.monotonic()
    created = httpx.post(
        f"{server.url}/v1/channels",
        json={"callback_url": f"{receiver.url}", "filters": {"calendar_ids": [deployment.calendar_id]}},
        headers=bearer(deployment.b_token),
        timeout=10,
    )
    assert created.status_code == 200, created.text
    channel_id = created.json()["channel"]["channel_id"]

    changer = Changer(deployment)
    kills: list[Kill] = []
    with ThreadPoolExecutor(CONCURRENT_REQUESTS) as pool:
        futures = [pool.submit(changer.upsert, n) for n in range(CHANGES)]
        for threshold in KILL_AFTER:
            while changer.accepted < threshold:
                time.sleep(0.01)
            killed_at = time.time()
            server.kill()
            server.start()
            kills.append(Kill(killed_at, time.time()))
        for future in futures:
            future.result()
    changer.client.close()
    assert changer.accepted == CHANGES

    deliveries, jobs = wait_until_everything_is_delivered(deployment)
    elapsed = time.monotonic() - started

    # Every event exists, and every change written to the outbox reached the receiver.
    with deployment.ops.uow() as uow:
        events = uow.events.in_calendars([deployment.calendar_id])
    assert {e.event_id for e in events} == {f"crash-{n}" for n in range(CHANGES)}
    changes = [d for d in deliveries if d.kind == "change"]
    assert all(d.channel_id == channel_id for d in deliveries)
    assert [d.kind for d in deliveries].count("verification") == 1
    # One change per accepted upsert, plus at most one per request whose answer a kill swallowed.
    assert CHANGES <= len(changes) <= CHANGES + changer.unknown_outcomes

    copies: dict[str, list[float]] = defaultdict(list)
    stored = {d.id: encode(d.body) for d in deliveries}
    checker = pycronofy.Client(client_id="-", client_secret=deployment.b_secret)
    for received in receiver.received:
        delivery_id = received.headers["horae-delivery-id"]
        assert received.body == stored[delivery_id]
        assert checker.hmac_valid(received.signature, received.body.decode())
        copies[delivery_id].append(received.received_at)
    assert set(copies) == set(stored)
    for delivery in changes:
        notification = delivery.body["notification"]
        assert notification["type"] == "change" and notification["changes_since"].endswith("Z")

    # Duplicates: only attempts in flight at a kill. Each duplicated delivery's copies bracket a
    # kill, its job was claimed at least once per copy, and no more can exist than jobs that were
    # running when the two kills came (each process runs at most WORKER_THREADS + 1 jobs at once).
    duplicated = {d: sorted(times) for d, times in copies.items() if len(times) > 1}
    for delivery_id, times in duplicated.items():
        for earlier, later in zip(times, times[1:], strict=False):
            assert any(earlier < k.restarted_at and later > k.killed_at for k in kills), (delivery_id, times, kills)
        delivery = next(d for d in deliveries if d.id == delivery_id)
        assert jobs[str(delivery.job_id)].attempts >= len(times), delivery_id
    extra_copies = sum(len(times) - 1 for times in duplicated.values())
    assert extra_copies <= len(kills) * (WORKER_THREADS + 1)

    print(
        f"\npush crash test: {len(changes)} change notifications ({changer.unknown_outcomes} upserts with a lost "
        f"answer), {len(receiver.received)} POSTs received, {len(duplicated)} deliveries duplicated "
        f"({extra_copies} extra copies) across {len(kills)} SIGKILLs; all delivered {elapsed:.1f}s after the start"
    )
