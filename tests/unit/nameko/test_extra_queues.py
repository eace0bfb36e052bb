"""``batch_consume`` on several queues: which queues, from the decorator or the config."""

from __future__ import annotations

from pantau_nameko.settlement import BatchOptions


def options(config: dict[str, object], extra: tuple[str, ...] = ()) -> BatchOptions:
    return BatchOptions.from_config(config, "X", queue="q", max_size=1, max_wait_ms=20,
                                    prefetch=10, extra_queues=extra)


def test_one_queue_by_default() -> None:
    assert options({}).queues == ("q",)


def test_extra_queues_from_the_decorator_or_the_config_first_queue_first() -> None:
    assert options({}, ("a", "b")).queues == ("q", "a", "b")
    assert options({"X_EXTRA_QUEUES": ["c", "d"]}, ("a",)).queues == ("q", "c", "d")
    assert options({"X_EXTRA_QUEUES": "c, d,"}).queues == ("q", "c", "d")


def test_a_queue_named_twice_is_consumed_once() -> None:
    assert options({"X_EXTRA_QUEUES": "q,a,a"}).queues == ("q", "a")
