"""Builders of public records and case.updated events for publishing tests."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pantau_contracts.envelope import event_to_json, make_event
from pantau_contracts.payloads.public import PublicCaseV1, PublicCaseV2
from pantau_contracts.registry import dataschema_for

BASE_TIME = datetime(2026, 3, 2, 1, 15, tzinfo=UTC)  # 08:15 WIB
REPORTED_AFTER = timedelta(minutes=2)
"""How long after a step (by its claimed time) an on-time report reaches Pantau."""
STAGES = [("diterima", None, None), ("verifikasi", "verifikasi-berkas", ("Verifikasi berkas",
                                                                         "File verification")),
          ("diproses", "pemeriksaan-teknis", ("Pemeriksaan teknis", "Technical review")),
          ("selesai", None, None)]
V2_ENTRY_FIELDS = ("received_at", "counted_at", "late_reported", "reporting_delay_days")
V2_CASE_FIELDS = ("reporting_tolerance_days", "late_reported")


def _clocks(at: datetime, delay: int, tolerance: int) -> dict[str, Any]:
    """Both clocks of one entry: reported ``delay`` working days after ``at`` (test calendar:
    a working day is a calendar day here); the clock counts a late one ``tolerance`` days
    before it was received."""
    received = at + REPORTED_AFTER + timedelta(days=delay)
    late = delay > tolerance
    counted = max(at, received - timedelta(days=tolerance)) if late else at
    return {"received_at": received.isoformat(), "counted_at": counted.isoformat(),
            "late_reported": late, "reporting_delay_days": delay}


def public_case(receipt: str = "BDG-PBG-2026-000123", *, revision: int = 1,
                steps: int | None = None, status: str | None = None,
                jurisdiction: str = "kota-bandung", department: str = "dpmptsp",
                service: str = "pbg", kecamatan: str | None = "Coblong",
                note: str | None = None, overdue: bool = False, withdrawn: bool = False,
                elapsed: float = 2.0, submitted_at: datetime | None = None,
                timezone: str = "Asia/Jakarta", delays: Mapping[int, int] | None = None,
                tolerance: int = 1, **overrides: Any) -> dict[str, Any]:
    """A valid PublicCaseV2 as JSON dict. ``steps``: how many timeline entries (default revision,
    capped at 4); ``note`` goes on the last entry. ``delays``: ``{seq: working days}`` a step was
    reported after it happened (default 0: reported minutes later); more than ``tolerance``
    makes it ``late_reported``."""
    submitted = submitted_at or BASE_TIME
    delays = delays or {}
    count = min(steps if steps is not None else revision, len(STAGES))
    timeline = []
    for index in range(count):
        entry_status, stage_code, stage_name = STAGES[index]
        at = submitted + timedelta(days=index)
        timeline.append({
            "seq": index + 1, "status": entry_status, "stage_code": stage_code,
            "stage_name": {"id": stage_name[0], "en": stage_name[1]} if stage_name else None,
            "at": at.isoformat(), **_clocks(at, delays.get(index + 1, 0), tolerance),
            "note": note if index == count - 1 else None,
            "actor_role": "petugas-loket",
            "working_days": None if index == count - 1 else 1.0,
        })
    current = status or (timeline[-1]["status"] if timeline else "diterima")
    if withdrawn:
        current = "dibatalkan"
    if status == "dibatalkan" or withdrawn:
        at = submitted + timedelta(days=len(timeline))
        timeline.append({"seq": len(timeline) + 1, "status": "dibatalkan", "at": at.isoformat(),
                         **_clocks(at, delays.get(len(timeline) + 1, 0), tolerance)})
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
        "catalogue_version": f"{jurisdiction}@2026.2",  # as tracking records it
        "max_working_days": 10, "reporting_tolerance_days": tolerance, "kecamatan": kecamatan,
        "channel": "loket", "status": current,
        "stage_code": timeline[-1].get("stage_code") if timeline else None,
        "stage_name": timeline[-1].get("stage_name") if timeline else None,
        "submitted_at": submitted.isoformat(),
        "updated_at": (submitted + timedelta(days=max(count - 1, 0))).isoformat(),
        "closed_at": (submitted + timedelta(days=count)).isoformat() if final else None,
        "due_date": (submitted.date() + timedelta(days=14)).isoformat(),
        "working_days_elapsed": elapsed, "working_days_remaining": None if final else 8.0,
        "overdue": overdue, "paused": False, "withdrawn": withdrawn,
        "late_reported": any(entry["late_reported"] for entry in timeline),
        "timeline": timeline,
    }
    record.update(overrides)
    PublicCaseV2.model_validate(record)  # factories only build valid records
    return record


def public_case_v1(receipt: str = "BDG-PBG-2026-000123", **kwargs: Any) -> dict[str, Any]:
    """The same record as tracking sent it before the two clocks (``PublicCaseV1``)."""
    record = public_case(receipt, **kwargs)
    for name in V2_CASE_FIELDS:
        record.pop(name)
    record["timeline"] = [{k: v for k, v in entry.items() if k not in V2_ENTRY_FIELDS}
                          for entry in record["timeline"]]
    PublicCaseV1.model_validate(record)
    return record


def is_v1(record: Mapping[str, Any]) -> bool:
    return not any(name in record for name in V2_CASE_FIELDS) and not any(
        "received_at" in entry for entry in record.get("timeline", ()))


def case_updated(record: dict[str, Any], *, event_id: str | None = None,
                 sequence: int | None = None, change: str = "case.stage_started",
                 version: int | None = None) -> bytes:
    """Structured-mode CloudEvent JSON bytes, as tracking publishes it: ``dataschema`` names
    version 1 or 2 of case.updated (default: the version the record's shape is)."""
    version = version or (1 if is_v1(record) else 2)
    event = make_event(type="case.updated", source=f"/{record['jurisdiction_code']}/tracking",
                       data={"case": record, "change": change}, subject=record["receipt_number"],
                       sequence=record["revision"] if sequence is None else sequence,
                       id=event_id or str(uuid.uuid4()),
                       dataschema=dataschema_for("case.updated", version))
    return event_to_json(event)


def due(days: int) -> date:
    return BASE_TIME.date() + timedelta(days=days)
