"""The guard of tests/integration/conftest.py: a test starts with empty shared queues, and what
it leaves there is purged and reported."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pika
import pytest

from pantau_contracts.routing import ACCEPTED_EXCHANGE, TRACKING_QUEUE
from pantau_platform.amqp import ConfirmingPublisher, Outgoing
from tests.integration import conftest as guard
from tests.integration.tracking.helpers import department_event

pytestmark = pytest.mark.integration


def ready(amqp_url: str, queue: str) -> int:
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        return int(connection.channel().queue_declare(queue, passive=True).method.message_count)
    finally:
        connection.close()


def leave_in_tracking_accepted(amqp_url: str, count: int) -> None:
    publisher = ConfirmingPublisher(amqp_url)
    try:
        for _ in range(count):
            publisher.publish(Outgoing(
                exchange=ACCEPTED_EXCHANGE, routing_key="kota-bandung.dpmptsp.case.submitted",
                body=department_event("case.submitted", f"LEFT-{uuid.uuid4().hex[:8].upper()}",
                                      time=datetime.now(UTC))))
    finally:
        publisher.close()


def test_a_test_starts_with_empty_shared_queues(amqp_url: str) -> None:
    names = guard.shared_queue_names(amqp_url)
    assert {"tracking.accepted", "publishing.cases", "intake.ingress",
            "pantau.dead-letter"} <= set(names)
    assert all(ready(amqp_url, name) == 0 for name in names)


def test_sweep_purges_and_counts_leftovers(amqp_url: str) -> None:
    leave_in_tracking_accepted(amqp_url, 3)
    assert ready(amqp_url, TRACKING_QUEUE) == 3
    assert guard.sweep(amqp_url) == {TRACKING_QUEUE: 3}
    assert ready(amqp_url, TRACKING_QUEUE) == 0
    assert guard.sweep(amqp_url) == {}


def test_what_a_test_leaves_is_reported_under_its_name(amqp_url: str,
                                                       request: pytest.FixtureRequest) -> None:
    before = len(guard.LEFTOVERS)
    leave_in_tracking_accepted(amqp_url, 2)
    guard._report("left by", request.node.nodeid, guard.sweep(amqp_url))
    assert guard.LEFTOVERS[before:] == [
        f"left by {request.node.nodeid}: 2 in {TRACKING_QUEUE} (purged)"]
    guard.LEFTOVERS[before:] = []  # a demonstration, not a leftover of the run
