"""Statistics over time: per calendar month (in the jurisdiction's time zone) of one place.

* **received** — cases by the month they were *submitted* (``submitted_at``);
* **completed** — cases with status ``selesai`` by the month they were *closed* (``closed_at``),
  with the share of those within the legal maximum (``sla_met``) and their median working days
  (``percentiles`` of ``working_days_elapsed``).

Two ``date_histogram`` aggregations (``calendar_interval: month``, ``time_zone`` = the zone,
``extended_bounds`` so a month without cases is a zero row, not a gap), each under a filter that
starts at the first month shown. No documents are loaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from pantau_publishing.domain.places import Place

DEFAULT_MONTHS = 12
CSV_COLUMNS = ("month", "received", "completed", "completed_within_legal_maximum",
               "share_within_legal_maximum", "median_working_days")


def months(now: datetime, zone: str, count: int = DEFAULT_MONTHS) -> list[str]:
    """The last ``count`` months up to ``now``'s month in ``zone``, oldest first (``YYYY-MM``)."""
    local = now.astimezone(ZoneInfo(zone))
    index = local.year * 12 + local.month - 1
    return [f"{i // 12:04d}-{i % 12 + 1:02d}" for i in range(index - count + 1, index + 1)]


@dataclass(frozen=True)
class Month:
    month: str  # YYYY-MM
    received: int = 0
    completed: int = 0
    within: int = 0
    median_days: float | None = None

    @property
    def sla_share(self) -> float | None:
        return self.within / self.completed if self.completed else None

    def as_dict(self) -> dict[str, Any]:
        return {"month": self.month, "received": self.received, "completed": self.completed,
                "completed_within_legal_maximum": self.within,
                "share_within_legal_maximum": self.sla_share,
                "median_working_days": self.median_days}

    def csv_row(self) -> list[str]:
        """Plain numbers (a dot for decimals, no thousands separator) whatever the language."""
        share = "" if self.sla_share is None else f"{self.sla_share:.4f}"
        median = "" if self.median_days is None else f"{self.median_days:.1f}"
        return [self.month, str(self.received), str(self.completed), str(self.within), share,
                median]


def _histogram(field: str, shown: list[str], zone: str) -> dict[str, Any]:
    return {"date_histogram": {"field": field, "calendar_interval": "month", "time_zone": zone,
                               "format": "yyyy-MM", "min_doc_count": 0,
                               "extended_bounds": {"min": shown[0], "max": shown[-1]}}}


def _since(field: str, shown: list[str], zone: str) -> dict[str, Any]:
    return {"range": {field: {"gte": shown[0], "format": "yyyy-MM", "time_zone": zone}}}


def monthly_body(place: Place, shown: list[str], zone: str) -> dict[str, Any]:
    completed = _histogram("closed_at", shown, zone)
    completed["aggs"] = {
        "days": {"percentiles": {"field": "working_days_elapsed", "percents": [50]}},
        "within": {"filter": {"term": {"sla_met": True}}}}
    return {"size": 0, "query": {"bool": {"filter": place.filters()}}, "aggs": {
        "received": {"filter": _since("submitted_at", shown, zone),
                     "aggs": {"months": _histogram("submitted_at", shown, zone)}},
        "completed": {"filter": {"bool": {"filter": [
            {"term": {"status": "selesai"}}, _since("closed_at", shown, zone)]}},
            "aggs": {"months": completed}}}}


def parse_monthly(aggs: dict[str, Any], shown: list[str]) -> list[Month]:
    def buckets(name: str) -> dict[str, dict[str, Any]]:
        found = aggs.get(name, {}).get("months", {}).get("buckets", [])
        return {str(b.get("key_as_string", b["key"])): b for b in found}

    received, completed = buckets("received"), buckets("completed")
    rows = []
    for month in shown:
        done = completed.get(month, {})
        count = int(done.get("doc_count", 0))
        median = done.get("days", {}).get("values", {}).get("50.0") if count else None
        rows.append(Month(month, int(received.get(month, {}).get("doc_count", 0)), count,
                          int(done.get("within", {}).get("doc_count", 0)),
                          None if median is None else round(float(median), 1)))
    return rows
