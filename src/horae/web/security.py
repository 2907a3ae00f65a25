"""The dashboard's Security section: two-step sign-in with an authenticator app (set up with a QR code,
recovery codes, removal), changing the password, and signing out every other browser."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import qrcode
import qrcode.image.svg
from fastapi import APIRouter, Request
from fastapi.responses import Response
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool

from horae.api.auth import container
from horae.errors import AuthenticationFailed, InvalidRequest
from horae.services.accounts import SignedIn
from horae.services.mfa import MfaStatus
from horae.web.common import FormField
from horae.web.dashboard import dashboard_page, require_person, signed_in_form

router = APIRouter(include_in_schema=False)
PAGE = "/dashboard/security"
T = TypeVar("T")


def qr_svg(uri: str) -> Markup:
    """The QR code as inline SVG markup: drawn here, so the secret never goes to another server."""
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, border=2)
    svg = image.to_string(encoding="unicode")
    return Markup(svg.replace("<svg ", '<svg role="img" aria-label="QR code for your authenticator app" ', 1))


async def _show(
    request: Request, person: SignedIn, status: int = 200, mfa: MfaStatus | None = None, **extra: object
) -> Response:
    if mfa is None:
        mfa = await run_in_threadpool(container(request).mfa.status, person.person.id)
    qr = qr_svg(mfa.setup_uri) if mfa.setup_uri else None
    context: dict[str, object] = {"errors": {}, "failed": None, "done": None, "recovery_codes": None, **extra}
    return dashboard_page(request, "security.html", person, status, mfa=mfa, qr=qr, **context)


def _errors(exc: InvalidRequest) -> dict[str, str]:
    return {field: "; ".join(e.description for e in found) for field, found in exc.errors.items()}


async def _attempt(request: Request, person: SignedIn, form: str, action: Callable[[], T]) -> T | Response:
    """Run a service call; a refusal (wrong input, a wrong password, the lock-out) shows the page again with
    the reasons beside `form`."""
    try:
        return await run_in_threadpool(action)
    except InvalidRequest as exc:
        return await _show(request, person, 422, errors=_errors(exc), failed=form)
    except AuthenticationFailed as exc:  # the lock-out, reached by guessing passwords here
        return await _show(request, person, 429, errors={"locked": exc.message}, failed=form)


def _session_token(request: Request) -> str:
    return str(request.session.get("sid", ""))


@router.get(PAGE)
async def security_page(request: Request) -> Response:
    person = await require_person(request)
    if isinstance(person, Response):
        return person
    return await _show(request, person)


@router.post(f"{PAGE}/mfa/start")
async def start_mfa(request: Request, csrf_token: FormField = "") -> Response:
    person = await signed_in_form(request, csrf_token)
    if isinstance(person, Response):
        return person
    status = await _attempt(request, person, "start", lambda: container(request).mfa.begin(person.person.id))
    if isinstance(status, Response):
        return status
    return await _show(request, person, mfa=status)


@router.post(f"{PAGE}/mfa/confirm")
async def confirm_mfa(request: Request, code: FormField = "", csrf_token: FormField = "") -> Response:
    person = await signed_in_form(request, csrf_token)
    if isinstance(person, Response):
        return person
    codes = await _attempt(request, person, "confirm", lambda: container(request).mfa.confirm(person.person.id, code))
    if isinstance(codes, Response):
        return codes
    return await _show(request, person, done="mfa-on", recovery_codes=codes)


@router.post(f"{PAGE}/mfa/recovery-codes")
async def replace_recovery_codes(request: Request, password: FormField = "", csrf_token: FormField = "") -> Response:
    person = await signed_in_form(request, csrf_token)
    if isinstance(person, Response):
        return person
    services = container(request)
    codes = await _attempt(
        request, person, "codes", lambda: services.mfa.new_recovery_codes(person.person.id, password)
    )
    if isinstance(codes, Response):
        return codes
    return await _show(request, person, done="codes-replaced", recovery_codes=codes)


@router.post(f"{PAGE}/mfa/remove")
async def remove_mfa(
    request: Request, password: FormField = "", code: FormField = "", csrf_token: FormField = ""
) -> Response:
    person = await signed_in_form(request, csrf_token)
    if isinstance(person, Response):
        return person
    removed = await _attempt(
        request, person, "remove", lambda: container(request).mfa.remove(person.person.id, password, code)
    )
    if isinstance(removed, Response):
        return removed
    return await _show(request, person, done="mfa-off")


@router.post(f"{PAGE}/password")
async def change_password(
    request: Request,
    current_password: FormField = "",
    new_password: FormField = "",
    repeat_password: FormField = "",
    csrf_token: FormField = "",
) -> Response:
    person = await signed_in_form(request, csrf_token)
    if isinstance(person, Response):
        return person
    security, token = container(request).account_security, _session_token(request)
    ended = await _attempt(
        request,
        person,
        "password",
        lambda: security.change_password(person.person.id, current_password, new_password, repeat_password, token),
    )
    if isinstance(ended, Response):
        return ended
    return await _show(request, person, done="password", ended=ended)


@router.post(f"{PAGE}/sessions/end-others")
async def end_other_sessions(request: Request, csrf_token: FormField = "") -> Response:
    person = await signed_in_form(request, csrf_token)
    if isinstance(person, Response):
        return person
    security, token = container(request).account_security, _session_token(request)
    ended = await run_in_threadpool(security.end_other_sessions, person.person.id, token)
    return await _show(request, person, done="sessions", ended=ended)
