"""Helpers for tracking's integration tests: real CloudEvents, real stores."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from pantau_contracts.envelope import event_to_json, make_event

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


def department_event(event_type: str, receipt: str, *, department: str = "dpmptsp",
                     jurisdiction: str = "kota-bandung", sequence: int | None = None,
                     event_id: str | None = None, time: datetime | None = None,
                     **data: Any) -> bytes:
    """Structured-mode CloudEvent JSON as intake forwards it."""
    if event_type == "case.submitted":
        data.setdefault("service_code", "pbg")
    if event_type in ("case.returned", "case.rejected"):
        data.setdefault("reason", "Berkas belum lengkap")
    event = make_event(type=event_type, source=f"/{jurisdiction}/{department}",
                       data={"receipt_number": receipt, **data}, subject=receipt,
                       sequence=sequence, id=event_id or str(uuid.uuid4()),
                       time=time or T0 + timedelta(hours=sequence or 0))
    return event_to_json(event)


class FixedClock:
    def __init__(self, now: datetime) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current
