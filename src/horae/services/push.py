"""Push notifications: channels, and deliveries queued through the outbox when calendars change.

How a notification travels:

1. The change (an event write) and its delivery rows, one per matching open channel, each with a
   `push.deliver` job, are written in one transaction (the outbox). A `verification` delivery is
   written with the channel itself.
2. A worker claims the job and POSTs the delivery's body, whose bytes were fixed when the delivery
   was written (`encode`), signed `Cronofy-HMAC-SHA256` with every active client secret of the
   channel's application at the time of the attempt.
3. Every attempt is recorded in its own transaction *before* the outcome is acted on, so the log
   survives a failing handler (whose transaction is rolled back) and a crash right after the POST.
4. A 2xx within the timeout marks the delivery delivered, in the same transaction as the job's
   "done" mark. A `410 Gone` closes the channel at once. Anything else raises, and the job runner
   tries again on `retry.SCHEDULE` (about 79 hours in all, see `retry.HORIZON`); when the last
   try fails the delivery is marked failed and the channel is closed with a reason its owner can
   read in the channel listing (`include_closed`) and the delivery log.

A worker killed between the POST and the "done" mark leaves the job to be run again after its
lease lapses: the receiver may then get the same notification twice (identical bytes), which is
the one way a duplicate arises.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from horae.domain import ids, retry
from horae.domain.events import Event
from horae.domain.hmac import HEADER, header_value
from horae.domain.push import Channel, Delivery, DeliveryAttempt
from horae.errors import FieldError, InvalidRequest, NotFound
from horae.ports import Clock, UnitOfWork, UnitOfWorkFactory, WebhookResponse, WebhookSender
from horae.services.applications import ApplicationService
from horae.services.jobs import JobHandler, new_job
from horae.services.oauth import AccessContext
from horae.services.push_policy import (
    _plausible_id,
    changes_since,
    channel_filters,
    check_callback_url,
    describe,
    encode,
    give_up_reason,
    gone_reason,
    is_last_try,
    matches,
    notification_body,
    verdict,
)

DELIVER = "push.deliver"
MAX_OPEN_CHANNELS = 128
DEFAULT_LOG_LIMIT = 50
MAX_LOG_LIMIT = 500
# Channels report changes to events, free/busy included: any read scope will do.
PERMISSION = "read_free_busy"
DELIVERY_ID_HEADER = "Horae-Delivery-Id"
CLOSED_BY_OWNER = "closed by the application (DELETE /v1/channels/{channel_id})"


class DeliveryFailed(Exception):
    """A delivery attempt did not get a timely 2xx; the job runner schedules the next try."""


# --- the service ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeliveryLog:
    """A channel with its most recent deliveries (newest first), each with its attempts (oldest first)."""

    channel: Channel
    deliveries: list[tuple[Delivery, list[DeliveryAttempt]]]


class PushService:
    """Channels and their notifications; also the ChangeNotifier that EventService calls."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        applications: ApplicationService,
        sender: WebhookSender,
        dev_mode: bool = True,
        schedule: tuple[timedelta, ...] = retry.SCHEDULE,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._apps = applications
        self.sender = sender  # public so tests can put a recording sender in
        self._dev_mode = dev_mode
        self._schedule = schedule

    # --- channels -----------------------------------------------------------------------------------------

    def create_channel(
        self, ctx: AccessContext, callback_url: str, calendar_ids: list[str] | None, only_managed: bool | None
    ) -> Channel:
        ctx.require(PERMISSION)
        check_callback_url(callback_url, self._dev_mode)
        if calendar_ids is not None and not calendar_ids:
            raise InvalidRequest.single(
                "filters.calendar_ids", "errors.required", "calendar_ids, when given, must not be empty"
            )
        with self._uow() as uow:
            uow.channels.lock_account(ctx.account_id)
            if calendar_ids is not None:
                owned = {c.id for c in uow.calendars.for_account(ctx.account_id) if not c.deleted}
                unknown = [c for c in calendar_ids if c not in owned]
                if unknown:
                    raise InvalidRequest.single(
                        "filters.calendar_ids", "errors.not_found", f"unknown calendars: {', '.join(unknown)}"
                    )
            if uow.channels.count_open(ctx.account_id) >= MAX_OPEN_CHANNELS:
                raise InvalidRequest(
                    {
                        "channels": [
                            FieldError(
                                "errors.too_many_channels",
                                f"an account can have at most {MAX_OPEN_CHANNELS} open channels",
                            )
                        ]
                    }
                )
            channel = Channel(
                id=ids.new_id("chn"),
                account_id=ctx.account_id,
                application_id=ctx.application_id,
                callback_url=callback_url,
                filters=channel_filters(calendar_ids, only_managed),
                created_at=self._clock.now(),
            )
            uow.channels.add(channel)
            uow.flush()
            self._queue(uow, channel, notification_body(channel, "verification"))
            uow.commit()
            return channel

    def list_channels(self, ctx: AccessContext, include_closed: bool = False) -> list[Channel]:
        """The calling application's channels on this account (open ones, unless asked)."""
        ctx.require(PERMISSION)
        with self._uow() as uow:
            return uow.channels.for_application(ctx.account_id, ctx.application_id, include_closed)

    def close_channel(self, ctx: AccessContext, channel_id: str) -> None:
        """Close one of the caller's channels; closing a closed one again changes nothing."""
        ctx.require(PERMISSION)
        with self._uow() as uow:
            channel = self._own_channel(uow, ctx, channel_id)
            if channel.closed_at is None:
                channel.closed_at = self._clock.now()
                channel.close_reason = CLOSED_BY_OWNER
                uow.commit()

    def delivery_log(self, ctx: AccessContext, channel_id: str, limit: int = DEFAULT_LOG_LIMIT) -> DeliveryLog:
        """The channel (open or closed, with why it closed) and its most recent deliveries."""
        ctx.require(PERMISSION)
        limit = max(1, min(limit, MAX_LOG_LIMIT))
        with self._uow() as uow:
            channel = self._own_channel(uow, ctx, channel_id)
            deliveries = uow.deliveries.for_channel(channel.id, limit)
            attempts: dict[str, list[DeliveryAttempt]] = {d.id: [] for d in deliveries}
            for attempt in uow.deliveries.attempts(list(attempts)) if attempts else []:
                attempts[attempt.delivery_id].append(attempt)
        return DeliveryLog(channel, [(d, attempts[d.id]) for d in deliveries])

    def redeliver(self, ctx: AccessContext, channel_id: str, delivery_id: str) -> Delivery:
        """Send one delivery again, now, with the same body; a fresh job with a fresh retry schedule.
        Any job still queued for it is superseded (it will do nothing)."""
        ctx.require(PERMISSION)
        with self._uow() as uow:
            channel = self._own_channel(uow, ctx, channel_id)
            delivery = uow.deliveries.get(delivery_id) if _plausible_id(delivery_id) else None
            if delivery is None or delivery.channel_id != channel.id:
                raise NotFound(f"no delivery {delivery_id} on channel {channel_id}")
            if channel.closed_at is not None:
                raise InvalidRequest.single(
                    "channel_id", "errors.channel_closed", "the channel is closed; create a new channel"
                )
            delivery.status = "pending"
            delivery.delivered_at = None
            delivery.job_id = self._add_job(uow, delivery.id)
            uow.commit()
            return delivery

    def _own_channel(self, uow: UnitOfWork, ctx: AccessContext, channel_id: str) -> Channel:
        channel = uow.channels.get(channel_id) if _plausible_id(channel_id) else None
        if channel is None or channel.account_id != ctx.account_id or channel.application_id != ctx.application_id:
            raise NotFound(f"no channel {channel_id}")
        return channel

    # --- the outbox ---------------------------------------------------------------------------------------

    def event_changed(self, uow: UnitOfWork, event: Event, changed_by: str | None) -> None:
        """Called inside the writing transaction for every event change: one delivery per matching
        open channel, written with the change."""
        self.events_changed(uow, [event], changed_by)

    def events_changed(self, uow: UnitOfWork, events: Sequence[Event], changed_by: str | None) -> None:
        """Many changes at once (a sync pass): still one `change` per matching channel, whose
        `changes_since` is the earliest of them. Most accounts have no open channel: one cheap EXISTS says so."""
        by_account: dict[str, list[Event]] = {}
        for event in events:
            by_account.setdefault(event.account_id, []).append(event)
        for account_id, changed in by_account.items():
            if not uow.channels.any_open(account_id):
                continue
            for channel in uow.channels.open_for_account(account_id):
                relevant = [e for e in changed if matches(channel, e, changed_by)]
                if relevant:
                    since = changes_since(min(e.updated_at for e in relevant))
                    self._queue(uow, channel, notification_body(channel, "change", since))

    def profile_notice(self, uow: UnitOfWork, account_id: str, kind: str) -> None:
        """A profile-level notification (`profile_initial_sync_completed`, `profile_disconnected`) to every
        open channel of the account, whichever application owns it; channels made later never hear it."""
        for channel in uow.channels.open_for_account(account_id):
            self._queue(uow, channel, notification_body(channel, kind))

    def _queue(self, uow: UnitOfWork, channel: Channel, body: dict[str, Any]) -> Delivery:
        delivery = Delivery(
            id=ids.new_id("dlv"),
            channel_id=channel.id,
            application_id=channel.application_id,
            kind=str(body["notification"]["type"]),
            body=body,
            status="pending",
            created_at=self._clock.now(),
        )
        uow.deliveries.add(delivery)
        delivery.job_id = self._add_job(uow, delivery.id)
        return delivery

    def _add_job(self, uow: UnitOfWork, delivery_id: str) -> str:
        job = new_job(self._clock, DELIVER, {})
        # The job knows its own id so that, once a redelivery has replaced it, it can tell.
        job.payload = {"delivery_id": delivery_id, "job_id": job.id}
        uow.jobs.add(job)
        return job.id

    # --- the worker side ----------------------------------------------------------------------------------

    def job_handlers(self) -> dict[str, JobHandler]:
        """The background jobs this service runs, by kind."""
        return {DELIVER: self.deliver}

    def give_up_handlers(self) -> dict[str, JobHandler]:
        """What to do when a job of this service fails for good, by kind."""
        return {DELIVER: self.given_up}

    def given_up(self, uow: UnitOfWork, payload: dict[str, Any]) -> None:
        """A delivery's job was given up without the delivery handler saying so (its worker died on
        every try): fail the delivery and close the channel, as after a last failed attempt."""
        delivery = uow.deliveries.get(str(payload.get("delivery_id", "")))
        if delivery is None or delivery.status != "pending" or delivery.job_id != payload.get("job_id"):
            return  # settled already, or a redelivery's newer job now speaks for it
        delivery.status = "failed"
        channel = uow.channels.get(delivery.channel_id)
        if channel is not None and channel.closed_at is None:
            channel.closed_at = self._clock.now()
            channel.close_reason = f"closed after the delivery was given up: {payload.get('error', 'unknown error')}"

    def deliver(self, uow: UnitOfWork, payload: dict[str, Any]) -> None:
        """One attempt at one delivery. `uow` is the job runner's transaction, which also carries the
        job's "done" mark; it is touched only after the POST, so no lock is held while waiting on the
        receiver. The attempt is recorded in a transaction of its own."""
        delivery_id = str(payload.get("delivery_id", ""))
        job_id = payload.get("job_id")
        with self._uow() as reading:
            delivery = reading.deliveries.get(delivery_id)
            if delivery is None or delivery.status != "pending" or (job_id and delivery.job_id != job_id):
                return  # delivered, given up, or superseded by a redelivery: nothing to send
            channel = reading.channels.get(delivery.channel_id)
            job = reading.jobs.get(str(job_id)) if job_id else None
        attempt = job.attempts if job is not None else 1
        if channel is None or channel.closed_at is not None:
            self._settle(uow, delivery_id, "cancelled")
            return

        raw = encode(delivery.body)
        secrets = self._apps.active_secrets(delivery.application_id)
        started = self._clock.now()
        if secrets:
            headers = {HEADER: header_value(raw, secrets), DELIVERY_ID_HEADER: delivery.id}
            response = self.sender.post(channel.callback_url, raw, headers)
        else:
            response = WebhookResponse(None, 0, "the application has no active client secret to sign with")
        outcome = verdict(response)
        close_reason = ""
        if outcome == "gone":
            close_reason = gone_reason()
        elif outcome == "failed" and is_last_try(attempt, self._schedule):
            close_reason = give_up_reason(self._schedule, response)
        self._record(delivery_id, channel.id, started, response, attempt, close_reason)

        if outcome == "delivered":
            self._settle(uow, delivery_id, "delivered")
        elif outcome == "failed":
            raise DeliveryFailed(f"delivery {delivery_id} to {channel.callback_url}: {describe(response)}")

    def _record(
        self,
        delivery_id: str,
        channel_id: str,
        started: datetime,
        response: WebhookResponse,
        attempt: int,
        close_reason: str,
    ) -> None:
        with self._uow() as recording:
            recording.deliveries.add_attempt(
                DeliveryAttempt(
                    id=ids.new_id("dla"),
                    delivery_id=delivery_id,
                    attempted_at=started,
                    duration_ms=response.duration_ms,
                    status_code=response.status_code,
                    error=response.error[:2000],
                    response_excerpt=response.excerpt,
                    extra={"job_attempt": attempt},
                )
            )
            delivery = recording.deliveries.get(delivery_id)
            if delivery is not None:
                delivery.attempts += 1
                if close_reason:
                    delivery.status = "failed"
            if close_reason:
                channel = recording.channels.get(channel_id)
                if channel is not None and channel.closed_at is None:
                    channel.closed_at = self._clock.now()
                    channel.close_reason = close_reason
            recording.commit()

    def _settle(self, uow: UnitOfWork, delivery_id: str, status: str) -> None:
        delivery = uow.deliveries.get(delivery_id)
        if delivery is not None and delivery.status == "pending":
            delivery.status = status
            if status == "delivered":
                delivery.delivered_at = self._clock.now()
