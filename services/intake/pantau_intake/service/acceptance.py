"""Accepting events from an authenticated department (the HTTP path).

``AcceptanceService.accept(department, items)`` takes the outcome of parsing each event (a
``ValidatedEvent`` or the ``Problem`` that parsing produced) and either:

* refuses the whole request — if any event is invalid, forbidden or reuses an id with new
  content, NOTHING is forwarded and ``Refused`` lists a per-event result; or
* forwards every new event to ``pantau.accepted`` through the ``Forwarder`` (which returns only
  once the broker has confirmed them) and returns ``Accepted`` with a per-event result.

Batch semantics ("atomic validation, at-least-once delivery"): the batch is validated as a
whole, so a batch is either refused entirely or forwarded entirely. If the broker fails part-way
(``ForwardError``) the caller answers 503 and the sender retries the whole batch; events that were
already confirmed are then recognised by (source, id) — here by the recent-events memory, and
authoritatively by tracking — so the retry creates nothing twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, TypeAlias

from pantau_contracts import ValidatedEvent
from pantau_intake.domain import problems
from pantau_intake.domain.authorisation import ServiceDirectory, authorise
from pantau_intake.domain.departments import DepartmentRef
from pantau_intake.domain.idempotency import RecentEvents, content_digest
from pantau_intake.domain.problems import Problem


class ForwardError(RuntimeError):
    """The broker did not confirm the events (unreachable, nack, unroutable)."""


class Forwarder(Protocol):
    """Port: forward validated events to ``pantau.accepted``; return only after broker confirms,
    in the given order, as structured-mode CloudEvents JSON with message_id = event id."""

    def forward(self, events: Sequence[ValidatedEvent]) -> None: ...


@dataclass(frozen=True)
class EventResult:
    """The answer for one event of a request."""

    index: int
    id: str | None
    source: str | None
    status: str  # "accepted" | "rejected" | "not-accepted" (valid, but its batch was refused)
    problem: Problem | None = None


@dataclass(frozen=True)
class Outcome:
    """Overall answer: ``accepted`` True → 202, else ``status`` is the problem status to use."""

    accepted: bool
    status: int
    results: tuple[EventResult, ...]
    forwarded: int = 0


Parsed: TypeAlias = ValidatedEvent | Problem


class AcceptanceService:
    """Authorise, deduplicate and forward; see the module docstring for the contract."""

    def __init__(self, directory: ServiceDirectory, forwarder: Forwarder,
                 recent: RecentEvents | None = None) -> None:
        self._directory = directory
        self._forwarder = forwarder
        self._recent = recent or RecentEvents()

    def accept(self, department: DepartmentRef, items: Sequence[Parsed]) -> Outcome:
        """Raises ``ForwardError`` if the broker did not confirm (nothing to be trusted as
        accepted; the sender should retry)."""
        checked: list[Parsed] = []
        digests: dict[tuple[str, str], str] = {}
        for item in items:
            checked.append(self._check(department, item, digests))
        refused = [c for c in checked if isinstance(c, Problem)]
        if refused:
            return Outcome(False, _overall_status(refused), tuple(
                _result(i, item, checked[i]) for i, item in enumerate(items)))
        events = [c for c in checked if isinstance(c, ValidatedEvent)]
        fresh: list[ValidatedEvent] = []
        seen_now: set[tuple[str, str]] = set()
        for event in events:
            if self._recent.lookup(event.dedup_key) is None and event.dedup_key not in seen_now:
                fresh.append(event)
                seen_now.add(event.dedup_key)
        if fresh:
            self._forwarder.forward(fresh)
            for event in fresh:
                self._recent.remember(event.dedup_key, digests[event.dedup_key])
        return Outcome(True, 202, tuple(
            EventResult(i, e.id, e.source, "accepted") for i, e in enumerate(events)),
            forwarded=len(fresh))

    def _check(self, department: DepartmentRef, item: Parsed,
               digests: dict[tuple[str, str], str]) -> Parsed:
        if isinstance(item, Problem):
            return item
        try:
            authorise(department, item, self._directory)
        except Problem as problem:
            return problem
        digest = content_digest(item)
        known = self._recent.lookup(item.dedup_key) or digests.get(item.dedup_key)
        if known is not None and known != digest:
            return problems.id_conflict(item.source, item.id)
        digests[item.dedup_key] = digest
        return item


def _overall_status(refused: list[Problem]) -> int:
    statuses = {p.status for p in refused}
    for status in (400, 413, 422, 403, 409):
        if status in statuses:
            return status
    return max(statuses)


def _result(index: int, item: Parsed, checked: Parsed) -> EventResult:
    if isinstance(checked, Problem):
        found = checked.extra.get("event")
        ids = found if isinstance(found, dict) else {}
        event_id = item.id if isinstance(item, ValidatedEvent) else ids.get("id")
        source = item.source if isinstance(item, ValidatedEvent) else ids.get("source")
        return EventResult(index, event_id, source, "rejected", checked)
    assert isinstance(item, ValidatedEvent)
    return EventResult(index, item.id, item.source, "not-accepted")
