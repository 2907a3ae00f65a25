"""Push deliveries over real HTTP to a loopback receiver, on each backend: signatures, retries with
identical bytes, the attempt log, giving up after the schedule (and closing the channel), 410,
timeouts, secret rotation, and a worker dying in the middle of an attempt.

Jobs are written through a unit-of-work factory whose queue only records wake-ups, so each job runs
when the test asks; the clock is fake, so back-offs pass at once.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pycronofy  # type: ignore[import-untyped]
import pytest

from horae.adapters.webhooks import HttpxWebhookSender
from horae.container import Container
from horae.db.uow import SqlUnitOfWorkFactory
from horae.domain import retry
from horae.domain.hmac import verify
from horae.domain.model import Job
from horae.domain.push import Channel, Delivery, DeliveryAttempt
from horae.domain.times import EventTime, parse_instant
from horae.ports import WebhookResponse
from horae.services.events import EventInput, EventService
from horae.services.jobs import JobRunner
from horae.services.oauth import AccessContext
from horae.services.push import PushService
from tests.fakes import FakeClock
from tests.helpers import Connected, connect, make_app
from tests.integration.test_job_runner import RecordingQueue

LEASE = timedelta(minutes=5)


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    received_at: float

    @property
    def json(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed

    @property
    def signature(self) -> str:
        return self.headers.get("cronofy-hmac-sha256", "")


@dataclass
class Receiver:
    """A loopback HTTP receiver: records every POST and answers from a script of statuses (then
    `default`), optionally after a delay."""

    default: int = 200
    delay: float = 0.0
    script: deque[int] = field(default_factory=deque)
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                if len(body) < length:
                    # The sender died mid-request (the crash tests SIGKILL it): a real receiver never
                    # sees a truncated POST as a delivery, so neither does this one.
                    self.close_connection = True
                    return
                with receiver.lock:
                    headers = {k.lower(): v for k, v in self.headers.items()}
                    receiver.received.append(Received(self.path, headers, body, time.time()))
                    status = receiver.script.popleft() if receiver.script else receiver.default
                    delay = receiver.delay
                if delay:
                    time.sleep(delay)
                answer = f"answer {status}".encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name="push-receiver", daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def of_type(self, kind: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.json["notification"]["type"] == kind]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@dataclass
class World:
    container: Container
    clock: FakeClock
    uow: SqlUnitOfWorkFactory
    push: PushService
    runner: JobRunner
    events: EventService
    owner: Connected  # the channel's application and account
    owner_ctx: AccessContext
    other_ctx: AccessContext  # another application on the same account
    calendar_id: str

    def run_pending(self) -> list[str]:
        """Run every job that is due now, as a worker would; returns their outcomes."""
        return [self.runner.run(job_id) for job_id in self.runner.due()]

    def channel(self, channel_id: str) -> Channel:
        with self.uow() as uow:
            found = uow.channels.get(channel_id)
        assert found is not None
        return found

    def deliveries(self, channel_id: str) -> list[tuple[Delivery, list[DeliveryAttempt]]]:
        return self.push.delivery_log(self.owner_ctx, channel_id, 100).deliveries

    def job(self, job_id: str) -> Job:
        with self.uow() as uow:
            found = uow.jobs.get(job_id)
        assert found is not None
        return found

    def change(self, event_id: str, ctx: AccessContext | None = None) -> None:
        start = EventTime(parse_instant("2026-12-01T09:00:00Z"), None, "Etc/UTC")
        end = EventTime(parse_instant("2026-12-01T10:00:00Z"), None, "Etc/UTC")
        self.events.upsert(
            ctx or self.other_ctx, self.calendar_id, EventInput("Planning", start, end, event_id=event_id)
        )


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    made = Receiver()
    yield made
    made.close()


@pytest.fixture
def sender() -> Iterator[HttpxWebhookSender]:
    made = HttpxWebhookSender(timeout=2.0)
    yield made
    made.close()


def build_world(container: Container, clock: FakeClock, sender: HttpxWebhookSender, **options: Any) -> World:
    uow = SqlUnitOfWorkFactory(container.uow.engine, RecordingQueue())  # type: ignore[attr-defined]
    schedule = options.pop("schedule", retry.SCHEDULE)
    push = PushService(uow, clock, container.applications, sender, schedule=schedule)
    runner = JobRunner(uow, clock, push.job_handlers(), lease=LEASE, schedule=schedule)
    events = EventService(uow, clock, container.calendars, push)
    owner = connect(container)
    other_app = make_app(container, "Changer")
    other = container.oauth.issue_direct_grant(owner.sub, other_app.application.id, "read_write", 3600)
    owner_ctx = container.oauth.authenticate(owner.tokens.access_token)
    with uow() as unit:
        [calendar] = unit.calendars.for_account(owner.sub)
    return World(
        container,
        clock,
        uow,
        push,
        runner,
        events,
        owner,
        owner_ctx,
        container.oauth.authenticate(other.access_token),
        calendar.id,
    )


@pytest.fixture
def world(container: Container, clock: FakeClock, sender: HttpxWebhookSender) -> World:
    return build_world(container, clock, sender)


def sdk(world: World, secret: str | None = None) -> Any:
    return pycronofy.Client(
        client_id=world.owner.app.application.client_id, client_secret=secret or world.owner.app.client_secret
    )


# --- the happy path ------------------------------------------------------------------------------------------------


def test_verification_and_change_arrive_signed(world: World, receiver: Receiver) -> None:
    channel = world.push.create_channel(world.owner_ctx, receiver.url, None, None)
    assert world.run_pending() == ["done"]
    [verification] = receiver.received
    assert verification.path == "/hook"
    assert verification.headers["content-type"] == "application/json; charset=utf-8"
    assert verification.headers["user-agent"].startswith("Horae/")
    assert verification.json == {
        "notification": {"type": "verification"},
        "channel": {"channel_id": channel.id, "callback_url": receiver.url, "filters": {}},
    }
    assert sdk(world).hmac_valid(verification.signature, verification.body.decode())

    world.clock.advance(seconds=1.5)
    changed_at = world.clock.now()
    world.change("ev-1")
    world.change("ev-own", world.owner_ctx)  # the channel's own application: no notification
    assert world.run_pending() == ["done"]
    [change] = receiver.of_type("change")
    since = change.json["notification"]["changes_since"]
    assert since == changed_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert sdk(world).hmac_valid(change.signature, change.body.decode())
    with world.uow() as uow:
        found = uow.events.changed_since([world.calendar_id], parse_instant(since))
    assert {e.event_id for e in found} == {"ev-1", "ev-own"}  # last_modified=changes_since finds the change

    log = {d.kind: (d, attempts) for d, attempts in world.deliveries(channel.id)}
    assert set(log) == {"verification", "change"}
    for kind, delivered_at in (("verification", changed_at - timedelta(seconds=1.5)), ("change", changed_at)):
        delivery, [attempt] = log[kind]
        assert (delivery.status, delivery.attempts, delivery.delivered_at) == ("delivered", 1, delivered_at)
        assert attempt.status_code == 200 and attempt.error == "" and attempt.response_excerpt == "answer 200"
        assert attempt.extra == {"job_attempt": 1}


# --- retries -------------------------------------------------------------------------------------------------------


def test_failures_are_retried_on_the_schedule_with_identical_bytes(world: World, receiver: Receiver) -> None:
    receiver.script.extend([503, 500, 302])
    channel = world.push.create_channel(world.owner_ctx, receiver.url, None, None)
    outcomes = world.run_pending()
    for delay in retry.SCHEDULE[:3]:
        assert world.run_pending() == []  # not due yet
        world.clock.advance(seconds=delay.total_seconds())
        outcomes += world.run_pending()
    assert outcomes == ["retry", "retry", "retry", "done"]

    assert len({r.body for r in receiver.received}) == 1
    assert len({r.signature for r in receiver.received}) == 1
    [(delivery, attempts)] = world.deliveries(channel.id)
    assert delivery.status == "delivered" and delivery.attempts == 4
    assert [a.status_code for a in attempts] == [503, 500, 302, 200]
    assert [a.extra["job_attempt"] for a in attempts] == [1, 2, 3, 4]
    assert [a.response_excerpt for a in attempts] == ["answer 503", "answer 500", "answer 302", "answer 200"]


def test_after_the_whole_schedule_the_channel_is_closed_and_says_why(world: World, receiver: Receiver) -> None:
    receiver.default = 500
    started = world.clock.now()
    channel = world.push.create_channel(world.owner_ctx, receiver.url, None, None)
    outcomes = world.run_pending()
    while outcomes[-1] == "retry":
        assert world.channel(channel.id).closed_at is None
        world.clock.advance(hours=9)
        outcomes += world.run_pending()
    assert outcomes == ["retry"] * len(retry.SCHEDULE) + ["failed"]
    assert world.clock.now() - started >= timedelta(hours=72)

    closed = world.channel(channel.id)
    assert closed.closed_at is not None
    assert closed.close_reason == (
        f"closed after {len(retry.SCHEDULE) + 1} failed delivery attempts over 79 hours; "
        "last attempt: the receiver answered 500"
    )
    [(delivery, attempts)] = world.deliveries(channel.id)
    assert delivery.status == "failed" and len(attempts) == len(retry.SCHEDULE) + 1
    assert world.job(str(delivery.job_id)).status == "failed"
    assert world.push.list_channels(world.owner_ctx) == []
    assert [c.close_reason for c in world.push.list_channels(world.owner_ctx, include_closed=True)] == [
        closed.close_reason
    ]

    # Nothing more is queued for the closed channel.
    world.change("after")
    assert world.run_pending() == []
    assert len(world.deliveries(channel.id)) == 1


def test_410_gone_closes_the_channel_without_retrying(world: World, receiver: Receiver) -> None:
    receiver.script.append(410)
    channel = world.push.create_channel(world.owner_ctx, receiver.url, None, None)
    assert world.run_pending() == ["done"]
    assert world.channel(channel.id).close_reason == "closed because the receiver answered 410 Gone"
    [(delivery, [attempt])] = world.deliveries(channel.id)
    assert delivery.status == "failed" and attempt.status_code == 410


def test_pending_deliveries_of_a_closed_channel_are_cancelled(world: World, receiver: Receiver) -> None:
    channel = world.push.create_channel(world.owner_ctx, receiver.url, None, None)
    world.change("ev-1")
    world.push.close_channel(world.owner_ctx, channel.id)
    assert world.run_pending() == ["done", "done"]
    assert receiver.received == []
    assert {d.status for d, _ in world.deliveries(channel.id)} == {"cancelled"}


def test_a_slow_receiver_times_out_and_is_retried(container: Container, clock: FakeClock, receiver: Receiver) -> None:
    quick = HttpxWebhookSender(timeout=0.3)
    try:
        world = build_world(container, clock, quick)
        receiver.delay = 1.0
        channel = world.push.create_channel(world.owner_ctx, receiver.url, None, None)
        assert world.run_pending() == ["retry"]
    finally:
        quick.close()
    [(delivery, [attempt])] = world.deliveries(channel.id)
    assert delivery.status == "pending"
    assert attempt.status_code is None and attempt.error.startswith("timed out after 0.3s")
    assert attempt.duration_ms >= 300


def test_an_unreachable_receiver_is_logged(world: World, receiver: Receiver) -> None:
    url = receiver.url
    receiver.close()  # nothing listens there any more
    channel = world.push.create_channel(world.owner_ctx, url, None, None)
    assert world.run_pending() == ["retry"]
    [(_, [attempt])] = world.deliveries(channel.id)
    assert attempt.status_code is None and "ConnectError" in attempt.error


# --- signatures during rotation --------------------------------------------------------------------------------------


def test_during_rotation_every_active_secret_signs(world: World, receiver: Receiver) -> None:
    old = world.owner.app.client_secret
    new = world.container.applications.rotate_secret(world.owner.app.application.client_id, timedelta(hours=1))
    world.push.create_channel(world.owner_ctx, receiver.url, None, None)
    assert world.run_pending() == ["done"]
    [verification] = receiver.received
    values = verification.signature.split(",")
    assert len(values) == 2 and " " not in verification.signature
    assert verify(values[0], verification.body, old) and verify(values[1], verification.body, new.client_secret)
    for secret in (old, new.client_secret):
        assert sdk(world, secret).hmac_valid(verification.signature, verification.body.decode())

    # Once the old secret has expired, only the new one signs.
    world.clock.advance(hours=2)
    world.change("ev-1")
    assert world.run_pending() == ["done"]
    [change] = receiver.of_type("change")
    assert "," not in change.signature
    assert sdk(world, new.client_secret).hmac_valid(change.signature, change.body.decode())
    assert not sdk(world, old).hmac_valid(change.signature, change.body.decode())


# --- redelivery, and a worker that dies ---------------------------------------------------------------------------


def test_redelivery_sends_the_same_bytes_and_supersedes_a_queued_retry(world: World, receiver: Receiver) -> None:
    receiver.script.append(503)
    channel = world.push.create_channel(world.owner_ctx, receiver.url, None, None)
    assert world.run_pending() == ["retry"]
    [(delivery, _)] = world.deliveries(channel.id)
    old_job = str(delivery.job_id)

    world.push.redeliver(world.owner_ctx, channel.id, delivery.id)
    assert world.run_pending() == ["done"]  # the new job, due at once; the old one waits for its back-off
    world.clock.advance(seconds=10)
    assert world.runner.run(old_job) == "done"  # superseded: sends nothing
    assert len(receiver.received) == 2 and receiver.received[0].body == receiver.received[1].body
    [(delivered, attempts)] = world.deliveries(channel.id)
    assert delivered.status == "delivered" and [a.status_code for a in attempts] == [503, 200]


class WorkerDied(BaseException):
    """Stands for the process dying: not an Exception, so nothing records it."""


class DiesAfterPosting:
    """A sender that POSTs and then 'dies' before anything is recorded, the first time only."""

    def __init__(self, inner: HttpxWebhookSender) -> None:
        self.inner = inner
        self.died = False

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> WebhookResponse:
        response = self.inner.post(url, body, headers)
        if not self.died:
            self.died = True
            raise WorkerDied()
        return response


def test_a_worker_dying_after_the_post_means_one_duplicate_and_nothing_lost(
    world: World, receiver: Receiver, sender: HttpxWebhookSender
) -> None:
    world.push.sender = DiesAfterPosting(sender)
    channel = world.push.create_channel(world.owner_ctx, receiver.url, None, None)
    [job_id] = world.runner.due()
    with pytest.raises(WorkerDied):
        world.runner.run(job_id)
    assert world.runner.due() == []  # held by the dead worker until its lease lapses
    world.clock.advance(seconds=LEASE.total_seconds() + 1)
    assert world.run_pending() == ["done"]

    first, second = receiver.received
    assert first.body == second.body and first.signature == second.signature
    [(delivery, [attempt])] = world.deliveries(channel.id)
    # Two claims of the job, one recorded attempt: the other was in flight when its worker died.
    assert world.job(job_id).attempts == 2
    assert delivery.status == "delivered" and attempt.extra == {"job_attempt": 2}
