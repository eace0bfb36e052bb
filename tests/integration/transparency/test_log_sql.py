"""The log on real databases (SQLite file and PostgreSQL, a fresh schema each): queue in the
caller's transaction, sequence, checkpoint, proofs that verify — and tampering that does not."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from pantau_tracking.adapters.database import create_engine, migrate
from pantau_transparency.checkpoint import Checkpoint
from pantau_transparency.keys import Signer, load_public_key
from pantau_transparency.leaf import Leaf
from pantau_transparency.merkle import (
    CompactRange,
    MemoryTree,
    leaf_hash,
    verify_consistency,
    verify_inclusion,
)
from pantau_transparency.sql import (
    MAX_LEAVES_PAGE,
    BadProofRequest,
    DuplicateEntry,
    LogReader,
    NoCheckpoint,
    Sequencer,
    SqlNodes,
    metadata,
    queue_entries,
    transparency_leaves,
    transparency_nodes,
    transparency_queue,
)

pytestmark = pytest.mark.integration
T0 = datetime(2026, 10, 5, 3, 0, tzinfo=UTC)
ORIGIN = "test.pantau/transparency"


class Clock:
    def __init__(self, now: datetime) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    engine = create_engine(database_url)
    metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def signer() -> Signer:
    return Signer(Ed25519PrivateKey.generate())


def entry(receipt: str, seq: int, note: str | None = None) -> Leaf:
    at = T0 + timedelta(hours=seq)
    return Leaf(receipt, seq, "in_review" if seq else "submitted", f"stage-{seq}", at,
                at + timedelta(minutes=5), note, seq % 4 == 3, counted_at=at)


def queue(engine: sa.Engine, leaves: list[Leaf]) -> None:
    with engine.begin() as connection:
        queue_entries(connection, leaves, now=T0)


def verify_proof(answer: dict[str, Any], signer: Signer) -> list[int]:
    """Verify every entry of a receipt_proof answer; returns the verified seqs."""
    checkpoint = Checkpoint.from_json(answer["checkpoint"])
    assert checkpoint.verify([signer.public_key])
    verified = []
    for item in answer["entries"]:
        hashed = leaf_hash(item["leaf"].encode("utf-8"))
        assert hashed.hex() == item["leaf_hash"]
        assert verify_inclusion(item["leaf_index"], checkpoint.tree_size, hashed,
                                [bytes.fromhex(h) for h in item["audit_path"]],
                                checkpoint.root_hash), item
        verified.append(item["seq"])
    return verified


def test_queue_sequence_checkpoint_and_proofs(engine: sa.Engine, signer: Signer) -> None:
    receipts = ["BDG-PBG-0001", "BDG-PBG-0002", "BDG-SLF-0003"]
    leaves = [entry(r, seq, note=f"langkah {seq}") for seq in range(12) for r in receipts]
    queue(engine, leaves)
    clock = Clock(T0)
    sequencer = Sequencer(engine, signer, ORIGIN, clock, batch_size=10)
    result = sequencer.run(min_interval=60)
    assert result.appended == 36 and result.tree_size == 36
    assert result.checkpoint is not None and result.checkpoint.tree_size == 36
    reference = MemoryTree()
    for leaf in leaves:  # id order = queue order
        reference.append(leaf.canonical())
    assert result.checkpoint.root_hash == reference.root()

    reader = LogReader(engine)
    latest = reader.latest_checkpoint()
    assert latest == result.checkpoint.to_json()
    assert latest["origin"] == ORIGIN and latest["timestamp"] == "2026-10-05T03:00:00.000000Z"
    for receipt in receipts:
        answer = reader.receipt_proof(receipt)
        assert answer["receipt_number"] == receipt and answer["pending"] == []
        assert verify_proof(answer, signer) == list(range(12))
        assert [e["leaf"] for e in answer["entries"]] == [
            entry(receipt, seq, note=f"langkah {seq}").text() for seq in range(12)]
    assert reader.receipt_proof("BDG-PBG-9999")["entries"] == []

    # More entries, within the interval: sequenced but not yet in a checkpoint -> pending.
    queue(engine, [entry(receipts[0], 12), entry(receipts[0], 13)])
    clock.current = T0 + timedelta(seconds=30)
    result = sequencer.run(min_interval=60)
    assert (result.appended, result.tree_size, result.checkpoint) == (2, 38, None)
    queue(engine, [entry(receipts[0], 14)])  # still in the queue -> pending too
    answer = reader.receipt_proof(receipts[0])
    assert answer["pending"] == [12, 13, 14]
    assert verify_proof(answer, signer) == list(range(12))

    # The interval has passed: a second checkpoint, consistent with the first.
    clock.current = T0 + timedelta(seconds=61)
    result = sequencer.run(min_interval=60)
    assert result.checkpoint is not None and result.checkpoint.tree_size == 39
    assert reader.receipt_proof(receipts[0])["pending"] == []
    assert verify_proof(reader.receipt_proof(receipts[0]), signer) == list(range(15))
    old = reader.checkpoint(36)
    assert old == latest
    assert [c["tree_size"] for c in reader.checkpoints(after=0)] == [36, 39]
    assert [c["tree_size"] for c in reader.checkpoints(after=36)] == [39]
    assert reader.checkpoints(after=0, limit=1) == [latest]
    answer = reader.consistency(36, 39)
    assert answer["from"] == 36 and answer["to"] == 39
    assert verify_consistency(36, 39, bytes.fromhex(old["root_hash"]),
                              result.checkpoint.root_hash,
                              [bytes.fromhex(h) for h in answer["proof"]])
    # A proof against the older checkpoint still verifies; newer entries are pending there.
    answer = reader.receipt_proof(receipts[0], tree_size=36)
    assert answer["checkpoint"] == old and answer["pending"] == [12, 13, 14]
    assert verify_proof(answer, signer) == list(range(12))

    # Nothing new: no checkpoint however long we wait.
    clock.current = T0 + timedelta(hours=5)
    assert sequencer.run(min_interval=60).checkpoint is None


def test_refusals(engine: sa.Engine, signer: Signer) -> None:
    reader = LogReader(engine)
    assert reader.latest_checkpoint() is None and reader.checkpoints() == []
    with pytest.raises(NoCheckpoint):
        reader.receipt_proof("BDG-PBG-0001")
    with pytest.raises(BadProofRequest):
        reader.consistency(0, 1)
    queue(engine, [entry("BDG-PBG-0001", seq) for seq in range(5)])
    Sequencer(engine, signer, ORIGIN, Clock(T0)).run(min_interval=0)
    with pytest.raises(NoCheckpoint):
        reader.receipt_proof("BDG-PBG-0001", tree_size=4)
    assert reader.checkpoint(4) is None
    for first, second in ((3, 2), (-1, 2), (1, 6)):
        with pytest.raises(BadProofRequest):
            reader.consistency(first, second)
    assert reader.consistency(5, 5)["proof"] == [] == reader.consistency(0, 5)["proof"]


def test_a_rolled_back_transaction_queues_nothing(engine: sa.Engine) -> None:
    with pytest.raises(RuntimeError), engine.begin() as connection:
        queue_entries(connection, [entry("BDG-PBG-0001", 0)])
        raise RuntimeError("history insert failed")
    with engine.connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(
            transparency_queue)).scalar() == 0


def test_bounded_batches(engine: sa.Engine, signer: Signer) -> None:
    queue(engine, [entry("BDG-PBG-0001", seq) for seq in range(23)])
    sequencer = Sequencer(engine, signer, ORIGIN, Clock(T0), batch_size=5, max_batches=2)
    assert sequencer.sequence_batch() == 5
    result = sequencer.run(min_interval=0)  # two passes of at most 5 rows
    assert (result.appended, result.tree_size) == (10, 15)
    result = sequencer.run(min_interval=0)
    assert (result.appended, result.tree_size) == (8, 23)


def test_a_tampered_leaf_fails_its_inclusion_check(engine: sa.Engine, signer: Signer) -> None:
    queue(engine, [entry("BDG-PBG-0001", seq, note="asli") for seq in range(7)])
    Sequencer(engine, signer, ORIGIN, Clock(T0)).run(min_interval=0)
    reader = LogReader(engine)
    honest = reader.receipt_proof("BDG-PBG-0001")
    assert verify_proof(honest, signer) == list(range(7))
    forged_leaf = entry("BDG-PBG-0001", 4, note="diubah").text()
    with engine.begin() as connection:
        connection.execute(transparency_leaves.update().where(
            transparency_leaves.c.leaf_index == 4).values(leaf=forged_leaf))
    answer = reader.receipt_proof("BDG-PBG-0001")
    item = answer["entries"][4]
    assert item["leaf"] == forged_leaf
    with pytest.raises(AssertionError):
        verify_proof(answer, signer)
    # A thorough forger also rewrites the stored leaf hash and level-0 node: still caught.
    forged_hash = leaf_hash(forged_leaf.encode())
    with engine.begin() as connection:
        connection.execute(transparency_leaves.update().where(
            transparency_leaves.c.leaf_index == 4).values(leaf_hash=forged_hash))
        connection.execute(transparency_nodes.update().where(
            transparency_nodes.c.level == 0, transparency_nodes.c.idx == 4).values(
            hash=forged_hash))
    answer = reader.receipt_proof("BDG-PBG-0001")
    checkpoint = Checkpoint.from_json(answer["checkpoint"])
    item = answer["entries"][4]
    assert item["leaf_hash"] == forged_hash.hex()
    assert not verify_inclusion(4, checkpoint.tree_size, forged_hash,
                                [bytes.fromhex(h) for h in item["audit_path"]],
                                checkpoint.root_hash)
    # The untouched neighbours still verify (their paths do not pass through leaf 4's parent).
    for other in (0, 1, 2, 3, 6):
        e = answer["entries"][other]
        assert verify_inclusion(e["leaf_index"], checkpoint.tree_size, bytes.fromhex(
            e["leaf_hash"]), [bytes.fromhex(h) for h in e["audit_path"]], checkpoint.root_hash)


def _rewrite_tree(connection: sa.Connection) -> None:
    """What a log operator would have to do to change history: recompute every node."""
    rows = connection.execute(sa.select(transparency_leaves.c.leaf)
                              .order_by(transparency_leaves.c.leaf_index)).scalars().all()
    connection.execute(transparency_nodes.delete())
    frontier = CompactRange()
    nodes = []
    for text in rows:
        for level, index, value in frontier.append(leaf_hash(text.encode())):
            nodes.append({"level": level, "idx": index, "hash": value})
    connection.execute(transparency_nodes.insert(), nodes)


def test_a_rewritten_tree_fails_consistency_with_the_old_checkpoint(
        engine: sa.Engine, signer: Signer) -> None:
    queue(engine, [entry("BDG-PBG-0001", seq, note="asli") for seq in range(6)])
    clock = Clock(T0)
    sequencer = Sequencer(engine, signer, ORIGIN, clock)
    old = sequencer.run(min_interval=60).checkpoint
    assert old is not None and old.tree_size == 6
    seen = LogReader(engine).latest_checkpoint()  # what a monitor remembered

    with engine.begin() as connection:
        connection.execute(transparency_leaves.update().where(
            transparency_leaves.c.leaf_index == 2).values(
            leaf=entry("BDG-PBG-0001", 2, note="diubah").text(),
            leaf_hash=leaf_hash(entry("BDG-PBG-0001", 2, note="diubah").canonical())))
        _rewrite_tree(connection)
    queue(engine, [entry("BDG-PBG-0002", seq) for seq in range(5)])
    clock.current += timedelta(minutes=2)
    new = sequencer.run(min_interval=60).checkpoint
    assert new is not None and new.tree_size == 11
    assert new.verify([signer.public_key])  # validly signed, yet...

    reader = LogReader(engine)
    proof = [bytes.fromhex(h) for h in reader.consistency(6, 11)["proof"]]
    assert not verify_consistency(6, 11, bytes.fromhex(seen["root_hash"]), new.root_hash, proof)
    # ...and the rewritten entry does not verify against the checkpoint the monitor holds.
    answer = reader.receipt_proof("BDG-PBG-0001", tree_size=6)
    item = answer["entries"][2]
    assert not verify_inclusion(2, 6, leaf_hash(item["leaf"].encode()),
                                [bytes.fromhex(h) for h in item["audit_path"]],
                                bytes.fromhex(seen["root_hash"]))


def test_concurrent_sequencers_write_one_gapless_tree(engine: sa.Engine, signer: Signer) -> None:
    """Three sequencers (advisory lock on PostgreSQL, the shared write lock on SQLite) while
    entries keep arriving: every entry gets exactly one leaf index, 0..n-1 without gaps."""
    lock = threading.Lock() if engine.dialect.name == "sqlite" else None
    writers = [Sequencer(engine, signer, ORIGIN, Clock(T0), lock=lock, batch_size=7)
               for _ in range(3)]
    queue(engine, [entry(f"BDG-SLF-{i:04d}", seq) for i in range(20) for seq in range(3)])
    done = threading.Event()
    errors: list[BaseException] = []

    def produce() -> None:
        try:
            for batch in range(20):
                leaves = [entry(f"BDG-PBG-{batch:04d}", seq) for seq in range(5)]
                if lock is not None:
                    with lock:
                        queue(engine, leaves)
                else:
                    queue(engine, leaves)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            done.set()

    def sequence(writer: Sequencer) -> None:
        try:
            while not done.is_set():
                writer.run(min_interval=0)
            writer.run(min_interval=0)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=produce)] + [
        threading.Thread(target=sequence, args=(w,)) for w in writers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    writers[0].run(min_interval=0)
    with engine.connect() as connection:
        rows = connection.execute(sa.select(transparency_leaves)
                                  .order_by(transparency_leaves.c.leaf_index)).all()
        assert connection.execute(sa.select(sa.func.count()).select_from(
            transparency_queue)).scalar() == 0
    assert [r.leaf_index for r in rows] == list(range(160))
    assert len({(r.receipt_number, r.seq) for r in rows}) == 160
    reference = MemoryTree()
    for row in rows:
        reference.append(row.leaf.encode())
    latest = LogReader(engine).latest_checkpoint()
    assert latest is not None and latest["tree_size"] == 160
    assert latest["root_hash"] == reference.root().hex()


def test_proofs_on_a_large_tree_read_few_rows(engine: sa.Engine, signer: Signer) -> None:
    """5,000 leaves: a receipt's proof is a constant number of statements and only the nodes
    its audit paths need (no scan of the tree)."""
    receipts = [f"BDG-PBG-{i:05d}" for i in range(1000)]
    queue(engine, [entry(r, seq) for r in receipts for seq in range(5)])
    sequencer = Sequencer(engine, signer, ORIGIN, Clock(T0))
    assert sequencer.run(min_interval=0).tree_size == 5000
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        answer = LogReader(engine).receipt_proof(receipts[617])
        consistency = LogReader(engine).consistency(1234, 5000)
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    assert verify_proof(answer, signer) == list(range(5))
    assert len(statements) <= 4 + 2  # proof: checkpoint, queue, leaves, nodes; consistency: 2
    assert len(consistency["proof"]) <= 2 * 13
    assert verify_consistency(1234, 5000, MemoryTreeOf(engine).root(1234),
                              bytes.fromhex(answer["checkpoint"]["root_hash"]),
                              [bytes.fromhex(h) for h in consistency["proof"]])


def MemoryTreeOf(engine: sa.Engine) -> MemoryTree:  # noqa: N802 - reads like a type
    """An independent in-memory copy of the logged leaves (for reference roots)."""
    tree = MemoryTree()
    with engine.connect() as connection:
        for text in connection.execute(sa.select(transparency_leaves.c.leaf)
                                       .order_by(transparency_leaves.c.leaf_index)).scalars():
            tree.append(text.encode())
    return tree


def test_tracking_migration_creates_the_log_tables(database_url: str, signer: Signer) -> None:
    """Tracking's migration 0004 matches the library's tables, then the log works on it."""
    engine = create_engine(database_url)
    try:
        migrate(engine)
        inspector = sa.inspect(engine)
        for table in metadata.sorted_tables:
            columns = {c["name"]: c for c in inspector.get_columns(table.name)}
            assert set(columns) == {c.name for c in table.columns}, table.name
            for column in table.columns:
                assert columns[column.name]["nullable"] == column.nullable, column
            assert inspector.get_pk_constraint(table.name)["constrained_columns"] == [
                c.name for c in table.primary_key.columns]
            indexes = {tuple(i["column_names"]): bool(i["unique"])
                       for i in inspector.get_indexes(table.name)}
            for index in table.indexes:
                columns_of = tuple(c.name for c in index.columns)
                assert columns_of in indexes, index.name
                assert indexes[columns_of] == bool(index.unique), index.name
        assert ("receipt_number", "seq") in {tuple(i["column_names"]) for i in inspector
                                             .get_indexes("transparency_leaves") if i["unique"]}
        queue(engine, [entry("BDG-PBG-0001", seq) for seq in range(3)])
        Sequencer(engine, signer, ORIGIN, Clock(T0)).run(min_interval=0)
        assert verify_proof(LogReader(engine).receipt_proof("BDG-PBG-0001"), signer) == [0, 1, 2]
    finally:
        engine.dispose()


def test_batched_node_reads_across_levels_and_chunks(engine: sa.Engine, signer: Signer) -> None:
    queue(engine, [entry(f"BDG-PBG-{i:04d}", 0) for i in range(700)])
    Sequencer(engine, signer, ORIGIN, Clock(T0)).run(min_interval=0)
    reference = MemoryTreeOf(engine)
    with engine.connect() as connection:
        nodes = SqlNodes(connection)
        assert nodes.get_many(list(reference.nodes)) == reference.nodes  # > 1,000 positions
        assert nodes.get(3, 5) == reference.nodes[(3, 5)]
        assert nodes.get_many([]) == {}
        with pytest.raises(KeyError):
            nodes.get_many([(0, 1), (0, 700)])


def test_every_signing_key_is_published_and_the_latest_is_current(engine: sa.Engine,
                                                                   signer: Signer) -> None:
    reader = LogReader(engine)
    assert reader.keys() == {"keys": []}
    clock = Clock(T0)
    queue(engine, [entry("BDG-PBG-0001", 1)])
    Sequencer(engine, signer, ORIGIN, clock).run(min_interval=60)
    rotated = Signer(Ed25519PrivateKey.generate())
    queue(engine, [entry("BDG-PBG-0001", 2)])
    clock.current += timedelta(minutes=2)
    Sequencer(engine, rotated, ORIGIN, clock).run(min_interval=60)
    keys = reader.keys()["keys"]
    assert [k["key_id"] for k in keys] == [signer.key_id, rotated.key_id]
    assert [k["current"] for k in keys] == [False, True]
    old = Checkpoint.from_json(reader.checkpoints(after=0)[0])
    published = [load_public_key(k["public_key"]) for k in keys]
    assert old.verify(published)  # a checkpoint signed before the rotation still verifies


def test_leaves_are_served_in_pages_up_to_the_latest_checkpoint(engine: sa.Engine,
                                                                signer: Signer) -> None:
    """What a monitor downloads to hash every leaf itself: leaf_index and the logged text, in
    pages of at most MAX_LEAVES_PAGE, never beyond what a signed checkpoint covers."""
    reader = LogReader(engine)
    with pytest.raises(BadProofRequest):  # no checkpoint yet: nothing to serve
        reader.leaves(0, 1)
    assert reader.leaves(0, 0) == {"start": 0, "end": 0, "leaves": []}
    leaves = [entry(f"BDG-PBG-{i:05d}", 1) for i in range(MAX_LEAVES_PAGE + 5)]
    queue(engine, leaves)
    clock = Clock(T0)
    sequencer = Sequencer(engine, signer, ORIGIN, clock)
    assert sequencer.run(min_interval=60).tree_size == MAX_LEAVES_PAGE + 5
    queue(engine, [entry("BDG-PBG-99999", 1)])
    clock.current += timedelta(seconds=1)
    assert sequencer.run(min_interval=60).checkpoint is None  # sequenced, not checkpointed

    page = reader.leaves(3, 7)
    assert page == {"start": 3, "end": 7, "leaves": [
        {"leaf_index": i, "leaf": leaves[i].text()} for i in range(3, 7)]}
    top = MAX_LEAVES_PAGE + 5
    first = reader.leaves(0, top)  # cut to one page: ask again from its end
    assert first["end"] == MAX_LEAVES_PAGE and len(first["leaves"]) == MAX_LEAVES_PAGE
    rest = reader.leaves(first["end"], top)
    assert [e["leaf_index"] for e in rest["leaves"]] == list(range(MAX_LEAVES_PAGE, top))
    reference = MemoryTree()
    for item in first["leaves"] + rest["leaves"]:
        reference.append(item["leaf"].encode())
    assert reference.root().hex() == reader.latest_checkpoint()["root_hash"]
    for start, end in ((0, top + 1), (-1, 2), (5, 4)):  # beyond the checkpoint, or backwards
        with pytest.raises(BadProofRequest):
            reader.leaves(start, end)


def test_the_sequencer_refuses_to_log_an_entry_twice(engine: sa.Engine, signer: Signer) -> None:
    """(receipt_number, seq) is logged once: a second leaf for it (already logged, or queued
    twice in one pass) stops the sequencer with DuplicateEntry, moving nothing, and the
    database itself refuses such a leaf (unique index)."""
    queue(engine, [entry("BDG-PBG-0001", seq) for seq in (1, 2)])
    sequencer = Sequencer(engine, signer, ORIGIN, Clock(T0))
    assert sequencer.run(min_interval=0).tree_size == 2
    rewritten = Leaf("BDG-PBG-0001", 2, "selesai", None, T0, T0, "ditulis ulang", False,
                     counted_at=T0)
    queue(engine, [entry("BDG-PBG-0002", 1), rewritten])
    with pytest.raises(DuplicateEntry, match=r"BDG-PBG-0001 seq 2 is already logged \(leaf 1\)"):
        sequencer.run(min_interval=0)

    def counts() -> list[int]:
        with engine.connect() as connection:
            return [connection.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
                    for t in (transparency_leaves, transparency_queue)]

    assert counts() == [2, 2]  # nothing moved, nothing lost: the queue waits for a person
    with engine.begin() as connection:
        connection.execute(transparency_queue.delete().where(
            transparency_queue.c.leaf == rewritten.text()))
    assert sequencer.run(min_interval=0).tree_size == 3

    queue(engine, [entry("BDG-PBG-0003", 1), entry("BDG-PBG-0003", 1, note="lagi")])
    with pytest.raises(DuplicateEntry, match="BDG-PBG-0003 seq 1 is queued twice"):
        sequencer.run(min_interval=0)
    assert counts() == [3, 2]

    with pytest.raises(sa.exc.IntegrityError), engine.begin() as connection:
        connection.execute(transparency_leaves.insert().values(
            leaf_index=99, receipt_number="BDG-PBG-0001", seq=1, leaf="{}",
            leaf_hash=leaf_hash(b"{}")))
