"""The `horae` command as an operator runs it: `serve` with its demo credentials and embedded worker,
application and account management, and clear errors for bad input."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from sqlalchemy import select

from horae import bootstrap
from horae.container import Container
from horae.domain.model import Job
from horae.services.identity import REVOKE_PROFILE
from tests.conftest import fast_settings
from tests.e2e.processes import HORAE, HoraeProcess, base_env, free_port

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("cli")]

T = TypeVar("T")
PASSWORD = "correct horse battery"
DEMO_KEYS = ["HORAE_URL", "HORAE_CLIENT_ID", "HORAE_CLIENT_SECRET", "HORAE_ACCESS_TOKEN", "HORAE_SUB"]


def wait_for(what: str, probe: Callable[[], T | None], timeout: float = 20.0) -> T:
    """Poll until probe returns something truthy; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.1)


def cli_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = base_env(data_dir, **extra)
    # Output must reach a pipe or log file while the server runs, not only when it exits.
    env.pop("PYTHONUNBUFFERED", None)
    return env


def horae(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*HORAE, *args], env=cli_env(data_dir), capture_output=True, text=True, timeout=60, check=False
    )


def succeeds(data_dir: Path, *args: str) -> dict[str, str]:
    """Runs a command that must work; returns its `key=value` output lines."""
    done = horae(data_dir, *args)
    assert done.returncode == 0, f"horae {args} failed:\n{done.stdout}\n{done.stderr}"
    return dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)


def fails_cleanly(done: subprocess.CompletedProcess[str], *words: str) -> None:
    assert done.returncode != 0, done.stdout
    assert "Traceback" not in done.stdout + done.stderr, done.stderr
    for word in words:
        assert word in done.stderr, done.stderr


def exports(text: str) -> dict[str, str]:
    pairs = (line.removeprefix("export ").split("=", 1) for line in text.splitlines() if line.startswith("export "))
    return dict(pairs)


@contextmanager
def in_process(data_dir: Path) -> Iterator[Container]:
    """The same data directory (SQLite file, master key) opened from the test, for inspection."""
    container = bootstrap.build(fast_settings(data_dir))
    try:
        yield container
    finally:
        container.uow.engine.dispose()  # type: ignore[attr-defined]


def start_serve(data_dir: Path, log_path: Path, port: int, *args: str, **env: str) -> HoraeProcess:
    return HoraeProcess(["serve", "--port", str(port), *args], cli_env(data_dir, **env), log_path, port).start()


def userinfo(base: str, token: str) -> dict[str, Any]:
    response = httpx.get(f"{base}/v1/userinfo", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_serve_keeps_its_demo_credentials_and_its_pending_jobs_across_a_crash(tmp_path: Path) -> None:
    data_dir, port = tmp_path / "data", free_port()

    # First run, without the embedded worker: the demo is created and printed.
    first = start_serve(data_dir, tmp_path / "first.log", port, HORAE_EMBEDDED_WORKER="false")
    try:
        printed = exports(first.log())
        assert set(DEMO_KEYS) <= printed.keys(), first.log()
        assert printed["HORAE_URL"] == first.url
        me = userinfo(first.url, printed["HORAE_ACCESS_TOKEN"])
        assert me["sub"] == printed["HORAE_SUB"]
        [profile] = me["cronofy.data"]["profiles"]
        auth = {"Authorization": f"Bearer {printed['HORAE_ACCESS_TOKEN']}"}
        revoked = httpx.post(f"{first.url}/v1/profiles/{profile['profile_id']}/revoke", headers=auth, timeout=10)
        assert revoked.status_code == 202, revoked.text
    finally:
        first.kill()  # a crash: the accepted job has not run, as nothing was consuming

    with in_process(data_dir) as container:
        with container.uow() as uow:
            [job] = uow.session.scalars(select(Job))  # type: ignore[attr-defined]
        assert (job.kind, job.status, job.attempts) == (REVOKE_PROFILE, "pending", 0)

    # Second run on the same data directory, embedded worker on (the default).
    second = start_serve(data_dir, tmp_path / "second.log", port)
    try:
        assert {k: exports(second.log()).get(k) for k in DEMO_KEYS} == {k: printed[k] for k in DEMO_KEYS}
        assert userinfo(second.url, printed["HORAE_ACCESS_TOKEN"])["sub"] == printed["HORAE_SUB"]

        def disconnected() -> dict[str, Any] | None:
            response = httpx.get(f"{second.url}/v1/profiles", headers=auth, timeout=10)
            assert response.status_code == 200, response.text
            [found] = response.json()["profiles"]
            return dict(found) if found["profile_connected"] is False else None

        assert wait_for("the pending job to run after the restart", disconnected)["profile_relink_url"]
    finally:
        second.stop()

    with in_process(data_dir) as container:
        with container.uow() as uow:
            [job] = uow.session.scalars(select(Job))  # type: ignore[attr-defined]
        assert (job.status, job.attempts) == ("done", 1)


def client_check(base: str, client_id: str, secret: str) -> int:
    """Authenticates the client at the revoke endpoint (an unknown token revokes nothing): 200 or 401."""
    body = {"client_id": client_id, "client_secret": secret, "token": "not-a-real-token"}
    response = httpx.post(f"{base}/oauth/token/revoke", json=body, timeout=10)
    if response.status_code == 401:
        assert response.json()["error"] == "invalid_client", response.text
    return response.status_code


def test_applications_are_created_listed_and_have_their_secrets_rotated(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    server = start_serve(data_dir, tmp_path / "serve.log", free_port(), "--no-demo")
    try:
        created = succeeds(
            data_dir,
            *("app", "create", "--name", "Calendar sync"),
            *("--redirect-uri", "https://app.example/callback", "--redirect-uri", "http://localhost/cb"),
        )
        client_id, first = created["client_id"], created["client_secret"]
        other = succeeds(data_dir, "app", "create", "--name", "Other")["client_id"]

        listed = horae(data_dir, "app", "list")
        assert listed.returncode == 0, listed.stderr
        rows = [line.split("\t") for line in listed.stdout.splitlines()]
        assert [client_id, "Calendar sync", "https://app.example/callback http://localhost/cb"] in rows
        assert [other, "Other", ""] in rows
        assert first not in listed.stdout  # secrets are shown once, at creation

        assert client_check(server.url, client_id, first) == 200
        assert client_check(server.url, client_id, first + "x") == 401
        assert client_check(server.url, other, first) == 401  # a secret belongs to its application

        # Rotation with the default grace: both secrets work.
        second = succeeds(data_dir, "app", "rotate-secret", client_id)["client_secret"]
        assert second != first
        assert [client_check(server.url, client_id, s) for s in (first, second)] == [200, 200]

        # Rotation without grace: only the newest works, at once.
        third = succeeds(data_dir, "app", "rotate-secret", client_id, "--grace-hours", "0")["client_secret"]
        assert [client_check(server.url, client_id, s) for s in (first, second, third)] == [401, 401, 200]
    finally:
        server.stop()


def test_accounts_are_created_from_the_command_line(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    migrated = horae(data_dir, "migrate")
    assert (migrated.returncode, migrated.stderr.splitlines()[-1]) == (0, "Database is up to date."), migrated.stderr
    sub = succeeds(
        data_dir, "account", "create", "--email", "Cli@Example.com", "--name", "Cli", "--password", PASSWORD
    )["sub"]
    assert sub.startswith("acc_")
    with in_process(data_dir) as container:
        signed_in = container.accounts.log_in("cli@example.com", PASSWORD)
        assert (signed_in.account.id, signed_in.person.name) == (sub, "Cli")

    again = horae(data_dir, "account", "create", "--email", "cli@example.com", "--password", PASSWORD)
    fails_cleanly(again, "error:", "already exists")


def test_bad_input_exits_non_zero_with_a_clear_message(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    bootstrap.migrate(fast_settings(data_dir))
    commands = {
        "bad redirect": ("app", "create", "--name", "X", "--redirect-uri", "ftp://x"),
        "unknown client": ("app", "rotate-secret", "no-such-client"),
        "bad account": ("account", "create", "--email", "not-an-email", "--password", "short"),
        "missing option": ("app", "create"),
    }
    with ThreadPoolExecutor(2) as pool:
        done = dict(zip(commands, pool.map(lambda args: horae(data_dir, *args), commands.values()), strict=True))

    fails_cleanly(done["bad redirect"], "error:", "redirect_uri", "'ftp://x' is not an absolute http(s) URL")
    fails_cleanly(done["unknown client"], "error:", "no application with client_id no-such-client")
    fails_cleanly(done["bad account"], "error:", "email: enter a valid email address", "at least 8 characters")
    fails_cleanly(done["missing option"], "Missing option '--name'")
    with in_process(data_dir) as container:
        assert container.applications.list_all() == []  # the failures created nothing
        assert container.accounts.sign_up("not-taken@example.com", PASSWORD).account.id.startswith("acc_")


def test_management_commands_set_up_a_fresh_data_directory_themselves(tmp_path: Path) -> None:
    fresh = tmp_path / "fresh"
    listed = horae(fresh, "app", "list")
    assert listed.returncode == 0 and listed.stdout == "", listed.stderr
    created = succeeds(fresh, "app", "create", "--name", "First", "--redirect-uri", "https://example.com/cb")
    assert created["client_id"] in horae(fresh, "app", "list").stdout


def test_negative_grace_is_refused(tmp_path: Path) -> None:
    done = horae(tmp_path / "fresh", "app", "rotate-secret", "any-client", "--grace-hours", "-1")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "--grace-hours" in done.stderr


def test_a_persons_profile_is_shown_and_changed_from_the_command_line(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    sub = succeeds(data_dir, "account", "create", "--email", "ada@example.com", "--password", PASSWORD)["sub"]
    succeeds(data_dir, "account", "update", "ada@example.com", "--name", "Ada L.", "--tz", "Europe/Paris")
    fails_cleanly(horae(data_dir, "account", "update", "ada@example.com", "--tz", "Mars/Olympus"), "error:", "IANA")
    fails_cleanly(horae(data_dir, "account", "show", "nobody@example.com"), "error:", "nobody signs in")
    wrong = horae(data_dir, "account", "change-email", "ada@example.com", "ada@new.example", "--password", "nope")
    fails_cleanly(wrong, "error:", "password")
    succeeds(data_dir, "account", "change-email", "ada@example.com", "ada@new.example", "--password", PASSWORD)
    shown = horae(data_dir, "account", "show", "ada@new.example")
    assert shown.returncode == 0, shown.stderr
    head, *services = shown.stdout.splitlines()
    assert f"sub={sub}" in head and "name=Ada L." in head and "tzid=Europe/Paris" in head
    [built_in] = [line.split("\t") for line in services]
    assert built_in[1] == "cronofy" and built_in[3] == "active"
    refused = horae(data_dir, "account", "disconnect", "ada@new.example", built_in[0])
    fails_cleanly(refused, "error:", "cannot be removed")
