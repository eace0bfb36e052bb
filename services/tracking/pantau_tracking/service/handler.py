"""The use cases: apply department events (batched, idempotent, ordered), detect overdue cases,
answer queries.

Idempotency: every event is identified by CloudEvents (source, id); once processed — applied,
refused or dropped — it is recorded in ``processed_events`` in the same transaction as its
effects, so a redelivery is acknowledged and ignored.

Ordering: a department event may carry the ``sequence`` extension, counted per case.

* ``sequence <= last applied`` → duplicate (dropped; a redelivery or an old retry);
* ``sequence == last + 1`` (or the case has no sequence yet) → applied, then buffered successors
  are applied as long as they are consecutive;
* ``sequence > last + 1`` (a gap), or an event for a receipt not opened yet → buffered in
  ``pending_events``;
* no ``sequence`` → arrival order.

``expire_pending`` (run by a timer) re-drains buffered events after a few seconds (a successor
buffered by another instance while this one applied the missing event). If a gap never fills, it
gives up after ``pending_timeout`` (default 10 minutes):
the buffered events are applied in sequence order, skipping the gap (a missing event arriving
later then counts as a duplicate and is dropped); events for a case that never opened are
refused (``unknown-case``) and reported back to the department.

Received time: ``as_event`` takes intake's ``pantaureceived``; an event without it (accepted
before the two clocks) counts as received when tracking took it, and a buffered one as received
when it was buffered. Buffered events keep their stamp in the raw JSON, so applying them later
does not make them look late.

A refused event still advances the case's sequence (it was consumed), so one bad event does not
stall the case. Every change writes its outgoing events (``case.updated``/``event.rejected``)
to the outbox in the same transaction.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pantau_contracts.catalogue import Catalogue
from pantau_contracts.envelope import ValidatedEvent
from pantau_contracts.redaction import redact_text
from pantau_contracts.registry import validate_event
from pantau_tracking.domain.case import Case
from pantau_tracking.domain.lifecycle import (
    Accepted,
    ReceivedEvent,
    Refusal,
    apply_event,
    mark_overdue,
    open_case,
)
from pantau_tracking.domain.public_record import case_sla, stage_report, to_public
from pantau_tracking.service import messages
from pantau_tracking.service.ports import (
    Clock,
    OutboxMessage,
    PendingEvent,
    Store,
    StoreUnavailable,
    UnitOfWork,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EventFailure:
    """An event that raised while being applied on its own: poison, to dead-letter."""

    index: int
    error: str


def as_event(event: ValidatedEvent, received_fallback: datetime) -> ReceivedEvent:
    """The use case's input: a validated event with the time Pantau received it. ``received``
    is intake's ``pantaureceived``; an event without it was accepted by an intake from before
    the two clocks (still queued or buffered across the upgrade), so the best time Pantau can
    vouch for is when tracking got it: ``received_fallback`` (tracking's clock now, or when it
    was buffered)."""
    received = event.received if event.received is not None else received_fallback
    return ReceivedEvent(event_id=event.id, source=event.source, type=event.type,
                         time=event.time, jurisdiction=event.jurisdiction,
                         department=event.department, payload=event.payload, received=received,
                         sequence=event.sequence, raw=event.raw, traceparent=event.traceparent,
                         tracestate=event.tracestate)


def caused_by(message: OutboxMessage, event: ReceivedEvent) -> OutboxMessage:
    """``message`` carrying the trace context of the event that caused it."""
    return dataclasses.replace(message, traceparent=event.traceparent,
                               tracestate=event.tracestate)


class TrackingHandler:
    """Tracking's use cases. ``store``/``clock`` are ports; the catalogue is data."""

    def __init__(self, store: Store, catalogue: Catalogue, clock: Clock, *,
                 pending_timeout: timedelta = timedelta(minutes=10)) -> None:
        self.store = store
        self.catalogue = catalogue
        self.clock = clock
        self.pending_timeout = pending_timeout

    # -- inbound events ------------------------------------------------------------------------

    def handle_batch(self, events: Sequence[ReceivedEvent]) -> list[EventFailure]:
        """Apply events in order in ONE transaction. If that transaction fails, each event is
        retried in its own transaction; those that fail alone are returned as poison. If every
        event fails alone too, the error is re-raised (unknown: the caller retries a bounded
        number of times).

        A *transient* failure (``Store.unavailable``: the database is away, a serialization
        failure, SQLite "database is locked") is never turned into poison: ``StoreUnavailable``
        is raised as soon as one is seen, in the batch transaction or in any one-by-one retry.
        Events committed one by one before it are recorded as processed, so a retry of the
        whole batch skips them."""
        if not events:
            return []
        try:
            self._transaction(events, preload=True)
            return []
        except Exception as exc:  # noqa: BLE001 - transient: hold; else isolate the poison
            self._raise_if_unavailable(exc)
            log.warning("batch of %d failed; retrying one by one", len(events), exc_info=True)
        failures: list[EventFailure] = []
        last_error: Exception | None = None
        for index, event in enumerate(events):
            try:
                self._transaction([event], preload=False)
            except Exception as exc:  # noqa: BLE001 - reported as poison unless transient
                self._raise_if_unavailable(exc)
                last_error = exc
                failures.append(EventFailure(index, redact_text(f"{type(exc).__name__}: {exc}")
                                             or type(exc).__name__))
        if last_error is not None and len(failures) == len(events):
            raise last_error
        return failures

    def _transaction(self, events: Sequence[ReceivedEvent], *, preload: bool) -> None:
        """Process ``events`` in one transaction. A unique-key conflict (another instance
        committed the same event or case meanwhile; ``Store.conflict``) is retried in a new
        transaction, which sees that commit, up to ``CONFLICT_RETRIES`` times; then it is
        raised like any other error."""
        for attempt in range(CONFLICT_RETRIES + 1):
            try:
                with self.store.unit_of_work() as uow:
                    if preload:
                        uow.preload({_receipt(e) for e in events},
                                    {(e.source, e.event_id) for e in events})
                    for event in events:
                        self._process(uow, event)
                return
            except Exception as exc:
                if attempt == CONFLICT_RETRIES or not self.store.conflict(exc):
                    raise
                log.info("%d event(s) met another instance's commit of the same key; "
                         "retrying (%d of %d)", len(events), attempt + 1, CONFLICT_RETRIES)

    def _raise_if_unavailable(self, exc: Exception) -> None:
        dependency = self.store.unavailable(exc)
        if dependency is not None:
            detail = (redact_text(f"{type(exc).__name__}: {exc}") or type(exc).__name__)[:500]
            raise StoreUnavailable(dependency, detail) from exc

    def _process(self, uow: UnitOfWork, event: ReceivedEvent) -> None:
        if uow.seen(event.source, event.event_id):
            return
        case = uow.load_case(event.receipt_number)
        # Sequence numbers order one emitter's events about one case. A case.submitted for an
        # existing receipt, or an event from another department, is not part of that sequence:
        # it goes straight to the lifecycle, which refuses it with the precise reason.
        ordered = event.sequence is not None and (case is None or (
            event.type != "case.submitted" and case.jurisdiction == event.jurisdiction
            and case.department == event.department))
        if ordered:
            assert event.sequence is not None
            if case is None and event.type != "case.submitted":
                self._buffer(uow, event)
                return
            if case is not None and case.last_sequence is not None:
                if event.sequence <= case.last_sequence:
                    uow.mark_processed(event.source, event.event_id,
                                       receipt_number=event.receipt_number,
                                       event_type=event.type, outcome="duplicate",
                                       reason="stale-sequence",
                                       detail=f"sequence {event.sequence} <= "
                                              f"{case.last_sequence}")
                    return
                if event.sequence > case.last_sequence + 1:
                    self._buffer(uow, event)
                    return
        case = self._apply(uow, case, event)
        if case is not None:
            self._drain(uow, case)

    def _apply(self, uow: UnitOfWork, case: Case | None, event: ReceivedEvent) -> Case | None:
        """Apply one event; returns the case as it is afterwards (None if there is none)."""
        now = self.clock.now()
        if event.type == "case.submitted":
            # The submission channel picks a per-channel maximum when the service has one.
            definition = self.catalogue.definition(event.jurisdiction,
                                                   event.payload.service_code,
                                                   event.payload.channel)
            outcome = open_case(event, definition, case)
        else:
            outcome = apply_event(case, event)
        if isinstance(outcome, Accepted):
            uow.save_case(outcome.case)
            # one message tells the public side and, by naming the event, intake's status API
            uow.add_outbox(caused_by(messages.case_updated(outcome.case, outcome.change, now,
                                                           cause=event), event))
            uow.mark_processed(event.source, event.event_id, receipt_number=event.receipt_number,
                               event_type=event.type, outcome="applied")
            return outcome.case
        self._refuse(uow, event, outcome, now)
        if case is not None and event.sequence is not None and \
                (case.last_sequence is None or event.sequence > case.last_sequence) and \
                outcome.reason not in ("duplicate-receipt", "wrong-department"):
            case.last_sequence = event.sequence  # consumed: do not stall the case on it
            uow.save_case(case)
        return case

    def _refuse(self, uow: UnitOfWork, event: ReceivedEvent, refusal: Refusal,
                now: datetime) -> None:
        log.info("refused %s %s from %s: %s", event.type, event.event_id, event.source,
                 refusal.reason)
        uow.add_outbox(caused_by(messages.event_rejected(event, refusal, now), event))
        uow.mark_processed(event.source, event.event_id, receipt_number=event.receipt_number,
                           event_type=event.type, outcome="refused", reason=refusal.reason,
                           detail=refusal.detail)

    def _buffer(self, uow: UnitOfWork, event: ReceivedEvent) -> None:
        assert event.sequence is not None
        uow.buffer_pending(PendingEvent(event.source, event.event_id, event.receipt_number,
                                        event.sequence, event.raw, self.clock.now()))

    def _drain(self, uow: UnitOfWork, case: Case, *, skip_gaps: bool = False) -> None:
        """Apply buffered events that are now next in sequence; keep the rest buffered."""
        pending = uow.take_pending(case.receipt_number)
        if not pending:
            return
        waiting: list[PendingEvent] = []
        for item in pending:
            if uow.seen(item.source, item.event_id):
                continue
            last = case.last_sequence
            if last is not None and item.sequence <= last:
                uow.mark_processed(item.source, item.event_id, receipt_number=item.receipt_number,
                                   event_type=str(json.loads(item.body).get("type", "?")),
                                   outcome="duplicate", reason="stale-sequence")
                continue
            if last is None or item.sequence == last + 1 or skip_gaps:
                updated = self._apply(uow, case, _event_from_raw(item))
                case = updated if updated is not None else case
            else:
                waiting.append(item)
        for item in waiting:
            uow.buffer_pending(item)

    def expire_pending(self, *, recheck_after: timedelta = timedelta(seconds=5)) -> int:
        """Re-examine buffered events (see module doc); returns how many receipts were touched.

        Buffered for longer than ``recheck_after``: drained normally — this catches a successor
        buffered by another instance while this one applied the missing event. Buffered for longer
        than ``pending_timeout``: the gap is given up (skipped, or ``unknown-case`` refusals)."""
        now = self.clock.now()
        receipts = self.store.stale_pending_receipts(now - recheck_after)
        if not receipts:
            return 0
        expired = set(self.store.stale_pending_receipts(now - self.pending_timeout))
        for receipt in receipts:
            give_up = receipt in expired
            with self.store.unit_of_work() as uow:
                case = uow.load_case(receipt)
                if case is not None:
                    self._drain(uow, case, skip_gaps=give_up)
                    continue
                if not give_up:
                    continue
                for item in uow.take_pending(receipt):
                    event = _event_from_raw(item)
                    if not uow.seen(event.source, event.event_id):
                        self._refuse(uow, event, Refusal(
                            "unknown-case", f"no case with receipt {receipt} arrived within "
                            f"{int(self.pending_timeout.total_seconds())} s; send case.submitted "
                            "first"), now)
        return len(receipts)

    # -- overdue ---------------------------------------------------------------------------------

    def check_overdue(self) -> int:
        """Mark open, running cases past their due date as overdue (once): revision grows,
        ``case.updated`` and ``case.overdue`` go to the outbox. Returns how many were marked."""
        now = self.clock.now()
        marked = 0
        # A case is overdue once its jurisdiction's local date is past its (local) due date. The
        # furthest-ahead Indonesian zone is WIT (UTC+9), so only a due date before today's WIT
        # date can be overdue anywhere: a case due today is not even loaded before then.
        for receipt in list(self.store.overdue_candidates(latest_local_date(now))):
            with self.store.unit_of_work() as uow:
                case = uow.load_case(receipt)
                if case is None or case.is_final or case.paused or case.overdue_reported:
                    continue
                if not case_sla(case, now).overdue:
                    continue
                mark_overdue(case, now)
                uow.save_case(case)
                uow.add_outbox(messages.case_updated(case, "overdue", now))
                uow.add_outbox(messages.case_overdue(case, now))
                marked += 1
        return marked

    # -- queries (no private data) ---------------------------------------------------------------

    def get_case(self, receipt_number: str) -> dict[str, Any] | None:
        """Where is the case, how long has each step taken (with the claimed, received and
        counted time of each step), is it late."""
        case = self.store.get_case(receipt_number)
        if case is None:
            return None
        now = self.clock.now()
        public = to_public(case, now)
        return {"public": public.model_dump(mode="json"),
                "status": {"pantau": public.status.value, "open311": public.status.open311.value,
                           "blds": public.status.blds},
                "sla": case_sla(case, now).as_dict(),
                "history": stage_report(case, now)}

    def list_public_cases(self, after: str | None, limit: int) -> list[dict[str, Any]]:
        """Up to ``limit`` public records after ``after`` — fewer when their JSON would pass
        ``REPLY_BUDGET_BYTES`` (at least one): an RPC reply larger than the broker's
        ``max_message_size`` is refused, and that refusal killed tracking. A short page is not
        the end; an empty one is."""
        now = self.clock.now()
        limit = max(1, min(int(limit), 1000))
        page: list[dict[str, Any]] = []
        size = 0
        for case in self.store.iter_cases(after, limit):
            record = to_public(case, now).model_dump(mode="json")
            size += len(json.dumps(record, ensure_ascii=False).encode())
            if page and size > REPLY_BUDGET_BYTES:
                break
            page.append(record)
        return page

    def count_cases(self) -> int:
        return self.store.count_cases()


# Two instances rarely race on one key twice in a row; a third conflict is the event's own.
CONFLICT_RETRIES = 3

# Half the broker's max_message_size (1 MiB, infra/rabbitmq): room for the RPC envelope.
REPLY_BUDGET_BYTES = 512 * 1024

FURTHEST_AHEAD_UTC_OFFSET = timedelta(hours=9)  # WIT, Asia/Jayapura (no daylight saving)


def latest_local_date(now: datetime) -> date:
    """Today's date in the furthest-ahead Indonesian zone (WIT): no jurisdiction's local date is
    later than this, so ``due_date < latest_local_date(now)`` is necessary for being overdue."""
    return (now.astimezone(UTC) + FURTHEST_AHEAD_UTC_OFFSET).date()


def _receipt(event: ReceivedEvent) -> str:
    try:
        return event.receipt_number
    except AttributeError:  # not a case event; _process will fail on it and isolate it
        return ""


def _event_from_raw(item: PendingEvent) -> ReceivedEvent:
    """A buffered event again (its raw JSON keeps ``pantaureceived``; without it, the time it
    was buffered is the receipt time tracking can vouch for)."""
    return as_event(validate_event(item.body), item.received_at)

