"""The nameko service: a thin entrypoint around ``IngressHandler``."""

from __future__ import annotations

import logging
from typing import Any

from kombu.entity import Exchange, Queue
from nameko.extensions import DependencyProvider

from pantau_contracts.routing import INGRESS_EXCHANGE, INTAKE_INGRESS_QUEUE
from pantau_intake.adapters.accepted_events import SqlAcceptedEvents
from pantau_intake.adapters.directory import CatalogueDirectory
from pantau_intake.adapters.forwarder import AmqpForwarder
from pantau_intake.adapters.rejections import AmqpRejectionSink
from pantau_intake.adapters.sql import ledger_engine_for
from pantau_intake.ingress.entrypoint import raw_consume
from pantau_intake.service.ingress import Delivery, IngressHandler
from pantau_intake.settings import IntakeSettings
from pantau_platform.amqp import ConfirmingPublisher

log = logging.getLogger(__name__)

# Must match infra/rabbitmq/topology.json exactly, or the declare fails (PRECONDITION_FAILED).
INGRESS_EXCHANGE_ENTITY = Exchange(  # type: ignore[no-untyped-call]
    INGRESS_EXCHANGE, type="topic", durable=True)
INGRESS_QUEUE = Queue(  # type: ignore[no-untyped-call]
    INTAKE_INGRESS_QUEUE, exchange=INGRESS_EXCHANGE_ENTITY,
    routing_key="#", durable=True,
    queue_arguments={"x-queue-type": "quorum", "x-dead-letter-exchange": "pantau.dlx",
                     "x-delivery-limit": 5})


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
                                       keep=float(settings.intake_idempotency_seconds)))

    def stop(self) -> None:
        self.publisher.close()
        self.engine.dispose()

    def get_dependency(self, worker_ctx: Any) -> IngressHandler:
        return self.handler


class IngressService:
    name = "intake_ingress"
    handler = Handler()

    @raw_consume(INGRESS_QUEUE)  # type: ignore[untyped-decorator]
    def ingest(self, delivery: Delivery) -> None:
        outcome = self.handler.handle(delivery)
        log.info("%s message %s (routing key %s)", outcome, delivery.message_id,
                 delivery.routing_key)
