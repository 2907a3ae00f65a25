"""Managed availability: `/v1/availability_rules` and `/v1/available_periods` (account access token)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from horae.api import body, openapi
from horae.api.auth import AccountAccess, container, public_base_url
from horae.api.params import FROM, TZID, Flag
from horae.api.schemas.event_reads import ZONE_NAMES
from horae.api.schemas.managed_availability import (
    END_TIME,
    ID_SCHEMA,
    LOCAL_TIME,
    START_TIME,
    AvailabilityRuleRequest,
    AvailabilityRuleResponse,
    AvailabilityRulesResponse,
    AvailablePeriodRequest,
    AvailablePeriodsResponse,
    DeletePeriodsRequest,
    period_input,
    periods_response,
    rule_input,
    rule_out,
)
from horae.domain.managed import DAYS
from horae.services.managed_availability import MAX_WEEKLY_PERIODS, PeriodPage, PeriodQuery

router = APIRouter(tags=["Managed availability"])
ACCEPTED = openapi.empty(202, "Accepted")
ZONE = {"type": "string", "enum": ZONE_NAMES}
MAYBE_ZONE = {"anyOf": [ZONE, {"type": "null"}]}
PERIOD_ID_OR_ALL = {
    "oneOf": [
        {
            "required": ["available_period_id"],
            "properties": {"available_period_id": {"type": "string", "minLength": 1}},
        },
        {"required": ["delete_all"], "properties": {"delete_all": {"const": True}}},
    ]
}


def _described(documented: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` in place of what the model said of a field, keeping its description."""
    return {**schema, **({"description": documented["description"]} if "description" in documented else {})}


def _rule_body() -> dict[str, Any]:
    """The rule as documented: an id, a zone, weekly periods of well-formed times, maybe calendar ids."""
    extra = body.openapi_body(AvailabilityRuleRequest)
    for content in extra["requestBody"]["content"].values():
        properties = content["schema"]["properties"]
        properties["availability_rule_id"] = _described(properties["availability_rule_id"], ID_SCHEMA)
        properties["tzid"] = _described(properties["tzid"], ZONE)
        properties["weekly_periods"]["maxItems"] = MAX_WEEKLY_PERIODS
        properties["calendar_ids"]["anyOf"][0].update(minItems=1, items={"type": "string", "minLength": 1})
    period = extra[body.COMPONENTS_KEY]["WeeklyPeriodRequest"]["properties"]
    period["day"] = _described(period["day"], {"type": "string", "enum": list(DAYS)})
    period["start_time"] = _described(period["start_time"], START_TIME)
    period["end_time"] = _described(period["end_time"], END_TIME)
    return extra


def _period_body() -> dict[str, Any]:
    """The period as documented: an id and two UTC times or {time, tzid} objects."""
    extra = body.openapi_body(AvailablePeriodRequest)
    when = {
        "anyOf": [
            {"type": "string", "format": "date-time", "description": "a UTC time, e.g. 2026-11-24T09:00:00Z"},
            {"$ref": "#/components/schemas/PeriodTime"},
        ]
    }
    for content in extra["requestBody"]["content"].values():
        properties = content["schema"]["properties"]
        properties["available_period_id"] = _described(properties["available_period_id"], ID_SCHEMA)
        properties["start"] = properties["end"] = when
        properties["tzid"] = _described(properties["tzid"], MAYBE_ZONE)
    time_object = extra[body.COMPONENTS_KEY]["PeriodTime"]["properties"]
    time_object["time"] = _described(
        time_object["time"], {"anyOf": [{"type": "string", "format": "date-time"}, LOCAL_TIME]}
    )
    time_object["tzid"] = MAYBE_ZONE
    return extra


# --- availability rules --------------------------------------------------------------------------------


@router.post(
    "/v1/availability_rules",
    response_model=AvailabilityRuleResponse,
    response_model_exclude_none=True,
    responses=openapi.errors(401, 422, 429),
    openapi_extra={**_rule_body(), **openapi.account_token()},
    summary="Create or replace an availability rule of the account (by availability_rule_id)",
)
async def upsert_rule(request: Request, ctx: AccountAccess) -> AvailabilityRuleResponse:
    data = rule_input(await body.parse(request, AvailabilityRuleRequest))
    rule = await run_in_threadpool(container(request).managed_availability.upsert_rule, ctx, data)
    return AvailabilityRuleResponse(availability_rule=rule_out(rule))


@router.get(
    "/v1/availability_rules",
    response_model=AvailabilityRulesResponse,
    response_model_exclude_none=True,
    responses=openapi.errors(401, 429),
    openapi_extra=openapi.account_token(),
    summary="The account's availability rules, oldest first",
)
async def list_rules(request: Request, ctx: AccountAccess) -> AvailabilityRulesResponse:
    rules = await run_in_threadpool(container(request).managed_availability.rules, ctx)
    return AvailabilityRulesResponse(availability_rules=[rule_out(rule) for rule in rules])


@router.get(
    "/v1/availability_rules/{rule_id:path}",
    response_model=AvailabilityRuleResponse,
    response_model_exclude_none=True,
    responses=openapi.errors(401, 404, 429),
    openapi_extra=openapi.account_token(),
    summary="One availability rule of the account",
)
async def get_rule(request: Request, rule_id: str, ctx: AccountAccess) -> AvailabilityRuleResponse:
    rule = await run_in_threadpool(container(request).managed_availability.rule, ctx, rule_id)
    return AvailabilityRuleResponse(availability_rule=rule_out(rule))


@router.delete(
    "/v1/availability_rules/{rule_id:path}",
    status_code=202,
    responses={**ACCEPTED, **openapi.errors(401, 404, 429)},
    openapi_extra=openapi.account_token(),
    summary="Delete an availability rule of the account",
)
async def delete_rule(request: Request, rule_id: str, ctx: AccountAccess) -> Response:
    await run_in_threadpool(container(request).managed_availability.delete_rule, ctx, rule_id)
    return Response(status_code=202)


# --- available periods ---------------------------------------------------------------------------------

TO = Annotated[
    str | None,
    Query(
        alias="to",
        description="Date, exclusive: local midnight in tzid (a UTC time is also accepted); default: no end",
        json_schema_extra={"format": "date"},
    ),
]


@router.post(
    "/v1/available_periods",
    status_code=202,
    responses={**ACCEPTED, **openapi.errors(401, 422, 429)},
    openapi_extra={**_period_body(), **openapi.account_token()},
    summary="Create or move an available period of the account (by available_period_id)",
)
async def upsert_period(request: Request, ctx: AccountAccess) -> Response:
    data = period_input(await body.parse(request, AvailablePeriodRequest))
    await run_in_threadpool(container(request).managed_availability.upsert_period, ctx, data)
    return Response(status_code=202)


def _next_url(request: Request, page: PeriodPage) -> str | None:
    return f"{public_base_url(request)}/v1/available_periods/pages/{page.next_token}" if page.next_token else None


@router.get(
    "/v1/available_periods",
    response_model=AvailablePeriodsResponse,
    response_model_exclude_none=True,
    responses=openapi.errors(401, 422, 429),
    openapi_extra=openapi.account_token(),
    summary="The account's available periods overlapping from/to, by start; 500 a page",
)
async def list_periods(
    request: Request,
    ctx: AccountAccess,
    tzid: TZID = None,
    from_: FROM = None,
    to: TO = None,
    localized_times: Flag = False,
) -> AvailablePeriodsResponse:
    query = PeriodQuery(tzid=tzid, start=from_, end=to, localized_times=localized_times)
    page = await run_in_threadpool(container(request).managed_availability.periods, ctx, query)
    return periods_response(page, _next_url(request, page))


@router.get(
    "/v1/available_periods/pages/{token}",
    response_model=AvailablePeriodsResponse,
    response_model_exclude_none=True,
    responses=openapi.errors(401, 404, 429),
    openapi_extra=openapi.account_token(),
    summary="A later page of available periods (the query travels in the token)",
)
async def list_periods_page(request: Request, token: str, ctx: AccountAccess) -> AvailablePeriodsResponse:
    page = await run_in_threadpool(container(request).managed_availability.next_periods, ctx, token)
    return periods_response(page, _next_url(request, page))


@router.delete(
    "/v1/available_periods",
    status_code=202,
    responses={**ACCEPTED, **openapi.errors(401, 404, 422, 429)},
    openapi_extra={**body.openapi_body(DeletePeriodsRequest, schema_extra=PERIOD_ID_OR_ALL), **openapi.account_token()},
    summary="Delete one available period (available_period_id) or all of the account's (delete_all)",
)
async def delete_periods(request: Request, ctx: AccountAccess) -> Response:
    req = body.validate(DeletePeriodsRequest, {**_query(request), **await body.read_body(request)})
    await run_in_threadpool(
        container(request).managed_availability.delete_periods, ctx, req.available_period_id or None, req.delete_all
    )
    return Response(status_code=202)


def _query(request: Request) -> dict[str, Any]:
    return dict(request.query_params.items())
