"""Deterministic demo lifecycles. Plain Python: builds event dicts, sends nothing.

Every event id is derived from the receipt number and the step (uuid5), so loading twice creates
nothing new: intake and tracking are idempotent on (source, id).
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pantau_contracts.catalogue import Catalogue, Service

NAMESPACE = uuid.UUID("6f1d8f2c-3c1b-4d7e-9a52-7d0c1b2a9e11")
KECAMATAN_BANDUNG = [
    "Andir", "Antapani", "Arcamanik", "Astanaanyar", "Babakan Ciparay", "Bandung Kidul",
    "Bandung Kulon", "Bandung Wetan", "Batununggal", "Bojongloa Kaler", "Bojongloa Kidul",
    "Buahbatu", "Cibeunying Kaler", "Cibeunying Kidul", "Cibiru", "Cicendo", "Cidadap", "Cinambo",
    "Coblong", "Gedebage", "Kiaracondong", "Lengkong", "Mandalajati", "Panyileukan", "Rancasari",
    "Regol", "Sukajadi", "Sukasari", "Sumur Bandung", "Ujungberung",
]
FIRST = ["Siti", "Budi", "Dewi", "Asep", "Rina", "Ujang", "Neneng", "Dadang", "Euis", "Yayan",
         "Agus", "Lilis", "Cecep", "Nurul", "Hendra", "Wulan"]
LAST = ["Aminah", "Santoso", "Lestari", "Sunandar", "Kartika", "Suherman", "Rahayu", "Hidayat",
        "Permana", "Nugraha", "Kurniawan", "Setiawati"]
# (kind, weight): what happens to a demo case
KINDS = [("completed", 40), ("in_progress", 20), ("returned_resumed", 10), ("returned_open", 6),
         ("rejected", 9), ("withdrawn", 5), ("overdue", 10)]


@dataclass(frozen=True)
class DemoEvent:
    source: str
    body: dict[str, Any]


def _local(day: datetime, tz: ZoneInfo, rng: random.Random) -> datetime:
    at = datetime.combine(day.date(), time(rng.randint(8, 14), rng.randint(0, 59)), tz)
    return at.astimezone(UTC)


def _next_weekday(at: datetime, days: int) -> datetime:
    at = at + timedelta(days=days)
    while at.weekday() >= 5:
        at += timedelta(days=1)
    return at


def build(catalogue: Catalogue, jurisdiction: str = "kota-bandung", cases: int = 300,
          now: datetime | None = None, seed: int = 2026) -> list[DemoEvent]:
    """The demo events for ``cases`` cases, in the order they should be sent."""
    rng = random.Random(seed)
    now = now or datetime.now(UTC)
    juris = catalogue.jurisdiction(jurisdiction)
    if juris is None:
        raise ValueError(f"the catalogue has no jurisdiction {jurisdiction!r}")
    tz = ZoneInfo(juris.timezone)
    services: list[Service] = [s for d in juris.departments.values() for s in d.services.values()]
    kinds = [k for k, w in KINDS for _ in range(w)]
    events: list[DemoEvent] = []
    for n in range(1, cases + 1):
        service = services[n % len(services)]
        kind = rng.choice(kinds)
        receipt = f"BDG-{service.code.upper()[:8]}-{now.year}-{n:06d}"[:48]
        source = f"/{jurisdiction}/{service.department_code}"
        span = service.max_working_days * 2 if kind == "overdue" else rng.randint(1, 50)
        start = _next_weekday(now - timedelta(days=span + 5), 0)
        steps = _steps(kind, service, rng)
        at = _local(start, tz, rng)
        sequence = 0
        for step_type, data in steps:
            if at >= now - timedelta(minutes=5):
                break
            sequence += 1
            event_id = str(uuid.uuid5(NAMESPACE, f"{receipt}/{sequence}"))
            payload = {"receipt_number": receipt, **data}
            if step_type == "case.submitted":
                payload.update(_submission(service, rng))
            events.append(DemoEvent(source, {
                "specversion": "1.0", "id": event_id, "source": source, "type": step_type,
                "subject": receipt, "time": at.isoformat().replace("+00:00", "Z"),
                "sequence": sequence, "datacontenttype": "application/json", "data": payload}))
            gap = rng.randint(1, max(1, service.max_working_days // max(1, len(steps))))
            at = _local(_next_weekday(at, gap), tz, rng)
    events.sort(key=lambda e: e.body["time"])
    return events


def _submission(service: Service, rng: random.Random) -> dict[str, Any]:
    name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    return {
        "service_code": service.code,
        "kecamatan": rng.choice(KECAMATAN_BANDUNG),
        "channel": rng.choice(["loket", "online", "mpp"]),
        "note": "Berkas permohonan diterima di loket.",
        "applicant": {
            "name": name,
            "nik": "3273" + "".join(str(rng.randint(0, 9)) for _ in range(12)),
            "phone": "08" + "".join(str(rng.randint(0, 9)) for _ in range(10)),
            "email": f"{name.split()[0].lower()}{rng.randint(1, 999)}@contoh.id",
            "address": f"Jl. {rng.choice(['Merdeka', 'Asia Afrika', 'Dago', 'Riau'])} No. "
                       f"{rng.randint(1, 200)}",
        },
    }


def _steps(kind: str, service: Service, rng: random.Random) -> list[tuple[str, dict[str, Any]]]:
    stages = [s.code for s in service.stages]
    steps: list[tuple[str, dict[str, Any]]] = [("case.submitted", {})]
    full = kind in ("completed", "returned_resumed")
    progress = stages if full else stages[: max(1, len(stages) // 2)]
    for i, stage in enumerate(progress):
        steps.append(("case.stage_started", {"stage": stage}))
        if i == 0 and kind in ("returned_resumed", "returned_open"):
            steps.append(("case.returned", {"reason": "Dokumen persyaratan belum lengkap: mohon "
                                                      "lengkapi fotokopi bukti kepemilikan."}))
            if kind == "returned_open":
                return steps
            steps.append(("case.resumed", {"note": "Kelengkapan berkas sudah diterima."}))
    if kind in ("completed", "returned_resumed"):
        steps.append(("case.completed", {"note": "Dokumen telah terbit dan dapat diambil."}))
    elif kind == "rejected":
        reason = "Lokasi tidak sesuai dengan rencana tata ruang."
        steps.append(("case.rejected", {"reason": reason}))
    elif kind == "withdrawn":
        steps.append(("case.withdrawn", {"reason": "Dibatalkan atas permintaan pemohon."}))
    return steps
