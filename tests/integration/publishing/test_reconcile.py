"""``python -m pantau_tools.reconcile`` against the real Elasticsearch and a stand-in for
tracking's RPC on the real broker: equal (exit 0), then different (exit 1) with the receipts
named."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pantau_publishing.domain.record import change_id
from tests.conftest import wait_for
from tests.integration.publishing.conftest import SearchStack
from tests.integration.publishing.test_search_index import index_records
from tests.unit.publishing.factories import public_case


def run(search: SearchStack, amqp_url: str, service: str, *args: str) -> tuple[int, Any, str]:
    result = subprocess.run(
        [sys.executable, "-m", "pantau_tools.reconcile", "--service", service,
         "--page-size", "2", "--rpc-timeout", "20", *args],
        env={**os.environ, "PANTAU_AMQP_URL": amqp_url, **search.env},
        capture_output=True, text=True, timeout=120, check=False)
    report = json.loads(result.stdout) if result.stdout.strip() else None
    return result.returncode, report, result.stderr


def test_reconcile_reports_equal_then_names_every_difference(
        search: SearchStack, amqp_url: str, tmp_path: Path,
        start_service: Callable[..., Any]) -> None:
    records = [public_case(f"REC-{i:04d}-2026", revision=i % 3 + 1) for i in range(1, 8)]
    (tmp_path / "records.json").write_text(json.dumps(records))
    name = f"ptest_tracking_{uuid.uuid4().hex[:8]}"
    fake = start_service("tests.integration.publishing.fake_tracking", FAKE_TRACKING_NAME=name,
                         FAKE_TRACKING_RECORDS=str(tmp_path / "records.json"))
    wait_for(lambda: "fake tracking ready" in fake.log(), timeout=20, message="fake tracking")
    index_records(search, *records)

    code, report, stderr = run(search, amqp_url, name)
    assert code == 0, stderr[-3000:]
    entries = sum(len(r["timeline"]) for r in records)
    assert report == {"equal": True, "tracking": 7, "index": 7, "missing": [], "extra": [],
                      "stale": [], "counts": {"missing": 0, "extra": 0, "stale": 0},
                      "changes": {"tracking": entries, "index": entries}, "limit": 100}

    # the index loses a case and a change, keeps an old revision, and holds a stranger
    search.es.delete(index=search.aliases.cases, id="REC-0001-2026")
    search.es.delete(index=search.aliases.changes, id=change_id("REC-0005-2026", 1))
    stale = records[2]  # REC-0003-2026, revision 1 in the index
    newer = public_case("REC-0003-2026", revision=3)
    (tmp_path / "records.json").write_text(json.dumps(
        [newer if r["receipt_number"] == stale["receipt_number"] else r for r in records]))
    index_records(search, public_case("ZZZ-0001-2026"))
    fake.stop()
    fake = start_service("tests.integration.publishing.fake_tracking", FAKE_TRACKING_NAME=name,
                         FAKE_TRACKING_RECORDS=str(tmp_path / "records.json"))
    wait_for(lambda: "fake tracking ready" in fake.log(), timeout=20, message="fake tracking")
    search.refresh()

    code, report, stderr = run(search, amqp_url, name, "--limit", "10")
    assert code == 1, stderr[-3000:]
    assert report["equal"] is False
    assert (report["tracking"], report["index"]) == (7, 7)
    assert report["missing"] == ["REC-0001-2026"] and report["extra"] == ["ZZZ-0001-2026"]
    assert report["stale"] == [{"receipt_number": "REC-0003-2026", "tracking_revision": 3,
                                "index_revision": 1, "tracking_entries": 3,
                                "index_entries": 1}]
    assert report["counts"] == {"missing": 1, "extra": 1, "stale": 1}
    assert report["changes"] == {"tracking": entries + 2, "index": entries - 1 + 1}


def test_reconcile_says_when_it_cannot_compare(search: SearchStack, amqp_url: str) -> None:
    code, report, stderr = run(search, amqp_url, f"ptest_nobody_{uuid.uuid4().hex[:8]}",
                               "--rpc-timeout", "2")
    assert code == 2 and report is None
    assert "could not compare" in stderr
