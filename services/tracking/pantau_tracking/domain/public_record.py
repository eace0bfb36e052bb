"""``to_public``: the allowlisted public record of a case (``PublicCaseV1``).

Only catalogue data, statuses, stages, times, the clock and redacted notes go in. Notes pass
through ``redact_text`` with the applicant's exact values, so a clerk typing a NIK or a name into
a note does not publish it. ``kecamatan`` passes the same redaction (see ``public_kecamatan``) and
is dropped (``None``) if anything in it was masked. The applicant itself has no field to go into.
"""

from __future__ import annotations

from datetime import datetime

from pantau_contracts.payloads.public import PublicCaseV1, TimelineEntryV1
from pantau_contracts.redaction import MASK, redact_text
from pantau_contracts.vocabulary import PublicStatus
from pantau_tracking.domain.case import Applicant, Case
from pantau_tracking.domain.sla import Sla, compute_sla, step_durations


def case_sla(case: Case, now: datetime) -> Sla:
    return compute_sla(timezone=case.timezone, submitted_at=case.submitted_at,
                       max_working_days=case.definition.service.max_working_days,
                       pauses=case.pauses(), closed_at=case.closed_at, now=now)


def public_kecamatan(kecamatan: str | None, applicant: Applicant | None) -> str | None:
    """The district as published: ``None`` if redaction finds anything personal in it (an
    applicant's name typed there), rather than a half-masked district name.

    The applicant's name, NIK, phone and e-mail are scrubbed as in notes (the name word by
    word too). The address is matched only WHOLE: its words are geography (``Bandung``,
    ``Coblong``) and the district is normally one of them, so word-by-word matching would drop
    nearly every kecamatan. Street-like text (``Jl.``, ``Gang``, ``Perum``…) is masked by
    ``redact_text``'s patterns anyway, and the contract keeps digits and commas out.
    """
    if kecamatan is None:
        return None
    identity = () if applicant is None else tuple(
        v for v in (applicant.name, applicant.nik, applicant.phone, applicant.email) if v)
    redacted = redact_text(kecamatan, identity)
    if redacted is None or MASK in redacted:
        return None
    address = applicant.address if applicant is not None else None
    if address and len(address) >= 3 and address.casefold() in kecamatan.casefold():
        return None
    return str(redacted)


def to_public(case: Case, now: datetime) -> PublicCaseV1:
    """The public record at ``now``. Deterministic for a given case and ``now``."""
    definition = case.definition
    service = definition.service
    sla = case_sla(case, now)
    known = case.known_private_values()
    end = case.closed_at or max(now, case.updated_at)
    durations = step_durations([h.at for h in case.history], end, case.timezone)
    timeline = []
    for i, entry in enumerate(case.history):
        stage = service.stage(entry.stage_code) if entry.stage_code else None
        current = i == len(case.history) - 1
        timeline.append(TimelineEntryV1(
            seq=entry.seq, status=entry.status, stage_code=entry.stage_code,
            stage_name=stage.name if stage else None, at=entry.at,
            note=redact_text(entry.note, known), actor_role=entry.actor_role,
            working_days=None if current else float(durations[i])))
    stage = case.stage
    return PublicCaseV1(
        receipt_number=case.receipt_number, revision=case.revision,
        jurisdiction_code=definition.jurisdiction_code,
        jurisdiction_name=definition.jurisdiction_name, timezone=definition.timezone,
        department_code=definition.department_code, department_name=definition.department_name,
        service_code=service.code, service_name=service.name,
        catalogue_version=definition.catalogue_version,
        max_working_days=service.max_working_days,
        kecamatan=public_kecamatan(case.kecamatan, case.applicant),
        channel=case.channel, status=case.status, stage_code=case.stage_code,
        stage_name=stage.name if stage else None, submitted_at=case.submitted_at,
        updated_at=case.updated_at, closed_at=case.closed_at, due_date=sla.due_date,
        working_days_elapsed=float(sla.elapsed),
        working_days_remaining=None if sla.remaining is None else float(sla.remaining),
        overdue=sla.overdue, paused=sla.paused,
        withdrawn=case.status is PublicStatus.DIBATALKAN, timeline=tuple(timeline))


def stage_report(case: Case, now: datetime) -> list[dict[str, object]]:
    """Working days per step, the running one included ("how long has each stage taken")."""
    end = case.closed_at or max(now, case.updated_at)
    durations = step_durations([h.at for h in case.history], end, case.timezone)
    return [{"seq": h.seq, "status": h.status.value, "stage_code": h.stage_code,
             "at": h.at.isoformat(), "working_days": durations[i],
             "current": i == len(case.history) - 1}
            for i, h in enumerate(case.history)]
