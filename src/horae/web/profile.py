""" "Your Profile" in the dashboard: details (name, email, time zone), the calendar services connected (list,
add through /connect, disconnect), conferencing services, and a pointer to account security."""

from __future__ import annotations

from functools import cache
from zoneinfo import available_timezones

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from horae.api.auth import container
from horae.errors import InvalidRequest, NotFound
from horae.services.accounts import SignedIn
from horae.web.common import FormField, error_page
from horae.web.conferencing import LABELS
from horae.web.dashboard import dashboard_page, require_person, signed_in_form

router = APIRouter(include_in_schema=False)
PAGE = "/dashboard/profile"


@cache
def _zones() -> list[str]:
    return sorted(z for z in available_timezones() if "/" in z or z == "UTC")


async def _show(request: Request, person: SignedIn, status: int = 200, **extra: object) -> Response:
    overview = await run_in_threadpool(container(request).profile_settings.overview, person.person.id)
    profiles = container(request).conferencing_profiles
    conferencing = await run_in_threadpool(profiles.for_account, person.account.id)
    context: dict[str, object] = {"errors": {}, "saved": None, **extra}
    return dashboard_page(
        request, "profile.html", person, status, overview=overview, zones=_zones(), conferencing=conferencing,
        offered=profiles.configured, labels=LABELS, **context,
    )  # fmt: skip


def _errors(exc: InvalidRequest) -> dict[str, str]:
    return {field: "; ".join(e.description for e in found) for field, found in exc.errors.items()}


@router.get(PAGE)
async def profile_page(request: Request) -> Response:
    person = await require_person(request)
    if isinstance(person, Response):
        return person
    return await _show(request, person, saved=request.query_params.get("saved"))


@router.post(f"{PAGE}/details")
async def save_details(
    request: Request, name: FormField = "", tzid: FormField = "", csrf_token: FormField = ""
) -> Response:
    person = await signed_in_form(request, csrf_token)
    if isinstance(person, Response):
        return person
    try:
        await run_in_threadpool(container(request).profile_settings.update_details, person.person.id, name, tzid)
    except InvalidRequest as exc:
        return await _show(request, person, 422, errors=_errors(exc))
    return RedirectResponse(f"{PAGE}?saved=details", status_code=303)


@router.post(f"{PAGE}/email")
async def change_email(
    request: Request, email: FormField = "", password: FormField = "", csrf_token: FormField = ""
) -> Response:
    person = await signed_in_form(request, csrf_token)
    if isinstance(person, Response):
        return person
    try:
        await run_in_threadpool(container(request).profile_settings.change_email, person.person.id, email, password)
    except InvalidRequest as exc:
        return await _show(request, person, 422, errors=_errors(exc))
    return RedirectResponse(f"{PAGE}?saved=email", status_code=303)


@router.post(f"{PAGE}/services/{{profile_id}}/disconnect")
async def disconnect(request: Request, profile_id: str, csrf_token: FormField = "") -> Response:
    person = await signed_in_form(request, csrf_token)
    if isinstance(person, Response):
        return person
    try:
        await run_in_threadpool(container(request).profile_settings.disconnect, person.person.id, profile_id)
    except NotFound as exc:
        return error_page(request, exc.message, 404)
    except InvalidRequest as exc:
        return await _show(request, person, 422, errors=_errors(exc))
    return RedirectResponse(f"{PAGE}?saved=disconnected", status_code=303)
