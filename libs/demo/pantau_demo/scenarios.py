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
        receipt = f"BDG-{_abbreviation(service.code)}-{now.year}-{n:06d}"
        source = f"/{jurisdiction}/{service.department_code}"
        steps = _steps(kind, service, rng)
        last: datetime | None = None
        for sequence, (step_type, data, day) in enumerate(_timed(kind, steps, service, now, rng),
                                                          start=1):
            at = _local(day, tz, rng)
            if last is not None and at <= last:  # two steps on one day: keep them in order
                at = last + timedelta(minutes=rng.randint(5, 90))
            last = at
            event_id = str(uuid.uuid5(NAMESPACE, f"{receipt}/{sequence}"))
            payload = {"receipt_number": receipt, **data}
            if step_type == "case.submitted":
                payload.update(_submission(service, rng))
            events.append(DemoEvent(source, {
                "specversion": "1.0", "id": event_id, "source": source, "type": step_type,
                "subject": receipt, "time": at.isoformat().replace("+00:00", "Z"),
                "sequence": sequence, "datacontenttype": "application/json", "data": payload}))
    events.sort(key=lambda e: e.body["time"])
    return events


def _abbreviation(code: str) -> str:
    """``pbg`` → PBG, ``kartu-keluarga`` → KK, ``e-ktp`` → EKTP: how counters print receipts."""
    parts = code.split("-")
    if len(parts) == 1 or len(parts[0]) == 1:
        return code.replace("-", "").upper()[:10]
    return "".join(p[0] for p in parts).upper()


def _timed(kind: str, steps: list[tuple[str, dict[str, Any]]], service: Service, now: datetime,
           rng: random.Random) -> list[tuple[str, dict[str, Any], datetime]]:
    """Spread the steps over time so the mix looks like a real office: most cases finish within
    the legal maximum (working days ≈ 1.4 calendar days), some late, open ones mostly on time."""
    legal_days = service.max_working_days * 1.4
    if kind == "overdue":
        start = now - timedelta(days=legal_days * rng.uniform(1.3, 2.5) + 2)
        duration = (now - start).days * rng.uniform(0.2, 0.5)
    elif kind in ("in_progress", "returned_open"):
        start = now - timedelta(days=legal_days * rng.uniform(0.05, 0.8))
        duration = (now - start).days * rng.uniform(0.3, 0.9)
    else:
        duration = legal_days * (rng.uniform(0.3, 0.95) if rng.random() < 0.85
                                 else rng.uniform(1.1, 1.6))
        start = now - timedelta(days=duration + rng.uniform(1, 60))
    start = _next_weekday(start, 0)
    timed = []
    for i, (step_type, data) in enumerate(steps):
        at = _next_weekday(start + timedelta(days=duration * i / max(1, len(steps) - 1)), 0)
        if at.date() >= now.date():
            break
        timed.append((step_type, data, at))
    return timed


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
