"""`GET /v1/events` and `GET /v1/free_busy`, and the pages their `next_page` URLs name."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from horae.api import openapi
from horae.api.auth import AccountAccess, container, public_base_url
from horae.api.params import FROM, TZID, Flag
from horae.api.schemas import identity
from horae.api.schemas.event_reads import (
    EventsResponse,
    FreeBusyResponse,
    events_response,
    free_busy_response,
)
from horae.services.event_reads import EVENTS, FREE_BUSY
from horae.services.oauth import AccessContext
from horae.services.read_models import Page, ReadQuery

router = APIRouter(tags=["Events"])

TO = Annotated[
    str | None,
    Query(
        alias="to",
        description="Date, exclusive: local midnight in tzid (a UTC time is also accepted); default 201 days ahead",
        json_schema_extra={"format": "date"},
    ),
]
LAST_MODIFIED = Annotated[
    str | None,
    Query(
        description="UTC time: only events changed since then by someone other than the caller",
        json_schema_extra={"format": "date-time"},
    ),
]
CALENDAR_IDS = Annotated[
    list[str] | None,
    Query(
        alias="calendar_ids[]",
        description="Only these calendars; each must be one of the account's (422 otherwise)",
        json_schema_extra={"items": {"type": "string", "minLength": 1}},
    ),
]


def _calendar_ids(request: Request, given: list[str] | None) -> tuple[str, ...] | None:
    """`calendar_ids[]` repeated (also tolerated without the brackets)."""
    plain = request.query_params.getlist("calendar_ids")
    if given is None and not plain:
        return None
    return tuple([*(given or []), *plain])


async def _userinfo(request: Request, ctx: AccessContext, page: Page) -> identity.Userinfo | None:
    if not page.query.include_userinfo:
        return None
    found = await run_in_threadpool(container(request).identity.identity, ctx)
    return identity.userinfo(found, public_base_url(request), container(request).conferencing.integrated_available)


def _next_url(request: Request, kind: str, page: Page) -> str | None:
    return f"{public_base_url(request)}/v1/{kind}/pages/{page.next_token}" if page.next_token else None


@router.get(
    "/v1/events",
    response_model=EventsResponse,
    response_model_exclude_none=True,
    responses=openapi.errors(401, 403, 422, 429),
    openapi_extra=openapi.account_token("read_events"),
    summary="Read events, recurring series expanded into instances; 100 a page",
)
async def read_events(
    request: Request,
    ctx: AccountAccess,
    tzid: TZID = None,
    from_: FROM = None,
    to: TO = None,
    last_modified: LAST_MODIFIED = None,
    include_deleted: Flag = False,
    include_moved: Flag = False,
    include_managed: Flag = False,
    only_managed: Flag = False,
    localized_times: Flag = False,
    include_geo: Flag = False,
    include_userinfo: Flag = False,
    calendar_ids: CALENDAR_IDS = None,
) -> EventsResponse:
    query = ReadQuery(
        tzid=tzid,
        start=from_,
        end=to,
        last_modified=last_modified,
        calendar_ids=_calendar_ids(request, calendar_ids),
        include_deleted=include_deleted,
        include_moved=include_moved,
        include_managed=include_managed,
        only_managed=only_managed,
        localized_times=localized_times,
        include_geo=include_geo,
        include_userinfo=include_userinfo,
    )
    page = await run_in_threadpool(container(request).event_reads.events, ctx, query)
    return events_response(page, _next_url(request, EVENTS, page), await _userinfo(request, ctx, page))


@router.get(
    "/v1/events/pages/{token}",
    response_model=EventsResponse,
    response_model_exclude_none=True,
    responses=openapi.errors(401, 403, 404, 429),
    openapi_extra=openapi.account_token("read_events"),
    summary="A later page of a read (the query travels in the token; extra query parameters are ignored)",
)
async def read_events_page(request: Request, token: str, ctx: AccountAccess) -> EventsResponse:
    page = await run_in_threadpool(container(request).event_reads.next_page, ctx, EVENTS, token)
    return events_response(page, _next_url(request, EVENTS, page), await _userinfo(request, ctx, page))


@router.get(
    "/v1/free_busy",
    response_model=FreeBusyResponse,
    response_model_exclude_none=True,
    responses=openapi.errors(401, 403, 422, 429),
    openapi_extra=openapi.account_token("read_free_busy"),
    summary="Busy periods (one block per event); transparent events are free and left out",
)
async def read_free_busy(
    request: Request,
    ctx: AccountAccess,
    tzid: TZID = None,
    from_: FROM = None,
    to: TO = None,
    include_managed: Flag = False,
    localized_times: Flag = False,
    include_ids: Flag = False,
    include_free: Flag = False,
    include_userinfo: Flag = False,
    calendar_ids: CALENDAR_IDS = None,
) -> FreeBusyResponse:
    query = ReadQuery(
        tzid=tzid,
        start=from_,
        end=to,
        calendar_ids=_calendar_ids(request, calendar_ids),
        include_managed=include_managed,
        localized_times=localized_times,
        include_ids=include_ids,
        include_free=include_free,
        include_userinfo=include_userinfo,
    )
    page = await run_in_threadpool(container(request).event_reads.free_busy, ctx, query)
    return free_busy_response(page, _next_url(request, FREE_BUSY, page), await _userinfo(request, ctx, page))


@router.get(
    "/v1/free_busy/pages/{token}",
    response_model=FreeBusyResponse,
    response_model_exclude_none=True,
    responses=openapi.errors(401, 403, 404, 429),
    openapi_extra=openapi.account_token("read_free_busy"),
    summary="A later page of a free/busy read",
)
async def read_free_busy_page(request: Request, token: str, ctx: AccountAccess) -> FreeBusyResponse:
    page = await run_in_threadpool(container(request).event_reads.next_page, ctx, FREE_BUSY, token)
    return free_busy_response(page, _next_url(request, FREE_BUSY, page), await _userinfo(request, ctx, page))
