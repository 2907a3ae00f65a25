"""Fixed-window rate limits per key: in memory for one process, in Redis when processes share them."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

import redis

from horae.ports import RateDecision


class _Windows:
    """The per-second and per-minute windows and how to combine their counts into one decision."""

    def __init__(self, per_second: int, per_minute: int, now: Callable[[], float]) -> None:
        self.limits = ((1, per_second), (60, per_minute))
        self.now = now

    def buckets(self) -> list[tuple[int, int, int, float]]:
        """(window seconds, limit, bucket number, seconds until the bucket ends) for each window."""
        moment = self.now()
        return [(size, limit, int(moment // size), size - (moment % size)) for size, limit in self.limits]

    @staticmethod
    def decide(results: list[tuple[int, int, float]]) -> RateDecision:
        """Combine (count, limit, seconds left) per window: the tightest window speaks."""
        over = [r for r in results if r[0] > r[1]]
        allowed = not over
        if over:  # the exceeded window that frees up last decides when to come back
            count, limit, left = max(over, key=lambda r: r[2])
        else:  # otherwise report the window closest to running out
            count, limit, left = min(results, key=lambda r: r[1] - r[0])
        return RateDecision(
            allowed=allowed,
            limit=limit,
            remaining=max(limit - count, 0),
            reset_seconds=max(1, math.ceil(left)),
        )


class MemoryRateLimiter:
    """Counts in this process only: right for the embedded, single-process deployment."""

    def __init__(self, per_second: int, per_minute: int, now: Callable[[], float] = time.time) -> None:
        self._windows = _Windows(per_second, per_minute, now)
        self._counts: dict[tuple[str, int, int], int] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> RateDecision:
        results = []
        with self._lock:
            buckets = self._windows.buckets()
            live = {(key, size, number) for size, _, number, _ in buckets}
            # Forget finished buckets of this key so memory stays bounded.
            for stale in [k for k in self._counts if k[0] == key and k not in live]:
                del self._counts[stale]
            for size, limit, number, left in buckets:
                self._counts[(key, size, number)] = self._counts.get((key, size, number), 0) + 1
                results.append((self._counts[(key, size, number)], limit, left))
        return _Windows.decide(results)


class RedisRateLimiter:
    """Counts in Redis, so every API process of a scale-out deployment shares the same limits."""

    def __init__(
        self, client: redis.Redis, per_second: int, per_minute: int, now: Callable[[], float] = time.time
    ) -> None:
        self._redis = client
        self._windows = _Windows(per_second, per_minute, now)

    def hit(self, key: str) -> RateDecision:
        buckets = self._windows.buckets()
        pipe = self._redis.pipeline()
        for size, _, number, _ in buckets:
            name = f"horae:rl:{key}:{size}:{number}"
            pipe.incr(name)
            pipe.expire(name, size + 1)
        replies = pipe.execute()
        counts = replies[::2]
        return _Windows.decide(
            [(int(count), limit, left) for count, (_, limit, _, left) in zip(counts, buckets, strict=True)]
        )
