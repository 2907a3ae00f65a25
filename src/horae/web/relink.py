"""The page behind `profile_relink_url`: the owner signs in and reconnects a disconnected profile."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from horae.api.auth import container
from horae.errors import AuthenticationFailed, NotFound
from horae.services.connections import FORM_KINDS, OAUTH_KINDS
from horae.web import csrf
from horae.web.common import FormField, error_page, forbidden, render, signed_in
from horae.web.dashboard import finish_login

router = APIRouter(include_in_schema=False)
_NOT_YOURS = "This calendar connection does not belong to the account you are signed in with."


async def _own_kind(request: Request, account_id: str, profile_id: str) -> str | None:
    """The provider key of the signed-in account's profile, or None when it is not theirs."""
    profiles = await run_in_threadpool(container(request).identity.profiles_of, account_id)
    return next((p.provider_key for p in profiles if p.id == profile_id), None)


@router.get("/profiles/{profile_id}/relink")
async def relink_page(request: Request, profile_id: str) -> Response:
    person = await signed_in(request)
    if person is None:
        return render(request, "relink.html", profile_id=profile_id, email=None, error=None, done=False)
    kind = await _own_kind(request, person.account.id, profile_id)
    if kind is None:
        return error_page(request, _NOT_YOURS, 404)
    if kind in FORM_KINDS:  # new credentials are needed: the connect page's form, aimed at this profile
        return RedirectResponse(f"/connect?profile_id={profile_id}&kind={kind}", status_code=303)
    if kind in OAUTH_KINDS:
        return RedirectResponse(f"/connect/{kind}/start?profile_id={profile_id}", status_code=303)
    return render(request, "relink.html", profile_id=profile_id, email=person.person.email, error=None, done=False)


@router.post("/profiles/{profile_id}/relink/login")
async def relink_login(
    request: Request, profile_id: str, email: FormField = "", password: FormField = "", csrf_token: FormField = ""
) -> Response:
    if not csrf.valid(request, csrf_token):
        return forbidden(request)
    try:
        person = await run_in_threadpool(container(request).accounts.log_in, email, password)
    except AuthenticationFailed as exc:
        return render(request, "relink.html", 401, profile_id=profile_id, email=None, error=exc.message, done=False)
    return await finish_login(request, person, f"/profiles/{profile_id}/relink")


@router.post("/profiles/{profile_id}/relink")
async def relink(request: Request, profile_id: str, csrf_token: FormField = "") -> Response:
    if not csrf.valid(request, csrf_token):
        return forbidden(request)
    person = await signed_in(request)
    if person is None:
        return render(request, "relink.html", 401, profile_id=profile_id, email=None, error=None, done=False)
    try:
        await run_in_threadpool(container(request).identity.relink_profile, person.account.id, profile_id)
    except NotFound:
        return error_page(request, _NOT_YOURS, 404)
    return render(request, "relink.html", profile_id=profile_id, email=person.person.email, error=None, done=True)
