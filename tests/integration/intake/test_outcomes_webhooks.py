"""Intake's outcomes process on the real broker and a REAL local HTTP receiver: refusals and
``event.applied`` published on ``pantau.feedback`` are stored (the status API's source) and the
refusals delivered to the department's webhook — signed with its own key (checked with
``pantau_client.verify_webhook``), retried with back-off while the receiver answers 500, in
order per case, once each (a redelivered outcome is not delivered again); a 410 makes a
delivery dead at once, and ``webhook replay`` sends it again. Back-off is scaled down by
settings; the test waits on what the receiver got, never sleeps."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pika
import pytest

from pantau_client.webhooks import verify_webhook
from pantau_contracts import event_to_json, make_event
from pantau_contracts.payloads.tracking import CaseOverdueV1, EventAppliedV1, EventRejectedV1
from pantau_contracts.routing import CASES_EXCHANGE, FEEDBACK_EXCHANGE
from pantau_intake.adapters.dev_credentials import dev_department
from pantau_intake.adapters.outcome_store import SqlOutcomeStore
from pantau_intake.credentials.cli import main as credentials_main
from pantau_intake.domain.departments import DepartmentRef
from pantau_intake.settings import IntakeSettings
from tests.conftest import random_tag, wait_for
from tests.integration.intake.helpers import TempQueue
from tests.webhook_receiver import Receiver, webhook_receiver

pytestmark = pytest.mark.integration
DEPT = DepartmentRef("kota-bandung", "dpmptsp")
DEV = dev_department("kota-bandung/dpmptsp")
FAST = {"PANTAU_INTAKE_WEBHOOK_TICK_SECONDS": "0.05",
        "PANTAU_INTAKE_WEBHOOK_BACKOFF_BASE_SECONDS": "0.1",
        "PANTAU_INTAKE_WEBHOOK_BACKOFF_CAP_SECONDS": "0.4",
        "PANTAU_OUTCOMES_HEALTH_PORT": "0", "PANTAU_OUTCOMES_METRICS_PORT": "0"}


def rejected(event_id: str, receipt: str) -> bytes:
    data = EventRejectedV1(event_id=event_id, event_source=DEPT.source, event_type="case.resumed",
                           receipt_number=receipt, stage="tracking", reason="stage-order",
                           detail="the case is not returned", rejected_at=datetime.now(UTC))
    return event_to_json(make_event(type="event.rejected", source="/kota-bandung/tracking",
                                    data=data, id=f"rejected:{DEPT.source}:{event_id}",
                                    subject=receipt))


def applied(event_id: str, receipt: str) -> bytes:
    data = EventAppliedV1(event_id=event_id, event_source=DEPT.source,
                          event_type="case.submitted", receipt_number=receipt, revision=1,
                          applied_at=datetime.now(UTC))
    return event_to_json(make_event(type="event.applied", source="/kota-bandung/tracking",
                                    data=data, id=f"applied:{DEPT.source}:{event_id}"))


def publish(amqp_url: str, messages: list[tuple[str, bytes]]) -> None:
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        channel = connection.channel()
        channel.confirm_delivery()
        for key, body in messages:
            channel.basic_publish(FEEDBACK_EXCHANGE, key, body, pika.BasicProperties(
                content_type="application/cloudevents+json", delivery_mode=2))
    finally:
        connection.close()


@pytest.fixture
def settings(tmp_path: Path, store_url: str) -> IntakeSettings:
    """Intake's database on SQLite and on PostgreSQL (the advisory-locked writer path)."""
    settings = IntakeSettings(state_dir=tmp_path / "state", intake_database_url=store_url)
    assert credentials_main(["bootstrap-dev"], settings=settings) == 0
    return settings


def outcomes_env(settings: IntakeSettings) -> dict[str, str]:
    return {**FAST, "PANTAU_STATE_DIR": str(settings.state_dir),
            "PANTAU_INTAKE_DATABASE_URL": settings.intake_database_url}


def configure(settings: IntakeSettings, receiver: Receiver) -> None:
    assert credentials_main(["webhook", "set", "--department", str(DEPT), "--url", receiver.url],
                            settings=settings) == 0


def delivered_ids(receiver: Receiver) -> list[str]:
    return [json.loads(r.body)["data"]["event_id"] for r in receiver.answered(200)]


def test_refusals_reach_the_webhook_signed_in_order_per_case_after_failures(
        amqp_url: str, start_service: Callable[..., Any],
        settings: IntakeSettings) -> None:
    department_queue = TempQueue(amqp_url, FEEDBACK_EXCHANGE, "kota-bandung.dpmptsp")
    case_a, case_b = f"BDG-PBG-{random_tag(8)}", f"BDG-PBG-{random_tag(8)}"
    ids = [f"e-{uuid.uuid4().hex[:8]}" for _ in range(4)]
    with webhook_receiver([500, 500, 500, 200]) as receiver:
        configure(settings, receiver)
        start_service("pantau_intake.outcomes", **outcomes_env(settings))
        key = "kota-bandung.dpmptsp"
        publish(amqp_url, [(key, rejected(ids[0], case_a)), (key, rejected(ids[1], case_a)),
                           (key, rejected(ids[2], case_b)),
                           (f"applied.{key}", applied(ids[3], case_b))])
        wait_for(lambda: len(delivered_ids(receiver)) == 3, timeout=30,
                 message="three refusals delivered")
        publish(amqp_url, [(key, rejected(ids[0], case_a)),  # redelivered: not again
                           (key, rejected("e-last", case_b))])
        wait_for(lambda: "e-last" in delivered_ids(receiver), timeout=30, message="the last")
        requests = list(receiver.requests)

    assert sorted(delivered_ids(receiver)) == sorted([ids[0], ids[1], ids[2], "e-last"])
    assert len(receiver.answered(500)) == 3  # retried, not dropped
    for request in requests:  # every attempt is signed with the department's own key
        event = verify_webhook({DEV.key_id: DEV.secret}, request.headers, request.body,
                               target=request.target)
        assert event["type"] == "event.rejected" and request.target == "/hooks/pantau?via=test"
        assert request.headers["X-Pantau-Key"] == DEV.key_id
    def first(predicate: Callable[[Any], bool]) -> int:
        return next(i for i, r in enumerate(requests) if predicate(r))

    def event_id(request: Any) -> str:
        return str(json.loads(request.body)["data"]["event_id"])

    # per-case order: the case's second refusal is first tried after its first was delivered
    assert first(lambda r: event_id(r) == ids[0] and r.status == 200) < first(
        lambda r: event_id(r) == ids[1])
    # the department's own feedback queue (bound to {j}.{d}) never sees event.applied
    assert {b["type"] for b in department_queue.bodies()} == {"event.rejected"}
    department_queue.close()
    store = SqlOutcomeStore(settings.credentials_database_url)
    try:
        refusals = store.refusals(DEPT, 0, 10)
        assert [r["event_id"] for r in refusals] == [ids[0], ids[1], ids[2], "e-last"]
        assert [r["id"] for r in refusals] == sorted(r["id"] for r in refusals)
        outcome = store.outcome(DEPT, ids[3])
        assert outcome is not None and outcome["outcome"] == "applied"
        assert outcome["revision"] == 1
    finally:
        store.dispose()


def test_a_410_is_dead_at_once_listed_and_replayed(
        amqp_url: str, start_service: Callable[..., Any],
        settings: IntakeSettings, capsys: pytest.CaptureFixture[str]) -> None:
    event_id = f"e-{uuid.uuid4().hex[:8]}"
    with webhook_receiver([410, 200]) as receiver:
        configure(settings, receiver)
        start_service("pantau_intake.outcomes", **outcomes_env(settings))
        publish(amqp_url, [("kota-bandung.dpmptsp", rejected(event_id, "BDG-PBG-X1"))])

        def dead() -> bool:
            capsys.readouterr()
            credentials_main(["webhook", "deliveries", "--department", str(DEPT), "--dead"],
                             settings=settings)
            return "HTTP 410 (not retried)" in capsys.readouterr().out

        wait_for(dead, timeout=30, message="the delivery is dead")
        assert len(receiver.requests) == 1
        assert credentials_main(["webhook", "replay", "--department", str(DEPT)],
                                settings=settings) == 0
        assert "requeued 1" in capsys.readouterr().out
        wait_for(lambda: delivered_ids(receiver) == [event_id], timeout=30,
                 message="replayed and delivered")


def test_a_subscribed_department_gets_its_cases_overdue_events(
        amqp_url: str, start_service: Callable[..., Any],
        settings: IntakeSettings) -> None:
    receipt = f"BDG-PBG-{random_tag(8)}"
    overdue = CaseOverdueV1(receipt_number=receipt, jurisdiction_code="kota-bandung",
                            department_code="dpmptsp", service_code="pbg",
                            due_date="2026-03-30", detected_at=datetime.now(UTC))
    body = event_to_json(make_event(type="case.overdue", source="/kota-bandung/tracking",
                                    data=overdue, id=f"{receipt}:3:overdue", subject=receipt))
    with webhook_receiver([200]) as receiver:
        assert credentials_main(["webhook", "set", "--department", str(DEPT), "--url",
                                 receiver.url, "--events", "refusals,overdue"],
                                settings=settings) == 0
        start_service("pantau_intake.outcomes", **outcomes_env(settings))
        connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
        try:  # as tracking's relay publishes it: pantau.cases, case.overdue.{jurisdiction}
            channel = connection.channel()
            channel.confirm_delivery()
            channel.basic_publish(CASES_EXCHANGE, "case.overdue.kota-bandung", body,
                                  pika.BasicProperties(delivery_mode=2))
        finally:
            connection.close()
        wait_for(lambda: receiver.answered(200), timeout=30, message="overdue delivered")
        (request,) = receiver.requests
    event = verify_webhook({DEV.key_id: DEV.secret}, request.headers, request.body,
                           target=request.target)
    assert event["type"] == "case.overdue" and event["data"]["receipt_number"] == receipt
