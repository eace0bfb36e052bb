"""``BatchConsumer`` settling a batch, with hand-written fakes for the container, the kombu
messages and the dead-letter publisher (the broker side is covered by the integration tests)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from nameko.exceptions import ContainerBeingKilled

import pantau_nameko.batching as batching
from pantau_nameko.batching import BatchConsumer, Delivery
from pantau_nameko.settlement import BatchOptions
from pantau_platform.amqp import Outgoing, PublishError


class Log(list[tuple[str, Any]]):
    pass


class FakeChannel:
    def __init__(self, log: Log) -> None:
        self.log = log

    def basic_ack(self, tag: int, multiple: bool = False) -> None:
        self.log.append(("ack-up-to" if multiple else "ack", tag))


class FakeMessage:
    def __init__(self, log: Log, tag: int, count: int = 0) -> None:
        self.log, self.delivery_tag = log, tag
        self.channel = FakeChannel(log)
        self.body = f'{{"n": {tag}}}'.encode()
        self.delivery_info = {"routing_key": "kota-bandung.dpmptsp.case.submitted",
                              "exchange": "pantau.accepted", "redelivered": count > 0}
        self.headers = {"x-delivery-count": count} if count else {}
        self.properties = {"message_id": f"m{tag}"}

    def ack(self) -> None:
        self.log.append(("ack", self.delivery_tag))

    def requeue(self) -> None:
        self.log.append(("requeue", self.delivery_tag))


class FakePublisher:
    def __init__(self, log: Log) -> None:
        self.log = log

    def publish_many(self, items: list[Outgoing]) -> None:
        self.log.extend(("dead-letter", item) for item in items)


class RefusingPublisher:
    def publish_many(self, items: list[Outgoing]) -> None:
        raise PublishError("broker unavailable: connection refused")


class FakeContainer:
    """Runs the "service method" synchronously, as nameko's worker would, then the callback."""

    service_name = "svc"

    def __init__(self, method: Callable[[list[Delivery]], Any], killed: bool = False) -> None:
        self.method, self.killed = method, killed
        self.seen: list[list[Delivery]] = []

    def spawn_worker(self, entrypoint: Any, args: tuple[Any, ...], kwargs: dict[str, Any],
                     handle_result: Callable[..., Any]) -> None:
        if self.killed:
            raise ContainerBeingKilled()
        self.seen.append(args[0])
        try:
            result = self.method(args[0])
        except Exception as exc:  # noqa: BLE001 - handed over like nameko does
            handle_result(None, None, (type(exc), exc, None))
        else:
            handle_result(None, result, None)


def consumer(container: FakeContainer, log: Log, limit: int = 5) -> BatchConsumer:
    entry = BatchConsumer("q", max_size=10)
    entry.container = container
    entry.options = BatchOptions("q", 10, 0.05, 20, limit)
    entry.dead_letters = FakePublisher(log)
    return entry


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(batching, "backoff", lambda failures: 0.0)


def test_method_gets_deliveries_and_one_cumulative_ack_follows() -> None:
    log = Log()
    container = FakeContainer(lambda deliveries: None)
    consumer(container, log)._dispatch([FakeMessage(log, 1), FakeMessage(log, 2)])
    (seen,) = container.seen
    assert seen[0] == Delivery(b'{"n": 1}', "kota-bandung.dpmptsp.case.submitted",
                               "pantau.accepted", {}, "m1", False)
    assert log == [("ack-up-to", 2)]


def test_poison_is_dead_lettered_before_any_ack() -> None:
    log = Log()
    entry = consumer(FakeContainer(lambda deliveries: {1: {"reason": "bad"}}), log)
    entry._dispatch([FakeMessage(log, 1), FakeMessage(log, 2), FakeMessage(log, 3)])
    (kind, letter), ack = log
    assert kind == "dead-letter" and ack == ("ack-up-to", 3)
    assert letter.exchange == "pantau.dlx" and letter.body == b'{"n": 2}'
    assert letter.routing_key == "kota-bandung.dpmptsp.case.submitted"
    assert letter.headers["x-pantau-reason"] == '{"reason": "bad"}'
    assert letter.headers["x-pantau-origin-exchange"] == "pantau.accepted"
    assert letter.headers["x-pantau-dead-lettered-by"] == "svc"


def test_exception_requeues_and_the_last_delivery_is_dead_lettered_with_reason() -> None:
    log = Log()

    def broken(deliveries: list[Delivery]) -> None:
        raise ConnectionError("database is down")

    consumer(FakeContainer(broken), log, limit=5)._dispatch(
        [FakeMessage(log, 1, count=0), FakeMessage(log, 2, count=5), FakeMessage(log, 3, 2)])
    assert log[0][0] == "dead-letter"
    assert '"handler-failed"' in log[0][1].headers["x-pantau-reason"]
    assert "ConnectionError: database is down" in log[0][1].headers["x-pantau-reason"]
    assert log[1:] == [("ack", 2), ("requeue", 1), ("requeue", 3)]


def test_a_wrong_answer_counts_as_a_failure() -> None:
    log = Log()
    consumer(FakeContainer(lambda deliveries: {9: "nope"}), log)._dispatch([FakeMessage(log, 1)])
    assert log == [("requeue", 1)]


def test_a_container_being_killed_gets_the_messages_back() -> None:
    log = Log()
    consumer(FakeContainer(lambda deliveries: None, killed=True), log)._dispatch(
        [FakeMessage(log, 1), FakeMessage(log, 2)])
    assert log == [("requeue", 1), ("requeue", 2)]


def test_when_dead_lettering_fails_nothing_is_acked_and_the_batch_comes_back() -> None:
    log = Log()
    entry = consumer(FakeContainer(lambda deliveries: {0: {"reason": "bad"}}), log)
    entry.dead_letters = RefusingPublisher()
    entry._dispatch([FakeMessage(log, 1), FakeMessage(log, 2)])
    assert log == [("requeue", 1), ("requeue", 2)]
