"""Per-application rate limits on the wire: Cronofy's defaults, 429 with Retry-After and RateLimit-* headers,
applications kept apart, and counts shared across processes when they share Redis.

Time is frozen by giving the limiter (of the kind bootstrap picks for the deployment) an injected `now`;
the wiring itself is checked against bootstrap's own limiters, through the counts they leave behind.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient

from horae import bootstrap
from horae.adapters.ratelimit import MemoryRateLimiter, RedisRateLimiter
from horae.api.app import create_app
from horae.api.auth import ApplicationKey
from horae.container import Container
from horae.ports import RateLimiter
from horae.services.applications import NewCredentials
from horae.settings import Settings
from tests.conftest import Deployment, fast_settings
from tests.fakes import FakeClock
from tests.helpers import REDIRECT, Connected, connect

# 0.25 s into a second and 40.25 s into a minute.
START = 1_000_000.25


class FrozenTime:
    """The limiter's `now`, moved only by the test."""

    def __init__(self) -> None:
        self.current = START

    def __call__(self) -> float:
        return self.current

    def advance(self, seconds: float) -> None:
        self.current += seconds


def limiter_like_bootstraps(settings: Settings, now: FrozenTime) -> RateLimiter:
    """The limiter bootstrap would build for these settings, on a frozen clock."""
    per_second, per_minute = settings.rate_limit_per_second, settings.rate_limit_per_minute
    url = settings.resolved_redis_url()
    if url:
        return RedisRateLimiter(redis.Redis.from_url(url), per_second, per_minute, now=now)
    return MemoryRateLimiter(per_second, per_minute, now=now)


def limited_settings(tmp_path: Path, deployment: Deployment, per_second: int = 3, per_minute: int = 10) -> Settings:
    return fast_settings(
        tmp_path,
        database_url=deployment.database_url,
        redis_url=deployment.redis_url,
        rate_limit_per_second=per_second,
        rate_limit_per_minute=per_minute,
    )


@pytest.fixture
def frozen() -> FrozenTime:
    return FrozenTime()


Build = Callable[[Settings, FrozenTime | None], Container]


@pytest.fixture
def build(clock: FakeClock) -> Iterator[Build]:
    """Builds containers as bootstrap does (optionally on frozen limiter time) and disposes of them after."""
    built: list[Container] = []

    def make(settings: Settings, now: FrozenTime | None) -> Container:
        container = bootstrap.build(settings, clock)
        built.append(container)
        if now is not None:
            container.rate_limiter = limiter_like_bootstraps(settings, now)
        return container

    yield make
    for container in built:
        container.uow.engine.dispose()  # type: ignore[attr-defined]


@pytest.fixture
def limited(tmp_path: Path, deployment: Deployment, build: Build, frozen: FrozenTime) -> Container:
    """A container allowing 3 requests a second and 10 a minute per application, on frozen limiter time."""
    return build(limited_settings(tmp_path, deployment), frozen)


def probe_app(container: Container) -> Any:
    """The real app plus a route guarded by the API key, as availability and friends will be."""
    app = create_app(container)

    async def whoami(application: ApplicationKey) -> dict[str, str]:
        return {"client_id": application.client_id}

    app.add_api_route("/v1/_probe/whoami", whoami, methods=["GET"])
    return app


@pytest.fixture
def api(limited: Container) -> Iterator[TestClient]:
    with TestClient(probe_app(limited), base_url="http://127.0.0.1:8000") as client:
        yield client


def second_account(container: Container, app: NewCredentials, email: str) -> Connected:
    """Another account authorized to the same application."""
    person = container.accounts.sign_up(email, "correct horse battery", "Bea")
    client_id = app.application.client_id
    query = {"client_id": client_id, "redirect_uri": REDIRECT, "response_type": "code", "scope": "read_write"}
    code = container.oauth.issue_code(container.oauth.check_authorize(query), person.account.id)
    tokens = container.oauth.exchange_code(client_id, app.client_secret, code, REDIRECT)
    return Connected(app, person.account.id, tokens)


def headers_of(response: Any) -> dict[str, str]:
    return {name: response.headers[name] for name in ("ratelimit-limit", "ratelimit-remaining", "ratelimit-reset")}


def assert_429(response: Any, retry_after: int, limit: int) -> None:
    assert response.status_code == 429, response.text
    assert response.json() == {
        "error": "too_many_requests",
        "error_description": f"rate limit exceeded, retry after {retry_after}s",
    }
    assert response.headers["retry-after"] == str(retry_after)
    assert headers_of(response) == {
        "ratelimit-limit": str(limit),
        "ratelimit-remaining": "0",
        "ratelimit-reset": str(retry_after),
    }
    for name in ("retry-after", "ratelimit-limit", "ratelimit-remaining", "ratelimit-reset"):
        assert len(response.headers.get_list(name)) == 1, name


# --- defaults and wiring --------------------------------------------------------------------------------------


def test_the_defaults_are_cronofys_50_a_second_and_500_a_minute() -> None:
    fields = Settings.model_fields
    assert (fields["rate_limit_per_second"].default, fields["rate_limit_per_minute"].default) == (50, 500)


def test_a_default_deployment_announces_50_a_second(tmp_path: Path, deployment: Deployment, build: Build) -> None:
    settings = limited_settings(tmp_path, deployment, per_second=50, per_minute=500)
    container = build(settings, None)
    person = connect(container)
    with TestClient(create_app(container)) as client:
        response = client.get("/v1/userinfo", headers=person.auth)
    assert response.status_code == 200
    assert headers_of(response) == {"ratelimit-limit": "50", "ratelimit-remaining": "49", "ratelimit-reset": "1"}


def test_bootstrap_shares_limits_in_redis_only_when_scaled_out(
    deployment: Deployment, limited: Container, build: Build
) -> None:
    expected = RedisRateLimiter if deployment.redis_url else MemoryRateLimiter
    assert isinstance(build(limited.settings, None).rate_limiter, expected)


# --- the limits ------------------------------------------------------------------------------------------------


def test_the_fourth_request_in_a_second_is_429(api: TestClient, limited: Container) -> None:
    ada = connect(limited)
    for remaining in (2, 1, 0):
        response = api.get("/v1/userinfo", headers=ada.auth)
        assert response.status_code == 200
        assert headers_of(response) == {
            "ratelimit-limit": "3",
            "ratelimit-remaining": str(remaining),
            "ratelimit-reset": "1",
        }
    assert_429(api.get("/v1/userinfo", headers=ada.auth), retry_after=1, limit=3)
    assert_429(api.post("/v1/profiles/pro_x/revoke", headers=ada.auth), retry_after=1, limit=3)


def test_the_next_second_is_allowed_again(api: TestClient, limited: Container, frozen: FrozenTime) -> None:
    ada = connect(limited)
    for _ in range(4):
        api.get("/v1/profiles", headers=ada.auth)
    frozen.advance(0.5)  # 0.75 s into the same second
    assert api.get("/v1/profiles", headers=ada.auth).status_code == 429
    frozen.advance(0.25)
    response = api.get("/v1/profiles", headers=ada.auth)
    assert response.status_code == 200
    assert response.headers["ratelimit-remaining"] == "2"


def test_the_minute_limit_holds_across_seconds(api: TestClient, limited: Container, frozen: FrozenTime) -> None:
    ada = connect(limited)
    allowed = 0
    for _ in range(6):  # 12 requests over 6 seconds: 2 a second, under the per-second limit
        for _ in range(2):
            allowed += api.get("/v1/profiles", headers=ada.auth).status_code == 200
        frozen.advance(1)
    assert allowed == 10
    # START + 6 s is 46.25 s into the minute, so 13.75 s are left.
    assert_429(api.get("/v1/profiles", headers=ada.auth), retry_after=14, limit=10)
    frozen.advance(14)
    assert api.get("/v1/profiles", headers=ada.auth).status_code == 200


def test_another_application_is_unaffected(api: TestClient, limited: Container) -> None:
    ada = connect(limited, "ada@example.com")
    bob = connect(limited, "bob@example.com")  # on an application of his own
    for _ in range(4):
        api.get("/v1/userinfo", headers=ada.auth)
    assert api.get("/v1/userinfo", headers=ada.auth).status_code == 429
    response = api.get("/v1/userinfo", headers=bob.auth)
    assert response.status_code == 200
    assert response.headers["ratelimit-remaining"] == "2"


def test_every_credential_of_one_application_draws_on_its_limit(api: TestClient, limited: Container) -> None:
    ada = connect(limited, "ada@example.com")
    bea = second_account(limited, ada.app, "bea@example.com")
    key = {"Authorization": f"Bearer {ada.app.client_secret}"}
    assert api.get("/v1/userinfo", headers=ada.auth).status_code == 200
    assert api.get("/v1/userinfo", headers=bea.auth).status_code == 200
    assert api.get("/v1/_probe/whoami", headers=key).status_code == 200
    assert_429(api.get("/v1/_probe/whoami", headers=key), retry_after=1, limit=3)
    assert_429(api.get("/v1/account", headers=bea.auth), retry_after=1, limit=3)


def test_refused_credentials_do_not_draw_on_anyones_limit(api: TestClient, limited: Container) -> None:
    ada = connect(limited)
    for header in ("Bearer nonsense", "Bearer undefined", f"Bearer {ada.tokens.refresh_token}"):
        for _ in range(4):
            response = api.get("/v1/userinfo", headers={"Authorization": header})
            assert response.status_code == 401
            assert "ratelimit-limit" not in response.headers
    assert api.get("/v1/userinfo", headers=ada.auth).headers["ratelimit-remaining"] == "2"


def test_oauth_and_health_endpoints_are_not_limited(api: TestClient, limited: Container) -> None:
    ada = connect(limited)
    client = {"client_id": ada.app.application.client_id, "client_secret": ada.app.client_secret}
    for _ in range(5):
        refreshed = api.post(
            "/oauth/token", json={"grant_type": "refresh_token", "refresh_token": ada.tokens.refresh_token, **client}
        )
        assert refreshed.status_code == 200
        assert api.get("/healthz").status_code == 200
    assert api.get("/v1/userinfo", headers=ada.auth).headers["ratelimit-remaining"] == "2"


# --- scale-out -------------------------------------------------------------------------------------------------


@pytest.fixture
def two_processes(
    tmp_path: Path, deployment: Deployment, build: Build, frozen: FrozenTime
) -> Iterator[tuple[TestClient, TestClient]]:
    """Two separately built containers and apps on the same settings, as two API processes would be."""
    settings = limited_settings(tmp_path, deployment)
    first, second = build(settings, frozen), build(settings, frozen)
    with TestClient(create_app(first)) as a, TestClient(create_app(second)) as b:
        yield a, b


def test_processes_sharing_redis_count_together_and_others_count_alone(
    two_processes: tuple[TestClient, TestClient], deployment: Deployment, limited: Container
) -> None:
    a, b = two_processes
    ada = connect(limited)  # same database, so both processes know her token
    statuses = [client.get("/v1/userinfo", headers=ada.auth).status_code for client in (a, b, a, b)]
    if deployment.redis_url:
        assert statuses == [200, 200, 200, 429]
    else:  # embedded: one process, and each process keeps its own counts
        assert statuses == [200, 200, 200, 200]


def test_bootstraps_redis_limiters_share_one_count(tmp_path: Path, deployment: Deployment, build: Build) -> None:
    """Without a frozen clock: requests through two bootstrap-built processes land on the same counters."""
    settings = limited_settings(tmp_path, deployment, per_second=1000, per_minute=1000)
    first, second = build(settings, None), build(settings, None)
    ada = connect(first)
    with TestClient(create_app(first)) as a, TestClient(create_app(second)) as b:
        for client in (a, b, b):
            assert client.get("/v1/userinfo", headers=ada.auth).status_code == 200
    application_id = first.oauth.authenticate(ada.tokens.access_token).application_id
    if deployment.redis_url:
        store = redis.Redis.from_url(deployment.redis_url)
        # The minute counters (the second ones may already have expired); a boundary may split them in two.
        keys = store.keys(f"horae:rl:app:{application_id}:60:*")
        assert sum(int(store.get(key) or 0) for key in keys) == 3
    else:
        assert first.rate_limiter is not second.rate_limiter
        # The second process saw two of the three requests; its next one is its third in any minute.
        decision = second.rate_limiter.hit(f"app:{application_id}")
        assert decision.limit == 1000
        assert decision.remaining >= 997  # 996 would mean it had counted the first process's request too
