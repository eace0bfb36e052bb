"""Logging the history recorded before the transparency log existed (a one-off after upgrade).

Every history step stored since migration 0004 queues its log leaf in its own transaction
(``store.SqlUnitOfWork``). Steps stored before that are in neither the log's queue nor its
leaves; ``backfill_log`` queues their leaves — the public entry exactly as ``log_leaf`` makes it,
in (receipt, seq) order — so that every public step is provable, old ones included.

Contract:
* cheap when there is nothing to do: it compares row counts first (history rows vs. leaves +
  queue) and returns 0 without scanning when the log is not behind;
* safe with several tracking instances and with live traffic: each chunk runs in one
  transaction holding the log's single-writer lock (``pg_advisory_xact_lock(SEQUENCER_LOCK)``
  on PostgreSQL, the store's write lock on SQLite) and re-selects what is still missing inside
  it; a live step's history row and queue row commit together, so it is never queued twice;
* what it queues is then sequenced and checkpointed by the normal sequencer.
Returns how many entries it queued.
"""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa

from pantau_tracking.adapters.schema import case_history
from pantau_tracking.adapters.store import SqlStore, load_cases
from pantau_tracking.domain.public_record import log_leaf
from pantau_transparency.sql import (
    SEQUENCER_LOCK,
    queue_entries,
    transparency_leaves,
    transparency_queue,
)

log = logging.getLogger(__name__)
CHUNK = 200  # cases per transaction


def log_is_behind(connection: sa.Connection) -> bool:
    """More history rows than logged entries (queued or sequenced)."""
    def count(table: Any) -> int:
        return int(connection.execute(sa.select(sa.func.count()).select_from(table))
                   .scalar_one())
    return count(case_history) > count(transparency_leaves) + count(transparency_queue)


def _missing_receipts(connection: sa.Connection, limit: int) -> list[str]:
    h = case_history
    logged = sa.exists().where(transparency_leaves.c.receipt_number == h.c.receipt_number,
                               transparency_leaves.c.seq == h.c.seq)
    queued = sa.exists().where(transparency_queue.c.receipt_number == h.c.receipt_number,
                               transparency_queue.c.seq == h.c.seq)
    rows = connection.execute(sa.select(h.c.receipt_number).where(~logged, ~queued)
                              .group_by(h.c.receipt_number).order_by(h.c.receipt_number)
                              .limit(limit)).scalars().all()
    return list(rows)


def _logged(connection: sa.Connection, receipts: list[str]) -> set[tuple[str, int]]:
    """(receipt, seq) already queued or sequenced."""
    present: set[tuple[str, int]] = set()
    for table in (transparency_leaves, transparency_queue):
        present.update((r.receipt_number, r.seq) for r in connection.execute(
            sa.select(table.c.receipt_number, table.c.seq)
            .where(table.c.receipt_number.in_(receipts))))
    return present


def _backfill_chunk(store: SqlStore) -> int:
    with store.writing(), store.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"),
                               {"key": SEQUENCER_LOCK})
        receipts = _missing_receipts(connection, CHUNK)
        if not receipts:
            return 0
        present = _logged(connection, receipts)
        cases = load_cases(connection, receipts)
        leaves = [log_leaf(cases[r], entry) for r in receipts if r in cases
                  for entry in cases[r].history if (r, entry.seq) not in present]
        queue_entries(connection, leaves)
        return len(leaves) or -1  # -1: rows without a case (nothing to log); stop


def backfill_log(store: SqlStore) -> int:
    """Queue the leaves of every history step the log does not have yet (see module doc)."""
    with store.engine.connect() as connection:
        if not log_is_behind(connection):
            return 0
    queued = 0
    while (done := _backfill_chunk(store)) > 0:
        queued += done
    if queued:
        log.info("transparency log: queued %d history entries recorded before the log", queued)
    return queued
