"""The indexer as a real subprocess consuming a real quorum queue into the real Elasticsearch."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from kombu import Connection, Producer

from pantau_contracts.routing import REASON_HEADER
from tests.conftest import WorkQueues, wait_for
from tests.integration.publishing.conftest import SearchStack
from tests.unit.publishing.factories import case_updated, public_case


def publish(amqp_url: str, queue: str, bodies: list[bytes]) -> None:
    with Connection(amqp_url) as conn:
        producer = Producer(conn.channel())
        for body in bodies:
            producer.publish(body, exchange="", routing_key=queue, delivery_mode=2,
                             content_type="application/cloudevents+json",
                             content_encoding="utf-8")


def get_source(search: SearchStack, receipt: str) -> dict[str, Any] | None:
    answer = search.es.options(ignore_status=404).get(index=search.aliases.cases, id=receipt)
    return dict(answer["_source"]) if answer.get("found") else None


def test_indexer_batches_versions_and_dead_letters(
        amqp_url: str, search: SearchStack, queues: WorkQueues,
        start_service: Callable[..., Any]) -> None:
    indexer = start_service("pantau_publishing.indexer", PANTAU_PUBLISHING_QUEUE=queues.work,
                            PANTAU_BATCH_SIZE="20", PANTAU_BATCH_WAIT_MS="100", **search.env)
    records = [public_case(f"IDX-{i:04d}-2026", revision=r) for i in range(30)
               for r in (1, 2)]
    bad = public_case("IDX-BAD-2026")
    bad["nik"] = "3273011203850001"
    # revision 2 of every case is published before revision 1: it must still win
    publish(amqp_url, queues.work, [case_updated(r) for r in reversed(records)]
            + [case_updated(bad), b"{not json"])

    def all_indexed() -> bool:
        return all((doc := get_source(search, f"IDX-{i:04d}-2026")) and doc["revision"] == 2
                   for i in range(30))

    wait_for(all_indexed, timeout=60, message=lambda: "60 events indexed\n" + indexer.log())
    assert get_source(search, "IDX-BAD-2026") is None

    dead: list[Any] = []

    def dead_lettered() -> bool:
        with Connection(amqp_url) as conn:
            channel = conn.default_channel
            while (message := channel.basic_get(queues.dead, no_ack=True)) is not None:
                dead.append(message)
        return len(dead) >= 2

    wait_for(dead_lettered, timeout=60, message="two dead letters")
    reasons = [json.loads(m.headers[REASON_HEADER]) for m in dead]
    assert {r["reason"] for r in reasons} == {"contract-violation"}
    assert any(e["field"] == "data.case.nik" for r in reasons for e in r["errors"])
    assert "batch of" in indexer.log()

    # the work queue is empty: everything was acked after the bulk succeeded
    def drained() -> bool:
        with Connection(amqp_url) as conn:
            _name, count, _consumers = conn.channel().queue_declare(queues.work, passive=True)
            return count == 0

    wait_for(drained, timeout=10, message="work queue drained")
