"""``SqlStore``: the ``Store``/``UnitOfWork`` ports on SQLAlchemy Core (SQLite or PostgreSQL).

A unit of work is one transaction: case rows, appended history (with both clocks per step:
``received_at``, ``counted_at``, ``late_reported``, ``reporting_delay_days``; rows from before
migration 0003 read them as ``at`` / not late), the private applicant row,
``processed_events``, ``pending_events`` and ``outbox`` rows commit together or not at all —
and so does the transparency-log entry of every appended history step (``log_leaf`` queued in
``transparency_queue``): a public step exists if and only if it is in the log's queue, whichever
code path saved it. The log's sequencer (``pantau_transparency.sql.Sequencer``) later gives it a
leaf index and signs checkpoints.

On SQLite, writers are serialised by a process-wide lock (eventlet-friendly once monkey-patched)
so a greenthread never sits in SQLite's C-level busy wait while another holds the write lock.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

import sqlalchemy as sa

from pantau_contracts.catalogue import ServiceDefinition
from pantau_contracts.vocabulary import PublicStatus
from pantau_platform.sql_insert import insert_rows
from pantau_tracking.adapters import failures
from pantau_tracking.adapters.schema import (
    applicants,
    case_history,
    cases,
    outbox,
    pending_events,
    processed_events,
)
from pantau_tracking.domain.case import Applicant, Case, HistoryEntry
from pantau_tracking.domain.public_record import case_sla, log_leaf
from pantau_tracking.service.ports import OutboxMessage, PendingEvent
from pantau_transparency.leaf import Leaf
from pantau_transparency.sql import queue_entries


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class SqlUnitOfWork:
    """One transaction on ``connection``.

    Reads are cached for the batch (``preload`` fetches a whole batch's cases and processed
    keys with a few ``IN`` queries); writes to cases, history, applicants, processed_events and
    outbox are collected and executed as executemany statements by ``flush`` just before the
    commit — one round trip per table instead of one per event. Pending-event writes go through
    immediately because later events of the same batch may need to see them.
    """

    def __init__(self, connection: sa.Connection) -> None:
        self.conn = connection
        # PostgreSQL: lock the case rows a transaction works on, so several tracking instances
        # (competing consumers on tracking.accepted, overdue timers) serialise per case.
        self.lock = connection.dialect.name == "postgresql"
        self._cases: dict[str, Case | None] = {}
        self._stored_history: dict[str, int] = {}
        self._stored: set[str] = set()
        self._seen: set[tuple[str, str]] = set()
        self._checked: set[tuple[str, str]] = set()
        self._pending_receipts: set[str] | None = None  # None: unknown, ask the database
        self._inserts: dict[str, dict[str, Any]] = {}
        self._updates: dict[str, dict[str, Any]] = {}
        self._applicants: list[dict[str, Any]] = []
        self._history: list[dict[str, Any]] = []
        self._processed: list[dict[str, Any]] = []
        self._outbox: list[dict[str, Any]] = []
        self._leaves: list[Leaf] = []

    def preload(self, receipt_numbers: Iterable[str], keys: Iterable[tuple[str, str]]) -> None:
        receipts = sorted(set(receipt_numbers) - set(self._cases))
        keys = sorted(set(keys) - self._checked)
        for chunk in _chunks(keys, 400):
            sources = {k[0] for k in chunk}
            ids = {k[1] for k in chunk}
            for row in self.conn.execute(sa.select(processed_events.c.source,
                                                   processed_events.c.event_id).where(
                    processed_events.c.source.in_(sources), processed_events.c.event_id.in_(ids))):
                self._seen.add((row.source, row.event_id))
            self._checked.update(chunk)
        for chunk in _chunks(receipts, 400):
            loaded = _load_many(self.conn, chunk, with_applicants=True, lock=self.lock)
            for receipt in chunk:
                case = loaded.get(receipt)
                self._cases[receipt] = case
                if case is not None:
                    self._stored.add(receipt)
                    self._stored_history[receipt] = len(case.history)
            self._pending_receipts = (self._pending_receipts or set()) | {
                r.receipt_number for r in self.conn.execute(
                    sa.select(pending_events.c.receipt_number).where(
                        pending_events.c.receipt_number.in_(chunk)).distinct())}

    def seen(self, source: str, event_id: str) -> bool:
        key = (source, event_id)
        if key in self._seen:
            return True
        if key in self._checked:
            return False
        row = self.conn.execute(sa.select(processed_events.c.outcome).where(
            processed_events.c.source == source,
            processed_events.c.event_id == event_id)).first()
        return row is not None

    def mark_processed(self, source: str, event_id: str, *, receipt_number: str | None,
                       event_type: str, outcome: str, reason: str | None = None,
                       detail: str | None = None) -> None:
        self._seen.add((source, event_id))
        self._processed.append({
            "source": source, "event_id": event_id, "receipt_number": receipt_number,
            "event_type": event_type, "outcome": outcome, "reason": reason, "detail": detail,
            "processed_at": datetime.now(UTC)})

    def load_case(self, receipt_number: str) -> Case | None:
        if receipt_number in self._cases:
            return self._cases[receipt_number]
        case = _load_many(self.conn, [receipt_number], with_applicants=True,
                          lock=self.lock).get(receipt_number)
        self._cases[receipt_number] = case
        if case is not None:
            self._stored.add(receipt_number)
            self._stored_history[receipt_number] = len(case.history)
        return case

    def save_case(self, case: Case) -> None:
        row = _case_row(case)
        receipt = case.receipt_number
        if receipt in self._stored:
            # An UPDATE writes only what can change; the definition snapshot (~1 kB) and the
            # case's identity are written once, on INSERT.
            self._updates[receipt] = {"b_receipt": receipt, **row}
        elif receipt in self._inserts:
            self._inserts[receipt] = {"receipt_number": receipt, **_case_identity(case), **row}
        else:
            self._inserts[receipt] = {"receipt_number": receipt, **_case_identity(case), **row}
            if case.applicant is not None:
                a = case.applicant
                self._applicants.append({"receipt_number": receipt, "name": a.name,
                                         "nik": a.nik, "phone": a.phone, "email": a.email,
                                         "address": a.address})
        stored = self._stored_history.get(receipt, 0)
        self._history.extend(
            {"receipt_number": receipt, "seq": h.seq, "status": h.status.value,
             "stage_code": h.stage_code, "at": h.at, "note": h.note,
             "actor_role": h.actor_role, "event_type": h.event_type,
             "event_id": h.event_id, "event_source": h.event_source,
             "received_at": h.received_at, "counted_at": h.counted_at,
             "late_reported": h.late_reported, "reporting_delay_days": h.reporting_delay_days}
            for h in case.history[stored:])
        self._leaves.extend(log_leaf(case, h) for h in case.history[stored:])
        self._stored_history[receipt] = len(case.history)
        self._cases[receipt] = case

    def buffer_pending(self, event: PendingEvent) -> None:
        exists = self.conn.execute(sa.select(pending_events.c.sequence).where(
            pending_events.c.source == event.source,
            pending_events.c.event_id == event.event_id)).first()
        if exists is None:
            self.conn.execute(pending_events.insert(), {
                "source": event.source, "event_id": event.event_id,
                "receipt_number": event.receipt_number, "sequence": event.sequence,
                "body": event.body, "received_at": event.received_at})
        if self._pending_receipts is not None:
            self._pending_receipts.add(event.receipt_number)

    def take_pending(self, receipt_number: str) -> list[PendingEvent]:
        if self._pending_receipts is not None and receipt_number not in self._pending_receipts:
            return []
        rows = self.conn.execute(sa.select(pending_events).where(
            pending_events.c.receipt_number == receipt_number)
            .order_by(pending_events.c.sequence)).all()
        if rows:
            self.conn.execute(pending_events.delete().where(
                pending_events.c.receipt_number == receipt_number))
        if self._pending_receipts is not None:
            self._pending_receipts.discard(receipt_number)
        return [PendingEvent(r.source, r.event_id, r.receipt_number, r.sequence, bytes(r.body),
                             _utc(r.received_at) or datetime.now(UTC)) for r in rows]

    def add_outbox(self, message: OutboxMessage) -> None:
        self._outbox.append({
            "message_id": message.message_id, "exchange": message.exchange,
            "routing_key": message.routing_key, "body": message.body,
            "receipt_number": message.receipt_number, "created_at": datetime.now(UTC),
            "traceparent": message.traceparent, "tracestate": message.tracestate})

    def flush(self) -> None:
        """Write everything collected (called once, just before commit)."""
        if self._inserts:
            self.conn.execute(cases.insert(), list(self._inserts.values()))
            self._stored.update(self._inserts)
        if self._updates:
            columns = [c for c in next(iter(self._updates.values())) if c != "b_receipt"]
            statement = cases.update().where(
                cases.c.receipt_number == sa.bindparam("b_receipt")).values(
                {c: sa.bindparam(c) for c in columns})
            self.conn.execute(statement, list(self._updates.values()))
        for table, rows in ((applicants, self._applicants), (case_history, self._history),
                            (processed_events, self._processed), (outbox, self._outbox)):
            insert_rows(self.conn, table, rows)  # no-op when empty
        if self._leaves:
            queue_entries(self.conn, self._leaves)
            self._leaves = []
        self._inserts, self._updates = {}, {}
        self._applicants, self._history, self._processed, self._outbox = [], [], [], []


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


class SqlStore:
    """The ``Store`` port. ``engine`` must already be migrated (``database.migrate``)."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.is_sqlite = engine.dialect.name == "sqlite"
        self.write_lock = threading.Lock()

    def writing(self) -> Any:
        """Serialise writers on SQLite; PostgreSQL uses row locks instead."""
        return self.write_lock if self.is_sqlite else nullcontext()

    @contextmanager
    def unit_of_work(self) -> Iterator[SqlUnitOfWork]:
        with self.writing(), self.engine.begin() as connection:
            uow = SqlUnitOfWork(connection)
            yield uow
            uow.flush()

    def get_case(self, receipt_number: str) -> Case | None:
        with self.engine.connect() as connection:
            return _load(connection, receipt_number)

    def iter_cases(self, after: str | None, limit: int) -> list[Case]:
        with self.engine.connect() as connection:
            query = sa.select(cases).order_by(cases.c.receipt_number).limit(limit)
            if after:
                query = query.where(cases.c.receipt_number > after)
            receipts = [r.receipt_number for r in connection.execute(query)]
            loaded = _load_many(connection, receipts, with_applicants=True)
            return [loaded[r] for r in receipts if r in loaded]

    def count_cases(self) -> int:
        with self.engine.connect() as connection:
            return int(connection.execute(sa.select(sa.func.count()).select_from(cases))
                       .scalar_one())

    def overdue_candidates(self, due_before: date) -> Iterator[str]:
        with self.engine.connect() as connection:
            rows = connection.execute(sa.select(cases.c.receipt_number).where(
                cases.c.is_open.is_(True), cases.c.paused.is_(False),
                cases.c.overdue_reported.is_(False), cases.c.due_date < due_before)).all()
        return iter([r.receipt_number for r in rows])

    def stale_pending_receipts(self, received_before: datetime) -> list[str]:
        with self.engine.connect() as connection:
            rows = connection.execute(sa.select(pending_events.c.receipt_number).where(
                pending_events.c.received_at < received_before).distinct()).all()
        return [r.receipt_number for r in rows]

    def unavailable(self, exc: BaseException) -> str | None:
        """``"database"`` for a transient database failure, else None (``adapters.failures``)."""
        return failures.unavailable(exc)

    def conflict(self, exc: BaseException) -> bool:
        """A unique-key violation (``adapters.failures.is_conflict``)."""
        return failures.is_conflict(exc)

    def ping(self) -> bool:
        """True when the database answers ``SELECT 1`` (the probe while a batch is held)."""
        try:
            with self.engine.connect() as connection:
                connection.execute(sa.text("SELECT 1"))
            return True
        except Exception:  # noqa: BLE001 - any failure: not back yet
            return False

    def processed(self, source: str, event_id: str) -> dict[str, Any] | None:
        """The recorded outcome of an event (diagnostics and tests)."""
        with self.engine.connect() as connection:
            row = connection.execute(sa.select(processed_events).where(
                processed_events.c.source == source,
                processed_events.c.event_id == event_id)).first()
        return dict(row._mapping) if row else None


def _case_identity(case: Case) -> dict[str, Any]:
    """Columns that never change after the case is opened: written on INSERT only."""
    return {
        "jurisdiction": case.jurisdiction, "department": case.department,
        "service_code": case.definition.service.code,
        "catalogue_version": case.definition.catalogue_version,
        "definition": case.definition.model_dump_json(), "submitted_at": case.submitted_at,
        "kecamatan": case.kecamatan, "channel": case.channel,
    }


def _case_row(case: Case) -> dict[str, Any]:
    """Columns that may change with any event (written on INSERT and on every UPDATE)."""
    now = case.closed_at or case.updated_at
    sla = case_sla(case, now)
    return {
        "status": case.status.value, "stage_code": case.stage_code, "revision": case.revision,
        "last_sequence": case.last_sequence, "updated_at": case.updated_at,
        "closed_at": case.closed_at,
        # Due date as known at the last change; an open pause moves it, so paused cases are
        # excluded from the overdue query and re-checked when resumed.
        "due_date": sla.due_date, "is_open": not case.is_final, "paused": case.paused,
        "overdue_reported": case.overdue_reported,
    }


def load_cases(connection: sa.Connection, receipts: Sequence[str]) -> dict[str, Case]:
    """Cases with history and (private, for redaction only) applicant, by receipt."""
    return _load_many(connection, receipts, with_applicants=True)


def _load(connection: sa.Connection, receipt_number: str) -> Case | None:
    return _load_many(connection, [receipt_number], with_applicants=True).get(receipt_number)


def _load_many(connection: sa.Connection, receipts: Sequence[str], *,
               with_applicants: bool, lock: bool = False) -> dict[str, Case]:
    """Cases with their history (and the private applicant, used only for redaction).
    ``lock``: ``SELECT ... FOR UPDATE`` in receipt order (a fixed order avoids deadlocks)."""
    if not receipts:
        return {}
    query = sa.select(cases).where(cases.c.receipt_number.in_(receipts))
    if lock:
        query = query.order_by(cases.c.receipt_number).with_for_update()
    rows = connection.execute(query).all()
    if not rows:
        return {}
    found = [r.receipt_number for r in rows]
    history: dict[str, list[Any]] = {r: [] for r in found}
    for h in connection.execute(sa.select(case_history).where(
            case_history.c.receipt_number.in_(found))
            .order_by(case_history.c.receipt_number, case_history.c.seq)):
        history[h.receipt_number].append(h)
    private: dict[str, Applicant] = {}
    if with_applicants:
        private = {a.receipt_number: _applicant(a) for a in connection.execute(
            sa.select(applicants).where(applicants.c.receipt_number.in_(found)))}
    return {r.receipt_number: _case_from_rows(r, history[r.receipt_number],
                                              private.get(r.receipt_number)) for r in rows}


def _applicant(row: Any) -> Applicant:
    """PRIVATE: only used to redact notes, never copied into a public record."""
    return Applicant(name=row.name, nik=row.nik, phone=row.phone, email=row.email,
                     address=row.address)


def _case_from_rows(row: Any, history: Sequence[Any], applicant: Applicant | None) -> Case:
    submitted = _utc(row.submitted_at)
    updated = _utc(row.updated_at)
    assert submitted is not None and updated is not None
    return Case(
        receipt_number=row.receipt_number,
        definition=_definition(row.definition),
        submitted_at=submitted, status=PublicStatus(row.status), stage_code=row.stage_code,
        revision=row.revision, updated_at=updated, kecamatan=row.kecamatan,
        channel=row.channel, closed_at=_utc(row.closed_at),
        history=[_history_entry(h, submitted) for h in history],
        last_sequence=row.last_sequence, overdue_reported=row.overdue_reported,
        applicant=applicant)


@lru_cache(maxsize=1024)
def _definition(snapshot: str) -> ServiceDefinition:
    """The case's service definition from its JSON snapshot. Thousands of cases share a few
    snapshots (one per service and catalogue version), and parsing one (~1 kB) was a third of the
    cost of loading a case (profile in docs/performance.md, "Rebuild"); the model is frozen, so
    cases can share it."""
    return ServiceDefinition.model_validate_json(snapshot)


def _history_entry(row: Any, submitted: datetime) -> HistoryEntry:
    """A history row; rows from before migration 0003 have no received/counted time: ``at``
    stands for both (they were recorded as the department claimed, nothing late)."""
    at = _utc(row.at) or submitted
    return HistoryEntry(row.seq, PublicStatus(row.status), row.stage_code, at, row.note,
                        row.actor_role, row.event_type, row.event_id, row.event_source,
                        received_at=_utc(row.received_at) or at,
                        counted_at=_utc(row.counted_at) or at,
                        late_reported=bool(row.late_reported),
                        reporting_delay_days=int(row.reporting_delay_days or 0))
