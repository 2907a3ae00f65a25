"""Push channel shapes: create and list (Cronofy's), and the delivery log (Horae's own)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from horae.domain.push import Channel, Delivery, DeliveryAttempt
from horae.domain.times import format_instant
from horae.services.push_policy import CALLBACK_URL_PATTERN, MAX_CALLBACK_URL, channel_info


class ChannelFilters(BaseModel):
    model_config = ConfigDict(extra="ignore")

    calendar_ids: list[str] | None = Field(None, min_length=1, description="Only changes in these calendars")
    only_managed: bool | None = Field(None, description="Only changes to events the application manages")


class CreateChannelRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    callback_url: str = Field(
        min_length=1,
        max_length=MAX_CALLBACK_URL,
        description="https; plain http only for loopback hosts in development mode",
        json_schema_extra={"pattern": CALLBACK_URL_PATTERN},
    )
    filters: ChannelFilters | None = None


class ChannelInfo(BaseModel):
    channel_id: str
    callback_url: str
    filters: dict[str, Any] = Field(description="As given at creation: `calendar_ids`, `only_managed`, or neither")
    closed_at: str | None = Field(None, description="Only on closed channels (listed with include_closed=true)")
    close_reason: str | None = Field(None, description="Only on closed channels: why it was closed")


class CreatedChannel(BaseModel):
    channel: ChannelInfo


class ChannelList(BaseModel):
    channels: list[ChannelInfo]


class ChannelState(BaseModel):
    channel_id: str
    callback_url: str
    filters: dict[str, Any]
    status: str = Field(description="`open` or `closed`")
    created_at: str
    closed_at: str | None
    close_reason: str = Field(description="Why the channel was closed; empty while open")


class AttemptInfo(BaseModel):
    attempted_at: str
    duration_ms: int
    status_code: int | None = Field(description="The receiver's HTTP status; null when no answer came")
    error: str = Field(description="Why the attempt failed; empty when the receiver answered in time")
    response_excerpt: str = Field(description="The first kilobyte of the receiver's answer")


class DeliveryInfo(BaseModel):
    delivery_id: str
    type: str = Field(description="The notification type: `verification`, `change`, ...")
    status: str = Field(description="`pending`, `delivered`, `failed` (given up) or `cancelled` (channel closed)")
    created_at: str
    delivered_at: str | None
    attempt_count: int
    notification: dict[str, Any] = Field(description="The exact body sent (every attempt sends the same bytes)")
    attempts: list[AttemptInfo] = Field(description="Oldest first")


class DeliveryLogResponse(BaseModel):
    channel: ChannelState
    deliveries: list[DeliveryInfo] = Field(description="Newest first")


def channel_out(channel: Channel) -> ChannelInfo:
    info = ChannelInfo(**channel_info(channel))
    if channel.closed_at is not None:
        info.closed_at = format_instant(channel.closed_at)
        info.close_reason = channel.close_reason
    return info


def channel_state(channel: Channel) -> ChannelState:
    return ChannelState(
        **channel_info(channel),
        status="open" if channel.closed_at is None else "closed",
        created_at=format_instant(channel.created_at),
        closed_at=format_instant(channel.closed_at) if channel.closed_at else None,
        close_reason=channel.close_reason,
    )


def delivery_info(delivery: Delivery, attempts: list[DeliveryAttempt]) -> DeliveryInfo:
    return DeliveryInfo(
        delivery_id=delivery.id,
        type=delivery.kind,
        status=delivery.status,
        created_at=format_instant(delivery.created_at),
        delivered_at=format_instant(delivery.delivered_at) if delivery.delivered_at else None,
        attempt_count=delivery.attempts,
        notification=delivery.body,
        attempts=[
            AttemptInfo(
                attempted_at=format_instant(a.attempted_at),
                duration_ms=a.duration_ms,
                status_code=a.status_code,
                error=a.error,
                response_excerpt=a.response_excerpt,
            )
            for a in attempts
        ],
    )
