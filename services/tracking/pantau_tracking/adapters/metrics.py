"""Tracking's gauges, read from its own database with cheap aggregate queries.

* ``OutboxGauges.refresh()`` → ``pantau_outbox_backlog`` (unsent rows) and
  ``pantau_outbox_oldest_unsent_age_seconds`` (0 when none): one ``count``/``min`` over the
  unsent rows (``sent_at`` is indexed); run at scrape time, so the value is never stale.
* ``SlaGauges.refresh()`` → ``pantau_cases_open``, ``pantau_cases_overdue`` (open and marked
  overdue by the overdue scan) and ``pantau_cases_late_reported`` (open with at least one step
  reported late) per jurisdiction: two GROUP BY queries over open cases (``ix_cases_open_due``),
  run on a timer (``PANTAU_TRACKING_SLA_METRICS_INTERVAL``, 30 s) rather than per scrape.
  Tracking's store, not Elasticsearch: it is the record, and the query touches open cases only.
  A jurisdiction whose open cases all closed is set to 0, not dropped, so alerts see the fall.

Freshness (received → applied) is recorded at the entrypoint: ``record_applied``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from pantau_platform import metrics
from pantau_tracking.adapters.schema import case_history, cases, outbox
from pantau_tracking.adapters.store import SqlStore
from pantau_tracking.domain.lifecycle import ReceivedEvent


class OutboxGauges:
    def __init__(self, store: SqlStore) -> None:
        self.store = store

    def refresh(self) -> None:
        query = (sa.select(sa.func.count(), sa.func.min(outbox.c.created_at))
                 .where(outbox.c.sent_at.is_(None)))
        with self.store.engine.connect() as connection:
            count, oldest = connection.execute(query).one()
        metrics.OUTBOX_BACKLOG.set(int(count or 0))
        metrics.OUTBOX_OLDEST_AGE.set(_age(oldest) if count else 0.0)


class SlaGauges:
    def __init__(self, store: SqlStore) -> None:
        self.store = store
        self._seen: set[str] = set()

    def refresh(self) -> None:
        by_jurisdiction, late = sla_queries()
        with self.store.engine.connect() as connection:
            totals = {j: (int(n), int(o or 0)) for j, n, o in connection.execute(by_jurisdiction)}
            lates = {j: int(n) for j, n in connection.execute(late)}
        for jurisdiction in self._seen | set(totals) | set(lates):
            label = metrics.bounded(jurisdiction, "code")
            opened, overdue = totals.get(jurisdiction, (0, 0))
            metrics.CASES_OPEN.labels(label).set(opened)
            metrics.CASES_OVERDUE.labels(label).set(overdue)
            metrics.CASES_LATE_REPORTED.labels(label).set(lates.get(jurisdiction, 0))
        self._seen |= set(totals) | set(lates)


def sla_queries() -> tuple[sa.Select[Any], sa.Select[Any]]:
    """Open and overdue cases per jurisdiction; open cases with a late-reported step.

    Plain boolean criteria (not ``IS true``): PostgreSQL uses the partial indexes of migration
    0006 only for a predicate it can match, so the gauges cost what is open or late rather than
    a scan of every stored case and history row (docs/performance.md, "Tracking with
    history")."""
    open_cases = cases.c.is_open
    by_jurisdiction = (sa.select(cases.c.jurisdiction, sa.func.count(),
                                 sa.func.sum(sa.case((cases.c.overdue_reported.is_(True), 1),
                                                     else_=0)))
                       .where(open_cases).group_by(cases.c.jurisdiction))
    late = (sa.select(cases.c.jurisdiction,
                      sa.func.count(sa.distinct(case_history.c.receipt_number)))
            .join(case_history, case_history.c.receipt_number == cases.c.receipt_number)
            .where(open_cases, case_history.c.late_reported)
            .group_by(cases.c.jurisdiction))
    return by_jurisdiction, late


def record_applied(events: Sequence[ReceivedEvent], failed: Iterable[int],
                   now: datetime | None = None) -> None:
    """After the batch committed: each applied event is accepted, and its freshness is now
    minus intake's ``pantaureceived``."""
    skip = set(failed)
    at = now or datetime.now(UTC)
    for index, event in enumerate(events):
        if index in skip:
            continue
        metrics.EVENTS_ACCEPTED.labels(**metrics.event_labels(
            event.type, event.jurisdiction, event.department)).inc()
        metrics.FRESHNESS_APPLIED.observe(max((at - event.received).total_seconds(), 0.0))


def _age(oldest: datetime | str | None) -> float:
    if oldest is None:
        return 0.0
    if isinstance(oldest, str):  # SQLite hands back text
        oldest = datetime.fromisoformat(oldest)
    if oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=UTC)
    return max((datetime.now(UTC) - oldest).total_seconds(), 0.0)
