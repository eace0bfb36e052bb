"""Tracking (a real process) on PostgreSQL while its database goes away: the batch is held —
never requeued, never dead-lettered, the process reports "waiting for database" — and applied
once the database answers again.

Tracking reaches its PostgreSQL schema through a TCP proxy owned by the test; "the database
goes away" means the proxy closes every connection through it and refuses new ones (what a
SIGKILLed or restarting PostgreSQL looks like to a client). Its backends are also terminated by
PostgreSQL itself (``pg_terminate_backend``) once it is back. The work queue is private with
``x-delivery-limit`` 1: the failure path of before (requeue, then ``handler-failed`` on the next
delivery) would dead-letter within about a second.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
import sqlalchemy as sa
from kombu import Connection, Producer

from pantau_contracts.routing import CASES_EXCHANGE
from pantau_tracking.adapters.database import create_engine
from pantau_tracking.adapters.schema import case_history, outbox, processed_events
from tests.conftest import WorkQueues, fresh_schema, wait_for, work_queues
from tests.integration.intake.helpers import OutageProxy

from .helpers import Listener, department_event, free_port

pytestmark = pytest.mark.integration


@pytest.fixture
def proxied_schema(postgres_url: str) -> Iterator[tuple[str, str, OutageProxy]]:
    """(direct URL, URL through the proxy with an application_name, proxy)."""
    with fresh_schema(postgres_url, "t") as url:
        real = urlsplit(url)
        proxy = OutageProxy((real.hostname or "127.0.0.1", real.port or 5432))
        userinfo = real.netloc.rsplit("@", 1)[0]
        name = f"ptrack-{uuid.uuid4().hex[:8]}"
        proxied = urlunsplit((real.scheme, f"{userinfo}@127.0.0.1:{proxy.port}", real.path,
                              f"{real.query}&application_name={name}", ""))
        try:
            yield url, proxied, proxy
        finally:
            proxy.outage()


@pytest.fixture
def queues(amqp_url: str) -> Iterator[WorkQueues]:
    with work_queues(amqp_url, "ttrack", delivery_limit=1) as names:
        yield names


def publish(amqp_url: str, queue: str, bodies: list[bytes]) -> None:
    with Connection(amqp_url) as conn:
        producer = Producer(conn.channel())
        for body in bodies:
            producer.publish(body, exchange="", routing_key=queue, delivery_mode=2,
                             content_type="application/cloudevents+json",
                             content_encoding="utf-8")


def depth(amqp_url: str, queue: str) -> int:
    """Messages ready in ``queue`` (not counting those a consumer holds unacked)."""
    with Connection(amqp_url) as conn:
        _name, count, _consumers = conn.channel().queue_declare(queue, passive=True)
        return int(count)


def readiness(port: int) -> tuple[int, dict[str, Any]]:
    response = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2)
    return response.status_code, response.json()


def event(event_type: str, receipt: str, sequence: int, **data: Any) -> bytes:
    return department_event(event_type, receipt, sequence=sequence, time=datetime.now(UTC),
                            **data)


@pytest.mark.timeout(120)
def test_a_database_outage_holds_the_batch_and_applies_it_afterwards(
        proxied_schema: tuple[str, str, OutageProxy], queues: WorkQueues, amqp_url: str,
        start_service: Callable[..., Any], unique: Callable[[str], str]) -> None:
    direct, proxied, proxy = proxied_schema
    health = free_port()
    listener = Listener(amqp_url, [(CASES_EXCHANGE, "case.updated.kota-bandung")])
    tracking = start_service(
        "pantau_tracking", PANTAU_DATABASE_URL=proxied, PANTAU_TRACKING_QUEUE=queues.work,
        PANTAU_TRACKING_DELIVERY_LIMIT="1", PANTAU_TRACKING_BATCH_WAIT_MS="20",
        PANTAU_TRACKING_HEALTH_PORT=str(health), PANTAU_TRACKING_OVERDUE_INTERVAL="0.5")
    engine = create_engine(direct)
    first, second = unique("OUT"), unique("OUT")

    def revisions(receipt: str) -> list[int]:
        """The revisions published for ``receipt``, each once: the relay publishes at least
        once (a row whose "sent" mark was cut by the outage is published again after it)."""
        return sorted({b["sequence"] for b in listener.bodies(receipt)
                       if b["type"] == "case.updated"})

    def relayed() -> bool:
        with engine.connect() as conn:
            return not conn.execute(sa.select(outbox.c.id).where(
                outbox.c.sent_at.is_(None)).limit(1)).first()

    try:
        wait_for(lambda: f"consuming {queues.work}" in tracking.log(), timeout=30,
                 message=lambda: "tracking consuming\n" + tracking.log())
        assert readiness(health) == (200, {"status": "ready", "waiting_for": [], "since": None})
        publish(amqp_url, queues.work, [event("case.submitted", first, 1)])
        wait_for(lambda: revisions(first) == [1], timeout=30, message="first case.updated")
        wait_for(relayed, timeout=30, message="the relay marked its rows sent")

        proxy.outage()  # PostgreSQL is away: connections cut, new ones refused
        publish(amqp_url, queues.work, [
            event("case.stage_started", first, 2, stage="verifikasi-berkas"),
            event("case.submitted", second, 1)])

        def degraded() -> bool:
            code, body = readiness(health)
            return code == 503 and body["detail"] == "waiting for database"

        wait_for(degraded, timeout=30,
                 message=lambda: "readyz: waiting for database\n" + tracking.log())
        # long enough for the old requeue path to have dead-lettered (delivery limit 1): the
        # overdue timer has failed several times meanwhile, each tick 0.5 s apart
        wait_for(lambda: tracking.log().count("overdue scan: database unavailable") >= 4,
                 timeout=30, message="several failed overdue ticks")
        assert depth(amqp_url, queues.work) == 0  # held by the consumer, not requeued
        assert depth(amqp_url, queues.dead) == 0
        assert revisions(first) == [1] and revisions(second) == []

        proxy.restore()  # PostgreSQL is back
        wait_for(lambda: revisions(first) == [1, 2] and revisions(second) == [1], timeout=45,
                 message="the held batch applied\n" + tracking.log()[-3000:])
        wait_for(lambda: readiness(health)[0] == 200, timeout=15, message="ready again")

        # PostgreSQL itself terminates tracking's sessions: the next batch still goes through
        name = dict(p.split("=", 1) for p in urlsplit(proxied).query.split("&"))[
            "application_name"]
        with engine.begin() as conn:
            killed = conn.execute(sa.text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name = :name"), {"name": name}).scalar_one()
        assert killed >= 1
        publish(amqp_url, queues.work, [event("case.completed", second, 2)])
        wait_for(lambda: revisions(second) == [1, 2], timeout=45,
                 message="applied after pg_terminate_backend\n" + tracking.log()[-3000:])

        assert depth(amqp_url, queues.dead) == 0  # not one dead letter
        wait_for(lambda: depth(amqp_url, queues.work) == 0, timeout=10, message="drained")
        with engine.connect() as conn:
            steps = conn.execute(sa.select(case_history.c.receipt_number, case_history.c.seq)
                                 .order_by(case_history.c.receipt_number, case_history.c.seq)
                                 ).all()
            outcomes = conn.execute(sa.select(processed_events.c.outcome)).scalars().all()
        assert sorted(steps) == sorted([(first, 1), (first, 2), (second, 1), (second, 2)])
        assert outcomes == ["applied"] * 4  # each event once
        log = tracking.log()
        assert "database unavailable" in log and "database is back" in log
        assert "dead-lettered" not in log and "handler-failed" not in log
        assert "Traceback" not in log  # an outage is logged in one line per state change
    finally:
        listener.close()
        engine.dispose()
