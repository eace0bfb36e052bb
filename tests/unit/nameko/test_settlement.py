"""The settlement rules and options of ``batch_consume``, without a broker."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pantau_nameko.delivery import Delivery, as_bytes, delivery_count
from pantau_nameko.failures import DependencyUnavailable
from pantau_nameko.settlement import (
    FAIL,
    HOLD,
    RETRY,
    BatchOptions,
    RetryPolicy,
    backoff,
    classify,
    plan_failure,
    plan_success,
)

DEFAULTS = {"queue": "tracking.accepted", "max_size": 500, "max_wait_ms": 50, "prefetch": 1000}


def test_options_default_to_the_decorator_without_a_prefix() -> None:
    options = BatchOptions.from_config({"X_BATCH_SIZE": "3"}, None, **DEFAULTS)
    assert options == BatchOptions("tracking.accepted", 500, 0.05, 1000, 5)


def test_options_are_overridden_by_prefixed_config() -> None:
    config = {"T_QUEUE": "test.q", "T_BATCH_SIZE": "20", "T_BATCH_WAIT_MS": "100",
              "T_PREFETCH": 40, "T_DELIVERY_LIMIT": "2", "OTHER_BATCH_SIZE": "9"}
    assert BatchOptions.from_config(config, "T", **DEFAULTS) == BatchOptions(
        "test.q", 20, 0.1, 40, 2)


def test_prefetch_is_at_least_one_batch_and_size_at_least_one() -> None:
    assert BatchOptions.from_config({"T_BATCH_SIZE": 50, "T_PREFETCH": 10}, "T",
                                    **DEFAULTS).prefetch == 50
    with pytest.raises(ValueError, match="T_BATCH_SIZE"):
        BatchOptions.from_config({"T_BATCH_SIZE": 0}, "T", **DEFAULTS)


def test_unknown_retries_default_to_three_and_come_from_config() -> None:
    assert BatchOptions.from_config({}, "T", **DEFAULTS).unknown_retries == 3
    assert BatchOptions.from_config({"T_UNKNOWN_RETRIES": "0"}, "T",
                                    **DEFAULTS).unknown_retries == 0
    with pytest.raises(ValueError, match="T_UNKNOWN_RETRIES"):
        BatchOptions.from_config({"T_UNKNOWN_RETRIES": -1}, "T", **DEFAULTS)


def test_success_dead_letters_the_poison_and_acks_everything() -> None:
    plan = plan_success(4, {2: {"reason": "x"}, 0: {"reason": "y"}})
    assert list(plan.dead_letter) == [0, 2]
    assert plan.ack == [0, 1, 2, 3] and plan.requeue == []
    assert plan_success(2, None).dead_letter == {}


@pytest.mark.parametrize("poison", [{5: "out of range"}, {-1: "negative"}, {"0": "not an int"}])
def test_success_with_a_wrong_index_is_a_broken_method(poison: dict[object, str]) -> None:
    with pytest.raises(ValueError, match="not positions"):
        plan_success(3, poison)  # type: ignore[arg-type]


def test_failure_requeues_until_the_delivery_limit_then_dead_letters_with_reason() -> None:
    plan = plan_failure([0, 4, 5, 7], "OperationalError: database is down", 5)
    assert plan.requeue == [0, 1]
    assert plan.ack == [2, 3]
    assert plan.dead_letter[2] == {"reason": "handler-failed",
                                   "detail": "OperationalError: database is down",
                                   "deliveries": 6}


@given(st.lists(st.integers(min_value=0, max_value=20), max_size=50),
       st.integers(min_value=0, max_value=10))
def test_failure_settles_every_message_exactly_once(counts: list[int], limit: int) -> None:
    plan = plan_failure(counts, "boom", limit)
    assert sorted(plan.requeue + plan.ack) == list(range(len(counts)))
    assert sorted(plan.dead_letter) == plan.ack  # nothing is acked unless dead-lettered
    assert all(counts[i] >= limit for i in plan.ack)


def test_backoff_doubles_up_to_a_cap() -> None:
    assert [backoff(n) for n in range(6)] == [0.0, 0.5, 1.0, 2.0, 4.0, 5.0]


def test_delivery_count_reads_the_quorum_header() -> None:
    assert Delivery(b"{}").delivery_count == 0
    assert Delivery(b"{}", headers={"x-delivery-count": 3}).delivery_count == 3
    assert delivery_count({"x-delivery-count": "junk"}) == 0
    assert delivery_count(None) == 0


def test_bodies_are_always_bytes() -> None:
    assert as_bytes(b"a") == b"a"
    assert as_bytes(bytearray(b"b")) == b"b"
    assert as_bytes("ç") == "ç".encode()


def test_classify() -> None:
    assert classify(DependencyUnavailable("database")) == "dependency"
    assert classify(RuntimeError("boom")) == "unknown"
    assert classify(None) == "unknown"


def test_a_dependency_outage_always_holds() -> None:
    policy = RetryPolicy(unknown_retries=0)
    assert [policy.decide("dependency", n) for n in (0, 1, 5, 1000)] == [HOLD] * 4


def test_unknown_failures_retry_up_to_the_bound_then_fail() -> None:
    assert [RetryPolicy(3).decide("unknown", n) for n in (1, 2, 3, 4, 5)] == [
        RETRY, RETRY, RETRY, FAIL, FAIL]
    assert RetryPolicy(0).decide("unknown", 1) == FAIL


@given(st.integers(min_value=0, max_value=5))
def test_an_unknown_failure_runs_the_method_at_most_retries_plus_one_times(retries: int) -> None:
    policy = RetryPolicy(retries)
    runs = 1
    while policy.decide("unknown", runs) == RETRY:
        runs += 1
    assert runs == retries + 1


def test_jittered_delay_doubles_from_half_a_second_up_to_15() -> None:
    policy = RetryPolicy()
    assert [policy.ceiling(n) for n in range(8)] == [0.0, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 15.0]
    assert policy.ceiling(10_000) == 15.0
    assert policy.delay(3, rand=lambda: 0.0) == 0.0
    assert policy.delay(3, rand=lambda: 0.5) == 1.0
    assert policy.delay(9, rand=lambda: 1.0) == 15.0


@given(st.integers(min_value=-3, max_value=200))
def test_jittered_delay_stays_within_bounds(attempt: int) -> None:
    delay = RetryPolicy().delay(attempt)
    assert 0.0 <= delay <= 15.0
