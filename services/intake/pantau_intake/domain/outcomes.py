"""What became of a department's event, as intake learns it afterwards (plain Python).

Three kinds of message reach intake's outcomes process (queue ``intake.outcomes``):

* ``event.rejected`` on ``pantau.feedback`` with key ``{j}.{d}`` — refused by tracking
  (``stage`` = ``tracking``) or by intake's own AMQP ingress (``stage`` = ``intake``);
* ``case.updated`` / ``case.overdue`` on ``pantau.cases`` — the public record of a case, for
  webhooks. A ``case.updated`` that names the department event which made it (tracking's
  ``pantaucause*`` extensions) is also that event's "applied" outcome; the department is the
  case's own (tracking applies an event only from the department that owns the case);
* ``event.applied`` on ``pantau.feedback`` with key ``applied.{j}.{d}`` — what tracking sent
  for an applied event before ``case.updated`` named its cause; still read, so the two can be
  upgraded in either order (an event reported both ways is stored once: ``outcome_key``).

The department of a refusal is taken from the ROUTING KEY (set by the service that
authenticated the sender), never from the refused event's ``source``: an event forged in another
department's name is refused and reported to its real sender only. ``parse`` turns one message
into what intake reads from it — an ``EventOutcome``, a ``CaseNotice``, both (a ``case.updated``
with a cause), or nothing (ignored: an unknown type, a malformed body — a message intake cannot
read is not worth a dead letter loop; it is logged by the caller).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from pantau_contracts.envelope import (
    CAUSE_ID_ATTRIBUTE,
    CAUSE_SOURCE_ATTRIBUTE,
    CAUSE_TYPE_ATTRIBUTE,
)
from pantau_intake.domain.departments import DepartmentRef

APPLIED: Literal["applied"] = "applied"
REFUSED: Literal["refused"] = "refused"
REFUSAL_TYPE = "event.rejected"
APPLIED_TYPE = "event.applied"
CASE_TYPES = ("case.updated", "case.overdue")


def outcome_key(source: str, event_id: str) -> str:
    """The stored key of an event: SHA-256 of ``source`` NUL ``id`` (as the accepted-events
    memory keys it), so one event has one outcome whichever path reported it."""
    return hashlib.sha256(f"{source}\0{event_id}".encode()).hexdigest()


@dataclass(frozen=True)
class EventOutcome:
    """An event applied or refused. ``body`` is the outcome CloudEvent as received (what a
    webhook delivers for a refusal)."""

    department: DepartmentRef
    source: str
    event_id: str
    event_type: str
    receipt_number: str | None
    outcome: Literal["applied", "refused"]
    at: datetime
    stage: str | None = None
    reason: str | None = None
    detail: str | None = None
    revision: int | None = None
    body: bytes = b""
    message_id: str = ""  # the outcome CloudEvent's own id (a webhook delivery's key)

    @property
    def key(self) -> str:
        return outcome_key(self.source, self.event_id)


@dataclass(frozen=True)
class CaseNotice:
    """A case's public event (``case.updated`` / ``case.overdue``) for the owning department's
    webhook."""

    department: DepartmentRef
    receipt_number: str
    event_type: str
    body: bytes
    message_id: str = ""  # the CloudEvent's id (a webhook delivery's key)


Message = EventOutcome | CaseNotice


def parse(exchange: str, routing_key: str, body: bytes) -> list[Message]:
    """What one message of ``intake.outcomes`` says; empty if it is not one of ours."""
    try:
        event = json.loads(body)
        data = event["data"]
        kind = event["type"]
    except (ValueError, KeyError, TypeError):
        return []
    if not isinstance(data, dict):
        return []
    if exchange == "pantau.cases" and kind in CASE_TYPES:
        notice = _case_notice(kind, data, body, str(event.get("id") or ""))
        if notice is None:
            return []
        applied = _applied_by(notice, event) if kind == "case.updated" else None
        return [notice] if applied is None else [applied, notice]
    department = _department_of(routing_key)
    if department is None:
        return []
    if kind == REFUSAL_TYPE:
        return [_outcome(department, data, REFUSED, data.get("rejected_at"), body, event)]
    if kind == APPLIED_TYPE:
        return [_outcome(department, data, APPLIED, data.get("applied_at"), body, event)]
    return []


def _applied_by(notice: CaseNotice, event: dict[str, Any]) -> EventOutcome | None:
    """The "applied" outcome a ``case.updated`` names (``pantaucause*``), or None."""
    source, event_id = event.get(CAUSE_SOURCE_ATTRIBUTE), event.get(CAUSE_ID_ATTRIBUTE)
    if not (isinstance(source, str) and source and isinstance(event_id, str) and event_id):
        return None
    revision = event.get("sequence")
    return EventOutcome(
        department=notice.department, source=source, event_id=event_id,
        event_type=_text(event.get(CAUSE_TYPE_ATTRIBUTE)) or "",
        receipt_number=notice.receipt_number, outcome=APPLIED, at=_time(event.get("time")),
        revision=revision if isinstance(revision, int) else None,
        message_id=notice.message_id)


def _department_of(routing_key: str) -> DepartmentRef | None:
    parts = routing_key.removeprefix("applied.").split(".")
    if len(parts) != 2:
        return None
    try:
        return DepartmentRef(parts[0], parts[1])
    except ValueError:
        return None


def _outcome(department: DepartmentRef, data: dict[str, Any], outcome: Literal[
        "applied", "refused"], at: Any, body: bytes, event: dict[str, Any]) -> EventOutcome:
    # An event too broken to have an id (intake's AMQP refusal of unreadable bytes) is keyed by
    # the refusal's own id: still listed in the department's refusals, never found by id.
    event_id = str(data.get("event_id") or "") or f"refusal:{event.get('id', '')}"
    revision = data.get("revision")
    return EventOutcome(
        department=department, source=str(data.get("event_source") or ""), event_id=event_id,
        event_type=str(data.get("event_type") or ""),
        receipt_number=_text(data.get("receipt_number")), outcome=outcome, at=_time(at),
        stage=_text(data.get("stage")), reason=_text(data.get("reason")),
        detail=_text(data.get("detail")),
        revision=revision if isinstance(revision, int) else None, body=body,
        message_id=str(event.get("id") or ""))


def _case_notice(kind: str, data: dict[str, Any], body: bytes,
                 message_id: str) -> CaseNotice | None:
    record = data.get("case") if kind == "case.updated" else data
    if not isinstance(record, dict):
        return None
    try:
        department = DepartmentRef(str(record["jurisdiction_code"]),
                                   str(record["department_code"]))
        receipt = str(record["receipt_number"])
    except (KeyError, ValueError):
        return None
    return CaseNotice(department, receipt, kind, body, message_id)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _time(value: Any) -> datetime:
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
            return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        except ValueError:
            pass
    return datetime.now(UTC)
