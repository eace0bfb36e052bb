"""Per-department token buckets.

Each department has a bucket of ``burst`` tokens refilled at ``rate`` tokens per second; one
event costs one token (a batch costs as many tokens as it has events, capped at ``burst`` so a
full batch can always eventually pass). ``take`` answers 0.0 when allowed, otherwise the
seconds to wait — the HTTP layer turns that into 429 + ``Retry-After``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass


@dataclass
class TokenBucket:
    rate: float
    burst: float
    tokens: float
    updated: float

    def take(self, cost: float, now: float) -> float:
        """Take ``cost`` tokens if available (returns 0.0) or return the seconds to wait."""
        elapsed = max(0.0, now - self.updated)
        self.tokens = min(self.burst, self.tokens + elapsed * self.rate)
        self.updated = now
        if self.tokens >= cost:
            self.tokens -= cost
            return 0.0
        if self.rate <= 0:
            return float("inf")
        return (cost - self.tokens) / self.rate


class RateLimiter:
    """Thread-safe token buckets, one per key (a department). ``rate <= 0`` disables limiting."""

    def __init__(self, rate: float, burst: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._rate = rate
        self._burst = max(1.0, burst)
        self._clock = clock
        self._buckets: dict[Hashable, TokenBucket] = {}
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self._rate > 0

    def take(self, key: Hashable, cost: int = 1) -> float:
        if not self.enabled:
            return 0.0
        now = self._clock()
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = TokenBucket(self._rate, self._burst, self._burst,
                                                          now)
            return bucket.take(min(float(cost), self._burst), now)
