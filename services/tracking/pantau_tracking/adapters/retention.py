"""Retention: delete private data, outbox rows and dedup records nobody needs any more.

* ``applicants`` (PRIVATE: name, NIK, phone, e-mail, address; UU PDP 27/2022): needed only while
  the case is open (to redact what departments write about it). Deleted ``applicant_retention``
  (default 365 days, ``PANTAU_TRACKING_APPLICANT_RETENTION_DAYS``) after the case closed
  (``cases.closed_at``); an open case keeps its applicant however old. The public record, the
  history and the transparency log never held applicant data and are kept (docs/privacy.md).

* ``outbox``: a row is needed until the broker confirmed it (``sent_at`` set). Sent rows are kept
  for ``outbox_retention`` (default 24 h, ``PANTAU_TRACKING_OUTBOX_RETENTION_HOURS``) for
  forensics, then deleted. Unsent rows are never deleted, however old.
* ``processed_events``: the (source, id) dedup record of every event. Kept for
  ``processed_retention`` (default 30 days, ``PANTAU_TRACKING_PROCESSED_RETENTION_DAYS``).
  Deduplication by (source, id) holds WITHIN that window only: a redelivery or replay of an event
  older than it is processed again. For events with a ``sequence`` that is still harmless (the
  case's ``last_sequence`` drops it as ``stale-sequence``) and a repeated ``case.submitted`` is
  refused as ``duplicate-receipt``; an unsequenced event would be applied a second time. So the
  window must be longer than any redelivery or dead-letter replay delay.

Deletion is cheap and bounded: ``DELETE ... WHERE key IN (SELECT key ... LIMIT batch)`` on an
indexed timestamp, one short transaction per batch (on SQLite under the store's write lock, which
is released between batches), at most ``max_batches`` per run; the rest waits for the next run.
On PostgreSQL the batch is picked with ``FOR UPDATE SKIP LOCKED`` so several instances purging
at once do not wait on each other. It runs from its own timer, never on the event path.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from pantau_tracking.adapters.schema import applicants, cases, outbox, processed_events
from pantau_tracking.adapters.store import SqlStore
from pantau_tracking.service.ports import Clock
from pantau_tracking.settings import TrackingSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Purged:
    """Rows deleted by one run."""

    outbox: int
    processed_events: int
    applicants: int = 0


class RetentionPurger:
    def __init__(self, store: SqlStore, clock: Clock, *,
                 outbox_retention: timedelta = timedelta(hours=24),
                 processed_retention: timedelta = timedelta(days=30),
                 applicant_retention: timedelta = timedelta(days=365),
                 batch_size: int = 1000, max_batches: int = 50) -> None:
        self.store = store
        self.clock = clock
        self.outbox_retention = outbox_retention
        self.processed_retention = processed_retention
        self.applicant_retention = applicant_retention
        self.batch_size = batch_size
        self.max_batches = max_batches

    @classmethod
    def from_settings(cls, store: SqlStore, clock: Clock,
                      settings: TrackingSettings) -> RetentionPurger:
        return cls(store, clock,
                   outbox_retention=timedelta(hours=settings.tracking_outbox_retention_hours),
                   processed_retention=timedelta(days=settings.tracking_processed_retention_days),
                   applicant_retention=timedelta(days=settings.tracking_applicant_retention_days),
                   batch_size=settings.tracking_purge_batch_size,
                   max_batches=settings.tracking_purge_max_batches)

    def purge(self) -> Purged:
        """Delete what is past its retention (bounded work; see the module docstring)."""
        now = self.clock.now()
        sent = self._purge(
            sa.select(outbox.c.id).where(outbox.c.sent_at.is_not(None),
                                         outbox.c.sent_at < now - self.outbox_retention)
            .order_by(outbox.c.sent_at),
            lambda keys: outbox.delete().where(outbox.c.id.in_(keys)))
        processed = self._purge(
            sa.select(processed_events.c.source, processed_events.c.event_id)
            .where(processed_events.c.processed_at < now - self.processed_retention)
            .order_by(processed_events.c.processed_at),
            lambda keys: processed_events.delete().where(
                sa.tuple_(processed_events.c.source, processed_events.c.event_id).in_(keys)))
        private = self.purge_applicants()
        if sent or processed or private:
            log.info("retention purge: %d sent outbox row(s), %d processed-event record(s), "
                     "%d applicant(s) of closed cases", sent, processed, private)
        return Purged(outbox=sent, processed_events=processed, applicants=private)

    def applicants_due(self) -> sa.Select[Any]:
        """Receipts whose applicant is past retention: the case closed before the cutoff."""
        cutoff = self.clock.now() - self.applicant_retention
        return (sa.select(applicants.c.receipt_number)
                .join(cases, cases.c.receipt_number == applicants.c.receipt_number)
                .where(cases.c.is_open.is_(False), cases.c.closed_at.is_not(None),
                       cases.c.closed_at < cutoff)
                .order_by(cases.c.closed_at))

    def purge_applicants(self) -> int:
        return self._purge(self.applicants_due(),
                           lambda keys: applicants.delete().where(
                               applicants.c.receipt_number.in_(keys)),
                           lock_of=applicants)

    def count_applicants_due(self) -> int:
        """How many applicants the next runs would delete (the CLI's ``--dry-run``)."""
        with self.store.engine.connect() as connection:
            return int(connection.execute(sa.select(sa.func.count()).select_from(
                self.applicants_due().order_by(None).subquery())).scalar_one())

    def _purge(self, candidates: sa.Select[Any],
               delete: Callable[[sa.Select[Any]], sa.Delete],
               lock_of: sa.Table | None = None) -> int:
        """Run ``delete(batch of candidate keys)`` until a batch comes back short. ``lock_of``:
        the table whose rows are locked (a join must not lock the rows it only reads)."""
        batch = candidates.limit(self.batch_size)
        if not self.store.is_sqlite:
            batch = batch.with_for_update(skip_locked=True, of=lock_of)
        total = 0
        for _ in range(self.max_batches):
            with self.store.writing(), self.store.engine.begin() as connection:
                deleted = connection.execute(delete(batch)).rowcount
            total += deleted
            if deleted < self.batch_size:
                break
        return total
