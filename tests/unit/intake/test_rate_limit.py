from __future__ import annotations

from pantau_intake.domain.rate_limit import RateLimiter
from tests.unit.intake.fakes import Clock


def test_burst_then_refill() -> None:
    clock = Clock(0.0)
    limiter = RateLimiter(rate=2.0, burst=3, clock=clock)
    assert [limiter.take("d") for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = limiter.take("d")
    assert wait == 0.5
    clock.now += 0.5
    assert limiter.take("d") == 0.0


def test_departments_have_separate_buckets() -> None:
    clock = Clock(0.0)
    limiter = RateLimiter(rate=1.0, burst=1, clock=clock)
    assert limiter.take("a") == 0.0
    assert limiter.take("a") > 0
    assert limiter.take("b") == 0.0


def test_batch_costs_its_size_capped_at_burst() -> None:
    clock = Clock(0.0)
    limiter = RateLimiter(rate=10.0, burst=5, clock=clock)
    assert limiter.take("d", 50) == 0.0  # capped: a big batch can pass on a full bucket
    assert limiter.take("d", 5) == 0.5


def test_zero_rate_disables_limiting() -> None:
    limiter = RateLimiter(rate=0, burst=1)
    assert not limiter.enabled
    assert all(limiter.take("d") == 0.0 for _ in range(100))
