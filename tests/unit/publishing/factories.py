"""Builders of public records and case.updated events for publishing tests."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pantau_contracts.envelope import event_to_json, make_event
from pantau_contracts.payloads.public import PublicCaseV1

BASE_TIME = datetime(2026, 3, 2, 1, 15, tzinfo=UTC)  # 08:15 WIB
STAGES = [("diterima", None, None), ("verifikasi", "verifikasi-berkas", ("Verifikasi berkas",
                                                                         "File verification")),
          ("diproses", "pemeriksaan-teknis", ("Pemeriksaan teknis", "Technical review")),
          ("selesai", None, None)]


def public_case(receipt: str = "BDG-PBG-2026-000123", *, revision: int = 1,
                steps: int | None = None, status: str | None = None,
                jurisdiction: str = "kota-bandung", department: str = "dpmptsp",
                service: str = "pbg", kecamatan: str | None = "Coblong",
                note: str | None = None, overdue: bool = False, withdrawn: bool = False,
                elapsed: float = 2.0, submitted_at: datetime | None = None,
                timezone: str = "Asia/Jakarta", **overrides: Any) -> dict[str, Any]:
    """A valid PublicCaseV1 as JSON dict. ``steps``: how many timeline entries (default revision,
    capped at 4); ``note`` goes on the last entry."""
    submitted = submitted_at or BASE_TIME
    count = min(steps if steps is not None else revision, len(STAGES))
    timeline = []
    for index in range(count):
        entry_status, stage_code, stage_name = STAGES[index]
        timeline.append({
            "seq": index + 1, "status": entry_status, "stage_code": stage_code,
            "stage_name": {"id": stage_name[0], "en": stage_name[1]} if stage_name else None,
            "at": (submitted + timedelta(days=index)).isoformat(),
            "note": note if index == count - 1 else None,
            "actor_role": "petugas-loket",
            "working_days": None if index == count - 1 else 1.0,
        })
    current = status or (timeline[-1]["status"] if timeline else "diterima")
    if withdrawn:
        current = "dibatalkan"
    if status == "dibatalkan" or withdrawn:
        timeline.append({"seq": len(timeline) + 1, "status": "dibatalkan",
                         "at": (submitted + timedelta(days=len(timeline))).isoformat()})
    final = current in ("selesai", "ditolak", "dibatalkan")
    record: dict[str, Any] = {
        "receipt_number": receipt, "revision": revision,
        "jurisdiction_code": jurisdiction,
        "jurisdiction_name": {"kota-bandung": "Kota Bandung"}.get(jurisdiction,
                                                                  jurisdiction.title()),
        "timezone": timezone, "department_code": department,
        "department_name": {"id": "DPMPTSP " + department.upper(),
                            "en": "One-stop permit office " + department.upper()},
        "service_code": service,
        "service_name": {"id": f"Persetujuan {service.upper()}", "en": f"{service.upper()} permit"},
        "catalogue_version": f"{jurisdiction}@2026.1",  # as tracking records it
        "max_working_days": 10, "kecamatan": kecamatan,
        "channel": "loket", "status": current,
        "stage_code": timeline[-1].get("stage_code") if timeline else None,
        "stage_name": timeline[-1].get("stage_name") if timeline else None,
        "submitted_at": submitted.isoformat(),
        "updated_at": (submitted + timedelta(days=max(count - 1, 0))).isoformat(),
        "closed_at": (submitted + timedelta(days=count)).isoformat() if final else None,
        "due_date": (submitted.date() + timedelta(days=14)).isoformat(),
        "working_days_elapsed": elapsed, "working_days_remaining": None if final else 8.0,
        "overdue": overdue, "paused": False, "withdrawn": withdrawn, "timeline": timeline,
    }
    record.update(overrides)
    PublicCaseV1.model_validate(record)  # factories only build valid records
    return record


def case_updated(record: dict[str, Any], *, event_id: str | None = None,
                 sequence: int | None = None, change: str = "case.stage_started") -> bytes:
    """Structured-mode CloudEvent JSON bytes, as tracking publishes it."""
    event = make_event(type="case.updated", source=f"/{record['jurisdiction_code']}/tracking",
                       data={"case": record, "change": change}, subject=record["receipt_number"],
                       sequence=record["revision"] if sequence is None else sequence,
                       id=event_id or str(uuid.uuid4()))
    return event_to_json(event)


def due(days: int) -> date:
    return BASE_TIME.date() + timedelta(days=days)
