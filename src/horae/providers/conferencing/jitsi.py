"""Built-in conferencing: Jitsi Meet links (meet.jit.si or a self-hosted Jitsi), made without any account or
API call, so built-in calendars have integrated conferencing out of the box."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from urllib.parse import quote

from horae.domain.conferencing import ConferencingDetails, Meeting, Provisioned
from horae.ports import Connection

DEFAULT_BASE_URL = "https://meet.jit.si"


class JitsiConferencing:
    """A Jitsi room per event: an unguessable room name under `base_url` (option `base_url`)."""

    key = "jitsi"
    provider_name = "Jitsi Meet"

    def __init__(self, options: Mapping[str, str] | None = None) -> None:
        found = dict(options or {})
        self._base = (found.get("base_url") or DEFAULT_BASE_URL).rstrip("/")

    def create(self, conn: Connection | None, meeting: Meeting) -> Provisioned:
        room = f"Horae-{secrets.token_urlsafe(12)}"  # the room name is the only key to the meeting
        return Provisioned(room, ConferencingDetails(self.provider_name, f"{self._base}/{quote(room)}"))

    def update(self, conn: Connection | None, remote_id: str, meeting: Meeting) -> Provisioned:
        # A Jitsi room has no time or title of its own: the same room serves the moved event.
        return Provisioned(remote_id, ConferencingDetails(self.provider_name, f"{self._base}/{quote(remote_id)}"))

    def delete(self, conn: Connection | None, remote_id: str) -> None:
        """Nothing to delete: an unused room does not exist."""
