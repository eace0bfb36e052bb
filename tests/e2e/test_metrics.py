"""Every process's ``/metrics`` against the real stack: the counters move with the right labels
when a department sends valid and refused events over HTTP and AMQP, the freshness histograms
get samples, the gauges exist, the public ports do not serve ``/metrics``, and RabbitMQ's
plugin answers with per-queue metrics."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from pantau_client.department import DepartmentClient
from pantau_client.http_sender import HttpSender
from pantau_contracts import make_event
from pantau_intake.adapters.dev_credentials import dev_department
from pantau_intake.domain.departments import DepartmentRef
from tests.conftest import wait_for
from tests.e2e.system import running_system

pytestmark = pytest.mark.e2e
INTAKE_PORT, PORTAL_PORT = 18601, 18600
METRICS = {"pantau_publishing.portal": ("PANTAU_PORTAL_METRICS_PORT", 18690),
           "pantau_tracking": ("PANTAU_TRACKING_METRICS_PORT", 18691),
           "pantau_publishing.indexer": ("PANTAU_INDEXER_METRICS_PORT", 18692),
           "pantau_intake.ingress": ("PANTAU_INGRESS_METRICS_PORT", 18693),
           "pantau_intake.http": ("PANTAU_INTAKE_METRICS_PORT", 18694),
           "pantau_intake.outcomes": ("PANTAU_OUTCOMES_METRICS_PORT", 18695),
           "pantau_publishing.mailer": ("PANTAU_MAILER_METRICS_PORT", 18697)}
SOURCE = "/kota-bandung/dpmptsp"
DEPT = {"jurisdiction": "kota-bandung", "department": "dpmptsp"}


@pytest.fixture(scope="module")
def system(amqp_url: str, elasticsearch_url: str,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    state = tmp_path_factory.mktemp("e2e-metrics")
    per_process = {module: {key: str(port)} for module, (key, port) in METRICS.items()}
    with running_system(amqp_url, state, name="metrics", intake_port=INTAKE_PORT,
                        portal_port=PORTAL_PORT, per_process_env=per_process) as running:
        yield running.env


def scrape(module: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    port = METRICS[module][1]
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str,
          **labels: str) -> float:
    """Sum of the samples called ``name`` whose labels include ``labels``."""
    wanted = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and wanted <= ls)


def names(samples: dict[tuple[str, frozenset[tuple[str, str]]], float]) -> set[str]:
    return {n for n, _ in samples}


def submitted(receipt: str) -> dict[str, Any]:
    return {"receipt_number": receipt, "service_code": "pbg", "kecamatan": "Coblong",
            "channel": "online"}


def test_metrics_move_on_every_process(system: dict[str, str], unique: Any,
                                       tmp_path: Path) -> None:
    creds = dev_department("kota-bandung/dpmptsp")
    http = HttpSender(f"http://127.0.0.1:{INTAKE_PORT}", creds.key_id, creds.secret)
    receipt = unique("BDG-PBG-MET")
    assert http.send(make_event(type="case.submitted", source=SOURCE, subject=receipt,
                                sequence=1, data=submitted(receipt)))["status"] == "accepted"
    with pytest.raises(Exception):  # noqa: B017 - the client's own refusal type
        http.send(make_event(type="case.submitted", source=SOURCE, subject=unique("BDG-PBG-MEX"),
                             sequence=1, data={"receipt_number": "x"}))
    ref = DepartmentRef("kota-bandung", "dpmptsp")
    url = system["PANTAU_AMQP_URL"].replace("pantau:pantau@",
                                            f"{ref.amqp_user}:{creds.amqp_password}@")
    client = DepartmentClient(url, ref, tmp_path / "spool.jsonl")
    amqp_receipt = unique("BDG-PBG-MEQ")
    try:
        client.send(make_event(type="case.submitted", source=SOURCE, subject=amqp_receipt,
                               sequence=1, data=submitted(amqp_receipt)))
        client.publish_raw("kota-bandung.dpmptsp.case.submitted", b'{"not": "an event"}')
    finally:
        client.close()

    intake = scrape("pantau_intake.http")
    assert value(intake, "pantau_events_received_total", **DEPT) >= 2
    assert value(intake, "pantau_events_accepted_total", type="case.submitted", **DEPT) >= 1
    assert value(intake, "pantau_events_refused_total", reason="invalid-event", **DEPT) >= 1
    assert value(intake, "http_requests_total", handler="/v1/events", status="202") >= 1
    assert value(intake, "http_requests_total", handler="/v1/events", status="422") >= 1

    def ingress_counted() -> bool:
        ingress = scrape("pantau_intake.ingress")
        return (value(ingress, "pantau_events_accepted_total", type="case.submitted", **DEPT) >= 1
                and value(ingress, "pantau_events_dead_lettered_total",
                          reason="invalid-event", **DEPT) >= 1)
    wait_for(ingress_counted, timeout=20, message="the ingress's counters")
    ingress = scrape("pantau_intake.ingress")
    assert value(ingress, "pantau_events_refused_total", reason="invalid-event", **DEPT) >= 1
    assert value(ingress, "pantau_batch_size_count") >= 1  # both may come in one batch

    def applied_both() -> bool:
        return value(scrape("pantau_tracking"), "pantau_freshness_applied_seconds_count") >= 2
    wait_for(applied_both, timeout=30, message="tracking's freshness samples")
    tracking = scrape("pantau_tracking")
    assert value(tracking, "pantau_events_accepted_total", type="case.submitted", **DEPT) >= 2
    assert value(tracking, "pantau_batch_duration_seconds_count",
                 queue="tracking.accepted") >= 1
    assert {"pantau_outbox_backlog", "pantau_outbox_oldest_unsent_age_seconds"} <= names(tracking)
    wait_for(lambda: value(scrape("pantau_tracking"), "pantau_cases_open",
                           jurisdiction="kota-bandung") >= 2, timeout=45,
             message="the SLA gauges")
    gauges = names(scrape("pantau_tracking"))
    assert {"pantau_cases_overdue", "pantau_cases_late_reported"} <= gauges

    def searchable() -> bool:
        return value(scrape("pantau_publishing.indexer"),
                     "pantau_freshness_searchable_seconds_count") >= 2
    wait_for(searchable, timeout=30, message="the indexer's freshness samples")
    indexer = scrape("pantau_publishing.indexer")
    assert value(indexer, "pantau_es_bulk_duration_seconds_count") >= 1
    assert value(indexer, "pantau_batch_size_count", queue="publishing.cases") >= 1

    # delivery counters: every mail result from the start (rate() sees the first failure)
    mailer = scrape("pantau_publishing.mailer")
    assert {dict(labels)["result"] for n, labels in mailer if n == "pantau_mail_outbox_total"} \
        == {"sent", "deferred", "failed", "dropped"}
    assert "pantau_batch_size_count" in names(scrape("pantau_intake.outcomes"))

    assert httpx.get(f"http://127.0.0.1:{PORTAL_PORT}/api/v1/cases/{receipt}",
                     timeout=5).status_code == 200
    portal = scrape("pantau_publishing.portal")
    case_routes = {dict(k[1]).get("handler", "") for k in portal
                   if k[0] == "http_requests_total" and ("status", "200") in k[1]}
    assert [h for h in case_routes if h.startswith("/api/v1/cases/{")], case_routes
    # templates, never raw paths: no receipt number in any label
    assert not [k for k in portal if any(receipt in v for _, v in k[1])]


def test_the_public_ports_do_not_serve_metrics(system: dict[str, str]) -> None:
    for port in (INTAKE_PORT, PORTAL_PORT):
        answer = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5)
        assert answer.status_code == 404
        assert "pantau_events" not in answer.text and "http_requests_total" not in answer.text


def test_rabbitmq_serves_queue_metrics(system: dict[str, str]) -> None:
    vhost = system["PANTAU_AMQP_URL"].rsplit("/", 1)[1]
    answer = httpx.get("http://127.0.0.1:15692/metrics/detailed",
                       params=[("vhost", vhost), ("family", "queue_coarse_metrics"),
                               ("family", "queue_consumer_count")], timeout=10)
    assert answer.status_code == 200
    samples = {(s.name, s.labels.get("queue")): s.value
               for f in text_string_to_metric_families(answer.text) for s in f.samples}
    assert ("rabbitmq_detailed_queue_messages_ready", "tracking.accepted") in samples
    assert samples[("rabbitmq_detailed_queue_consumers", "tracking.accepted")] >= 1
    assert json.dumps(sorted(q for _, q in samples if q))  # queues are named
