"""Google Meet as Google Calendar's integrated conferencing: an event's ConferenceWish as `conferenceData`
(a `createRequest` for a new Meet, the conference itself to keep one), and `conferenceData` read back as a
RemoteConference (https://developers.google.com/calendar/api/guides/create-events#conferencing)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from horae.domain import integrated
from horae.domain.integrated import ConferenceWish, RemoteConference

MEET = "hangoutsMeet"  # Google's conferenceSolutionKey.type for Meet
NAME = "Google Meet"
# Without conferenceDataVersion=1 Google ignores conferenceData in a write and keeps what the event has.
VERSION_PARAMS = {"conferenceDataVersion": "1"}
_STATUS = {"pending": integrated.PENDING, "success": integrated.READY, "failure": integrated.FAILED}


def params_for(wish: ConferenceWish | None) -> dict[str, str]:
    """The write's query: conferenceDataVersion=1 when Horae manages the event's conference, else nothing."""
    return dict(VERSION_PARAMS) if wish is not None and wish.service == integrated.GOOGLE_MEET else {}


def with_conference(body: dict[str, Any], wish: ConferenceWish | None) -> dict[str, Any]:
    """The event resource with the conferenceData the wish asks for. A full replacement (events.update) with
    conferenceDataVersion=1 and no conferenceData removes the conference, which is what `none` means."""
    if wish is None or wish.service != integrated.GOOGLE_MEET:
        return body
    if wish.existing is not None:
        kept = wish.existing
        entry = {"entryPointType": "video", "uri": kept.join_url}
        data: dict[str, Any] = {"conferenceSolution": {"key": {"type": MEET}, "name": NAME}, "entryPoints": [entry]}
        if kept.conference_id:
            data["conferenceId"] = kept.conference_id
        return {**body, "conferenceData": data}
    if wish.request_id:
        create = {"requestId": wish.request_id, "conferenceSolutionKey": {"type": MEET}}
        return {**body, "conferenceData": {"createRequest": create}}
    return body


def read_conference(resource: Mapping[str, Any]) -> RemoteConference | None:
    """The Meet a Google event resource carries, if any (other conference solutions are not Horae's)."""
    data = resource.get("conferenceData")
    if not isinstance(data, Mapping):
        return None
    create = _part(data, "createRequest")
    solution = _part(data, "conferenceSolution")
    kind = _get(solution, "key", "type") or _get(create, "conferenceSolutionKey", "type")
    if kind != MEET:
        return None
    video = next(
        (
            str(entry["uri"])
            for entry in data.get("entryPoints") or []
            if isinstance(entry, Mapping) and entry.get("entryPointType") == "video" and entry.get("uri")
        ),
        "",
    )
    code = _get(create, "status", "statusCode")
    status = _STATUS.get(code, integrated.PENDING) if code else integrated.READY
    if status == integrated.READY and not video:
        status = integrated.PENDING  # success without a way in yet: wait for the details
    return RemoteConference(
        integrated.GOOGLE_MEET,
        status,
        str(data.get("conferenceId") or ""),
        str(solution.get("name") or NAME),
        video,
        str(create.get("requestId") or ""),
    )


def _part(found: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = found.get(name)
    return value if isinstance(value, Mapping) else {}


def _get(found: Mapping[str, Any], outer: str, inner: str) -> str:
    value = found.get(outer)
    return str(value.get(inner) or "") if isinstance(value, Mapping) else ""
