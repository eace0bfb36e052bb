"""The service-level clock of a case, in working days of its jurisdiction (see ``calendar``).

* ``due_date`` = ``add_working_days(submitted, max_working_days + paused_days)``: the legal maximum
  counted from day 0 (the submission day, or the next working day), pushed out by every working day
  the case spent returned to the applicant (dikembalikan).
* A pause from ``r`` (returned) to ``q`` (resumed) covers ``working_days_between(r, q)`` working
  days: the return day still counts as worked, the resume day counts as paused. An open pause
  runs until the clock's end (now, or the closing time); no pause covers day 0 or earlier
  (a return before day 0 pauses from day 0). A pause with ``q <= r`` covers nothing.
* ``elapsed`` = working days from day 0 to the end, minus paused days; never negative.
* ``overdue``: the end date (today, or the closing day) is after the due date.
* Per-step durations: step ``i`` runs from ``starts[i]`` to ``ends[i]`` (working days between
  their local dates, 0 if the end is not later); the current step's duration so far is reported
  separately (it is ``None`` in the timeline while it runs).

Which instant is a start and which an end is the caller's choice (``lifecycle`` explains the
conservative one: claimed ``at`` for starts, ``counted_at`` for ends). This module only counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from pantau_tracking.domain.calendar import (
    add_working_days,
    clock_start,
    local_date,
    working_days_between,
)


@dataclass(frozen=True)
class Pause:
    """A period returned to the applicant; ``end`` is None while it lasts."""

    start: datetime
    end: datetime | None


@dataclass(frozen=True)
class Sla:
    """The clock of one case at one moment."""

    start_date: date
    due_date: date
    elapsed: int
    remaining: int | None
    paused_days: int
    overdue: bool
    paused: bool
    closed: bool

    def as_dict(self) -> dict[str, object]:
        return {"start_date": self.start_date.isoformat(), "due_date": self.due_date.isoformat(),
                "working_days_elapsed": self.elapsed, "working_days_remaining": self.remaining,
                "paused_working_days": self.paused_days, "overdue": self.overdue,
                "paused": self.paused, "closed": self.closed}


def paused_working_days(pauses: Sequence[Pause], end: datetime, timezone: str,
                        start_date: date | None = None) -> int:
    """Working days covered by the pauses, each cut at ``end`` (and at day 0, ``start_date``)."""
    total = 0
    for pause in pauses:
        stop = end if pause.end is None or pause.end > end else pause.end
        begin = local_date(pause.start, timezone)
        if start_date is not None:
            begin = max(begin, start_date)
        total += working_days_between(begin, local_date(stop, timezone))
    return total


def compute_sla(*, timezone: str, submitted_at: datetime, max_working_days: int,
                pauses: Sequence[Pause], closed_at: datetime | None, now: datetime) -> Sla:
    """The clock at ``now`` (or frozen at ``closed_at`` for a closed case)."""
    end = closed_at if closed_at is not None else now
    end = max(end, submitted_at)
    start = clock_start(local_date(submitted_at, timezone))
    paused_days = paused_working_days(pauses, end, timezone, start)
    due = add_working_days(start, max_working_days + paused_days)
    end_date = local_date(end, timezone)
    elapsed = max(0, working_days_between(start, end_date) - paused_days)
    closed = closed_at is not None
    return Sla(
        start_date=start, due_date=due, elapsed=elapsed,
        remaining=None if closed else max(0, max_working_days - elapsed),
        paused_days=paused_days, overdue=end_date > due,
        paused=bool(pauses) and pauses[-1].end is None and not closed, closed=closed)


def step_durations(starts: Sequence[datetime], ends: Sequence[datetime],
                   timezone: str) -> list[int]:
    """Working days each step lasted: step ``i`` runs from ``starts[i]`` to ``ends[i]``."""
    return [working_days_between(local_date(a, timezone), local_date(max(a, b), timezone))
            for a, b in zip(starts, ends, strict=True)]
