"""The store and use cases on real databases (SQLite and PostgreSQL via ``database_url``):
idempotency, reordering, atomic outbox, overdue detection, queries without private data, both
clocks of every step (and history rows from before migration 0003)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from pantau_contracts.catalogue import load_catalogue
from pantau_contracts.envelope import stamp_received
from pantau_contracts.payloads.public import TimelineEntryV2
from pantau_contracts.registry import validate_event
from pantau_tracking.adapters.database import MIGRATIONS, create_engine, migrate
from pantau_tracking.adapters.schema import case_history, outbox
from pantau_tracking.adapters.store import SqlStore
from pantau_tracking.domain.lifecycle import ReceivedEvent
from pantau_tracking.service.handler import TrackingHandler, as_event
from pantau_transparency.keys import Signer
from pantau_transparency.leaf import Leaf, format_time
from pantau_transparency.merkle import leaf_hash, verify_inclusion
from pantau_transparency.sql import LogReader, Sequencer, transparency_queue

from .helpers import T0, FixedClock, department_event

pytestmark = pytest.mark.integration
APPLICANT = {"name": "Budi Santoso", "nik": "3273010101010001", "phone": "081298765432",
             "email": "budi@example.id", "address": "Jl. Asia Afrika 8"}


@pytest.fixture
def store(database_url: str) -> Iterator[SqlStore]:
    engine = create_engine(database_url)
    migrate(engine)
    migrate(engine)  # idempotent
    yield SqlStore(engine)
    engine.dispose()


@pytest.fixture
def handler(store: SqlStore) -> TrackingHandler:
    return TrackingHandler(store, load_catalogue(), FixedClock(T0 + timedelta(days=1)),
                           pending_timeout=timedelta(minutes=10))


def ev(*args: object, received: datetime | None = None, **kwargs: object) -> ReceivedEvent:
    """An accepted event; stamped by intake at ``received`` if given, else unstamped (then
    received = its claimed time)."""
    event = validate_event(department_event(*args, **kwargs))  # type: ignore[arg-type]
    if received is not None:
        event = stamp_received(event, received)
    return as_event(event, event.time)


def outbox_rows(store: SqlStore) -> list[dict[str, object]]:
    """The outbox in order."""
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(outbox).order_by(outbox.c.id)).all()
    return [{"key": r.routing_key, "exchange": r.exchange, "body": json.loads(r.body)}
            for r in rows]


def test_submit_and_progress_writes_history_and_outbox(handler: TrackingHandler,
                                                        store: SqlStore,
                                                        unique: Callable[[str], str]) -> None:
    receipt = unique("BDG")
    failures = handler.handle_batch([
        ev("case.submitted", receipt, applicant=APPLICANT, kecamatan="Sumur Bandung"),
        ev("case.stage_started", receipt, stage="verifikasi-berkas",
           note="Diperiksa; hubungi 081298765432"),
    ])
    assert failures == []
    case = store.get_case(receipt)
    assert case is not None and case.revision == 2 and case.stage_code == "verifikasi-berkas"
    assert case.applicant is not None and case.applicant.nik == APPLICANT["nik"]
    rows = outbox_rows(store)
    assert [r["key"] for r in rows] == ["case.updated.kota-bandung"] * 2
    assert [r["body"]["sequence"] for r in rows] == [1, 2]
    text = json.dumps(rows)
    for value in APPLICANT.values():
        assert value not in text
    answer = handler.get_case(receipt)
    assert answer is not None and answer["public"]["revision"] == 2
    assert answer["sla"]["due_date"] and len(answer["history"]) == 2
    assert "081298765432" not in json.dumps(answer)
    assert handler.count_cases() >= 1
    listed = handler.list_public_cases(None, 50)
    assert receipt in [c["receipt_number"] for c in listed]
    assert "081298765432" not in json.dumps(listed)


def test_idempotent_on_source_and_id(handler: TrackingHandler, store: SqlStore,
                                     unique: Callable[[str], str]) -> None:
    receipt = unique("BDG")
    body = department_event("case.submitted", receipt, event_id="same-id")
    event = as_event(validate_event(body), T0)
    handler.handle_batch([event, event])
    handler.handle_batch([event])
    case = store.get_case(receipt)
    assert case is not None and case.revision == 1
    assert len(outbox_rows(store)) == 1


def test_reordering_by_sequence(handler: TrackingHandler, store: SqlStore,
                                unique: Callable[[str], str]) -> None:
    receipt = unique("BDG")
    third = ev("case.stage_started", receipt, stage="konsultasi-teknis", sequence=3)
    second = ev("case.stage_started", receipt, stage="verifikasi-berkas", sequence=2)
    handler.handle_batch([third])  # before the case exists: buffered
    assert store.get_case(receipt) is None
    handler.handle_batch([ev("case.submitted", receipt, sequence=1)])
    case = store.get_case(receipt)
    assert case is not None and case.revision == 1  # 3 still waits for 2
    handler.handle_batch([second])
    case = store.get_case(receipt)
    assert case is not None and case.stage_code == "konsultasi-teknis" and case.revision == 3
    assert [h.stage_code for h in case.history] == [None, "verifikasi-berkas",
                                                    "konsultasi-teknis"]
    handler.handle_batch([ev("case.completed", receipt, sequence=2)])  # stale: dropped
    case = store.get_case(receipt)
    assert case is not None and case.revision == 3
    assert [r["body"]["sequence"] for r in outbox_rows(store)] == [1, 2, 3]


def test_gap_that_never_fills_is_skipped_after_timeout(handler: TrackingHandler,
                                                       store: SqlStore,
                                                       unique: Callable[[str], str]) -> None:
    receipt, orphan = unique("BDG"), unique("BDG")
    handler.handle_batch([ev("case.submitted", receipt, sequence=1),
                          ev("case.completed", receipt, sequence=3),
                          ev("case.completed", orphan, sequence=2)])
    assert handler.expire_pending(recheck_after=timedelta(minutes=5)) == 0  # not old yet
    assert isinstance(handler.clock, FixedClock)
    handler.clock.current += timedelta(minutes=11)
    assert handler.expire_pending() == 2
    case = store.get_case(receipt)
    assert case is not None and case.status.value == "selesai"
    feedback = [r for r in outbox_rows(store) if r["exchange"] == "pantau.feedback"]
    assert len(feedback) == 1 and feedback[0]["body"]["data"]["reason"] == "unknown-case"


def test_refusal_is_recorded_and_reported(handler: TrackingHandler, store: SqlStore,
                                          unique: Callable[[str], str]) -> None:
    receipt = unique("BDG")
    bad = ev("case.stage_started", receipt, stage="penerbitan", department="disdukcapil")
    handler.handle_batch([ev("case.submitted", receipt), bad])
    outcome = store.processed(bad.source, bad.event_id)
    assert outcome is not None and outcome["outcome"] == "refused"
    assert outcome["reason"] == "wrong-department"
    (row,) = [r for r in outbox_rows(store) if r["exchange"] == "pantau.feedback"]
    assert row["key"] == "kota-bandung.disdukcapil"
    assert row["body"]["type"] == "event.rejected"
    assert row["body"]["data"]["stage"] == "tracking"


def test_batch_is_atomic_and_poison_is_isolated(handler: TrackingHandler, store: SqlStore,
                                                unique: Callable[[str], str]) -> None:
    good, poison = unique("BDG"), unique("BDG")
    events = [ev("case.submitted", good), ev("case.submitted", poison)]
    # A raw body that cannot be decoded makes buffering/draining fail for this event only.
    broken = ReceivedEvent(event_id="x", source="/kota-bandung/dpmptsp", type="case.completed",
                           time=T0, jurisdiction="kota-bandung", department="dpmptsp",
                           payload=None, received=T0, sequence=None)
    failures = handler.handle_batch([*events, broken])
    assert [f.index for f in failures] == [2]
    assert store.get_case(good) is not None and store.get_case(poison) is not None
    assert len(outbox_rows(store)) == 2  # nothing from the failed attempt leaked


def test_outbox_rolls_back_with_the_state(store: SqlStore, unique: Callable[[str], str]) -> None:
    handler = TrackingHandler(store, load_catalogue(), FixedClock(T0))
    receipt = unique("BDG")

    class Boom(RuntimeError):
        pass

    with pytest.raises(Boom), store.unit_of_work() as uow:
        handler._process(uow, ev("case.submitted", receipt))  # noqa: SLF001
        raise Boom
    assert store.get_case(receipt) is None
    assert outbox_rows(store) == []


def test_overdue_detected_once(handler: TrackingHandler, store: SqlStore,
                               unique: Callable[[str], str]) -> None:
    receipt = unique("BDG")
    handler.handle_batch([ev("case.submitted", receipt, service_code="izin-praktik")])
    assert handler.check_overdue() == 0
    assert isinstance(handler.clock, FixedClock)
    handler.clock.current = T0 + timedelta(days=30)
    assert handler.check_overdue() == 1
    assert handler.check_overdue() == 0
    keys = [r["key"] for r in outbox_rows(store)]
    assert keys == ["case.updated.kota-bandung", "case.updated.kota-bandung",
                    "case.overdue.kota-bandung"]
    answer = handler.get_case(receipt)
    assert answer is not None and answer["public"]["overdue"] is True
    assert answer["public"]["revision"] == 2


def test_both_clocks_round_trip(handler: TrackingHandler, store: SqlStore,
                                unique: Callable[[str], str]) -> None:
    receipt = unique("BDG")
    late = T0 + timedelta(days=9)  # Wednesday of the next week: 7 working days after T0
    handler.handle_batch([ev("case.submitted", receipt, received=T0 + timedelta(minutes=1)),
                          ev("case.stage_started", receipt, stage="verifikasi-berkas",
                             received=late, time=T0 + timedelta(hours=2))])
    handler.handle_batch([ev("case.completed", receipt, received=late + timedelta(hours=1),
                             time=late)])  # appended to a stored history
    case = store.get_case(receipt)
    assert case is not None
    first, second, third = case.history
    assert first.at == T0 and first.received_at == T0 + timedelta(minutes=1)
    assert first.counted_at == T0 and not first.late_reported
    assert first.reporting_delay_days == 0
    assert second.at == T0 + timedelta(hours=2) and second.received_at == late
    assert second.late_reported and second.reporting_delay_days == 7
    assert second.counted_at == late - timedelta(days=1)
    assert third.at == late and third.counted_at == late and not third.late_reported
    assert case.closed_at == third.counted_at
    answer = handler.get_case(receipt)
    assert answer is not None and answer["public"]["late_reported"] is True
    assert [h["late_reported"] for h in answer["history"]] == [False, True, False]


def test_history_from_before_0003_reads_as_claimed(store: SqlStore,
                                                   unique: Callable[[str], str]) -> None:
    """Down to 0002 (the two-clock columns dropped, rows kept) and up again: the old rows read
    received = counted = at, not late; new steps append with both clocks."""
    receipt = unique("BDG")
    handler = TrackingHandler(store, load_catalogue(), FixedClock(T0 + timedelta(days=1)))
    handler.handle_batch([ev("case.submitted", receipt, received=T0 + timedelta(days=9))])
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with store.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0002")
        assert "received_at" not in {c["name"] for c in sa.inspect(connection).get_columns(
            "case_history")}
    migrate(store.engine)
    case = store.get_case(receipt)
    assert case is not None
    (entry,) = case.history
    assert entry.received_at == entry.counted_at == entry.at == T0
    assert not entry.late_reported and entry.reporting_delay_days == 0
    handler.handle_batch([ev("case.completed", receipt, received=T0 + timedelta(hours=5))])
    case = store.get_case(receipt)
    assert case is not None and case.history[1].received_at == T0 + timedelta(hours=5)
    with store.engine.connect() as connection:
        flags = connection.execute(sa.select(case_history.c.late_reported,
                                             case_history.c.reporting_delay_days).where(
            case_history.c.receipt_number == receipt).order_by(case_history.c.seq)).all()
    assert [tuple(f) for f in flags] == [(False, 0), (False, 0)]  # server defaults, then written


def test_every_public_step_is_logged_in_its_own_transaction(
        handler: TrackingHandler, store: SqlStore, unique: Callable[[str], str]) -> None:
    """Each history step queues its transparency-log leaf (the public entry, note redacted) in
    the transaction that stores it; a rolled-back step queues nothing; the sequencer signs a
    checkpoint whose proofs verify against the public record."""
    receipt = unique("BDG")
    assert handler.handle_batch([
        ev("case.submitted", receipt, applicant=APPLICANT),
        ev("case.stage_started", receipt, stage="verifikasi-berkas",
           note="Diperiksa; hubungi 081298765432")]) == []

    class Boom(RuntimeError):
        pass

    with pytest.raises(Boom), store.unit_of_work() as uow:
        handler._process(uow, ev("case.completed", receipt, sequence=3))  # noqa: SLF001
        raise Boom
    with store.engine.connect() as conn:
        queued = conn.execute(sa.select(transparency_queue.c.seq, transparency_queue.c.leaf)
                              .where(transparency_queue.c.receipt_number == receipt)
                              .order_by(transparency_queue.c.seq)).all()
    assert [row.seq for row in queued] == [1, 2]
    assert "081298765432" not in queued[1].leaf
    public = handler.get_case(receipt)
    assert public is not None
    for row, entry in zip(queued, public["public"]["timeline"], strict=True):
        leaf = json.loads(row.leaf)
        assert (leaf["seq"], leaf["status"], leaf["note"]) == (
            entry["seq"], entry["status"], entry["note"])
        # The leaf is exactly the public entry, all three clocks included.
        step = TimelineEntryV2.model_validate(entry)
        assert row.leaf == Leaf(receipt, step.seq, step.status.value, step.stage_code, step.at,
                                step.received_at, step.note, step.late_reported,
                                counted_at=step.counted_at).text()
        assert leaf["counted_at"] == format_time(step.counted_at)

    signer = Signer(Ed25519PrivateKey.generate())
    Sequencer(store.engine, signer, lock=store.write_lock).run(min_interval=0)
    answer = LogReader(store.engine).receipt_proof(receipt)
    root = bytes.fromhex(answer["checkpoint"]["root_hash"])
    size = answer["checkpoint"]["tree_size"]
    assert [e["seq"] for e in answer["entries"]] == [1, 2] and answer["pending"] == []
    for item in answer["entries"]:
        assert verify_inclusion(item["leaf_index"], size, leaf_hash(item["leaf"].encode()),
                                [bytes.fromhex(h) for h in item["audit_path"]], root)


def test_history_from_before_the_log_is_backfilled_once(
        handler: TrackingHandler, store: SqlStore, unique: Callable[[str], str]) -> None:
    """Steps stored before migration 0004 (simulated: their queue rows removed) are queued by
    the backfill in (receipt, seq) order, exactly as ``log_leaf`` makes them; a second run
    queues nothing, and live steps are never queued twice."""
    from pantau_tracking.adapters.log_backfill import backfill_log, log_is_behind
    from pantau_tracking.domain.public_record import log_leaf

    receipts = [unique("BDG") for _ in range(3)]
    assert handler.handle_batch([ev("case.submitted", r) for r in receipts]
                                + [ev("case.stage_started", r, stage="verifikasi-berkas")
                                   for r in receipts]) == []
    with store.engine.begin() as conn:
        expected = {(r.receipt_number, r.seq): r.leaf for r in conn.execute(
            sa.select(transparency_queue))}
        conn.execute(transparency_queue.delete())
        assert log_is_behind(conn)
    assert backfill_log(store) == len(expected)
    assert backfill_log(store) == 0
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(transparency_queue).order_by(transparency_queue.c.id)).all()
    assert {(r.receipt_number, r.seq): r.leaf for r in rows} == expected
    assert [(r.receipt_number, r.seq) for r in rows] == sorted(expected)
    case = store.get_case(receipts[0])
    assert case is not None and log_leaf(case, case.history[0]).text() == expected[
        (receipts[0], 1)]
