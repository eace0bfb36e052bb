"""``RejectionSink`` on RabbitMQ: dead letters to ``pantau.dlx``, ``event.rejected`` feedback."""

from __future__ import annotations

import json
import logging

from pantau_contracts import event_to_json, make_event
from pantau_contracts.payloads.tracking import EventRejectedV1
from pantau_contracts.routing import (
    DEAD_LETTER_EXCHANGE,
    FEEDBACK_EXCHANGE,
    ORIGIN_EXCHANGE_HEADER,
    ORIGIN_ROUTING_KEY_HEADER,
    REASON_HEADER,
)
from pantau_intake.domain.departments import DepartmentRef
from pantau_intake.service.ingress import Delivery, RejectedRecord, Rejection
from pantau_platform.amqp import ConfirmingPublisher, Outgoing, PublishError

log = logging.getLogger(__name__)


def dead_letter_message(delivery: Delivery, rejection: Rejection) -> Outgoing:
    headers = {k: v for k, v in delivery.headers.items() if isinstance(k, str)}
    headers.update({
        REASON_HEADER: json.dumps(rejection.as_dict(), ensure_ascii=False),
        ORIGIN_EXCHANGE_HEADER: delivery.exchange,
        ORIGIN_ROUTING_KEY_HEADER: delivery.routing_key,
    })
    if delivery.user_id:
        headers["x-pantau-origin-user"] = delivery.user_id
    return Outgoing(exchange=DEAD_LETTER_EXCHANGE, routing_key=delivery.routing_key or "unrouted",
                    body=delivery.body, headers=headers, message_id=delivery.message_id,
                    content_type=delivery.content_type or "application/octet-stream")


class AmqpRejectionSink:
    def __init__(self, publisher: ConfirmingPublisher) -> None:
        self._publisher = publisher

    def dead_letter(self, delivery: Delivery, rejection: Rejection) -> None:
        self._publisher.publish(dead_letter_message(delivery, rejection))

    def feedback(self, department: DepartmentRef, record: RejectedRecord) -> None:
        payload = EventRejectedV1(
            event_id=record.event_id, event_source=record.event_source,
            event_type=record.event_type, receipt_number=record.receipt_number, stage="intake",
            reason=record.rejection.reason, detail=record.rejection.detail,
            errors=tuple(p.as_dict() for p in record.rejection.errors),
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
