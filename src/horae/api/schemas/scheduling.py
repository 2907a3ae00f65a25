"""Real-Time Scheduling and Sequencing requests as Cronofy documents them (§7), their translation into the
service's LinkPlan (used again whenever a link's page reads its stored request), and the responses."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, Field

from horae.api import body
from horae.api.schemas.availability import AvailabilityIn, Duration, Loose, minutes_of, to_request
from horae.api.schemas.events import UpsertEventRequest, to_input
from horae.api.schemas.sequenced import SequencedIn, to_sequence_request
from horae.domain.scheduling import MAX_DISPLAY_MESSAGE, SCHEDULING, SchedulingLink
from horae.domain.times import BadTime, format_instant, zone
from horae.errors import FieldError, InvalidRequest, Problems
from horae.services.events import EventInput
from horae.services.scheduling_links import LinkPlan, Target

MAX_NOTICE_MINUTES = 60 * 24 * 90
_URL = Field(None, max_length=2000)


class OAuthIn(Loose):
    redirect_uri: str = Field(min_length=1, max_length=2000)
    scope: str | None = None
    state: str | None = Field(None, max_length=2000)


class TargetIn(Loose):
    sub: str = Field(min_length=1, max_length=255)
    calendar_id: str = Field(min_length=1, max_length=255)


class CallbackUrlsIn(Loose):
    completed_url: str | None = _URL
    no_times_suitable_url: str | None = _URL
    no_times_displayed_url: str | None = _URL


class RedirectUrlsIn(Loose):
    completed_url: str | None = _URL


class _LinkIn(Loose):
    oauth: OAuthIn
    event: dict[str, Any]
    target_calendars: list[TargetIn] = Field(min_length=1, max_length=50)
    callback_url: str | None = _URL
    callback_urls: CallbackUrlsIn | None = None
    redirect_urls: RedirectUrlsIn | None = None
    minimum_notice: Duration | int | None = None
    event_creation: Literal["default", "single"] | None = None


class SchedulingIn(_LinkIn):
    availability: AvailabilityIn


class SequencingIn(_LinkIn):
    availability: SequencedIn


class DisableIn(Loose):
    display_message: str = Field("", max_length=MAX_DISPLAY_MESSAGE)


# --- into the service's terms ------------------------------------------------------------------------


def _web_url(value: str | None, name: str, problems: Problems) -> str | None:
    if value is None or value == "":
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        problems.add(name, "errors.invalid_url", f"{name} must be an absolute http or https URL")
        return None
    return value


def _prefixed(exc: InvalidRequest, prefix: str) -> dict[str, list[FieldError]]:
    return {f"{prefix}.{name}" if name != "request" else prefix: errors for name, errors in exc.errors.items()}


def _event_maker(template: dict[str, Any], steps: dict[object, dict[str, Any]], problems: Problems) -> tuple[Any, str]:
    """A function making each step's EventInput for a chosen time, checked now with a placeholder time;
    and the event's zone. A step's own `event` fields override the link's (sequencing)."""
    tzid = template.get("tzid")
    if not isinstance(tzid, str):
        problems.add("event.tzid", "errors.required", "event.tzid must be given: the zone the event is written in")
        tzid = "Etc/UTC"
    else:
        try:
            zone(tzid)
        except BadTime as exc:
            problems.add("event.tzid", "errors.invalid", str(exc))
            tzid = "Etc/UTC"
    for name in ("attendees", "recurrence", "instance"):
        if template.get(name) is not None or any(s.get(name) is not None for s in steps.values()):
            problems.add(f"event.{name}", "errors.unsupported", f"event.{name} is not supported on scheduling links")

    def make(step_id: object, start: datetime, end: datetime) -> EventInput:
        fields = {**template, **steps.get(step_id, {})}
        if step_id is not None and "event_id" not in steps.get(step_id, {}) and fields.get("event_id"):
            fields["event_id"] = f"{fields['event_id']}-{step_id}"
        fields["tzid"] = tzid
        fields["start"] = {"time": format_instant(start), "tzid": tzid}
        fields["end"] = {"time": format_instant(end), "tzid": tzid}
        return to_input(body.validate(UpsertEventRequest, fields))

    placeholder = (
        datetime.fromisoformat("2030-01-01T09:00:00+00:00"),
        datetime.fromisoformat("2030-01-01T10:00:00+00:00"),
    )
    for step_id in list(steps) or [None]:  # each step of a sequence; the one event of a scheduling link
        fields = {**template, **steps.get(step_id, {})}
        if not str(fields.get("event_id") or "").strip():
            problems.add("event.event_id", "errors.required", "event.event_id must be given")
            break
        if not str(fields.get("summary") or "").strip():
            problems.add("event.summary", "errors.required", "event.summary must be given")
            break
        try:
            make(step_id, *placeholder)
        except InvalidRequest as exc:
            for name, errors in _prefixed(exc, "event").items():
                for error in errors:
                    problems.add(name, error.key, error.description)
            break
    return make, tzid


def plan_of(kind: str, spec: dict[str, Any]) -> LinkPlan:
    """The service's plan for a link's request; 422 naming each bad field (`availability.` fields as
    the availability endpoints name them)."""
    problems = Problems()
    data: SchedulingIn | SequencingIn = (
        body.validate(SchedulingIn, spec) if kind == SCHEDULING else body.validate(SequencingIn, spec)
    )
    query = sequence = None
    field = "query_periods"
    try:
        if isinstance(data, SchedulingIn):
            query, field = to_request(data.availability)
        else:
            sequence, field = to_sequence_request(data.availability)
    except InvalidRequest as exc:
        problems.found.update(_prefixed(exc, "availability"))
    steps: dict[object, dict[str, Any]] = {}
    if isinstance(data, SequencingIn):
        steps = {s.sequence_id: dict(s.event or {}) for s in data.availability.sequence}
    make, tzid = _event_maker(dict(data.event), steps, problems)
    notice = minutes_of(data.minimum_notice, "minimum_notice", problems, 0, MAX_NOTICE_MINUTES) or 0
    urls = data.callback_urls or CallbackUrlsIn()
    callbacks = {
        "completed": _web_url(urls.completed_url or data.callback_url, "callback_urls.completed_url", problems),
        "no_times_suitable": _web_url(urls.no_times_suitable_url, "callback_urls.no_times_suitable_url", problems),
        "no_times_displayed": _web_url(urls.no_times_displayed_url, "callback_urls.no_times_displayed_url", problems),
    }
    redirect = _web_url(
        data.redirect_urls.completed_url if data.redirect_urls else None, "redirect_urls.completed_url", problems
    )
    _web_url(data.oauth.redirect_uri, "oauth.redirect_uri", problems)
    problems.raise_any()
    return LinkPlan(
        kind=kind,
        targets=tuple(Target(t.sub, t.calendar_id) for t in data.target_calendars),
        make_event=make,
        event_tzid=tzid,
        query=query,
        sequence=sequence,
        periods_field=field,
        minimum_notice=notice,
        single=data.event_creation == "single",
        callback_urls={k: v for k, v in callbacks.items() if v},
        completed_redirect=redirect,
    )


def stored_spec(kind: str, raw: dict[str, Any]) -> dict[str, Any]:
    """What is kept of a request: the validated model without unset fields (read again by plan_of)."""
    model = SchedulingIn if kind == SCHEDULING else SequencingIn
    return body.validate(model, raw).model_dump(mode="json", exclude_none=True)


# --- responses ---------------------------------------------------------------------------------------


class SchedulingLinkOut(BaseModel):
    real_time_scheduling_id: str
    url: str
    event: dict[str, Any] | None = None
    status: str | None = Field(None, description="open | completed | disabled")


class SchedulingResponse(BaseModel):
    real_time_scheduling: SchedulingLinkOut


class SequencingLinkOut(BaseModel):
    real_time_sequencing_id: str
    url: str
    event: dict[str, Any] | None = None
    status: str | None = Field(None, description="open | completed | disabled")


class SequencingResponse(BaseModel):
    real_time_sequencing: SequencingLinkOut


def link_url(base: str, token: str) -> str:
    return f"{base}/rts/{token}"


def status_json(link: SchedulingLink, url: str, created: bool = False) -> dict[str, Any]:
    """The link as the API shows it: id and URL on creation; with the event and status otherwise
    (the booked event once completed, the template before)."""
    name = "real_time_scheduling" if link.kind == SCHEDULING else "real_time_sequencing"
    out: dict[str, Any] = {f"{name}_id": link.id, "url": url}
    if not created:
        booked = (link.booking or {}).get("events") or []
        event = dict(link.spec.get("event", {}))
        if booked:
            event.update({k: booked[0][k] for k in ("event_id", "summary", "start", "end")})
        out["event"] = event
        out["status"] = link.status
    return {name: out}
