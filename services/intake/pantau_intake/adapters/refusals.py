"""``RefusalSink`` on RabbitMQ: dead letters to ``pantau.dlx``, ``event.rejected`` feedback.

A dead letter keeps the department's body and plain headers; its x-pantau-* headers are intake's
alone (``dead_letter_headers``), and it is published with intake's own ``user_id`` (the
publisher's login) — which is what lets the dead-letter tool believe them.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from pantau_contracts import event_to_json, make_event
from pantau_contracts.payloads.tracking import EventRejectedV1
from pantau_contracts.routing import (
    DEAD_LETTER_EXCHANGE,
    DEAD_LETTERED_AT_HEADER,
    DEAD_LETTERED_BY_HEADER,
    FEEDBACK_EXCHANGE,
    INTAKE_INGRESS_QUEUE,
    ORIGIN_EXCHANGE_HEADER,
    ORIGIN_QUEUE_HEADER,
    ORIGIN_ROUTING_KEY_HEADER,
    ORIGIN_USER_HEADER,
    REASON_HEADER,
    dead_letter_headers,
)
from pantau_intake.domain.departments import DepartmentRef
from pantau_intake.domain.messages import ReceivedMessage, Refusal, RefusalRecord
from pantau_platform.amqp import ConfirmingPublisher, Outgoing, PublishError

log = logging.getLogger(__name__)


def dead_letter_message(delivery: ReceivedMessage, refusal: Refusal) -> Outgoing:
    # The department's own x-pantau-* / x-death headers are dropped: the dead-letter tool
    # trusts the x-pantau-* headers of a letter intake published, so they must all be ours.
    headers = dead_letter_headers(delivery.headers)
    headers.update({
        REASON_HEADER: json.dumps(refusal.as_dict(), ensure_ascii=False),
        ORIGIN_EXCHANGE_HEADER: delivery.exchange,
        ORIGIN_ROUTING_KEY_HEADER: delivery.routing_key,
        ORIGIN_QUEUE_HEADER: INTAKE_INGRESS_QUEUE,
        DEAD_LETTERED_BY_HEADER: "intake_ingress",
        DEAD_LETTERED_AT_HEADER: datetime.now(UTC).isoformat(),
    })
    if delivery.user_id:
        headers[ORIGIN_USER_HEADER] = delivery.user_id
    return Outgoing(exchange=DEAD_LETTER_EXCHANGE, routing_key=delivery.routing_key or "unrouted",
                    body=delivery.body, headers=headers, message_id=delivery.message_id,
                    content_type=delivery.content_type or "application/octet-stream")


class AmqpRefusalSink:
    def __init__(self, publisher: ConfirmingPublisher) -> None:
        self._publisher = publisher

    def dead_letter(self, delivery: ReceivedMessage, refusal: Refusal) -> None:
        self._publisher.publish(dead_letter_message(delivery, refusal))

    def feedback(self, department: DepartmentRef, record: RefusalRecord) -> None:
        payload = EventRejectedV1(
            event_id=record.event_id, event_source=record.event_source,
            event_type=record.event_type, receipt_number=record.receipt_number, stage="intake",
            reason=record.refusal.reason, detail=record.refusal.detail,
            errors=tuple(p.as_dict() for p in record.refusal.errors),
            rejected_at=record.rejected_at)
        event = make_event(type="event.rejected", source=f"/{department.jurisdiction}/intake",
                           data=payload, subject=record.receipt_number)
        try:
            self._publisher.publish(Outgoing(
                exchange=FEEDBACK_EXCHANGE,
                routing_key=f"{department.jurisdiction}.{department.department}",
                body=event_to_json(event), message_id=str(event.get_id())))
        except PublishError as exc:
            # Feedback is a courtesy: the dead letter (already confirmed) keeps the reason. A
            # department without a feedback queue (apply-amqp not run) must not block ingress.
            log.warning("feedback to %s not delivered: %s", department, exc)
