from __future__ import annotations

from pathlib import Path

from pantau_client.cli import build_event, read_rows
from pantau_client.identity import Department
from pantau_contracts import validate_event

DPMPTSP = Department("kota-bandung", "dpmptsp")


def test_csv_rows_become_valid_events_with_stable_ids(tmp_path: Path) -> None:
    path = tmp_path / "backlog.csv"
    path.write_text("type,sequence,data.receipt_number,data.service_code,data.stage\n"
                    "case.submitted,1,BDG-PBG-2026-000001,pbg,\n"
                    "case.stage_started,2,BDG-PBG-2026-000001,,verifikasi-berkas\n")
    events = [build_event(DPMPTSP, row, key) for key, row in read_rows(path)]
    again = [build_event(DPMPTSP, row, key) for key, row in read_rows(path)]
    assert [e["id"] for e in events] == [e["id"] for e in again]  # re-import sends nothing new
    validated = [validate_event(e) for e in events]
    assert [v.type for v in validated] == ["case.submitted", "case.stage_started"]
    assert validated[1].sequence == 2
    assert validated[1].payload.stage == "verifikasi-berkas"  # type: ignore[attr-defined]


def test_jsonl_full_events_pass_through(tmp_path: Path) -> None:
    path = tmp_path / "backlog.jsonl"
    path.write_text('{"specversion": "1.0", "id": "x1", "type": "case.resumed"}\n\n')
    rows = list(read_rows(path))
    assert len(rows) == 1
    assert build_event(DPMPTSP, rows[0][1], rows[0][0])["id"] == "x1"
