"""The authorize pages: sign up or log in, then consent, then back to the client with a code."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool

from horae.api.auth import container
from horae.domain import scopes
from horae.errors import AuthenticationFailed, InvalidRequest, OAuthRedirect
from horae.services.accounts import SignedIn
from horae.services.oauth import AuthorizeRequest
from horae.web import csrf

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
router = APIRouter(include_in_schema=False)
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; form-action 'self' http: https:; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
FormField = Annotated[str, Form()]


def mount_static(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")


def with_query(url: str, params: dict[str, str | None]) -> str:
    """`url` with these parameters added to whatever query it already has."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    query += [(k, v) for k, v in params.items() if v is not None]
    return urlunsplit(parts._replace(query=urlencode(query)))


def _render(request: Request, template: str, status: int = 200, **context: object) -> HTMLResponse:
    context = {"csrf_token": csrf.token(request), **context}
    return templates.TemplateResponse(request, template, context, status_code=status, headers=PAGE_HEADERS)


def _error_page(request: Request, message: str, status: int) -> HTMLResponse:
    return _render(request, "error.html", status, message=message)


def _forbidden(request: Request) -> HTMLResponse:
    message = "This form has expired or did not come from this site. Go back, reload the page and try again."
    return _error_page(request, message, 403)


async def _signed_in(request: Request) -> SignedIn | None:
    token = request.session.get("sid")
    if not isinstance(token, str):
        return None
    return await run_in_threadpool(container(request).accounts.resolve_session, token)


async def _check(request: Request, query: str) -> AuthorizeRequest | Response:
    """The authorize request, or the response that reports its problem."""
    params = dict(parse_qsl(query, keep_blank_values=True))
    try:
        return await run_in_threadpool(container(request).oauth.check_authorize, params)
    except InvalidRequest as exc:
        return _error_page(request, exc.message, 400)
    except OAuthRedirect as exc:
        target = with_query(
            exc.redirect_uri, {"error": exc.error, "error_description": exc.description, "state": exc.state}
        )
        return RedirectResponse(target, status_code=303)


@router.get("/oauth/authorize")
async def authorize(request: Request) -> Response:
    query = request.url.query
    checked = await _check(request, query)
    if isinstance(checked, Response):
        return checked
    person = await _signed_in(request)
    if person is None:
        return _render(request, "login.html", app_name=checked.application_name, query=query, error=None)
    return _render(
        request,
        "consent.html",
        app_name=checked.application_name,
        permissions=scopes.describe(checked.scope),
        email=person.person.email,
        query=query,
    )


async def _start_session(request: Request, person: SignedIn, query: str) -> Response:
    token = await run_in_threadpool(container(request).accounts.start_session, person.person.id)
    request.session.clear()  # a new session id and CSRF token after login: no fixation
    request.session["sid"] = token
    return RedirectResponse(f"/oauth/authorize?{query}", status_code=303)


@router.post("/oauth/authorize/login")
async def login(
    request: Request, email: FormField = "", password: FormField = "", query: FormField = "", csrf_token: FormField = ""
) -> Response:
    if not csrf.valid(request, csrf_token):
        return _forbidden(request)
    checked = await _check(request, query)
    if isinstance(checked, Response):
        return checked
    try:
        person = await run_in_threadpool(container(request).accounts.log_in, email, password)
    except AuthenticationFailed as exc:
        return _render(
            request, "login.html", 401, app_name=checked.application_name, query=query, error=exc.message, email=email
        )
    return await _start_session(request, person, query)


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
        return _forbidden(request)
    checked = await _check(request, query)
    if isinstance(checked, Response):
        return checked
    try:
        person = await run_in_threadpool(container(request).accounts.sign_up, email, password, name)
    except InvalidRequest as exc:
        return _render(
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
    return await _start_session(request, person, query)


@router.post("/oauth/authorize/decision")
async def decision(
    request: Request, decision: FormField = "", query: FormField = "", csrf_token: FormField = ""
) -> Response:
    if not csrf.valid(request, csrf_token):
        return _forbidden(request)
    checked = await _check(request, query)
    if isinstance(checked, Response):
        return checked
    person = await _signed_in(request)
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
        return _forbidden(request)
    token = request.session.get("sid")
    if isinstance(token, str):
        await run_in_threadpool(container(request).accounts.end_session, token)
    request.session.clear()
    return RedirectResponse(f"/oauth/authorize?{query}", status_code=303)
