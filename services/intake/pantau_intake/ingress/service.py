"""The nameko service: ``batch_consume`` on ``intake.ingress`` and every department's own
``intake.ingress.{jurisdiction}.{department}`` (``department_queues``, from the catalogue at
start) around ``IngressHandler``.

The shared batch consumer (``pantau_nameko.batching``) brings what a bare nameko consumer lacks:
the exact bytes plus routing key, ``user_id`` and content type of every message (nothing
decoded), one batch at a time in queue order, a back-off before a failed batch is requeued (a
database or broker blip is not burnt through the quorum queue's delivery limit in milliseconds),
and on a message's last allowed delivery a dead letter WITH ``x-pantau-reason``
(``handler-failed`` and the error) instead of the broker's reasonless one. The queue is never
declared here: ``infra/rabbitmq/topology.json`` owns it.

One batch, one settlement convention (the house's): ``IngressHandler.handle`` forwards the
batch's new events (one confirmed publish) and returns the refused ones by index; the method
returns them as ``Failures`` and the consumer dead-letters them (confirmed), then runs
``IngressHandler.tell`` (each sender's ``event.rejected``), then acks the batch. If the broker
does not confirm the forward, or the accepted-events memory cannot be consulted, the dependency
is away — not the messages' fault: the method raises ``DependencyUnavailable("broker" |
"database", probe=...)`` and the batch is HELD (never dead-lettered, no delivery used up) until
the probe answers, then handled again (``failures``). Handled again, events the broker had
confirmed before the failure are forwarded once more (they were not remembered yet) and
tracking drops them by (source, id); nothing was dead-lettered or told yet, so nothing is told
twice. Anything else is unknown: retried a bounded number of times, then
requeued (``handler-failed`` at the delivery limit). Batch size, wait and prefetch:
``IntakeSettings`` (``PANTAU_INTAKE_INGRESS_BATCH_SIZE`` …).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from nameko.extensions import DependencyProvider

from pantau_contracts.routing import INTAKE_INGRESS_QUEUE, department_ingress_queue
from pantau_intake.adapters.accepted_events import SqlAcceptedEvents
from pantau_intake.adapters.directory import CatalogueDirectory
from pantau_intake.adapters.forwarder import AmqpForwarder
from pantau_intake.adapters.refusals import AmqpRefusalFeedback
from pantau_intake.adapters.sql import ledger_engine_for, ping
from pantau_intake.domain.messages import ReceivedMessage
from pantau_intake.ingress.failures import unavailable
from pantau_intake.service.ingress import IngressBatch, IngressHandler
from pantau_intake.settings import IntakeSettings
from pantau_nameko import delivery as amqp
from pantau_nameko.batching import Failures, batch_consume
from pantau_nameko.failures import DependencyUnavailable
from pantau_nameko.health import Health, HealthServer
from pantau_nameko.metrics import MetricsServer
from pantau_platform import tracing
from pantau_platform.amqp import ConfirmingPublisher
from pantau_platform.metrics import EventCounters

log = logging.getLogger(__name__)
CONFIG_PREFIX = "INTAKE_INGRESS"
"""Container config keys ``INTAKE_INGRESS_BATCH_SIZE`` … (``__main__``, from ``IntakeSettings``)."""


def department_queues(directory: CatalogueDirectory | None = None) -> list[str]:
    """Every catalogue department's own ingress queue (``INTAKE_INGRESS_EXTRA_QUEUES``), consumed
    besides the catch-all ``intake.ingress``. A case belongs to one department, so the per-queue
    order the batch consumer keeps is the per-case order."""
    catalogue = (directory or CatalogueDirectory()).catalogue
    return sorted(department_ingress_queue(j.code, d.code) for j in catalogue.jurisdictions.values()
                  for d in j.departments.values())


def as_message(message: amqp.Delivery) -> ReceivedMessage:
    """The received message as the framework-free handler takes it."""
    return ReceivedMessage(body=message.body, exchange=message.exchange,
                           routing_key=message.routing_key, user_id=message.user_id,
                           content_type=message.content_type, message_id=message.message_id,
                           headers=message.headers)


def consume_span(deliveries: list[amqp.Delivery]) -> Any:
    """The span of one ingress batch, linked to each department's context (its AMQP header or
    its event's ``traceparent``; correlation only), parent of the forwarder's publish spans."""
    queues = sorted({message.queue or INTAKE_INGRESS_QUEUE for message in deliveries})
    return tracing.batch_span(
        f"{queues[0] if len(queues) == 1 else INTAKE_INGRESS_QUEUE} process",
        [tracing.delivery_carrier(message.headers, message.body) for message in deliveries],
        attributes={"messaging.batch.message_count": len(deliveries),
                    "messaging.destination.name": ",".join(queues)})


@dataclass(frozen=True)
class Ingress:
    """What the service method gets: the handler and a probe per dependency it may wait for."""

    handler: IngressHandler
    probes: dict[str, Callable[[], bool]]


class Handler(DependencyProvider):  # type: ignore[misc]
    """Injects the ``IngressHandler`` wired to RabbitMQ (confirming publisher), the catalogue and
    the accepted-events memory in intake's database (shared with the HTTP replicas, so a retry is
    recognised whichever way it arrives), with probes for both."""

    def setup(self) -> None:
        settings = IntakeSettings()
        self.publisher = ConfirmingPublisher(settings.service_amqp_url("intake"))
        self.engine = ledger_engine_for(settings.credentials_database_url)
        self.handler = IngressHandler(
            CatalogueDirectory(), AmqpForwarder(self.publisher),
            AmqpRefusalFeedback(self.publisher),
            trusted_users=[u.strip() for u in settings.intake_trusted_amqp_users.split(",")],
            accepted=SqlAcceptedEvents(self.engine,
                                       keep=float(settings.intake_idempotency_seconds)),
            max_future_skew=float(settings.intake_max_future_skew_seconds),
            metrics=EventCounters())
        engine = self.engine
        self.ingress = Ingress(self.handler, {"broker": self.publisher.check,
                                              "database": lambda: ping(engine)})

    def stop(self) -> None:
        self.publisher.close()
        self.engine.dispose()

    def get_dependency(self, worker_ctx: Any) -> Ingress:
        return self.ingress


class IngressService:
    name = "intake_ingress"
    ingress: Ingress = Handler()
    health: Health = HealthServer()  # GET /healthz, /readyz on HEALTH_PORT (settings: 8103)
    metrics = MetricsServer()  # GET /metrics on METRICS_PORT (settings: 9103)

    # batch size, wait, prefetch …: IntakeSettings, through the container config (``__main__``)
    @batch_consume(INTAKE_INGRESS_QUEUE, config_prefix=CONFIG_PREFIX)
    def ingest(self, deliveries: list[amqp.Delivery]) -> Failures:
        """Handle the batch in queue order; its refusals are returned by index (the consumer
        dead-letters them, then tells the senders). The broker or the database away →
        ``DependencyUnavailable`` (the batch is held); any other failure raises as it is."""
        handler = self.ingress.handler
        try:
            with consume_span(deliveries):
                batch = handler.handle([as_message(message) for message in deliveries])
        except Exception as exc:
            dependency = unavailable(exc)
            if dependency is None:
                raise
            raise DependencyUnavailable(dependency, f"{type(exc).__name__}: {exc}"[:500],
                                        probe=self.ingress.probes.get(dependency)) from exc
        log.info("batch of %d: %s", len(deliveries),
                 ", ".join(f"{n} {outcome}" for outcome, n in batch.counts().items()))
        return Failures(batch.dead_letter_reasons(), then=_teller(handler, batch))


def _teller(handler: IngressHandler, batch: IngressBatch) -> Any:
    """What runs once the batch's dead letters are confirmed: telling the senders."""
    return (lambda: handler.tell(batch)) if batch.refused else None
