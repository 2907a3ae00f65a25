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
from horae.domain.organizations import Role
from horae.errors import HoraeError
from horae.services.organizations import OPERATOR
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
@click.option("--unit", "unit_id", default=None, help="Its organizational unit (uni_...); default: the pre-units one")
def app_create(name: str, redirect_uris: tuple[str, ...], unit_id: str | None) -> None:
    """Create an application and print its client id and (only now) its secret."""
    container = _ready()
    created = _run(lambda: container.applications.create(name, list(redirect_uris), unit_id=unit_id))
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


@app.command("show")
@click.argument("client_id")
def app_show(client_id: str) -> None:
    """An application's unit, redirect URIs, secrets (ids and dates, never values), connected accounts and
    recent push deliveries: what its Owners see on the dashboard."""
    container = _ready()
    found = _run(lambda: container.applications.get(client_id))
    view = _run(lambda: container.unit_applications.view(OPERATOR, found.id))
    click.echo(f"client_id={found.client_id} name={found.name} unit={view.unit.id}")
    click.echo(f"redirect_uris={' '.join(found.redirect_uris)}")
    for secret in view.secrets:
        until = secret.expires_at.isoformat() if secret.expires_at else "until revoked"
        click.echo(f"secret\t{secret.id}\t{secret.created_at.isoformat()}\t{'active' if secret.active else 'inactive'}"
                   f"\t{until}")  # fmt: skip
    for account_ in view.accounts or []:
        click.echo(f"account\t{account_.id}\t{account_.email}")
    for delivery, attempts in view.deliveries or []:
        click.echo(f"delivery\t{delivery.id}\t{delivery.kind}\t{delivery.status}\t{len(attempts)} attempts")


@app.command("revoke-secret")
@click.argument("client_id")
@click.argument("secret_id")
def app_revoke_secret(client_id: str, secret_id: str) -> None:
    """Stop one client secret working at once (see `app show` for the ids; the last one cannot go)."""
    container = _ready()
    found = _run(lambda: container.applications.get(client_id))
    _run(lambda: container.applications.revoke_secret(found.id, secret_id))
    click.echo("revoked")


@app.command("set-redirect-uris")
@click.argument("client_id")
@click.argument("redirect_uris", nargs=-1, required=True)
def app_set_redirect_uris(client_id: str, redirect_uris: tuple[str, ...]) -> None:
    """Replace an application's registered redirect URIs."""
    container = _ready()
    found = _run(lambda: container.applications.get(client_id))
    _run(lambda: container.applications.set_redirect_uris(found.id, list(redirect_uris)))
    click.echo("updated")


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


@account.command("conferencing")
@click.argument("email")
@click.option("--default", "make_default", default=None, metavar="PROFILE_ID", help="Make this profile the default")
def account_conferencing(email: str, make_default: str | None) -> None:
    """A person's conferencing profiles (id, service, name, status, default), or choose the default."""
    container = _ready()
    settings, profiles = container.profile_settings, container.conferencing_profiles
    account_id = _run(lambda: settings.overview(settings.person_id(email))).account.id
    if make_default:
        _run(lambda: profiles.make_default(account_id, make_default))
    for found in profiles.for_account(account_id):
        mark = "default" if found.is_default else ""
        click.echo(f"{found.id}\t{found.provider_name}\t{found.name}\t{found.status}\t{mark}".rstrip())


@account.command("disconnect")
@click.argument("email")
@click.argument("profile_id")
def account_disconnect(email: str, profile_id: str) -> None:
    """Disconnect one of a person's calendar services (see `account show` for the ids)."""
    container = _ready()
    settings = container.profile_settings
    _run(lambda: settings.disconnect(settings.person_id(email), profile_id))
    click.echo("disconnecting")


@account.command("reset-link")
@click.argument("email")
def account_reset_link(email: str) -> None:
    """Print a single-use link (valid one hour) with which the person sets a new password; hand it over
    yourself. The base is HORAE_PUBLIC_BASE_URL, or http://HORAE_HOST:HORAE_PORT."""
    container = _ready()
    settings = container.settings
    base = settings.public_base_url or f"http://{settings.host}:{settings.port}"
    click.echo(_run(lambda: container.account_security.reset_link(email, base)))


@account.command("set-password")
@click.argument("email")
@click.option("--password", prompt="New password", hide_input=True, confirmation_prompt=True)
def account_set_password(email: str, password: str) -> None:
    """Set a person's password (asked for, not echoed); every session of theirs ends and any lock-out lifts."""
    container = _ready()
    _run(lambda: container.account_security.set_password(email, password))
    click.echo("password set")


@account.command("unlock")
@click.argument("email")
def account_unlock(email: str) -> None:
    """Lift the lock-out that repeated failed sign-ins put on an address."""
    container = _ready()
    _run(lambda: container.account_security.unlock(email))
    click.echo("unlocked")


@account.command("mfa-off")
@click.argument("email")
def account_mfa_off(email: str) -> None:
    """Turn off a person's two-step sign-in (they lost their phone and recovery codes) and drop their
    recovery codes; they can set it up again from the dashboard."""
    container = _ready()
    _run(lambda: container.mfa.turn_off(email))
    click.echo("two-step sign-in off")


@main.group()
def unit() -> None:
    """Manage organizational units, their members and invitations (as the operator: no role needed)."""


ROLE_CHOICE = click.Choice([role.value for role in Role], case_sensitive=False)


@unit.command("create")
@click.argument("name")
@click.option("--owner", "owner_email", required=True, help="Email of its first Owner, who has signed up")
def unit_create(name: str, owner_email: str) -> None:
    """Create a unit with its Owner; prints its id."""
    organizations = _ready().organizations
    made = _run(lambda: organizations.create_unit(name, organizations.person_by_email(owner_email).id))
    click.echo(f"unit_id={made.id}")


@unit.command("list")
def unit_list() -> None:
    """List every unit: id and name."""
    for item in _run(_ready().organizations.all_units):
        click.echo(f"{item.id}\t{item.name}")


@unit.command("members")
@click.argument("unit_id")
def unit_members(unit_id: str) -> None:
    """List a unit's members: email, role and name."""
    organizations = _ready().organizations
    for member in _run(lambda: organizations.members(OPERATOR, unit_id)):
        click.echo(f"{member.email}\t{member.role}\t{member.name}")


@unit.command("invite")
@click.argument("unit_id")
@click.argument("email")
@click.option("--role", type=ROLE_CHOICE, default="developer", show_default=True)
def unit_invite(unit_id: str, email: str, role: str) -> None:
    """Invite an email address into a unit; prints the single-use link (valid 7 days), also mailed when
    HORAE_SMTP_URL is set. The base is HORAE_PUBLIC_BASE_URL, or http://HORAE_HOST:HORAE_PORT."""
    container = _ready()
    settings = container.settings
    base = settings.public_base_url or f"http://{settings.host}:{settings.port}"
    sent = _run(lambda: container.organizations.invite(OPERATOR, unit_id, email, role, base))
    click.echo(f"invitation_link={sent.link}\nmailed={'yes' if sent.mailed else 'no'}")


@unit.command("set-role")
@click.argument("unit_id")
@click.argument("email")
@click.argument("role", type=ROLE_CHOICE)
def unit_set_role(unit_id: str, email: str, role: str) -> None:
    """Give a person this role in a unit, adding them if they are not a member (they must have signed up).
    This is how the unit of applications made before units gets its first Owner."""
    organizations = _ready().organizations
    _run(lambda: organizations.set_role(OPERATOR, unit_id, organizations.person_by_email(email).id, role))
    click.echo("role set")


@unit.command("remove")
@click.argument("unit_id")
@click.argument("email")
def unit_remove(unit_id: str, email: str) -> None:
    """Take a person out of a unit (never its last Owner)."""
    organizations = _ready().organizations
    _run(lambda: organizations.remove(OPERATOR, unit_id, organizations.person_by_email(email).id))
    click.echo("removed")


def _run(action: Callable[[], T]) -> T:
    try:
        return action()
    except HoraeError as exc:
        click.echo(f"error: {exc.message}", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
