"""Building tracking's outgoing CloudEvents: ``case.updated`` (version 2: ``CaseUpdatedV2``, the
whole ``PublicCaseV2`` with both clocks per step), ``case.overdue`` and ``event.rejected``.

A ``case.updated`` made by applying a department's event names that event in the envelope
(``pantaucausesource``/``pantaucauseid``/``pantaucausetype``): intake's outcomes process reads
it as "applied" for the department's event status API. Until this, every applied event also
wrote and relayed an ``event.applied`` row; one message now does both (``docs/performance.md``)."""

from __future__ import annotations

import hashlib
from datetime import datetime

from pantau_contracts.envelope import (
    CAUSE_ID_ATTRIBUTE,
    CAUSE_SOURCE_ATTRIBUTE,
    CAUSE_TYPE_ATTRIBUTE,
    event_to_json,
    make_event,
)
from pantau_contracts.payloads.tracking import (
    CaseOverdueV1,
    CaseUpdatedV2,
    EventRejectedV1,
)
from pantau_contracts.registry import dataschema_for
from pantau_contracts.routing import (
    CASES_EXCHANGE,
    FEEDBACK_EXCHANGE,
    case_key,
    feedback_key,
)
from pantau_tracking.domain.case import Case
from pantau_tracking.domain.lifecycle import ReceivedEvent, Refusal
from pantau_tracking.domain.public_record import case_sla, to_public
from pantau_tracking.service.ports import OutboxMessage

MAX_MESSAGE_ID = 200  # the outbox's message_id column holds 300; ids are the dedup key


def about_event(kind: str, event: ReceivedEvent) -> str:
    """The id of tracking's message about a department's event: ``kind:source:id`` while it fits
    the outbox column, else ``kind:sha256:<digest of source NUL id>`` — a source and an id each
    at the contract's maximum would not fit, and the id must stay deterministic (redelivery)."""
    readable = f"{kind}:{event.source}:{event.event_id}"
    if len(readable) <= MAX_MESSAGE_ID:
        return readable
    digest = hashlib.sha256(f"{event.source}\0{event.event_id}".encode()).hexdigest()
    return f"{kind}:sha256:{digest}"


def tracking_source(jurisdiction: str) -> str:
    return f"/{jurisdiction}/tracking"


def case_updated(case: Case, change: str, now: datetime,
                 cause: ReceivedEvent | None = None) -> OutboxMessage:
    """``case.updated`` carrying the whole public record; ``sequence`` = revision; ``cause``:
    the department event applied to make this revision (None for a timer's change)."""
    public = to_public(case, now)
    message_id = f"{case.receipt_number}:{case.revision}:updated"
    named = {} if cause is None else {CAUSE_SOURCE_ATTRIBUTE: cause.source,
                                      CAUSE_ID_ATTRIBUTE: cause.event_id,
                                      CAUSE_TYPE_ATTRIBUTE: cause.type}
    event = make_event(type="case.updated", source=tracking_source(case.jurisdiction),
                       data=CaseUpdatedV2(case=public, change=change), id=message_id,
                       subject=case.receipt_number, sequence=case.revision, time=now,
                       dataschema=dataschema_for("case.updated", 2), **named)
    return OutboxMessage(message_id, CASES_EXCHANGE, case_key("case.updated", case.jurisdiction),
                         event_to_json(event), case.receipt_number)


def case_overdue(case: Case, now: datetime) -> OutboxMessage:
    sla = case_sla(case, now)
    message_id = f"{case.receipt_number}:{case.revision}:overdue"
    data = CaseOverdueV1(receipt_number=case.receipt_number,
                         jurisdiction_code=case.jurisdiction, department_code=case.department,
                         service_code=case.definition.service.code,
                         due_date=sla.due_date.isoformat(), detected_at=now)
    event = make_event(type="case.overdue", source=tracking_source(case.jurisdiction), data=data,
                       id=message_id, subject=case.receipt_number, sequence=case.revision,
                       time=now, dataschema=dataschema_for("case.overdue", 1))
    return OutboxMessage(message_id, CASES_EXCHANGE, case_key("case.overdue", case.jurisdiction),
                         event_to_json(event), case.receipt_number)


def event_rejected(event: ReceivedEvent, refusal: Refusal, now: datetime) -> OutboxMessage:
    """``event.rejected`` back to the department on ``pantau.feedback``."""
    message_id = about_event("rejected", event)
    data = EventRejectedV1(event_id=event.event_id, event_source=event.source,
                           event_type=event.type, receipt_number=event.receipt_number,
                           stage="tracking", reason=refusal.reason, detail=refusal.detail,
                           rejected_at=now)
    cloud_event = make_event(type="event.rejected", source=tracking_source(event.jurisdiction),
                             data=data, id=message_id, subject=event.receipt_number, time=now,
                             dataschema=dataschema_for("event.rejected", 1))
    return OutboxMessage(message_id, FEEDBACK_EXCHANGE,
                         feedback_key(event.jurisdiction, event.department),
                         event_to_json(cloud_event), event.receipt_number)
