"""Deterministic demo lifecycles. Plain Python: builds event dicts, sends nothing.

Every event id is derived from the receipt number and the step (uuid5), and every random choice
comes from a seeded generator, so loading twice creates nothing new: intake and tracking are
idempotent on (source, id), and the second load's events are byte-identical to the first's.

* Receipt numbers come from the department's catalogue ``receipt_prefixes`` (intake refuses any
  other): the prefix ending in ``-<ABBR>-`` for the service's abbreviation (``pbg`` → PBG, so
  ``BDG-PBG-`` in Kota Bandung, ``KABBDG-PBG-`` in Kab. Bandung), else the department's first.
* Each event has a claimed ``time`` (when the department says the step happened) and, unless it
  is recent (``RECENT``: within the hour before the demo's "now"), a simulated ``received`` time —
  when the department would have reported it: mostly minutes to hours later. One department per
  jurisdiction (``LATE_REPORTERS``) is a habitual late reporter: one report in seven
  (``LATE_SHARE``) comes 2–10 working days late, and since a department reports a case's steps in
  order (received times never decrease within a case) the steps queued behind it are late too —
  about a quarter of its steps show as reported late, so the late-reporting views have something
  to show. Every other department stays within the tolerance (at most the next working day).
* Each demo jurisdiction has a ``Profile`` (``PROFILES``) so the comparison page has something to
  rank: its size, the mix of what happens to its cases, the share completed within the legal
  maximum, and who reports late. Kota Bandung and Kab. Bandung keep the original mix (their
  events are byte-identical to earlier loads); Kota Cimahi is small and fast, Kab. Bogor large
  and slow (many overdue), Kota Depok reports late in both departments, and Kab. Pangandaran has
  too few cases to be ranked (the page marks it).
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pantau_contracts.catalogue import Catalogue, Department, Jurisdiction, Service

NAMESPACE = uuid.UUID("6f1d8f2c-3c1b-4d7e-9a52-7d0c1b2a9e11")
RECENT = timedelta(hours=1)
"""Events claimed within this time before "now" go through the intake API; older ones are
history, imported with a simulated received time."""
LATE_REPORTERS = {"kota-bandung": "dinkes", "kab-bandung": "disdukcapil"}
"""The habitual late reporter of each jurisdiction (else the last department by code)."""
LATE_SHARE = 0.15
"""The late reporter's chance that one report comes 2–10 working days late."""
# (kind, weight): what happens to a demo case; "new" cases were opened at the counter just now
KINDS = [("completed", 40), ("in_progress", 20), ("returned_resumed", 10), ("returned_open", 6),
         ("rejected", 9), ("withdrawn", 5), ("overdue", 10), ("new", 4)]


@dataclass(frozen=True)
class Profile:
    """How one demo jurisdiction performs."""

    cases: int
    kinds: tuple[tuple[str, int], ...] = tuple(KINDS)
    on_time: float = 0.85
    """Chance that a completed case finished within the legal maximum."""
    pace: float = 1.0
    """Scales how long closed cases took (0.5: twice as fast as the default mix)."""
    late_departments: tuple[str, ...] = ()
    """Habitual late reporters (empty: ``LATE_REPORTERS`` / the last department by code)."""
    late_share: float = LATE_SHARE


PROFILES: dict[str, Profile] = {
    "kota-bandung": Profile(300),
    "kab-bandung": Profile(80),
    # small and fast: nearly everything on time, hardly anything overdue
    "kota-cimahi": Profile(60, (("completed", 60), ("in_progress", 20), ("returned_resumed", 8),
                                ("rejected", 4), ("withdrawn", 3), ("overdue", 1), ("new", 4)),
                           on_time=0.97, pace=0.5),
    # large and slow: a third of completed cases late, many open cases overdue
    "kab-bogor": Profile(200, (("completed", 38), ("in_progress", 12), ("returned_resumed", 8),
                               ("returned_open", 8), ("rejected", 6), ("withdrawn", 3),
                               ("overdue", 30), ("new", 3)), on_time=0.6),
    # reports late: both departments, one report in three
    "kota-depok": Profile(100, on_time=0.8, late_departments=("disdukcapil", "dpmptsp"),
                          late_share=0.35),
    # too few cases for a fair rank: the comparison marks it instead
    "kab-pangandaran": Profile(12),
}
DEFAULT_PROFILE = Profile(100)
KECAMATAN = {
    "kota-bandung": [
        "Andir", "Antapani", "Arcamanik", "Astanaanyar", "Babakan Ciparay", "Bandung Kidul",
        "Bandung Kulon", "Bandung Wetan", "Batununggal", "Bojongloa Kaler", "Bojongloa Kidul",
        "Buahbatu", "Cibeunying Kaler", "Cibeunying Kidul", "Cibiru", "Cicendo", "Cidadap",
        "Cinambo", "Coblong", "Gedebage", "Kiaracondong", "Lengkong", "Mandalajati",
        "Panyileukan", "Rancasari", "Regol", "Sukajadi", "Sukasari", "Sumur Bandung",
        "Ujungberung"],
    "kota-cimahi": ["Cimahi Selatan", "Cimahi Tengah", "Cimahi Utara"],
    "kab-bogor": [
        "Babakan Madang", "Bojonggede", "Cibinong", "Cileungsi", "Ciomas", "Cisarua",
        "Citeureup", "Dramaga", "Gunung Putri", "Jonggol", "Leuwiliang", "Megamendung",
        "Parung", "Sukaraja"],
    "kota-depok": [
        "Beji", "Bojongsari", "Cilodong", "Cimanggis", "Cinere", "Cipayung", "Limo",
        "Pancoran Mas", "Sawangan", "Sukmajaya", "Tapos"],
    "kab-pangandaran": ["Cijulang", "Kalipucang", "Pangandaran", "Parigi", "Sidamulih"],
    "kab-bandung": [
        "Arjasari", "Baleendah", "Banjaran", "Bojongsoang", "Cangkuang", "Cicalengka",
        "Cikancung", "Cilengkrang", "Cileunyi", "Cimaung", "Cimenyan", "Ciparay", "Ciwidey",
        "Dayeuhkolot", "Ibun", "Katapang", "Kertasari", "Kutawaringin", "Majalaya",
        "Margaasih", "Margahayu", "Nagreg", "Pacet", "Pameungpeuk", "Pangalengan", "Paseh",
        "Rancabali", "Rancaekek", "Solokanjeruk", "Soreang"],
}
NIK_REGION = {"kota-bandung": "3273", "kab-bandung": "3204", "kota-cimahi": "3277",
              "kab-bogor": "3201", "kota-depok": "3276", "kab-pangandaran": "3218"}
FIRST = ["Siti", "Budi", "Dewi", "Asep", "Rina", "Ujang", "Neneng", "Dadang", "Euis", "Yayan",
         "Agus", "Lilis", "Cecep", "Nurul", "Hendra", "Wulan"]
LAST = ["Aminah", "Santoso", "Lestari", "Sunandar", "Kartika", "Suherman", "Rahayu", "Hidayat",
        "Permana", "Nugraha", "Kurniawan", "Setiawati"]


@dataclass(frozen=True)
class DemoEvent:
    source: str
    body: dict[str, Any]
    received: datetime | None = None
    """When the department would have reported it (history import); None: send it now through
    the intake API, which stamps its own received time."""

    @property
    def history(self) -> bool:
        return self.received is not None


def late_reporter(juris: Jurisdiction) -> str:
    """The department of ``juris`` that habitually reports late."""
    wanted = LATE_REPORTERS.get(juris.code, "")
    return wanted if wanted in juris.departments else str(sorted(juris.departments)[-1])


def late_reporters(juris: Jurisdiction, profile: Profile) -> set[str]:
    """Every habitually late department of ``juris`` under ``profile``."""
    named = {d for d in profile.late_departments if d in juris.departments}
    return named or {late_reporter(juris)}


def receipt_prefix(department: Department, service: Service) -> str:
    """The department's prefix ending in ``-<ABBR>-`` for the service, else its first prefix."""
    wanted = f"-{_abbreviation(service.code)}-"
    for prefix in department.receipt_prefixes:
        if prefix.endswith(wanted):
            return str(prefix)
    return str(department.receipt_prefixes[0])


def _local(day: datetime, tz: ZoneInfo, rng: random.Random) -> datetime:
    at = datetime.combine(day.date(), time(rng.randint(8, 14), rng.randint(0, 59)), tz)
    return at.astimezone(UTC)


def _next_weekday(at: datetime, days: int) -> datetime:
    at = at + timedelta(days=days)
    while at.weekday() >= 5:
        at += timedelta(days=1)
    return at


def _plus_working_days(at: datetime, days: int, tz: ZoneInfo) -> datetime:
    """``at`` moved ``days`` weekdays later (same local wall-clock time)."""
    local = at.astimezone(tz)
    for _ in range(days):
        local = _next_weekday(local, 1)
    return local.astimezone(UTC)


def reporting_delay(claimed: datetime, rng: random.Random, late_reporter: bool,
                    tz: ZoneInfo, late_share: float = LATE_SHARE) -> datetime:
    """When a department reports a step it claims happened at ``claimed``."""
    if late_reporter and rng.random() < late_share:
        late = _plus_working_days(claimed, rng.randint(2, 10), tz)
        return late + timedelta(minutes=rng.randint(0, 180))
    roll = rng.random()
    if roll < 0.6:
        return claimed + timedelta(minutes=rng.randint(1, 59))
    if roll < 0.95:
        return claimed + timedelta(hours=rng.randint(1, 7), minutes=rng.randint(0, 59))
    return claimed + timedelta(hours=rng.randint(8, 20))  # the next morning at the latest


def build(catalogue: Catalogue, jurisdiction: str = "kota-bandung", cases: int | None = None,
          now: datetime | None = None, seed: int = 2026,
          profile: Profile | None = None) -> list[DemoEvent]:
    """The demo events for ``cases`` cases (default: the profile's), in the order they should be
    sent. ``profile`` defaults to ``PROFILES[jurisdiction]`` (else ``DEFAULT_PROFILE``)."""
    rng = random.Random(seed)
    now = now or datetime.now(UTC)
    juris = catalogue.jurisdiction(jurisdiction)
    if juris is None:
        raise ValueError(f"the catalogue has no jurisdiction {jurisdiction!r}")
    profile = profile or PROFILES.get(jurisdiction, DEFAULT_PROFILE)
    cases = profile.cases if cases is None else cases
    tz = ZoneInfo(juris.timezone)
    late_departments = late_reporters(juris, profile)
    services: list[Service] = [s for d in juris.departments.values() for s in d.services.values()]
    kinds = [k for k, w in profile.kinds for _ in range(w)]
    events: list[DemoEvent] = []
    for n in range(1, cases + 1):
        service = services[n % len(services)]
        department = juris.departments[service.department_code]
        kind = rng.choice(kinds)
        receipt = f"{receipt_prefix(department, service)}{now.year}-{n:06d}"
        source = f"/{jurisdiction}/{service.department_code}"
        steps = _steps(kind, service, rng)
        last: datetime | None = None
        reported: datetime | None = None
        for sequence, (step_type, data, day, exact) in enumerate(
                _timed(kind, steps, service, now, rng, profile), start=1):
            at = day if exact else _local(day, tz, rng)
            if last is not None and at <= last:  # two steps on one day: keep them in order
                at = last + timedelta(minutes=rng.randint(5, 90))
            last = at
            received = None
            if at < now - RECENT:  # history: reported in order, never after "now"
                delays = random.Random(f"{seed}/{receipt}/{sequence}/received")
                received = reporting_delay(at, delays, department.code in late_departments, tz,
                                           profile.late_share)
                if reported is not None:
                    received = max(received, reported + timedelta(minutes=delays.randint(1, 5)))
                received = reported = min(received, now - timedelta(minutes=1))
            event_id = str(uuid.uuid5(NAMESPACE, f"{receipt}/{sequence}"))
            payload = {"receipt_number": receipt, **data}
            if step_type == "case.submitted":
                payload.update(_submission(service, jurisdiction, rng))
            events.append(DemoEvent(source, {
                "specversion": "1.0", "id": event_id, "source": source, "type": step_type,
                "subject": receipt, "time": at.isoformat().replace("+00:00", "Z"),
                "sequence": sequence, "datacontenttype": "application/json", "data": payload},
                received))
    events.sort(key=lambda e: e.body["time"])
    return events


def _abbreviation(code: str) -> str:
    """``pbg`` → PBG, ``kartu-keluarga`` → KK, ``e-ktp`` → EKTP: how counters print receipts."""
    parts = code.split("-")
    if len(parts) == 1 or len(parts[0]) == 1:
        return code.replace("-", "").upper()[:10]
    return "".join(p[0] for p in parts).upper()


def _timed(kind: str, steps: list[tuple[str, dict[str, Any]]], service: Service, now: datetime,
           rng: random.Random, profile: Profile = DEFAULT_PROFILE
           ) -> list[tuple[str, dict[str, Any], datetime, bool]]:
    """Spread the steps over time so the mix looks like a real office: most cases finish within
    the legal maximum (working days ≈ 1.4 calendar days), some late, open ones mostly on time.
    Each step is (type, data, day or exact time, exact?)."""
    if kind == "new":
        return _just_opened(steps, now, rng)
    legal_days = service.max_working_days * 1.4
    if kind == "overdue":
        start = now - timedelta(days=legal_days * rng.uniform(1.3, 2.5) + 2)
        duration = (now - start).days * rng.uniform(0.2, 0.5)
    elif kind in ("in_progress", "returned_open"):
        start = now - timedelta(days=legal_days * rng.uniform(0.05, 0.8))
        duration = (now - start).days * rng.uniform(0.3, 0.9)
    else:
        duration = legal_days * profile.pace * (
            rng.uniform(0.3, 0.95) if rng.random() < profile.on_time else rng.uniform(1.1, 1.6))
        start = now - timedelta(days=duration + rng.uniform(1, 60))
    start = _next_weekday(start, 0)
    timed = []
    for i, (step_type, data) in enumerate(steps):
        at = _next_weekday(start + timedelta(days=duration * i / max(1, len(steps) - 1)), 0)
        if at.date() >= now.date():
            break
        timed.append((step_type, data, at, False))
    return timed or _just_opened(steps[:1], now, rng)  # it all starts today: opened just now


def _just_opened(steps: list[tuple[str, dict[str, Any]]], now: datetime, rng: random.Random
                 ) -> list[tuple[str, dict[str, Any], datetime, bool]]:
    """A case opened at the counter within the last hour (its events go through intake)."""
    at = now - timedelta(minutes=rng.randint(20, 55))
    return [(t, d, at + timedelta(minutes=5 * i), True) for i, (t, d) in enumerate(steps)]


def _submission(service: Service, jurisdiction: str, rng: random.Random) -> dict[str, Any]:
    name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    return {
        "service_code": service.code,
        "kecamatan": rng.choice(KECAMATAN.get(jurisdiction, KECAMATAN["kota-bandung"])),
        "channel": rng.choice(["loket", "online", "mpp"]),
        "note": "Berkas permohonan diterima di loket.",
        "applicant": {
            "name": name,
            "nik": NIK_REGION.get(jurisdiction, "3273")
                   + "".join(str(rng.randint(0, 9)) for _ in range(12)),
            "phone": "08" + "".join(str(rng.randint(0, 9)) for _ in range(10)),
            "email": f"{name.split()[0].lower()}{rng.randint(1, 999)}@contoh.id",
            "address": f"Jl. {rng.choice(['Merdeka', 'Asia Afrika', 'Dago', 'Riau'])} No. "
                       f"{rng.randint(1, 200)}",
        },
    }


def _steps(kind: str, service: Service, rng: random.Random) -> list[tuple[str, dict[str, Any]]]:
    stages = [s.code for s in service.stages]
    steps: list[tuple[str, dict[str, Any]]] = [("case.submitted", {})]
    if kind == "new":
        if rng.random() < 0.5:
            steps.append(("case.stage_started", {"stage": stages[0]}))
        return steps
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
