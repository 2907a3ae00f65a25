"""The demo seed for `make serve`: one application, one person with an account, and a token, kept stable."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from horae.container import Container
from horae.domain import scopes
from horae.errors import NotFound

DEMO_EMAIL = "demo@horae.localhost"
FILE_NAME = "demo-credentials.env"


def ensure_demo(container: Container, base_url: str) -> str:
    """The demo credentials as shell lines; created on first run, then read back unchanged."""
    path = container.settings.data_dir / FILE_NAME
    if path.exists() and _still_valid(container, path):
        # Same credentials; only the address may differ from the last run (another port).
        lines = [
            f"export HORAE_URL={base_url}" if ln.startswith("export HORAE_URL=") else ln
            for ln in path.read_text().splitlines()
        ]
        text = "\n".join(lines) + "\n"
        _write_private(path, text)
        return text
    credentials = container.applications.create(
        "Horae demo", ["http://127.0.0.1/callback", "http://localhost/callback"]
    )
    password = secrets.token_urlsafe(12)
    signed_up = container.accounts.sign_up(DEMO_EMAIL, password, "Demo Person")
    ttl = container.settings.demo_token_ttl_days * 86400
    grant = container.oauth.issue_direct_grant(signed_up.account.id, credentials.application.id, scopes.ALL_SCOPES, ttl)
    lines = [
        "# Horae demo credentials (also in this file for the next run)",
        f"export HORAE_URL={base_url}",
        f"export HORAE_CLIENT_ID={credentials.application.client_id}",
        f"export HORAE_CLIENT_SECRET={credentials.client_secret}",
        f"export HORAE_ACCESS_TOKEN={grant.access_token}",
        f"export HORAE_REFRESH_TOKEN={grant.refresh_token}",
        f"export HORAE_SUB={grant.account_id}",
        f"# log in on {base_url}/oauth/authorize as {DEMO_EMAIL} with password {password}",
        "",
    ]
    text = "\n".join(lines)
    _write_private(path, text)
    return text


def _write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read: it holds secrets."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)


def _still_valid(container: Container, path: Path) -> bool:
    """The saved file matches this database (it may have been reset underneath it)."""
    values = dict(
        line.removeprefix("export ").split("=", 1)
        for line in path.read_text().splitlines()
        if line.startswith("export ")
    )
    try:
        container.applications.get(values.get("HORAE_CLIENT_ID", ""))
    except NotFound:
        return False
    return True
