"""End to end: one department event is one connected trace across the separate processes.

Every process exports its spans with ``PANTAU_OTEL_EXPORTER=jsonfile`` (the SDK's exporter
interface, one JSON line per finished span) into its own file; the test reads them all after
sending one event over HTTP and one over AMQP (the department's client with a ``traceparent``
set by the department) and checks the parent/link relations hop by hop.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from pantau_client.department import DepartmentClient
from pantau_client.http_sender import HttpSender
from pantau_contracts import make_event
from pantau_contracts.routing import (
    ACCEPTED_EXCHANGE,
    CASES_EXCHANGE,
    PUBLISHING_QUEUE,
    TRACKING_QUEUE,
)
from pantau_intake.adapters.dev_credentials import dev_department
from pantau_intake.domain.departments import DepartmentRef
from tests.conftest import wait_for
from tests.e2e.system import PROCESSES, running_system

pytestmark = pytest.mark.e2e
INTAKE_PORT, PORTAL_PORT = 18501, 18500
SOURCE = "/kota-bandung/dpmptsp"
EVENT_ID = "cloudevents.event_id"


@pytest.fixture(scope="module")
def system(amqp_url: str, elasticsearch_url: str,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[dict[str, str], Path]]:
    state = tmp_path_factory.mktemp("e2e-tracing")
    per_process = {module: {"PANTAU_OTEL_EXPORTER": "jsonfile", "PANTAU_LOG_FORMAT": "json",
                            "PANTAU_OTEL_JSONFILE": str(state / f"spans-{module}.jsonl")}
                   for module in PROCESSES}
    with running_system(amqp_url, state, name="tracing", intake_port=INTAKE_PORT,
                        portal_port=PORTAL_PORT, per_process_env=per_process) as running:
        yield running.env, state


def spans_of(state: Path, module: str) -> list[dict[str, Any]]:
    path = state / f"spans-{module}.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def one(spans: list[dict[str, Any]], **match: Any) -> dict[str, Any] | None:
    found = [s for s in spans if all(s.get(k) == v for k, v in match.items())]
    return found[0] if found else None


def with_attr(spans: list[dict[str, Any]], name: str, key: str,
              value: str) -> dict[str, Any] | None:
    found = [s for s in spans if s["name"] == name and s["attributes"].get(key) == value]
    return found[0] if found else None


def submitted(receipt: str) -> dict[str, Any]:
    return {"receipt_number": receipt, "service_code": "pbg", "kecamatan": "Coblong",
            "channel": "online"}


def downstream(state: Path, publish: dict[str, Any], event_id: str,
               receipt: str) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """tracking's apply span (child of ``publish``), its relay span, the indexer's bulk span."""
    apply = wait_for(lambda: with_attr(spans_of(state, "pantau_tracking"),
                                       f"{TRACKING_QUEUE} apply", EVENT_ID, event_id),
                     timeout=30, message="tracking's apply span")
    assert apply["trace_id"] == publish["trace_id"]
    assert apply["parent_span_id"] == publish["span_id"]
    relay = wait_for(lambda: one([s for s in spans_of(state, "pantau_tracking")
                                  if s["name"] == f"{CASES_EXCHANGE} publish"
                                  and s["attributes"].get("pantau.receipt") == receipt]),
                     timeout=30, message="the relay's publish span")
    assert relay["trace_id"] == apply["trace_id"]
    assert relay["parent_span_id"] == apply["span_id"]

    def bulk() -> dict[str, Any] | None:
        for span in spans_of(state, "pantau_publishing.indexer"):
            if span["name"] != f"{PUBLISHING_QUEUE} bulk":
                continue
            if span["parent_span_id"] == relay["span_id"] or {
                    "trace_id": relay["trace_id"], "span_id": relay["span_id"]} in span["links"]:
                return span
        return None

    indexed = wait_for(bulk, timeout=30, message="the indexer's bulk span")
    if indexed["parent_span_id"] == relay["span_id"]:
        assert indexed["trace_id"] == relay["trace_id"]
    return apply, relay, indexed


def test_an_http_event_is_one_trace_from_intake_to_the_index(
        system: tuple[dict[str, str], Path], unique: Any) -> None:
    _, state = system
    receipt = unique("BDG-PBG-TRC")
    creds = dev_department("kota-bandung/dpmptsp")
    event = make_event(type="case.submitted", source=SOURCE, subject=receipt, sequence=1,
                       data=submitted(receipt))
    answer = HttpSender(f"http://127.0.0.1:{INTAKE_PORT}", creds.key_id,
                        creds.secret).send(event)
    assert answer["status"] == "accepted"
    event_id = event.get_id()

    intake = wait_for(lambda: with_attr(spans_of(state, "pantau_intake.http"),
                                        f"{ACCEPTED_EXCHANGE} publish", EVENT_ID, event_id),
                      timeout=20, message="intake's publish span")
    server = one(spans_of(state, "pantau_intake.http"), span_id=intake["parent_span_id"])
    assert server is not None and server["kind"] == "SERVER"
    assert server["trace_id"] == intake["trace_id"]
    apply, relay, bulk = downstream(state, intake, event_id, receipt)
    assert {apply["trace_id"], relay["trace_id"]} == {server["trace_id"]}
    # the HTTP path skips the ingress: it made no span for this event
    assert not [s for s in spans_of(state, "pantau_intake.ingress")
                if s["trace_id"] == server["trace_id"]]
    public = httpx.get(f"http://127.0.0.1:{PORTAL_PORT}/api/v1/cases/{receipt}", timeout=5)
    assert public.status_code == 200


def test_an_amqp_event_continues_the_departments_own_trace(
        system: tuple[dict[str, str], Path], unique: Any, tmp_path: Path) -> None:
    env, state = system
    receipt = unique("BDG-PBG-TRQ")
    trace_id, parent_id = uuid.uuid4().hex, uuid.uuid4().hex[:16]
    traceparent = f"00-{trace_id}-{parent_id}-01"
    creds = dev_department("kota-bandung/dpmptsp")
    ref = DepartmentRef("kota-bandung", "dpmptsp")
    url = env["PANTAU_AMQP_URL"].replace("pantau:pantau@",
                                         f"{ref.amqp_user}:{creds.amqp_password}@")
    event = make_event(type="case.submitted", source=SOURCE, subject=receipt, sequence=1,
                       data=submitted(receipt), traceparent=traceparent)
    client = DepartmentClient(url, ref, tmp_path / "spool.jsonl")
    try:
        client.send(event)
    finally:
        client.close()

    def ingress_span() -> dict[str, Any] | None:
        return one([s for s in spans_of(state, "pantau_intake.ingress")
                    if s["name"].endswith(" process") and s["trace_id"] == trace_id])

    consumed = wait_for(ingress_span, timeout=20, message="the ingress's span")
    assert consumed["parent_span_id"] == parent_id  # the department's span, correlation only
    publish = wait_for(lambda: with_attr(spans_of(state, "pantau_intake.ingress"),
                                         f"{ACCEPTED_EXCHANGE} publish", EVENT_ID,
                                         event.get_id()), timeout=20,
                       message="the ingress's publish span")
    assert publish["parent_span_id"] == consumed["span_id"]
    assert publish["trace_id"] == trace_id
    apply, relay, _ = downstream(state, publish, event.get_id(), receipt)
    assert apply["trace_id"] == relay["trace_id"] == trace_id
