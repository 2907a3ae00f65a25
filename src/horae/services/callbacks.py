"""Signed callbacks to URLs an application gave with a request (Enterprise Connect outcomes, and later
scheduling and conferencing callbacks), through the outbox: the job carrying the body is written in the
transaction that decided it, and is retried on the job runner's schedule until a 2xx arrives.

Like push deliveries, a callback is sent at least once: a worker killed between the POST and its "done"
mark sends the same bytes again after its lease lapses. `Horae-Delivery-Id` lets the receiver tell.
"""

from __future__ import annotations

import logging
from typing import Any

from horae.domain.hmac import HEADER, header_value
from horae.ports import Clock, UnitOfWork, WebhookSender
from horae.services.applications import ApplicationService
from horae.services.jobs import JobHandler, new_job
from horae.services.push import DELIVERY_ID_HEADER
from horae.services.push_policy import describe, encode, verdict

POST = "callback.post"
log = logging.getLogger(__name__)


class CallbackFailed(Exception):
    """The receiver did not answer 2xx in time; the job runner tries again later."""


class Callbacks:
    """Queues signed POSTs and sends them from the job runner."""

    def __init__(self, clock: Clock, applications: ApplicationService, sender: WebhookSender) -> None:
        self._clock = clock
        self._apps = applications
        self.sender = sender

    def queue(self, uow: UnitOfWork, application_id: str, url: str, body: dict[str, Any], kind: str) -> str:
        """Add the callback to `uow`; it is sent once that commits. Returns the job id."""
        job = new_job(self._clock, POST, {})
        job.payload = {"application_id": application_id, "url": url, "body": body, "kind": kind, "job_id": job.id}
        uow.jobs.add(job)
        return job.id

    def job_handlers(self) -> dict[str, JobHandler]:
        return {POST: self.post}

    def give_up_handlers(self) -> dict[str, JobHandler]:
        return {POST: self.given_up}

    def post(self, uow: UnitOfWork, payload: dict[str, Any]) -> None:
        """One attempt, signed with every active client secret of the application at the time of sending."""
        raw = encode(dict(payload["body"]))
        secrets = self._apps.active_secrets(str(payload["application_id"]))
        if not secrets:
            raise CallbackFailed("the application has no active client secret to sign with")
        headers = {HEADER: header_value(raw, secrets), DELIVERY_ID_HEADER: str(payload.get("job_id", ""))}
        response = self.sender.post(str(payload["url"]), raw, headers)
        if verdict(response) != "delivered":
            raise CallbackFailed(f"{payload.get('kind')} callback to {payload['url']}: {describe(response)}")

    def given_up(self, uow: UnitOfWork, payload: dict[str, Any]) -> None:
        log.error(
            "callback given up",
            extra={"kind": payload.get("kind"), "url": payload.get("url"), "error": payload.get("error")},
        )
