"""Connecting conferencing services: the page behind a conferencing-services link (an application asked for
it), the round trip through Zoom's or Microsoft's consent, and the dashboard's add, default and relink."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from horae.api.auth import container, public_base_url
from horae.domain.conferencing import WIRE_NAMES
from horae.errors import InvalidRequest, NotFound
from horae.web.common import FormField, error_page, render
from horae.web.dashboard import require_person, signed_in_form

router = APIRouter(include_in_schema=False)
LABELS = {"zoom": "Zoom", "teams": "Microsoft Teams"}
PROFILE_PAGE = "/dashboard/profile"


def _callback(request: Request, kind: str) -> str:
    return f"{public_base_url(request)}/conferencing_services/callback/{kind}"


def _consent(request: Request, account_id: str, kind: str, back_to: str, profile_id: str = "") -> Response:
    profiles = container(request).conferencing_profiles
    try:
        url = profiles.consent_url(account_id, kind, _callback(request, kind), back_to, profile_id)
    except NotFound as exc:
        return error_page(request, exc.message, 404)
    return RedirectResponse(url, status_code=303)


# Declared before the link routes, which would otherwise read `callback` as a link token.
@router.get("/conferencing_services/callback/{kind}")
async def consent_callback(request: Request, kind: str) -> Response:
    params = request.query_params
    if params.get("error"):
        return error_page(request, f"{LABELS.get(kind, kind)} was not connected ({params['error']}).", 400)
    profiles = container(request).conferencing_profiles
    try:
        _, back_to = await run_in_threadpool(
            profiles.complete, params.get("state", ""), params.get("code", ""), _callback(request, kind)
        )
    except (InvalidRequest, NotFound) as exc:
        return error_page(request, exc.message, 400)
    return RedirectResponse(back_to, status_code=303)


@router.get("/conferencing_services/{token}")
async def invitation_page(request: Request, token: str) -> Response:
    """The link an application handed out: straight to the service it named, or a choice of services."""
    profiles = container(request).conferencing_profiles
    try:
        invitation = profiles.invitation(token)
    except NotFound as exc:
        return error_page(request, exc.message, 404)
    if invitation.provider_key:
        return _consent(request, invitation.account_id, invitation.provider_key, invitation.redirect_uri)
    choices = [(kind, LABELS.get(kind, kind)) for kind in profiles.configured]
    return render(request, "conferencing_choice.html", token=token, choices=choices)


@router.get("/conferencing_services/{token}/{kind}")
async def invitation_choice(request: Request, token: str, kind: str) -> Response:
    try:
        invitation = container(request).conferencing_profiles.invitation(token)
    except NotFound as exc:
        return error_page(request, exc.message, 404)
    return _consent(request, invitation.account_id, kind, invitation.redirect_uri)


# --- from the dashboard ---------------------------------------------------------------------------------


@router.post("/dashboard/conferencing/add")
async def add_from_dashboard(request: Request, kind: FormField = "", csrf_token: FormField = "") -> Response:
    person = await signed_in_form(request, csrf_token)
    if isinstance(person, Response):
        return person
    if kind not in WIRE_NAMES:
        return error_page(request, "Choose Zoom or Microsoft Teams.", 422)
    return _consent(request, person.account.id, kind, f"{PROFILE_PAGE}?saved=conferencing")


@router.post("/dashboard/conferencing/default")
async def make_default(request: Request, profile_id: FormField = "", csrf_token: FormField = "") -> Response:
    person = await signed_in_form(request, csrf_token)
    if isinstance(person, Response):
        return person
    try:
        await run_in_threadpool(container(request).conferencing_profiles.make_default, person.account.id, profile_id)
    except NotFound as exc:
        return error_page(request, exc.message, 404)
    return RedirectResponse(f"{PROFILE_PAGE}?saved=conferencing", status_code=303)


@router.get("/dashboard/conferencing/{profile_id}/relink")
async def relink(request: Request, profile_id: str) -> Response:
    """`profile_relink_url` of a disconnected conferencing profile: its owner consents again."""
    person = await require_person(request)
    if isinstance(person, Response):
        return person
    mine = await run_in_threadpool(container(request).conferencing_profiles.for_account, person.account.id)
    found = next((p for p in mine if p.id == profile_id), None)
    if found is None:
        return error_page(request, "This conferencing profile does not belong to your account.", 404)
    return _consent(request, person.account.id, found.provider_key, f"{PROFILE_PAGE}?saved=conferencing", found.id)
