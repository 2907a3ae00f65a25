"""The upsert request as Cronofy documents it, and its translation into the service's EventInput."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from horae.api.schemas.times import read_ends
from horae.domain import conferencing, recurrence
from horae.domain.conferencing import ConferencingRequest
from horae.domain.times import parse_event_time
from horae.errors import FieldError, InvalidRequest
from horae.services.events import EventInput


class _Loose(BaseModel):
    model_config = ConfigDict(extra="ignore")


class TimeObject(_Loose):
    time: str
    tzid: str | None = None


class Location(_Loose):
    description: str | None = None
    lat: str | None = None
    long: str | None = None


class Reminder(_Loose):
    minutes: int = Field(ge=0, le=40320)


class Invitee(_Loose):
    email: str = Field(min_length=3, max_length=320)
    display_name: str | None = None


class Removal(_Loose):
    email: str


class Attendees(_Loose):
    invite: list[Invitee] = []
    remove: list[Removal] = []


class UpsertEventRequest(_Loose):
    event_id: str | None = Field(None, min_length=1, max_length=1024)
    event_uid: str | None = Field(None, min_length=1, max_length=255)
    summary: str = ""
    description: str = ""
    start: str | TimeObject
    end: str | TimeObject
    tzid: str | None = None
    location: Location | None = None
    url: str | None = None
    reminders: list[Reminder] | None = None
    reminders_create_only: bool | None = None
    transparency: Literal["opaque", "transparent"] | None = None
    extended_transparency: str | None = None
    color: str | None = Field(None, pattern=r"^#[0-9A-Fa-f]{6}$")
    attendees: Attendees | None = None
    event_private: bool | None = None
    recurrence: dict[str, Any] | None = None
    instance: str | None = Field(None, min_length=1, max_length=300)  # one instance of a series (docs/compat.md)
    locale: str | None = Field(None, max_length=35, description="Language of conferencing template fallbacks")
    conferencing: dict[str, Any] | None = Field(
        None, description="`{profile_id}`: default, integrated, explicit (with provider_description and join_url), "
        "none, or a conferencing profile id",
    )  # fmt: skip
    subscriptions: list[dict[str, Any]] | None = Field(
        None, description="Webhooks for conferencing_assigned and conferencing_failing"
    )


class DeleteEventRequest(_Loose):
    event_id: str | None = None
    event_uid: str | None = None


class BulkDeleteRequest(_Loose):
    delete_all: bool | None = None
    calendar_ids: list[str] | None = None


class ParticipationRequest(_Loose):
    status: Literal["accepted", "tentative", "declined"]


def to_input(req: UpsertEventRequest) -> EventInput:
    """The service's view of the request; time problems become per-field 422 errors."""
    times, problems = read_ends(req.start, req.end, req.tzid, parse_event_time)
    if req.recurrence is not None and not problems:
        try:
            if req.instance is not None:
                raise recurrence.BadRecurrence("recurrence", "an instance of a series cannot carry its own recurrence")
            recurrence.check(req.recurrence, times["start"])
        except recurrence.BadRecurrence as exc:
            problems[exc.field] = [FieldError("errors.invalid_recurrence", exc.message)]
    wanted, subscriptions = _conferencing(req, problems)
    if problems:
        raise InvalidRequest(problems)
    details: dict[str, Any] = {}
    for key in ("reminders_create_only", "extended_transparency", "locale"):
        value = getattr(req, key)
        if value is not None:
            details[key] = value
    return EventInput(
        summary=req.summary,
        start=times["start"],
        end=times["end"],
        event_id=req.event_id,
        event_uid=req.event_uid,
        description=req.description,
        location=req.location.model_dump(exclude_none=True) if req.location else None,
        url=req.url,
        transparency=req.transparency,
        event_private=req.event_private,
        color=req.color,
        reminders=[r.model_dump() for r in req.reminders] if req.reminders is not None else None,
        invite=[i.model_dump(exclude_none=True) for i in req.attendees.invite] if req.attendees else [],
        remove=[r.email for r in req.attendees.remove] if req.attendees else [],
        recurrence=req.recurrence,
        instance=req.instance,
        details=details,
        conferencing=wanted,
        subscriptions=subscriptions,
    )


def _conferencing(
    req: UpsertEventRequest, problems: dict[str, list[FieldError]]
) -> tuple[ConferencingRequest | None, list[dict[str, Any]] | None]:
    """The conferencing asked for, the subscriptions, and checked templates; problems are added by field."""
    wanted, subscriptions = None, None
    location = req.location.description if req.location else None
    try:
        conferencing.check_templates(req.description, location)
        if req.conferencing is not None:
            wanted = conferencing.parse_request(req.conferencing)
        if req.subscriptions is not None:
            subscriptions = conferencing.parse_subscriptions(req.subscriptions)
    except conferencing.BadConferencing as exc:
        problems.setdefault(exc.field, []).append(FieldError("errors.invalid", exc.message))
    return wanted, subscriptions
