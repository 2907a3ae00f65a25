"""Migration 0009 on a database that already has applications (with secrets that refer to them): they move into
the pre-units unit, which has no members; and it goes back down cleanly, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import text

from horae.bootstrap import MIGRATIONS
from horae.db.engine import make_engine
from tests.conftest import BACKENDS, drop_postgres_database, fresh_postgres_database

PRE_UNITS_ID = "uni_000000000000000000000000"


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
        return
    url = fresh_postgres_database("migration_units")
    yield url
    drop_postgres_database(url)


def _config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["url"] = url
    return config


def _rows(url: str, sql: str) -> list[tuple[object, ...]]:
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            return [tuple(row) for row in conn.execute(text(sql))]
    finally:
        engine.dispose()


def test_existing_applications_move_into_the_pre_units_unit(database_url: str) -> None:
    config = _config(database_url)
    command.upgrade(config, "0008")
    engine = make_engine(database_url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO applications (id, client_id, name, redirect_uris, created_at) "
                          "VALUES ('app_old', 'cid', 'Old', '[]', CURRENT_TIMESTAMP)"))  # fmt: skip
        conn.execute(text("INSERT INTO client_secrets (id, application_id, secret_digest, sealed_secret, created_at) "
                          "VALUES ('sec_old', 'app_old', 'digest', 'sealed', CURRENT_TIMESTAMP)"))  # fmt: skip
    engine.dispose()

    command.upgrade(config, "0009")
    assert _rows(database_url, "SELECT id, unit_id, created_by FROM applications") == [("app_old", PRE_UNITS_ID, None)]
    assert _rows(database_url, "SELECT id, name FROM organizational_units") == [
        (PRE_UNITS_ID, "Applications created before organizational units")
    ]
    assert _rows(database_url, "SELECT * FROM unit_memberships") == []

    command.downgrade(config, "0008")
    assert _rows(database_url, "SELECT id, name FROM applications") == [("app_old", "Old")]
    assert _rows(database_url, "SELECT application_id FROM client_secrets") == [("app_old",)]
    command.upgrade(config, "0009")  # and up again
    assert _rows(database_url, "SELECT unit_id FROM applications") == [(PRE_UNITS_ID,)]


def test_a_database_without_applications_gets_no_unit(database_url: str) -> None:
    command.upgrade(_config(database_url), "0009")
    assert _rows(database_url, "SELECT * FROM organizational_units") == []
