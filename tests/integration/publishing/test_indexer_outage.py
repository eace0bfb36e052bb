"""The indexer (a real process) while Elasticsearch cannot take its writes: the batch is held —
not requeued, not dead-lettered, readiness says "waiting for elasticsearch" — and indexed once
the cluster answers again.

Two outages on the real cluster: the index behind the cases alias is closed (every bulk item
answers ``index_closed_exception``) and reopened; and the cluster becomes unreachable — the
indexer talks to it through a TCP proxy owned by the test, which cuts every connection and
refuses new ones — and comes back. The work queue is private with ``x-delivery-limit`` 1: the
failure path of before (requeue after a back-off) would have dead-lettered within seconds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from kombu import Connection

from pantau_publishing.adapters.search.bootstrap import alias_indices
from tests.conftest import WorkQueues, wait_for, work_queues
from tests.integration.intake.helpers import OutageProxy
from tests.integration.publishing.conftest import SearchStack, free_port
from tests.integration.publishing.test_indexer import get_source, publish
from tests.unit.publishing.factories import case_updated, public_case

pytestmark = pytest.mark.integration


@pytest.fixture
def strict_queues(amqp_url: str) -> Iterator[WorkQueues]:
    with work_queues(amqp_url, "pout", delivery_limit=1) as names:
        yield names


def depth(amqp_url: str, queue: str) -> int:
    with Connection(amqp_url) as conn:
        _name, count, _consumers = conn.channel().queue_declare(queue, passive=True)
        return int(count)


def readiness(port: int) -> tuple[int, dict[str, Any]]:
    response = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2)
    return response.status_code, response.json()


def degraded_for(port: int, seconds: float) -> bool:
    """The process has reported "waiting for elasticsearch" for at least ``seconds``."""
    code, body = readiness(port)
    if code != 503 or body.get("detail") != "waiting for elasticsearch":
        return False
    since = datetime.fromisoformat(body["since"].replace("Z", "+00:00"))
    return (datetime.now(UTC) - since).total_seconds() >= seconds


@pytest.mark.timeout(150)
def test_the_indexer_holds_its_batch_while_elasticsearch_cannot_take_it(
        amqp_url: str, search: SearchStack, strict_queues: WorkQueues,
        start_service: Callable[..., Any]) -> None:
    host, port = search.url.rsplit("//", 1)[1].split(":")
    proxy = OutageProxy((host, int(port)))
    health = free_port()
    env = {**search.env, "PANTAU_ELASTICSEARCH_URL": f"http://127.0.0.1:{proxy.port}"}
    indexer = start_service("pantau_publishing.indexer", PANTAU_PUBLISHING_QUEUE=strict_queues.work,
                            PANTAU_BATCH_SIZE="20", PANTAU_BATCH_WAIT_MS="50",
                            PANTAU_INDEXER_HEALTH_PORT=str(health), **env)

    def revision(receipt: str) -> int | None:
        doc = get_source(search, receipt)
        return None if doc is None else int(doc["revision"])

    try:
        wait_for(lambda: f"consuming {strict_queues.work}" in indexer.log(), timeout=60,
                 message="the indexer consuming\n" + indexer.log())
        publish(amqp_url, strict_queues.work, [case_updated(public_case("OUT-0001-2026"))])
        wait_for(lambda: revision("OUT-0001-2026") == 1, timeout=30, message="first document")
        assert readiness(health)[0] == 200

        # 1. the index behind the cases alias is closed: every item is refused for now
        (cases_index,) = alias_indices(search.es, search.aliases.cases)
        search.es.indices.close(index=cases_index)
        publish(amqp_url, strict_queues.work, [
            case_updated(public_case("OUT-0001-2026", revision=2)),
            case_updated(public_case("OUT-0002-2026"))])
        wait_for(lambda: degraded_for(health, 3.0), timeout=30,
                 message="readyz: waiting for elasticsearch (3 s)\n" + indexer.log()[-3000:])
        assert depth(amqp_url, strict_queues.work) == 0  # held by the consumer, not requeued
        assert depth(amqp_url, strict_queues.dead) == 0
        search.es.indices.open(index=cases_index)
        wait_for(lambda: revision("OUT-0001-2026") == 2 and revision("OUT-0002-2026") == 1,
                 timeout=45, message="the held batch indexed\n" + indexer.log()[-3000:])
        wait_for(lambda: readiness(health)[0] == 200, timeout=15, message="ready again")

        # 2. the cluster is unreachable: connections cut, new ones refused
        proxy.outage()
        publish(amqp_url, strict_queues.work, [case_updated(public_case("OUT-0003-2026"))])
        wait_for(lambda: degraded_for(health, 3.0), timeout=30,
                 message="readyz: waiting for elasticsearch (3 s)\n" + indexer.log()[-3000:])
        assert depth(amqp_url, strict_queues.work) == 0
        assert depth(amqp_url, strict_queues.dead) == 0
        proxy.restore()
        wait_for(lambda: revision("OUT-0003-2026") == 1, timeout=45,
                 message="indexed after the cluster came back\n" + indexer.log()[-3000:])
        wait_for(lambda: readiness(health)[0] == 200, timeout=15, message="ready again")

        search.refresh()
        changes = search.es.count(index=search.aliases.changes)["count"]
        assert changes == 2 + 1 + 1  # every timeline entry exactly once (revision r: r entries)
        assert depth(amqp_url, strict_queues.dead) == 0  # not one dead letter
        wait_for(lambda: depth(amqp_url, strict_queues.work) == 0, timeout=10, message="drained")
        log = indexer.log()
        assert "elasticsearch unavailable" in log and "elasticsearch is back" in log
        assert "dead-lettered" not in log and "handler-failed" not in log
    finally:
        proxy.outage()
