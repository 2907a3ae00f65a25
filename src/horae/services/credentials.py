"""Profile credentials at rest: the secrets a provider needs, sealed (AES-256-GCM) in one column, opened
only for the call that needs them and sealed again when a provider refreshed a token."""

from __future__ import annotations

import json

from horae.domain.model import Profile
from horae.ports import Connection, SecretBox


class Credentials:
    """Opens and seals profiles' provider secrets with the server's SecretBox."""

    def __init__(self, box: SecretBox) -> None:
        self._box = box

    def connection(self, profile: Profile) -> Connection:
        """What a provider needs to reach this profile's service (empty for built-in profiles)."""
        return self.open(profile.id, profile.connection, profile.sealed_credentials)

    def open(self, label: str, settings: dict[str, str] | None, sealed: str | None) -> Connection:
        """A connection from plain settings and sealed secrets (a profile's, or a service account's)."""
        secrets: dict[str, str] = {}
        if sealed:
            opened = json.loads(self._box.open(sealed))
            secrets = {str(k): str(v) for k, v in opened.items()}
        return Connection(label, dict(settings or {}), secrets)

    def seal(self, secrets: dict[str, str]) -> str:
        return self._box.seal(json.dumps(secrets, sort_keys=True))

    def keep(self, profile: Profile, conn: Connection) -> None:
        """Store the connection's secrets on the profile if a provider call changed them (a refreshed
        OAuth token): otherwise the next call would present a token the service has retired."""
        if conn.secrets != self.connection(profile).secrets:
            profile.sealed_credentials = self.seal(conn.secrets)
