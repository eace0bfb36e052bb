"""How a case's history is shown: zone labels, colours, durations, lateness. (Dates and times
themselves are written out by ``portal.formatting``, in the reader's language.)"""

from __future__ import annotations

from dataclasses import dataclass

from pantau_contracts.payloads.public import PublicCaseV1, TimelineEntryV1
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
    """One timeline entry ready for display. ``tone`` is done / current / problem / neutral."""

    entry: TimelineEntryV1
    tone: str
    working_days: float | None
    current: bool


def tone(entry: TimelineEntryV1, current: bool) -> str:
    """Colour like Bandung's tracker: red returned/rejected, yellow in progress, green done."""
    if entry.status in (PublicStatus.DIKEMBALIKAN, PublicStatus.DITOLAK):
        return "problem"
    if entry.status == PublicStatus.DIBATALKAN:
        return "neutral"
    if entry.status == PublicStatus.SELESAI or not current:
        return "done"
    return "current"


def steps(case: PublicCaseV1) -> list[Step]:
    ordered = sorted(case.timeline, key=lambda e: e.seq)
    result = []
    for index, entry in enumerate(ordered):
        current = index == len(ordered) - 1
        result.append(Step(entry, tone(entry, current), entry.working_days, current))
    return result


def is_late(case: PublicCaseV1) -> bool:
    """Late (terlambat): flagged overdue, or closed after more working days than allowed."""
    return bool(case.overdue or (case.status == PublicStatus.SELESAI
                                 and case.working_days_elapsed > case.max_working_days))
