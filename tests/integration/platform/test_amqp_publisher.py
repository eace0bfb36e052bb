"""``pantau_platform.amqp.ConfirmingPublisher`` on the real broker: the batch path sends a list
and waits once for every confirm; an unroutable message fails the call unless its exchange is
optional; every message carries the login as ``user_id``."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from kombu import Connection, Exchange, Queue

from pantau_contracts.routing import CASES_EXCHANGE, FEEDBACK_EXCHANGE
from pantau_platform.amqp import ConfirmingPublisher, Outgoing, PublishError

pytestmark = pytest.mark.integration


@pytest.fixture
def bound_queue(amqp_url: str) -> Iterator[tuple[Queue, str]]:
    """An exclusive queue bound to the cases exchange under a routing key of its own."""
    key = f"case.updated.test-{uuid.uuid4().hex[:8]}"
    with Connection(amqp_url) as connection:
        queue = Queue(f"test-publisher-{uuid.uuid4().hex[:8]}", exclusive=True, auto_delete=True,
                      channel=connection.channel())
        queue.declare()
        queue.bind_to(Exchange(CASES_EXCHANGE, passive=True), routing_key=key)
        yield queue, key


def drain(queue: Queue) -> list[Any]:
    messages: list[Any] = []
    while (message := queue.get(no_ack=True)) is not None:
        messages.append(message)
    return messages


def test_a_batch_is_confirmed_in_order_with_the_login_as_user_id(
        amqp_url: str, bound_queue: tuple[Queue, str]) -> None:
    queue, key = bound_queue
    publisher = ConfirmingPublisher(amqp_url, pool_size=1)
    try:
        publisher.publish_many([Outgoing(CASES_EXCHANGE, key, f"m{i}".encode(), message_id=f"{i}")
                                for i in range(300)])
        publisher.publish(Outgoing(CASES_EXCHANGE, key, b"one more", message_id="300"))
    finally:
        publisher.close()
    messages = drain(queue)
    assert [m.properties["message_id"] for m in messages] == [str(i) for i in range(301)]
    login = amqp_url.split("//", 1)[1].split(":", 1)[0]
    assert {m.properties.get("user_id") for m in messages} == {login}
    assert messages[0].properties["delivery_mode"] == 2


def test_a_batch_larger_than_the_write_buffer_arrives_whole_and_in_order(
        amqp_url: str, bound_queue: tuple[Queue, str]) -> None:
    """The frames of a batch are sent in coalesced writes (``coalesced_writes``, flushed every
    256 KiB): 2,000 messages of varied sizes, one of them larger than a frame, arrive intact."""
    queue, key = bound_queue
    bodies = [bytes([65 + i % 26]) * (1 + (i * 37) % 1500) for i in range(2_000)]
    bodies[1_000] = b"x" * 300_000  # split over several body frames (the frame max is 128 KiB)
    publisher = ConfirmingPublisher(amqp_url, pool_size=1)
    try:
        publisher.publish_many([Outgoing(CASES_EXCHANGE, key, body, message_id=str(i))
                                for i, body in enumerate(bodies)])
        publisher.publish(Outgoing(CASES_EXCHANGE, key, b"after", message_id="after"))
    finally:
        publisher.close()
    messages = drain(queue)
    received = [m.body if isinstance(m.body, bytes) else m.body.encode() for m in messages]
    assert received == [*bodies, b"after"]


def test_an_unroutable_message_fails_the_batch_and_the_channel_is_not_reused(
        amqp_url: str, bound_queue: tuple[Queue, str]) -> None:
    queue, key = bound_queue
    publisher = ConfirmingPublisher(amqp_url, pool_size=1)
    try:
        with pytest.raises(PublishError, match="unroutable"):
            publisher.publish_many([Outgoing(CASES_EXCHANGE, key, b"a", message_id="a"),
                                    Outgoing(CASES_EXCHANGE, "no.such.binding", b"b")])
        # a fresh channel works
        publisher.publish(Outgoing(CASES_EXCHANGE, key, b"after", message_id="after"))
    finally:
        publisher.close()
    assert [m.properties["message_id"] for m in drain(queue)] == ["a", "after"]


def test_an_optional_exchange_may_route_nowhere(amqp_url: str) -> None:
    publisher = ConfirmingPublisher(amqp_url, pool_size=1,
                                    optional_exchanges=frozenset({FEEDBACK_EXCHANGE}))
    try:
        publisher.publish_many([Outgoing(FEEDBACK_EXCHANGE, "no-such.department", b"x")])
    finally:
        publisher.close()


def test_an_unknown_exchange_is_a_publish_error(amqp_url: str) -> None:
    publisher = ConfirmingPublisher(amqp_url, pool_size=1)
    try:
        with pytest.raises(PublishError):
            publisher.publish(Outgoing(f"pantau.no-such-{uuid.uuid4().hex[:6]}", "k", b"x"))
    finally:
        publisher.close()
