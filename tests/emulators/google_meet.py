"""Google Meet inside the Google Calendar emulator: what a write's `conferenceData` does to an event
(https://developers.google.com/calendar/api/guides/create-events#conferencing). With `conferenceDataVersion=1`
a `createRequest` makes a Meet, given conference data is kept and none removes the event's conference; without
it the write leaves the event's conferenceData as it was."""

from __future__ import annotations

import copy
import secrets
from collections.abc import Mapping
from typing import Any

MEET = "hangoutsMeet"
MEET_URL = "https://meet.google.test"


class MeetService:
    """The Meets made; `pending` answers createRequests with `pending` (made on the next read), `failures`
    makes that many createRequests answer `failure`. Called under the emulator's lock."""

    def __init__(self) -> None:
        self.pending = False
        self.failures = 0
        self.requests: list[str] = []  # the requestId of every Meet asked for

    def written(
        self, query: Mapping[str, str], event: dict[str, Any], before: dict[str, Any] | None
    ) -> tuple[dict[str, Any] | None, str | None]:
        """The conferenceData the event has after this write (taken out of `event`), or a 400's message."""
        given = event.pop("conferenceData", None)
        if query.get("conferenceDataVersion") != "1":
            return before, None  # version 0: conferenceData in the body is ignored
        if given is None:
            return None, None
        create = given.get("createRequest") if isinstance(given, dict) else None
        if isinstance(create, dict):
            solution = create.get("conferenceSolutionKey")
            if not isinstance(solution, dict) or solution.get("type") != MEET or not create.get("requestId"):
                return None, "Invalid conference type value."
            asked_before = (before or {}).get("createRequest") or {}
            if asked_before.get("requestId") == create["requestId"]:
                return before, None  # the same request again: nothing new is made
            return self._new(str(create["requestId"])), None
        if isinstance(given, dict) and given.get("conferenceSolution") and given.get("entryPoints"):
            if before and before.get("conferenceId") and before.get("conferenceId") == given.get("conferenceId"):
                return before, None
            return copy.deepcopy(given), None
        return None, "Invalid conference data."

    def _new(self, request_id: str) -> dict[str, Any]:
        self.requests.append(request_id)
        create = {"requestId": request_id, "conferenceSolutionKey": {"type": MEET}}
        if self.failures > 0:
            self.failures -= 1
            return {"createRequest": create | {"status": {"statusCode": "failure"}}}
        letters = "".join(secrets.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(10))
        data: dict[str, Any] = {
            "createRequest": create | {"status": {"statusCode": "pending"}},
            "conferenceSolution": {"key": {"type": MEET}, "name": "Google Meet", "iconUri": f"{MEET_URL}/icon.png"},
            "conferenceId": f"{letters[:3]}-{letters[3:7]}-{letters[7:]}",
        }
        if not self.pending:
            make_meet({"conferenceData": data})
        return data


def make_meet(stored: dict[str, Any]) -> bool:
    """Finish an event's pending Meet (its video entry point, status success); whether there was one."""
    data = stored.get("conferenceData")
    status = ((data or {}).get("createRequest") or {}).get("status") or {}
    if status.get("statusCode") != "pending" or stored.get("status") == "cancelled":
        return False
    assert isinstance(data, dict)
    code = data["conferenceId"]
    status["statusCode"] = "success"
    data["entryPoints"] = [
        {"entryPointType": "video", "uri": f"{MEET_URL}/{code}", "label": f"meet.google.test/{code}"}
    ]
    return True
