"""RabbitMQ names shared by every process. The topology itself is declared in
``infra/rabbitmq/topology.json`` and applied by ``python -m pantau_platform.topology``.

Routing keys are ``{jurisdiction}.{department}.{event type}``, e.g.
``kota-bandung.dpmptsp.case.submitted``; per-department AMQP users may only write keys that start
with their own ``{jurisdiction}.{department}.``.
"""

from __future__ import annotations

INGRESS_EXCHANGE = "pantau.ingress"  # departments publish raw events here over AMQP
ACCEPTED_EXCHANGE = "pantau.accepted"  # intake publishes validated events here
CASES_EXCHANGE = "pantau.cases"  # tracking publishes case.updated / case.overdue here
FEEDBACK_EXCHANGE = "pantau.feedback"  # rejections reported back to departments
DEAD_LETTER_EXCHANGE = "pantau.dlx"

INTAKE_INGRESS_QUEUE = "intake.ingress"
TRACKING_QUEUE = "tracking.accepted"
PUBLISHING_QUEUE = "publishing.cases"
DEAD_LETTER_QUEUE = "pantau.dead-letter"

REASON_HEADER = "x-pantau-reason"  # why a message was dead-lettered (JSON)
ORIGIN_EXCHANGE_HEADER = "x-pantau-origin-exchange"
ORIGIN_ROUTING_KEY_HEADER = "x-pantau-origin-routing-key"


def department_key(jurisdiction: str, department: str, event_type: str) -> str:
    return f"{jurisdiction}.{department}.{event_type}"


def case_key(event_type: str, jurisdiction: str) -> str:
    """Routing key for tracking's events, e.g. ``case.updated.kota-bandung``."""
    return f"{event_type}.{jurisdiction}"


def feedback_queue(jurisdiction: str, department: str) -> str:
    return f"feedback.{jurisdiction}.{department}"
