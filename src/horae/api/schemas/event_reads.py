"""Shapes of `GET /v1/events` and `GET /v1/free_busy`, and how to build them from a page of the read service."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from zoneinfo import available_timezones

from pydantic import BaseModel, ConfigDict, Field

from horae.api.schemas.identity import Userinfo
from horae.domain import conferencing
from horae.domain.times import BadTime, format_instant, zone
from horae.services.read_models import Listed, Page


def _known_zone(name: str) -> bool:
    try:
        zone(name)
    except BadTime:
        return False
    return True


# Every zone name `tzid` accepts, listed in the document so clients (and fuzzers) know the valid values.
ZONE_NAMES = sorted(name for name in available_timezones() | {"UTC", "Etc/UTC"} if _known_zone(name))


class _Out(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Pages(_Out):
    current: int = Field(ge=1)
    total: int = Field(ge=1)
    next_page: str | None = Field(None, description="Absolute URL of the next page; absent on the last page")


class LocalizedTime(_Out):
    time: str = Field(description="A UTC time (`...Z`), or a date for all-day events")
    tzid: str


class ReadLocation(_Out):
    description: str | None = None
    lat: str | None = None
    long: str | None = None


class ReadAttendee(_Out):
    email: str
    display_name: str | None = None
    status: str = "needs_action"


class ReadOrganizer(_Out):
    email: str | None = None
    display_name: str | None = None


class EventOptions(_Out):
    delete: bool
    update: bool
    change_participation_status: bool


class ReadConferencing(_Out):
    """`{"pending": true}` until the conference exists, then its provider and join URL."""

    pending: bool | None = None
    provider_name: str | None = None
    join_url: str | None = None


class ReadEvent(_Out):
    calendar_id: str
    event_uid: str
    event_id: str | None = Field(None, description="Only on events the calling application manages")
    summary: str
    description: str
    start: str | LocalizedTime
    end: str | LocalizedTime
    deleted: bool
    created: str
    updated: str
    location: ReadLocation | None = None
    participation_status: str
    attendees: list[ReadAttendee]
    organizer: ReadOrganizer | None = None
    transparency: str
    extended_transparency: str | None = None
    status: str
    categories: list[str]
    recurring: bool
    series_identifier: str | None = Field(None, description="On instances of a series: the series' event_uid")
    event_private: bool
    options: EventOptions
    color: str | None = None
    url: str | None = None
    conferencing: ReadConferencing | None = None


class EventsResponse(_Out):
    pages: Pages
    events: list[ReadEvent]
    userinfo: Userinfo | None = Field(None, description="With include_userinfo=true: as GET /v1/userinfo")


class FreeBusyBlock(_Out):
    calendar_id: str
    start: str | LocalizedTime
    end: str | LocalizedTime
    free_busy_status: str
    event_uid: str | None = Field(None, description="With include_ids=true")
    event_id: str | None = Field(None, description="With include_ids=true, on the caller's managed events")
    deleted: bool | None = Field(None, description="With include_ids=true")


class FreeBusyResponse(_Out):
    pages: Pages
    free_busy: list[FreeBusyBlock]
    userinfo: Userinfo | None = None


def pages(page: Page, next_url: str | None) -> Pages:
    return Pages(current=page.current, total=page.total, next_page=next_url)


def _time(value: datetime | date, tzid: str, localized: bool) -> str | LocalizedTime:
    text = format_instant(value) if isinstance(value, datetime) else value.isoformat()
    return LocalizedTime(time=text, tzid=tzid) if localized else text


def _ends(item: Listed, localized: bool) -> tuple[str | LocalizedTime, str | LocalizedTime]:
    if item.start_date is not None and item.end_date is not None:
        return _time(item.start_date, item.start_tzid, localized), _time(item.end_date, item.end_tzid, localized)
    assert item.starts_at is not None and item.ends_at is not None
    return _time(item.starts_at, item.start_tzid, localized), _time(item.ends_at, item.end_tzid, localized)


def _location(value: object, include_geo: bool) -> ReadLocation | None:
    if not isinstance(value, Mapping):
        return None
    description = value.get("description")
    location = ReadLocation(description=str(description) if description is not None else None)
    if include_geo:
        for name in ("lat", "long"):
            if value.get(name) is not None:
                setattr(location, name, str(value[name]))
    if location.description is None and location.lat is None and location.long is None:
        return None
    return location


def _attendees(value: object) -> list[ReadAttendee]:
    if not isinstance(value, list):
        return []
    return [
        ReadAttendee(
            email=str(a["email"]),
            display_name=str(a["display_name"]) if a.get("display_name") is not None else None,
            status=str(a.get("status") or "needs_action"),
        )
        for a in value
        if isinstance(a, Mapping) and a.get("email")
    ]


def _organizer(value: object) -> ReadOrganizer | None:
    if not isinstance(value, Mapping):
        return None
    return ReadOrganizer(
        email=str(value["email"]) if value.get("email") is not None else None,
        display_name=str(value["display_name"]) if value.get("display_name") is not None else None,
    )


def read_event(item: Listed, localized: bool, include_geo: bool) -> ReadEvent:
    event = item.event
    start, end = _ends(item, localized)
    details: Mapping[str, Any] = event.details if isinstance(event.details, Mapping) else {}
    categories = details.get("categories")
    extended = item.fields.get("extended_transparency", details.get("extended_transparency"))
    return ReadEvent(
        calendar_id=event.calendar_id,
        event_uid=item.event_uid,
        event_id=event.event_id if item.managed_by_caller else None,
        summary=str(item.value("summary")),
        description=str(item.value("description") or ""),
        start=start,
        end=end,
        deleted=item.deleted,
        created=format_instant(event.created_at),
        updated=format_instant(item.updated_at),
        location=_location(item.value("location"), include_geo),
        participation_status=str(item.value("participation_status")),
        attendees=_attendees(item.value("attendees")),
        organizer=_organizer(item.value("organizer")),
        transparency=str(item.value("transparency")),
        extended_transparency=str(extended) if extended is not None else None,
        status=str(item.value("status")),
        categories=[str(c) for c in categories] if isinstance(categories, list) else [],
        recurring=item.series_uid is not None,
        series_identifier=item.series_uid,
        event_private=bool(item.value("event_private")),
        options=EventOptions(delete=item.can_edit, update=item.can_edit, change_participation_status=item.writable),
        color=item.value("color"),
        url=item.value("url"),
        conferencing=_conferencing(details.get("conferencing")),
    )


def events_response(page: Page, next_url: str | None, userinfo: Userinfo | None) -> EventsResponse:
    q = page.query
    return EventsResponse(
        pages=pages(page, next_url),
        events=[read_event(item, q.localized_times, q.include_geo) for item in page.items],
        userinfo=userinfo,
    )


def free_busy_response(page: Page, next_url: str | None, userinfo: Userinfo | None) -> FreeBusyResponse:
    q = page.query
    blocks = []
    for item in page.items:
        start, end = _ends(item, q.localized_times)
        block = FreeBusyBlock(
            calendar_id=item.event.calendar_id, start=start, end=end, free_busy_status=item.free_busy_status
        )
        if q.include_ids:
            block.event_uid = item.event_uid
            block.event_id = item.event.event_id if item.managed_by_caller else None
            block.deleted = item.deleted
        blocks.append(block)
    return FreeBusyResponse(pages=pages(page, next_url), free_busy=blocks, userinfo=userinfo)


def _conferencing(state: object) -> ReadConferencing | None:
    shown = conferencing.as_read(state)
    return ReadConferencing(**shown) if shown is not None else None
