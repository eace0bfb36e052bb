"""What the AMQP ingress handles and answers: a received message, a refusal, the record sent back.

``ReceivedMessage`` is one message as it arrived on ``intake.ingress`` (the parts intake looks
at). ``Refusal`` is why it was refused (a reason code, a detail, field errors; its wire form is
``as_dict``: the ``x-pantau-reason`` header and the ``event.rejected`` payload's ``rejection``).
``RefusalRecord`` is what the sending department is told (an ``event.rejected`` payload). Plain
values; ``service.ingress`` makes them, ``adapters.refusals`` publishes them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pantau_contracts import FieldProblem


@dataclass(frozen=True)
class ReceivedMessage:
    """One message as it arrived (the parts intake looks at)."""

    body: bytes
    exchange: str
    routing_key: str
    user_id: str | None = None
    content_type: str | None = None
    message_id: str | None = None
    headers: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Refusal:
    """Why a message was refused; ``errors`` are {field, problem, expected}."""

    reason: str
    detail: str
    errors: tuple[FieldProblem, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {"reason": self.reason, "detail": self.detail, "stage": "intake",
                "errors": [p.as_dict() for p in self.errors]}


@dataclass(frozen=True)
class RefusalRecord:
    """What the department is told (becomes an ``event.rejected`` payload)."""

    event_id: str
    event_source: str
    event_type: str
    receipt_number: str | None
    refusal: Refusal
    refused_at: datetime
