"""``PublicExport``: every case's public record, in receipt order, read page by page from ONE
consistent snapshot of tracking's database — what a full rebuild of the public indices reads.

Contract:

* ``records(page_size)`` yields ``PublicCaseV2`` dicts (``model_dump(mode="json")``, exactly
  what ``list_public_cases`` answers over RPC) ordered by receipt number; every case that
  existed when the snapshot was taken is yielded exactly once, as it was at that moment.
* Paging is by keyset (``receipt_number > last``), never ``OFFSET``: each page costs the same
  however deep into a million cases it is.
* PostgreSQL: one ``REPEATABLE READ, READ ONLY`` transaction for the whole export. MVCC serves
  the snapshot without locks, so tracking keeps consuming meanwhile; changes committed after it
  began are not seen (the rebuild's catch-up picks them up from what the indexer wrote).
  Costs: the transaction holds back vacuum for its duration (minutes for a million cases).
* SQLite: keyset pages without a snapshot (a page is consistent in itself): a case changed
  during the export is yielded once, in its state when its page was read.
* Private applicant data is read only to redact public notes (``to_public``); it never leaves.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from pantau_tracking.adapters.schema import cases
from pantau_tracking.adapters.store import load_cases
from pantau_tracking.domain.public_record import to_public

DEFAULT_PAGE_SIZE = 2000


class PublicExport:
    def __init__(self, engine: sa.Engine, now: datetime) -> None:
        self.engine = engine
        self.now = now  # the SLA figures of every record are computed at this one moment

    def count(self) -> int:
        """How many cases there are now (for a progress bar's total; not from the snapshot)."""
        with self.engine.connect() as connection:
            return int(connection.execute(sa.select(sa.func.count()).select_from(cases))
                       .scalar_one())

    def records(self, page_size: int = DEFAULT_PAGE_SIZE,
                after: str | None = None) -> Iterator[dict[str, Any]]:
        for page in self.pages(page_size, after):
            yield from page

    def pages(self, page_size: int = DEFAULT_PAGE_SIZE,
              after: str | None = None) -> Iterator[list[dict[str, Any]]]:
        """Pages of public records after ``after`` (see the module docstring)."""
        with self._snapshot() as connection:
            while True:
                receipts = receipts_after(connection, after, page_size)
                if not receipts:
                    return
                yield public_records(connection, receipts, self.now)
                after = receipts[-1]

    def _snapshot(self) -> Any:
        if self.engine.dialect.name == "postgresql":
            connection = self.engine.connect().execution_options(
                isolation_level="REPEATABLE READ", postgresql_readonly=True)
            return _in_transaction(connection)
        return _in_transaction(self.engine.connect())


class _in_transaction:  # noqa: N801 - a context manager used like a function
    """The connection inside one transaction, rolled back (nothing is written) and closed."""

    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection

    def __enter__(self) -> sa.Connection:
        self.transaction = self.connection.begin()
        return self.connection

    def __exit__(self, *exc: object) -> None:
        try:
            self.transaction.rollback()
        finally:
            self.connection.close()


def public_records(connection: sa.Connection, receipts: Sequence[str],
                   now: datetime) -> list[dict[str, Any]]:
    """The public records (JSON-ready dicts) of ``receipts`` that exist, in that order."""
    loaded = load_cases(connection, receipts)
    return [to_public(loaded[r], now).model_dump(mode="json") for r in receipts if r in loaded]


@contextmanager
def exported_snapshot(engine: sa.Engine) -> Iterator[tuple[sa.Connection, str]]:
    """PostgreSQL: a ``REPEATABLE READ, READ ONLY`` transaction and its exported snapshot id.
    Other sessions see exactly the same data after ``import_snapshot(connection, id)`` as the
    first statement of their own such transaction — while this one stays open (parallel
    workers of one export, as ``pg_dump -j`` does)."""
    with _in_transaction(engine.connect().execution_options(
            isolation_level="REPEATABLE READ", postgresql_readonly=True)) as connection:
        snapshot = str(connection.execute(sa.text("SELECT pg_export_snapshot()")).scalar_one())
        yield connection, snapshot


@contextmanager
def imported_snapshot(engine: sa.Engine, snapshot: str) -> Iterator[sa.Connection]:
    """A read-only transaction seeing the exported ``snapshot`` (see ``exported_snapshot``)."""
    with _in_transaction(engine.connect().execution_options(
            isolation_level="REPEATABLE READ", postgresql_readonly=True)) as connection:
        connection.execute(sa.text("SET TRANSACTION SNAPSHOT :snapshot"), {"snapshot": snapshot})
        yield connection


def all_receipts(connection: sa.Connection, batch: int = 50_000) -> Iterator[str]:
    """Every receipt number, in order, by keyset batches."""
    after: str | None = None
    while receipts := receipts_after(connection, after, batch):
        yield from receipts
        after = receipts[-1]


def receipts_after(connection: sa.Connection, after: str | None, limit: int) -> list[str]:
    """The next ``limit`` receipt numbers after ``after`` — an index range scan of the primary
    key, whatever the depth."""
    query = sa.select(cases.c.receipt_number).order_by(cases.c.receipt_number).limit(limit)
    if after is not None:
        query = query.where(cases.c.receipt_number > after)
    return [row.receipt_number for row in connection.execute(query)]
