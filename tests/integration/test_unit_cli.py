"""`horae unit ...` and `horae app create --unit`, run with click's CliRunner against the test's database: the
operator manages units, members and invitations without a role, and the last-Owner rule still holds."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from click.testing import CliRunner, Result

from horae import cli
from horae.container import Container
from horae.domain.conferencing import ConferencingProfile
from horae.domain.organizations import PRE_UNITS_ID
from horae.services.organizations import OPERATOR
from horae.settings import Settings

PASSWORD = "correct horse battery"


@pytest.fixture
def horae(settings: Settings, container: Container, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    # The CLI installs its own log handler on the root logger; keep pytest's.
    monkeypatch.setattr(cli.logs, "configure", lambda *args: None)
    env = {
        "HORAE_DATA_DIR": str(settings.data_dir),
        "HORAE_DATABASE_URL": settings.database_url,
        "HORAE_REDIS_URL": settings.redis_url,
        "HORAE_QUEUE_URL": "immediate",
        "HORAE_PASSWORD_TIME_COST": "1",
        "HORAE_PASSWORD_MEMORY_COST": "8",
        "HORAE_EMBEDDED_WORKER": "false",
        "HORAE_PUBLIC_BASE_URL": "https://horae.example",
    }
    return CliRunner(env=env)


def run(runner: CliRunner, *args: str) -> dict[str, str]:
    """A command that must succeed; its `key=value` lines."""
    done = runner.invoke(cli.main, list(args))
    assert done.exit_code == 0, (args, done.output, done.exception)
    return dict(line.split("=", 1) for line in done.output.splitlines() if "=" in line)


def fails(done: Result, *words: str) -> None:
    assert done.exit_code == 2, done.output
    assert done.exception is None or isinstance(done.exception, SystemExit), done.exception
    for word in words:
        assert word in done.output, done.output


def test_units_members_and_roles_from_the_cli(horae: CliRunner, container: Container) -> None:
    for name in ("ada", "bob"):
        container.accounts.sign_up(f"{name}@example.com", PASSWORD, name.capitalize())
    unit_id = run(horae, "unit", "create", "Platform", "--owner", "Ada@Example.com")["unit_id"]
    assert unit_id.startswith("uni_")
    assert horae.invoke(cli.main, ["unit", "list"]).output == f"{unit_id}\tPlatform\n"

    assert horae.invoke(cli.main, ["unit", "set-role", unit_id, "bob@example.com", "developer"]).output == "role set\n"
    members = horae.invoke(cli.main, ["unit", "members", unit_id]).output
    assert members == "ada@example.com\towner\tAda\nbob@example.com\tdeveloper\tBob\n"

    fails(horae.invoke(cli.main, ["unit", "set-role", unit_id, "ada@example.com", "support"]), "at least one Owner")
    fails(horae.invoke(cli.main, ["unit", "remove", unit_id, "ada@example.com"]), "at least one Owner")
    fails(horae.invoke(cli.main, ["unit", "set-role", unit_id, "bob@example.com", "admin"]), "Invalid value")
    fails(horae.invoke(cli.main, ["unit", "set-role", unit_id, "zed@example.com", "owner"]), "nobody has signed up")
    fails(horae.invoke(cli.main, ["unit", "members", "uni_nope"]), "no organizational unit uni_nope")
    fails(horae.invoke(cli.main, ["unit", "create", "X", "--owner", "zed@example.com"]), "nobody has signed up")
    fails(horae.invoke(cli.main, ["unit", "create", " ", "--owner", "ada@example.com"]), "name must be specified")

    run(horae, "unit", "set-role", unit_id, "bob@example.com", "owner")
    assert horae.invoke(cli.main, ["unit", "remove", unit_id, "ada@example.com"]).output == "removed\n"
    assert [m.email for m in container.organizations.members(OPERATOR, unit_id)] == ["bob@example.com"]


def test_an_invitation_from_the_cli_prints_its_link(horae: CliRunner, container: Container) -> None:
    ada = container.accounts.sign_up("ada@example.com", PASSWORD, "Ada").person
    unit = container.organizations.create_unit("Platform", ada.id)
    printed = run(horae, "unit", "invite", unit.id, "carol@example.com", "--role", "support")
    assert printed["mailed"] == "no" and printed["invitation_link"].startswith("https://horae.example/invitations/")
    carol = container.accounts.sign_up("carol@example.com", PASSWORD, "Carol").person
    token = printed["invitation_link"].rsplit("/", 1)[1]
    assert container.organizations.accept(token, carol) == unit.id
    assert {m.email: m.role for m in container.organizations.members(OPERATOR, unit.id)}["carol@example.com"] == (
        "support"
    )
    fails(horae.invoke(cli.main, ["unit", "invite", unit.id, "not-an-email"]), "valid email")


def test_app_create_takes_a_unit_and_defaults_to_the_pre_units_one(horae: CliRunner, container: Container) -> None:
    ada = container.accounts.sign_up("ada@example.com", PASSWORD, "Ada").person
    unit = container.organizations.create_unit("Platform", ada.id)
    placed = run(
        horae, "app", "create", "--name", "Placed", "--redirect-uri", "https://a.example/cb", "--unit", unit.id
    )
    legacy = run(horae, "app", "create", "--name", "Legacy")
    assert placed["client_secret"].startswith("CRN_") and legacy["client_secret"].startswith("CRN_")
    by_client = {a.client_id: a for a in container.applications.list_all()}
    assert by_client[placed["client_id"]].unit_id == unit.id
    assert by_client[legacy["client_id"]].unit_id == PRE_UNITS_ID
    fails(horae.invoke(cli.main, ["app", "create", "--name", "X", "--unit", "uni_nope"]), "no organizational unit")
    listed = horae.invoke(cli.main, ["app", "list"]).output
    assert "Placed" in listed and "Legacy" in listed
    # The operator gives the pre-units unit its first Owner.
    run(horae, "unit", "set-role", PRE_UNITS_ID, "ada@example.com", "owner")
    assert [(m.email, m.role) for m in container.organizations.members(OPERATOR, PRE_UNITS_ID)] == [
        ("ada@example.com", "owner")
    ]


def test_an_applications_secrets_and_redirect_uris_from_the_cli(horae: CliRunner, container: Container) -> None:
    made = run(horae, "app", "create", "--name", "Sync", "--redirect-uri", "https://a.example/cb")
    client_id, first = made["client_id"], made["client_secret"]
    second = run(horae, "app", "rotate-secret", client_id)["client_secret"]
    shown = horae.invoke(cli.main, ["app", "show", client_id]).output
    assert first not in shown and second not in shown  # ids and dates only
    secrets = [line.split("\t") for line in shown.splitlines() if line.startswith("secret\t")]
    assert len(secrets) == 2 and f"unit={PRE_UNITS_ID}" in shown
    assert horae.invoke(cli.main, ["app", "set-redirect-uris", client_id, "https://b.example/cb"]).output == "updated\n"
    assert "redirect_uris=https://b.example/cb" in horae.invoke(cli.main, ["app", "show", client_id]).output
    fails(horae.invoke(cli.main, ["app", "set-redirect-uris", client_id, "not a url"]))
    app = container.applications.get(client_id)
    oldest = sorted(container.applications.secrets(app.id), key=lambda found: found.created_at)[0]
    assert horae.invoke(cli.main, ["app", "revoke-secret", client_id, oldest.id]).output == "revoked\n"
    with container.uow() as uow:
        assert container.applications.authenticate_client(uow, client_id, second).id == app.id
    newest = next(found for found in container.applications.secrets(app.id) if found.id != oldest.id)
    fails(horae.invoke(cli.main, ["app", "revoke-secret", client_id, newest.id]))  # never the last one
    fails(horae.invoke(cli.main, ["app", "revoke-secret", client_id, "sec_nothing"]))


def test_conferencing_profiles_and_the_default_from_the_cli(horae: CliRunner, container: Container) -> None:
    person = container.accounts.sign_up("ada@example.com", PASSWORD, "Ada")
    with container.uow() as uow:
        for n in (1, 2):
            made = ConferencingProfile(f"pro_zoom{n}", person.account.id, "zoom", f"ada{n}@zoom.example", "active",
                                       datetime.now(UTC), is_default=n == 1)  # fmt: skip
            uow.conferencing_profiles.add(made)
        uow.commit()
    listed = horae.invoke(cli.main, ["account", "conferencing", "ada@example.com"]).output.splitlines()
    assert listed == [
        "pro_zoom1\tzoom\tada1@zoom.example\tactive\tdefault",
        "pro_zoom2\tzoom\tada2@zoom.example\tactive",
    ]
    changed = horae.invoke(cli.main, ["account", "conferencing", "ada@example.com", "--default", "pro_zoom2"])
    assert changed.output.splitlines()[1].endswith("\tdefault") and not changed.output.splitlines()[0].endswith(
        "default"
    )
    fails(horae.invoke(cli.main, ["account", "conferencing", "ada@example.com", "--default", "pro_other"]))
