"""``python -m pantau_tracking`` as a real process against the real broker (and both databases):
accepted events in, ``case.updated`` / ``event.rejected`` out, duplicates and reordering handled,
poison dead-lettered with a reason.

Each test's tracking consumes its own work queue (``PANTAU_TRACKING_QUEUE``), fed directly: the
shared ``tracking.accepted`` may hold what intake's tests forwarded, and a count such as "one
dedup record" must not include someone else's leftovers."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from pantau_contracts.envelope import parse_time, stamp_received
from pantau_contracts.registry import validate_event
from pantau_contracts.routing import (
    CASES_EXCHANGE,
    DEAD_LETTER_EXCHANGE,
    FEEDBACK_EXCHANGE,
    REASON_HEADER,
)
from pantau_platform.amqp import ConfirmingPublisher, Outgoing
from pantau_tracking.adapters.database import create_engine
from pantau_tracking.adapters.schema import outbox, processed_events
from tests.conftest import WorkQueues, wait_for, work_queues

from .helpers import Listener, rpc
from .helpers import department_event as _department_event


def department_event(*args: Any, **kwargs: Any) -> bytes:
    """Events happening now: cases must not be overdue (the overdue timer would add revisions)."""
    kwargs.setdefault("time", datetime.now(UTC))
    return _department_event(*args, **kwargs)

pytestmark = pytest.mark.integration


@pytest.fixture
def publisher(amqp_url: str) -> Iterator[ConfirmingPublisher]:
    pub = ConfirmingPublisher(amqp_url)
    yield pub
    pub.close()


@pytest.fixture
def queues(amqp_url: str) -> Iterator[WorkQueues]:
    with work_queues(amqp_url, "tsvc") as names:
        yield names


def send(publisher: ConfirmingPublisher, body: bytes, queue: str) -> None:
    """Straight into the test's own work queue (the default exchange routes by queue name)."""
    publisher.publish(Outgoing(exchange="", routing_key=queue, body=body))


@pytest.mark.timeout(90)
def test_service_end_to_end(database_url: str, amqp_url: str, publisher: ConfirmingPublisher,
                            start_service: Callable[..., Any], queues: WorkQueues,
                            unique: Callable[[str], str]) -> None:
    receipt = unique("BDG")
    # tracking dead-letters with the routing key the message came with: the work queue's name
    listener = Listener(amqp_url, [(CASES_EXCHANGE, "case.updated.kota-bandung"),
                                   (FEEDBACK_EXCHANGE, "kota-bandung.dpmptsp"),
                                   (DEAD_LETTER_EXCHANGE, queues.work)])
    # Always passed: the sqlite leg must not inherit the Makefile's PostgreSQL URL.
    service = start_service("pantau_tracking", PANTAU_TRACKING_BATCH_WAIT_MS="20",
                            PANTAU_DATABASE_URL=database_url, PANTAU_TRACKING_QUEUE=queues.work)
    try:
        key = queues.work
        submitted = department_event("case.submitted", receipt, sequence=1,
                                     applicant={"name": "Dewi Lestari", "nik": "3273015505900002"})
        send(publisher, submitted, key)

        def updated() -> list[dict[str, Any]]:
            return [b for b in listener.bodies(receipt) if b["type"] == "case.updated"]

        first = wait_for(lambda: updated(), timeout=30, message="first case.updated")
        assert isinstance(first, list)
        assert first[0]["sequence"] == 1 and first[0]["source"] == "/kota-bandung/tracking"
        assert first[0]["data"]["case"]["status"] == "diterima"
        assert "Dewi" not in json.dumps(first) and "3273015505900002" not in json.dumps(first)

        send(publisher, submitted, key)  # duplicate delivery of the same event
        stage_key = queues.work
        send(publisher, department_event("case.stage_started", receipt, sequence=3,
                                         stage="konsultasi-teknis"), stage_key)
        send(publisher, department_event("case.stage_started", receipt, sequence=2,
                                         stage="verifikasi-berkas"), stage_key)
        send(publisher, department_event("case.stage_started", receipt, sequence=4,
                                         stage="verifikasi-berkas"), stage_key)  # going back
        send(publisher, b'{"specversion": "1.0", "id": "broken"}', queues.work)

        rejected = wait_for(lambda: [b for b in listener.bodies(receipt)
                                     if b["type"] == "event.rejected"],
                            timeout=30, message="event.rejected")
        assert isinstance(rejected, list)
        assert rejected[0]["data"]["reason"] == "stage-order"
        revisions = [b["sequence"] for b in listener.bodies(receipt)
                     if b["type"] == "case.updated"]
        assert revisions == [1, 2, 3]
        last = [b for b in listener.bodies(receipt) if b["type"] == "case.updated"][-1]
        assert last["data"]["case"]["stage_code"] == "konsultasi-teknis"

        def dead() -> list[Any]:
            listener.drain()
            return [m for m in listener.messages
                    if m.delivery_info.get("exchange") == DEAD_LETTER_EXCHANGE]

        (poisoned,) = wait_for(dead, timeout=30, message="dead-lettered poison")  # type: ignore
        reason = json.loads(poisoned.headers[REASON_HEADER])
        assert reason["reason"] == "contract-violation"

        # A refusal for a department nobody listens to must not block the outbox.
        stranger = unique("ORPHAN")
        send(publisher, department_event("case.submitted", stranger, jurisdiction="kota-contoh"),
             queues.work)
        # Stamped by intake today, claiming three weeks ago: published as late (case.updated v2).
        after = unique("BDG")
        received = datetime.now(UTC)
        late = department_event("case.submitted", after, time=received - timedelta(days=21))
        send(publisher, stamp_received(validate_event(late), received).raw, key)
        (late_update,) = wait_for(
            lambda: [b for b in listener.bodies(after) if b["type"] == "case.updated"],
            timeout=30, message="case.updated after an unroutable refusal")  # type: ignore
        assert late_update["dataschema"].endswith("/case.updated/v2.json")
        step = late_update["data"]["case"]["timeline"][0]
        assert step["late_reported"] is True and parse_time(step["received_at"]) == received
        assert first[0]["data"]["case"]["timeline"][0]["late_reported"] is False  # unstamped

        answer = rpc(amqp_url, "get_case", receipt)
        assert answer["public"]["revision"] == 3 and answer["public"]["status"] == "diproses"
        assert answer["sla"]["due_date"] and len(answer["history"]) == 3
        assert "Dewi" not in json.dumps(answer)
        assert rpc(amqp_url, "get_case", "NOPE-0000") is None
        assert rpc(amqp_url, "count_cases") >= 1
        listed = rpc(amqp_url, "list_public_cases", None, 1000)
        assert receipt in [c["receipt_number"] for c in listed]
    finally:
        listener.close()
    assert "Traceback" not in service.log()



@pytest.mark.timeout(120)
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # SQLite: one instance
def test_two_instances_on_postgresql(database_url: str, amqp_url: str,
                                     publisher: ConfirmingPublisher,
                                     start_service: Callable[..., Any], queues: WorkQueues,
                                     unique: Callable[[str], str]) -> None:
    """Competing consumers on one database: every case still ends in the right state, with
    revisions 1..4 each published (duplicates tolerated, nothing lost or reordered)."""
    listener = Listener(amqp_url, [(CASES_EXCHANGE, "case.updated.kota-bandung")])
    small = {"PANTAU_DATABASE_URL": database_url, "PANTAU_TRACKING_BATCH_SIZE": "10",
             "PANTAU_TRACKING_PREFETCH": "10", "PANTAU_TRACKING_BATCH_WAIT_MS": "10",
             "PANTAU_TRACKING_QUEUE": queues.work}
    services = [start_service("pantau_tracking", **small) for _ in range(2)]
    receipts = [unique("MULTI") for _ in range(40)]
    steps = [("case.submitted", {}), ("case.stage_started", {"stage": "verifikasi-berkas"}),
             ("case.stage_started", {"stage": "penerbitan"}), ("case.completed", {})]
    try:
        items = [Outgoing(exchange="", routing_key=queues.work,
                          body=department_event(event_type, receipt, sequence=seq, **data))
                 for seq, (event_type, data) in enumerate(steps, start=1)
                 for receipt in receipts]
        publisher.publish_many(items)

        def finished() -> bool:
            listener.drain()
            latest: dict[str, int] = {}
            for message in listener.messages:
                body = json.loads(message.body)
                if body["data"]["case"]["status"] == "selesai":
                    latest[body["subject"]] = body["sequence"]
            return all(latest.get(r) == 4 for r in receipts)

        wait_for(finished, timeout=60, message="all cases completed")
        seen: dict[str, set[int]] = {r: set() for r in receipts}
        for message in listener.messages:
            body = json.loads(message.body)
            if body["subject"] in seen:
                seen[body["subject"]].add(body["sequence"])
                if body["sequence"] == 4:
                    assert body["data"]["case"]["status"] == "selesai"
        assert all(revisions == {1, 2, 3, 4} for revisions in seen.values())
    finally:
        listener.close()
    for service in services:
        assert "Traceback" not in service.log(), service.log()[-3000:]


@pytest.mark.timeout(60)
def test_service_purges_sent_outbox_rows(database_url: str, amqp_url: str,
                                         publisher: ConfirmingPublisher,
                                         start_service: Callable[..., Any], queues: WorkQueues,
                                         unique: Callable[[str], str]) -> None:
    """The purge timer of a real process deletes sent outbox rows past the retention (0 h here)
    and keeps the dedup records (30 days)."""
    receipt = unique("BDG")
    listener = Listener(amqp_url, [(CASES_EXCHANGE, "case.updated.kota-bandung")])
    service = start_service("pantau_tracking", PANTAU_DATABASE_URL=database_url,
                            PANTAU_TRACKING_QUEUE=queues.work, PANTAU_TRACKING_PURGE_INTERVAL="0.5",
                            PANTAU_TRACKING_OUTBOX_RETENTION_HOURS="0")
    engine = create_engine(database_url)
    try:
        send(publisher, department_event("case.submitted", receipt, sequence=1), queues.work)
        wait_for(lambda: listener.bodies(receipt), timeout=30, message="case.updated")

        def rows(table: sa.Table) -> int:
            with engine.connect() as conn:
                return int(conn.execute(sa.select(sa.func.count()).select_from(table))
                           .scalar_one())

        wait_for(lambda: rows(outbox) == 0, timeout=20, message="sent outbox row purged")
        assert rows(processed_events) == 1
    finally:
        listener.close()
        engine.dispose()
    assert "Traceback" not in service.log()
