"""A unit's applications in the dashboard: creating one, its details, redirect URIs, client secrets (shown once,
at creation and rotation), connected accounts and push delivery log."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from horae.api.auth import container
from horae.errors import InvalidRequest
from horae.services.accounts import SignedIn
from horae.services.applications import NewCredentials
from horae.web.common import FormField
from horae.web.dashboard import dashboard_page, require_person, signed_in_form
from horae.web.units import UNITS, actor, attempt, field_errors

router = APIRouter(include_in_schema=False)
APPS = "/dashboard/applications"


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


async def _new_form(request: Request, person: SignedIn, unit_id: str, status: int = 200, **extra: object) -> Response:
    unit = await attempt(
        request, person, lambda: container(request).unit_applications.unit_for_new(actor(person), unit_id)
    )
    if isinstance(unit, Response):
        return unit
    context: dict[str, object] = {"errors": {}, "form": {}, **extra}
    return dashboard_page(request, "application_new.html", person, status, unit=unit.value, **context)


async def _details(
    request: Request, person: SignedIn, application_id: str, status: int = 200, **extra: object
) -> Response:
    view = await attempt(
        request, person, lambda: container(request).unit_applications.view(actor(person), application_id)
    )
    if isinstance(view, Response):
        return view
    context: dict[str, object] = {
        "errors": {},
        "form": {},
        "new_secret": None,
        "notice": request.query_params.get("done"),
    }
    context.update(extra)
    return dashboard_page(request, "application.html", person, status, view=view.value, **context)


@router.get(f"{UNITS}/{{unit_id}}/applications/new")
async def new_application_page(request: Request, unit_id: str) -> Response:
    person = await require_person(request)
    if isinstance(person, Response):
        return person
    return await _new_form(request, person, unit_id)


@router.post(f"{UNITS}/{{unit_id}}/applications")
async def create_application(
    request: Request, unit_id: str, name: FormField = "", redirect_uris: FormField = "", csrf_token: FormField = ""
) -> Response:
    person = await signed_in_form(request, csrf_token)
    if isinstance(person, Response):
        return person
    apps = container(request).unit_applications
    try:
        created = await attempt(
            request, person, lambda: apps.create(actor(person), unit_id, name, _lines(redirect_uris))
        )
    except InvalidRequest as exc:
        form = {"name": name, "redirect_uris": redirect_uris}
        return await _new_form(request, person, unit_id, 422, errors=field_errors(exc), form=form)
    if isinstance(created, Response):
        return created
    return await _shown_once(request, person, created.value)


async def _shown_once(request: Request, person: SignedIn, credentials: NewCredentials) -> Response:
    """The application's page with a secret that is not kept readable: rendered here, never redirected to."""
    return await _details(request, person, credentials.application.id, new_secret=credentials.client_secret)


@router.get(f"{APPS}/{{application_id}}")
async def application_page(request: Request, application_id: str) -> Response:
    person = await require_person(request)
    if isinstance(person, Response):
        return person
    return await _details(request, person, application_id)


@router.post(f"{APPS}/{{application_id}}/redirect_uris")
async def set_redirect_uris(
    request: Request, application_id: str, redirect_uris: FormField = "", csrf_token: FormField = ""
) -> Response:
    person = await signed_in_form(request, csrf_token)
    if isinstance(person, Response):
        return person
    apps = container(request).unit_applications
    try:
        done = await attempt(
            request, person, lambda: apps.set_redirect_uris(actor(person), application_id, _lines(redirect_uris))
        )
    except InvalidRequest as exc:
        form = {"redirect_uris": redirect_uris}
        return await _details(request, person, application_id, 422, errors=field_errors(exc), form=form)
    if isinstance(done, Response):
        return done
    return RedirectResponse(f"{APPS}/{application_id}?done=redirect_uris", status_code=303)


@router.post(f"{APPS}/{{application_id}}/secrets")
async def rotate_secret(request: Request, application_id: str, csrf_token: FormField = "") -> Response:
    person = await signed_in_form(request, csrf_token)
    if isinstance(person, Response):
        return person
    apps = container(request).unit_applications
    rotated = await attempt(request, person, lambda: apps.rotate_secret(actor(person), application_id))
    if isinstance(rotated, Response):
        return rotated
    return await _shown_once(request, person, rotated.value)


@router.post(f"{APPS}/{{application_id}}/secrets/{{secret_id}}/revoke")
async def revoke_secret(request: Request, application_id: str, secret_id: str, csrf_token: FormField = "") -> Response:
    person = await signed_in_form(request, csrf_token)
    if isinstance(person, Response):
        return person
    apps = container(request).unit_applications
    try:
        done = await attempt(request, person, lambda: apps.revoke_secret(actor(person), application_id, secret_id))
    except InvalidRequest as exc:
        return await _details(request, person, application_id, 422, errors=field_errors(exc))
    if isinstance(done, Response):
        return done
    return RedirectResponse(f"{APPS}/{application_id}?done=revoked", status_code=303)
