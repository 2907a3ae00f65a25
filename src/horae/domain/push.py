"""Push notification channels and the deliveries made to them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(eq=False)
class Channel:
    """An application's subscription to changes in an account's calendars (`chn_...`)."""

    id: str
    account_id: str
    application_id: str
    callback_url: str
    filters: dict[str, Any]
    created_at: datetime
    closed_at: datetime | None = None
    close_reason: str = ""


@dataclass(eq=False)
class Delivery:
    """One notification for one channel; its body is fixed when created so every retry sends the same bytes."""

    id: str
    channel_id: str
    application_id: str
    kind: str  # verification | change | profile_disconnected | ...
    body: dict[str, Any]
    status: str  # pending | delivered | failed
    created_at: datetime
    attempts: int = 0
    delivered_at: datetime | None = None
    job_id: str | None = None


@dataclass(eq=False)
class DeliveryAttempt:
    """One HTTP attempt at a delivery, kept for the owner to see."""

    id: str
    delivery_id: str
    attempted_at: datetime
    duration_ms: int
    status_code: int | None = None
    error: str = ""
    response_excerpt: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
