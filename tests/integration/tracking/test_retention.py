"""Retention and lean updates on real databases (SQLite and PostgreSQL via ``database_url``):
sent outbox rows and old dedup records are purged in batches, unsent rows never; an UPDATE of a
case writes only the columns that can change."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from pantau_contracts.catalogue import load_catalogue
from pantau_contracts.registry import validate_event
from pantau_tracking.adapters.database import create_engine, migrate
from pantau_tracking.adapters.retention import RetentionPurger
from pantau_tracking.adapters.schema import cases, outbox, processed_events
from pantau_tracking.adapters.store import SqlStore
from pantau_tracking.domain.lifecycle import ReceivedEvent
from pantau_tracking.service.handler import TrackingHandler, as_event

from .helpers import T0, FixedClock, department_event

pytestmark = pytest.mark.integration
NOW = T0 + timedelta(days=40)


@pytest.fixture
def store(database_url: str) -> Iterator[SqlStore]:
    engine = create_engine(database_url)
    migrate(engine)
    yield SqlStore(engine)
    engine.dispose()


@pytest.fixture
def handler(store: SqlStore) -> TrackingHandler:
    return TrackingHandler(store, load_catalogue(), FixedClock(T0 + timedelta(days=1)))


def ev(*args: object, **kwargs: object) -> ReceivedEvent:
    event = validate_event(department_event(*args, **kwargs))  # type: ignore[arg-type]
    return as_event(event, event.time)


def count(store: SqlStore, table: sa.Table, *where: Any) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table).where(*where))
                   .scalar_one())


def set_times(store: SqlStore, table: sa.Table, column: str, ages: list[timedelta | None],
              key: sa.Column[Any]) -> None:
    """Give the rows of ``table`` (in ``key`` order) the timestamps ``NOW - age``."""
    with store.engine.begin() as conn:
        keys = [r[0] for r in conn.execute(sa.select(key).order_by(key))]
        assert len(keys) == len(ages)
        for k, age in zip(keys, ages, strict=True):
            conn.execute(table.update().where(key == k)
                         .values({column: None if age is None else NOW - age}))


def test_purge_deletes_sent_outbox_rows_after_retention_in_batches(
        handler: TrackingHandler, store: SqlStore, unique: Callable[[str], str]) -> None:
    handler.handle_batch([ev("case.submitted", unique("BDG")) for _ in range(7)])
    assert count(store, outbox) == 7
    # 4 sent long ago, 1 sent recently, 2 never sent (one of them very old).
    ages: list[timedelta | None] = [timedelta(hours=25), timedelta(days=3), None,
                                    timedelta(hours=30), timedelta(hours=1),
                                    timedelta(hours=24, seconds=1), None]
    set_times(store, outbox, "sent_at", ages, outbox.c.id)
    with store.engine.begin() as conn:
        conn.execute(outbox.update().values(created_at=NOW - timedelta(days=5)))
    purger = RetentionPurger(store, FixedClock(NOW), outbox_retention=timedelta(hours=24),
                             batch_size=2, max_batches=10)
    purged = purger.purge()
    assert purged.outbox == 4
    assert count(store, outbox) == 3
    assert count(store, outbox, outbox.c.sent_at.is_(None)) == 2  # unsent: never purged
    assert purger.purge().outbox == 0


def test_purge_is_bounded_per_run(handler: TrackingHandler, store: SqlStore,
                                  unique: Callable[[str], str]) -> None:
    handler.handle_batch([ev("case.submitted", unique("BDG")) for _ in range(5)])
    set_times(store, outbox, "sent_at", [timedelta(days=2)] * 5, outbox.c.id)
    purger = RetentionPurger(store, FixedClock(NOW), batch_size=2, max_batches=2)
    assert purger.purge().outbox == 4  # two batches of two, the rest at the next run
    assert purger.purge().outbox == 1
    assert count(store, outbox) == 0


def test_purge_deletes_old_dedup_records_and_sequence_still_drops_replays(
        handler: TrackingHandler, store: SqlStore, unique: Callable[[str], str]) -> None:
    receipt = unique("BDG")
    first = ev("case.submitted", receipt, sequence=1)
    second = ev("case.stage_started", receipt, sequence=2, stage="verifikasi-berkas")
    handler.handle_batch([first, second])
    recent = ev("case.submitted", unique("BDG"))
    handler.handle_batch([recent])
    assert count(store, processed_events) == 3
    with store.engine.begin() as conn:
        conn.execute(processed_events.update().values(processed_at=NOW - timedelta(days=31)))
        conn.execute(processed_events.update().where(
            processed_events.c.event_id == recent.event_id).values(
            processed_at=NOW - timedelta(days=29)))
    purger = RetentionPurger(store, FixedClock(NOW), processed_retention=timedelta(days=30),
                             batch_size=1)
    assert purger.purge().processed_events == 2
    assert store.processed(recent.source, recent.event_id) is not None
    assert store.processed(second.source, second.event_id) is None
    # Past the dedup window, a replayed sequenced event is still dropped by its sequence.
    case = store.get_case(receipt)
    assert case is not None
    handler.handle_batch([second])
    after = store.get_case(receipt)
    assert after is not None and after.revision == case.revision
    record = store.processed(second.source, second.event_id)
    assert record is not None and record["outcome"] == "duplicate"


def test_update_writes_only_changing_columns(handler: TrackingHandler, store: SqlStore,
                                             unique: Callable[[str], str]) -> None:
    receipt = unique("BDG")
    handler.handle_batch([ev("case.submitted", receipt, sequence=1, kecamatan="Coblong")])
    statements: list[str] = []

    def capture(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    sa.event.listen(store.engine, "before_cursor_execute", capture)
    try:
        handler.handle_batch([ev("case.stage_started", receipt, sequence=2,
                                 stage="verifikasi-berkas")])
    finally:
        sa.event.remove(store.engine, "before_cursor_execute", capture)
    updates = [s for s in statements if s.lstrip().upper().startswith("UPDATE CASES")]
    assert len(updates) == 1
    written = updates[0].split(" WHERE ")[0]
    for column in ("definition", "catalogue_version", "jurisdiction", "department",
                   "service_code", "submitted_at", "kecamatan", "channel"):
        assert f"{column}=" not in written.replace(" ", ""), column
    assert "revision=" in written.replace(" ", "")
    case = store.get_case(receipt)
    assert case is not None and case.revision == 2 and case.kecamatan == "Coblong"
    assert case.definition.service.code == "pbg"
    with store.engine.connect() as conn:
        row = conn.execute(sa.select(cases).where(cases.c.receipt_number == receipt)).one()
    assert row.definition and row.service_code == "pbg" and row.stage_code == "verifikasi-berkas"
