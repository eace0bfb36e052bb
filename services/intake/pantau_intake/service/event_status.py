"""What a department may ask about its own events (``GET /v1/events/{id}``, ``/v1/refusals``).

``status``: an event's fate, from the outcomes table (``applied`` / ``refused``, with tracking's
or the ingress's reason and time) or else intake's accepted-events memory (``accepted``: intake
forwarded it, tracking has not decided yet; kept 24 h); None when neither knows it (404). A
department is only ever asked about under its OWN source and department: another's event is
simply not found. ``received`` is part of the vocabulary for an event intake has but has not
accepted yet; today's intake answers only after forwarding, so it does not occur.

``refusals``: the department's refusals with a cursor greater than ``after``, ascending; ``next``
is the last one's cursor (or ``after`` when there is none), to pass as ``after`` next time.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pantau_intake.domain.departments import DepartmentRef
from pantau_intake.service.ports import AcceptedReader, OutcomeReader

MAX_PAGE = 500


def _iso(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC (SQLite gives naive UTC datetimes back)."""
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()


class EventStatusService:
    def __init__(self, outcomes: OutcomeReader, accepted: AcceptedReader) -> None:
        self._outcomes, self._accepted = outcomes, accepted

    def status(self, department: DepartmentRef, event_id: str) -> dict[str, Any] | None:
        accepted_at = self._accepted.accepted_at(department.source, event_id)
        row = self._outcomes.outcome(department, event_id)
        if row is None:
            if accepted_at is None:
                return None
            return {"id": event_id, "source": department.source, "status": "accepted",
                    "accepted_at": _iso(accepted_at)}
        answer = {"id": event_id, "source": department.source, "status": row["outcome"],
                  "type": row["event_type"], "receipt_number": row["receipt_number"],
                  "accepted_at": _iso(accepted_at), f"{row['outcome']}_at": _iso(
                      row["decided_at"])}
        if row["outcome"] == "refused":
            answer.update(stage=row["stage"], reason=row["reason"], detail=row["detail"])
        else:
            answer["revision"] = row["revision"]
        return answer

    def refusals(self, department: DepartmentRef, after: int, limit: int) -> dict[str, Any]:
        rows = self._outcomes.refusals(department, max(0, after), max(1, min(limit, MAX_PAGE)))
        items = [{"cursor": r["id"], "id": r["event_id"], "source": r["source"],
                  "type": r["event_type"], "receipt_number": r["receipt_number"],
                  "stage": r["stage"], "reason": r["reason"], "detail": r["detail"],
                  "refused_at": _iso(r["decided_at"])} for r in rows]
        return {"refusals": items, "next": items[-1]["cursor"] if items else max(0, after)}


class NothingKnown:
    """Both readers for an app without intake's database (unit tests with injected keys)."""

    def outcome(self, department: DepartmentRef, event_id: str) -> dict[str, Any] | None:
        return None

    def refusals(self, department: DepartmentRef, after: int,
                 limit: int) -> list[dict[str, Any]]:
        return []

    def accepted_at(self, source: str, event_id: str) -> datetime | None:
        return None
