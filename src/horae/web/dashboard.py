"""The developer dashboard's frame: its sign-in, sign-up and sign-out pages, the guard every dashboard page
uses, and the layout with its navigation. The sections (profile, security, organizational units) live in
their own modules."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from horae.api.auth import container
from horae.errors import AuthenticationFailed, InvalidRequest
from horae.services.accounts import SignedIn
from horae.web import csrf
from horae.web.common import FormField, forbidden, render, signed_in, start_session
from horae.web.mfa_login import begin_second_step

router = APIRouter(include_in_schema=False)
HOME = "/dashboard"
SECTIONS = (
    ("/dashboard/profile", "Your profile"),
    ("/dashboard/security", "Security"),
    ("/dashboard/units", "Organizational units"),
)


def safe_next(target: str) -> str:
    """Only a path on this site, so the sign-in page cannot send anyone elsewhere (open redirect)."""
    return target if target.startswith("/") and not target.startswith("//") and "\\" not in target else HOME


async def require_person(request: Request) -> SignedIn | Response:
    """The signed-in person, or a redirect to the sign-in page that comes back here afterwards."""
    person = await signed_in(request)
    if person is not None:
        return person
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)


async def signed_in_form(request: Request, csrf_token: str) -> SignedIn | Response:
    """For every dashboard POST: a form from this site (CSRF), then a signed-in person."""
    if not csrf.valid(request, csrf_token):
        return forbidden(request)
    return await require_person(request)


def dashboard_page(request: Request, template: str, person: SignedIn, status: int = 200, **context: object) -> Response:
    """A dashboard section rendered inside the layout (`dashboard_base.html`)."""
    return render(
        request, template, status, person=person.person, account=person.account, sections=SECTIONS,
        current=request.url.path, **context,
    )  # fmt: skip


async def finish_login(request: Request, person: SignedIn, next_url: str) -> Response:
    """After the password was right: start the session and go on to `next_url` (a same-site path, query
    allowed), or first ask for the second factor when the person has one. Every page that signs people in
    ends here, so none of them can skip that step."""
    target = safe_next(next_url)
    if await run_in_threadpool(container(request).mfa.required, person.person.id):
        return await begin_second_step(request, person.person.id, target)
    await start_session(request, person)
    return RedirectResponse(target, status_code=303)


@router.get(HOME)
async def home(request: Request) -> Response:
    person = await require_person(request)
    if isinstance(person, Response):
        return person
    return RedirectResponse("/dashboard/profile", status_code=303)


@router.get("/login")
async def login_page(request: Request, next: str = HOME) -> Response:
    if await signed_in(request) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return render(request, "dashboard_login.html", next=safe_next(next), error=None, signup_error=None)


@router.post("/login")
async def login(
    request: Request,
    email: FormField = "",
    password: FormField = "",
    next: FormField = HOME,
    csrf_token: FormField = "",
) -> Response:
    if not csrf.valid(request, csrf_token):
        return forbidden(request)
    try:
        person = await run_in_threadpool(container(request).accounts.log_in, email, password)
    except AuthenticationFailed as exc:
        return render(
            request, "dashboard_login.html", 401, next=safe_next(next), error=exc.message, signup_error=None,
            email=email,
        )  # fmt: skip
    return await finish_login(request, person, next)


@router.post("/signup")
async def signup(
    request: Request,
    email: FormField = "",
    password: FormField = "",
    name: FormField = "",
    next: FormField = HOME,
    csrf_token: FormField = "",
) -> Response:
    if not csrf.valid(request, csrf_token):
        return forbidden(request)
    try:
        person = await run_in_threadpool(container(request).accounts.sign_up, email, password, name)
    except InvalidRequest as exc:
        return render(
            request, "dashboard_login.html", 422, next=safe_next(next), error=None, signup_error=exc.message,
            name=name,
        )  # fmt: skip
    return await finish_login(request, person, next)


@router.post("/logout")
async def logout(request: Request, csrf_token: FormField = "") -> Response:
    if not csrf.valid(request, csrf_token):
        return forbidden(request)
    token = request.session.get("sid")
    if isinstance(token, str):
        await run_in_threadpool(container(request).accounts.end_session, token)
    request.session.clear()
    return RedirectResponse("/login", status_code=303)
