"""Real-Time Scheduling and Sequencing links with the API key: create, status by id or by the URL's
token, and disable (§7). The invitee's page is web/booking.py."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from horae.api import body, openapi
from horae.api.auth import ApplicationKey, container, public_base_url
from horae.api.routes.availability import request_body
from horae.api.schemas.scheduling import (
    DisableIn,
    SchedulingIn,
    SchedulingResponse,
    SequencingIn,
    SequencingResponse,
    link_url,
    plan_of,
    status_json,
    stored_spec,
)
from horae.domain.scheduling import SCHEDULING, SEQUENCING, SchedulingLink

router = APIRouter(tags=["Real-Time Scheduling"])
_KINDS: dict[str, tuple[str, type[BaseModel], type[BaseModel]]] = {
    SCHEDULING: ("/v1/real_time_scheduling", SchedulingIn, SchedulingResponse),
    SEQUENCING: ("/v1/real_time_sequencing", SequencingIn, SequencingResponse),
}


def _answer(request: Request, found: tuple[SchedulingLink, str], created: bool = False) -> JSONResponse:
    link, token = found
    return JSONResponse(status_json(link, link_url(public_base_url(request), token), created))


def _routes(kind: str) -> None:
    path, model, response = _KINDS[kind]
    what = "Real-Time Scheduling" if kind == SCHEDULING else "Real-Time Sequencing"
    ok: dict[int | str, dict[str, Any]] = {200: {"model": response, "description": "Successful Response"}}

    @router.post(
        path,
        response_model=None,
        responses={**ok, **openapi.errors(401, 422, 429)},
        openapi_extra={**request_body(model), **openapi.api_key()},
        summary=f"Create a {what} link: a hosted page where an invitee books one of the available times",
        name=f"create_{kind}_link",
    )
    async def create(request: Request, app: ApplicationKey) -> JSONResponse:
        raw = await body.read_body(request)
        spec = stored_spec(kind, raw)
        plan = plan_of(kind, spec)
        found = await run_in_threadpool(container(request).scheduling_links.create, app.id, plan, spec)
        return _answer(request, found, created=True)

    @router.get(
        path,
        response_model=None,
        responses={**ok, **openapi.errors(401, 404, 422, 429)},
        openapi_extra=openapi.api_key(),
        summary=f"A {what} link's status, by the token in its URL",
        name=f"{kind}_status_by_token",
    )
    async def by_token(request: Request, app: ApplicationKey, token: str = "") -> JSONResponse:
        service = container(request).scheduling_links
        return _answer(request, await run_in_threadpool(service.status_by_token, app.id, kind, token))

    @router.get(
        path + "/{link_id}",
        response_model=None,
        responses={**ok, **openapi.errors(401, 404, 429)},
        openapi_extra=openapi.api_key(),
        summary=f"A {what} link's status: open, completed or disabled",
        name=f"{kind}_status",
    )
    async def by_id(request: Request, link_id: str, app: ApplicationKey) -> JSONResponse:
        service = container(request).scheduling_links
        return _answer(request, await run_in_threadpool(service.status, app.id, kind, link_id))

    @router.post(
        path + "/{link_id}/disable",
        response_model=None,
        responses={**ok, **openapi.errors(401, 404, 422, 429)},
        openapi_extra={**body.openapi_body(DisableIn), **openapi.api_key()},
        summary=f"Disable a {what} link; later visitors see display_message",
        name=f"disable_{kind}_link",
    )
    async def disable(request: Request, link_id: str, app: ApplicationKey) -> JSONResponse:
        req = await body.parse(request, DisableIn)
        service = container(request).scheduling_links
        return _answer(request, await run_in_threadpool(service.disable, app.id, kind, link_id, req.display_message))


_routes(SCHEDULING)
_routes(SEQUENCING)
