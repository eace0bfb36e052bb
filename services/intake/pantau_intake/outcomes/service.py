"""The nameko service of the outcomes process.

* ``record`` — ``batch_consume`` on ``intake.outcomes`` (refusals, and ``event.applied`` from
  trackings before this version, from ``pantau.feedback``; ``case.updated`` — which names the
  event it applied — and ``case.overdue`` from ``pantau.cases``): each message is
  parsed (``domain.outcomes.parse``; one that is not ours is acked and logged, never looped),
  then ``OutcomeRecorder.record`` stores the batch and enqueues webhook deliveries in one
  transaction. The database away → ``DependencyUnavailable`` (the batch is held, not
  dead-lettered; ``pantau_nameko.batching``). Acked after the commit, so a crash redelivers the
  batch and the idempotent store ignores what it already has.
* ``deliver`` — a timer every ``PANTAU_INTAKE_WEBHOOK_TICK_SECONDS``: one ``WebhookDispatcher``
  tick (nameko runs a timer's next tick only after the previous one returned); its attempts are
  counted by result in ``pantau_webhook_attempts_total`` (alert: ``PantauWebhooksDying``).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from nameko.extensions import DependencyProvider
from nameko.timer import timer

from pantau_contracts.routing import INTAKE_OUTCOMES_QUEUE
from pantau_intake.adapters.credential_store import CredentialStore
from pantau_intake.adapters.outcome_store import SqlOutcomeStore
from pantau_intake.adapters.secretbox import SecretBox
from pantau_intake.adapters.sql import ping
from pantau_intake.adapters.webhook_http import HttpxPoster, StoreSigningKeys
from pantau_intake.domain.outcomes import parse
from pantau_intake.domain.store import StoreUnavailable
from pantau_intake.outcomes.settings import OutcomesSettings
from pantau_intake.service.outcomes import OutcomeRecorder
from pantau_intake.service.webhook_delivery import WebhookDispatcher
from pantau_nameko import delivery as amqp
from pantau_nameko.batching import batch_consume
from pantau_nameko.failures import DependencyUnavailable
from pantau_nameko.health import Health, HealthServer
from pantau_nameko.metrics import MetricsServer
from pantau_platform.metrics import record_webhooks

log = logging.getLogger(__name__)
CONFIG_PREFIX = "INTAKE_OUTCOMES"
TICK_SECONDS = OutcomesSettings().intake_webhook_tick_seconds  # read once: a decorator argument


class Outcomes(DependencyProvider):  # type: ignore[misc]
    """The recorder and the dispatcher on intake's database, httpx and the credential store."""

    def setup(self) -> None:
        settings = OutcomesSettings()
        url = settings.credentials_database_url
        self.store = SqlOutcomeStore(url, retention=timedelta(
            days=settings.intake_outcomes_retention_days))
        self.keys = CredentialStore(url, SecretBox(settings.intake_master_key))
        self.poster = HttpxPoster(timeout=settings.intake_webhook_timeout_seconds,
                                  concurrency=settings.intake_webhook_concurrency,
                                  production=settings.production)
        self.recorder = OutcomeRecorder(self.store)
        self.dispatcher = WebhookDispatcher(
            self.store, StoreSigningKeys(self.keys), self.poster,
            backoff=settings.webhook_backoff, batch=settings.intake_webhook_batch,
            lease=timedelta(seconds=settings.intake_webhook_timeout_seconds * 3 + 30))

    def stop(self) -> None:
        self.poster.close()
        self.keys.dispose()
        self.store.dispose()

    def get_dependency(self, worker_ctx: Any) -> Outcomes:
        return self

    def ping(self) -> bool:
        return ping(self.store.engine)


class OutcomesService:
    name = "intake_outcomes"
    outcomes: Outcomes = Outcomes()
    health: Health = HealthServer()  # GET /healthz, /readyz on HEALTH_PORT (settings: 8105)
    metrics = MetricsServer()  # GET /metrics on METRICS_PORT (settings: 9105)

    @batch_consume(INTAKE_OUTCOMES_QUEUE, max_size=200, max_wait_ms=50, prefetch=500,
                   config_prefix=CONFIG_PREFIX)
    def record(self, deliveries: list[amqp.Delivery]) -> None:
        messages = []
        for message in deliveries:
            parsed = parse(message.exchange or "", message.routing_key or "", message.body)
            if not parsed:
                log.warning("ignored message %s on %s (%s): not an outcome intake reads",
                            message.message_id, message.exchange, message.routing_key)
            messages.extend(parsed)
        try:
            recorded = self.outcomes.recorder.record(messages)
        except StoreUnavailable as exc:
            raise DependencyUnavailable("database", str(exc)[:500],
                                        probe=self.outcomes.ping) from exc
        if recorded.outcomes or recorded.deliveries:
            log.info("recorded %d outcome(s), enqueued %d webhook delivery(ies)",
                     recorded.outcomes, recorded.deliveries)

    @timer(interval=TICK_SECONDS)
    def deliver(self) -> None:
        try:
            report = self.outcomes.dispatcher.tick(datetime.now(UTC))
        except StoreUnavailable as exc:
            log.warning("webhook delivery: database unavailable (%s); next tick retries", exc)
        except Exception:  # noqa: BLE001 - nothing is lost: the rows stay pending
            log.warning("webhook delivery failed; next tick retries", exc_info=True)
        else:
            record_webhooks(report.settled)
