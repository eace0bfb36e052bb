"""Survei Kepuasan Masyarakat (SKM) and its index (IKM), as PermenPANRB No. 14 Tahun 2017
(Pedoman Penyusunan Survei Kepuasan Masyarakat Unit Penyelenggara Pelayanan Publik) defines them.

Contract:

* ``UNSUR``: the regulation's nine elements, in its order; every answer scores each 1–4
  (1 tidak baik/tidak sesuai, 2 kurang baik, 3 baik, 4 sangat baik). ``parse_scores`` accepts a
  form mapping ``u1``..``u9`` → "1".."4" and raises ``InvalidScores`` for anything else.
* ``ikm(totals)``: the unit-weighted average of the nine per-element means (weight 1/9 each —
  the regulation's "nilai rata-rata tertimbang", written there as 1/9 ≈ 0,11) times 25, so
  1 → 25 and 4 → 100; rounded to two decimals, as the regulation's intervals are written.
  We weight by exactly 1/9 rather than the rounded 0,11 (which would put four 4s at 99 and make
  the top of the scale unreachable).
* ``grade(ikm)``: the regulation's conversion table — 88,31–100,00 A (sangat baik);
  76,61–88,30 B (baik); 65,00–76,60 C (kurang baik); 25,00–64,99 D (tidak baik).
* ``summary(totals, closed, min_responses)``: what a dashboard may show. Fewer than
  ``min_responses`` answers: no score and no grade (a handful of answers is not a grade), only
  the count; the response rate (responses ÷ closed cases) is shown either way, because it is
  what exposes a department answering for its own cases (docs/security.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

REGULATION = "PermenPANRB No. 14 Tahun 2017"
UNSUR: tuple[tuple[str, str], ...] = (
    ("persyaratan", "Persyaratan"),
    ("prosedur", "Sistem, mekanisme, dan prosedur"),
    ("waktu", "Waktu penyelesaian"),
    ("biaya", "Biaya/tarif"),
    ("produk", "Produk spesifikasi jenis pelayanan"),
    ("kompetensi", "Kompetensi pelaksana"),
    ("perilaku", "Perilaku pelaksana"),
    ("pengaduan", "Penanganan pengaduan, saran, dan masukan"),
    ("sarana", "Sarana dan prasarana"),
)
"""(key, the regulation's name) of the nine unsur, in the regulation's order."""
FIELDS = tuple(f"u{n}" for n in range(1, len(UNSUR) + 1))
SCORES = (1, 2, 3, 4)
CONVERSION = 25
GRADES: tuple[tuple[float, str], ...] = ((88.31, "A"), (76.61, "B"), (65.00, "C"), (25.00, "D"))
"""Lower bound of each mutu pelayanan on the converted (×25) scale."""


class InvalidScores(ValueError):
    """A form that does not carry nine scores 1–4."""


def parse_scores(form: Mapping[str, str | None]) -> tuple[int, ...]:
    """The nine scores of a submitted form (``u1``..``u9``), each 1–4."""
    scores = []
    for field in FIELDS:
        raw = (form.get(field) or "").strip()
        if raw not in {str(s) for s in SCORES}:
            raise InvalidScores(f"{field}: choose 1, 2, 3 or 4")
        scores.append(int(raw))
    return tuple(scores)


@dataclass(frozen=True)
class Totals:
    """Answers of a place: how many, and the sum of each unsur's scores (in ``UNSUR`` order)."""

    count: int
    sums: tuple[int, ...]

    @classmethod
    def of(cls, answers: list[tuple[int, ...]]) -> Totals:
        sums = tuple(sum(a[i] for a in answers) for i in range(len(UNSUR)))
        return cls(len(answers), sums)


def ikm(totals: Totals) -> float | None:
    """The IKM (25–100) of ``totals``; None without answers."""
    if totals.count == 0:
        return None
    means = [s / totals.count for s in totals.sums]
    return round(sum(means) / len(UNSUR) * CONVERSION, 2)


def grade(value: float) -> str:
    """Mutu pelayanan A–D of an IKM value (the regulation's intervals)."""
    for lower, letter in GRADES:
        if value >= lower:
            return letter
    raise ValueError(f"{value} is below the scale (25–100)")


@dataclass(frozen=True)
class Summary:
    """What a dashboard shows: ``shown`` false means too few answers for a score."""

    responses: int
    closed: int
    min_responses: int
    ikm: float | None
    grade: str | None

    @property
    def shown(self) -> bool:
        return self.ikm is not None

    @property
    def response_rate(self) -> float | None:
        """Responses ÷ closed cases, 0..1 (capped: a late index can lag the survey store)."""
        return min(self.responses / self.closed, 1.0) if self.closed else None


def summary(totals: Totals, closed: int, min_responses: int) -> Summary:
    """The dashboard's SKM figures; score and grade only from ``min_responses`` answers up."""
    value = ikm(totals) if totals.count >= max(min_responses, 1) else None
    return Summary(totals.count, closed, min_responses, value,
                   grade(value) if value is not None else None)
