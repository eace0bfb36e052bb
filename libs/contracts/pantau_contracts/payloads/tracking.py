"""Events tracking emits (outbound, via its outbox), version 1.

``source`` is ``/{jurisdiction}/tracking``; ``sequence`` is the case's ``revision``.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from pantau_contracts.payloads.base import Code, Payload, ReceiptNumber
from pantau_contracts.payloads.public import PublicCaseV1, PublicCaseV2


class CaseUpdatedV1(Payload):
    """``case.updated``: the public record of a case changed. Carries the whole public record."""

    case: PublicCaseV1
    change: str = Field(description="What changed: the inbound event type that caused it, "
                                    "or 'overdue' / 'rebuild'")


class CaseUpdatedV2(Payload):
    """``case.updated`` v2: the whole public record with both clocks on every step."""

    case: PublicCaseV2
    change: str = Field(description="What changed: the inbound event type that caused it, "
                                    "or 'overdue' / 'rebuild'")


class CaseOverdueV1(Payload):
    """``case.overdue``: a case passed its due date without being closed."""

    receipt_number: ReceiptNumber
    jurisdiction_code: Code
    department_code: Code
    service_code: Code
    due_date: str
    detected_at: datetime


class EventRejectedV1(Payload):
    """``event.rejected``: an inbound event was refused; sent back to the emitting department."""

    event_id: str
    event_source: str
    event_type: str
    receipt_number: str | None = None
    stage: str = Field(description="Which step refused it: 'intake' or 'tracking'")
    reason: str = Field(description="Machine-readable reason, e.g. 'invalid-transition'")
    detail: str = Field(description="Human-readable explanation")
    errors: tuple[dict[str, str], ...] = ()
    rejected_at: datetime


class EventAppliedV1(Payload):
    """``event.applied``: tracking applied a department's event to its case. Goes to intake (on
    ``pantau.feedback`` with key ``applied.{jurisdiction}.{department}``, which the departments'
    own ``feedback.{j}.{d}`` queues do not receive), so a department can ask for its event's
    fate over HTTP. Ids and the case revision only: no personal data. Superseded by the
    ``pantaucause*`` extensions of ``case.updated`` (``envelope.CAUSE_SOURCE_ATTRIBUTE``); kept,
    and still read by intake, for trackings that send it."""

    event_id: str
    event_source: str
    event_type: str
    receipt_number: str
    revision: int = Field(description="The case's revision after the event was applied")
    applied_at: datetime
