"""`/v1/calendars` (list, create) and `/v1/application_calendars`."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from horae.api import body, openapi
from horae.api.auth import AccountAccess, container
from horae.api.routes.oauth import NO_STORE, token_json
from horae.api.schemas.calendars import (
    ApplicationCalendarRequest,
    CalendarList,
    CreateCalendarRequest,
    CreatedCalendar,
    calendar_info,
)
from horae.api.schemas.oauth import TokenResponse

router = APIRouter(tags=["Calendars"])


@router.get(
    "/v1/calendars",
    response_model=CalendarList,
    responses=openapi.errors(401, 403, 429),
    openapi_extra=openapi.account_token("list_calendars"),
)
async def list_calendars(request: Request, ctx: AccountAccess) -> CalendarList:
    calendars, profiles, unrestricted = await run_in_threadpool(container(request).calendars.list, ctx)
    integrated = container(request).conferencing.integrated_available
    return CalendarList(
        sub=ctx.account_id,
        calendars=[
            calendar_info(c, profiles[c.profile_id], c.id in unrestricted, integrated(profiles[c.profile_id]))
            for c in calendars
        ],
    )


@router.post(
    "/v1/calendars",
    response_model=CreatedCalendar,
    responses=openapi.errors(401, 403, 422, 423, 429),
    openapi_extra={
        **body.openapi_body(CreateCalendarRequest, require=["profile_id", "name"]),
        **openapi.account_token("create_calendar"),
    },
)
async def create_calendar(request: Request, ctx: AccountAccess) -> CreatedCalendar:
    req = await body.parse(request, CreateCalendarRequest)
    calendar, profile = await run_in_threadpool(
        container(request).calendars.create, ctx, req.profile_id, req.name, req.color
    )
    integrated = container(request).conferencing.integrated_available(profile)
    return CreatedCalendar(calendar=calendar_info(calendar, profile, False, integrated))


@router.post(
    "/v1/application_calendars",
    response_model=TokenResponse,
    responses=openapi.errors(401, 422, 429),
    openapi_extra=body.openapi_body(
        ApplicationCalendarRequest, require=["client_id", "client_secret", "application_calendar_id"]
    ),
    summary="Create or find an application calendar; client credentials travel in the body",
)
async def application_calendar(request: Request) -> JSONResponse:
    # Any Authorization header ("Bearer None" from pycronofy) is ignored: credentials are in the body.
    req = await body.parse(request, ApplicationCalendarRequest)
    grant = await run_in_threadpool(
        container(request).calendars.application_calendar, req.client_id, req.client_secret, req.application_calendar_id
    )
    response = token_json(grant)
    response["application_calendar_id"] = req.application_calendar_id
    return JSONResponse(response, headers=NO_STORE)
