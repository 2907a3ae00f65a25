"""The page behind a permissions request's URL: the calendar's owner signs in and allows or denies an
application unrestricted access (changing external events) to some of their calendars."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from horae.api.auth import container
from horae.errors import AuthenticationFailed, NotFound
from horae.web import csrf
from horae.web.common import FormField, error_page, forbidden, render, signed_in
from horae.web.dashboard import finish_login

router = APIRouter(include_in_schema=False)
PAGE = "permissions.html"


def _sign_in(request: Request, request_id: str, status: int = 200, error: str | None = None) -> Response:
    return render(request, PAGE, status, request_id=request_id, view=None, done=False, error=error)


@router.get("/permissions/{request_id}")
async def permission_page(request: Request, request_id: str) -> Response:
    person = await signed_in(request)
    if person is None:
        return _sign_in(request, request_id)
    try:
        view = await run_in_threadpool(container(request).permissions.pending, request_id, person.account.id)
    except NotFound as exc:
        return error_page(request, exc.message, 404)
    return render(request, PAGE, request_id=request_id, view=view, email=person.person.email, done=False, error=None)


@router.post("/permissions/{request_id}/login")
async def permission_login(
    request: Request, request_id: str, email: FormField = "", password: FormField = "", csrf_token: FormField = ""
) -> Response:
    if not csrf.valid(request, csrf_token):
        return forbidden(request)
    try:
        person = await run_in_threadpool(container(request).accounts.log_in, email, password)
    except AuthenticationFailed as exc:
        return _sign_in(request, request_id, 401, exc.message)
    return await finish_login(request, person, f"/permissions/{request_id}")


@router.post("/permissions/{request_id}")
async def permission_decision(
    request: Request, request_id: str, decision: FormField = "", csrf_token: FormField = ""
) -> Response:
    if not csrf.valid(request, csrf_token):
        return forbidden(request)
    person = await signed_in(request)
    if person is None:
        return _sign_in(request, request_id, 401)
    allow = decision == "allow"
    try:
        redirect = await run_in_threadpool(container(request).permissions.decide, request_id, person.account.id, allow)
    except NotFound as exc:
        return error_page(request, exc.message, 404)
    if redirect:
        return RedirectResponse(redirect, status_code=303)
    return render(request, PAGE, request_id=request_id, view=None, done=True, allowed=allow, error=None)
