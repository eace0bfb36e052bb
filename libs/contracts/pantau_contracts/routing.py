"""RabbitMQ names shared by every process. The topology itself is declared in
``infra/rabbitmq/topology.json`` and applied by ``python -m pantau_platform.topology``.

Routing keys are ``{jurisdiction}.{department}.{event type}``, e.g.
``kota-bandung.dpmptsp.case.submitted``; per-department AMQP users may only write keys that start
with their own ``{jurisdiction}.{department}.``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

INGRESS_EXCHANGE = "pantau.ingress"  # departments publish raw events here over AMQP
ACCEPTED_EXCHANGE = "pantau.accepted"  # intake publishes validated events here
CASES_EXCHANGE = "pantau.cases"  # tracking publishes case.updated / case.overdue here
FEEDBACK_EXCHANGE = "pantau.feedback"  # rejections reported back to departments
DEAD_LETTER_EXCHANGE = "pantau.dlx"

INTAKE_INGRESS_QUEUE = "intake.ingress"  # catch-all: what no department queue routes (operator)
INGRESS_UNROUTED_EXCHANGE = "pantau.ingress.unrouted"  # pantau.ingress's alternate exchange
TRACKING_QUEUE = "tracking.accepted"
PUBLISHING_QUEUE = "publishing.cases"
FOLLOW_QUEUE = "publishing.follow"  # the mailer: case events for e-mail followers
DEAD_LETTER_QUEUE = "pantau.dead-letter"

REASON_HEADER = "x-pantau-reason"  # why a message was dead-lettered (JSON)
ORIGIN_EXCHANGE_HEADER = "x-pantau-origin-exchange"
ORIGIN_ROUTING_KEY_HEADER = "x-pantau-origin-routing-key"


def department_key(jurisdiction: str, department: str, event_type: str) -> str:
    return f"{jurisdiction}.{department}.{event_type}"


def department_ingress_queue(jurisdiction: str, department: str) -> str:
    """The department's own bounded ingress queue, e.g. ``intake.ingress.kota-bandung.dpmptsp``:
    one flooding department fills only its own queue (``x-overflow: reject-publish``)."""
    return f"{INTAKE_INGRESS_QUEUE}.{jurisdiction}.{department}"


def department_binding_key(jurisdiction: str, department: str) -> str:
    """Binds ``pantau.ingress`` to the department's ingress queue: its own routing keys only."""
    return f"{jurisdiction}.{department}.#"


def case_key(event_type: str, jurisdiction: str) -> str:
    """Routing key for tracking's events, e.g. ``case.updated.kota-bandung``."""
    return f"{event_type}.{jurisdiction}"


def feedback_queue(jurisdiction: str, department: str) -> str:
    return f"feedback.{jurisdiction}.{department}"


INTAKE_OUTCOMES_QUEUE = "intake.outcomes"
"""Intake's outcomes process reads every refusal and the case events — a ``case.updated`` names
the event it applied — for the departments' event status API and webhooks; and ``event.applied``,
which trackings sent before ``case.updated`` named its cause."""


def feedback_key(jurisdiction: str, department: str) -> str:
    """``event.rejected`` on ``pantau.feedback``: what ``feedback.{j}.{d}`` is bound to."""
    return f"{jurisdiction}.{department}"


def applied_key(jurisdiction: str, department: str) -> str:
    """``event.applied`` on ``pantau.feedback`` (trackings before ``case.updated`` named its
    cause; still read by intake): a key the departments' own feedback queues (bound with exactly
    ``{j}.{d}``) do not match, so AMQP departments see no change."""
    return f"applied.{jurisdiction}.{department}"


# --- Dead letters: who may say what (see docs/reliability.md, "Replaying dead letters safely").
# Any publisher can put any header on its message, so the x-pantau-* headers below mean something
# only on a message whose AMQP ``user_id`` (which RabbitMQ checks against the login) is a Pantau
# service or the dead-letter tool. Services that dead-letter a message themselves therefore build
# its headers with ``dead_letter_headers``: every inbound x-pantau-* header except
# ``REPLAY_AS_HEADER`` and every broker death header is dropped before they write their own.
ORIGIN_QUEUE_HEADER = "x-pantau-origin-queue"  # the queue the service consumed the message from
ORIGIN_USER_HEADER = "x-pantau-origin-user"  # the inbound message's authenticated user_id
DEAD_LETTERED_BY_HEADER = "x-pantau-dead-lettered-by"  # the service that dead-lettered it
DEAD_LETTERED_AT_HEADER = "x-pantau-dead-lettered-at"  # ISO 8601 UTC, written by that service
PROVENANCE_HEADER = "x-pantau-provenance"  # JSON, written by ``deadletters scrub`` only
REPLAY_AS_HEADER = "x-pantau-replay-as"
"""The department AMQP user an operator replay acts for. Honoured (by intake's ingress and by the
dead-letter tool) only on a message whose ``user_id`` is a trusted operator; on anyone else's
message it is ignored — which is why it may pass through ``dead_letter_headers``."""

BROKER_DEATH_HEADERS = frozenset({
    "x-death", "x-first-death-queue", "x-first-death-reason", "x-first-death-exchange",
    "x-last-death-queue", "x-last-death-reason", "x-last-death-exchange"})
"""Written by RabbitMQ when it dead-letters a message — but a publisher may pre-plant them, and
RabbitMQ 3.x keeps a pre-planted ``x-death`` entry (exchange, routing keys, time) when it matches
the real queue and reason, only bumping its count. Only the newest entry's ``queue`` and
``reason`` are the broker's own word."""

INTERNAL_QUEUES = frozenset({TRACKING_QUEUE, PUBLISHING_QUEUE, FOLLOW_QUEUE})
"""Queues only Pantau services write to (through ``pantau.accepted`` / ``pantau.cases``)."""

QUEUE_OF_EXCHANGE = {INGRESS_EXCHANGE: INTAKE_INGRESS_QUEUE, ACCEPTED_EXCHANGE: TRACKING_QUEUE,
                     CASES_EXCHANGE: PUBLISHING_QUEUE}
"""For dead letters written before ``ORIGIN_QUEUE_HEADER`` existed."""


def is_department_facing(queue: str) -> bool:
    """True for intake's ingress queue(s) — ``intake.ingress`` or a per-department
    ``intake.ingress.<...>`` — whose messages come from departments."""
    return queue == INTAKE_INGRESS_QUEUE or queue.startswith(INTAKE_INGRESS_QUEUE + ".")


def dead_letter_headers(inbound: Mapping[Any, Any] | None) -> dict[str, Any]:
    """The inbound headers a service may copy onto its own dead letter: string keys only,
    without broker death headers and without x-pantau-* headers (except ``REPLAY_AS_HEADER``),
    so that every x-pantau-* header on the letter is the service's own word."""
    if not isinstance(inbound, Mapping):
        return {}
    return {k: v for k, v in inbound.items()
            if isinstance(k, str) and k not in BROKER_DEATH_HEADERS
            and (not k.lower().startswith("x-pantau-") or k == REPLAY_AS_HEADER)}
