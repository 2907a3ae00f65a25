"""The second step of signing in (`/login/mfa`): after the right password of someone with two-step sign-in,
the browser holds only a short-lived marker in its signed cookie, not a session, until a code from the
authenticator app (or a recovery code) is typed in."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from horae.api.auth import container
from horae.errors import AuthenticationFailed
from horae.web import csrf
from horae.web.common import FormField, forbidden, render, start_session

router = APIRouter(include_in_schema=False)
PAGE = "/login/mfa"
PENDING = "mfa_pending"
PENDING_LIFETIME = timedelta(minutes=5)


async def begin_second_step(request: Request, person_id: str, next_url: str) -> Response:
    """Hold the person at the code page: any earlier session of this browser ends (so nobody stays signed
    in as someone else meanwhile), and the marker says who, until when, and where to go afterwards.
    `next_url` must already be a same-site path."""
    token = request.session.get("sid")
    if isinstance(token, str):
        await run_in_threadpool(container(request).accounts.end_session, token)
    request.session.clear()
    until = container(request).clock.now() + PENDING_LIFETIME
    request.session[PENDING] = {"person": person_id, "until": until.timestamp(), "next": next_url}
    return RedirectResponse(PAGE, status_code=303)


def _pending(request: Request) -> dict[str, str] | None:
    """The marker while it is still fresh (it is signed, so its values are ours)."""
    marker = request.session.get(PENDING)
    if not isinstance(marker, dict):
        return None
    until = marker.get("until")
    if not isinstance(until, float | int) or container(request).clock.now().timestamp() >= until:
        request.session.pop(PENDING, None)
        return None
    return {"person": str(marker["person"]), "next": str(marker["next"])}


def _expired() -> Response:
    return RedirectResponse("/login", status_code=303)


@router.get(PAGE)
async def code_page(request: Request) -> Response:
    if _pending(request) is None:
        return _expired()
    return render(request, "login_mfa.html", error=None)


@router.post(PAGE)
async def check_code(request: Request, code: FormField = "", csrf_token: FormField = "") -> Response:
    if not csrf.valid(request, csrf_token):
        return forbidden(request)
    pending = _pending(request)
    if pending is None:
        return _expired()
    try:
        person = await run_in_threadpool(container(request).mfa.complete_login, pending["person"], code)
    except AuthenticationFailed as exc:
        return render(request, "login_mfa.html", 401, error=exc.message)
    await start_session(request, person)  # also drops the marker
    return RedirectResponse(pending["next"], status_code=303)
