"""``RefusalFeedback`` on RabbitMQ: a refused message's ``event.rejected`` record to its sender.

The dead letter itself is not written here: the AMQP ingress returns its refusals by index and the
shared batch consumer (``pantau_nameko.batching``) dead-letters them, confirmed, with intake's
own ``user_id`` — which is what lets the dead-letter tool believe their x-pantau-* headers — and
only then asks for this feedback (``IngressHandler.tell``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from pantau_contracts import event_to_json, make_event
from pantau_contracts.payloads.tracking import EventRejectedV1
from pantau_contracts.routing import FEEDBACK_EXCHANGE
from pantau_intake.domain.departments import DepartmentRef
from pantau_intake.domain.messages import RefusalRecord
from pantau_platform.amqp import ConfirmingPublisher, Outgoing, PublishError

log = logging.getLogger(__name__)


class AmqpRefusalFeedback:
    def __init__(self, publisher: ConfirmingPublisher) -> None:
        self._publisher = publisher

    def feedback(self, department: DepartmentRef, records: Sequence[RefusalRecord]) -> None:
        """One confirmed publish for all of ``department``'s records (its routing key, so an
        unroutable key fails only this department's feedback). Best effort: if it fails, none
        of these records is sent, and their dead letters keep the reasons."""
        key = f"{department.jurisdiction}.{department.department}"
        try:
            self._publisher.publish_many([_outgoing(department, key, r) for r in records])
        except PublishError as exc:
            # Feedback is a courtesy: the dead letter (already confirmed) keeps the reason. A
            # department without a feedback queue (apply-amqp not run) must not block ingress.
            log.warning("feedback to %s not delivered: %s", department, exc)


def _outgoing(department: DepartmentRef, key: str, record: RefusalRecord) -> Outgoing:
    payload = EventRejectedV1(
        event_id=record.event_id, event_source=record.event_source,
        event_type=record.event_type, receipt_number=record.receipt_number, stage="intake",
        reason=record.refusal.reason, detail=record.refusal.detail,
        errors=tuple(p.as_dict() for p in record.refusal.errors),
        rejected_at=record.refused_at)
    event = make_event(type="event.rejected", source=f"/{department.jurisdiction}/intake",
                       data=payload, subject=record.receipt_number)
    return Outgoing(exchange=FEEDBACK_EXCHANGE, routing_key=key, body=event_to_json(event),
                    message_id=str(event.get_id()))
