"""``SignatureLedger`` in SQL: the replay check shared by every intake HTTP replica.

Table ``intake_seen_signatures``: primary key (key_id, signature), ``seen_at``, ``expires_at``
(seen + 2 × replay window: by then the signed timestamp is refused by the window check anyway,
even allowing for clock skew between replicas).

``remember`` is ONE statement, ``INSERT … ON CONFLICT (key_id, signature) DO UPDATE … WHERE the
existing row has expired``: it changes a row (first use, or reuse of a long-expired row not yet
purged) or it does not (a live replay). The database's unique index makes that atomic across
processes: of two replicas racing with the same signature exactly one sees a changed row.
Expired rows are purged by ``ExpiryPurger`` at most once a minute per process. Use an engine
from ``adapters.sql.ledger_engine_for``.

Concurrent requests' checks share one statement (``pantau_platform.group_commit``): a multi-row
upsert whose ``RETURNING`` names the rows it changed. A signature twice in one group is a first
use for the earliest caller only; every other caller of it is answered "replayed" (fail closed).
"""

from __future__ import annotations

import sqlalchemy as sa

from pantau_intake.adapters.sql import (
    ExpiryPurger,
    create_tables,
    transact,
    unavailable_on_error,
    upsert,
    utc,
)
from pantau_platform.group_commit import GroupCommit

_metadata = sa.MetaData()
seen_signatures_table = sa.Table(
    "intake_seen_signatures", _metadata,
    sa.Column("key_id", sa.String(120), primary_key=True),
    sa.Column("signature", sa.String(128), primary_key=True),  # hex HMAC-SHA256 (64)
    sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_intake_seen_signatures_expires_at", "expires_at"),
)


class SqlSeenSignatures:
    """Implements ``service.ports.SignatureLedger`` on ``engine``."""

    def __init__(self, engine: sa.Engine, window: float, *,
                 purge_interval: float = 60.0) -> None:
        self._engine = engine
        self._keep = 2 * window
        self._purger = ExpiryPurger(engine, seen_signatures_table, purge_interval)
        insert = upsert(engine, seen_signatures_table)
        # Built once: the hot path only binds parameters (no per-call statement construction).
        table = seen_signatures_table
        self._statement = insert.on_conflict_do_update(
            index_elements=["key_id", "signature"],
            set_={"seen_at": insert.excluded.seen_at, "expires_at": insert.excluded.expires_at},
            where=table.c.expires_at < insert.excluded.seen_at,
        ).returning(table.c.key_id, table.c.signature)
        self._group: GroupCommit[tuple[str, str, float], bool] = GroupCommit(self._remember_all)
        with unavailable_on_error("creating the seen-signatures table"):
            create_tables(engine, _metadata)

    def remember(self, key_id: str, digest: str, now: float) -> bool:
        first_use = self._group((key_id, digest, now))
        self._purger.maybe_purge(utc(now))
        return first_use

    def _remember_all(self, items: list[tuple[str, str, float]]) -> list[bool]:
        rows: dict[tuple[str, str], dict[str, object]] = {}
        for key_id, digest, now in items:
            rows.setdefault((key_id, digest), {
                "key_id": key_id, "signature": digest, "seen_at": utc(now),
                "expires_at": utc(now + self._keep)})
        # in key order: replicas upserting overlapping keys wait for each other, never deadlock
        ordered = [rows[key] for key in sorted(rows)]

        def upsert_all(conn: sa.Connection) -> set[tuple[str, str]]:
            return {(r.key_id, r.signature) for r in conn.execute(self._statement, ordered)}

        changed = transact(self._engine, "recording signatures", upsert_all)
        answers = []
        for key_id, digest, _now in items:
            answers.append((key_id, digest) in changed)
            changed.discard((key_id, digest))  # a repeat in the same group is a replay
        return answers
