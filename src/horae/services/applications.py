"""Developer applications: creation, listing, client authentication and secret rotation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from horae.domain import ids
from horae.domain.model import Application, ClientSecret
from horae.errors import AuthenticationFailed, InvalidClient, InvalidRequest, NotFound
from horae.ports import Clock, SecretBox, UnitOfWork, UnitOfWorkFactory


@dataclass(frozen=True)
class NewCredentials:
    """An application with a secret in plain text: shown once, then only sealed."""

    application: Application
    client_secret: str


def validate_redirect_uri(uri: str) -> None:
    """A redirect URI must be an absolute http or https URL (Cronofy accepts both)."""
    parts = urlsplit(uri)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.fragment:
        raise InvalidRequest.single("redirect_uri", "errors.invalid_uri", f"{uri!r} is not an absolute http(s) URL")


def redirect_uri_registered(app: Application, uri: str) -> bool:
    """Exact match against a registered URI; for loopback URIs any port matches (RFC 8252 §7.3)."""
    if uri in app.redirect_uris:
        return True
    wanted = urlsplit(uri)
    if wanted.hostname not in ("127.0.0.1", "localhost", "::1"):
        return False
    for registered in app.redirect_uris:
        have = urlsplit(registered)
        same = (have.scheme, have.hostname, have.path, have.query) == (
            wanted.scheme,
            wanted.hostname,
            wanted.path,
            wanted.query,
        )
        if same:
            return True
    return False


class ApplicationService:
    """What developers (through the CLI, later the dashboard) do with their applications."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, box: SecretBox) -> None:
        self._uow = uow
        self._clock = clock
        self._box = box

    def create(self, name: str, redirect_uris: list[str]) -> NewCredentials:
        if not name.strip():
            raise InvalidRequest.single("name", "errors.required", "name must be specified")
        for uri in redirect_uris:
            validate_redirect_uri(uri)
        now = self._clock.now()
        app = Application(ids.new_id("app"), ids.new_client_id(), name.strip(), list(redirect_uris), now)
        with self._uow() as uow:
            uow.applications.add(app)
            uow.flush()
            secret = self._add_secret(uow, app)
            uow.commit()
        return NewCredentials(app, secret)

    def list_all(self) -> list[Application]:
        with self._uow() as uow:
            return uow.applications.list_all()

    def get(self, client_id: str) -> Application:
        with self._uow() as uow:
            app = uow.applications.by_client_id(client_id)
        if app is None:
            raise NotFound(f"no application with client_id {client_id}")
        return app

    def rotate_secret(self, client_id: str, grace: timedelta) -> NewCredentials:
        """Add a new secret; the older ones keep working for `grace`, then stop."""
        now = self._clock.now()
        with self._uow() as uow:
            app = uow.applications.by_client_id(client_id)
            if app is None:
                raise NotFound(f"no application with client_id {client_id}")
            for old in uow.client_secrets.for_application(app.id):
                if old.active(now) and (old.expires_at is None or old.expires_at > now + grace):
                    old.expires_at = now + grace
            secret = self._add_secret(uow, app)
            uow.commit()
        return NewCredentials(app, secret)

    def active_secrets(self, application_id: str) -> list[str]:
        """Every secret that currently works, oldest first: callbacks are signed with each of them."""
        now = self._clock.now()
        with self._uow() as uow:
            rows = uow.client_secrets.for_application(application_id)
            return [self._box.open(row.sealed_secret) for row in rows if row.active(now)]

    def authenticate_client(self, uow: UnitOfWork, client_id: str, client_secret: str) -> Application:
        """The application these client credentials belong to, or InvalidClient."""
        app = uow.applications.by_client_id(client_id) if client_id else None
        row = uow.client_secrets.by_digest(ids.digest(client_secret)) if client_secret else None
        if app is None or row is None or row.application_id != app.id or not row.active(self._clock.now()):
            raise InvalidClient()
        return app

    def by_api_key(self, api_key: str) -> Application:
        """The application whose active client secret is this API key."""
        with self._uow() as uow:
            row = uow.client_secrets.by_digest(ids.digest(api_key))
            if row is None or not row.active(self._clock.now()):
                raise AuthenticationFailed("API key not recognised")
            app = uow.applications.get(row.application_id)
        if app is None:
            raise AuthenticationFailed("API key not recognised")
        return app

    def _add_secret(self, uow: UnitOfWork, app: Application) -> str:
        plain = ids.new_client_secret()
        uow.client_secrets.add(
            ClientSecret(ids.new_id("sec"), app.id, ids.digest(plain), self._box.seal(plain), self._clock.now())
        )
        return plain
