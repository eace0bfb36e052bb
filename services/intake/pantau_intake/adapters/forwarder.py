"""``Forwarder`` on RabbitMQ: validated events → ``pantau.accepted`` with publisher confirms."""

from __future__ import annotations

from collections.abc import Sequence

from pantau_contracts import ValidatedEvent
from pantau_contracts.routing import ACCEPTED_EXCHANGE, department_key
from pantau_intake.service.acceptance import ForwardError
from pantau_platform.amqp import ConfirmingPublisher, Outgoing, PublishError

STRUCTURED_CONTENT_TYPE = "application/cloudevents+json"


def outgoing_for(event: ValidatedEvent) -> Outgoing:
    """The message for one accepted event: structured JSON bytes, message_id = event id."""
    return Outgoing(exchange=ACCEPTED_EXCHANGE,
                    routing_key=department_key(event.jurisdiction, event.department, event.type),
                    body=event.raw, message_id=event.id, content_type=STRUCTURED_CONTENT_TYPE,
                    headers={"ce-source": event.source, "ce-type": event.type})


class AmqpForwarder:
    """Publishes in order on one confirm channel; returns only after every confirm."""

    def __init__(self, publisher: ConfirmingPublisher) -> None:
        self._publisher = publisher

    def forward(self, events: Sequence[ValidatedEvent]) -> None:
        try:
            self._publisher.publish_many([outgoing_for(e) for e in events])
        except PublishError as exc:
            raise ForwardError(str(exc)) from exc
