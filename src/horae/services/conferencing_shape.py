"""How conferencing shows on its event: the templates kept from an upsert and rendered with the best details
known, what a conference knows of its event, and the event as conferencing callbacks carry it."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

from horae.domain import conferencing as conf
from horae.domain.events import Event
from horae.domain.times import format_instant
from horae.services.events import EventInput


def templates_of(data: EventInput, before: Any) -> dict[str, str]:
    """The raw templates to keep: the description's and the location's, when they hold variables."""
    kept: dict[str, str] = {}
    location = (data.location or {}).get("description") if data.location is not None else None
    if conf.has_templates(data.description):
        kept["description"] = data.description
    if data.location is None and isinstance(before, dict) and before.get("location"):
        kept["location"] = str(before["location"])  # the location was left as it was
    elif isinstance(location, str) and conf.has_templates(location):
        kept["location"] = location
    return kept


def render(event: Event) -> None:
    """The description and location from their templates, with the best details known."""
    templates = event.details.get("templates") or {}
    details = conf.details_of(event.details.get("conferencing") or {})
    locale = event.details.get("locale")
    if templates.get("description"):
        event.description = conf.render(templates["description"], details, locale)
    if templates.get("location"):
        event.location = {**(event.location or {}), "description": conf.render(templates["location"], details, locale)}


def starts(event: Event) -> datetime:
    if event.starts_at is not None:
        return event.starts_at
    assert event.start_date is not None
    return datetime.combine(event.start_date, time(), UTC)


def ends(event: Event) -> datetime:
    if event.ends_at is not None:
        return event.ends_at
    assert event.end_date is not None
    return datetime.combine(event.end_date, time(), UTC)


def meeting_key(event: Event) -> list[str]:
    """What a conference knows of its event: a change here is pushed to the service."""
    return [event.summary, format_instant(starts(event)), format_instant(ends(event))]


def event_json(event: Event, state: dict[str, Any]) -> dict[str, Any]:
    """The event in conferencing callbacks (the fields docs/compat.md lists)."""
    shown: dict[str, Any] = {
        "calendar_id": event.calendar_id,
        "event_uid": event.event_uid,
        "summary": event.summary,
        "description": event.description,
        "start": format_instant(starts(event)) if event.starts_at else str(event.start_date),
        "end": format_instant(ends(event)) if event.ends_at else str(event.end_date),
    }
    if event.event_id is not None:
        shown["event_id"] = event.event_id
    if event.location:
        shown["location"] = event.location
    read = conf.as_read(state)
    if read is not None:
        shown["conferencing"] = read
    return shown
