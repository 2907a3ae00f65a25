"""Sequenced availability as Cronofy documents it: ordered steps, each with its own participants, length,
interval and gaps; its translation into the service's request, and the response."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from horae.api.schemas.availability import (
    BufferIn,
    Duration,
    GroupIn,
    Loose,
    Participant,
    PeriodIn,
    buffer_of,
    format_seconds,
    groups_of,
    minutes_of,
    periods_of,
)
from horae.domain.sequencing import Placed
from horae.errors import Problems
from horae.services import availability_request as req


class StepIn(Loose):
    sequence_id: str | int = Field(description="echoed back as sent")
    ordinal: int = Field(ge=0, le=1_000)
    participants: list[GroupIn]
    required_duration: Duration | int
    start_interval: Duration | int | None = None
    buffer: BufferIn | None = None
    available_periods: list[PeriodIn] | None = None
    query_periods: list[PeriodIn] | None = None
    event: dict[str, Any] | None = None
    sequence_title: str | None = None


class SequencedIn(Loose):
    sequence: list[StepIn] = Field(min_length=1, max_length=req.MAX_STEPS)
    query_periods: list[PeriodIn] | None = None
    available_periods: list[PeriodIn] | None = None
    max_results: int = Field(req.MAX_RESULTS, ge=1, le=req.MAX_RESULTS)


def to_sequence_request(data: SequencedIn) -> tuple[req.SequenceRequest, str]:
    """The service's request, and the name of the field the shared periods came in."""
    problems = Problems()
    if data.query_periods and data.available_periods:
        problems.add("query_periods", "errors.ambiguous", "give query_periods or available_periods, not both")
    # pycronofy always sends the legacy `available_periods`, empty when each step brings its own.
    field = "available_periods" if data.available_periods else "query_periods"
    given = data.query_periods or data.available_periods or None
    steps = []
    for step in data.sequence:
        duration = minutes_of(
            step.required_duration, "sequence.required_duration", problems, 1, req.MAX_DURATION_MINUTES
        )
        interval = minutes_of(step.start_interval, "sequence.start_interval", problems, 1, req.MAX_DURATION_MINUTES)
        own = step.query_periods or step.available_periods or None
        steps.append(
            req.StepSpec(
                step_id=step.sequence_id,
                ordinal=step.ordinal,
                groups=groups_of(step.participants, problems, "sequence.participants"),
                duration=duration or 0,
                interval=interval or req.DEFAULT_INTERVAL_MINUTES * 60,
                buffer=buffer_of(step.buffer),
                periods=None if own is None else periods_of(own, "sequence.available_periods", problems),
            )
        )
    periods = None if given is None else periods_of(given, field, problems)
    problems.raise_any()
    return req.SequenceRequest(tuple(steps), periods, data.max_results), field


class PlacedOut(BaseModel):
    sequence_id: str | int
    start: str
    end: str
    participants: list[Participant]


class SequenceOut(BaseModel):
    sequence: list[PlacedOut]


class SequencedResponse(BaseModel):
    sequences: list[SequenceOut]


def sequenced_response(found: list[tuple[Placed, ...]]) -> SequencedResponse:
    return SequencedResponse(
        sequences=[
            SequenceOut(
                sequence=[
                    PlacedOut(
                        sequence_id=p.step_id,
                        start=format_seconds(p.start),
                        end=format_seconds(p.end),
                        participants=[Participant(sub=s) for s in p.participants],
                    )
                    for p in sequence
                ]
            )
            for sequence in found
        ]
    )
