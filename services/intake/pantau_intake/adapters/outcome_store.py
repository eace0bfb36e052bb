"""The outcomes store in intake's database: event outcomes, webhooks and their delivery outbox.

Tables (created on first use, ``adapters.sql.create_tables``):

* ``intake_event_outcomes`` — one row per event applied or refused: ``id`` (the cursor of
  ``GET /v1/refusals``), ``event_key`` (SHA-256 of source NUL id, unique: a redelivered outcome
  is ignored), the department (from the routing key), source, event id and type, receipt,
  ``outcome`` applied|refused, stage, reason, detail, revision, ``decided_at`` (tracking's or
  the ingress's time), ``recorded_at`` and ``expires_at`` (recorded + retention, 30 days by
  default; purged by ``ExpiryPurger`` piggybacking on writes).
* ``intake_webhooks`` — per department: URL, subscriptions, times.
* ``intake_webhook_deliveries`` — the outbox: department, message id (unique per department),
  receipt (per-case order), event type, body, ``state`` pending|delivered|dead, attempts,
  ``next_attempt_at`` (also the claim lease), last status/note, times. Delivered and dead rows
  are deleted ``retention`` after they were settled (``purge_deliveries``, with the outcomes'
  purge): dead ones can be listed and replayed for 30 days by default.

**Cursor order.** ``id`` comes from a sequence/autoincrement, and two writers' transactions could
commit out of id order, so a poller that already moved past id 12 would never see 11. Writers are
therefore serialised: on PostgreSQL each outcome transaction first takes the transaction-level
advisory lock ``OUTCOMES_LOCK_ID`` (ids are taken after it and committed before the next writer
gets it); SQLite has one writer at a time anyway. The price is one lock per BATCH (one outcomes
process commits a batch of up to hundreds of rows per transaction), so replicas of the outcomes
process queue for a few milliseconds each, never longer than one batch's insert.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from pantau_intake.adapters.sql import (
    ExpiryPurger,
    create_tables,
    engine_for,
    transact,
    unavailable_on_error,
    upsert,
)
from pantau_intake.domain.departments import DepartmentRef
from pantau_intake.domain.outcomes import EventOutcome, outcome_key
from pantau_intake.domain.store import StoreUnavailable
from pantau_intake.domain.webhooks import (
    NewDelivery,
    PendingDelivery,
    Settlement,
    Webhook,
)
from pantau_platform.sql_insert import insert_rows

OUTCOMES_LOCK_ID = 0x50414E5441550002  # "PANTAU" + 2: outcome writers, in id order
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # SQLite autoincrements INTEGER only
_metadata = sa.MetaData()
outcomes_table = sa.Table(
    "intake_event_outcomes", _metadata,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column("event_key", sa.String(64), nullable=False, unique=True),
    sa.Column("jurisdiction", sa.String(100), nullable=False),
    sa.Column("department", sa.String(100), nullable=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("event_id", sa.Text, nullable=False),
    sa.Column("event_type", sa.String(100), nullable=False),
    sa.Column("receipt_number", sa.Text),
    sa.Column("outcome", sa.String(16), nullable=False),
    sa.Column("stage", sa.String(32)),
    sa.Column("reason", sa.String(100)),
    sa.Column("detail", sa.Text),
    sa.Column("revision", sa.BigInteger),
    sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_intake_event_outcomes_refusals", "jurisdiction", "department", "outcome", "id"),
    sa.Index("ix_intake_event_outcomes_expires_at", "expires_at"),
)
webhooks_table = sa.Table(
    "intake_webhooks", _metadata,
    sa.Column("jurisdiction", sa.String(100), primary_key=True),
    sa.Column("department", sa.String(100), primary_key=True),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("subscriptions", sa.String(100), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)
deliveries_table = sa.Table(
    "intake_webhook_deliveries", _metadata,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column("jurisdiction", sa.String(100), nullable=False),
    sa.Column("department", sa.String(100), nullable=False),
    sa.Column("message_id", sa.Text, nullable=False),
    sa.Column("receipt", sa.Text, nullable=False),
    sa.Column("event_type", sa.String(100), nullable=False),
    sa.Column("body", sa.LargeBinary, nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("last_note", sa.Text),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("settled_at", sa.DateTime(timezone=True)),
    sa.UniqueConstraint("jurisdiction", "department", "message_id",
                        name="uq_intake_webhook_deliveries_message"),
    sa.Index("ix_intake_webhook_deliveries_due", "state", "next_attempt_at"),
    sa.Index("ix_intake_webhook_deliveries_case", "jurisdiction", "department", "receipt", "id"),
)


def aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class SqlOutcomeStore:
    """``OutcomeStore`` and ``DeliveryStore`` on ``url``; also the reads of the HTTP API and the
    credentials command (``outcome``, ``refusals``, webhook configuration, delivery lists)."""

    def __init__(self, url: str | sa.Engine, *, retention: timedelta = timedelta(days=30),
                 purge_interval: float = 300.0) -> None:
        self._engine = url if isinstance(url, sa.Engine) else engine_for(url)
        self._retention = retention
        self._purger = ExpiryPurger(self._engine, outcomes_table, purge_interval)
        self._purge_interval, self._next_delivery_purge = purge_interval, 0.0
        with unavailable_on_error("creating the outcomes tables"):
            create_tables(self._engine, _metadata)

    @property
    def engine(self) -> sa.Engine:
        return self._engine

    def dispose(self) -> None:
        self._engine.dispose()

    # --- OutcomeStore ---------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[_UnitOfWork]:
        with unavailable_on_error("recording outcomes"), self._engine.begin() as conn:
            yield _UnitOfWork(conn, self._retention)
        now = datetime.now(UTC)
        self._purger.maybe_purge(now)
        if time.monotonic() >= self._next_delivery_purge:
            self._next_delivery_purge = time.monotonic() + self._purge_interval
            with suppress(StoreUnavailable):  # retried at the next interval
                self.purge_deliveries(now)

    def purge_deliveries(self, now: datetime) -> int:
        """Delete delivered and dead deliveries settled more than ``retention`` ago."""
        t = deliveries_table
        result = transact(self._engine, "purging deliveries", lambda conn: conn.execute(
            t.delete().where(t.c.state.in_(("delivered", "dead"))
                             & (t.c.settled_at < now - self._retention))))
        return int(result.rowcount or 0)

    # --- DeliveryStore --------------------------------------------------------------------

    def claim_due(self, now: datetime, limit: int, lease: timedelta) -> list[PendingDelivery]:
        return transact(self._engine, "claiming webhook deliveries",
                        lambda conn: _claim(conn, now, limit, lease))

    def settle(self, delivery: PendingDelivery, settlement: Settlement, now: datetime) -> None:
        t = deliveries_table
        values: dict[str, Any] = {"state": settlement.state, "attempts": delivery.attempts + 1,
                                  "last_note": settlement.note}
        if settlement.state == "pending":
            assert settlement.next_attempt_at is not None
            values["next_attempt_at"] = settlement.next_attempt_at
        else:
            values["settled_at"] = now
        transact(self._engine, "settling a webhook delivery", lambda conn: conn.execute(
            t.update().where(t.c.id == delivery.id).values(**values)))

    # --- reads (HTTP API) -----------------------------------------------------------------

    def outcome(self, department: DepartmentRef, event_id: str) -> dict[str, Any] | None:
        t = outcomes_table
        query = sa.select(t).where((t.c.event_key == outcome_key(department.source, event_id))
                                   & _of(t, department))
        row = transact(self._engine, "reading an outcome",
                       lambda conn: conn.execute(query).mappings().first())
        return dict(row) if row is not None else None

    def refusals(self, department: DepartmentRef, after: int, limit: int) -> list[dict[str, Any]]:
        t = outcomes_table
        query = sa.select(t).where(_of(t, department) & (t.c.outcome == "refused")
                                   & (t.c.id > after)).order_by(t.c.id).limit(limit)
        return transact(self._engine, "listing refusals",
                        lambda conn: [dict(r) for r in conn.execute(query).mappings()])

    # --- webhook configuration and deliveries (credentials command) -----------------------

    def set_webhook(self, webhook: Webhook) -> None:
        t = webhooks_table
        row = {"jurisdiction": webhook.department.jurisdiction,
               "department": webhook.department.department, "url": webhook.url,
               "subscriptions": ",".join(webhook.subscriptions), "updated_at": datetime.now(UTC)}
        insert = upsert(self._engine, t)
        statement = insert.values(row).on_conflict_do_update(
            index_elements=["jurisdiction", "department"],
            set_={k: insert.excluded[k] for k in ("url", "subscriptions", "updated_at")})
        transact(self._engine, "setting a webhook", lambda conn: conn.execute(statement))

    def webhook(self, department: DepartmentRef) -> Webhook | None:
        return transact(self._engine, "reading a webhook",
                        lambda conn: _webhooks(conn, [department]).get(department))

    def remove_webhook(self, department: DepartmentRef) -> bool:
        t = webhooks_table
        result = transact(self._engine, "removing a webhook",
                          lambda conn: conn.execute(t.delete().where(_of(t, department))))
        return bool(result.rowcount)

    def deliveries(self, department: DepartmentRef, *, dead_only: bool = False,
                   limit: int = 100) -> list[dict[str, Any]]:
        t = deliveries_table
        query = sa.select(t.c.id, t.c.message_id, t.c.receipt, t.c.event_type, t.c.state,
                          t.c.attempts, t.c.next_attempt_at, t.c.last_note, t.c.created_at,
                          t.c.settled_at).where(_of(t, department))
        if dead_only:
            query = query.where(t.c.state == "dead")
        query = query.order_by(t.c.id.desc()).limit(limit)
        return transact(self._engine, "listing deliveries",
                        lambda conn: [dict(r) for r in conn.execute(query).mappings()])

    def replay(self, department: DepartmentRef, since: datetime | None, now: datetime) -> int:
        """Dead deliveries (created at or after ``since``) back to pending, due now, with a
        fresh 24 h window (``created_at`` is reset); the number requeued."""
        t = deliveries_table
        where = _of(t, department) & (t.c.state == "dead")
        if since is not None:
            where = where & (t.c.created_at >= since)
        result = transact(self._engine, "replaying deliveries", lambda conn: conn.execute(
            t.update().where(where).values(state="pending", next_attempt_at=now, created_at=now,
                                           attempts=0, settled_at=None)))
        return int(result.rowcount or 0)


def _of(table: sa.Table, department: DepartmentRef) -> Any:
    return ((table.c.jurisdiction == department.jurisdiction)
            & (table.c.department == department.department))


class _UnitOfWork:
    def __init__(self, conn: sa.Connection, retention: timedelta) -> None:
        self._conn, self._retention = conn, retention

    def record_outcomes(self, outcomes: Sequence[EventOutcome]) -> list[EventOutcome]:
        if self._conn.dialect.name == "postgresql":  # ids committed in id order (docstring)
            self._conn.execute(sa.text("SELECT pg_advisory_xact_lock(:id)"),
                               {"id": OUTCOMES_LOCK_ID})
        unique = {o.key: o for o in reversed(outcomes)}  # the first of a batch wins
        t = outcomes_table
        existing = set(self._conn.execute(sa.select(t.c.event_key).where(
            t.c.event_key.in_(list(unique)))).scalars())
        new = [o for key, o in unique.items() if key not in existing]
        new.reverse()
        if new:
            now = datetime.now(UTC)
            insert_rows(self._conn, t, [_outcome_row(o, now, now + self._retention)
                                        for o in new])
        return new

    def webhooks(self, departments: Iterable[DepartmentRef]) -> dict[DepartmentRef, Webhook]:
        return _webhooks(self._conn, list(departments))

    def enqueue(self, deliveries: Sequence[NewDelivery]) -> None:
        now = datetime.now(UTC)
        rows = [{"jurisdiction": d.department.jurisdiction, "department": d.department.department,
                 "message_id": d.message_id, "receipt": d.receipt, "event_type": d.event_type,
                 "body": d.body, "state": "pending", "attempts": 0, "next_attempt_at": now,
                 "created_at": now} for d in deliveries]
        insert = upsert(self._conn.engine, deliveries_table).on_conflict_do_nothing(
            index_elements=["jurisdiction", "department", "message_id"])
        self._conn.execute(insert, rows)


def _outcome_row(o: EventOutcome, now: datetime, expires: datetime) -> dict[str, Any]:
    return {"event_key": o.key, "jurisdiction": o.department.jurisdiction,
            "department": o.department.department, "source": o.source, "event_id": o.event_id,
            "event_type": o.event_type, "receipt_number": o.receipt_number,
            "outcome": o.outcome, "stage": o.stage, "reason": o.reason,
            "detail": o.detail, "revision": o.revision, "decided_at": o.at,
            "recorded_at": now, "expires_at": expires}


def _webhooks(conn: sa.Connection, departments: list[DepartmentRef]
              ) -> dict[DepartmentRef, Webhook]:
    if not departments:
        return {}
    t = webhooks_table
    pairs = sa.or_(*(_of(t, d) for d in departments))
    found = {}
    for row in conn.execute(sa.select(t).where(pairs)):
        department = DepartmentRef(row.jurisdiction, row.department)
        found[department] = Webhook(department, row.url,
                                    tuple(s for s in row.subscriptions.split(",") if s))
    return found


def _claim(conn: sa.Connection, now: datetime, limit: int, lease: timedelta
           ) -> list[PendingDelivery]:
    """The oldest pending delivery of each (department, receipt), if due; claimed by moving its
    ``next_attempt_at`` to now + lease (a conditional update: a replica that lost the race
    skips it)."""
    t, w = deliveries_table, webhooks_table
    earlier = t.alias("earlier")
    blocked = sa.exists().where(
        (earlier.c.jurisdiction == t.c.jurisdiction) & (earlier.c.department == t.c.department)
        & (earlier.c.receipt == t.c.receipt) & (earlier.c.state == "pending")
        & (earlier.c.id < t.c.id))
    query = (sa.select(t, w.c.url).join(w, (w.c.jurisdiction == t.c.jurisdiction)
                                         & (w.c.department == t.c.department))
             .where((t.c.state == "pending") & (t.c.next_attempt_at <= now) & ~blocked)
             .order_by(t.c.next_attempt_at, t.c.id).limit(limit))
    claimed = []
    for row in conn.execute(query).all():
        taken = conn.execute(t.update().where(
            (t.c.id == row.id) & (t.c.state == "pending")
            & (t.c.next_attempt_at == row.next_attempt_at)).values(next_attempt_at=now + lease))
        if taken.rowcount == 1:
            claimed.append(PendingDelivery(
                id=row.id, department=DepartmentRef(row.jurisdiction, row.department),
                url=row.url, receipt=row.receipt, event_type=row.event_type,
                body=bytes(row.body), attempts=row.attempts, created_at=aware(row.created_at)))
    return claimed
