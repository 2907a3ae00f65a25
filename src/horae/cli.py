"""The `horae` command: serve, worker, migrate, demo, and application and account management."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import timedelta
from typing import TypeVar

import click
import uvicorn

from horae import bootstrap, logs
from horae.api.app import create_app
from horae.container import Container
from horae.demo import ensure_demo
from horae.errors import HoraeError
from horae.settings import Settings

T = TypeVar("T")


def _settings() -> Settings:
    settings = Settings()
    logs.configure(settings.log_format, settings.log_level)
    return settings


def _ready() -> Container:
    """Settings, an up-to-date schema, and the wired services: what management commands need."""
    settings = _settings()
    bootstrap.migrate(settings)
    return bootstrap.build(settings)


@click.group()
def main() -> None:
    """Horae: a self-hostable calendar API server that speaks Cronofy API v1."""


@main.command()
@click.option("--host", default=None, help="Interface to listen on (HORAE_HOST)")
@click.option("--port", default=None, type=int, help="Port to listen on (HORAE_PORT)")
@click.option("--demo/--no-demo", default=True, help="Seed and print the demo credentials")
def serve(host: str | None, port: int | None, demo: bool) -> None:
    """Migrate, seed the demo, and serve the API (with the embedded worker unless disabled)."""
    settings = _settings()
    host = host or settings.host
    port = port or settings.port
    click.echo("Migrating the database ...", err=True)
    bootstrap.migrate(settings)
    container = bootstrap.build(settings)
    if demo:
        base_url = settings.public_base_url or f"http://{host}:{port}"
        click.echo(ensure_demo(container, base_url))
    app = create_app(container)
    bootstrap.settle_garbage_collector()
    uvicorn.run(app, host=host, port=port, log_config=None, access_log=False)


@main.command()
def worker() -> None:
    """Run a job worker in the foreground (scale-out: use with HORAE_QUEUE_URL=redis://...)."""
    settings = _settings()
    bootstrap.settle_garbage_collector()
    bootstrap.run_worker(settings)


@main.command()
def migrate() -> None:
    """Bring the database schema up to date."""
    settings = _settings()
    bootstrap.migrate(settings)
    click.echo("Database is up to date.", err=True)


@main.command()
def demo() -> None:
    """Seed the demo data if needed and print its credentials."""
    container = _ready()
    settings = container.settings
    click.echo(ensure_demo(container, settings.public_base_url or f"http://{settings.host}:{settings.port}"))


@main.group()
def app() -> None:
    """Manage applications (OAuth clients)."""


@app.command("create")
@click.option("--name", required=True)
@click.option("--redirect-uri", "redirect_uris", multiple=True, help="Repeat for several URIs")
def app_create(name: str, redirect_uris: tuple[str, ...]) -> None:
    """Create an application and print its client id and (only now) its secret."""
    container = _ready()
    created = _run(lambda: container.applications.create(name, list(redirect_uris)))
    click.echo(f"client_id={created.application.client_id}\nclient_secret={created.client_secret}")


@app.command("list")
def app_list() -> None:
    """List applications."""
    container = _ready()
    for item in _run(container.applications.list_all):
        click.echo(f"{item.client_id}\t{item.name}\t{' '.join(item.redirect_uris)}")


@app.command("rotate-secret")
@click.argument("client_id")
@click.option(
    "--grace-hours",
    default=24.0,
    show_default=True,
    type=click.FloatRange(min=0),
    help="How long older secrets keep working",
)
def app_rotate_secret(client_id: str, grace_hours: float) -> None:
    """Add a new client secret; older ones stop working after the grace period."""
    container = _ready()
    rotated = _run(lambda: container.applications.rotate_secret(client_id, timedelta(hours=grace_hours)))
    click.echo(f"client_secret={rotated.client_secret}")


@main.group()
def account() -> None:
    """Manage people and their accounts."""


@account.command("create")
@click.option("--email", required=True)
@click.option("--name", default="")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def account_create(email: str, name: str, password: str) -> None:
    """Create a person with an account and a built-in calendar; prints the account id (sub)."""
    container = _ready()
    created = _run(lambda: container.accounts.sign_up(email, password, name))
    click.echo(f"sub={created.account.id}")


@account.command("show")
@click.argument("email")
def account_show(email: str) -> None:
    """A person's profile: details, then one line per calendar service (id, provider, name, status)."""
    container = _ready()
    settings = container.profile_settings
    found = _run(lambda: settings.overview(settings.person_id(email)))
    click.echo(f"sub={found.account.id} email={found.person.email} name={found.person.name} "
               f"tzid={found.account.default_tzid}")  # fmt: skip
    for profile in found.profiles:
        click.echo(f"{profile.id}\t{profile.provider_name}\t{profile.name}\t{profile.status}")


@account.command("update")
@click.argument("email")
@click.option("--name", default=None, help="A new display name")
@click.option("--tz", "tzid", default=None, help="A new time zone (IANA), the account's zoneinfo")
def account_update(email: str, name: str | None, tzid: str | None) -> None:
    """Change a person's name or time zone."""
    container = _ready()
    settings = container.profile_settings
    person_id = _run(lambda: settings.person_id(email))
    current = _run(lambda: settings.overview(person_id))
    _run(lambda: settings.update_details(person_id, name or current.person.name, tzid or current.account.default_tzid))
    click.echo("updated")


@account.command("change-email")
@click.argument("email")
@click.argument("new_email")
@click.option("--password", prompt=True, hide_input=True, help="The person's password, to confirm")
def account_change_email(email: str, new_email: str, password: str) -> None:
    """Change a person's sign-in address (confirmed with their password)."""
    container = _ready()
    settings = container.profile_settings
    _run(lambda: settings.change_email(settings.person_id(email), new_email, password))
    click.echo("updated")


@account.command("disconnect")
@click.argument("email")
@click.argument("profile_id")
def account_disconnect(email: str, profile_id: str) -> None:
    """Disconnect one of a person's calendar services (see `account show` for the ids)."""
    container = _ready()
    settings = container.profile_settings
    _run(lambda: settings.disconnect(settings.person_id(email), profile_id))
    click.echo("disconnecting")


def _run(action: Callable[[], T]) -> T:
    try:
        return action()
    except HoraeError as exc:
        click.echo(f"error: {exc.message}", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
