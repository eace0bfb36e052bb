"""``batch_consume`` on several queues (``X_EXTRA_QUEUES``), as intake's ingress reads one queue
per department: every queue is consumed, each in its own order, also across a failed batch;
an extra queue that does not exist is skipped, not fatal."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import WorkQueues, wait_for, work_queues
from tests.integration.nameko.test_batching import DELIVERY_LIMIT, Harness, publish, queues, ready

__all__ = ["queues"]  # the fixture: a private work queue and its dead queue


@pytest.fixture
def second(amqp_url: str) -> Iterator[WorkQueues]:
    with work_queues(amqp_url, "btest2", delivery_limit=DELIVERY_LIMIT) as names:
        yield names


@pytest.mark.timeout(90)
def test_each_queue_is_consumed_in_its_own_order(
        amqp_url: str, queues: WorkQueues, second: WorkQueues, tmp_path: Path,
        start_service: Callable[..., Any]) -> None:
    harness = Harness(amqp_url, queues, tmp_path, start_service)
    first_ids = [f"a{i}" for i in range(20)]
    second_ids = [f"b{i}" for i in range(20)]
    # one message of the second queue fails twice: its queue's later messages must not pass it
    publish(amqp_url, queues.work, [{"id": i} for i in first_ids])
    publish(amqp_url, second.work, [{"id": i, "flake": 2 if i == "b3" else 0}
                                    for i in second_ids])
    service = harness.start(size=3, wait_ms=50,
                            BATCHTEST_EXTRA_QUEUES=f"{second.work},btest.missing.queue")
    handled = lambda: [i for batch in harness.done() for i in batch]  # noqa: E731
    wait_for(lambda: len(set(handled())) == 40, timeout=60,
             message="both queues drained\n" + service.log()[-3000:])
    order = list(dict.fromkeys(handled()))  # first time each id was applied
    assert [i for i in order if i.startswith("a")] == first_ids
    assert [i for i in order if i.startswith("b")] == second_ids
    assert "btest.missing.queue does not exist" in service.log()
    assert f"consuming {queues.work}, {second.work} in batches" in service.log()
    wait_for(lambda: ready(amqp_url, queues.work) + ready(amqp_url, second.work) == 0,
             timeout=10, message="both queues acked")
