"""The nameko service: ``batch_consume`` on ``intake.ingress`` around ``IngressHandler``.

The shared batch consumer (``pantau_nameko.batching``) brings what a bare nameko consumer lacks:
the exact bytes plus routing key, ``user_id`` and content type of every message (nothing
decoded), one batch at a time in queue order, a back-off before a failed batch is requeued (a
database or broker blip is not burnt through the quorum queue's delivery limit in milliseconds),
and on a message's last allowed delivery a dead letter WITH ``x-pantau-reason``
(``handler-failed`` and the error) instead of the broker's reasonless one. The queue is never
declared here: ``infra/rabbitmq/topology.json`` owns it.

Per message (in order) ``IngressHandler.handle`` forwards it (confirmed) or dead-letters it with
its reason (confirmed) and tells the department; only when the method returned is the batch
acked. If a forward, a dead letter or the accepted-events memory fails, the method raises and
the whole batch is requeued: forwarded events come back as duplicates (recognised by the
accepted-events memory), rejected ones would be dead-lettered and reported again — which is why
a batch is one message by default (``PANTAU_INTAKE_INGRESS_BATCH_SIZE``; the prefetch keeps the
next messages at hand all the same).
"""

from __future__ import annotations

import logging
from typing import Any

from nameko.extensions import DependencyProvider

from pantau_contracts.routing import INTAKE_INGRESS_QUEUE
from pantau_intake.adapters.accepted_events import SqlAcceptedEvents
from pantau_intake.adapters.directory import CatalogueDirectory
from pantau_intake.adapters.forwarder import AmqpForwarder
from pantau_intake.adapters.rejections import AmqpRejectionSink
from pantau_intake.adapters.sql import ledger_engine_for
from pantau_intake.service.ingress import Delivery, IngressHandler
from pantau_intake.settings import IntakeSettings
from pantau_nameko import delivery as amqp
from pantau_nameko.batching import batch_consume
from pantau_platform.amqp import ConfirmingPublisher

log = logging.getLogger(__name__)
CONFIG_PREFIX = "INTAKE_INGRESS"
"""Container config keys ``INTAKE_INGRESS_BATCH_SIZE`` … (see ``__main__``)."""


def as_ingress(message: amqp.Delivery) -> Delivery:
    """The batch consumer's raw delivery as the framework-free handler takes it."""
    return Delivery(body=message.body, exchange=message.exchange,
                    routing_key=message.routing_key, user_id=message.user_id,
                    content_type=message.content_type, message_id=message.message_id,
                    headers=message.headers)


class Handler(DependencyProvider):  # type: ignore[misc]
    """Injects the ``IngressHandler`` wired to RabbitMQ (confirming publisher), the catalogue and
    the accepted-events memory in intake's database (shared with the HTTP replicas, so a retry is
    recognised whichever way it arrives)."""

    def setup(self) -> None:
        settings = IntakeSettings()
        self.publisher = ConfirmingPublisher(settings.amqp_url)
        self.engine = ledger_engine_for(settings.credentials_database_url)
        self.handler = IngressHandler(
            CatalogueDirectory(), AmqpForwarder(self.publisher),
            AmqpRejectionSink(self.publisher),
            trusted_users=[u.strip() for u in settings.intake_trusted_amqp_users.split(",")],
            accepted=SqlAcceptedEvents(self.engine,
                                       keep=float(settings.intake_idempotency_seconds)),
            max_future_skew=float(settings.intake_max_future_skew_seconds))

    def stop(self) -> None:
        self.publisher.close()
        self.engine.dispose()

    def get_dependency(self, worker_ctx: Any) -> IngressHandler:
        return self.handler


class IngressService:
    name = "intake_ingress"
    handler = Handler()

    @batch_consume(INTAKE_INGRESS_QUEUE, max_size=1, max_wait_ms=20, prefetch=50,
                   config_prefix=CONFIG_PREFIX)
    def ingest(self, deliveries: list[amqp.Delivery]) -> None:
        """Handle the batch in queue order; raise (→ requeue after a back-off) on a failure."""
        for message in deliveries:
            outcome = self.handler.handle(as_ingress(message))
            log.info("%s message %s (routing key %s)", outcome, message.message_id,
                     message.routing_key)
