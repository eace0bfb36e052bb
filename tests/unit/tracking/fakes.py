"""Hand-written in-memory fakes of tracking's ports (``Store``, ``UnitOfWork``, ``Clock``)."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime

from pantau_tracking.domain.case import Case
from pantau_tracking.domain.public_record import case_sla
from pantau_tracking.service.ports import OutboxMessage, PendingEvent


@dataclass
class State:
    cases: dict[str, Case] = field(default_factory=dict)
    processed: dict[tuple[str, str], dict[str, object]] = field(default_factory=dict)
    pending: dict[tuple[str, str], PendingEvent] = field(default_factory=dict)
    outbox: list[OutboxMessage] = field(default_factory=list)


class FakeUnitOfWork:
    def __init__(self, state: State, loads: list[str] | None = None) -> None:
        self.state = state
        self.loads = loads if loads is not None else []

    def preload(self, receipt_numbers: Iterable[str], keys: Iterable[tuple[str, str]]) -> None:
        pass

    def seen(self, source: str, event_id: str) -> bool:
        return (source, event_id) in self.state.processed

    def mark_processed(self, source: str, event_id: str, *, receipt_number: str | None,
                       event_type: str, outcome: str, reason: str | None = None,
                       detail: str | None = None) -> None:
        self.state.processed[(source, event_id)] = {"outcome": outcome, "reason": reason,
                                                    "detail": detail}

    def load_case(self, receipt_number: str) -> Case | None:
        self.loads.append(receipt_number)
        return self.state.cases.get(receipt_number)

    def save_case(self, case: Case) -> None:
        self.state.cases[case.receipt_number] = case

    def buffer_pending(self, event: PendingEvent) -> None:
        self.state.pending.setdefault((event.source, event.event_id), event)

    def take_pending(self, receipt_number: str) -> list[PendingEvent]:
        taken = [p for p in self.state.pending.values() if p.receipt_number == receipt_number]
        for item in taken:
            del self.state.pending[(item.source, item.event_id)]
        return sorted(taken, key=lambda p: p.sequence)

    def add_outbox(self, message: OutboxMessage) -> None:
        self.state.outbox.append(message)


class FakeStore:
    """Transactions: work on a deep copy, swap it in on success (so failures roll back)."""

    def __init__(self) -> None:
        self.state = State()
        self.loads: list[str] = []  # every UnitOfWork.load_case call, committed or not

    @contextmanager
    def unit_of_work(self) -> Iterator[FakeUnitOfWork]:
        working = copy.deepcopy(self.state)
        yield FakeUnitOfWork(working, self.loads)
        self.state = working

    def get_case(self, receipt_number: str) -> Case | None:
        return self.state.cases.get(receipt_number)

    def iter_cases(self, after: str | None, limit: int) -> list[Case]:
        keys = sorted(k for k in self.state.cases if after is None or k > after)[:limit]
        return [self.state.cases[k] for k in keys]

    def count_cases(self) -> int:
        return len(self.state.cases)

    def overdue_candidates(self, due_before: date) -> Iterator[str]:
        return iter([c.receipt_number for c in self.state.cases.values()
                     if not c.is_final and not c.paused and not c.overdue_reported
                     and case_sla(c, c.updated_at).due_date < due_before])

    def stale_pending_receipts(self, received_before: datetime) -> list[str]:
        return sorted({p.receipt_number for p in self.state.pending.values()
                       if p.received_at < received_before})

    def unavailable(self, exc: BaseException) -> str | None:
        return "database" if isinstance(exc, DatabaseAway) else None

    def conflict(self, exc: BaseException) -> bool:
        return isinstance(exc, KeyConflict)

    def ping(self) -> bool:
        return True


class KeyConflict(Exception):
    """Stands for a unique-key violation: another instance committed the same key."""


class DatabaseAway(ConnectionError):
    """What the fakes raise for "the database is away" (``FakeStore.unavailable`` knows it)."""


class FakeClock:
    def __init__(self, now: datetime) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current
