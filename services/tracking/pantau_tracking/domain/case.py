"""The case aggregate: one application (berkas) identified by its receipt number.

A case keeps a snapshot of its service definition (``ServiceDefinition``, with the catalogue
version) taken when it was opened, its current public status and stage, an append-only history,
a ``revision`` that grows with every change (it is the ``sequence`` of tracking's outgoing events
and the version of the public record), and — kept apart and marked PRIVATE — the applicant.

Every history entry has two clocks (claimed ``at``, ``received_at``) and the ``counted_at`` the
service clock uses (``lifecycle`` states the rules). ``submitted_at`` is the first entry's ``at``;
``closed_at`` is the closing entry's ``counted_at``; ``updated_at`` is the latest time the record
changed as Pantau knows it (received time, or the overdue scan's now).
"""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass, field
from datetime import datetime

from pantau_contracts.catalogue import ServiceDefinition, Stage
from pantau_contracts.vocabulary import PublicStatus
from pantau_tracking.domain.sla import Pause


@dataclass(frozen=True)
class Applicant:
    """PRIVATE. Stored in its own table; never published, never logged."""

    name: str
    nik: str | None = None
    phone: str | None = None
    email: str | None = None
    address: str | None = None

    def known_values(self) -> tuple[str, ...]:
        """The exact values ``redact_text`` must scrub from public notes."""
        return tuple(v for v in (self.name, self.nik, self.phone, self.email, self.address) if v)


@dataclass(frozen=True)
class HistoryEntry:
    """One accepted step of the case (append-only). All times are aware UTC.

    ``at`` is the department's claimed time, clamped (see ``lifecycle``); ``received_at`` is when
    intake received the report; ``counted_at`` is the time the service clock counts where a
    step's time *ends* something (a pause start, the close, the previous step's end): ``at``, or
    for a ``late_reported`` step the conservative ``received_at`` minus the tolerance.
    ``reporting_delay_days`` = working days from ``at``'s to ``received_at``'s local date. The
    note is the department's raw text: publish it only through ``public_record.public_note``.
    """

    seq: int
    status: PublicStatus
    stage_code: str | None
    at: datetime
    note: str | None
    actor_role: str | None
    event_type: str
    event_id: str | None = None
    event_source: str | None = None
    _: KW_ONLY
    received_at: datetime
    counted_at: datetime
    late_reported: bool = False
    reporting_delay_days: int = 0


@dataclass
class Case:
    """The aggregate. Change it only through ``lifecycle`` (or ``mark_overdue``)."""

    receipt_number: str
    definition: ServiceDefinition
    submitted_at: datetime
    status: PublicStatus
    stage_code: str | None
    revision: int
    updated_at: datetime
    kecamatan: str | None = None
    channel: str | None = None
    closed_at: datetime | None = None
    history: list[HistoryEntry] = field(default_factory=list)
    last_sequence: int | None = None
    overdue_reported: bool = False
    applicant: Applicant | None = None

    @property
    def jurisdiction(self) -> str:
        return str(self.definition.jurisdiction_code)

    @property
    def department(self) -> str:
        return str(self.definition.department_code)

    @property
    def timezone(self) -> str:
        return str(self.definition.timezone)

    @property
    def is_final(self) -> bool:
        return bool(self.status.is_final)

    @property
    def paused(self) -> bool:
        return self.status is PublicStatus.DIKEMBALIKAN

    @property
    def stage(self) -> Stage | None:
        return self.definition.service.stage(self.stage_code) if self.stage_code else None

    @property
    def stage_index(self) -> int:
        """Index of the furthest stage reached (-1 before the first stage)."""
        index = -1
        for entry in self.history:
            if entry.stage_code is not None:
                found = self.definition.service.stage_index(entry.stage_code)
                if found is not None:
                    index = max(index, found)
        return index

    def pauses(self) -> list[Pause]:
        """Periods spent returned to the applicant, from the history: each starts at the
        return's ``counted_at`` and ends at the next step's ``at`` (both the conservative choice
        for the department: a shorter pause)."""
        result: list[Pause] = []
        for i, entry in enumerate(self.history):
            if entry.status is PublicStatus.DIKEMBALIKAN:
                end = self.history[i + 1].at if i + 1 < len(self.history) else None
                result.append(Pause(entry.counted_at, end))
        return result

    @property
    def late_reported(self) -> bool:
        """True if any step was reported later than the tolerance allows."""
        return any(entry.late_reported for entry in self.history)

    def known_private_values(self) -> tuple[str, ...]:
        return self.applicant.known_values() if self.applicant else ()
