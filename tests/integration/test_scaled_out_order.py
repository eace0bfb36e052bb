"""Scaled out, still in order and exactly once (issue 13's rule): two AMQP ingress processes and
two tracking processes on one PostgreSQL handle interleaved events of the same cases.

The two ingress processes compete for the department's own ingress queue with small batches, so
a case's events are forwarded by both, in any order; the two tracking processes compete for
``tracking.accepted`` on one database. Every event is also sent twice (a department's retry).
What must hold: each case ends ``selesai`` with exactly its four steps in the order of their
sequence numbers, and every revision 1..4 of it is published — nothing lost, duplicated or
reordered, whichever process handled what.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from pantau_client.department import DepartmentClient
from pantau_contracts.envelope import event_to_json, make_event
from pantau_contracts.routing import CASES_EXCHANGE
from pantau_intake.credentials.cli import main as credentials_main
from pantau_intake.domain.departments import DepartmentRef
from pantau_intake.settings import IntakeSettings
from tests.conftest import consumer_count, fresh_schema, wait_for
from tests.integration.intake.helpers import department_url, receipt
from tests.integration.tracking.helpers import Listener

pytestmark = pytest.mark.integration
DPMPTSP = DepartmentRef("kota-bandung", "dpmptsp")
CASES = 30
STEPS = [("case.submitted", {"service_code": "pbg"}),
         ("case.stage_started", {"stage": "verifikasi-berkas"}),
         ("case.stage_started", {"stage": "penerbitan"}),
         ("case.completed", {})]
QUIET = {"PANTAU_INGRESS_HEALTH_PORT": "0", "PANTAU_INGRESS_METRICS_PORT": "0",
         "PANTAU_TRACKING_HEALTH_PORT": "0", "PANTAU_TRACKING_METRICS_PORT": "0"}


@pytest.fixture
def databases(postgres_url: str) -> Iterator[tuple[str, str]]:
    """Fresh PostgreSQL schemas: tracking's, and intake's (the shared accepted-events memory)."""
    with fresh_schema(postgres_url, "order_t") as tracking, \
            fresh_schema(postgres_url, "order_i") as intake:
        yield tracking, intake


def events_of(receipts: list[str]) -> list[bytes]:
    """Every case's four events, interleaved step by step across cases, each sent twice."""
    start = datetime.now(UTC) - timedelta(hours=2)
    out = []
    for seq, (event_type, data) in enumerate(STEPS, start=1):
        for number in receipts:
            event = make_event(type=event_type, source="/kota-bandung/dpmptsp", subject=number,
                               sequence=seq, id=str(uuid.uuid4()),
                               data={"receipt_number": number, **data},
                               time=start + timedelta(minutes=seq))
            body = event_to_json(event)
            out += [body, body]  # the department retries every event once
    return out


@pytest.mark.timeout(240)
def test_two_ingresses_and_two_trackings_keep_each_case_in_order_exactly_once(
        amqp_url: str, management_url: str, databases: tuple[str, str], tmp_path: Path,
        start_service: Callable[..., Any]) -> None:
    tracking_db, intake_db = databases
    settings = IntakeSettings(amqp_url=amqp_url, amqp_management_url=management_url)
    assert credentials_main(["apply-amqp", "--dev"], settings=settings) == 0
    listener = Listener(amqp_url, [(CASES_EXCHANGE, "case.updated.kota-bandung")])
    small = {**QUIET, "PANTAU_INTAKE_DATABASE_URL": intake_db,
             "PANTAU_INTAKE_INGRESS_BATCH_SIZE": "7", "PANTAU_INTAKE_INGRESS_PREFETCH": "7",
             "PANTAU_DATABASE_URL": tracking_db, "PANTAU_TRACKING_BATCH_SIZE": "9",
             "PANTAU_TRACKING_PREFETCH": "9", "PANTAU_TRACKING_BATCH_WAIT_MS": "10"}
    processes = [start_service(module, **small)
                 for module in ("pantau_intake.ingress", "pantau_intake.ingress",
                                "pantau_tracking", "pantau_tracking")]
    # Both ingress processes must be consuming before the first event, or one of them could
    # take every message and the test would not be scaled out at all.
    queue = "intake.ingress.kota-bandung.dpmptsp"
    wait_for(lambda: consumer_count(amqp_url, queue) == 2, timeout=60,
             message=lambda: "two ingress consumers\n"
             + "\n".join(p.log()[-2000:] for p in processes[:2]))
    receipts = [receipt(tag="ORDER") for _ in range(CASES)]
    client = DepartmentClient(department_url(amqp_url, "kota-bandung/dpmptsp"), DPMPTSP,
                              tmp_path / "spool.jsonl")
    try:
        for body in events_of(receipts):
            assert client.send(body) == "sent"
    finally:
        client.close()

    def latest() -> dict[str, dict[str, Any]]:
        newest: dict[str, dict[str, Any]] = {}
        for message in listener.drain():
            body = json.loads(message.body)
            if body.get("subject") in receipts and body["sequence"] >= newest.get(
                    body["subject"], {}).get("sequence", 0):
                newest[body["subject"]] = body
        return newest

    try:
        wait_for(lambda: all(b["data"]["case"]["status"] == "selesai"
                             for b in latest().values()) and len(latest()) == CASES,
                 timeout=180, message=lambda: "every case finished\n"
                 + "\n".join(p.log()[-2000:] for p in processes))
        revisions: dict[str, list[int]] = {r: [] for r in receipts}
        for message in listener.messages:
            body = json.loads(message.body)
            if body.get("subject") in revisions:
                revisions[body["subject"]].append(body["sequence"])
        for number, body in latest().items():
            timeline = body["data"]["case"]["timeline"]
            assert [e["seq"] for e in timeline] == [1, 2, 3, 4], number  # each step once
            assert [e.get("stage_code") for e in timeline[1:3]] == [
                "verifikasi-berkas", "penerbitan"], number  # in their order
            assert timeline[-1]["status"] == "selesai", number
            # each revision published (a redelivery may repeat one; none is missing)
            assert set(revisions[number]) == {1, 2, 3, 4}, number
    finally:
        listener.close()
    for process in processes:
        # Two trackings may apply the same event, or open the same case, at the same moment:
        # the loser's unique-key conflict is retried quietly in a new transaction.
        assert "Traceback" not in process.log(), process.log()[-3000:]
        assert "dead-lettered" not in process.log(), process.log()[-3000:]
    for ingress in processes[:2]:  # really scaled out: both ingress processes forwarded events
        assert re.search(r"batch of \d+: [1-9]\d* accepted", ingress.log()), ingress.log()[-2000:]
