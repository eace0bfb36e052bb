"""Tracking's export for a rebuild (``adapters.export``) on SQLite and PostgreSQL: keyset pages
return every case exactly once even while cases are updated and added during the paging; on
PostgreSQL the export reads one snapshot (later commits are not seen), and a worker that
imports the exported snapshot sees exactly that too."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from pantau_contracts.catalogue import load_catalogue
from pantau_contracts.registry import validate_event
from pantau_tracking.adapters.export import (
    PublicExport,
    all_receipts,
    exported_snapshot,
    imported_snapshot,
    public_records,
)
from pantau_tracking.adapters.store import SqlStore
from pantau_tracking.service.handler import TrackingHandler, as_event

from .conftest import ON_POSTGRESQL
from .helpers import T0, FixedClock, department_event

pytestmark = pytest.mark.integration


@pytest.fixture
def handler(engine: sa.Engine) -> TrackingHandler:
    return TrackingHandler(SqlStore(engine), load_catalogue(), FixedClock(T0 + timedelta(days=1)))


def apply(handler: TrackingHandler, *events: bytes) -> None:
    inbound = [as_event(validate_event(body), T0) for body in events]
    assert handler.handle_batch(inbound) == []


def open_cases(handler: TrackingHandler, numbers: range) -> None:
    apply(handler, *(department_event("case.submitted", f"EXP-{n:04d}-2026", sequence=1)
                     for n in numbers))


def stage(handler: TrackingHandler, number: int) -> None:
    apply(handler, department_event("case.stage_started", f"EXP-{number:04d}-2026", sequence=2,
                                    stage="verifikasi-berkas"))


def test_every_case_exactly_once_while_cases_change_during_paging(
        engine: sa.Engine, handler: TrackingHandler) -> None:
    open_cases(handler, range(0, 40, 2))  # EXP-0000, 0002, … 0038
    export = PublicExport(engine, T0 + timedelta(days=1))
    pages = export.pages(page_size=7)
    seen = list(next(pages))
    # meanwhile tracking goes on: cases behind and ahead of the cursor change, new ones open
    # on both sides of it
    for number in (0, 2, 20, 38):
        stage(handler, number)
    open_cases(handler, range(1, 40, 10))  # EXP-0001, 0011, 0021, 0031
    for page in pages:
        seen.extend(page)
    receipts = [r["receipt_number"] for r in seen]
    assert len(receipts) == len(set(receipts))  # never twice
    assert receipts == sorted(receipts)
    originals = {f"EXP-{n:04d}-2026" for n in range(0, 40, 2)}
    assert originals <= set(receipts)  # never lost
    revisions = {r["receipt_number"]: r["revision"] for r in seen}
    if engine.dialect.name == "postgresql":  # one snapshot: as it was when the export began
        assert set(receipts) == originals
        assert {revisions[f"EXP-{n:04d}-2026"] for n in (0, 2, 20, 38)} == {1}
    else:  # page by page: a case ahead of the cursor is read as it is when its page is read
        assert revisions["EXP-0038-2026"] == 2 and revisions["EXP-0000-2026"] == 1


def test_records_are_the_rpc_answer(engine: sa.Engine, handler: TrackingHandler) -> None:
    open_cases(handler, range(3))
    stage(handler, 1)
    now = T0 + timedelta(days=1)
    exported = list(PublicExport(engine, now).records(page_size=2))
    assert exported == handler.list_public_cases(None, 10)
    assert PublicExport(engine, now).count() == 3


@ON_POSTGRESQL
def test_workers_see_the_exported_snapshot(engine: sa.Engine, handler: TrackingHandler) -> None:
    open_cases(handler, range(4))
    now = T0 + timedelta(days=1)
    with exported_snapshot(engine) as (connection, snapshot):
        receipts = list(all_receipts(connection, batch=3))
        stage(handler, 1)  # committed after the snapshot
        open_cases(handler, range(10, 12))
        with imported_snapshot(engine, snapshot) as worker:
            records = public_records(worker, receipts, now)
            assert list(all_receipts(worker)) == receipts
    assert receipts == [f"EXP-{n:04d}-2026" for n in range(4)]
    assert [r["revision"] for r in records] == [1, 1, 1, 1]
