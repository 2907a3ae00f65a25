"""Fixed-window arithmetic of the rate limiters, on an injected clock (no sleeping).

Both limiters run the same scenarios: in memory always, and in Redis when the test deployments include
the scaled-out one (which brings Redis).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator

import pytest
import redis

from horae.adapters.ratelimit import MemoryRateLimiter, RedisRateLimiter
from horae.ports import RateDecision, RateLimiter
from tests.conftest import BACKENDS

MINUTE_START = 60 * 16_666  # a whole minute, so offsets below read as seconds into it

Factory = Callable[[int, int], RateLimiter]


class Now:
    def __init__(self, at: float) -> None:
        self.at = at

    def __call__(self) -> float:
        return self.at


@pytest.fixture
def now() -> Now:
    return Now(MINUTE_START + 10.25)


@pytest.fixture(params=["memory", "redis"])
def make(request: pytest.FixtureRequest, now: Now) -> Iterator[Factory]:
    """Builds limiters of one kind on the shared clock; Redis ones share one server."""
    if request.param == "memory":
        yield lambda per_second, per_minute: MemoryRateLimiter(per_second, per_minute, now=now)
        return
    if "postgres" not in BACKENDS:
        pytest.skip("Redis comes with the postgres deployment (HORAE_TEST_BACKENDS)")
    client = redis.Redis.from_url(request.getfixturevalue("redis_url"))
    yield lambda per_second, per_minute: RedisRateLimiter(client, per_second, per_minute, now=now)
    client.close()


@pytest.fixture
def key() -> str:
    return f"app:test_{uuid.uuid4().hex}"


def hits(limiter: RateLimiter, key: str, count: int) -> list[RateDecision]:
    return [limiter.hit(key) for _ in range(count)]


def test_requests_up_to_the_per_second_limit_are_allowed(make: Factory, key: str) -> None:
    limiter = make(3, 100)
    assert hits(limiter, key, 3) == [
        RateDecision(allowed=True, limit=3, remaining=2, reset_seconds=1),
        RateDecision(allowed=True, limit=3, remaining=1, reset_seconds=1),
        RateDecision(allowed=True, limit=3, remaining=0, reset_seconds=1),
    ]
    assert limiter.hit(key) == RateDecision(allowed=False, limit=3, remaining=0, reset_seconds=1)
    assert limiter.hit(key).allowed is False


def test_a_new_second_opens_a_new_window(make: Factory, key: str, now: Now) -> None:
    limiter = make(3, 100)
    hits(limiter, key, 4)
    now.at += 0.5  # 10.75: same second
    assert limiter.hit(key).allowed is False
    now.at += 0.25  # 11.0: the next second begins
    assert limiter.hit(key) == RateDecision(allowed=True, limit=3, remaining=2, reset_seconds=1)


def test_the_per_minute_window_spans_seconds(make: Factory, key: str, now: Now) -> None:
    limiter = make(100, 5)
    for _ in range(5):
        assert limiter.hit(key).allowed
        now.at += 1
    # 15.25 s into the minute: 44.75 s left, rounded up.
    assert limiter.hit(key) == RateDecision(allowed=False, limit=5, remaining=0, reset_seconds=45)
    now.at = MINUTE_START + 59.5
    assert limiter.hit(key).reset_seconds == 1
    now.at = MINUTE_START + 60
    assert limiter.hit(key) == RateDecision(allowed=True, limit=5, remaining=4, reset_seconds=60)


def test_the_window_closest_to_running_out_is_reported(make: Factory, key: str) -> None:
    limiter = make(10, 12)
    # Per second 10 - 1 = 9 left, per minute 12 - 1 = 11 left: the second speaks.
    assert limiter.hit(key) == RateDecision(allowed=True, limit=10, remaining=9, reset_seconds=1)
    hits(limiter, key, 2)
    # After 4: 6 left in the second, 8 in the minute.
    assert limiter.hit(key).limit == 10


def test_when_both_windows_are_exceeded_the_later_reset_decides(make: Factory, key: str) -> None:
    limiter = make(2, 2)
    hits(limiter, key, 2)
    assert limiter.hit(key) == RateDecision(allowed=False, limit=2, remaining=0, reset_seconds=50)


def test_reset_is_never_zero(make: Factory, key: str, now: Now) -> None:
    now.at = MINUTE_START + 10.999
    assert make(3, 100).hit(key).reset_seconds == 1
    now.at = MINUTE_START + 11.0
    assert make(3, 100).hit(key + "x").reset_seconds == 1


def test_keys_are_counted_apart(make: Factory, key: str) -> None:
    limiter = make(1, 100)
    assert limiter.hit(key).allowed
    assert not limiter.hit(key).allowed
    assert limiter.hit(key + ":other").allowed


def test_denied_requests_still_count(make: Factory, key: str, now: Now) -> None:
    limiter = make(1, 3)
    hits(limiter, key, 3)  # one allowed, two denied by the second
    now.at += 1
    assert limiter.hit(key) == RateDecision(allowed=False, limit=3, remaining=0, reset_seconds=49)


def test_redis_limiters_on_one_server_share_counts_and_memory_ones_do_not(
    make: Factory, key: str, request: pytest.FixtureRequest
) -> None:
    first, second = make(2, 100), make(2, 100)
    assert first.hit(key).allowed
    assert second.hit(key).allowed
    shared = request.node.callspec.params["make"] == "redis"
    assert second.hit(key).allowed is not shared
    assert first.hit(key).allowed is not shared


def test_redis_counters_expire_after_their_window(key: str, now: Now, request: pytest.FixtureRequest) -> None:
    if "postgres" not in BACKENDS:
        pytest.skip("Redis comes with the postgres deployment (HORAE_TEST_BACKENDS)")
    client = redis.Redis.from_url(request.getfixturevalue("redis_url"))
    second, minute = f"horae:rl:{key}:1:{int(now.at // 1)}", f"horae:rl:{key}:60:{int(now.at // 60)}"
    RedisRateLimiter(client, 3, 100, now=now).hit(key)
    ttls = client.pipeline().ttl(second).ttl(minute).execute()
    assert 0 < ttls[0] <= 2 and 2 < ttls[1] <= 61
    assert sorted(n.decode() for n in client.keys(f"horae:rl:{key}:*")) in ([second, minute], [minute])
    client.delete(second, minute)
    client.close()


def test_memory_forgets_finished_windows(now: Now, key: str) -> None:
    limiter = MemoryRateLimiter(3, 100, now=now)
    for _ in range(200):
        limiter.hit(key)
        now.at += 1
    assert len(limiter._counts) == 2  # this second's and this minute's buckets only


def test_memory_counts_exactly_under_concurrency(now: Now, key: str) -> None:
    limiter = MemoryRateLimiter(1_000, 1_000, now=now)

    def burst() -> None:
        for _ in range(50):
            limiter.hit(key)

    threads = [threading.Thread(target=burst) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert limiter.hit(key).remaining == 1_000 - 401
