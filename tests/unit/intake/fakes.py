"""Hand-written fakes at intake's ports (unit tests only)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from pantau_contracts import ValidatedEvent
from pantau_intake.domain.authentication import ActiveKey
from pantau_intake.domain.departments import DepartmentRef
from pantau_intake.service.acceptance import ForwardError

DPMPTSP = DepartmentRef("kota-bandung", "dpmptsp")
DISDUKCAPIL = DepartmentRef("kota-bandung", "disdukcapil")
SECRETS = {"k-dpmptsp": "s3cret-dpmptsp-xxxxxxxx", "k-disdukcapil": "s3cret-disdukcapil-xxxx"}


class FakeKeys:
    def __init__(self) -> None:
        self.keys = {"k-dpmptsp": ActiveKey("k-dpmptsp", DPMPTSP, SECRETS["k-dpmptsp"]),
                     "k-disdukcapil": ActiveKey("k-disdukcapil", DISDUKCAPIL,
                                                SECRETS["k-disdukcapil"])}

    def resolve(self, key_id: str) -> ActiveKey | None:
        return self.keys.get(key_id)


class FakeDirectory:
    services = {("kota-bandung", "pbg"): "dpmptsp", ("kota-bandung", "ktp-el"): "disdukcapil"}
    departments = {("kota-bandung", "dpmptsp"), ("kota-bandung", "disdukcapil")}
    prefixes = {("kota-bandung", "dpmptsp"): ("BDG-PBG-", "BDG-SLF-"),
                ("kota-bandung", "disdukcapil"): ("BDG-KE-", "BDG-AK-")}

    def has_department(self, jurisdiction: str, department: str) -> bool:
        return (jurisdiction, department) in self.departments

    def department_of_service(self, jurisdiction: str, service_code: str) -> str | None:
        return self.services.get((jurisdiction, service_code))

    def owns_receipt(self, jurisdiction: str, department: str, receipt: str) -> bool:
        return receipt.startswith(self.receipt_prefixes(jurisdiction, department))

    def receipt_prefixes(self, jurisdiction: str, department: str) -> tuple[str, ...]:
        return self.prefixes.get((jurisdiction, department), ())


class RecordingForwarder:
    def __init__(self) -> None:
        self.forwarded: list[ValidatedEvent] = []
        self.fail = False

    def forward(self, events: Sequence[ValidatedEvent]) -> None:
        if self.fail:
            raise ForwardError("broker down (fake)")
        self.forwarded.extend(events)


class Clock:
    def __init__(self, now: float = 1_780_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


RECEIVED_AT = datetime(2026, 3, 2, 1, 15, tzinfo=UTC)
"""The fixed server time of ``FixedClock``; events claim a time shortly before it."""


class FixedClock:
    """``ReceivedClock`` standing still (set ``now`` to move it)."""

    def __init__(self, now: datetime = RECEIVED_AT) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


DEFAULT_RECEIPTS = {"/kota-bandung/dpmptsp": "BDG-PBG-2026-000001",
                    "/kota-bandung/disdukcapil": "BDG-KE-2026-000001"}


def event(type_: str = "case.submitted", *, source: str = "/kota-bandung/dpmptsp",
          id: str | None = None, time: datetime | None = None, **data: Any) -> dict[str, Any]:
    receipt = data.pop("receipt_number", DEFAULT_RECEIPTS.get(source, "BDG-PBG-2026-000001"))
    payload: dict[str, Any] = {"receipt_number": receipt}
    if type_ == "case.submitted":
        payload["service_code"] = data.pop("service_code", "pbg")
    elif type_ == "case.stage_started":
        payload["stage"] = data.pop("stage", "verifikasi-berkas")
    elif type_ in ("case.returned", "case.rejected"):
        payload["reason"] = data.pop("reason", "Berkas belum lengkap")
    payload.update(data)
    return {"specversion": "1.0", "id": id or str(uuid.uuid4()), "source": source,
            "type": type_, "time": (time or RECEIVED_AT - timedelta(minutes=5)).isoformat(),
            "data": payload}


def body(value: Any) -> bytes:
    return json.dumps(value).encode()
