"""Metric labels stay bounded (``pantau_platform.metrics``), the nameko ``/metrics`` WSGI app
serves the registry and runs scrape-time collectors, and the ingress reports each outcome
through its ``EventMetrics`` port (a hand-written fake here)."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from pantau_nameko import metrics as nameko_metrics
from pantau_platform.metrics import bounded, event_labels, routing_labels


def test_labels_are_registered_types_and_codes_or_placeholders() -> None:
    assert event_labels("case.submitted", "kota-bandung", "dpmptsp") == {
        "type": "case.submitted", "jurisdiction": "kota-bandung", "department": "dpmptsp"}
    assert event_labels("BDG-PBG-2026-000001", None, "A B")["type"] == "other"
    assert event_labels(None, None, "A B") == {"type": "unknown", "jurisdiction": "unknown",
                                               "department": "other"}
    assert routing_labels("kota-bandung.dpmptsp.case.updated")["department"] == "dpmptsp"
    assert routing_labels("case.updated.kota-bandung") == {
        "type": "case.updated", "jurisdiction": "kota-bandung", "department": "unknown"}


@given(st.text(max_size=80))
def test_any_text_becomes_a_bounded_label(text: str) -> None:
    assert bounded(text, "type") in {"unknown", "other"} | {text}
    label = bounded(text, "reason")
    assert label in {"unknown", "other"} or (label == text and len(text) <= 40)


def test_the_nameko_app_serves_metrics_and_runs_collectors() -> None:
    calls: list[int] = []

    def refresh() -> None:
        calls.append(1)

    nameko_metrics.register_collector(refresh)
    try:
        status: list[str] = []
        body = b"".join(nameko_metrics.app()({"PATH_INFO": "/metrics"},
                                             lambda s, h: status.append(s)))
        assert status == ["200 OK"] and calls == [1]
        assert b"python_info" in body or b"process_" in body or b"# HELP" in body
        nameko_metrics.app()({"PATH_INFO": "/other"}, lambda s, h: status.append(s))
        assert status[-1].startswith("404")
    finally:
        nameko_metrics.unregister_collector(refresh)


class FakeMetrics:
    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def received(self, *args: Any) -> None:
        self.calls.append(("received", *args))

    def accepted(self, *args: Any) -> None:
        self.calls.append(("accepted", *args))

    def refused(self, *args: Any) -> None:
        self.calls.append(("refused", *args))


def test_the_ingress_counts_a_refusal_with_the_senders_labels() -> None:
    from pantau_intake.domain.messages import ReceivedMessage
    from pantau_intake.service.ingress import IngressHandler

    class Feedback:
        def feedback(self, department: Any, records: Any) -> None: ...

    class Forwarder:
        def forward(self, events: Any) -> None: ...

    fake = FakeMetrics()
    handler = IngressHandler(directory=None, forwarder=Forwarder(),  # type: ignore[arg-type]
                             feedback=Feedback(), metrics=fake)
    batch = handler.handle([ReceivedMessage(body=b'{"not": "an event"}',
                                            exchange="pantau.ingress",
                                            routing_key="kota-bandung.dpmptsp.case.submitted",
                                            user_id="dept-kota-bandung-dpmptsp",
                                            content_type="application/json")])
    assert batch.outcomes == ("refused",)
    kinds = [c[0] for c in fake.calls]
    assert kinds == ["received", "refused"]  # the dead letter is counted by the shared consumer
    assert fake.calls[1][-1] == "invalid-event"


def test_mail_and_webhook_results_are_counted_with_bounded_labels() -> None:
    from dataclasses import dataclass

    from prometheus_client import REGISTRY

    from pantau_platform.metrics import record_mail, record_webhooks

    def value(name: str, **labels: str) -> float:
        return REGISTRY.get_sample_value(name, labels) or 0.0

    @dataclass
    class Report:  # the mailer's SendReport
        sent: int = 2
        deferred: int = 0
        failed: int = 1
        dropped: int = 0

    before = {r: value("pantau_mail_outbox_total", result=r) for r in ("sent", "failed")}
    record_mail(Report())
    assert value("pantau_mail_outbox_total", result="sent") == before["sent"] + 2
    assert value("pantau_mail_outbox_total", result="failed") == before["failed"] + 1
    dead = {"jurisdiction": "kota-bandung", "department": "other", "result": "dead"}
    start = value("pantau_webhook_attempts_total", **dead)
    record_webhooks({("kota-bandung", "A B", "dead"): 3})
    assert value("pantau_webhook_attempts_total", **dead) == start + 3
