"""Forgotten passwords: ask for a reset link by email (`/password-reset`), then set a new password through
it (`/password-reset/{token}`). The asking page answers the same whoever is asked about."""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from horae.api.auth import container
from horae.errors import InvalidRequest, NotFound
from horae.services.account_security import BAD_LINK
from horae.web import csrf
from horae.web.common import FormField, error_page, forbidden, render

router = APIRouter(include_in_schema=False)
PAGE = "/password-reset"


def link_base(request: Request) -> str:
    """Where mailed links point: the configured public URL, never the request's Host header, which anyone
    can set (a reset asked for with `Host: evil.example` would mail the victim a link to that site)."""
    settings = container(request).settings
    return settings.public_base_url or f"http://{settings.host}:{settings.port}"


@router.get(PAGE)
async def ask_page(request: Request) -> Response:
    return render(request, "password_reset.html", sent=False)


@router.post(PAGE)
async def ask(
    request: Request, background: BackgroundTasks, email: FormField = "", csrf_token: FormField = ""
) -> Response:
    if not csrf.valid(request, csrf_token):
        return forbidden(request)
    # Looked up and mailed after the answer has gone: how long the answer takes says nothing either.
    background.add_task(container(request).account_security.request_reset, email, link_base(request))
    return render(request, "password_reset.html", sent=True)


@router.get(f"{PAGE}/{{token}}")
async def new_password_page(request: Request, token: str) -> Response:
    if not await run_in_threadpool(container(request).account_security.reset_usable, token):
        return error_page(request, BAD_LINK, 404)
    return render(request, "password_reset_new.html", token=token, errors={}, done=False)


@router.post(f"{PAGE}/{{token}}")
async def set_new_password(
    request: Request,
    token: str,
    new_password: FormField = "",
    repeat_password: FormField = "",
    csrf_token: FormField = "",
) -> Response:
    if not csrf.valid(request, csrf_token):
        return forbidden(request)
    security = container(request).account_security
    try:
        await run_in_threadpool(security.reset_password, token, new_password, repeat_password)
    except NotFound as exc:
        return error_page(request, exc.message, 404)
    except InvalidRequest as exc:
        errors = {field: "; ".join(e.description for e in found) for field, found in exc.errors.items()}
        return render(request, "password_reset_new.html", 422, token=token, errors=errors, done=False)
    # Any session this browser had ended with the others.
    request.session.pop("sid", None)
    return render(request, "password_reset_new.html", token="", errors={}, done=True)
