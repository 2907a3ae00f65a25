"""Organizational units in the dashboard: the list of one's units, a unit's members, roles and invitations,
and the page behind an invitation link. Every form checks CSRF; the service checks the role on every call."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from horae.api.auth import container, public_base_url
from horae.domain.organizations import Role
from horae.errors import InvalidRequest, NotFound, PermissionDenied
from horae.services.accounts import SignedIn
from horae.services.organizations import Actor
from horae.web.common import FormField
from horae.web.dashboard import dashboard_page, require_person, signed_in_form

router = APIRouter(include_in_schema=False)
UNITS = "/dashboard/units"
ROLES = [(r.value, r.value.capitalize()) for r in Role]
T = TypeVar("T")


@dataclass(frozen=True)
class Done(Generic[T]):
    """What a service call returned, told apart from the refusal page it may have become."""

    value: T


def refusal(request: Request, person: SignedIn, exc: NotFound | PermissionDenied) -> Response:
    """404 for what the person may not know exists, 403 for what their role does not allow."""
    if isinstance(exc, NotFound):
        return dashboard_page(request, "dashboard_refused.html", person, 404, heading="Not found", message=exc.message)
    return dashboard_page(request, "dashboard_refused.html", person, 403, heading="Not allowed", message=exc.message)


async def attempt(request: Request, person: SignedIn, call: Callable[[], T]) -> Done[T] | Response:
    """Run a service call off the event loop; refusals become their pages (invalid input is the caller's)."""
    try:
        return Done(await run_in_threadpool(call))
    except (NotFound, PermissionDenied) as exc:
        return refusal(request, person, exc)


def field_errors(exc: InvalidRequest) -> dict[str, str]:
    return {field: "; ".join(e.description for e in found) for field, found in exc.errors.items()}


def actor(person: SignedIn) -> Actor:
    return Actor.person(person.person.id)


async def _list(request: Request, person: SignedIn, status: int = 200, **extra: object) -> Response:
    units = await run_in_threadpool(container(request).organizations.my_units, person.person.id)
    context: dict[str, object] = {"errors": {}, "name": "", **extra}
    return dashboard_page(request, "units.html", person, status, units=units, **context)


async def _unit(request: Request, person: SignedIn, unit_id: str, status: int = 200, **extra: object) -> Response:
    found = await attempt(request, person, lambda: container(request).organizations.view(actor(person), unit_id))
    if isinstance(found, Response):
        return found
    context: dict[str, object] = {"errors": {}, "sent": None, "form": {}, "notice": request.query_params.get("done")}
    context.update(extra)
    return dashboard_page(request, "unit.html", person, status, view=found.value, roles=ROLES, **context)


@router.get(UNITS)
async def units_page(request: Request) -> Response:
    person = await require_person(request)
    if isinstance(person, Response):
        return person
    return await _list(request, person)


@router.post(UNITS)
async def create_unit(request: Request, name: FormField = "", csrf_token: FormField = "") -> Response:
    person = await signed_in_form(request, csrf_token)
    if isinstance(person, Response):
        return person
    try:
        unit = await run_in_threadpool(container(request).organizations.create_unit, name, person.person.id)
    except InvalidRequest as exc:
        return await _list(request, person, 422, errors=field_errors(exc), name=name)
    return RedirectResponse(f"{UNITS}/{unit.id}", status_code=303)


@router.get(f"{UNITS}/{{unit_id}}")
async def unit_page(request: Request, unit_id: str) -> Response:
    person = await require_person(request)
    if isinstance(person, Response):
        return person
    return await _unit(request, person, unit_id)


@router.post(f"{UNITS}/{{unit_id}}/name")
async def rename_unit(request: Request, unit_id: str, name: FormField = "", csrf_token: FormField = "") -> Response:
    person = await signed_in_form(request, csrf_token)
    if isinstance(person, Response):
        return person
    try:
        done = await attempt(
            request, person, lambda: container(request).organizations.rename(actor(person), unit_id, name)
        )
    except InvalidRequest as exc:
        return await _unit(request, person, unit_id, 422, errors=field_errors(exc), form={"name": name})
    if isinstance(done, Response):
        return done
    return RedirectResponse(f"{UNITS}/{unit_id}?done=renamed", status_code=303)


@router.post(f"{UNITS}/{{unit_id}}/invitations")
async def invite(
    request: Request, unit_id: str, email: FormField = "", role: FormField = "", csrf_token: FormField = ""
) -> Response:
    person = await signed_in_form(request, csrf_token)
    if isinstance(person, Response):
        return person
    organizations, base = container(request).organizations, public_base_url(request)
    try:
        sent = await attempt(request, person, lambda: organizations.invite(actor(person), unit_id, email, role, base))
    except InvalidRequest as exc:
        form = {"email": email, "role": role}
        return await _unit(request, person, unit_id, 422, errors=field_errors(exc), form=form)
    if isinstance(sent, Response):
        return sent
    # Rendered, not redirected: the link is shown this once (only its digest is kept).
    return await _unit(request, person, unit_id, sent=sent.value)


@router.post(f"{UNITS}/{{unit_id}}/invitations/{{invitation_id}}/cancel")
async def cancel_invitation(request: Request, unit_id: str, invitation_id: str, csrf_token: FormField = "") -> Response:
    person = await signed_in_form(request, csrf_token)
    if isinstance(person, Response):
        return person
    organizations = container(request).organizations
    done = await attempt(
        request, person, lambda: organizations.cancel_invitation(actor(person), unit_id, invitation_id)
    )
    if isinstance(done, Response):
        return done
    return RedirectResponse(f"{UNITS}/{unit_id}?done=cancelled", status_code=303)


@router.post(f"{UNITS}/{{unit_id}}/members/{{person_id}}/role")
async def change_role(
    request: Request, unit_id: str, person_id: str, role: FormField = "", csrf_token: FormField = ""
) -> Response:
    person = await signed_in_form(request, csrf_token)
    if isinstance(person, Response):
        return person
    organizations = container(request).organizations
    try:
        done = await attempt(request, person, lambda: organizations.set_role(actor(person), unit_id, person_id, role))
    except InvalidRequest as exc:
        return await _unit(request, person, unit_id, 422, errors=field_errors(exc))
    if isinstance(done, Response):
        return done
    return RedirectResponse(f"{UNITS}/{unit_id}?done=role", status_code=303)


@router.post(f"{UNITS}/{{unit_id}}/members/{{person_id}}/remove")
async def remove_member(request: Request, unit_id: str, person_id: str, csrf_token: FormField = "") -> Response:
    person = await signed_in_form(request, csrf_token)
    if isinstance(person, Response):
        return person
    organizations = container(request).organizations
    try:
        done = await attempt(request, person, lambda: organizations.remove(actor(person), unit_id, person_id))
    except InvalidRequest as exc:
        return await _unit(request, person, unit_id, 422, errors=field_errors(exc))
    if isinstance(done, Response):
        return done
    if person_id == person.person.id:
        return RedirectResponse(UNITS, status_code=303)
    return RedirectResponse(f"{UNITS}/{unit_id}?done=removed", status_code=303)


@router.post(f"{UNITS}/{{unit_id}}/leave")
async def leave(request: Request, unit_id: str, csrf_token: FormField = "") -> Response:
    person = await signed_in_form(request, csrf_token)
    if isinstance(person, Response):
        return person
    organizations = container(request).organizations
    try:
        done = await attempt(request, person, lambda: organizations.leave(person.person.id, unit_id))
    except InvalidRequest as exc:
        return await _unit(request, person, unit_id, 422, errors=field_errors(exc))
    if isinstance(done, Response):
        return done
    return RedirectResponse(UNITS, status_code=303)


# --- the invitation link ------------------------------------------------------------------------------------


@router.get("/invitations/{token}")
async def invitation_page(request: Request, token: str) -> Response:
    person = await require_person(request)
    if isinstance(person, Response):
        return person
    found = await attempt(request, person, lambda: container(request).organizations.invitation(token, person.person))
    if isinstance(found, Response):
        return found
    return dashboard_page(request, "invitation.html", person, view=found.value, token=token)


@router.post("/invitations/{token}")
async def accept_invitation(request: Request, token: str, csrf_token: FormField = "") -> Response:
    person = await signed_in_form(request, csrf_token)
    if isinstance(person, Response):
        return person
    joined = await attempt(request, person, lambda: container(request).organizations.accept(token, person.person))
    if isinstance(joined, Response):
        return joined
    return RedirectResponse(f"{UNITS}/{joined.value}?done=joined", status_code=303)
