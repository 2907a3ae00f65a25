"""Connecting calendar services from the browser: CalDAV (with presets) and ICS feeds by form, Google and
Microsoft through their consent pages; reached from the authorize page and from a profile's relink link."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from horae.api.auth import container
from horae.errors import AuthenticationFailed, InvalidRequest, NotFound
from horae.services.accounts import SignedIn
from horae.services.connections import FORM_KINDS
from horae.web import csrf
from horae.web.common import FormField, error_page, forbidden, render, signed_in
from horae.web.dashboard import finish_login

router = APIRouter(include_in_schema=False)
PRESETS = {"": "Another CalDAV server", "icloud": "iCloud", "fastmail": "Fastmail", "nextcloud": "Nextcloud"}


def _safe_return(target: str) -> str:
    """Only back into Horae's own authorize page: anything else would make this an open redirect."""
    return target if target.startswith("/oauth/authorize?") else ""


async def _page(
    request: Request, person: SignedIn | None, status: int = 200, errors: dict[str, str] | None = None, **extra: object
) -> Response:
    services = container(request)
    profiles = await run_in_threadpool(services.identity.profiles_of, person.account.id) if person else []
    return_to = str(extra.pop("return_to", "") or request.query_params.get("return_to", ""))
    context: dict[str, object] = {
        "email": person.person.email if person else None,
        "profiles": profiles,
        "presets": PRESETS,
        "oauth_kinds": services.connections.oauth_kinds,
        "errors": errors or {},
        "return_to": _safe_return(return_to),
        "profile_id": request.query_params.get("profile_id", ""),
        "login_error": None,
        "linked": request.query_params.get("linked"),
        "kind": request.query_params.get("kind"),
        "form": {},
    }
    context.update(extra)
    return render(request, "connect.html", status, **context)


@router.get("/connect")
async def connect_page(request: Request) -> Response:
    return await _page(request, await signed_in(request))


@router.post("/connect/login")
async def connect_login(
    request: Request, email: FormField = "", password: FormField = "", csrf_token: FormField = ""
) -> Response:
    if not csrf.valid(request, csrf_token):
        return forbidden(request)
    try:
        person = await run_in_threadpool(container(request).accounts.log_in, email, password)
    except AuthenticationFailed as exc:
        return await _page(request, None, 401, login_error=exc.message)
    return await finish_login(request, person, "/connect")


@router.post("/connect/{kind}")
async def connect_with_form(request: Request, kind: str, csrf_token: FormField = "") -> Response:
    if not csrf.valid(request, csrf_token):
        return forbidden(request)
    if kind not in FORM_KINDS:
        return error_page(request, "There is no such calendar service.", 404)
    person = await signed_in(request)
    if person is None:
        return await _page(request, None, 401)
    form = {k: str(v) for k, v in (await request.form()).items() if k != "csrf_token"}
    return_to = _safe_return(form.pop("return_to", ""))
    profile_id = form.pop("profile_id", "")
    try:
        profile = await run_in_threadpool(
            container(request).connections.link, person.account.id, kind, form, profile_id
        )
    except InvalidRequest as exc:
        errors = {field: "; ".join(e.description for e in found) for field, found in exc.errors.items()}
        return await _page(request, person, 422, errors=errors, kind=kind, form=form, return_to=return_to)
    except NotFound:
        return error_page(request, "This calendar connection does not belong to your account.", 404)
    return RedirectResponse(return_to or f"/connect?linked={profile.id}", status_code=303)


@router.get("/connect/{kind}/start")
async def start_oauth(request: Request, kind: str) -> Response:
    person = await signed_in(request)
    if person is None:
        return await _page(request, None, 401)
    profile_id = request.query_params.get("profile_id", "")
    # The return target travels in the session: the provider only hands back `code` and `state`.
    request.session["connect_return"] = _safe_return(request.query_params.get("return_to", ""))
    try:
        url = await run_in_threadpool(
            container(request).connections.authorization_url,
            person.account.id,
            kind,
            _callback_url(request, kind),
            profile_id,
        )
    except NotFound:
        return error_page(request, "This calendar service is not configured on this server.", 404)
    return RedirectResponse(url, status_code=303)


@router.get("/connect/{kind}/callback")
async def finish_oauth(request: Request, kind: str) -> Response:
    person = await signed_in(request)
    if person is None:
        return await _page(request, None, 401)
    params = request.query_params
    if params.get("error"):
        return error_page(request, f"The calendar service did not connect: {params.get('error')}.", 400)
    try:
        profile = await run_in_threadpool(
            container(request).connections.complete_oauth,
            person.account.id,
            params.get("state", ""),
            params.get("code", ""),
            _callback_url(request, kind),
        )
    except InvalidRequest as exc:
        return error_page(request, exc.message, 400)
    except NotFound:
        return error_page(request, "This calendar connection does not belong to your account.", 404)
    target = str(request.session.pop("connect_return", "") or "")
    return RedirectResponse(_safe_return(target) or f"/connect?linked={profile.id}", status_code=303)


def _callback_url(request: Request, kind: str) -> str:
    base = container(request).settings.public_base_url or str(request.base_url).rstrip("/")
    return f"{base.rstrip('/')}/connect/{kind}/callback"
