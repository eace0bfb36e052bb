"""Per-department ceilings and fair shares of the capacity (fake clock; hypothesis for
fairness: a department sending within its fair share is never refused)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from pantau_intake.domain.rate_limit import DepartmentRate, RateLimiter, effective_rate
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


def test_a_department_setting_replaces_the_defaults() -> None:
    clock = Clock(0.0)
    settings_ = {"backfill": DepartmentRate(rate=1000, burst=2000)}
    limiter = RateLimiter(rate=1.0, burst=1, clock=clock, limits=settings_.get)
    assert all(limiter.take("backfill", 500) == 0.0 for _ in range(4))
    assert limiter.take("backfill", 500) == 0.5
    assert limiter.take("other") == 0.0
    assert limiter.take("other") == 1.0


def test_a_changed_setting_applies_to_the_running_bucket() -> None:
    clock = Clock(0.0)
    table: dict[str, DepartmentRate] = {}
    limiter = RateLimiter(rate=1.0, burst=1, clock=clock, limits=table.get)
    assert limiter.take("d") == 0.0
    assert limiter.take("d") == 1.0
    table["d"] = DepartmentRate(rate=100, burst=100)
    clock.now += 0.01
    assert 0.0 < limiter.take("d") < 0.01  # refilled at the new rate from now on
    clock.now += 0.01
    assert limiter.take("d") == 0.0


def test_a_raise_ends_at_its_until() -> None:
    now = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
    default = DepartmentRate(50, 500)
    raised = DepartmentRate(2500, 5000, until=now + timedelta(hours=6))
    assert effective_rate(raised, default, now) is raised
    assert effective_rate(raised, default, now + timedelta(hours=6)) is default
    assert effective_rate(None, default, now) is default


def test_over_its_share_a_department_uses_spare_capacity() -> None:
    clock = Clock(0.0)
    table = {"a": DepartmentRate(rate=10_000, burst=10_000)}
    limiter = RateLimiter(rate=50, burst=100, clock=clock, capacity=1000, capacity_burst=1000,
                          limits=table.get)
    # alone, "a" has the whole capacity as its share, then the spare pool
    assert limiter.take("a", 1000) == 0.0
    assert limiter.take("a", 500) > 0  # capacity exhausted: 429
    clock.now += 1.0
    assert limiter.take("b", 1) == 0.0  # "b" arrives: half of the capacity is its share
    assert limiter.fair_share("a") == (500.0, 500.0)
    assert limiter.fair_share("b") == (50.0, 100.0)  # never more than its ceiling


def test_a_newcomer_is_served_while_a_backfill_drains_the_capacity() -> None:
    clock = Clock(0.0)
    table = {"backfill": DepartmentRate(rate=10_000, burst=10_000)}
    limiter = RateLimiter(rate=50, burst=100, clock=clock, capacity=1000, capacity_burst=500,
                          limits=table.get)
    refused_other = 0
    for step in range(1, 2001):  # 2 s in 1 ms steps: the backfill asks for 20 events per ms
        clock.now = step / 1000
        limiter.take("backfill", 20)
        if step % 50 == 0:  # the other department: 20 requests/s, far below its share
            refused_other += limiter.take("other") > 0
    assert refused_other == 0


def test_the_retry_after_is_the_sooner_of_share_and_spare() -> None:
    clock = Clock(0.0)
    limiter = RateLimiter(rate=0, burst=1, clock=clock, capacity=100, capacity_burst=100)
    assert limiter.take("a", 100) == 0.0
    assert limiter.take("a", 10) == 0.1  # 10 tokens at 100/s


REQUEST = st.tuples(st.floats(0.0, 0.5), st.sampled_from("ab"), st.integers(1, 40))


@settings(max_examples=300, deadline=None)
@given(requests=st.lists(REQUEST, max_size=150), weight_a=st.floats(0.2, 5.0),
       weight_b=st.floats(0.2, 5.0), capacity=st.floats(20.0, 500.0))
def test_a_department_within_its_fair_share_is_never_refused(
        requests: list[tuple[float, str, int]], weight_a: float, weight_b: float,
        capacity: float) -> None:
    """Department "a" sends only what a bucket at its two-department share allows (its share
    is never less than that); "b" sends anything. "a" is never refused."""
    clock = Clock(0.0)
    table = {"a": DepartmentRate(0, 1, weight=weight_a), "b": DepartmentRate(0, 1, weight_b)}
    limiter = RateLimiter(rate=0, burst=1, clock=clock, capacity=capacity,
                          capacity_burst=2 * capacity, limits=table.get)
    fraction = weight_a / (weight_a + weight_b)
    rate, burst = capacity * fraction, max(1.0, 2 * capacity * fraction)
    tokens, last = burst, 0.0
    for delay, department, cost in requests:
        clock.now += delay
        if department == "b":
            limiter.take("b", cost)
            continue
        tokens = min(burst, tokens + (clock.now - last) * rate)
        last = clock.now
        cost = min(cost, int(burst))
        if tokens < cost:
            continue  # "a" would exceed its share: it does not send this one
        tokens -= cost
        assert limiter.take("a", cost) == 0.0
