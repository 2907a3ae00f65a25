"""Push notifications: channels, and deliveries queued through the outbox when calendars change."""

from __future__ import annotations

from horae.domain.events import Event
from horae.ports import Clock, UnitOfWork, UnitOfWorkFactory
from horae.services.applications import ApplicationService
from horae.services.jobs import JobHandler


class PushService:
    """Channels and their notifications. (Being built: see the push issue.)"""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, applications: ApplicationService) -> None:
        self._uow = uow
        self._clock = clock
        self._apps = applications

    def event_changed(self, uow: UnitOfWork, event: Event, changed_by: str | None) -> None:
        """Called inside the writing transaction for every event change."""
        return None

    def job_handlers(self) -> dict[str, JobHandler]:
        """The background jobs this service runs, by kind."""
        return {}
