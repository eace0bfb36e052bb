"""Comparison across jurisdictions (and across the departments of one), Ombudsman-style.

How the figures are computed (the portal's "Cara menghitung" section says the same):

* The **period** is the last ``days`` days before ``now`` (default 90); the **previous period**
  the ``days`` before that. A case belongs to a period when it was *closed* in it
  (``closed_at``, any final status).
* **Completed** = closed with status ``selesai``. **Share within the legal maximum** = completed
  cases with ``sla_met`` / completed. **Median / P90** = ``percentiles`` of
  ``working_days_elapsed`` of the completed cases (Elasticsearch's percentiles are approximate
  — TDigest — exact for small counts).
* **Late-reported share** = cases closed in the period with ``late_reported`` (some step was
  reported to Pantau later than the tolerance allows) / cases closed in the period.
* **Open overdue** = cases open *now* and past their legal maximum (a snapshot, not a period).
* **Fair volume**: an entry with fewer than ``min_cases`` completed cases in the period is
  marked too few and not ranked.
* **Rank**: by share within the legal maximum (higher first), then median (lower first); equal
  figures share a rank.
* **Trend** (this period vs the previous one, on the share within the legal maximum): ``up``
  (better) when it rose by at least ``TREND_STEP`` (2 percentage points), ``down`` when it fell
  by as much, ``flat`` in between; ``unknown`` unless both periods have ``min_cases`` completed.

Everything is one ``_search`` with aggregations (filters, date ranges, percentiles) — no
documents are loaded.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from pantau_publishing.domain.labels import BilingualLabel

DEFAULT_DAYS = 90
DEFAULT_MIN_CASES = 20
TREND_STEP = 0.02
TRENDS = ("up", "down", "flat", "unknown")


@dataclass(frozen=True)
class Window:
    now: datetime
    days: int = DEFAULT_DAYS

    @property
    def current(self) -> tuple[datetime, datetime]:
        return self.now - timedelta(days=self.days), self.now

    @property
    def previous(self) -> tuple[datetime, datetime]:
        return self.now - timedelta(days=2 * self.days), self.now - timedelta(days=self.days)


@dataclass(frozen=True)
class Period:
    """What one period's closed cases show."""

    closed: int = 0
    completed: int = 0
    within: int = 0  # completed within the legal maximum
    median_days: float | None = None
    p90_days: float | None = None
    late_reported: int = 0  # closed cases with a step reported late

    @property
    def sla_share(self) -> float | None:
        return self.within / self.completed if self.completed else None

    @property
    def late_share(self) -> float | None:
        return self.late_reported / self.closed if self.closed else None


@dataclass(frozen=True)
class Entry(BilingualLabel):
    code: str
    label: str
    current: Period
    previous: Period
    overdue_open: int
    label_en: str | None = None
    enough: bool = False  # at least min_cases completed in the period
    rank: int | None = None
    trend: str = "unknown"

    def as_dict(self) -> dict[str, Any]:
        now = self.current
        return {"code": self.code, "label": self.label, "label_en": self.label_en or self.label,
                "rank": self.rank, "enough_cases": self.enough, "trend": self.trend,
                "closed": now.closed, "completed": now.completed,
                "share_within_legal_maximum": now.sla_share,
                "median_working_days": now.median_days, "p90_working_days": now.p90_days,
                "open_overdue": self.overdue_open, "late_reported_share": now.late_share,
                "previous": {"completed": self.previous.completed,
                             "share_within_legal_maximum": self.previous.sla_share}}


def _period(bounds: tuple[datetime, datetime]) -> dict[str, Any]:
    low, high = bounds
    return {"filter": {"range": {"closed_at": {"gte": low.isoformat(), "lt": high.isoformat()}}},
            "aggs": {
                "completed": {"filter": {"term": {"status": "selesai"}}, "aggs": {
                    "days": {"percentiles": {"field": "working_days_elapsed",
                                             "percents": [50, 90]}},
                    "within": {"filter": {"term": {"sla_met": True}}}}},
                "late": {"filter": {"term": {"late_reported": True}}}}}


def comparison_body(window: Window, jurisdiction: str | None = None) -> dict[str, Any]:
    """Jurisdictions side by side, or the departments of ``jurisdiction``."""
    group, label, label_en = (("department_code", "department_name.id.raw",
                               "department_name.en.raw") if jurisdiction else
                              ("jurisdiction_code", "jurisdiction_name.raw", None))
    aggs: dict[str, Any] = {
        "current": _period(window.current), "previous": _period(window.previous),
        "overdue_open": {"filter": {"bool": {"filter": [{"term": {"open": True}},
                                                        {"term": {"overdue": True}}]}}},
        "label": {"terms": {"field": label, "size": 1}}}
    if label_en:
        aggs["label_en"] = {"terms": {"field": label_en, "size": 1}}
    filters = [{"term": {"jurisdiction_code": jurisdiction}}] if jurisdiction else []
    return {"size": 0, "query": {"bool": {"filter": filters}},
            "aggs": {"rows": {"terms": {"field": group, "size": 200}, "aggs": aggs}}}


def _parse_period(agg: dict[str, Any]) -> Period:
    completed = agg["completed"]
    values = completed["days"].get("values", {})
    return Period(closed=int(agg["doc_count"]), completed=int(completed["doc_count"]),
                  within=int(completed["within"]["doc_count"]),
                  median_days=_num(values.get("50.0")), p90_days=_num(values.get("90.0")),
                  late_reported=int(agg["late"]["doc_count"]))


def parse_comparison(aggs: dict[str, Any], min_cases: int = DEFAULT_MIN_CASES) -> list[Entry]:
    entries = []
    for bucket in aggs.get("rows", {}).get("buckets", []):
        labels = bucket.get("label", {}).get("buckets", [])
        labels_en = bucket.get("label_en", {}).get("buckets", [])
        entries.append(Entry(
            str(bucket["key"]), str(labels[0]["key"]) if labels else str(bucket["key"]),
            _parse_period(bucket["current"]), _parse_period(bucket["previous"]),
            int(bucket["overdue_open"]["doc_count"]),
            str(labels_en[0]["key"]) if labels_en else None))
    return rank(entries, min_cases)


def trend(current: Period, previous: Period, min_cases: int = DEFAULT_MIN_CASES) -> str:
    if current.completed < min_cases or previous.completed < min_cases:
        return "unknown"
    change = (current.sla_share or 0.0) - (previous.sla_share or 0.0)
    if change >= TREND_STEP - 1e-9:
        return "up"
    if change <= -TREND_STEP + 1e-9:
        return "down"
    return "flat"


def _key(entry: Entry) -> tuple[float, float]:
    share = entry.current.sla_share or 0.0
    median = entry.current.median_days
    return (-share, median if median is not None else float("inf"))


def rank(entries: list[Entry], min_cases: int = DEFAULT_MIN_CASES) -> list[Entry]:
    """Ranked entries first (best first, equal figures share a rank), then the ones with too
    few cases (by name)."""
    marked = [replace(e, enough=e.current.completed >= min_cases,
                      trend=trend(e.current, e.previous, min_cases)) for e in entries]
    ranked = sorted((e for e in marked if e.enough), key=lambda e: (_key(e), e.label))
    keys = [_key(e) for e in ranked]
    out = [replace(e, rank=1 + sum(1 for k in keys if k < _key(e))) for e in ranked]
    return out + sorted((e for e in marked if not e.enough), key=lambda e: e.label)


def _num(value: Any) -> float | None:
    return None if value is None else round(float(value), 1)
