"""Credentials at rest: secrets sealed, bearer values stored only as SHA-256 digests, passwords argon2id;
and client-secret rotation with a grace period."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from argon2 import PasswordHasher
from cryptography.exceptions import InvalidTag
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.sql.schema import Table

from horae.adapters.secretbox import AesGcmSecretBox, load_or_create_key
from horae.container import Container
from horae.db import tables
from horae.domain import ids
from horae.errors import AuthenticationFailed, InvalidClient
from horae.settings import Settings
from tests.fakes import FakeClock
from tests.helpers import connect, make_app, sign_up_and_consent

PASSWORD = "correct horse battery"


def _rows(container: Container, table: Table) -> list[dict[str, Any]]:
    engine = container.uow.engine  # type: ignore[attr-defined]
    with engine.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(select(table))]


def _everything_stored(container: Container) -> str:
    """Every value in every table, as one text to search for leaks."""
    return "\n".join(repr(row) for table in tables.metadata.sorted_tables for row in _rows(container, table))


def _authenticates(container: Container, client_id: str, secret: str) -> bool:
    try:
        with container.uow() as uow:
            container.applications.authenticate_client(uow, client_id, secret)
    except InvalidClient:
        return False
    return True


# --- at rest -------------------------------------------------------------------------------------


def test_client_secret_is_sealed_and_digested(container: Container, settings: Settings) -> None:
    created = make_app(container)
    secret = created.client_secret
    (row,) = _rows(container, tables.client_secrets)
    assert row["application_id"] == created.application.id
    assert secret not in row["sealed_secret"]
    assert row["sealed_secret"].startswith("v1.")
    assert row["secret_digest"] == ids.digest(secret)
    assert secret not in _everything_stored(container)
    # Sealed with the master key kept in the data directory, and only that key opens it.
    key = load_or_create_key(settings.data_dir / "master.key")
    assert AesGcmSecretBox(key).open(row["sealed_secret"]) == secret
    with pytest.raises(InvalidTag):
        AesGcmSecretBox(bytes(32)).open(row["sealed_secret"])


def test_tokens_are_stored_only_as_digests(container: Container) -> None:
    connected = connect(container)
    rows = _rows(container, tables.tokens)
    by_kind = {row["kind"]: row["token_digest"] for row in rows}
    assert by_kind == {
        "access": ids.digest(connected.tokens.access_token),
        "refresh": ids.digest(connected.tokens.refresh_token),
    }
    stored = _everything_stored(container)
    assert connected.tokens.access_token not in stored
    assert connected.tokens.refresh_token not in stored
    assert connected.app.client_secret not in stored


def test_refreshed_access_token_is_stored_only_as_a_digest(container: Container) -> None:
    connected = connect(container)
    app = connected.app
    refreshed = container.oauth.refresh(app.application.client_id, app.client_secret, connected.tokens.refresh_token)
    digests = {row["token_digest"] for row in _rows(container, tables.tokens)}
    assert ids.digest(refreshed.access_token) in digests
    assert refreshed.access_token not in _everything_stored(container)


def test_authorization_codes_are_stored_only_as_digests(container: Container) -> None:
    app = make_app(container)
    person = container.accounts.sign_up("ada@example.com", PASSWORD)
    request = container.oauth.check_authorize(
        {
            "client_id": app.application.client_id,
            "redirect_uri": app.application.redirect_uris[0],
            "response_type": "code",
            "scope": "read_events",
        }
    )
    code = container.oauth.issue_code(request, person.account.id)
    (row,) = _rows(container, tables.authorization_codes)
    assert row["code_digest"] == ids.digest(code)
    assert code not in _everything_stored(container)


def test_web_sessions_are_stored_only_as_digests(container: Container) -> None:
    person = container.accounts.sign_up("ada@example.com", PASSWORD)
    token = container.accounts.start_session(person.person.id)
    (row,) = _rows(container, tables.web_sessions)
    assert row["id_digest"] == ids.digest(token)
    assert row["person_id"] == person.person.id
    assert token not in _everything_stored(container)
    assert container.accounts.resolve_session(token) is not None
    assert container.accounts.resolve_session(row["id_digest"]) is None  # the digest is not a credential


def test_browser_flow_stores_no_plain_code_or_session(client: TestClient, container: Container) -> None:
    app = make_app(container)
    code = sign_up_and_consent(client, app, "ada@example.com")["code"]
    stored = _everything_stored(container)
    assert code not in stored
    assert {row["code_digest"] for row in _rows(container, tables.authorization_codes)} == {ids.digest(code)}
    (session,) = _rows(container, tables.web_sessions)
    assert len(session["id_digest"]) == 64
    assert PASSWORD not in stored


def test_passwords_are_argon2id_hashes(container: Container) -> None:
    container.accounts.sign_up("ada@example.com", PASSWORD, "Ada")
    container.accounts.sign_up("bob@example.com", PASSWORD, "Bob")
    rows = _rows(container, tables.people)
    assert len(rows) == 2
    for row in rows:
        assert row["password_hash"].startswith("$argon2id$")
        assert PASSWORD not in row["password_hash"]
        assert PasswordHasher().verify(row["password_hash"], PASSWORD)
    # Salted: the same password gives different hashes.
    assert rows[0]["password_hash"] != rows[1]["password_hash"]
    assert PASSWORD not in _everything_stored(container)


# --- secrets for signing, and rotation -----------------------------------------------------------


def test_active_secrets_returns_the_plain_secret(container: Container) -> None:
    created = make_app(container)
    assert container.applications.active_secrets(created.application.id) == [created.client_secret]


def test_active_secrets_are_per_application(container: Container) -> None:
    first = make_app(container, name="First")
    second = make_app(container, name="Second")
    assert container.applications.active_secrets(first.application.id) == [first.client_secret]
    assert container.applications.active_secrets(second.application.id) == [second.client_secret]
    assert container.applications.active_secrets("app_unknown") == []


def test_rotation_keeps_both_secrets_until_the_grace_ends(container: Container, clock: FakeClock) -> None:
    created = make_app(container)
    app_id, client_id, old = created.application.id, created.application.client_id, created.client_secret
    clock.advance(minutes=1)
    new = container.applications.rotate_secret(client_id, timedelta(hours=24)).client_secret
    assert new != old and new.startswith("CRN_")

    assert container.applications.active_secrets(app_id) == [old, new]  # oldest first
    assert _authenticates(container, client_id, old) and _authenticates(container, client_id, new)
    assert container.applications.by_api_key(old).id == app_id

    clock.advance(hours=23, minutes=59)
    assert container.applications.active_secrets(app_id) == [old, new]

    clock.advance(minutes=2)
    assert container.applications.active_secrets(app_id) == [new]
    assert not _authenticates(container, client_id, old)
    assert _authenticates(container, client_id, new)
    with pytest.raises(AuthenticationFailed):
        container.applications.by_api_key(old)
    assert container.applications.by_api_key(new).id == app_id

    # The new secret has no expiry of its own.
    clock.advance(days=365)
    assert container.applications.active_secrets(app_id) == [new]


def test_rotation_with_no_grace_retires_the_old_secret_at_once(container: Container, clock: FakeClock) -> None:
    created = make_app(container)
    clock.advance(seconds=1)
    new = container.applications.rotate_secret(created.application.client_id, timedelta(0)).client_secret
    assert container.applications.active_secrets(created.application.id) == [new]
    assert not _authenticates(container, created.application.client_id, created.client_secret)


def test_a_later_rotation_never_extends_an_older_secret(container: Container, clock: FakeClock) -> None:
    created = make_app(container)
    app_id, client_id, first = created.application.id, created.application.client_id, created.client_secret
    clock.advance(seconds=1)
    second = container.applications.rotate_secret(client_id, timedelta(hours=1)).client_secret
    clock.advance(seconds=1)
    third = container.applications.rotate_secret(client_id, timedelta(hours=24)).client_secret
    assert container.applications.active_secrets(app_id) == [first, second, third]
    clock.advance(hours=1)
    assert container.applications.active_secrets(app_id) == [second, third]
    clock.advance(hours=23)
    assert container.applications.active_secrets(app_id) == [third]


def test_rotated_secret_is_sealed_too(container: Container, clock: FakeClock) -> None:
    created = make_app(container)
    clock.advance(seconds=1)
    new = container.applications.rotate_secret(created.application.client_id, timedelta(hours=1)).client_secret
    rows = _rows(container, tables.client_secrets)
    assert len(rows) == 2
    assert {row["secret_digest"] for row in rows} == {ids.digest(created.client_secret), ids.digest(new)}
    stored = _everything_stored(container)
    assert new not in stored and created.client_secret not in stored
