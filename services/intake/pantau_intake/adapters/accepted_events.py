"""``AcceptedEvents`` in SQL: the idempotency memory shared by every intake replica.

Table ``intake_accepted_events``: primary key ``event_key`` = SHA-256 of ``source`` NUL ``id``
(bounded index entries whatever the id's length), the readable ``source`` and ``event_id``, the
content ``digest``, the ``answer`` given (``accepted``), ``accepted_at`` and ``expires_at``
(accepted + ``keep`` seconds, 24 h by default: a sender's retries happen well within that;
after it, tracking's own (source, id) deduplication still holds).

* ``find`` is one ``SELECT … WHERE event_key IN (…) AND expires_at > now`` per 500 keys.
* ``record`` is ``INSERT … ON CONFLICT (event_key) DO UPDATE … WHERE the existing row has
  expired`` (executemany, per 500 rows; each row stands alone): a live entry is never
  overwritten (the first accepted content wins), so recording twice — or from two replicas — is
  harmless.

Concurrent callers' lookups share one ``SELECT``, and their records one upsert
(``pantau_platform.group_commit``): a request's two small transactions become a share of two
(docs/performance.md, "Intake over HTTP"). Each caller still gets exactly its own keys' answers.

Callers record only after the broker confirmed (see ``domain.idempotency``). Two replicas that
receive the same NEW event at the same instant may both forward it (neither has recorded yet);
tracking's (source, id) deduplication absorbs that, exactly as for a crash between confirm and
record. Use an engine from ``adapters.sql.ledger_engine_for``.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Collection, Mapping
from datetime import datetime

import sqlalchemy as sa

from pantau_intake.adapters.sql import (
    ExpiryPurger,
    create_tables,
    transact,
    unavailable_on_error,
    upsert,
    utc,
)
from pantau_intake.domain.idempotency import AcceptedRecord, EventKey
from pantau_platform.group_commit import GroupCommit

DEFAULT_KEEP_SECONDS = 24 * 3600
_CHUNK = 500

_metadata = sa.MetaData()
accepted_events_table = sa.Table(
    "intake_accepted_events", _metadata,
    sa.Column("event_key", sa.String(64), primary_key=True),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("event_id", sa.Text, nullable=False),
    sa.Column("digest", sa.String(64), nullable=False),
    sa.Column("answer", sa.String(32), nullable=False),
    sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_intake_accepted_events_expires_at", "expires_at"),
)


def event_key(key: EventKey) -> str:
    source, event_id = key
    return hashlib.sha256(f"{source}\0{event_id}".encode()).hexdigest()


class SqlAcceptedEvents:
    """Implements ``domain.idempotency.AcceptedEvents`` on ``engine``."""

    def __init__(self, engine: sa.Engine, *, keep: float = DEFAULT_KEEP_SECONDS,
                 clock: Callable[[], float] = time.time, purge_interval: float = 60.0) -> None:
        self._engine = engine
        self._keep = keep
        self._clock = clock
        self._purger = ExpiryPurger(engine, accepted_events_table, purge_interval)
        # Built once: the hot path only binds parameters (no per-call statement construction).
        table = accepted_events_table
        self._select = sa.select(table.c.event_key, table.c.digest, table.c.answer).where(
            table.c.event_key.in_(sa.bindparam("keys", expanding=True))
            & (table.c.expires_at > sa.bindparam("now", type_=table.c.expires_at.type)))
        insert = upsert(engine, table)
        # RETURNING makes the upsert qualify for SQLAlchemy's "insertmanyvalues": a batch is one
        # multi-row INSERT. Without it, an ON CONFLICT executemany on psycopg2 is one round trip
        # per row (the profile of the AMQP ingress: 18 % of its time; docs/performance.md).
        self._insert = insert.on_conflict_do_update(
            index_elements=["event_key"],
            set_={name: insert.excluded[name] for name in (
                "source", "event_id", "digest", "answer", "accepted_at", "expires_at")},
            where=table.c.expires_at < insert.excluded.accepted_at).returning(table.c.event_key)
        self._finds: GroupCommit[tuple[list[str], float], dict[str, AcceptedRecord]] = \
            GroupCommit(self._find_all)
        self._records: GroupCommit[list[dict[str, object]], None] = \
            GroupCommit(self._record_all)
        with unavailable_on_error("creating the accepted-events table"):
            create_tables(engine, _metadata)

    def find(self, keys: Collection[EventKey]) -> dict[EventKey, AcceptedRecord]:
        by_hash = {event_key(key): key for key in keys}
        if not by_hash:
            return {}
        found = self._finds((list(by_hash), self._clock()))
        return {by_hash[digest]: record for digest, record in found.items()}

    def _find_all(self, items: list[tuple[list[str], float]]) -> list[dict[str, AcceptedRecord]]:
        """One lookup for every caller of a group, at the latest caller's time."""
        now = utc(max(at for _hashes, at in items))
        hashes = sorted({digest for wanted, _at in items for digest in wanted})
        found: dict[str, AcceptedRecord] = {}

        def select(conn: sa.Connection) -> None:
            for start in range(0, len(hashes), _CHUNK):
                rows = conn.execute(self._select,
                                    {"keys": hashes[start:start + _CHUNK], "now": now})
                for row in rows:
                    found[row.event_key] = AcceptedRecord(row.digest, row.answer)

        transact(self._engine, "looking up accepted events", select)
        return [{d: found[d] for d in wanted if d in found} for wanted, _at in items]

    def accepted_at(self, source: str, event_id: str) -> datetime | None:
        """When intake accepted (``source``, ``event_id``), while it is remembered (the event
        status API, ``service.event_status``)."""
        table = accepted_events_table
        query = sa.select(table.c.accepted_at).where(
            (table.c.event_key == event_key((source, event_id)))
            & (table.c.expires_at > utc(self._clock())))
        return transact(self._engine, "reading an accepted event",
                        lambda conn: conn.execute(query).scalar())

    def record(self, records: Mapping[EventKey, AcceptedRecord]) -> None:
        if not records:
            return
        now = self._clock()
        accepted_at, expires_at = utc(now), utc(now + self._keep)
        rows: list[dict[str, object]] = [
            {"event_key": event_key(key), "source": key[0], "event_id": key[1],
             "digest": record.digest, "answer": record.answer,
             "accepted_at": accepted_at, "expires_at": expires_at}
            for key, record in records.items()]
        self._records(rows)
        self._purger.maybe_purge(accepted_at)

    def _record_all(self, items: list[list[dict[str, object]]]) -> list[None]:
        """One upsert for every caller of a group. A key twice in it (two requests forwarding
        the same new event at once) is written once, by the earliest caller: the first accepted
        content wins, as with two statements."""
        unique: dict[object, dict[str, object]] = {}
        for rows in items:
            for row in rows:
                unique.setdefault(row["event_key"], row)
        # Rows in key order: two processes upserting overlapping keys then lock them in the same
        # order, so they wait for each other instead of deadlocking.
        ordered = [unique[key] for key in sorted(unique, key=str)]

        def insert(conn: sa.Connection) -> None:
            for start in range(0, len(ordered), _CHUNK):
                conn.execute(self._insert, ordered[start:start + _CHUNK]).all()

        transact(self._engine, "recording accepted events", insert)
        return [None] * len(items)
