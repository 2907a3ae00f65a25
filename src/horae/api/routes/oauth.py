"""`/oauth/token` (authorization_code and refresh_token grants) and `/oauth/token/revoke` (RFC 7009)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from horae.api import body, openapi
from horae.api.auth import container
from horae.api.schemas.oauth import LinkingProfile, RevokeRequest, TokenRequest, TokenResponse
from horae.errors import InvalidRequest, OAuthError
from horae.services.oauth import TokenGrant

router = APIRouter(tags=["OAuth"])
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


async def _oauth_body(request: Request, model: type[body.M]) -> body.M:
    """Bodies on OAuth endpoints: a malformed one is RFC 6749 invalid_request (400), not a 422."""
    try:
        return await body.parse(request, model)
    except InvalidRequest as exc:
        raise OAuthError("invalid_request", exc.message) from exc


def token_body(grant: TokenGrant) -> TokenResponse:
    linking = grant.linking_profile
    service = grant.account_id.startswith("ser_")  # Enterprise Connect's service-account tokens
    return TokenResponse(
        access_token=grant.access_token,
        expires_in=grant.expires_in,
        refresh_token=grant.refresh_token,
        scope=grant.scope,
        account_id=None if service else grant.account_id,
        service_account_id=grant.account_id if service else None,
        sub=grant.account_id,
        linking_profile=LinkingProfile(
            provider_name=linking.provider_name, profile_id=linking.id, profile_name=linking.name
        )
        if linking
        else None,
    )


def token_json(grant: TokenGrant) -> dict[str, object]:
    """The token response as sent: `account_id` or `service_account_id`, whichever the token is for."""
    shaped = token_body(grant)
    unset = {name for name in ("account_id", "service_account_id") if getattr(shaped, name) is None}
    return shaped.model_dump(mode="json", exclude=unset)


@router.post(
    "/oauth/token",
    response_model=TokenResponse,
    responses=openapi.errors(400, 401, oauth=True),
    openapi_extra=openapi.token_request(),
    summary="Exchange an authorization code, or refresh an access token",
)
async def token(request: Request) -> JSONResponse:
    # Credentials travel in the body; any Authorization header (often "Bearer undefined") is ignored.
    req = await _oauth_body(request, TokenRequest)
    oauth = container(request).oauth
    if req.grant_type == "authorization_code":
        grant = await run_in_threadpool(
            oauth.exchange_code, req.client_id, req.client_secret, req.code, req.redirect_uri
        )
    elif req.grant_type == "refresh_token":
        grant = await run_in_threadpool(oauth.refresh, req.client_id, req.client_secret, req.refresh_token)
    elif not req.grant_type:
        raise OAuthError("invalid_request", "grant_type must be specified")
    else:
        raise OAuthError("unsupported_grant_type", f"grant_type {req.grant_type!r} is not supported")
    return JSONResponse(token_json(grant), headers=NO_STORE)


@router.post(
    "/oauth/token/revoke",
    responses={**openapi.empty(200, "Revoked, or nothing to revoke"), **openapi.errors(400, 401, oauth=True)},
    openapi_extra=openapi.revoke_request(),
    summary="Revoke an authorization by token (refresh or access) or by sub",
)
async def revoke(request: Request) -> Response:
    req = await _oauth_body(request, RevokeRequest)
    token_value = req.token or req.refresh_token
    await run_in_threadpool(container(request).oauth.revoke, req.client_id, req.client_secret, token_value, req.sub)
    return Response(status_code=200, headers=NO_STORE)
