"""The authorize pages: sign up or log in, then consent, then back to the client with a code."""

from __future__ import annotations

from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from horae.api.auth import container
from horae.domain import scopes
from horae.errors import AuthenticationFailed, InvalidRequest, OAuthRedirect
from horae.services.oauth import AuthorizeRequest
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


async def _check(request: Request, query: str) -> AuthorizeRequest | Response:
    """The authorize request, or the response that reports its problem."""
    params = dict(parse_qsl(query, keep_blank_values=True))
    try:
        return await run_in_threadpool(container(request).oauth.check_authorize, params)
    except InvalidRequest as exc:
        return error_page(request, exc.message, 400)
    except OAuthRedirect as exc:
        return back_to_client(exc)


@router.get("/oauth/authorize")
async def authorize(request: Request) -> Response:
    query = request.url.query
    checked = await _check(request, query)
    if isinstance(checked, Response):
        return checked
    person = await signed_in(request)
    if person is None:
        return render(request, "login.html", app_name=checked.application_name, query=query, error=None)
    return render(
        request,
        "consent.html",
        app_name=checked.application_name,
        permissions=scopes.describe(checked.scope),
        email=person.person.email,
        query=query,
    )


@router.post("/oauth/authorize/login")
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
        return render(
            request, "login.html", 401, app_name=checked.application_name, query=query, error=exc.message, email=email
        )
    return await finish_login(request, person, f"/oauth/authorize?{query}")


@router.post("/oauth/authorize/signup")
async def signup(
    request: Request,
    email: FormField = "",
    password: FormField = "",
    name: FormField = "",
    query: FormField = "",
    csrf_token: FormField = "",
) -> Response:
    if not csrf.valid(request, csrf_token):
        return forbidden(request)
    checked = await _check(request, query)
    if isinstance(checked, Response):
        return checked
    try:
        person = await run_in_threadpool(container(request).accounts.sign_up, email, password, name)
    except InvalidRequest as exc:
        return render(
            request,
            "login.html",
            422,
            app_name=checked.application_name,
            query=query,
            signup_error=exc.message,
            email=email,
            name=name,
            error=None,
        )
    return await finish_login(request, person, f"/oauth/authorize?{query}")


@router.post("/oauth/authorize/decision")
async def decision(
    request: Request, decision: FormField = "", query: FormField = "", csrf_token: FormField = ""
) -> Response:
    if not csrf.valid(request, csrf_token):
        return forbidden(request)
    checked = await _check(request, query)
    if isinstance(checked, Response):
        return checked
    person = await signed_in(request)
    if person is None:
        return RedirectResponse(f"/oauth/authorize?{query}", status_code=303)
    if decision != "allow":
        denied = {"error": "access_denied", "error_description": "the person declined", "state": checked.state}
        return RedirectResponse(with_query(checked.redirect_uri, denied), status_code=303)
    code = await run_in_threadpool(container(request).oauth.issue_code, checked, person.account.id)
    return RedirectResponse(with_query(checked.redirect_uri, {"code": code, "state": checked.state}), status_code=303)


@router.post("/oauth/authorize/logout")
async def logout(request: Request, query: FormField = "", csrf_token: FormField = "") -> Response:
    if not csrf.valid(request, csrf_token):
        return forbidden(request)
    token = request.session.get("sid")
    if isinstance(token, str):
        await run_in_threadpool(container(request).accounts.end_session, token)
    request.session.clear()
    return RedirectResponse(f"/oauth/authorize?{query}", status_code=303)
