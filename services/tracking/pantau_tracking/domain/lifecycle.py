"""How department events move a case, and why an event is refused.

Transitions (public status in brackets):

* ``case.submitted`` opens a case [diterima]. Refused if the receipt already exists
  (``duplicate-receipt``), the service is not in the jurisdiction's catalogue
  (``unknown-service``) or belongs to another department (``wrong-department``).
* ``case.stage_started(stage)`` [the stage's public status: verifikasi / diproses]. Stages move
  FORWARD in the service's order; skipping ahead is ALLOWED (departments skip optional steps,
  e.g. no field inspection for a simple building); re-entering the current stage or going back is
  refused (``stage-order``); a stage not in the workflow is ``unknown-stage``; while returned to
  the applicant it is ``case-paused`` (resume first).
* ``case.returned`` [dikembalikan] pauses the clock (``already-paused`` if it is paused).
* ``case.resumed`` returns to the status and stage held before the return (``not-paused`` else).
* ``case.rejected`` [ditolak], ``case.completed`` [selesai], ``case.withdrawn`` [dibatalkan] close
  the case from any open state, paused included.
* A closed case accepts nothing (``case-closed``). Any event for a receipt tracking does not know
  is ``unknown-case``; an event from a department that does not own the case's service is
  ``wrong-department``.

Three times per step (all UTC; the tolerance ``T`` is ``case.definition.reporting_tolerance``
working days, a snapshot taken with the case):

* **claimed** — the event's ``time``: when the department *says* the step happened.
* **received** (``received_at``) — ``ReceivedEvent.received``: when Pantau's intake received the
  report (``pantaureceived``), which no department can set.
* ``at`` — the claim as recorded: ``min(claimed, received)`` (a step cannot have happened after
  Pantau heard of it) and never earlier than the previous step's ``at`` (a timeline is always
  ordered even if a department's clock is off).
* ``reporting_delay_days`` — ``working_days_between(local_date(at), local_date(received))`` in the
  jurisdiction's zone; the step is ``late_reported`` when it exceeds ``T``.
* **counted** (``counted_at``) — ``at`` for a timely report; for a late one, ``received`` moved
  back ``T`` working days (``calendar.shift_back``), never earlier than ``at``. A late report is
  thus believed only as far back as the tolerance allows.

The service clock always takes the time that is worse for the department: it STARTS at the
submission's ``at`` (an earlier start never helps a department), a pause starts at the return's
``counted_at`` and ends at the resume's ``at``, the case closes at the closing step's
``counted_at`` (``Case.closed_at``), and step ``i`` runs from ``history[i].at`` to
``history[i + 1].counted_at``. So back-dating a report can never make a case look faster than
the times Pantau can vouch for (received times, less the tolerance for ends).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pantau_contracts.payloads.department as dept
from pantau_contracts.catalogue import ServiceDefinition
from pantau_contracts.vocabulary import PublicStatus
from pantau_tracking.domain.calendar import local_date, shift_back, working_days_between
from pantau_tracking.domain.case import Applicant, Case, HistoryEntry


@dataclass(frozen=True)
class ReceivedEvent:
    """A validated department *event* as the domain sees it, with the time Pantau received it
    (an event, not a message: the contracts have parsed it; ``service.handler.as_event``)."""

    event_id: str
    source: str
    type: str
    time: datetime
    jurisdiction: str
    department: str
    payload: Any
    received: datetime  # when intake received it (``pantaureceived``), see ``as_event``
    sequence: int | None = None
    raw: bytes = field(default=b"", repr=False)  # the exact CloudEvent JSON, for buffering
    # W3C trace context the entrypoint gives this event (opaque; copied onto what it causes)
    traceparent: str | None = None
    tracestate: str | None = None

    @property
    def receipt_number(self) -> str:
        return str(self.payload.receipt_number)


@dataclass(frozen=True)
class StepTimes:
    """The clocks of one step (see the module doc)."""

    at: datetime
    received_at: datetime
    counted_at: datetime
    late_reported: bool
    reporting_delay_days: int


def step_times(*, claimed: datetime, received: datetime, previous_at: datetime | None,
               tolerance: int, timezone: str) -> StepTimes:
    """Clamp the claimed time and decide whether the step was reported late."""
    claimed, received = _utc(claimed), _utc(received)
    at = min(claimed, received)
    if previous_at is not None:
        at = max(at, previous_at)
    delay = working_days_between(local_date(at, timezone), local_date(received, timezone))
    late = delay > tolerance
    counted = max(at, shift_back(received, tolerance, timezone)) if late else at
    return StepTimes(at, received, counted, late, delay)


@dataclass(frozen=True)
class Refusal:
    """Why an event was refused: a machine ``reason`` and a human ``detail``."""

    reason: str
    detail: str


@dataclass(frozen=True)
class Accepted:
    """The case after the event, and what changed (the received event's type)."""

    case: Case
    change: str


Decision = Accepted | Refusal
"""What the domain decides about one event: accept it (the case after it) or refuse it."""


def open_case(event: ReceivedEvent, definition: ServiceDefinition | None,
              existing: Case | None) -> Decision:
    """Apply a ``case.submitted``: a new case, or a refusal."""
    payload = event.payload
    assert isinstance(payload, dept.CaseSubmittedV1)
    if existing is not None:
        return Refusal("duplicate-receipt",
                       f"receipt {payload.receipt_number} already exists (opened by "
                       f"/{existing.jurisdiction}/{existing.department}); receipt numbers must "
                       "be unique")
    if definition is None or definition.jurisdiction_code != event.jurisdiction:
        return Refusal("unknown-service",
                       f"service {payload.service_code!r} is not in the catalogue of "
                       f"{event.jurisdiction}")
    if definition.department_code != event.department:
        return Refusal("wrong-department",
                       f"service {payload.service_code!r} belongs to department "
                       f"{definition.department_code!r}, not {event.department!r}")
    times = _times(event, definition, None)
    at = times.at
    applicant = None
    if payload.applicant is not None:
        a = payload.applicant
        applicant = Applicant(name=a.name, nik=a.nik, phone=a.phone,
                              email=str(a.email) if a.email else None, address=a.address)
    case = Case(
        receipt_number=payload.receipt_number, definition=definition, submitted_at=at,
        status=PublicStatus.DITERIMA, stage_code=None, revision=1,
        updated_at=max(at, times.received_at), kecamatan=payload.kecamatan,
        channel=payload.channel, applicant=applicant, last_sequence=event.sequence)
    case.history.append(_entry(1, PublicStatus.DITERIMA, None, payload.note, payload.actor_role,
                               event, times))
    return Accepted(case, event.type)


def apply_event(case: Case | None, event: ReceivedEvent) -> Decision:
    """Apply any non-submitted department event to ``case``. Refusals leave the case untouched."""
    if case is None:
        return Refusal("unknown-case", f"no case with receipt {event.receipt_number}; "
                                       "send case.submitted first")
    if case.jurisdiction != event.jurisdiction or case.department != event.department:
        return Refusal("wrong-department",
                       f"case {case.receipt_number} belongs to /{case.jurisdiction}/"
                       f"{case.department}, not /{event.jurisdiction}/{event.department}")
    if case.is_final:
        return Refusal("case-closed", f"case {case.receipt_number} is already "
                                      f"{case.status.value}; a closed case accepts nothing")
    payload = event.payload
    status: PublicStatus
    stage_code = case.stage_code
    if isinstance(payload, dept.CaseStageStartedV1):
        service = case.definition.service
        index = service.stage_index(payload.stage)
        if index is None:
            return Refusal("unknown-stage",
                           f"stage {payload.stage!r} is not in the workflow of "
                           f"{service.code}: " + ", ".join(s.code for s in service.stages))
        if case.paused:
            return Refusal("case-paused", f"case {case.receipt_number} is returned to the "
                                          "applicant; send case.resumed first")
        if index <= case.stage_index:
            return Refusal("stage-order",
                           f"stage {payload.stage!r} is not after the current stage "
                           f"{service.stages[case.stage_index].code!r}; stages only move forward")
        status, stage_code, note = service.stages[index].public_status, payload.stage, payload.note
    elif isinstance(payload, dept.CaseReturnedV1):
        if case.paused:
            return Refusal("already-paused", f"case {case.receipt_number} is already returned "
                                             "to the applicant")
        status, note = PublicStatus.DIKEMBALIKAN, payload.reason
    elif isinstance(payload, dept.CaseResumedV1):
        if not case.paused:
            return Refusal("not-paused", f"case {case.receipt_number} is not returned to the "
                                         "applicant; nothing to resume")
        before = _before_last_return(case)
        status, stage_code, note = before.status, before.stage_code, payload.note
    elif isinstance(payload, dept.CaseRejectedV1):
        status, note = PublicStatus.DITOLAK, payload.reason
    elif isinstance(payload, dept.CaseCompletedV1):
        status, note = PublicStatus.SELESAI, payload.note
    elif isinstance(payload, dept.CaseWithdrawnV1):
        status, note = PublicStatus.DIBATALKAN, payload.reason
    else:
        return Refusal("unsupported-event", f"{event.type} does not change a case")
    times = _times(event, case.definition,
                   case.history[-1].at if case.history else case.submitted_at)
    case.history.append(_entry(len(case.history) + 1, status, stage_code, note,
                               payload.actor_role, event, times))
    case.status = status
    case.stage_code = stage_code
    case.revision += 1
    case.updated_at = max(case.updated_at, times.at, times.received_at)
    if status.is_final:
        case.closed_at = times.counted_at
    if event.sequence is not None:
        case.last_sequence = event.sequence
    return Accepted(case, event.type)


def mark_overdue(case: Case, now: datetime) -> Case:
    """Record that the overdue state was detected and announced (revision grows)."""
    case.overdue_reported = True
    case.revision += 1
    case.updated_at = max(case.updated_at, _utc(now))
    return case


def _times(event: ReceivedEvent, definition: ServiceDefinition,
           previous_at: datetime | None) -> StepTimes:
    return step_times(claimed=event.time, received=event.received, previous_at=previous_at,
                      tolerance=definition.reporting_tolerance, timezone=definition.timezone)


def _entry(seq: int, status: PublicStatus, stage_code: str | None, note: str | None,
           actor_role: str | None, event: ReceivedEvent, times: StepTimes) -> HistoryEntry:
    return HistoryEntry(seq, status, stage_code, times.at, note, actor_role, event.type,
                        event.event_id, event.source, received_at=times.received_at,
                        counted_at=times.counted_at, late_reported=times.late_reported,
                        reporting_delay_days=times.reporting_delay_days)


def _before_last_return(case: Case) -> HistoryEntry:
    for i in range(len(case.history) - 1, -1, -1):
        if case.history[i].status is PublicStatus.DIKEMBALIKAN:
            return case.history[i - 1] if i > 0 else case.history[0]
    return case.history[-1]


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("naive datetime")
    return moment.astimezone(UTC)
