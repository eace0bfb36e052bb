"""``BatchConsumer`` settling a batch, with hand-written fakes for the container, the kombu
messages and the dead-letter publisher (the broker side is covered by the integration tests)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from nameko.exceptions import ContainerBeingKilled

import pantau_nameko.batching as batching
from pantau_nameko import health
from pantau_nameko.batching import (
    BatchConsumer,
    Delivery,
    Failures,
    Outage,
    quiet_holds_in_nameko_log,
)
from pantau_nameko.failures import DependencyUnavailable
from pantau_nameko.settlement import BatchOptions, RetryPolicy
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


def consumer(container: FakeContainer, log: Log, limit: int = 5,
             retries: int = 3) -> BatchConsumer:
    entry = BatchConsumer("q", max_size=10)
    entry.container = container
    entry.options = BatchOptions("q", 10, 0.05, 20, limit, retries)
    entry.policy = RetryPolicy(retries, base=0.0)  # no pauses in unit tests
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


def test_then_runs_after_the_dead_letters_are_confirmed_and_before_the_ack() -> None:
    log = Log()

    def method(deliveries: list[Delivery]) -> Failures:
        return Failures({0: {"reason": "bad"}}, then=lambda: log.append(("told", 0)))

    consumer(FakeContainer(method), log)._dispatch([FakeMessage(log, 1), FakeMessage(log, 2)])
    assert [entry[0] for entry in log] == ["dead-letter", "told", "ack-up-to"]


def test_then_never_runs_when_dead_lettering_fails_and_its_failure_settles_all_the_same() -> None:
    log = Log()

    def method(deliveries: list[Delivery]) -> Failures:
        return Failures({0: {"reason": "bad"}}, then=lambda: log.append(("told", 0)))

    entry = consumer(FakeContainer(method), log)
    entry.dead_letters = RefusingPublisher()
    entry._dispatch([FakeMessage(log, 1)])
    assert log == [("requeue", 1)]  # not told: the dead letter is not out

    def failing_then() -> None:
        raise RuntimeError("feedback channel closed")

    log.clear()
    consumer(FakeContainer(lambda deliveries: Failures({0: "bad"}, then=failing_then)),
             log)._dispatch([FakeMessage(log, 1)])
    assert [entry[0] for entry in log] == ["dead-letter", "ack-up-to"]


def test_a_dead_letter_keeps_the_queue_user_and_content_type_and_no_inbound_pantau_header(
) -> None:
    log = Log()
    message = FakeMessage(log, 1)
    message.delivery_info[batching.QUEUE_INFO] = "intake.ingress.kota-bandung.dishub"
    message.properties.update(user_id="dept.kota-bandung.dishub",
                              content_type="application/cloudevents+json")
    message.headers = {"x-pantau-reason": "forged", "x-pantau-origin-user": "dept.x",
                       "x-pantau-provenance": "{}", "x-death": [{}], "plain": "kept"}
    consumer(FakeContainer(lambda deliveries: {0: {"reason": "forbidden"}}), log)._dispatch(
        [message])
    (_, letter), _ack = log
    headers = dict(letter.headers)
    assert headers["x-pantau-origin-user"] == "dept.kota-bandung.dishub"
    assert headers["x-pantau-origin-queue"] == "intake.ingress.kota-bandung.dishub"
    assert json.loads(headers["x-pantau-reason"]) == {"reason": "forbidden"}
    assert "x-death" not in headers and "x-pantau-provenance" not in headers
    assert headers["plain"] == "kept"
    assert letter.content_type == "application/cloudevents+json"


def test_exception_requeues_and_the_last_delivery_is_dead_lettered_with_reason() -> None:
    log = Log()

    def broken(deliveries: list[Delivery]) -> None:
        raise ConnectionError("database is down")

    container = FakeContainer(broken)
    consumer(container, log, limit=5)._dispatch(
        [FakeMessage(log, 1, count=0), FakeMessage(log, 2, count=5), FakeMessage(log, 3, 2)])
    assert len(container.seen) == 4  # the first run and 3 in-process retries
    assert log[0][0] == "dead-letter"
    assert '"handler-failed"' in log[0][1].headers["x-pantau-reason"]
    assert "ConnectionError: database is down" in log[0][1].headers["x-pantau-reason"]
    assert log[1:] == [("ack", 2), ("requeue", 1), ("requeue", 3)]


def test_a_wrong_answer_counts_as_a_failure() -> None:
    log = Log()
    container = FakeContainer(lambda deliveries: {9: "nope"})
    consumer(container, log, retries=1)._dispatch([FakeMessage(log, 1)])
    assert log == [("requeue", 1)]
    assert len(container.seen) == 2


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


class Flaky:
    """A method failing with the given exceptions first, then returning None; and a probe
    answering from a script (recording the health it sees)."""

    def __init__(self, failures: list[Exception], answers: list[bool] | None = None) -> None:
        self.failures, self.answers = list(failures), list(answers or [])
        self.seen_status: list[dict[str, Any]] = []
        self.probes = 0

    def method(self, deliveries: list[Delivery]) -> None:
        if self.failures:
            raise self.failures.pop(0)

    def probe(self) -> bool:
        self.probes += 1
        self.seen_status.append(health.status())
        return self.answers.pop(0) if self.answers else True


@pytest.fixture(autouse=True)
def fresh_health() -> None:
    health.registry.reset()


def test_an_outage_holds_the_batch_probes_and_applies_it_once_it_answers() -> None:
    log = Log()
    flaky = Flaky([], answers=[False, False, True, True])
    flaky.failures = [DependencyUnavailable("database", "refused", probe=flaky.probe)] * 2
    container = FakeContainer(flaky.method)
    # an outage never uses up the unknown retries, even with none allowed
    settled = consumer(container, log, retries=0)._dispatch([FakeMessage(log, 1),
                                                            FakeMessage(log, 2)])
    assert settled is True
    assert log == [("ack-up-to", 2)]  # never requeued, never dead-lettered
    assert len(container.seen) == 3 and container.seen[0] == container.seen[2]  # same batch
    assert flaky.probes == 4
    assert all(s["status"] == "degraded" and s["detail"] == "waiting for database"
               for s in flaky.seen_status)
    assert health.is_ready()


def test_an_outage_without_a_probe_just_retries() -> None:
    log = Log()
    flaky = Flaky([DependencyUnavailable("elasticsearch")] * 5)
    container = FakeContainer(flaky.method)
    consumer(container, log)._dispatch([FakeMessage(log, 1)])
    assert log == [("ack-up-to", 1)] and len(container.seen) == 6


def test_stopping_while_holding_settles_nothing() -> None:
    log = Log()
    container = FakeContainer(lambda deliveries: None)
    entry = consumer(container, log)

    def away_and_stopping() -> bool:
        entry._stopping = True
        return False

    def method(deliveries: list[Delivery]) -> None:
        raise DependencyUnavailable("database", probe=away_and_stopping)

    container.method = method
    assert entry._dispatch([FakeMessage(log, 1), FakeMessage(log, 2)]) is False
    assert log == []  # no ack, no requeue, no nack: the broker returns them on close
    assert health.is_ready()


def test_a_probe_that_raises_keeps_holding() -> None:
    log = Log()
    answers = iter([OSError("refused"), OSError("refused"), True])

    def probe() -> bool:
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    flaky = Flaky([DependencyUnavailable("database", probe=probe)])
    consumer(FakeContainer(flaky.method), log)._dispatch([FakeMessage(log, 1)])
    assert log == [("ack-up-to", 1)]


def test_another_dependency_in_the_same_hold_moves_the_mark() -> None:
    log = Log()
    flaky = Flaky([])
    flaky.failures = [DependencyUnavailable("database", probe=flaky.probe),
                      DependencyUnavailable("broker", probe=flaky.probe)]
    consumer(FakeContainer(flaky.method), log)._dispatch([FakeMessage(log, 1)])
    assert [s["waiting_for"] for s in flaky.seen_status] == [["database"], ["broker"]]
    assert log == [("ack-up-to", 1)] and health.is_ready()


def test_an_unknown_error_is_retried_in_process_and_may_then_succeed() -> None:
    log = Log()
    flaky = Flaky([RuntimeError("flake"), RuntimeError("flake")])
    container = FakeContainer(flaky.method)
    consumer(container, log, retries=2)._dispatch([FakeMessage(log, 1)])
    assert log == [("ack-up-to", 1)] and len(container.seen) == 3


def test_unknown_retries_are_bounded_then_requeued() -> None:
    log = Log()
    flaky = Flaky([RuntimeError("flake")] * 10)
    container = FakeContainer(flaky.method)
    consumer(container, log, retries=2)._dispatch([FakeMessage(log, 1)])
    assert log == [("requeue", 1)] and len(container.seen) == 3


def test_an_outage_then_an_unknown_error_ends_the_outage_and_counts_as_unknown() -> None:
    log = Log()
    flaky = Flaky([])
    flaky.failures = [DependencyUnavailable("database", probe=flaky.probe), RuntimeError("x")]
    container = FakeContainer(flaky.method)
    consumer(container, log, retries=0)._dispatch([FakeMessage(log, 1)])
    assert log == [("requeue", 1)] and len(container.seen) == 2
    assert health.is_ready()


def test_nameko_per_attempt_traceback_is_filtered_for_outages_only() -> None:
    import logging
    import sys

    quiet_holds_in_nameko_log()
    quiet_holds_in_nameko_log()  # idempotent
    logger = logging.getLogger("nameko.containers")
    assert len([f for f in logger.filters if isinstance(f, batching._QuietHolds)]) == 1

    def record(exc: Exception) -> logging.LogRecord:
        try:
            raise exc
        except Exception:
            return logger.makeRecord("nameko.containers", logging.WARNING, __file__, 1,
                                     "error handling worker", (), sys.exc_info())

    assert not logger.filter(record(DependencyUnavailable("database")))
    assert logger.filter(record(RuntimeError("boom")))


def test_an_outage_is_logged_every_30_seconds_at_most() -> None:
    outage = Outage("database", "", 3, started=0.0, last_note=0.0)
    assert [outage.due(t) for t in (1.0, 29.9, 30.0, 45.0, 60.5)] == [
        False, False, True, False, True]
