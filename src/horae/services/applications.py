"""Developer applications: creation, listing, client authentication and secret rotation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from horae.domain import ids
from horae.domain.model import Application, ClientSecret
from horae.domain.organizations import PRE_UNITS_ID, PRE_UNITS_NAME, OrganizationalUnit
from horae.errors import AuthenticationFailed, InvalidClient, InvalidRequest, NotFound
from horae.ports import Clock, SecretBox, UnitOfWork, UnitOfWorkFactory


@dataclass(frozen=True)
class NewCredentials:
    """An application with a secret in plain text: shown once, then only sealed."""

    application: Application
    client_secret: str


@dataclass(frozen=True)
class SecretInfo:
    """What may be shown about a client secret to anyone who sees the application: never its value."""

    id: str
    created_at: datetime
    expires_at: datetime | None
    active: bool


MAX_NAME = 255


def validate_redirect_uri(uri: str) -> None:
    """A redirect URI must be an absolute http or https URL (Cronofy accepts both)."""
    parts = urlsplit(uri)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.fragment:
        raise InvalidRequest.single("redirect_uri", "errors.invalid_uri", f"{uri!r} is not an absolute http(s) URL")


def clean_redirect_uris(uris: list[str]) -> list[str]:
    """Each URI checked, blanks dropped, each kept once in the order given."""
    kept = list(dict.fromkeys(uri.strip() for uri in uris if uri.strip()))
    for uri in kept:
        validate_redirect_uri(uri)
    return kept


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
    """What developers (through the CLI and the dashboard) do with their applications; who may do it in
    which organizational unit is checked before (services/unit_applications.py)."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, box: SecretBox) -> None:
        self._uow = uow
        self._clock = clock
        self._box = box

    def create(
        self, name: str, redirect_uris: list[str], unit_id: str | None = None, created_by: str | None = None
    ) -> NewCredentials:
        """A new application in the organizational unit `unit_id`; without one, in the unit of applications
        made before units existed."""
        name = name.strip()
        if not name:
            raise InvalidRequest.single("name", "errors.required", "name must be specified")
        if len(name) > MAX_NAME:
            raise InvalidRequest.single("name", "errors.too_long", f"the name must be at most {MAX_NAME} characters")
        uris = clean_redirect_uris(redirect_uris)
        now = self._clock.now()
        with self._uow() as uow:
            if unit_id is None:
                uow.units.add_if_missing(OrganizationalUnit(PRE_UNITS_ID, PRE_UNITS_NAME, now))
                unit_id = PRE_UNITS_ID
            elif uow.units.get(unit_id) is None:
                raise NotFound(f"no organizational unit {unit_id}")
            app = Application(ids.new_id("app"), ids.new_client_id(), name, uris, now, unit_id, created_by)
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

    def by_id(self, application_id: str) -> Application:
        with self._uow() as uow:
            app = uow.applications.get(application_id)
        if app is None:
            raise NotFound(f"no application {application_id}")
        return app

    def set_redirect_uris(self, application_id: str, redirect_uris: list[str]) -> Application:
        """Replace the registered redirect URIs (checked as at creation)."""
        uris = clean_redirect_uris(redirect_uris)
        with self._uow() as uow:
            app = uow.applications.get(application_id)
            if app is None:
                raise NotFound(f"no application {application_id}")
            app.redirect_uris = uris
            uow.commit()
        return app

    def rotate_secret(self, client_id: str, grace: timedelta | None) -> NewCredentials:
        """Add a new secret. The older ones keep working for `grace`, then stop; with no grace they keep
        working until revoked (`revoke_secret`), and callbacks are signed with each of them meanwhile."""
        now = self._clock.now()
        with self._uow() as uow:
            app = uow.applications.by_client_id(client_id)
            if app is None:
                raise NotFound(f"no application with client_id {client_id}")
            if grace is not None:
                for old in uow.client_secrets.for_application(app.id):
                    if old.active(now) and (old.expires_at is None or old.expires_at > now + grace):
                        old.expires_at = now + grace
            secret = self._add_secret(uow, app)
            uow.commit()
        return NewCredentials(app, secret)

    def revoke_secret(self, application_id: str, secret_id: str) -> None:
        """Stop a secret working now. The last active one cannot go: the application could no longer
        authenticate or sign callbacks (rotate first). Revoking a secret that no longer works does nothing."""
        now = self._clock.now()
        with self._uow() as uow:
            rows = uow.client_secrets.for_application(application_id)
            found = next((row for row in rows if row.id == secret_id), None)
            if found is None:
                raise NotFound(f"no client secret {secret_id} for application {application_id}")
            if not found.active(now):
                return
            if not any(row.active(now) for row in rows if row is not found):
                raise InvalidRequest.single(
                    "secret_id", "errors.last_secret", "this is the only active secret: rotate it first, then revoke"
                )
            found.expires_at = now
            uow.commit()

    def secrets(self, application_id: str) -> list[SecretInfo]:
        """The application's secrets, oldest first, without their values."""
        now = self._clock.now()
        with self._uow() as uow:
            rows = uow.client_secrets.for_application(application_id)
        return [SecretInfo(row.id, row.created_at, row.expires_at, row.active(now)) for row in rows]

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
