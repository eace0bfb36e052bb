"""Ports: what the use cases need from storage and time. Adapters implement them; unit tests use
hand-written fakes."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from pantau_tracking.domain.case import Case


class StoreUnavailable(Exception):
    """The store's dependency (``"database"``) is away for now: nothing of the batch was
    committed and nothing is wrong with its events. Raised by ``TrackingHandler.handle_batch``
    instead of reporting any event as poison; the entrypoint holds the batch until
    ``Store.ping`` answers, then retries it."""

    def __init__(self, dependency: str = "database", detail: str = "") -> None:
        super().__init__(f"{dependency} unavailable" + (f": {detail}" if detail else ""))
        self.dependency = dependency
        self.detail = detail


@dataclass(frozen=True)
class OutboxMessage:
    """A message to publish after the transaction that produced it has committed."""

    message_id: str
    exchange: str
    routing_key: str
    body: bytes
    receipt_number: str | None = None
    # trace context of the event that caused it (opaque; the relay's span continues it)
    traceparent: str | None = None
    tracestate: str | None = None


@dataclass(frozen=True)
class PendingEvent:
    """A department event waiting for an earlier sequence number (raw CloudEvent JSON)."""

    source: str
    event_id: str
    receipt_number: str
    sequence: int
    body: bytes
    received_at: datetime


class UnitOfWork(Protocol):
    """One database transaction. Everything written through it commits together or not at all."""

    def preload(self, receipt_numbers: Iterable[str], keys: Iterable[tuple[str, str]]) -> None:
        """Hint: the batch will touch these cases and (source, id) keys; fetch them at once."""

    def seen(self, source: str, event_id: str) -> bool:
        """True if (source, id) was already processed (applied, refused or dropped)."""

    def mark_processed(self, source: str, event_id: str, *, receipt_number: str | None,
                       event_type: str, outcome: str, reason: str | None = None,
                       detail: str | None = None) -> None: ...

    def load_case(self, receipt_number: str) -> Case | None: ...

    def save_case(self, case: Case) -> None:
        """Insert or update the case; append history entries not stored yet."""

    def buffer_pending(self, event: PendingEvent) -> None:
        """Keep an out-of-order event (ignored if (source, id) is already buffered)."""

    def take_pending(self, receipt_number: str) -> list[PendingEvent]:
        """Remove and return the receipt's buffered events, lowest sequence first."""

    def add_outbox(self, message: OutboxMessage) -> None: ...


class Store(Protocol):
    """Gives units of work and read-only queries."""

    def unit_of_work(self) -> AbstractContextManager[UnitOfWork]:
        """Commit on normal exit, roll back on exception."""

    def get_case(self, receipt_number: str) -> Case | None: ...

    def iter_cases(self, after: str | None, limit: int) -> list[Case]:
        """Cases ordered by receipt number, strictly after ``after``."""

    def count_cases(self) -> int: ...

    def overdue_candidates(self, due_before: date) -> Iterator[str]:
        """Receipts of open, not-yet-reported cases whose stored due date is before the date."""

    def stale_pending_receipts(self, received_before: datetime) -> list[str]: ...

    def unavailable(self, exc: BaseException) -> str | None:
        """The dependency (``"database"``) if ``exc`` is a transient failure of the store —
        connection refused or lost, timeout, server starting or shutting down, too many
        clients, serialization failure or deadlock, SQLite "database is locked" — else None
        (the error may be the event's own fault). Pure: inspects ``exc`` only."""

    def conflict(self, exc: BaseException) -> bool:
        """True if ``exc`` is a unique-key violation: another tracking instance committed the
        same event or opened the same case while this transaction ran. Retrying in a new
        transaction then sees its commit. Pure: inspects ``exc`` only."""

    def ping(self) -> bool:
        """True when the database answers a trivial query (never raises)."""


class Clock(Protocol):
    def now(self) -> datetime:
        """Aware UTC now."""
