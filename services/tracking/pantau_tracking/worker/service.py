"""The nameko service ``tracking``. Entrypoints are thin: validate, call a use case, map the
result.

Failures (docs: the service README, "Failures"): a contract violation or an event that fails on
its own is poison (dead-lettered with its reason); the database being away is not the events'
fault — ``handle_batch`` raises ``StoreUnavailable`` and the batch is held
(``DependencyUnavailable("database", probe=store.ping)``) until the database answers, then
applied. Timers (overdue scan, purge, transparency sequencer) log a failure and try again at
their next tick; the outbox relay retries on its own.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable
from typing import Any

from nameko.rpc import rpc
from nameko.timer import timer

from pantau_contracts.envelope import ContractViolation
from pantau_contracts.registry import validate_event
from pantau_contracts.routing import TRACKING_QUEUE
from pantau_nameko.batching import Delivery, batch_consume
from pantau_nameko.failures import DependencyUnavailable
from pantau_nameko.health import Health, HealthServer
from pantau_nameko.metrics import MetricsServer
from pantau_platform import tracing
from pantau_platform.metrics import EventCounters
from pantau_tracking.adapters.metrics import record_applied
from pantau_tracking.domain.lifecycle import ReceivedEvent
from pantau_tracking.service.handler import as_event
from pantau_tracking.service.ports import StoreUnavailable
from pantau_tracking.settings import TrackingSettings
from pantau_tracking.worker.dependencies import Runtime, TrackingRuntime

log = logging.getLogger(__name__)
# Timer intervals are fixed when the class is defined, so they are read from the environment here.
# One source for each interval: the settings class (PANTAU_TRACKING_OVERDUE_INTERVAL, …).
_SETTINGS = TrackingSettings()
OVERDUE_INTERVAL = _SETTINGS.tracking_overdue_interval
PURGE_INTERVAL = _SETTINGS.tracking_purge_interval
CHECKPOINT_INTERVAL = _SETTINGS.transparency_checkpoint_interval
# The log is sequenced more often than it is signed, so the queue stays short and a checkpoint
# is due as soon as its interval has passed.
SEQUENCE_INTERVAL = min(CHECKPOINT_INTERVAL, 5.0)
SLA_METRICS_INTERVAL = _SETTINGS.tracking_sla_metrics_interval
COUNTERS = EventCounters()


def start_apply_spans(events: list[ReceivedEvent], deliveries: list[Delivery],
                      ) -> tuple[list[ReceivedEvent], list[tracing.Span]]:
    """One span per event of the batch, each the child of its own message's context (the
    forwarder's publish span, or the event's ``traceparent``); each event then carries its span's
    context, which tracking copies onto the outbox rows it causes."""
    spans = [tracing.start_span(f"{TRACKING_QUEUE} apply",
                                [tracing.delivery_carrier(d.headers, d.body)],
                                kind=tracing.SpanKind.CONSUMER,
                                attributes={tracing.EVENT_ID: e.event_id,
                                            tracing.RECEIPT: _receipt(e)})
             for e, d in zip(events, deliveries, strict=True)]
    traced = [dataclasses.replace(e, traceparent=carrier.get(tracing.TRACEPARENT),
                                  tracestate=carrier.get(tracing.TRACESTATE))
              for e, carrier in ((e, tracing.current_carrier(s))
                                 for e, s in zip(events, spans, strict=True))]
    return traced, spans


def end_apply_spans(spans: list[tracing.Span], failed: Iterable[int], detail: str) -> None:
    for index in failed:
        tracing.fail(spans[index], detail)
    tracing.end_all(spans)


def _receipt(event: ReceivedEvent) -> str:
    try:
        return event.receipt_number
    except AttributeError:  # not a case event (it fails in the handler and is dead-lettered)
        return ""


class TrackingService:
    name = "tracking"

    tracking: Runtime = TrackingRuntime()
    health: Health = HealthServer()  # GET /healthz, /readyz on HEALTH_PORT (settings: 8101)
    metrics = MetricsServer()  # GET /metrics on METRICS_PORT (settings: 9101)

    # batch size, wait, prefetch …: TrackingSettings, through the container config (``__main__``)
    @batch_consume(TRACKING_QUEUE, config_prefix="TRACKING")
    def handle_accepted(self, deliveries: list[Delivery]) -> dict[int, dict[str, Any]]:
        """Apply a batch of accepted department events (committed before this returns); returns
        the poison ones by index — the extension dead-letters those, then acks the batch.
        Raises ``DependencyUnavailable`` when the database is away: the batch is held, never
        dead-lettered."""
        poison: dict[int, dict[str, Any]] = {}
        indexes: list[int] = []
        events = []
        now = self.tracking.handler.clock.now()  # received time of pre-upgrade (unstamped) events
        for index, delivery in enumerate(deliveries):
            try:
                events.append(as_event(validate_event(delivery.body), now))
                indexes.append(index)
            except ContractViolation as exc:
                poison[index] = {"reason": "contract-violation", **exc.as_dict()}
                COUNTERS.refused(exc.event_type, None, None, "contract-violation")
        events, spans = start_apply_spans(events, [deliveries[i] for i in indexes])
        try:
            failures = self.tracking.handler.handle_batch(events)
        except StoreUnavailable as exc:
            end_apply_spans(spans, range(len(spans)), f"{exc.dependency} unavailable")
            raise DependencyUnavailable(exc.dependency, exc.detail,
                                        probe=self.tracking.store.ping) from exc
        except Exception:
            end_apply_spans(spans, range(len(spans)), "handler-failed")
            raise
        end_apply_spans(spans, (failure.index for failure in failures), "processing-failed")
        record_applied(events, (failure.index for failure in failures))  # after the commit
        for failure in failures:
            poison[indexes[failure.index]] = {"reason": "processing-failed",
                                              "detail": failure.error}
            event = events[failure.index]
            COUNTERS.refused(event.type, event.jurisdiction, event.department,
                             "processing-failed")
        self.tracking.kick_relay()
        return poison

    @timer(interval=OVERDUE_INTERVAL)
    def scan_overdue(self) -> None:
        """Mark cases past their due date; give up on sequence gaps that never filled."""
        try:
            marked = self.tracking.handler.check_overdue()
            expired = self.tracking.handler.expire_pending()
        except Exception as exc:  # noqa: BLE001 - nothing is lost: the next tick scans again
            self._timer_failed("overdue scan", exc)
            return
        if marked or expired:
            log.info("overdue scan: %d marked overdue; %d buffered receipt(s) re-examined",
                     marked, expired)
            self.tracking.kick_relay()

    @timer(interval=SLA_METRICS_INTERVAL, eager=True)
    def refresh_sla_metrics(self) -> None:
        """Open, overdue and late-reported cases per jurisdiction (``pantau_cases_*``)."""
        try:
            self.tracking.sla_gauges.refresh()
        except Exception as exc:  # noqa: BLE001 - the gauges keep their last value
            self._timer_failed("SLA metrics", exc)

    @timer(interval=PURGE_INTERVAL)
    def purge_retention(self) -> None:
        """Delete sent outbox rows and dedup records past their retention (bounded batches)."""
        try:
            self.tracking.retention.purge()
        except Exception as exc:  # noqa: BLE001 - nothing is lost by purging later
            self._timer_failed("retention purge", exc)

    @timer(interval=SEQUENCE_INTERVAL)
    def sequence_log(self) -> None:
        """Log history recorded before the log existed (once), give queued log entries their
        leaf indexes, and sign a checkpoint when one is due."""
        try:
            result = self.tracking.maintain_log(CHECKPOINT_INTERVAL)
        except Exception as exc:  # noqa: BLE001 - the queue keeps every entry; the next run goes on
            self._timer_failed("transparency sequencer", exc)
            return
        if result.checkpoint is not None:
            log.info("transparency checkpoint: tree size %d (+%d)", result.tree_size,
                     result.appended)

    def _timer_failed(self, what: str, exc: Exception) -> None:
        """A timer's failure: one line when the database is away (expected during an outage),
        the traceback otherwise."""
        dependency = self.tracking.store.unavailable(exc)
        if dependency is not None:
            log.warning("%s: %s unavailable (%s); will retry at the next tick", what, dependency,
                        type(exc).__name__)
        else:
            log.warning("%s failed; will retry at the next tick", what, exc_info=True)

    @rpc
    def get_case(self, receipt_number: str) -> dict[str, Any] | None:
        return self.tracking.handler.get_case(receipt_number)

    @rpc
    def list_public_cases(self, after: str | None = None, limit: int = 500) -> list[dict[str, Any]]:
        return self.tracking.handler.list_public_cases(after, limit)

    @rpc
    def count_cases(self) -> int:
        return self.tracking.handler.count_cases()
