"""What happens next on a case page: which guidance applies to a public record, in plain Python.

Contract: ``next_step(case)`` looks only at the public record (``PublicCaseV2``) and says

* ``situation``: ``waiting`` (open, within the legal maximum), ``returned`` (dikembalikan: the
  citizen must act), ``overdue`` (open and past the maximum), ``rejected`` (ditolak: keberatan is
  possible), ``completed`` / ``completed_late`` (selesai), ``withdrawn`` (dibatalkan);
* ``reason``: for a returned or rejected case, the department's reason — the latest public note
  of the returning/rejecting step (already redacted by tracking and by publishing), else None;
* ``complaint_route``: offered on every late, returned or rejected case (issue 9);
* ``appeal``: keberatan applies (a rejection is an administrative decision, UU 30/2014 Pasal 75);
* ``survey``: the SKM questionnaire is offered (the case is closed: any final status).

The texts themselves (both languages) live in the portal (``portal/citizen_texts.yaml``); legal
figures (appeal windows, the service maximum and its source) come from the catalogue, never from
here.
"""

from __future__ import annotations

from dataclasses import dataclass

from pantau_contracts.payloads.public import PublicCaseV2
from pantau_contracts.vocabulary import PublicStatus
from pantau_publishing.domain.timeline import is_late

SITUATIONS = ("waiting", "returned", "overdue", "rejected", "completed", "completed_late",
              "withdrawn")


@dataclass(frozen=True)
class NextStep:
    situation: str
    reason: str | None
    complaint_route: bool
    appeal: bool
    survey: bool


def latest_note(case: PublicCaseV2, status: PublicStatus) -> str | None:
    """The note of the latest timeline step with ``status`` (None if that step has none)."""
    for entry in reversed(case.timeline):
        if entry.status == status:
            return entry.note or None
    return None


def situation_of(case: PublicCaseV2) -> str:
    """Which of ``SITUATIONS`` the case is in (a withdrawn tombstone wins over everything)."""
    if case.withdrawn or case.status == PublicStatus.DIBATALKAN:
        return "withdrawn"
    if case.status == PublicStatus.DITOLAK:
        return "rejected"
    if case.status == PublicStatus.SELESAI:
        return "completed_late" if is_late(case) else "completed"
    if case.status == PublicStatus.DIKEMBALIKAN or case.paused:
        return "returned"  # the clock is paused: the citizen's move, whatever it showed before
    return "overdue" if is_late(case) else "waiting"


def next_step(case: PublicCaseV2) -> NextStep:
    """The guidance that applies to ``case`` (see the module docstring)."""
    situation = situation_of(case)
    reason = None
    if situation == "returned":
        reason = latest_note(case, PublicStatus.DIKEMBALIKAN)
    elif situation == "rejected":
        reason = latest_note(case, PublicStatus.DITOLAK)
    late = situation in ("overdue", "completed_late")
    return NextStep(situation=situation, reason=reason,
                    complaint_route=late or situation in ("returned", "rejected"),
                    appeal=situation == "rejected",
                    # every closed case, withdrawn too: the response rate's denominator is
                    # every closed case, so the offer must be too
                    survey=case.status.is_final or case.withdrawn)
