"""The log on SQLAlchemy Core (SQLite and PostgreSQL): queue, sequencer and reader.

Contract
--------
* Tables (own ``metadata``; created in tracking's database by its migration 0004):
  ``transparency_queue`` (entries waiting for a leaf index), ``transparency_leaves``
  (``leaf_index`` 0, 1, 2, … with no gap; at most one leaf per ``(receipt_number, seq)``, a
  unique index), ``transparency_nodes`` (every complete aligned
  subtree hash, level 0 = leaf hashes, see ``merkle``), ``transparency_checkpoints`` and
  ``transparency_keys`` (every public key that ever signed a checkpoint; all kept forever, so
  the portal publishes the keys without holding any secret and old checkpoints stay
  verifiable after a rotation).
* ``queue_entries(connection, leaves)`` inserts on the caller's connection, i.e. inside the
  caller's transaction: an entry exists if and only if the history entry it logs committed.
* ``Sequencer.run(min_interval)``: the single writer. In passes of at most ``batch_size`` queue
  rows (each pass one short transaction) it moves rows in ``id`` order to the next leaf indexes,
  stores the new nodes and deletes exactly the rows it moved — or raises ``DuplicateEntry``
  (moving nothing, the queue left as it is) when a row's ``(receipt_number, seq)`` is already a
  leaf or twice in the pass: one public entry is logged once; then, if the tree is larger than
  the latest checkpoint and that checkpoint is at least ``min_interval`` old, it signs a new
  one. Writers are serialised by ``pg_advisory_xact_lock(SEQUENCER_LOCK)`` on PostgreSQL and by
  the optional ``lock`` (share the store's SQLite write lock) on SQLite.
* ``LogReader`` answers the public endpoints' bodies: checkpoint JSON (see ``checkpoint``),
  ``consistency`` ``{"from", "to", "proof": [hex]}`` and ``receipt_proof`` ``{"receipt_number",
  "checkpoint", "entries": [{"seq", "leaf_index", "leaf", "leaf_hash", "audit_path"}],
  "pending": [seq]}``. Proofs read only the nodes they need, in one batched query.
  ``leaves(start, end)`` ``{"start", "end", "leaves": [{"leaf_index", "leaf"}]}`` pages through
  the leaves a checkpoint covers (at most ``MAX_LEAVES_PAGE``; ``end`` exclusive and cut to the
  page), so a monitor can hash every leaf itself: the ``receipt_number``/``seq`` columns are
  only an index for ``receipt_proof`` and are not what the tree commits to.
  ``BadProofRequest`` (a ``ValueError``: HTTP 400) and ``NoCheckpoint`` (a ``LookupError``:
  HTTP 404) are the refusals.
"""

from __future__ import annotations

import base64
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import sqlalchemy as sa

from pantau_platform.sql_insert import insert_rows
from pantau_transparency.checkpoint import DEFAULT_ORIGIN, Checkpoint, parse_note, sign_checkpoint
from pantau_transparency.keys import Signer
from pantau_transparency.leaf import Leaf
from pantau_transparency.merkle import (
    CompactRange,
    MemoryNodes,
    Position,
    consistency_proof,
    inclusion_nodes,
    inclusion_proof,
    leaf_hash,
)

SEQUENCER_LOCK = 0x70746C67  # "ptlg": advisory lock id of the log's single writer
BATCH_SIZE = 5000
MAX_CHECKPOINTS_PAGE = 1000
MAX_LEAVES_PAGE = 1000
_CHUNK = 400  # bound parameters per IN list (SQLite's limit is well above 2 x this)

metadata = sa.MetaData()
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

transparency_queue = sa.Table(
    "transparency_queue", metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("receipt_number", sa.String(48), nullable=False),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("leaf", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_transparency_queue_receipt_number", "receipt_number"),
)
transparency_leaves = sa.Table(
    "transparency_leaves", metadata,
    sa.Column("leaf_index", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("receipt_number", sa.String(48), nullable=False),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("leaf", sa.Text, nullable=False),
    sa.Column("leaf_hash", sa.LargeBinary(32), nullable=False),
    # One leaf per public entry; also the index receipt_proof looks a case's leaves up by.
    sa.Index("ux_transparency_leaves_receipt_seq", "receipt_number", "seq", unique=True),
)
transparency_nodes = sa.Table(
    "transparency_nodes", metadata,
    sa.Column("level", sa.SmallInteger, primary_key=True, autoincrement=False),
    sa.Column("idx", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("hash", sa.LargeBinary(32), nullable=False),
)
transparency_checkpoints = sa.Table(
    "transparency_checkpoints", metadata,
    sa.Column("tree_size", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("root_hash", sa.LargeBinary(32), nullable=False),
    sa.Column("timestamp", sa.DateTime(timezone=True), nullable=False),
    sa.Column("key_id", sa.String(16), nullable=False),
    sa.Column("signature", sa.Text, nullable=False),
    sa.Column("note", sa.Text, nullable=False),
)


transparency_keys = sa.Table(
    "transparency_keys", metadata,
    sa.Column("key_id", sa.String(16), primary_key=True),
    sa.Column("public_key", sa.Text, nullable=False),  # base64 of the raw 32-byte Ed25519 key
    sa.Column("first_used_at", sa.DateTime(timezone=True), nullable=False),
)


class BadProofRequest(ValueError):
    """Sizes or indexes for which no proof exists (HTTP 400)."""


class NoCheckpoint(LookupError):
    """No checkpoint yet, or none of the requested size (HTTP 404)."""


class DuplicateEntry(RuntimeError):
    """A queued entry whose ``(receipt_number, seq)`` already has a leaf (or is queued twice):
    the sequencer refuses the whole pass, so somebody looks at it before it is logged."""


class Clock(Protocol):
    def now(self) -> datetime: ...


class _SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _insert_many(connection: sa.Connection, table: sa.Table,
                 rows: Sequence[dict[str, Any]]) -> None:
    """Store ``rows`` exactly as ``connection.execute(table.insert(), rows)`` does, without
    SQLAlchemy's per-row parameter processing (``pantau_platform.sql_insert``: the driver's
    multi-row ``VALUES`` on PostgreSQL, its ``executemany`` on SQLite). ``COPY`` is
    deliberately not used: tracking runs psycopg2 in green (eventlet) mode, where
    ``copy_expert`` is refused. Every row has the first row's keys. Runs in the caller's
    transaction."""
    insert_rows(connection, table, rows)


def queue_entries(connection: sa.Connection, leaves: Iterable[Leaf],
                  now: datetime | None = None) -> int:
    """Queue ``leaves`` on ``connection`` (the caller's transaction); returns how many."""
    created = now or datetime.now(UTC)
    rows = [{"receipt_number": leaf.receipt_number, "seq": leaf.seq, "leaf": leaf.text(),
             "created_at": created} for leaf in leaves]
    if rows:
        _insert_many(connection, transparency_queue, rows)
    return len(rows)


class SqlNodes:
    """``merkle.NodeReader`` over ``transparency_nodes`` on one connection."""

    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection

    def get(self, level: int, index: int) -> bytes:
        return self.get_many([(level, index)])[(level, index)]

    def get_many(self, positions: Iterable[Position]) -> dict[Position, bytes]:
        wanted = sorted(set(positions))
        by_level: dict[int, list[int]] = defaultdict(list)
        for level, index in wanted:
            by_level[level].append(index)
        found: dict[Position, bytes] = {}
        clauses: list[Any] = []
        bound = 0

        def flush() -> None:
            query = sa.select(transparency_nodes).where(sa.or_(*clauses))
            for row in self.connection.execute(query):
                found[(row.level, row.idx)] = bytes(row.hash)
            clauses.clear()

        # (level = L AND idx IN (...)) OR ...: one statement per ~_CHUNK positions, on the PK.
        for level, indexes in sorted(by_level.items()):
            for chunk in _chunks(indexes):
                if clauses and bound + len(chunk) > _CHUNK:
                    flush()
                    bound = 0
                clauses.append(sa.and_(transparency_nodes.c.level == level,
                                       transparency_nodes.c.idx.in_(chunk)))
                bound += len(chunk)
        if clauses:
            flush()
        missing = [p for p in wanted if p not in found]
        if missing:
            raise KeyError(f"transparency_nodes has no node {missing[0]} (and "
                           f"{len(missing) - 1} more)")
        return found


def _tree_size(connection: sa.Connection) -> int:
    last = connection.execute(sa.select(sa.func.max(transparency_leaves.c.leaf_index))).scalar()
    return 0 if last is None else int(last) + 1


def _checkpoint_from_row(row: Any) -> Checkpoint:
    origin, tree_size, root_hash, timestamp = parse_note(row.note)
    return Checkpoint(origin, tree_size, root_hash, timestamp, row.key_id,
                      base64.b64decode(row.signature))


@dataclass(frozen=True)
class SequencerResult:
    appended: int  # leaves moved from the queue in this run
    tree_size: int
    checkpoint: Checkpoint | None  # signed in this run


class Sequencer:
    """The single writer of the log (see the module docstring)."""

    def __init__(self, engine: sa.Engine, signer: Signer, origin: str = DEFAULT_ORIGIN,
                 clock: Clock | None = None, *, lock: AbstractContextManager[Any] | None = None,
                 batch_size: int = BATCH_SIZE, max_batches: int = 20) -> None:
        self.engine = engine
        self.signer = signer
        self.origin = origin
        self.clock = clock or _SystemClock()
        self.lock = lock
        self.batch_size = batch_size
        self.max_batches = max_batches

    @contextmanager
    def _writing(self) -> Iterator[sa.Connection]:
        with self.lock or nullcontext(), self.engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"),
                                   {"key": SEQUENCER_LOCK})
            yield connection

    def sequence_batch(self) -> int:
        """Move up to ``batch_size`` queue rows to the tree (one transaction); how many moved."""
        with self._writing() as connection:
            rows = connection.execute(
                sa.select(transparency_queue.c.id, transparency_queue.c.receipt_number,
                          transparency_queue.c.seq, transparency_queue.c.leaf)
                .order_by(transparency_queue.c.id).limit(self.batch_size)).all()
            if not rows:
                return 0
            self._refuse_duplicates(connection, rows)
            size = _tree_size(connection)
            frontier = CompactRange.load(size, SqlNodes(connection))
            leaves: list[dict[str, Any]] = []
            nodes: list[dict[str, Any]] = []
            for row in rows:
                hashed = leaf_hash(row.leaf.encode("utf-8"))
                leaves.append({"leaf_index": frontier.size, "receipt_number": row.receipt_number,
                               "seq": row.seq, "leaf": row.leaf, "leaf_hash": hashed})
                nodes.extend({"level": level, "idx": index, "hash": value}
                             for level, index, value in frontier.append(hashed))
            _insert_many(connection, transparency_leaves, leaves)
            _insert_many(connection, transparency_nodes, nodes)
            # Exactly the rows read: on PostgreSQL a row with a smaller id may commit later.
            for chunk in _chunks([row.id for row in rows]):
                connection.execute(transparency_queue.delete()
                                   .where(transparency_queue.c.id.in_(chunk)))
            return len(rows)

    @staticmethod
    def _refuse_duplicates(connection: sa.Connection, rows: Sequence[Any]) -> None:
        """``DuplicateEntry`` if a row logs a ``(receipt_number, seq)`` that has a leaf or that
        another row of the pass logs too (the unique index would refuse it less clearly)."""
        first: dict[tuple[str, int], int] = {}
        for row in rows:
            key = (row.receipt_number, row.seq)
            if key in first:
                raise DuplicateEntry(
                    f"{key[0]} seq {key[1]} is queued twice (queue ids {first[key]} and {row.id})"
                    "; nothing was sequenced — remove the wrong queue row")
            first[key] = row.id
        receipts = sorted({receipt for receipt, _seq in first})
        for chunk in _chunks(receipts):
            found = connection.execute(
                sa.select(transparency_leaves.c.receipt_number, transparency_leaves.c.seq,
                          transparency_leaves.c.leaf_index)
                .where(transparency_leaves.c.receipt_number.in_(chunk))).all()
            for leaf in found:
                if (leaf.receipt_number, leaf.seq) in first:
                    raise DuplicateEntry(
                        f"{leaf.receipt_number} seq {leaf.seq} is already logged (leaf "
                        f"{leaf.leaf_index}); queue id {first[(leaf.receipt_number, leaf.seq)]} "
                        "would log it again — nothing was sequenced: a public entry is logged "
                        "once and never replaced")

    def checkpoint_if_due(self, min_interval: float | timedelta = 60.0) -> Checkpoint | None:
        """Sign a checkpoint if the tree grew and the latest one is ``min_interval`` old."""
        interval = (min_interval if isinstance(min_interval, timedelta)
                    else timedelta(seconds=min_interval))
        with self._writing() as connection:
            latest = connection.execute(
                sa.select(transparency_checkpoints.c.tree_size,
                          transparency_checkpoints.c.timestamp)
                .order_by(transparency_checkpoints.c.tree_size.desc()).limit(1)).first()
            size = _tree_size(connection)
            now = _utc(self.clock.now())
            if latest is not None:
                if size <= latest.tree_size or now - _utc(latest.timestamp) < interval:
                    return None
                now = max(now, _utc(latest.timestamp))  # timestamps never go backwards
            elif size == 0:
                return None
            root_hash = CompactRange.load(size, SqlNodes(connection)).root()
            checkpoint = sign_checkpoint(self.signer, self.origin, size, root_hash, now)
            self._publish_key(connection, now)
            connection.execute(transparency_checkpoints.insert().values(
                tree_size=size, root_hash=root_hash, timestamp=now, key_id=checkpoint.key_id,
                signature=base64.b64encode(checkpoint.signature).decode("ascii"),
                note=checkpoint.note))
            return checkpoint

    def _publish_key(self, connection: sa.Connection, now: datetime) -> None:
        """Record the signer's public key before its first checkpoint commits."""
        known = connection.execute(sa.select(transparency_keys.c.key_id).where(
            transparency_keys.c.key_id == self.signer.key_id)).first()
        if known is None:
            connection.execute(transparency_keys.insert().values(
                key_id=self.signer.key_id, first_used_at=now,
                public_key=base64.b64encode(self.signer.public_key_bytes).decode("ascii")))

    def run(self, min_interval: float | timedelta = 60.0) -> SequencerResult:
        """Drain the queue (at most ``max_batches`` passes) then checkpoint if due."""
        appended = 0
        for _ in range(self.max_batches):
            moved = self.sequence_batch()
            appended += moved
            if moved < self.batch_size:
                break
        checkpoint = self.checkpoint_if_due(min_interval)
        with self.engine.connect() as connection:
            size = _tree_size(connection)
        return SequencerResult(appended, size, checkpoint)


class LogReader:
    """Read side of the log for the public endpoints (works on a read-only database URL)."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def _latest(self, connection: sa.Connection) -> Checkpoint | None:
        row = connection.execute(sa.select(transparency_checkpoints)
                                 .order_by(transparency_checkpoints.c.tree_size.desc())
                                 .limit(1)).first()
        return None if row is None else _checkpoint_from_row(row)

    def _of_size(self, connection: sa.Connection, tree_size: int) -> Checkpoint | None:
        row = connection.execute(sa.select(transparency_checkpoints).where(
            transparency_checkpoints.c.tree_size == tree_size)).first()
        return None if row is None else _checkpoint_from_row(row)

    def keys(self) -> dict[str, list[dict[str, Any]]]:
        """``{"keys": [{"key_id", "algorithm", "public_key", "current", "first_used_at"}]}``:
        every key that signed a checkpoint; ``current`` is the latest checkpoint's key."""
        with self.engine.connect() as connection:
            latest = self._latest(connection)
            rows = connection.execute(sa.select(transparency_keys)
                                      .order_by(transparency_keys.c.first_used_at)).all()
        current = latest.key_id if latest is not None else None
        return {"keys": [{"key_id": row.key_id, "algorithm": "Ed25519",
                          "public_key": row.public_key, "current": row.key_id == current,
                          "first_used_at": _utc(row.first_used_at).isoformat()}
                         for row in rows]}

    def _within_latest(self, connection: sa.Connection, what: str,
                       low: tuple[str, int], high: tuple[str, int]) -> None:
        """``BadProofRequest`` unless ``0 <= low <= high <=`` the latest checkpoint's size: only
        what a signed checkpoint covers is served."""
        latest = self._latest(connection)
        top = 0 if latest is None else latest.tree_size
        if not 0 <= low[1] <= high[1] <= top:
            raise BadProofRequest(
                f"{what} needs 0 <= {low[0]} <= {high[0]} <= {top} (the latest checkpoint's "
                f"tree size); got {low[0]}={low[1]}, {high[0]}={high[1]}")

    def latest_checkpoint(self) -> dict[str, Any] | None:
        with self.engine.connect() as connection:
            checkpoint = self._latest(connection)
        return None if checkpoint is None else checkpoint.to_json()

    def checkpoint(self, tree_size: int) -> dict[str, Any] | None:
        with self.engine.connect() as connection:
            checkpoint = self._of_size(connection, tree_size)
        return None if checkpoint is None else checkpoint.to_json()

    def checkpoints(self, after: int = 0, limit: int = 100) -> list[dict[str, Any]]:
        """Checkpoints with ``tree_size > after``, ascending, at most ``limit`` (capped at
        ``MAX_CHECKPOINTS_PAGE``)."""
        limit = max(0, min(limit, MAX_CHECKPOINTS_PAGE))
        with self.engine.connect() as connection:
            rows = connection.execute(
                sa.select(transparency_checkpoints)
                .where(transparency_checkpoints.c.tree_size > after)
                .order_by(transparency_checkpoints.c.tree_size).limit(limit)).all()
        return [_checkpoint_from_row(row).to_json() for row in rows]

    def consistency(self, first: int, second: int) -> dict[str, Any]:
        """``{"from", "to", "proof": [hex]}``; ``BadProofRequest`` unless
        ``0 <= first <= second <= `` the latest checkpoint's size."""
        with self.engine.connect() as connection:
            self._within_latest(connection, "a consistency proof", ("from", first),
                                ("to", second))
            proof = consistency_proof(first, second, SqlNodes(connection))
        return {"from": first, "to": second, "proof": [h.hex() for h in proof]}

    def leaves(self, start: int, end: int) -> dict[str, Any]:
        """``{"start", "end", "leaves": [{"leaf_index", "leaf"}]}``: leaves ``start`` to
        ``end`` (exclusive), at most ``MAX_LEAVES_PAGE`` of them (``end`` in the answer is then
        ``start + MAX_LEAVES_PAGE``: ask again from there). ``BadProofRequest`` unless
        ``0 <= start <= end <= `` the latest checkpoint's size — only leaves a signed
        checkpoint covers are served, so what a monitor hashes is what was signed."""
        with self.engine.connect() as connection:
            self._within_latest(connection, "leaves", ("start", start), ("end", end))
            end = min(end, start + MAX_LEAVES_PAGE)
            rows = connection.execute(
                sa.select(transparency_leaves.c.leaf_index, transparency_leaves.c.leaf)
                .where(transparency_leaves.c.leaf_index >= start,
                       transparency_leaves.c.leaf_index < end)
                .order_by(transparency_leaves.c.leaf_index)).all()
        return {"start": start, "end": end,
                "leaves": [{"leaf_index": row.leaf_index, "leaf": row.leaf} for row in rows]}

    def receipt_proof(self, receipt_number: str, tree_size: int | None = None) -> dict[str, Any]:
        """Inclusion proofs of a case's logged entries against the latest checkpoint (or the one
        of ``tree_size``); entries not covered by it are ``pending`` (seqs). ``NoCheckpoint`` if
        there is no such checkpoint."""
        with self.engine.connect() as connection:
            checkpoint = (self._latest(connection) if tree_size is None
                          else self._of_size(connection, tree_size))
            if checkpoint is None:
                raise NoCheckpoint("no checkpoint yet" if tree_size is None
                                   else f"no checkpoint of tree size {tree_size}")
            size = checkpoint.tree_size
            # The queue first: a row the sequencer moves meanwhile is then seen twice, never 0.
            queued = connection.execute(sa.select(transparency_queue.c.seq).where(
                transparency_queue.c.receipt_number == receipt_number)).scalars().all()
            rows = connection.execute(
                sa.select(transparency_leaves.c.leaf_index, transparency_leaves.c.seq,
                          transparency_leaves.c.leaf, transparency_leaves.c.leaf_hash)
                .where(transparency_leaves.c.receipt_number == receipt_number)
                .order_by(transparency_leaves.c.leaf_index)).all()
            covered = [row for row in rows if row.leaf_index < size]
            positions = {p for row in covered for p in inclusion_nodes(row.leaf_index, size)}
            nodes = MemoryNodes(SqlNodes(connection).get_many(positions))
        entries = [{"seq": row.seq, "leaf_index": row.leaf_index, "leaf": row.leaf,
                    "leaf_hash": bytes(row.leaf_hash).hex(),
                    "audit_path": [h.hex() for h in inclusion_proof(row.leaf_index, size, nodes)]}
                   for row in covered]
        logged = {row.seq for row in covered}
        pending = sorted(({row.seq for row in rows if row.leaf_index >= size} | set(queued))
                         - logged)
        return {"receipt_number": receipt_number, "checkpoint": checkpoint.to_json(),
                "entries": entries, "pending": pending}

