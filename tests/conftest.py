"""Shared fixtures: one migrated database per backend and test worker, and a wired app per test.

`HORAE_TEST_BACKENDS` (default `sqlite`) names the deployments the storage and API tests run on;
`make test` sets `sqlite,postgres`, where postgres also brings Redis (the scale-out deployment).
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import text

from horae import bootstrap
from horae.api.app import create_app
from horae.container import Container
from horae.db.engine import make_engine
from horae.db.tables import metadata
from horae.settings import Settings
from tests.fakes import FakeClock

BACKENDS = [b for b in os.environ.get("HORAE_TEST_BACKENDS", "sqlite").split(",") if b]
POSTGRES_URL = os.environ.get("HORAE_TEST_POSTGRES_URL", "postgresql://postgres:postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("HORAE_TEST_REDIS_URL", "redis://127.0.0.1:6399")


@dataclass(frozen=True)
class Deployment:
    """Where a test's data lives: the embedded SQLite file, or PostgreSQL with Redis beside it."""

    name: str
    database_url: str
    redis_url: str


def worker_index(config: pytest.Config) -> int:
    worker = getattr(config, "workerinput", {}).get("workerid", "gw0")
    return int(worker.removeprefix("gw"))


def fast_settings(data_dir: Path, **overrides: object) -> Settings:
    """Settings for tests: cheap password hashing, generous rate limits, jobs run inline."""
    values: dict[str, object] = {
        "data_dir": data_dir,
        "queue_url": "immediate",
        "password_time_cost": 1,
        "password_memory_cost": 8,
        "rate_limit_per_second": 10_000,
        "rate_limit_per_minute": 100_000,
        "embedded_worker": False,
        "callbacks_loopback_only": True,  # fuzzed callback URLs must never leave this machine
        "log_format": "console",
        **overrides,
    }
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("sqlite") / "horae.db"
    url = f"sqlite:///{path}"
    bootstrap.migrate(fast_settings(path.parent, database_url=url))
    return url


def fresh_postgres_database(label: str) -> str:
    """A new, empty PostgreSQL database of its own (named after this process, so parallel runs
    never share one); returns its URL."""
    name = f"horae_{label}_{os.getpid()}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    return POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"


def drop_postgres_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgres_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh database for this test process, migrated once."""
    url = fresh_postgres_database("test")
    bootstrap.migrate(fast_settings(tmp_path_factory.mktemp("pg"), database_url=url))
    yield url
    drop_postgres_database(url)


@pytest.fixture(scope="session")
def redis_url(request: pytest.FixtureRequest) -> str:
    url = f"{REDIS_URL}/{worker_index(request.config) + 1}"
    redis.Redis.from_url(url).ping()
    return url


def _empty_tables(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
            conn.execute(text(f"TRUNCATE {names} CASCADE"))
        else:
            for table in reversed(metadata.sorted_tables):
                conn.execute(table.delete())
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def deployment(request: pytest.FixtureRequest) -> Deployment:
    if request.param == "sqlite":
        url = request.getfixturevalue("sqlite_url")
        found = Deployment("sqlite", url, "")
    elif request.param == "postgres":
        found = Deployment("postgres", request.getfixturevalue("postgres_url"), request.getfixturevalue("redis_url"))
    else:
        raise ValueError(f"unknown backend {request.param}")
    _empty_tables(found.database_url)
    return found


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def settings(tmp_path: Path, deployment: Deployment) -> Settings:
    return fast_settings(tmp_path, database_url=deployment.database_url, redis_url=deployment.redis_url)


@pytest.fixture
def container(settings: Settings, clock: FakeClock) -> Iterator[Container]:
    built = bootstrap.build(settings, clock)
    yield built
    built.uow.engine.dispose()  # type: ignore[attr-defined]


@pytest.fixture
def client(container: Container) -> Iterator[TestClient]:
    with TestClient(create_app(container), base_url="http://127.0.0.1:8000") as test_client:
        yield test_client


CLAIM_KEY = "horae-test:claimed-by"


@contextmanager
def redis_database_of_our_own(first: int, last: int, wait: float = 60.0) -> Iterator[str]:
    """The URL of a Redis database numbered first..last that no other test process uses meanwhile.

    Job wake-ups are only meaningful to consumers of the same database: a consumer of another test
    process on the same Redis database would take them. The claim is a key that expires, so a
    crashed run frees its database after a while.
    """
    token = f"{os.getpid()}:{uuid.uuid4().hex}"
    deadline = time.monotonic() + wait
    while True:
        for db in range(first, last + 1):
            client = redis.Redis.from_url(f"{REDIS_URL}/{db}")
            try:
                if client.set(CLAIM_KEY, token, nx=True, ex=900):
                    try:
                        yield f"{REDIS_URL}/{db}"
                    finally:
                        if client.get(CLAIM_KEY) == token.encode():
                            client.delete(CLAIM_KEY)
                    return
            finally:
                client.close()
        if time.monotonic() > deadline:
            raise RuntimeError(f"no free Redis database among {first}..{last} after {wait}s")
        time.sleep(0.2)
