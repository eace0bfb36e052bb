"""What the HTTP intake counts per event (``pantau_events_*``, see ``pantau_platform.metrics``).

Labels are the event's type (bounded to the registered types) and the *authenticated*
department — never what the body claims. A refused request counts each event it carried as
received and refused with the problem's slug (``invalid-event``, ``forbidden``,
``rate-limited``, …); a request refused before its events could be told apart counts one.
HTTP refusals are answered, not dead-lettered: ``pantau_events_dead_lettered`` is AMQP only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pantau_contracts import ValidatedEvent
from pantau_intake.domain.departments import DepartmentRef
from pantau_intake.service.acceptance import RequestAnswer
from pantau_platform.metrics import EventCounters

COUNTERS = EventCounters()


def count_outcome(department: DepartmentRef, items: Sequence[Any], outcome: RequestAnswer) -> None:
    where = (department.jurisdiction, department.department)
    for result in outcome.results:
        item = items[result.index] if result.index < len(items) else None
        event_type = item.type if isinstance(item, ValidatedEvent) else None
        COUNTERS.received(event_type, *where)
        if outcome.accepted:
            COUNTERS.accepted(event_type, *where)
        else:
            reason = result.problem.slug if result.problem is not None else "batch-refused"
            COUNTERS.refused(event_type, *where, reason)


def count_refused(department: DepartmentRef, events: int, reason: str) -> None:
    for _ in range(max(events, 1)):
        COUNTERS.received(None, department.jurisdiction, department.department)
        COUNTERS.refused(None, department.jurisdiction, department.department, reason)
