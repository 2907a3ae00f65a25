"""What every page shares: templates, security headers, CSRF-aware rendering and the signed-in person."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool

from horae.api.auth import container
from horae.errors import OAuthRedirect
from horae.services.accounts import SignedIn
from horae.web import csrf

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
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


def render(request: Request, template: str, status: int = 200, **context: object) -> HTMLResponse:
    context = {"csrf_token": csrf.token(request), **context}
    return templates.TemplateResponse(request, template, context, status_code=status, headers=PAGE_HEADERS)


def error_page(request: Request, message: str, status: int) -> HTMLResponse:
    return render(request, "error.html", status, message=message)


def forbidden(request: Request) -> HTMLResponse:
    message = "This form has expired or did not come from this site. Go back, reload the page and try again."
    return error_page(request, message, 403)


async def signed_in(request: Request) -> SignedIn | None:
    token = request.session.get("sid")
    if not isinstance(token, str):
        return None
    return await run_in_threadpool(container(request).accounts.resolve_session, token)


async def start_session(request: Request, person: SignedIn) -> None:
    """Sign the browser in: a new session id and CSRF token, so no session fixation."""
    token = await run_in_threadpool(container(request).accounts.start_session, person.person.id)
    request.session.clear()
    request.session["sid"] = token


def back_to_client(exc: OAuthRedirect) -> RedirectResponse:
    """An authorize-request problem reported to the (already validated) redirect_uri, RFC 6749 §4.1.2.1."""
    target = with_query(
        exc.redirect_uri, {"error": exc.error, "error_description": exc.description, "state": exc.state}
    )
    return RedirectResponse(target, status_code=303)
