"""The hosted booking page behind a Real-Time Scheduling or Sequencing link: the invitee sees the free
times in their own zone (detected by the browser, changeable), picks one, confirms, and is sent on."""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from horae.api.auth import container
from horae.api.routes.event_writes import ZONES
from horae.api.schemas.scheduling import plan_of
from horae.domain.scheduling import DISABLED, SchedulingLink, Slot, by_day, local, parse_key
from horae.domain.times import BadTime, zone
from horae.errors import HoraeError, InvalidRequest, NotFound
from horae.services.scheduling_links import LinkPlan, LinkUnavailable, SlotTaken
from horae.web import csrf
from horae.web.common import FormField, error_page, forbidden, render

router = APIRouter(include_in_schema=False)
UNUSABLE = (
    "This link cannot be used right now: the calendars it books into are not available. "
    "Please contact the person who sent it."
)
TAKEN = "Sorry, that time is no longer available: someone else has just booked it. Please choose another time."


def _zone_of(tz: str | None, plan: LinkPlan) -> str:
    if tz:
        try:
            zone(tz)
            return tz
        except BadTime:
            pass
    return plan.event_tzid


def _day_label(day: date) -> str:
    return f"{day:%A} {day.day} {day:%B %Y}"


async def _load(request: Request, token: str) -> tuple[SchedulingLink, LinkPlan] | Response:
    service = container(request).scheduling_links
    try:
        link = await run_in_threadpool(service.open, token)
        return link, plan_of(link.kind, link.spec)
    except NotFound:
        return error_page(request, "This scheduling link does not exist. Check that you copied all of it.", 404)
    except InvalidRequest:  # stored before a stricter check: nothing to offer
        return error_page(request, "This scheduling link cannot be used.", 410)


def _closed(request: Request, exc: LinkUnavailable) -> Response:
    status = 410 if exc.status == DISABLED else 409
    return render(request, "booking_closed.html", status, message=exc.message)


async def _options(request: Request, link: SchedulingLink, plan: LinkPlan) -> list[Slot] | Response:
    """The slots the page offers now, or the page saying why there are none to offer."""
    try:
        return await run_in_threadpool(container(request).scheduling_links.options, link, plan)
    except LinkUnavailable as exc:
        return _closed(request, exc)
    except HoraeError:  # a host withdrew access or a calendar went away since the link was made
        return error_page(request, UNUSABLE, 409)


def _no_choice(request: Request, token: str, tz: str) -> Response:
    return render(request, "booking_taken.html", 400, token=token, tz=tz, message="Choose a time first.")


def _steps(plan: LinkPlan, slot: Slot, tz: ZoneInfo) -> list[dict[str, Any]]:
    """Each step of a chosen slot as the confirm page shows it: what, which day, when."""
    shown = []
    for step_id, start, end, _ in slot.steps:
        begins, ends = local(start, tz), local(end, tz)
        summary = plan.make_event(step_id, begins, ends).summary
        shown.append({"summary": summary, "day": _day_label(begins.date()), "time": f"{begins:%H:%M} – {ends:%H:%M}"})
    return shown


@router.get("/rts/{token}")
async def slots_page(request: Request, token: str, tz: str | None = None) -> Response:
    loaded = await _load(request, token)
    if isinstance(loaded, Response):
        return loaded
    link, plan = loaded
    chosen = _zone_of(tz, plan)
    slots = await _options(request, link, plan)
    if isinstance(slots, Response):
        return slots
    days = [(_day_label(d.day), d.slots) for d in by_day(slots, ZoneInfo(chosen))]
    summary = str(link.spec.get("event", {}).get("summary", ""))
    return render(
        request,
        "booking.html",
        token=token,
        days=days,
        zones=ZONES,
        tz=chosen,
        summary=summary,
        minutes=(plan.query.duration // 60) if plan.query is not None else None,
    )


@router.get("/rts/{token}/confirm")
async def confirm_page(request: Request, token: str, slot: str = "", tz: str | None = None) -> Response:
    loaded = await _load(request, token)
    if isinstance(loaded, Response):
        return loaded
    link, plan = loaded
    chosen = _zone_of(tz, plan)
    if parse_key(slot) is None:
        return _no_choice(request, token, chosen)
    slots = await _options(request, link, plan)
    if isinstance(slots, Response):
        return slots
    found = [s for s in slots if s.key == slot]
    if not found:
        return render(request, "booking_taken.html", 409, token=token, tz=chosen, message=TAKEN)
    return render(
        request,
        "booking_confirm.html",
        token=token,
        tz=chosen,
        key=slot,
        steps=_steps(plan, found[0], ZoneInfo(chosen)),
    )


@router.post("/rts/{token}/book")
async def book(
    request: Request, token: str, slot: FormField = "", tz: FormField = "", csrf_token: FormField = ""
) -> Response:
    if not csrf.valid(request, csrf_token):
        return forbidden(request)
    loaded = await _load(request, token)
    if isinstance(loaded, Response):
        return loaded
    link, plan = loaded
    chosen = _zone_of(tz, plan)
    starts = parse_key(slot)
    if starts is None:
        return _no_choice(request, token, chosen)
    service = container(request).scheduling_links
    try:
        booked = await run_in_threadpool(service.book, link, plan, starts, chosen)
    except SlotTaken:
        return render(request, "booking_taken.html", 409, token=token, tz=chosen, message=TAKEN)
    except LinkUnavailable as exc:
        return _closed(request, exc)
    except HoraeError:
        return error_page(request, UNUSABLE, 409)
    return RedirectResponse(booked.redirect or f"/rts/{token}/booked?tz={chosen}", status_code=303)


@router.get("/rts/{token}/booked")
async def booked_page(request: Request, token: str, tz: str | None = None) -> Response:
    loaded = await _load(request, token)
    if isinstance(loaded, Response):
        return loaded
    link, plan = loaded
    if link.booking is None:
        return RedirectResponse(f"/rts/{token}", status_code=303)
    chosen = _zone_of(tz or str(link.booking.get("tzid") or ""), plan)
    steps = tuple((step_id, start, end, tuple(subs)) for step_id, start, end, subs in link.booking["slot"])
    return render(request, "booking_done.html", steps=_steps(plan, Slot(steps), ZoneInfo(chosen)), tz=chosen)


@router.post("/rts/{token}/none")
async def none_suitable(request: Request, token: str, csrf_token: FormField = "") -> Response:
    if not csrf.valid(request, csrf_token):
        return forbidden(request)
    loaded = await _load(request, token)
    if isinstance(loaded, Response):
        return loaded
    link, plan = loaded
    try:
        await run_in_threadpool(container(request).scheduling_links.none_suitable, link, plan)
    except LinkUnavailable as exc:
        return _closed(request, exc)
    return render(
        request, "booking_closed.html", message="Thank you: we have let them know none of these times suit you."
    )
