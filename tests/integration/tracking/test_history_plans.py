"""Tracking's periodic queries cost what is open or late, not the whole stored history (issue
13): on PostgreSQL the SLA gauges' queries can be answered from the partial indexes of
migration 0006 (a plan that needs a scan of every case or history row fails this test); on
both databases they still count right."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from pantau_contracts.catalogue import load_catalogue
from pantau_contracts.registry import validate_event
from pantau_tracking.adapters.metrics import sla_queries
from pantau_tracking.adapters.store import SqlStore
from pantau_tracking.service.handler import TrackingHandler, as_event

from .conftest import ON_POSTGRESQL
from .helpers import T0, FixedClock, department_event

pytestmark = pytest.mark.integration


@ON_POSTGRESQL
def test_sla_gauge_queries_read_the_partial_indexes(engine: sa.Engine) -> None:
    with engine.connect() as connection:
        # an empty table would be scanned anyway: forbid scans so a usable index must be used
        connection.execute(sa.text("SET enable_seqscan = off"))
        for query, index in zip(sla_queries(), ("ix_cases_open_jurisdiction",
                                                "ix_case_history_late"), strict=True):
            compiled = query.compile(engine, compile_kwargs={"literal_binds": True})
            plan = "\n".join(row[0] for row in connection.execute(
                sa.text(f"EXPLAIN {compiled}")))
            assert index in plan, plan


def test_sla_gauge_queries_count_open_and_late_cases(engine: sa.Engine) -> None:
    clock = FixedClock(T0 + timedelta(days=21))
    handler = TrackingHandler(SqlStore(engine), load_catalogue(), clock)
    events = [department_event("case.submitted", f"PLN-{n:04d}-2026", sequence=1)
              for n in range(3)]
    events.append(department_event("case.completed", "PLN-0000-2026", sequence=2))
    received = T0 + timedelta(days=20)  # the claim is weeks old when it arrives: late-reported
    events.append(department_event("case.stage_started", "PLN-0001-2026", sequence=2,
                                   stage="verifikasi-berkas", time=T0 + timedelta(hours=1)))
    inbound = [as_event(validate_event(body), T0) for body in events[:-1]]
    inbound.append(as_event(validate_event(events[-1]), received))
    assert handler.handle_batch(inbound) == []
    by_jurisdiction, late = sla_queries()
    with engine.connect() as connection:
        assert [tuple(r) for r in connection.execute(by_jurisdiction)] == [("kota-bandung", 2, 0)]
        late_rows = [tuple(r) for r in connection.execute(late)]
    assert late_rows == [("kota-bandung", 1)]  # PLN-0001's stage was reported 20 days late
