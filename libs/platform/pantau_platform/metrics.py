"""Pantau's Prometheus metrics: every metric name in one place, bounded labels, and the HTTP side.

Every process registers the metrics it records on ``prometheus_client``'s default registry; a
process exposes them on its own small HTTP server (``/metrics``), never on the public site:

* nameko processes: ``pantau_nameko.metrics.MetricsServer`` (``METRICS_PORT``/``METRICS_HOST``);
* FastAPI apps: ``instrument(app)`` adds HTTP RED metrics per *route template*
  (``prometheus-fastapi-instrumentator``; ``/v1/cases/{receipt}``, never the raw path) without
  exposing anything on the app, and ``serve(host, port)`` starts the separate metrics server
  (a daemon thread; these processes run no eventlet).

Labels are bounded (never a receipt number or an event id): ``type`` is a registered event type
or ``other``; ``jurisdiction``/``department`` come from the *authenticated* sender or an event
intake already authorised (catalogue codes), else ``unknown``/``other``; ``reason`` is one of
the refusal slugs (``bounded`` clips anything else to ``other``). The table of names is in the
README ("Metrics") and ``docs/operations.md``.
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Any

from prometheus_client import REGISTRY, Counter, Gauge, Histogram, start_http_server

from pantau_contracts.registry import EVENT_TYPES

__all__ = ["BATCH_DURATION", "BATCH_SIZE", "CASES_LATE_REPORTED", "CASES_OPEN", "CASES_OVERDUE",
           "DEAD_LETTERED", "ES_BULK_ERRORS", "ES_BULK_SECONDS", "EVENTS_ACCEPTED",
           "EVENTS_RECEIVED", "EVENTS_REFUSED", "EventCounters", "FRESHNESS_APPLIED",
           "FRESHNESS_SEARCHABLE", "MAIL_OUTBOX", "OUTBOX_BACKLOG", "OUTBOX_OLDEST_AGE",
           "WEBHOOK_ATTEMPTS", "bounded", "event_labels", "instrument", "record_mail",
           "record_webhooks", "serve"]

EVENT_LABELS = ("type", "jurisdiction", "department")
# Freshness is measured against a 1.5 s target (alerts.yml) and a 300 ms median (issue 13's
# goal; bench/e2e.py --freshness reads these histograms): fine buckets around both.
FRESHNESS_BUCKETS = (0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0,
                     10.0, 30.0, 60.0, 300.0, 900.0, 3600.0)

EVENTS_RECEIVED = Counter("pantau_events_received", "Department events intake received",
                          EVENT_LABELS)
EVENTS_ACCEPTED = Counter("pantau_events_accepted", "Events accepted and forwarded (intake) "
                          "or applied (tracking)", EVENT_LABELS)
EVENTS_REFUSED = Counter("pantau_events_refused", "Events refused, by reason",
                         (*EVENT_LABELS, "reason"))
DEAD_LETTERED = Counter("pantau_events_dead_lettered", "Messages copied to pantau.dlx, by the "
                        "queue they came from and the reason", ("queue", *EVENT_LABELS, "reason"))
BATCH_SIZE = Histogram("pantau_batch_size", "Messages per batch of the batching consumer",
                       ("queue",), buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500, 1000))
BATCH_DURATION = Histogram("pantau_batch_duration_seconds", "Time from a batch's dispatch to "
                           "its settlement (worker runs, retries and holds included)", ("queue",),
                           buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
                                    60, 300))
OUTBOX_BACKLOG = Gauge("pantau_outbox_backlog", "Outbox rows not yet published (tracking)")
OUTBOX_OLDEST_AGE = Gauge("pantau_outbox_oldest_unsent_age_seconds",
                          "Age of the oldest unpublished outbox row; 0 when none")
ES_BULK_SECONDS = Histogram("pantau_es_bulk_duration_seconds", "Elasticsearch bulk request "
                            "latency (indexer)", buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                         0.5, 1, 2.5, 5, 10))
ES_BULK_ERRORS = Counter("pantau_es_bulk_errors", "Elasticsearch bulk failures: kind=request "
                         "(the whole request failed), item (a document refused), transient",
                         ("kind",))
FRESHNESS_APPLIED = Histogram("pantau_freshness_applied_seconds", "From intake's pantaureceived "
                              "to tracking's commit of the event", buckets=FRESHNESS_BUCKETS)
FRESHNESS_SEARCHABLE = Histogram("pantau_freshness_searchable_seconds", "From intake's "
                                 "pantaureceived to searchable: a NEW timeline entry's bulk write "
                                 "returned, plus the index refresh interval",
                                 buckets=FRESHNESS_BUCKETS)
CASES_OPEN = Gauge("pantau_cases_open", "Open cases", ("jurisdiction",))
CASES_OVERDUE = Gauge("pantau_cases_overdue", "Open cases past their due date (marked overdue)",
                      ("jurisdiction",))
CASES_LATE_REPORTED = Gauge("pantau_cases_late_reported", "Open cases with at least one step "
                            "reported late", ("jurisdiction",))

MAIL_RESULTS = ("sent", "deferred", "failed", "dropped")
MAIL_OUTBOX = Counter("pantau_mail_outbox", "Follow mails the mailer's outbox handled, by result: "
                      "sent (the SMTP server accepted it), deferred (the address's hourly "
                      "limit), failed (retried later), dropped (refused for good, or out of "
                      "attempts)", ("result",))
WEBHOOK_RESULTS = ("delivered", "pending", "dead")
WEBHOOK_ATTEMPTS = Counter("pantau_webhook_attempts", "Webhook delivery attempts, by the "
                           "department's labels and result: delivered, pending (tried again "
                           "later), dead (given up)", ("jurisdiction", "department", "result"))
_TYPES = frozenset(t for (t, _v) in EVENT_TYPES)
_CODE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_REASON = re.compile(r"^[a-z][a-z0-9-]{0,39}$")


def bounded(value: str | None, kind: str) -> str:
    """``value`` if it is a bounded label of ``kind`` (type, code, reason), else a placeholder."""
    if not value:
        return "unknown"
    if kind == "type":
        return value if value in _TYPES else "other"
    pattern = _CODE if kind == "code" else _REASON
    return value if pattern.match(value) else "other"


def event_labels(event_type: str | None, jurisdiction: str | None,
                 department: str | None) -> dict[str, str]:
    return {"type": bounded(event_type, "type"), "jurisdiction": bounded(jurisdiction, "code"),
            "department": bounded(department, "code")}


def record_mail(report: Any) -> None:
    """Count one outbox run (``SendReport``: ``sent``, ``deferred``, ``failed``, ``dropped``).
    Every result's series exists from the mailer's first run (at 0), so ``increase`` sees the
    first failure; other processes export none."""
    for result in MAIL_RESULTS:
        MAIL_OUTBOX.labels(result=result).inc(int(getattr(report, result, 0)))


def record_webhooks(settled: dict[tuple[str, str, str], int]) -> None:
    """Count one delivery tick: ``{(jurisdiction, department, result): attempts}``."""
    for (jurisdiction, department, result), count in settled.items():
        WEBHOOK_ATTEMPTS.labels(jurisdiction=bounded(jurisdiction, "code"),
                                department=bounded(department, "code"),
                                result=result if result in WEBHOOK_RESULTS else "other").inc(count)


class EventCounters:
    """The Prometheus adapter of the services' ``EventMetrics`` port: one call per event."""

    def received(self, event_type: str | None, jurisdiction: str | None,
                 department: str | None) -> None:
        EVENTS_RECEIVED.labels(**event_labels(event_type, jurisdiction, department)).inc()

    def accepted(self, event_type: str | None, jurisdiction: str | None,
                 department: str | None) -> None:
        EVENTS_ACCEPTED.labels(**event_labels(event_type, jurisdiction, department)).inc()

    def refused(self, event_type: str | None, jurisdiction: str | None, department: str | None,
                reason: str) -> None:
        EVENTS_REFUSED.labels(**event_labels(event_type, jurisdiction, department),
                              reason=bounded(reason, "reason")).inc()


# -- FastAPI -----------------------------------------------------------------------------------

_instrumentator_lock = threading.Lock()
_instrumentator: Any = None


def instrument(app: Any) -> None:
    """HTTP RED metrics (``http_requests_total``, ``http_request_duration_seconds``, …) per
    route template for ``app``; nothing is exposed on the app itself. One instrumentator per
    process (its metrics are registered once even when tests build many apps)."""
    global _instrumentator
    from prometheus_fastapi_instrumentator import Instrumentator
    from prometheus_fastapi_instrumentator import metrics as http_metrics

    with _instrumentator_lock:
        if _instrumentator is None:
            # Only requests and latency: the library's default set also observes request sizes
            # with int(Content-Length), which raises on a malformed header and turned a bad
            # request into a 500 (intake's fuzz test).
            _instrumentator = Instrumentator(should_group_status_codes=False,
                                             excluded_handlers=["/healthz", "/readyz"],
                                             registry=REGISTRY)
            _instrumentator.add(http_metrics.requests(registry=REGISTRY),
                                http_metrics.latency(registry=REGISTRY))
        _instrumentator.instrument(app)


def serve(host: str, port: int) -> Any:
    """Start ``/metrics`` on ``host:port`` in a daemon thread (0 = off: returns None)."""
    if port <= 0:
        return None
    try:
        server, _thread = start_http_server(port, addr=host)
    except OSError as exc:  # the app itself still serves; only its metrics are missing
        logging.getLogger(__name__).error("metrics server could not bind %s:%d (%s); running "
                                          "without it", host, port, exc)
        return None
    return server


def routing_labels(routing_key: str | None) -> dict[str, str]:
    """Bounded labels from a routing key: ``{jurisdiction}.{department}.{type}`` (department
    events) or ``{type}.{jurisdiction}`` (tracking's ``case.*`` events); else placeholders."""
    key = routing_key or ""
    for event_type in _TYPES:
        if key.startswith(event_type + "."):
            return event_labels(event_type, key[len(event_type) + 1:], None)
    parts = key.split(".", 2)
    if len(parts) == 3:
        return event_labels(parts[2], parts[0], parts[1])
    return event_labels(None, None, None)


def record_dead_letter(queue: str, routing_key: str | None, reason: Any) -> None:
    """Count one dead letter (``reason``: the JSON reason object or its slug)."""
    slug = reason.get("reason") if isinstance(reason, dict) else reason
    DEAD_LETTERED.labels(queue=queue, **routing_labels(routing_key),
                         reason=bounded(str(slug or ""), "reason")).inc()
