"""Event writes: upsert and delete in a calendar, bulk delete, participation status (all 202)."""

from __future__ import annotations

from typing import Any
from zoneinfo import available_timezones

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from horae.api import body, openapi
from horae.api.auth import AccountAccess, container
from horae.api.schemas.events import (
    BulkDeleteRequest,
    DeleteEventRequest,
    ParticipationRequest,
    UpsertEventRequest,
    to_input,
)

router = APIRouter(tags=["Events"])
ACCEPTED = openapi.empty(202, "Accepted")
ZONES = sorted(available_timezones() | {"UTC", "Etc/UTC"})
_TEXT = {"type": "string", "minLength": 1, "pattern": body.NUL_FREE}
# An event is named by the application's event_id or by its event_uid.
EVENT_NAMED = {
    "anyOf": [
        {"required": ["event_id"], "properties": {"event_id": _TEXT}},
        {"required": ["event_uid"], "properties": {"event_uid": _TEXT}},
    ]
}
_WHEN = {
    "anyOf": [
        {"type": "string", "format": "date", "description": "an all-day event's date (the end is exclusive)"},
        {"type": "string", "format": "date-time", "description": "a UTC time, e.g. 2026-11-24T09:00:00Z"},
        {"$ref": "#/components/schemas/TimeObject"},
    ]
}


def upsert_body() -> dict[str, Any]:
    """The upsert body as documented: an event_id or event_uid, a summary, and well-formed times."""
    extra = body.openapi_body(
        UpsertEventRequest,
        require=["summary"],
        schema_extra=EVENT_NAMED,
    )
    zones = {"type": "string", "enum": ZONES}
    for content in extra["requestBody"]["content"].values():
        properties = content["schema"]["properties"]
        properties["start"] = properties["end"] = _WHEN
        properties["summary"]["maxLength"] = 1024
        properties["description"]["maxLength"] = 4096
        properties["tzid"] = zones
    time_object = extra[body.COMPONENTS_KEY]["TimeObject"]["properties"]
    time_object["time"] = {"anyOf": _WHEN["anyOf"][:2]}
    time_object["tzid"] = zones
    return extra


@router.post(
    "/v1/calendars/{calendar_id}/events",
    status_code=202,
    responses={**ACCEPTED, **openapi.errors(401, 403, 404, 422, 423, 429)},
    openapi_extra={**upsert_body(), **openapi.account_token("create_event")},
    summary="Create or update an event (idempotent per calendar and event_id)",
)
async def upsert_event(request: Request, calendar_id: str, ctx: AccountAccess) -> Response:
    data = to_input(await body.parse(request, UpsertEventRequest))
    await run_in_threadpool(container(request).events.upsert, ctx, calendar_id, data)
    return Response(status_code=202)


@router.delete(
    "/v1/calendars/{calendar_id}/events",
    status_code=202,
    responses={**ACCEPTED, **openapi.errors(401, 403, 404, 422, 423, 429)},
    openapi_extra={
        **body.openapi_body(DeleteEventRequest, schema_extra=EVENT_NAMED),
        **openapi.account_token("delete_event"),
    },
    summary="Delete an event by event_id (managed) or event_uid",
)
async def delete_event(request: Request, calendar_id: str, ctx: AccountAccess) -> Response:
    req = body.validate(DeleteEventRequest, {**_query(request), **await body.read_body(request)})
    await run_in_threadpool(container(request).events.delete, ctx, calendar_id, req.event_id, req.event_uid)
    return Response(status_code=202)


@router.delete(
    "/v1/events",
    status_code=202,
    responses={**ACCEPTED, **openapi.errors(401, 403, 422, 429)},
    openapi_extra={
        **body.openapi_body(
            BulkDeleteRequest,
            schema_extra={
                "oneOf": [
                    {"required": ["delete_all"], "properties": {"delete_all": {"const": True}}},
                    {"required": ["calendar_ids"], "properties": {"calendar_ids": {"type": "array", "minItems": 1}}},
                ]
            },
        ),
        **openapi.account_token("delete_event"),
    },
    summary="Delete the application's events everywhere (delete_all) or in some calendars (calendar_ids)",
)
async def bulk_delete(request: Request, ctx: AccountAccess) -> Response:
    # pycronofy sends these as query parameters (`delete_all=True`, `calendar_ids[]=...`), others as a body.
    req = body.validate(BulkDeleteRequest, {**_query(request), **await body.read_body(request)})
    await run_in_threadpool(container(request).events.bulk_delete, ctx, bool(req.delete_all), req.calendar_ids)
    return Response(status_code=202)


@router.post(
    "/v1/calendars/{calendar_id}/events/{event_uid}/participation_status",
    status_code=202,
    responses={**ACCEPTED, **openapi.errors(401, 403, 404, 422, 423, 429)},
    openapi_extra={**body.openapi_body(ParticipationRequest), **openapi.account_token("change_participation_status")},
)
async def participation_status(request: Request, calendar_id: str, event_uid: str, ctx: AccountAccess) -> Response:
    req = await body.parse(request, ParticipationRequest)
    await run_in_threadpool(container(request).events.set_participation, ctx, calendar_id, event_uid, req.status)
    return Response(status_code=202)


def _query(request: Request) -> dict[str, Any]:
    """Query parameters as a body would carry them: `x[]` repeated makes a list."""
    data: dict[str, Any] = {}
    for key, value in request.query_params.multi_items():
        if key.endswith("[]"):
            data.setdefault(key[:-2], []).append(value)
        else:
            data[key] = value
    return data
