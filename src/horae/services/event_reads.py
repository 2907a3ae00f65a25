"""Reading events and free/busy: filters, day boundaries in the reader's zone, stable paging."""

from __future__ import annotations

from horae.ports import Clock, UnitOfWorkFactory


class EventReadService:
    """Reads for `GET /v1/events` and `GET /v1/free_busy`. (Being built: see the events issue.)"""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock
