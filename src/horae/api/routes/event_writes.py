"""Event writes: upsert and delete in a calendar, bulk delete, participation status (all 202)."""

from __future__ import annotations

from typing import Any

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
ACCEPTED: dict[int | str, dict[str, Any]] = {202: {"description": "Accepted"}}


@router.post(
    "/v1/calendars/{calendar_id}/events",
    status_code=202,
    responses={**ACCEPTED, **openapi.errors(401, 403, 404, 422, 423, 429)},
    openapi_extra=body.openapi_body(UpsertEventRequest),
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
    openapi_extra=body.openapi_body(DeleteEventRequest),
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
    openapi_extra=body.openapi_body(BulkDeleteRequest, required=False),
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
    openapi_extra=body.openapi_body(ParticipationRequest),
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
