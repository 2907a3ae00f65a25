"""Who is calling: account access tokens, application API keys, UI Elements' element tokens (`?et=`), and
per-application rate limits."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from horae.container import Container
from horae.domain.model import Application
from horae.errors import AuthenticationFailed, PermissionDenied, RateLimited
from horae.services.availability_request import Caller
from horae.services.element_tokens import ElementToken
from horae.services.oauth import AccessContext

# What SDKs send when they have no token but put credentials in the body instead.
JUNK_BEARERS = frozenset({"", "undefined", "None", "null"})
# The query parameter in which UI Elements send their element token (never an Authorization header).
ELEMENT_TOKEN = "et"
_AGENDA = frozenset({"agenda"})
_RULES = frozenset({"managed_availability"})
_AVAILABILITY = frozenset({"availability"})
# The only calls an element token may make, by (method, route path), and the permissions that allow each:
# what each Element calls (read from cronofy-elements 1.67.7; docs/compat.md "UI Elements").
ELEMENT_ROUTES: dict[tuple[str, str], frozenset[str]] = {
    ("GET", "/v1/events"): _AGENDA,
    ("GET", "/v1/events/pages/{token}"): _AGENDA,
    ("GET", "/v1/free_busy"): _AGENDA,
    ("GET", "/v1/free_busy/pages/{token}"): _AGENDA,
    ("GET", "/v1/userinfo"): frozenset({"agenda", "account_management", "managed_availability"}),
    ("POST", "/v1/profiles/{profile_id}/revoke"): frozenset({"account_management"}),
    ("GET", "/v1/availability_rules"): _RULES,
    ("GET", "/v1/availability_rules/{rule_id:path}"): _RULES,
    ("POST", "/v1/availability_rules"): _RULES,
    ("POST", "/v1/availability"): _AVAILABILITY,
    ("POST", "/v1/sequenced_availability"): _AVAILABILITY,
}


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


def element_token_given(request: Request) -> bool:
    """True when the request authenticates with `?et=` (an Authorization header, if any, wins)."""
    return not bearer_token(request) and ELEMENT_TOKEN in request.query_params


def read_element_token(request: Request) -> ElementToken | None:
    """The contents of the request's genuine element token (expired or not), read once per request: the
    CORS middleware reads it first to learn the token's origin."""
    state = request.scope.setdefault("state", {})
    if "element_token" not in state:
        state["element_token"] = container(request).element_tokens.read(request.query_params.get(ELEMENT_TOKEN, ""))
    found = state["element_token"]
    return found if isinstance(found, ElementToken) else None


async def element_access(request: Request) -> ElementToken:
    """The request's element token, if valid and holding a permission that allows this very call."""
    element = await run_in_threadpool(container(request).element_tokens.authenticate, read_element_token(request))
    route = getattr(request.scope.get("route"), "path", "")
    allowed = ELEMENT_ROUTES.get((request.method, route))
    if allowed is None:
        raise PermissionDenied("an element token cannot make this call")
    element.require(allowed)
    count_request(request, element.application_id)
    return element


async def account_access(request: Request) -> AccessContext:
    """Dependency: the account behind `Authorization: Bearer {access_token}` or, for the calls UI Elements
    make, behind the element token's one sub."""
    token = bearer_token(request)
    if not token and element_token_given(request):
        element = await element_access(request)
        return await run_in_threadpool(container(request).element_tokens.account_access, element)
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
    """Dependency: the application's API key or, where Cronofy still allows it, an account access token; from
    UI Elements, an element token (the application, limited to the token's subs)."""
    token = bearer_token(request)
    if not token and element_token_given(request):
        element = await element_access(request)
        return Caller(element.application_id, subs=frozenset(element.subs))
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
