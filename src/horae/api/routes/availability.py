"""`POST /v1/availability` and `POST /v1/sequenced_availability`: when participants can meet."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from horae.api import body, openapi
from horae.api.auth import KeyOrAccount, container
from horae.api.routes import event_writes
from horae.api.schemas.availability import AvailabilityIn, AvailabilityResponse, availability_json, to_request
from horae.api.schemas.sequenced import SequencedIn, SequencedResponse, sequenced_response, to_sequence_request

router = APIRouter(tags=["Availability"])


def request_body(model: type[BaseModel]) -> dict[str, Any]:
    """The query's body; times documented as the event writes document them (one shared TimeObject)."""
    extra = body.openapi_body(model)
    extra[body.COMPONENTS_KEY]["TimeObject"] = event_writes.upsert_body()[body.COMPONENTS_KEY]["TimeObject"]
    return extra


@router.post(
    "/v1/availability",
    response_model=None,
    responses={
        200: {"model": AvailabilityResponse, "description": "Successful Response"},
        **openapi.errors(401, 403, 422, 429),
    },
    openapi_extra={**request_body(AvailabilityIn), **openapi.api_key_or_account_token("read_free_busy")},
    summary="Find when participant groups are available: periods, slots or overlapping slots",
)
async def availability(request: Request, caller: KeyOrAccount) -> Response:
    query, periods_field = to_request(await body.parse(request, AvailabilityIn))
    answer = await run_in_threadpool(container(request).availability.availability, caller, query, periods_field)
    return Response(availability_json(answer), media_type="application/json")


@router.post(
    "/v1/sequenced_availability",
    response_model=SequencedResponse,
    responses=openapi.errors(401, 403, 422, 429),
    openapi_extra={**request_body(SequencedIn), **openapi.api_key_or_account_token("read_free_busy")},
    summary="Find complete sequences of meetings: one slot per step, in order, with bounded gaps",
)
async def sequenced_availability(request: Request, caller: KeyOrAccount) -> SequencedResponse:
    query, periods_field = to_sequence_request(await body.parse(request, SequencedIn))
    found = await run_in_threadpool(container(request).availability.sequenced, caller, query, periods_field)
    return sequenced_response(found)
