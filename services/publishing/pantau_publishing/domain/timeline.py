"""How a case's history is shown: zone labels, colours, durations, lateness — of the service
(``is_late``: past the legal maximum) and of the reporting (``late_steps``: a step the
department reported more than the tolerance after it claims it happened). (Dates and times
themselves are written out by ``domain.formatting``, in the reader's language.)"""

from __future__ import annotations

from dataclasses import dataclass

from pantau_contracts.payloads.public import PublicCaseV2, TimelineEntryV2
from pantau_contracts.vocabulary import PublicStatus

ZONE_LABELS = {
    "Asia/Jakarta": "WIB", "Asia/Pontianak": "WIB",
    "Asia/Makassar": "WITA", "Asia/Ujung_Pandang": "WITA",
    "Asia/Jayapura": "WIT",
}


def zone_label(timezone: str) -> str:
    """WIB / WITA / WIT for Indonesian zones; the IANA name otherwise."""
    return ZONE_LABELS.get(timezone, timezone)


@dataclass(frozen=True)
class Step:
    """One timeline entry ready for display. ``tone`` is done / current / problem / neutral.
    ``late_reported``: the department reported it ``reporting_delay_days`` working days after
    the time it claims (``entry.at``), more than the tolerance; the service clock then counts
    ``entry.counted_at`` instead."""

    entry: TimelineEntryV2
    tone: str
    working_days: float | None
    current: bool

    @property
    def late_reported(self) -> bool:
        return bool(self.entry.late_reported)

    @property
    def reporting_delay_days(self) -> int:
        return int(self.entry.reporting_delay_days)

    @property
    def counted_differs(self) -> bool:
        """True when the clock counts another time than the claimed one (worth showing)."""
        return bool(self.entry.counted_at != self.entry.at)


def tone(entry: TimelineEntryV2, current: bool) -> str:
    """Colour like Bandung's tracker: red returned/rejected, yellow in progress, green done."""
    if entry.status in (PublicStatus.DIKEMBALIKAN, PublicStatus.DITOLAK):
        return "problem"
    if entry.status == PublicStatus.DIBATALKAN:
        return "neutral"
    if entry.status == PublicStatus.SELESAI or not current:
        return "done"
    return "current"


def steps(case: PublicCaseV2) -> list[Step]:
    ordered = sorted(case.timeline, key=lambda e: e.seq)
    result = []
    for index, entry in enumerate(ordered):
        current = index == len(ordered) - 1
        result.append(Step(entry, tone(entry, current), entry.working_days, current))
    return result


def is_late(case: PublicCaseV2) -> bool:
    """Late (terlambat): flagged overdue, or closed after more working days than allowed."""
    return bool(case.overdue or (case.status == PublicStatus.SELESAI
                                 and case.working_days_elapsed > case.max_working_days))


def late_steps(case: PublicCaseV2) -> list[TimelineEntryV2]:
    """The steps reported later than the tolerance allows, in history order."""
    return sorted((e for e in case.timeline if e.late_reported), key=lambda e: e.seq)
