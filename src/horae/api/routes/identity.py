"""`/v1/userinfo`, `/v1/account`, `/v1/profiles` and `POST /v1/profiles/{id}/revoke`."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from horae.api import openapi
from horae.api.auth import AccountAccess, container, public_base_url
from horae.api.schemas import identity as shapes

router = APIRouter(tags=["Identity"])


@router.get(
    "/v1/userinfo",
    response_model=shapes.Userinfo,
    response_model_exclude_none=True,
    responses=openapi.errors(401, 429),
    openapi_extra=openapi.account_token(),
)
async def userinfo(request: Request, ctx: AccountAccess) -> shapes.Userinfo:
    identity = await run_in_threadpool(container(request).identity.identity, ctx)
    return shapes.userinfo(identity, public_base_url(request), container(request).conferencing.integrated_available)


@router.get(
    "/v1/account",
    response_model=shapes.AccountResponse,
    responses=openapi.errors(401, 403, 429),
    openapi_extra=openapi.account_token("read_account"),
)
async def account(request: Request, ctx: AccountAccess) -> shapes.AccountResponse:
    ctx.require("read_account")
    identity = await run_in_threadpool(container(request).identity.identity, ctx)
    return shapes.account(identity)


@router.get(
    "/v1/profiles",
    response_model=shapes.ProfilesResponse,
    response_model_exclude_none=True,
    responses=openapi.errors(401, 429),
    openapi_extra=openapi.account_token(),
)
async def profiles(request: Request, ctx: AccountAccess) -> shapes.ProfilesResponse:
    identity = await run_in_threadpool(container(request).identity.identity, ctx)
    base = public_base_url(request)
    return shapes.ProfilesResponse(profiles=[shapes.profile_info(p, base) for p in identity.profiles])


@router.post(
    "/v1/profiles/{profile_id}/revoke",
    status_code=202,
    responses={**openapi.empty(202, "Accepted; the profile is disconnected shortly"), **openapi.errors(401, 404, 429)},
    openapi_extra=openapi.account_token(),
)
async def revoke_profile(request: Request, profile_id: str, ctx: AccountAccess) -> Response:
    await run_in_threadpool(container(request).identity.request_profile_revoke, ctx, profile_id)
    return Response(status_code=202)
