"""`POST /v1/conferencing_service_authorizations`: a link where the account's person connects Zoom or
Microsoft Teams, then goes back to the application's redirect_uri."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from horae.api import body, openapi
from horae.api.auth import AccountAccess, container, public_base_url
from horae.errors import PermissionDenied

router = APIRouter(tags=["Conferencing"])


class AuthorizationRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    redirect_uri: str = Field(min_length=1, max_length=2000, description="Where the person goes afterwards")
    provider_name: str | None = Field(None, max_length=32, description="zoom or ms_teams; otherwise they choose")


class AuthorizationLink(BaseModel):
    url: str


class AuthorizationResponse(BaseModel):
    authorization_request: AuthorizationLink


@router.post(
    "/v1/conferencing_service_authorizations",
    response_model=AuthorizationResponse,
    responses=openapi.errors(401, 403, 422, 429),
    openapi_extra={**body.openapi_body(AuthorizationRequest, require=["redirect_uri"]), **openapi.account_token()},
    summary="A link where the person connects a conferencing service",
)
async def authorize_conferencing(request: Request, ctx: AccountAccess) -> AuthorizationResponse:
    req = await body.parse(request, AuthorizationRequest)
    if ctx.account_id.startswith("ser_"):
        raise PermissionDenied("a service account has no conferencing services; use the person's account token")
    profiles = container(request).conferencing_profiles
    token = await run_in_threadpool(profiles.invitation_token, ctx.account_id, req.redirect_uri, req.provider_name)
    url = f"{public_base_url(request)}/conferencing_services/{token}"
    return AuthorizationResponse(authorization_request=AuthorizationLink(url=url))
