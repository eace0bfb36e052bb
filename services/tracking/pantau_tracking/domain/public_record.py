"""``to_public``: the allowlisted public record of a case (``PublicCaseV2``).

Only catalogue data, statuses, stages, times, the clock and redacted notes go in. Notes pass
through ``redact_text`` with the applicant's exact values (``public_note``), so a clerk typing a
NIK or a name into a note does not publish it. ``kecamatan`` passes the same redaction (see
``public_kecamatan``) and is dropped (``None``) if anything in it was masked. The applicant
itself has no field to go into.

Both clocks are public: every timeline entry carries the claimed ``at``, ``received_at``,
``counted_at``, ``late_reported`` and ``reporting_delay_days``; the record carries the case's
``reporting_tolerance_days`` and ``late_reported`` (any step late). Step durations and the clock
use the conservative times (``lifecycle`` explains them): step ``i`` lasts from
``history[i].at`` to ``history[i + 1].counted_at``.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from pantau_contracts.payloads.public import PublicCaseV2, TimelineEntryV2
from pantau_contracts.redaction import MASK, redact_text
from pantau_contracts.vocabulary import PublicStatus
from pantau_tracking.domain.case import Applicant, Case, HistoryEntry
from pantau_tracking.domain.sla import Sla, compute_sla, step_durations
from pantau_transparency.leaf import Leaf


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


NOTE_LIMIT = 500  # PublicText's maximum: a mask is longer than what it hides


def public_note(case: Case, entry: HistoryEntry) -> str | None:
    """The entry's note exactly as published: redacted with the applicant's exact values, and
    cut to ``NOTE_LIMIT`` characters (redaction can lengthen a note — 100 × "Budi" becomes
    100 × "[disamarkan]" — and an over-long note must not make its event fail forever)."""
    if entry.note is None:
        return None
    return _published_note(entry.note, case.known_private_values())


@lru_cache(maxsize=8192)
def _published_note(note: str, known: tuple[str, ...]) -> str:
    """Redaction is the costly part of a public record, and each event redacts its new note
    twice (the log's leaf, then the case.updated record) and every older note of the case again:
    a small per-process cache of (note, the applicant's values) → published note. It lives only
    in tracking's memory, next to the applicant row it is derived from."""
    redacted = str(redact_text(note, known)).strip()
    return redacted if len(redacted) <= NOTE_LIMIT else redacted[:NOTE_LIMIT - 1] + "…"


def case_durations(case: Case, now: datetime) -> list[int]:
    """Working days per step, the running (last) one up to now or the close."""
    if not case.history:  # only a damaged database has a case without steps; do not crash
        return []
    end = case.closed_at or max(now, case.updated_at)
    starts = [h.at for h in case.history]
    ends = [*(h.counted_at for h in case.history[1:]), end]
    return step_durations(starts, ends, case.timezone)


def timeline_entry(case: Case, entry: HistoryEntry,
                   working_days: float | None = None) -> TimelineEntryV2:
    """One step as the public sees it (its note redacted)."""
    stage = case.definition.service.stage(entry.stage_code) if entry.stage_code else None
    return TimelineEntryV2(
        seq=entry.seq, status=entry.status, stage_code=entry.stage_code,
        stage_name=stage.name if stage else None, at=entry.at,
        received_at=entry.received_at, counted_at=entry.counted_at,
        late_reported=entry.late_reported, reporting_delay_days=entry.reporting_delay_days,
        note=public_note(case, entry), actor_role=entry.actor_role, working_days=working_days)


def log_leaf(case: Case, entry: HistoryEntry) -> Leaf:
    """The transparency-log leaf of one public step: exactly the fields of the public timeline
    entry that the log commits to (see docs/transparency.md), the note as published."""
    # The same values ``timeline_entry`` validates into the public record (the test suite
    # checks leaf == public entry); built directly, as this runs for every event.
    return Leaf(receipt_number=case.receipt_number, seq=entry.seq, status=entry.status.value,
                stage_code=entry.stage_code, claimed_at=entry.at, received_at=entry.received_at,
                counted_at=entry.counted_at, note=public_note(case, entry),
                late_reported=entry.late_reported)


def to_public(case: Case, now: datetime) -> PublicCaseV2:
    """The public record at ``now``. Deterministic for a given case and ``now``."""
    definition = case.definition
    service = definition.service
    sla = case_sla(case, now)
    durations = case_durations(case, now)
    last = len(case.history) - 1
    timeline = [timeline_entry(case, entry, None if i == last else float(durations[i]))
                for i, entry in enumerate(case.history)]
    stage = case.stage
    return PublicCaseV2(
        receipt_number=case.receipt_number, revision=case.revision,
        jurisdiction_code=definition.jurisdiction_code,
        jurisdiction_name=definition.jurisdiction_name, timezone=definition.timezone,
        department_code=definition.department_code, department_name=definition.department_name,
        service_code=service.code, service_name=service.name,
        catalogue_version=definition.catalogue_version,
        max_working_days=service.max_working_days,
        reporting_tolerance_days=definition.reporting_tolerance,
        kecamatan=public_kecamatan(case.kecamatan, case.applicant),
        channel=case.channel, status=case.status, stage_code=case.stage_code,
        stage_name=stage.name if stage else None, submitted_at=case.submitted_at,
        updated_at=case.updated_at, closed_at=case.closed_at, due_date=sla.due_date,
        working_days_elapsed=float(sla.elapsed),
        working_days_remaining=None if sla.remaining is None else float(sla.remaining),
        overdue=sla.overdue, paused=sla.paused,
        withdrawn=case.status is PublicStatus.DIBATALKAN, late_reported=case.late_reported,
        timeline=tuple(timeline))


def stage_report(case: Case, now: datetime) -> list[dict[str, object]]:
    """Working days per step, the running one included ("how long has each stage taken"), with
    both clocks: the claimed ``at``, ``received_at``, ``counted_at`` and the late-report flag."""
    durations = case_durations(case, now)
    return [{"seq": h.seq, "status": h.status.value, "stage_code": h.stage_code,
             "at": h.at.isoformat(), "received_at": h.received_at.isoformat(),
             "counted_at": h.counted_at.isoformat(), "late_reported": h.late_reported,
             "reporting_delay_days": h.reporting_delay_days, "working_days": durations[i],
             "current": i == len(case.history) - 1}
            for i, h in enumerate(case.history)]
