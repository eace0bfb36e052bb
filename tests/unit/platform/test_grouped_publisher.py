"""``pantau_platform.amqp.GroupedPublisher``'s grouping logic, against a scripted fake broker.

The fake stream hands out delivery tags like a confirm-mode channel and, in ``wait``, plays what
the test told the broker to answer (ack, nack, return, a lost connection). The point under test:
whose future each confirm resolves — a caller is released only by its OWN messages' confirms,
a nack or a return fails exactly the callers it names, a lost connection or a timeout fails every
caller not yet confirmed (never a false success).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future

import pytest

from pantau_platform.amqp import ConfirmListener, GroupedPublisher, Outgoing, PublishError
from tests.conftest import wait_for

Action = Callable[[ConfirmListener], None]


class LostConnection(ConnectionError):
    pass


class FakeBroker:
    """Scripted answers for every stream it opens; ``sent`` lists (stream number, tag, item)."""

    def __init__(self) -> None:
        self.sent: list[tuple[int, int, Outgoing]] = []
        self.answers: queue.Queue[Action] = queue.Queue()
        self.streams = 0
        self.lock = threading.Lock()

    def open(self, listener: ConfirmListener) -> FakeStream:
        self.streams += 1
        return FakeStream(self, self.streams, listener)

    def ack(self, tag: int, multiple: bool = False) -> None:
        self.answers.put(lambda listener: listener.on_confirm(tag, multiple, True))

    def nack(self, tag: int) -> None:
        self.answers.put(lambda listener: listener.on_confirm(tag, False, False))

    def unroutable(self, item: Outgoing) -> None:
        self.answers.put(lambda listener: listener.on_return(
            item.exchange, item.routing_key, item.message_id, "NO_ROUTE"))

    def lose_connection(self) -> None:
        def lost(_listener: ConfirmListener) -> None:
            raise LostConnection("connection reset by peer")

        self.answers.put(lost)

    def tags_sent(self, stream: int | None = None) -> list[int]:
        with self.lock:
            return [tag for s, tag, _ in self.sent if stream is None or s == stream]


class FakeStream:
    def __init__(self, broker: FakeBroker, number: int, listener: ConfirmListener) -> None:
        self.broker, self.number, self.listener = broker, number, listener
        self.next_tag = 1

    def send(self, item: Outgoing, mandatory: bool) -> int:
        tag, self.next_tag = self.next_tag, self.next_tag + 1
        with self.broker.lock:
            self.broker.sent.append((self.number, tag, item))
        return tag

    def wait(self, timeout: float) -> None:
        try:
            answer = self.broker.answers.get(timeout=min(timeout, 0.05))
        except queue.Empty:
            return
        answer(self.listener)

    def close(self) -> None:
        pass


def item(name: str) -> Outgoing:
    return Outgoing(exchange="pantau.accepted", routing_key="kota-bandung.dpmptsp.x",
                    body=name.encode(), message_id=name)


@pytest.fixture
def broker() -> FakeBroker:
    return FakeBroker()


@pytest.fixture
def publisher(broker: FakeBroker) -> Iterator[GroupedPublisher]:
    grouped = GroupedPublisher(stream_factory=broker.open, confirm_timeout=5)
    yield grouped
    grouped.close()


def failed(future: Future[None]) -> str:
    error = future.exception(timeout=5)
    assert isinstance(error, PublishError)
    return str(error)


def test_each_caller_is_released_only_by_its_own_confirms(
        broker: FakeBroker, publisher: GroupedPublisher) -> None:
    first = publisher.submit([item("a1"), item("a2")])
    wait_for(lambda: broker.tags_sent() == [1, 2], message="the first caller's messages")
    # two more callers arrive while the first group waits: they form the next group
    second, third = publisher.submit([item("b")]), publisher.submit([item("c")])
    broker.ack(1)
    wait_for(lambda: broker.answers.empty(), message="the first confirm processed")
    assert not first.done()  # one of its two messages is still unconfirmed
    broker.ack(2)
    assert first.result(timeout=5) is None
    wait_for(lambda: broker.tags_sent() == [1, 2, 3, 4], message="the second group sent")
    assert [i.message_id for _, _, i in broker.sent] == ["a1", "a2", "b", "c"]  # in order
    broker.ack(4)
    assert third.result(timeout=5) is None
    assert not second.done()  # c's confirm does not release b
    broker.ack(3)
    assert second.result(timeout=5) is None
    assert broker.streams == 1  # one channel for everyone


def test_a_multiple_ack_releases_every_caller_up_to_its_tag(
        broker: FakeBroker, publisher: GroupedPublisher) -> None:
    gate = publisher.submit([item("gate")])
    wait_for(lambda: broker.tags_sent() == [1], message="the gate sent")
    callers = [publisher.submit([item(f"m{n}")]) for n in range(5)]
    broker.ack(1)
    gate.result(timeout=5)
    wait_for(lambda: len(broker.tags_sent()) == 6, message="the group sent")
    broker.ack(4, multiple=True)
    for future in callers[:3]:
        assert future.result(timeout=5) is None
    assert not any(f.done() for f in callers[3:])
    broker.ack(6, multiple=True)
    for future in callers[3:]:
        assert future.result(timeout=5) is None


def test_a_nack_fails_exactly_the_caller_it_names(
        broker: FakeBroker, publisher: GroupedPublisher) -> None:
    gate = publisher.submit([item("gate")])
    wait_for(lambda: broker.tags_sent() == [1], message="the gate sent")
    good, bad = publisher.submit([item("good")]), publisher.submit([item("bad1"), item("bad2")])
    broker.ack(1)
    gate.result(timeout=5)
    wait_for(lambda: broker.tags_sent() == [1, 2, 3, 4], message="the group sent")
    broker.nack(3)
    broker.ack(4)
    broker.ack(2)
    assert good.result(timeout=5) is None
    assert "nacked delivery 3" in failed(bad)


def test_an_unroutable_message_fails_its_caller_only(
        broker: FakeBroker, publisher: GroupedPublisher) -> None:
    gate = publisher.submit([item("gate")])
    wait_for(lambda: broker.tags_sent() == [1], message="the gate sent")
    good, lost = publisher.submit([item("good")]), publisher.submit([item("nowhere")])
    broker.ack(1)
    gate.result(timeout=5)
    wait_for(lambda: broker.tags_sent() == [1, 2, 3], message="the group sent")
    broker.unroutable(item("nowhere"))  # the broker returns before it confirms
    broker.ack(3, multiple=True)
    assert good.result(timeout=5) is None
    assert "unroutable" in failed(lost)


def test_a_lost_connection_fails_unconfirmed_callers_after_one_retry(
        broker: FakeBroker, publisher: GroupedPublisher) -> None:
    gate = publisher.submit([item("gate")])
    wait_for(lambda: broker.tags_sent() == [1], message="the gate sent")
    confirmed, unconfirmed = publisher.submit([item("ok")]), publisher.submit([item("late")])
    broker.ack(1)
    gate.result(timeout=5)
    wait_for(lambda: broker.tags_sent(1) == [1, 2, 3], message="the group sent")
    broker.ack(2)
    assert confirmed.result(timeout=5) is None
    broker.lose_connection()
    # the unconfirmed caller's message is sent again once, on a fresh stream ...
    wait_for(lambda: broker.tags_sent(2) == [1], message="the retry on a new stream")
    assert broker.sent[-1][2].message_id == "late"
    broker.lose_connection()  # ... which fails too: the caller hears it, never a success
    assert "broker unavailable" in failed(unconfirmed)
    assert confirmed.exception() is None
    after = publisher.submit([item("after")])  # the next caller gets a fresh stream
    wait_for(lambda: broker.tags_sent(3) == [1], message="a fresh stream after the failure")
    broker.ack(1)
    assert after.result(timeout=5) is None


def test_no_confirm_within_the_timeout_is_a_failure(broker: FakeBroker) -> None:
    publisher = GroupedPublisher(stream_factory=broker.open, confirm_timeout=0.2)
    try:
        assert "not confirmed within" in failed(publisher.submit([item("silence")]))
        after = publisher.submit([item("next")])
        wait_for(lambda: broker.streams == 2, message="a fresh stream: late confirms of the "
                 "old one must not settle new callers")
        broker.ack(1)
        assert after.result(timeout=5) is None
    finally:
        publisher.close()


def test_publish_many_raises_publish_error(broker: FakeBroker,
                                           publisher: GroupedPublisher) -> None:
    outcome: list[BaseException | None] = []

    def call() -> None:
        try:
            publisher.publish_many([item("x")])
            outcome.append(None)
        except PublishError as exc:
            outcome.append(exc)

    thread = threading.Thread(target=call)
    thread.start()
    wait_for(lambda: broker.tags_sent() == [1], message="sent")
    broker.nack(1)
    thread.join(5)
    assert isinstance(outcome[0], PublishError)
    publisher.publish_many([])  # nothing to publish: returns at once
