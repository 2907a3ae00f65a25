"""Conferencing built into a calendar service (Google Meet on Google Calendar): what an event's write asks of
it, what the service reports back on writes and reads, and how that report changes the event's stored
conferencing state. The conference lives on the event itself there, so no conferencing job makes it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from horae.domain import conferencing as conf

GOOGLE_MEET = "google_meet"
# In event.details["conferencing"]: the calendar service makes this conference along with the event.
BY_CALENDAR = "by_calendar"
# In event.details: the calendar service whose conference on this event Horae manages. Kept once set, so
# that after `none` (or a switch to another service) the next write removes the calendar's conference.
MANAGED = "calendar_conferencing"
# What a calendar says of the conference it keeps on an event.
PENDING, READY, FAILED = "pending", "ready", "failed"


@dataclass(frozen=True)
class RemoteConference:
    """A conference a calendar service keeps on an event (Google's `conferenceData`), as a provider read it."""

    service: str  # the conferencing key, e.g. google_meet
    status: str  # PENDING | READY | FAILED
    conference_id: str = ""
    provider_name: str = ""
    join_url: str = ""
    request_id: str = ""


@dataclass(frozen=True)
class ConferenceWish:
    """What an event's write asks of its calendar's conferencing: make one under `request_id`, keep
    `existing`, or (neither) have none."""

    service: str
    request_id: str | None = None
    existing: RemoteConference | None = None


def managing(details: Mapping[str, Any], service: str) -> dict[str, Any]:
    """The event details once a conference by the calendar is wanted: the service is now Horae's to manage."""
    return {**details, MANAGED: service}


def wish(details: Mapping[str, Any]) -> ConferenceWish | None:
    """What the next write of an event with these details asks of the calendar's conferencing; None when
    Horae never managed it (the write leaves whatever the calendar holds alone)."""
    service = details.get(MANAGED)
    if not isinstance(service, str) or not service:
        return None
    state = details.get("conferencing")
    if not isinstance(state, dict) or not state.get(BY_CALENDAR) or state.get("provider_key") != service:
        return ConferenceWish(service)  # none now: the calendar's conference goes
    if state.get("state") == conf.READY and state.get("join_url"):
        kept = RemoteConference(
            service,
            READY,
            str(state.get("remote_id") or ""),
            str(state.get("provider_name") or ""),
            str(state["join_url"]),
            str(state.get("request_id") or ""),
        )
        return ConferenceWish(service, existing=kept)
    if state.get("state") == conf.PENDING and state.get("request_id"):
        return ConferenceWish(service, request_id=str(state["request_id"]))
    return ConferenceWish(service)  # every try failed: none


def live(state: Any) -> bool:
    """Whether a stored state holds a conference of the calendar's, made or being made."""
    return isinstance(state, dict) and bool(state.get(BY_CALENDAR)) and state.get("state") in (conf.PENDING, conf.READY)


def waiting(state: Any) -> bool:
    """Whether a stored state waits for its calendar to report the conference."""
    return isinstance(state, dict) and bool(state.get(BY_CALENDAR)) and state.get("state") == conf.PENDING


def recorded(state: Any, report: RemoteConference) -> dict[str, Any] | None:
    """The stored state once the calendar reported `report` (READY only), or None when nothing changes: a
    conference not asked for by Horae, one already recorded, or one still pending or failed."""
    if not isinstance(state, dict) or not state.get(BY_CALENDAR) or state.get("provider_key") != report.service:
        return None
    if report.status != READY or not report.join_url:
        return None
    if state.get("state") == conf.READY and state.get("join_url") == report.join_url:
        return None
    if state.get("state") not in (conf.PENDING, conf.READY):
        return None  # given up or dropped meanwhile
    details = conf.ConferencingDetails(report.provider_name, report.join_url)
    return {**conf.with_details(state, conf.Provisioned(report.conference_id, details)), "job_id": None}


def failed(state: Any, report: RemoteConference) -> bool:
    """Whether the calendar reports that the conference Horae is waiting for could not be made."""
    return (
        waiting(state)
        and not state.get("job_id")  # a retry is already due: the calendar is answering the old request
        and report.status == FAILED
        and report.service == state.get("provider_key")
        and (not report.request_id or report.request_id == state.get("request_id"))
    )
