"""``Forwarder`` on RabbitMQ: validated events → ``pantau.accepted`` with publisher confirms.

Tracing: one producer span per event, child of the current span (intake-http's server span or
the ingress's consume span) and linked to the department's own ``traceparent`` if it set one.
The forwarded event's ``traceparent``/``tracestate`` (and the message headers) name that span, so
tracking continues intake's trace; the department's context survives as the link.

The HTTP intake gives it a ``GroupedPublisher``: a request's events are published in order,
contiguous, in a group with other requests' events, and ``forward`` returns once THEY are
confirmed (one wait per group, not per request).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from pantau_contracts import ValidatedEvent
from pantau_contracts.routing import ACCEPTED_EXCHANGE, department_key
from pantau_intake.service.acceptance import ForwardError
from pantau_platform import tracing
from pantau_platform.amqp import Outgoing, PublishError

STRUCTURED_CONTENT_TYPE = "application/cloudevents+json"


def outgoing_for(event: ValidatedEvent, trace: Mapping[str, str] | None = None) -> Outgoing:
    """The message for one accepted event: structured JSON bytes, message_id = event id; with
    ``trace`` (a carrier), the event's trace attributes and headers name that span."""
    trace = dict(trace or {})
    return Outgoing(exchange=ACCEPTED_EXCHANGE,
                    routing_key=department_key(event.jurisdiction, event.department, event.type),
                    body=tracing.with_trace(event.raw, trace), message_id=event.id,
                    content_type=STRUCTURED_CONTENT_TYPE,
                    headers={"ce-source": event.source, "ce-type": event.type, **trace})


class Publisher(Protocol):
    """``pantau_platform.amqp.ConfirmingPublisher`` (one caller per channel: the AMQP ingress)
    or ``GroupedPublisher`` (concurrent HTTP requests' confirms grouped on one channel)."""

    def publish_many(self, items: Sequence[Outgoing]) -> None: ...


class AmqpForwarder:
    """Publishes in order on one confirm channel; returns only after every confirm."""

    def __init__(self, publisher: Publisher) -> None:
        self._publisher = publisher

    def forward(self, events: Sequence[ValidatedEvent]) -> None:
        spans = [tracing.start_span(
            f"{ACCEPTED_EXCHANGE} publish", [tracing.event_carrier(e.raw)],
            kind=tracing.SpanKind.PRODUCER, use_current=True,
            attributes={tracing.EVENT_ID: e.id, tracing.RECEIPT: e.subject or "",
                        "messaging.destination.name": ACCEPTED_EXCHANGE}) for e in events]
        try:
            self._publisher.publish_many([outgoing_for(e, tracing.current_carrier(span))
                                          for e, span in zip(events, spans, strict=True)])
        except PublishError as exc:
            for span in spans:
                tracing.fail(span, str(exc))
            raise ForwardError(str(exc)) from exc
        finally:
            tracing.end_all(spans)
