"""The rebuild command reading tracking's database (``--source database``, the fast path of
issue 13) on the real PostgreSQL and Elasticsearch: worker processes on one exported snapshot
fill both indices with every case and every timeline entry exactly once, swap the aliases, keep
a newer revision the indexer wrote meanwhile, and print progress lines (no terminal)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta

import pytest

from pantau_contracts.catalogue import load_catalogue
from pantau_contracts.registry import validate_event
from pantau_publishing.adapters.search.bootstrap import alias_indices
from pantau_publishing.adapters.search.store import EsSearchIndex
from pantau_publishing.service.indexing import IndexBatch
from pantau_publishing.service.ports import ReceivedMessage
from pantau_tracking.adapters.database import create_engine, migrate
from pantau_tracking.adapters.store import SqlStore
from pantau_tracking.service.handler import TrackingHandler, as_event
from tests.conftest import fresh_schema
from tests.integration.publishing.conftest import SearchStack
from tests.integration.tracking.helpers import T0, FixedClock, department_event
from tests.unit.publishing.factories import case_updated, public_case

pytestmark = pytest.mark.integration


@pytest.fixture
def tracking_url(postgres_url: str) -> Iterator[str]:
    with fresh_schema(postgres_url, "rb") as url:
        yield url


def test_rebuild_from_the_database_with_workers(search: SearchStack, tracking_url: str) -> None:
    engine = create_engine(tracking_url)
    migrate(engine)
    handler = TrackingHandler(SqlStore(engine), load_catalogue(),
                              FixedClock(T0 + timedelta(days=1)))
    receipts = [f"RBD-{n:04d}-2026" for n in range(25)]
    events = [department_event("case.submitted", r, sequence=1) for r in receipts]
    events += [department_event("case.stage_started", r, sequence=2, stage="verifikasi-berkas")
               for r in receipts[::2]]
    assert handler.handle_batch([as_event(validate_event(e), T0) for e in events]) == []
    engine.dispose()
    # what the indexer wrote to the live index: a later revision than tracking's snapshot has
    newer = public_case("RBD-0001-2026", revision=7)
    IndexBatch(EsSearchIndex(search.es, search.aliases)).handle(
        [ReceivedMessage(case_updated(newer))])
    old = alias_indices(search.es, search.aliases.cases)

    result = subprocess.run(
        [sys.executable, "-m", "pantau_tools.rebuild", "--database-url", tracking_url,
         "--workers", "2", "--page-size", "4", "--bulk-size", "7"],
        env={**os.environ, **search.env}, capture_output=True, text=True, timeout=180,
        check=False)

    assert result.returncode == 0, result.stderr[-3000:]
    assert "25 records, 0 skipped" in result.stdout
    assert "rebuild: 25/25 cases (100.0 %)" in result.stderr  # progress lines, not a bar
    assert alias_indices(search.es, search.aliases.cases) != old
    search.refresh()
    hits = search.es.search(index=search.aliases.cases, size=100,
                            sort=[{"receipt_number": "asc"}])["hits"]["hits"]
    assert [h["_id"] for h in hits] == receipts  # every case once
    revisions = {h["_id"]: h["_source"]["revision"] for h in hits}
    assert revisions["RBD-0001-2026"] == 7  # caught up from the old index
    assert revisions["RBD-0000-2026"] == 2 and revisions["RBD-0003-2026"] == 1
    changes = search.es.search(index=search.aliases.changes, size=100)["hits"]["hits"]
    assert len(changes) == len({h["_id"] for h in changes}) >= 25 + 13
