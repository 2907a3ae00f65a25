"""The Enterprise Connect authorize page: an administrator signs in, connects the organization's calendar
server with admin-level access, and the client gets a code for a service-account token."""

from __future__ import annotations

from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from horae.api.auth import container
from horae.domain import scopes
from horae.domain.enterprise import SERVICE_SCOPES
from horae.errors import AuthenticationFailed, InvalidRequest, OAuthRedirect
from horae.services.accounts import SignedIn
from horae.services.enterprise import AdminRequest
from horae.web import csrf
from horae.web.common import (
    FormField,
    back_to_client,
    error_page,
    forbidden,
    render,
    signed_in,
    with_query,
)
from horae.web.dashboard import finish_login

router = APIRouter(include_in_schema=False)
PAGE = "/enterprise_connect/oauth/authorize"


async def _check(request: Request, query: str) -> AdminRequest | Response:
    params = dict(parse_qsl(query, keep_blank_values=True))
    try:
        return await run_in_threadpool(container(request).enterprise.check_admin_authorize, params)
    except InvalidRequest as exc:
        return error_page(request, exc.message, 400)
    except OAuthRedirect as exc:
        return back_to_client(exc)


def _page(
    request: Request, checked: AdminRequest, query: str, person: SignedIn | None, status: int = 200, **extra: object
) -> Response:
    context: dict[str, object] = {
        "app_name": checked.oauth.application_name,
        "query": query,
        "email": person.person.email if person else None,
        "service_permissions": sorted({SERVICE_SCOPES[w] for w in checked.oauth.scope}),
        "delegated_permissions": scopes.describe(checked.delegated_scope.split()),
        "errors": {},
        "form": {},
        "login_error": None,
        **extra,
    }
    return render(request, "enterprise.html", status, **context)


@router.get(PAGE)
async def authorize(request: Request) -> Response:
    query = request.url.query
    checked = await _check(request, query)
    if isinstance(checked, Response):
        return checked
    return _page(request, checked, query, await signed_in(request))


@router.post(f"{PAGE}/login")
async def login(
    request: Request, email: FormField = "", password: FormField = "", query: FormField = "", csrf_token: FormField = ""
) -> Response:
    if not csrf.valid(request, csrf_token):
        return forbidden(request)
    checked = await _check(request, query)
    if isinstance(checked, Response):
        return checked
    try:
        person = await run_in_threadpool(container(request).accounts.log_in, email, password)
    except AuthenticationFailed as exc:
        return _page(request, checked, query, None, 401, login_error=exc.message)
    return await finish_login(request, person, f"{PAGE}?{query}")


@router.post(f"{PAGE}/decision")
async def decision(request: Request, query: FormField = "", csrf_token: FormField = "") -> Response:
    if not csrf.valid(request, csrf_token):
        return forbidden(request)
    checked = await _check(request, query)
    if isinstance(checked, Response):
        return checked
    person = await signed_in(request)
    if person is None:
        return RedirectResponse(f"{PAGE}?{query}", status_code=303)
    form = {k: str(v) for k, v in (await request.form()).items() if k not in ("csrf_token", "query")}
    redirect, state = checked.oauth.redirect_uri, checked.oauth.state
    if form.get("decision") != "allow":
        denied = {"error": "access_denied", "error_description": "the administrator declined", "state": state}
        return RedirectResponse(with_query(redirect, denied), status_code=303)
    try:
        code = await run_in_threadpool(
            container(request).enterprise.authorize_admin, checked, person.person.id, form.get("kind", ""), form
        )
    except InvalidRequest as exc:
        errors = {field: "; ".join(e.description for e in found) for field, found in exc.errors.items()}
        kept = {k: v for k, v in form.items() if k not in ("password", "service_account_key", "client_secret")}
        return _page(request, checked, query, person, 422, errors=errors, form=kept)
    return RedirectResponse(with_query(redirect, {"code": code, "state": state}), status_code=303)
