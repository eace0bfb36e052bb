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
already confirmed are then recognised by (source, id) — here by the ``AcceptedEvents`` memory
(shared by all replicas in production), and authoritatively by tracking — so the retry creates
nothing twice.

Idempotency order: the memory is consulted before forwarding and written only after the broker
confirmed. A crash or store failure between confirm and record means a later retry is forwarded
once more (tracking drops it); the sender still got — or will get — 202 for it.

Received time: the ``ReceivedClock`` is read once per request. An event claiming a ``time``
later than that plus ``max_future_skew`` seconds is refused (422 naming ``time``, see
``domain.timing``); every forwarded event carries that moment as ``pantaureceived``
(``stamp_received``). The idempotency digest is computed BEFORE stamping, over the department's
content only, so a retry (received later) is still recognised as the same event.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeAlias

from pantau_contracts import ContractViolation, ValidatedEvent, stamp_received
from pantau_intake.domain import problems
from pantau_intake.domain.departments import DepartmentRef
from pantau_intake.domain.idempotency import (
    ACCEPTED,
    AcceptedRecord,
    EventKey,
    RecentEvents,
    content_digest,
)
from pantau_intake.domain.problems import Problem
from pantau_intake.domain.store import StoreUnavailable
from pantau_intake.domain.timing import (
    DEFAULT_MAX_FUTURE_SKEW_SECONDS,
    ReceivedClock,
    refuse_future_time,
    utc_now,
)
from pantau_intake.service.authorisation import authorise
from pantau_intake.service.ports import AcceptedEvents, Forwarder, ServiceDirectory

log = logging.getLogger(__name__)


class ForwardError(RuntimeError):
    """The broker did not confirm the events (unreachable, nack, unroutable)."""


@dataclass(frozen=True)
class EventResult:
    """The answer for one event of a request."""

    index: int
    id: str | None
    source: str | None
    status: str  # "accepted" | "rejected" | "not-accepted" (valid, but its batch was refused)
    problem: Problem | None = None


@dataclass(frozen=True)
class RequestAnswer:
    """Overall answer: ``accepted`` True → 202, else ``status`` is the problem status to use."""

    accepted: bool
    status: int
    results: tuple[EventResult, ...]
    forwarded: int = 0


Parsed: TypeAlias = ValidatedEvent | Problem


class AcceptanceService:
    """Check the claimed time, authorise, deduplicate, stamp and forward; see the module
    docstring for the contract."""

    def __init__(self, directory: ServiceDirectory, forwarder: Forwarder,
                 accepted: AcceptedEvents | None = None, *, clock: ReceivedClock = utc_now,
                 max_future_skew: float = DEFAULT_MAX_FUTURE_SKEW_SECONDS) -> None:
        self._directory = directory
        self._forwarder = forwarder
        self._accepted: AcceptedEvents = accepted or RecentEvents()
        self._clock = clock
        self._max_future_skew = max_future_skew

    def accept(self, department: DepartmentRef, items: Sequence[Parsed]) -> RequestAnswer:
        """Raises ``ForwardError`` if the broker did not confirm (nothing to be trusted as
        accepted; the sender should retry) and ``StoreUnavailable`` if the accepted-events
        memory cannot be consulted (nothing forwarded)."""
        received = self._clock()
        checked: list[Parsed] = [self._checked(department, item, received) for item in items]
        candidates = {c.dedup_key for c in checked if isinstance(c, ValidatedEvent)}
        known = self._accepted.find(candidates) if candidates else {}
        digests: dict[EventKey, str] = {}
        for i, item in enumerate(checked):
            if isinstance(item, ValidatedEvent):
                checked[i] = _against_known(item, known, digests)
        refused = [c for c in checked if isinstance(c, Problem)]
        if refused:
            return RequestAnswer(False, _overall_status(refused), tuple(
                _result(i, item, checked[i]) for i, item in enumerate(items)))
        events = [c for c in checked if isinstance(c, ValidatedEvent)]
        fresh: dict[EventKey, ValidatedEvent] = {}
        for event in events:
            if event.dedup_key not in known:
                fresh.setdefault(event.dedup_key, event)  # a batch may repeat an event
        if fresh:
            self._forwarder.forward([stamp_received(e, received) for e in fresh.values()])
            self._record(fresh, digests)
        return RequestAnswer(True, 202, tuple(
            EventResult(i, e.id, e.source, _answer(known.get(e.dedup_key)))
            for i, e in enumerate(events)), forwarded=len(fresh))

    def _checked(self, department: DepartmentRef, item: Parsed, received: datetime) -> Parsed:
        """The event, or the problem refusing it: a future ``time`` (422), then authorisation
        (403)."""
        if isinstance(item, Problem):
            return item
        try:
            refuse_future_time(item, received, self._max_future_skew)
            authorise(department, item, self._directory)
        except ContractViolation as exc:
            return problems.invalid_event(exc)
        except Problem as problem:
            return problem
        return item

    def _record(self, fresh: dict[EventKey, ValidatedEvent], digests: dict[EventKey, str]) -> None:
        # The broker has confirmed: the events ARE accepted whatever happens next. If the memory
        # cannot be written, a later retry is forwarded again and tracking drops the duplicate.
        try:
            self._accepted.record({key: AcceptedRecord(digests[key]) for key in fresh})
        except StoreUnavailable as exc:
            log.warning("accepted %d event(s) but could not record them (a retry will be "
                        "forwarded again; tracking deduplicates): %s", len(fresh), exc)


def _against_known(event: ValidatedEvent, known: dict[EventKey, AcceptedRecord],
                   digests: dict[EventKey, str]) -> Parsed:
    """The event, or a 409 problem if its id was accepted (or used earlier in this request)
    with different content."""
    digest = content_digest(event)
    previous = known.get(event.dedup_key)
    earlier = previous.digest if previous is not None else digests.get(event.dedup_key)
    if earlier is not None and earlier != digest:
        return problems.id_conflict(event.source, event.id)
    digests[event.dedup_key] = digest
    return event


def _answer(previous: AcceptedRecord | None) -> str:
    return previous.answer if previous is not None else ACCEPTED


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
