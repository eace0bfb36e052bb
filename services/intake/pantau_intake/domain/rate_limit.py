"""Per-department rate limits with fair sharing of one process's capacity.

Two kinds of token bucket (``burst`` tokens, refilled at ``rate`` per second; one event costs one
token, a batch as many as it has events, capped at the bucket's burst so a full batch can always
eventually pass):

* a department's **ceiling** — its own ``rate``/``burst`` (``DepartmentRate``): the operator's
  setting (``python -m pantau_intake.credentials rate set``), else the defaults
  (PANTAU_INTAKE_RATE_PER_SECOND / _BURST). ``rate <= 0`` means no ceiling. Over it: refused.
* the process's **capacity** (``capacity`` events/s, ``capacity_burst``), shared by the
  departments active in the last ``active_window`` seconds in proportion to their ``weight``:
  a department's **fair share** is ``capacity × weight / Σ active weights`` (and its burst the
  same fraction of ``capacity_burst``), never more than its ceiling.

Fairness rule of ``take``: a request within the department's ceiling and within its fair share
is always served (its cost is also charged to the capacity, which may go into debt); a request
over the fair share is served only from spare capacity — so a backfill uses whatever the
others leave, and is refused (429 + ``Retry-After``) only when the capacity is exhausted.
Hence a department sending at or below its fair share is never refused, whatever the others
send (``tests/unit/intake/test_rate_limit.py`` checks it with hypothesis). ``capacity <= 0``
turns the sharing off (ceilings only).

``take`` answers 0.0 when allowed, otherwise the seconds to wait. The limiter is per process:
with N replicas behind a balancer a department gets up to N times its ceiling.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import datetime

_EPSILON = 1e-9  # float refills: a request exactly at its share must not miss by a rounding


@dataclass(frozen=True)
class DepartmentRate:
    """A department's rate setting. ``until`` (aware UTC) ends a temporary raise (a backfill
    window): after it the defaults apply again."""

    rate: float
    burst: float
    weight: float = 1.0
    until: datetime | None = None

    def in_force(self, now: datetime) -> bool:
        return self.until is None or now < self.until


def effective_rate(setting: DepartmentRate | None, default: DepartmentRate,
                   now: datetime) -> DepartmentRate:
    """The setting while it is in force, else ``default``."""
    if setting is not None and setting.in_force(now):
        return setting
    return default


@dataclass
class TokenBucket:
    rate: float
    burst: float
    tokens: float
    updated: float

    def refill(self, now: float) -> None:
        elapsed = max(0.0, now - self.updated)
        self.tokens = min(self.burst, self.tokens + elapsed * self.rate)
        self.updated = now

    def retune(self, rate: float, burst: float, now: float) -> None:
        """Refill at the old rate up to ``now``, then use the new rate and burst."""
        self.refill(now)
        self.rate, self.burst = rate, burst
        self.tokens = min(self.tokens, burst)

    def has(self, cost: float) -> bool:
        return self.tokens + _EPSILON >= cost

    def wait_for(self, cost: float) -> float:
        """Seconds until ``cost`` tokens are there (0.0 if they are)."""
        if self.has(cost):
            return 0.0
        if self.rate <= 0:
            return float("inf")
        return (cost - self.tokens) / self.rate

    def take(self, cost: float, now: float) -> float:
        """Take ``cost`` tokens if available (returns 0.0) or return the seconds to wait."""
        self.refill(now)
        wait = self.wait_for(cost)
        if wait == 0.0:
            self.tokens -= cost
        return wait


@dataclass
class _Department:
    ceiling: TokenBucket
    share: TokenBucket
    weight: float
    seen: float


Limits = Callable[[Hashable], DepartmentRate | None]


class RateLimiter:
    """Thread-safe ceilings per department (a key) and fair shares of ``capacity``.

    ``limits(key)`` gives a department's own setting (None: the defaults ``rate``/``burst``); it
    is called outside the lock, so a cached database lookup never serialises requests.
    """

    def __init__(self, rate: float, burst: float,
                 clock: Callable[[], float] = time.monotonic, *,
                 capacity: float = 0.0, capacity_burst: float | None = None,
                 limits: Limits | None = None, active_window: float = 10.0) -> None:
        self.default = DepartmentRate(rate, max(1.0, burst))
        self._capacity = capacity
        self._capacity_burst = max(1.0, capacity_burst if capacity_burst is not None
                                   else 2 * capacity)
        self._limits = limits or (lambda _key: None)
        self._window = active_window
        self._clock = clock
        self._departments: dict[Hashable, _Department] = {}
        self._pool = TokenBucket(capacity, self._capacity_burst, self._capacity_burst, clock())
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.default.rate > 0 or self._capacity > 0

    def take(self, key: Hashable, cost: int = 1) -> float:
        """0.0 if ``key`` may send ``cost`` events now, else the seconds to wait."""
        setting = self._limits(key) or self.default
        if setting.rate <= 0 and self._capacity <= 0:
            return 0.0
        now = self._clock()
        with self._lock:
            state = self._department(key, setting, now)
            ceiling_cost = min(float(cost), state.ceiling.burst)
            if setting.rate > 0:
                state.ceiling.refill(now)
                if not state.ceiling.has(ceiling_cost):
                    return state.ceiling.wait_for(ceiling_cost)
            wait = self._share_or_spare(state, float(cost), now) if self._capacity > 0 else 0.0
            if wait == 0.0 and setting.rate > 0:
                state.ceiling.tokens -= ceiling_cost
            return wait

    def fair_share(self, key: Hashable) -> tuple[float, float]:
        """(rate, burst) of ``key``'s fair share now (for tests and ``rate show``)."""
        with self._lock:
            state = self._departments.get(key)
            return (state.share.rate, state.share.burst) if state else (0.0, 0.0)

    def _department(self, key: Hashable, setting: DepartmentRate, now: float) -> _Department:
        state = self._departments.get(key)
        if state is None:
            burst = max(1.0, setting.burst)
            state = self._departments[key] = _Department(
                TokenBucket(setting.rate, burst, burst, now),
                TokenBucket(0.0, 1.0, 0.0, now), setting.weight, now)
        elif (state.ceiling.rate, state.ceiling.burst) != (setting.rate, setting.burst):
            state.ceiling.retune(setting.rate, max(1.0, setting.burst), now)
        state.weight, state.seen = max(setting.weight, _EPSILON), now
        if self._capacity > 0:
            self._retune_shares(now, setting)
        return state

    def _retune_shares(self, now: float, setting: DepartmentRate) -> None:
        """Every active department's share of the capacity (weights of the active ones)."""
        active = {k: d for k, d in self._departments.items() if now - d.seen <= self._window}
        for key in [k for k in self._departments if k not in active]:
            del self._departments[key]  # idle: forgotten (its buckets would be full anyway)
        total = sum(d.weight for d in active.values())
        for state in active.values():
            fraction = state.weight / total
            rate = self._capacity * fraction
            burst = max(1.0, self._capacity_burst * fraction)
            if state.ceiling.rate > 0:  # a share is never more than the ceiling
                rate, burst = min(rate, state.ceiling.rate), min(burst, state.ceiling.burst)
            if (rate, burst) == (state.share.rate, state.share.burst):
                continue
            fresh = state.share.rate == 0.0  # newly active: its share starts full
            state.share.retune(rate, burst, now)
            if fresh:
                state.share.tokens = burst

    def _share_or_spare(self, state: _Department, cost: float, now: float) -> float:
        share, pool = state.share, self._pool
        share.refill(now)
        pool.refill(now)
        share_cost = min(cost, share.burst)
        if share.has(share_cost):  # within its fair share: always served
            share.tokens -= share_cost
            pool.tokens = max(-pool.burst, pool.tokens - cost)  # the others yield to it
            return 0.0
        pool_cost = min(cost, pool.burst)
        if pool.has(pool_cost):  # over its share, but capacity is spare
            pool.tokens -= pool_cost
            return 0.0
        return max(_EPSILON, min(share.wait_for(share_cost), pool.wait_for(pool_cost)))
