"""Builders for tracking's unit tests (real catalogue, real contract payloads)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from pantau_contracts.catalogue import load_catalogue
from pantau_contracts.payloads import department as dept
from pantau_tracking.domain.lifecycle import ReceivedEvent

CATALOGUE = load_catalogue()
T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # Monday 09:00 WIB
APPLICANT = {"name": "Siti Nurhaliza", "nik": "3273012345678901", "phone": "081234567890",
             "email": "siti@example.id", "address": "Jl. Merdeka No. 5, Bandung"}

MODELS: dict[str, Any] = {
    "case.submitted": dept.CaseSubmittedV1, "case.stage_started": dept.CaseStageStartedV1,
    "case.returned": dept.CaseReturnedV1, "case.resumed": dept.CaseResumedV1,
    "case.rejected": dept.CaseRejectedV1, "case.completed": dept.CaseCompletedV1,
    "case.withdrawn": dept.CaseWithdrawnV1,
}


def inbound(event_type: str, receipt: str = "BDG-PBG-0001", *, time: datetime = T0,
            received: datetime | None = None, department: str = "dpmptsp",
            jurisdiction: str = "kota-bandung", sequence: int | None = None,
            **data: Any) -> ReceivedEvent:
    """A received event claiming ``time``, received at ``received`` (default: at once)."""
    if event_type in ("case.returned", "case.rejected"):
        data.setdefault("reason", "Berkas kurang")
    if event_type == "case.submitted":
        data.setdefault("service_code", "pbg")
    payload = MODELS[event_type].model_validate({"receipt_number": receipt, **data})
    return ReceivedEvent(event_id=str(uuid.uuid4()), source=f"/{jurisdiction}/{department}",
                         type=event_type, time=time, jurisdiction=jurisdiction,
                         department=department, payload=payload, received=received or time,
                         sequence=sequence)
