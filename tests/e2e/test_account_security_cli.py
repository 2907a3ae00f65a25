"""The operator's account-security commands: a password reset link, a new password typed at a hidden
prompt, lifting a lock-out, and turning off someone's two-step sign-in."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pyotp
import pytest

from horae.errors import AuthenticationFailed
from tests.e2e.processes import HORAE
from tests.e2e.test_cli import PASSWORD, cli_env, fails_cleanly, horae, in_process, succeeds

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("cli")]
EMAIL = "ada@example.com"


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    found = tmp_path / "data"
    succeeds(found, "account", "create", "--email", EMAIL, "--password", PASSWORD)
    return found


def test_reset_link_prints_a_single_use_link(data_dir: Path) -> None:
    done = horae(data_dir, "account", "reset-link", "ADA@example.com")
    assert done.returncode == 0, done.stderr
    link = done.stdout.strip()
    assert link.startswith("http://127.0.0.1:8000/password-reset/")
    token = link.rsplit("/", 1)[1]
    assert token not in done.stderr  # printed for the operator, not logged
    with in_process(data_dir) as container:
        container.account_security.reset_password(token, "brand new password", "brand new password")
        assert container.accounts.log_in(EMAIL, "brand new password").person.email == EMAIL
    fails_cleanly(horae(data_dir, "account", "reset-link", "nobody@example.com"), "error:", "no person has that email")


def test_set_password_asks_twice_without_echo_and_ends_sessions(data_dir: Path) -> None:
    with in_process(data_dir) as container:
        person = container.accounts.log_in(EMAIL, PASSWORD)
        session = container.accounts.start_session(person.person.id)
    done = subprocess.run(
        [*HORAE, "account", "set-password", EMAIL],
        input="typed at the prompt\ntyped at the prompt\n",
        env=cli_env(data_dir),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        start_new_session=True,  # no terminal: the hidden prompt reads standard input
    )
    assert done.returncode == 0, done.stderr
    assert "password set" in done.stdout and "typed at the prompt" not in done.stdout + done.stderr
    with in_process(data_dir) as container:
        assert container.accounts.resolve_session(session) is None
        assert container.accounts.log_in(EMAIL, "typed at the prompt").person.email == EMAIL
    short = horae(data_dir, "account", "set-password", EMAIL, "--password", "short")
    fails_cleanly(short, "error:", "at least 8 characters")


def test_unlock_lifts_a_lock_out(data_dir: Path) -> None:
    with in_process(data_dir) as container:
        for _ in range(5):
            with pytest.raises(AuthenticationFailed):
                container.accounts.log_in(EMAIL, "wrong password")
        with pytest.raises(AuthenticationFailed, match="Too many"):
            container.accounts.log_in(EMAIL, PASSWORD)
    assert horae(data_dir, "account", "unlock", EMAIL).stdout.strip() == "unlocked"
    with in_process(data_dir) as container:
        assert container.accounts.log_in(EMAIL, PASSWORD).person.email == EMAIL


def test_mfa_off_turns_two_step_sign_in_off(data_dir: Path) -> None:
    with in_process(data_dir) as container:
        person_id = container.accounts.log_in(EMAIL, PASSWORD).person.id
        secret = container.mfa.begin(person_id).setup_secret
        assert secret
        container.mfa.confirm(person_id, pyotp.TOTP(secret).now())
        assert container.mfa.required(person_id)
    assert horae(data_dir, "account", "mfa-off", EMAIL).stdout.strip() == "two-step sign-in off"
    with in_process(data_dir) as container:
        assert not container.mfa.required(person_id)
    fails_cleanly(horae(data_dir, "account", "mfa-off", "nobody@example.com"), "error:", "no person has that email")
