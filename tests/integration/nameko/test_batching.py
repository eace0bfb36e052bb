"""``pantau_nameko.batching`` on the real broker: a tiny nameko service as a real subprocess
consuming a private quorum queue (DLX ``pantau.dlx``, ``x-delivery-limit``)."""

from __future__ import annotations

import json
import signal
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
import pytest
from kombu import Connection, Producer

from pantau_contracts.routing import (
    ORIGIN_ROUTING_KEY_HEADER,
    REASON_HEADER,
)
from tests.conftest import WorkQueues, wait_for, work_queues

SERVICE = "tests.integration.nameko.batch_service"
DELIVERY_LIMIT = 2


@pytest.fixture
def queues(amqp_url: str) -> Iterator[WorkQueues]:
    """A private quorum work queue and the dead queue its dead letters land in."""
    with work_queues(amqp_url, "btest", delivery_limit=DELIVERY_LIMIT) as names:
        yield names


def publish(amqp_url: str, queue: str, items: list[dict[str, Any]],
            headers: dict[str, Any] | None = None) -> None:
    with Connection(amqp_url, transport_options={"confirm_publish": True}) as conn:
        producer = Producer(conn.channel())
        for item in items:
            producer.publish(json.dumps(item).encode(), exchange="", routing_key=queue,
                             delivery_mode=2, content_type="application/json",
                             content_encoding="utf-8", message_id=str(item["id"]),
                             headers=headers or {}, user_id=conn.userid)


def ready(amqp_url: str, queue: str) -> int:
    with Connection(amqp_url) as conn:
        _name, count, _consumers = conn.channel().queue_declare(queue, passive=True)
        return int(count)


def take_all(amqp_url: str, queue: str) -> list[Any]:
    taken = []
    with Connection(amqp_url) as conn:
        channel = conn.default_channel
        while (message := channel.basic_get(queue, no_ack=True)) is not None:
            taken.append(message)
    return taken


def lines(path: Path) -> list[Any]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


class Harness:
    def __init__(self, amqp_url: str, queues: WorkQueues, tmp_path: Path,
                 start_service: Callable[..., Any]) -> None:
        self.amqp_url, self.queues, self.dir = amqp_url, queues, tmp_path
        self._start = start_service

    def start(self, size: int = 5, wait_ms: int = 300, **env: str) -> Any:
        return self._start(SERVICE, BATCHTEST_DIR=str(self.dir), BATCHTEST_QUEUE=self.queues.work,
                           BATCHTEST_BATCH_SIZE=str(size), BATCHTEST_BATCH_WAIT_MS=str(wait_ms),
                           BATCHTEST_PREFETCH=str(size * 2),
                           BATCHTEST_DELIVERY_LIMIT=str(DELIVERY_LIMIT), **env)

    def batches(self) -> list[Any]:
        return lines(self.dir / "batches.jsonl")

    def done(self) -> list[Any]:
        return lines(self.dir / "done.jsonl")

    def probes(self) -> list[Any]:
        return lines(self.dir / "probes.jsonl")

    def dead(self, expected: int) -> list[Any]:
        found: list[Any] = []

        def arrived() -> bool:
            found.extend(take_all(self.amqp_url, self.queues.dead))
            return len(found) >= expected

        wait_for(arrived, timeout=30, message=f"{expected} dead letter(s)")
        return found


@pytest.fixture
def harness(amqp_url: str, queues: WorkQueues, tmp_path: Path,
            start_service: Callable[..., Any]) -> Harness:
    return Harness(amqp_url, queues, tmp_path, start_service)


@pytest.mark.timeout(60)
def test_batches_form_by_size_and_by_time(harness: Harness) -> None:
    publish(harness.amqp_url, harness.queues.work, [{"id": i} for i in range(12)])
    service = harness.start(size=5, wait_ms=300)
    wait_for(lambda: sum(len(b) for b in harness.done()) == 12, timeout=30,
             message=lambda: "12 messages handled\n" + service.log())
    # N: two full batches; T: the remaining two go after the wait, without a third full batch
    assert [len(b["ids"]) for b in harness.batches()] == [5, 5, 2]
    assert [i for b in harness.done() for i in b] == list(range(12))  # queue order kept
    publish(harness.amqp_url, harness.queues.work, [{"id": 100}])
    wait_for(lambda: [100] in harness.done(), timeout=10, message="a lone message, by time")
    wait_for(lambda: ready(harness.amqp_url, harness.queues.work) == 0, timeout=10,
             message="queue drained (acked)")
    assert "Traceback" not in service.log()


@pytest.mark.timeout(60)
def test_acks_only_after_the_method_returned(harness: Harness) -> None:
    publish(harness.amqp_url, harness.queues.work, [{"id": i, "hold": True} for i in range(3)])
    service = harness.start(size=5, wait_ms=100)
    wait_for(lambda: (harness.dir / "started").exists(), timeout=20,
             message=lambda: "method running\n" + service.log())
    assert ready(harness.amqp_url, harness.queues.work) == 0  # all three held by the worker
    service.proc.send_signal(signal.SIGKILL)  # dies inside the method: nothing may be acked
    service.proc.wait(timeout=10)
    wait_for(lambda: ready(harness.amqp_url, harness.queues.work) == 3, timeout=20,
             message="the three messages back on the queue")
    assert harness.done() == []

    (harness.dir / "started").unlink()
    second = harness.start(size=5, wait_ms=100)
    wait_for(lambda: (harness.dir / "started").exists(), timeout=20, message="running again")
    # graceful stop while the batch is in flight: the batch is finished and acked, then exit 0
    second.proc.send_signal(signal.SIGTERM)
    (harness.dir / "release").write_text("1")
    assert second.proc.wait(timeout=20) == 0, second.log()
    assert sorted(i for b in harness.done() for i in b) == [0, 1, 2]
    assert all(b["redelivered"] == [True] * 3 for b in harness.batches()[1:])
    assert ready(harness.amqp_url, harness.queues.work) == 0
    assert take_all(harness.amqp_url, harness.queues.dead) == []


@pytest.mark.timeout(60)
def test_poison_is_dead_lettered_with_its_reason(harness: Harness) -> None:
    # the publisher's own x-pantau-* / x-death headers must not survive into our dead letter:
    # the dead-letter tool believes a service's x-pantau-* headers (issue 14 item 2)
    forged = {REASON_HEADER: "forged", "x-pantau-provenance": "{}", "keep": "me",
              "x-death": [{"queue": "tracking.accepted", "reason": "expired", "count": 1}]}
    publish(harness.amqp_url, harness.queues.work,
            [{"id": 1}, {"id": 2, "poison": "no such case"}, {"id": 3}], headers=forged)
    service = harness.start(size=5, wait_ms=200)
    (letter,) = harness.dead(1)
    assert json.loads(letter.body)["id"] == 2
    assert json.loads(letter.headers[REASON_HEADER]) == {"reason": "test-poison",
                                                         "why": "no such case"}
    assert letter.headers[ORIGIN_ROUTING_KEY_HEADER] == harness.queues.work
    assert letter.headers["x-pantau-dead-lettered-by"] == "batchtest"
    assert letter.headers["x-pantau-origin-queue"] == harness.queues.work
    assert letter.headers["x-pantau-origin-user"] == "pantau"  # the poison's publisher
    assert letter.headers["x-pantau-dead-lettered-at"]
    assert "x-death" not in letter.headers and "x-pantau-provenance" not in letter.headers
    assert letter.headers["keep"] == "me"
    assert letter.properties.get("user_id") == "pantau"  # the service's login, checked by RabbitMQ
    assert letter.properties.get("message_id") == "2"
    wait_for(lambda: ready(harness.amqp_url, harness.queues.work) == 0, timeout=10,
             message="queue drained")
    assert [i for b in harness.done() for i in b] == [1, 2, 3]
    assert "Traceback" not in service.log()


@pytest.mark.timeout(90)
def test_failing_batch_is_retried_in_process_then_redelivered_then_dead_lettered_as_handler_failed(
        harness: Harness) -> None:
    publish(harness.amqp_url, harness.queues.work, [{"id": 7, "fail": True}])
    service = harness.start(size=5, wait_ms=50, BATCHTEST_UNKNOWN_RETRIES="2")
    (letter,) = harness.dead(1)
    reason = json.loads(letter.headers[REASON_HEADER])
    assert reason["reason"] == "handler-failed"
    assert reason["detail"] == "RuntimeError: boom: 7"
    assert reason["deliveries"] == DELIVERY_LIMIT + 1
    # each delivery the broker allows: the first run plus 2 in-process retries; the last
    # delivery was ours to dead-letter
    assert [b["counts"] for b in harness.batches()] == [[0]] * 3 + [[1]] * 3 + [[2]] * 3
    assert [b["redelivered"] for b in harness.batches()] == [[False]] * 3 + [[True]] * 6
    wait_for(lambda: ready(harness.amqp_url, harness.queues.work) == 0, timeout=10,
             message="queue drained")
    assert harness.done() == []
    log = service.log()
    assert "retry 1 of 2 in-process" in log and "retry 2 of 2 in-process" in log
    assert "requeueing after" in log


@pytest.mark.timeout(60)
def test_an_unknown_error_retried_in_process_is_applied_without_a_redelivery(
        harness: Harness) -> None:
    publish(harness.amqp_url, harness.queues.work, [{"id": 1}, {"id": 2, "flake": 2}])
    service = harness.start(size=5, wait_ms=200)  # default: 3 in-process retries
    wait_for(lambda: harness.done() == [[1, 2]], timeout=30,
             message=lambda: "the batch applied once\n" + service.log())
    assert [b["counts"] for b in harness.batches()] == [[0, 0]] * 3
    wait_for(lambda: ready(harness.amqp_url, harness.queues.work) == 0, timeout=10,
             message="queue drained")
    assert take_all(harness.amqp_url, harness.queues.dead) == []


@pytest.mark.timeout(90)
def test_a_dependency_outage_holds_the_batch_until_the_probe_answers(harness: Harness) -> None:
    publish(harness.amqp_url, harness.queues.work,
            [{"id": 1}, {"id": 2, "away": 3}, {"id": 3}])
    # no unknown retries and a delivery limit of 2: an outage must use up neither
    service = harness.start(size=5, wait_ms=200, BATCHTEST_UNKNOWN_RETRIES="0")
    wait_for(lambda: harness.done(), timeout=60, message="the held batch applied\n"
             + service.log())
    assert harness.probes() == [False, False, False, True]
    assert harness.done() == [[1, 2, 3]]  # applied once, in order
    batches = harness.batches()
    # one run into the outage, the probe said no 3 times, then the same batch once more
    assert len(batches) == 2 and all(b["ids"] == [1, 2, 3] for b in batches)
    # the SAME delivery every time: never returned to the broker, no delivery count used
    assert all(b["counts"] == [0, 0, 0] and b["redelivered"] == [False] * 3 for b in batches)
    wait_for(lambda: ready(harness.amqp_url, harness.queues.work) == 0, timeout=10,
             message="queue drained")
    assert take_all(harness.amqp_url, harness.queues.dead) == []
    log = service.log()
    assert log.count("testdb unavailable") == 1  # once per state change, not per attempt
    assert log.count("testdb is back") == 1
    assert "Traceback" not in log


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get(url: str) -> tuple[int, Any]:
    answer = httpx.get(url, timeout=2)
    return answer.status_code, answer.json()


@pytest.mark.timeout(90)
def test_readyz_reports_what_the_process_waits_for(harness: Harness) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    service = harness.start(size=5, wait_ms=100, BATCHTEST_HEALTH_PORT=str(port))
    wait_for(lambda: get(f"{base}/readyz") == (200, {"status": "ready", "waiting_for": [],
                                                     "since": None}),
             timeout=20, message=lambda: "ready before any outage\n" + service.log())
    (harness.dir / "outage").write_text("1")
    publish(harness.amqp_url, harness.queues.work, [{"id": 1, "outage": True}])

    def degraded() -> Any:
        code, body = get(f"{base}/readyz")
        return (code, body) if code == 503 else None

    code, body = wait_for(degraded, timeout=20, message="503 during the outage")  # type: ignore
    assert body["status"] == "degraded" and body["detail"] == "waiting for testdb"
    assert body["waiting_for"] == ["testdb"] and body["since"].endswith("Z")
    assert get(f"{base}/healthz") == (200, {"status": "alive"})  # alive all along
    wait_for(lambda: harness.probes().count(False) >= 2, timeout=20, message="probing")
    publish(harness.amqp_url, harness.queues.work, [{"id": 2}])  # waits behind the held one
    wait_for(lambda: ready(harness.amqp_url, harness.queues.work) == 0, timeout=10,
             message="held, not requeued; the next one prefetched")
    assert harness.done() == []

    (harness.dir / "outage").unlink()  # the dependency is back
    wait_for(lambda: harness.done() == [[1], [2]], timeout=30,
             message=lambda: "applied after the outage, in order\n" + service.log())
    wait_for(lambda: get(f"{base}/readyz")[0] == 200, timeout=10, message="ready again")
    assert all(b["counts"] == [0] for b in harness.batches())
    assert take_all(harness.amqp_url, harness.queues.dead) == []


def consumer_connections(management_url: str, amqp_url: str, queue: str) -> list[str]:
    parts = urlsplit(management_url)
    base = f"{parts.scheme}://{parts.hostname}:{parts.port or 15672}"
    vhost = quote(urlsplit(amqp_url).path.lstrip("/") or "/", safe="")
    answer = httpx.get(f"{base}/api/queues/{vhost}/{quote(queue, safe='')}",
                       auth=(parts.username or "guest", parts.password or "guest"), timeout=5)
    answer.raise_for_status()
    return [c["channel_details"]["connection_name"]
            for c in answer.json().get("consumer_details", [])]


def close_connection(management_url: str, name: str) -> None:
    parts = urlsplit(management_url)
    base = f"{parts.scheme}://{parts.hostname}:{parts.port or 15672}"
    httpx.delete(f"{base}/api/connections/{quote(name, safe='')}",
                 auth=(parts.username or "guest", parts.password or "guest"),
                 headers={"X-Reason": "test: connection loss"}, timeout=5).raise_for_status()


@pytest.mark.timeout(90)
def test_reconnects_after_the_broker_closed_its_connection(harness: Harness,
                                                           management_url: str) -> None:
    publish(harness.amqp_url, harness.queues.work, [{"id": 1}])
    service = harness.start(size=5, wait_ms=50)
    wait_for(lambda: [1] in harness.done(), timeout=20,
             message=lambda: "first message\n" + service.log())
    (name,) = wait_for(lambda: consumer_connections(management_url, harness.amqp_url,
                                                    harness.queues.work),
                       timeout=30, message="the consumer seen by management")  # type: ignore
    close_connection(management_url, name)
    publish(harness.amqp_url, harness.queues.work, [{"id": 2}])
    wait_for(lambda: [2] in harness.done(), timeout=30,
             message=lambda: "a message after reconnecting\n" + service.log())
    assert "reconnecting" in service.log()
    wait_for(lambda: ready(harness.amqp_url, harness.queues.work) == 0, timeout=10,
             message="queue drained")
