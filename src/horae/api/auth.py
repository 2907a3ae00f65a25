"""Who is calling: account access tokens, application API keys, and per-application rate limits."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from horae.container import Container
from horae.domain.model import Application
from horae.errors import AuthenticationFailed, RateLimited
from horae.services.availability_request import Caller
from horae.services.oauth import AccessContext

# What SDKs send when they have no token but put credentials in the body instead.
JUNK_BEARERS = frozenset({"", "undefined", "None", "null"})


def container(request: Request) -> Container:
    app_container = request.app.state.container
    assert isinstance(app_container, Container)
    return app_container


def bearer_token(request: Request) -> str:
    """The bearer token of the Authorization header, or '' when absent or junk."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or token in JUNK_BEARERS:
        return ""
    return token


def count_request(request: Request, application_id: str) -> None:
    """Count the request against its application's limits; the headers ride on the response."""
    decision = container(request).rate_limiter.hit(f"app:{application_id}")
    headers = {
        "RateLimit-Limit": str(decision.limit),
        "RateLimit-Remaining": str(decision.remaining),
        "RateLimit-Reset": str(decision.reset_seconds),
    }
    request.state.rate_limit_headers = headers
    if not decision.allowed:
        raise RateLimited(decision.reset_seconds, headers)


async def account_access(request: Request) -> AccessContext:
    """Dependency: the account behind `Authorization: Bearer {access_token}`."""
    token = bearer_token(request)
    if not token:
        raise AuthenticationFailed("an access token is required")
    ctx = await run_in_threadpool(container(request).oauth.authenticate, token)
    count_request(request, ctx.application_id)
    return ctx


async def application_key(request: Request) -> Application:
    """Dependency: the application behind `Authorization: Bearer {client_secret}` (its API key)."""
    token = bearer_token(request)
    if not token:
        raise AuthenticationFailed("an API key is required")
    app = await run_in_threadpool(container(request).applications.by_api_key, token)
    count_request(request, app.id)
    return app


async def key_or_account(request: Request) -> Caller:
    """Dependency: the application's API key or, where Cronofy still allows it, an account access token."""
    token = bearer_token(request)
    if not token:
        raise AuthenticationFailed("an API key or an access token is required")
    try:
        app = await run_in_threadpool(container(request).applications.by_api_key, token)
    except AuthenticationFailed:
        ctx = await run_in_threadpool(container(request).oauth.authenticate, token)
        count_request(request, ctx.application_id)
        return Caller(ctx.application_id, ctx.account_id, ctx.permissions)
    count_request(request, app.id)
    return Caller(app.id)


AccountAccess = Annotated[AccessContext, Depends(account_access)]
KeyOrAccount = Annotated[Caller, Depends(key_or_account)]
ApplicationKey = Annotated[Application, Depends(application_key)]


def public_base_url(request: Request) -> str:
    """The externally reachable base URL for links the server hands out."""
    configured = container(request).settings.public_base_url
    return (configured or str(request.base_url)).rstrip("/")
