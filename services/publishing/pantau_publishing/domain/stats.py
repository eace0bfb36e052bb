"""Dashboard statistics: performance of a jurisdiction, department or service.

Computed with core aggregations only: counts, ``percentiles`` of working days for completed cases,
the share completed within the legal maximum (from the derived ``sla_met`` flag), the backlog
of open cases by calendar age (``date_range`` with date math on ``submitted_at``) and how
promptly departments report: the share of *events* (public timeline entries of every case in
scope) reported within the tolerance (``sum`` of the derived ``entry_count`` and
``late_entry_count``) and the median reporting delay in working days (``percentiles`` over the
derived flat array ``reporting_delays``: one value per event, so it is the median over events,
not over cases).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from pantau_publishing.domain.labels import BilingualLabel
from pantau_publishing.domain.places import Place

SCOPES = {"jurisdiction": "jurisdiction_code", "department": "department_code",
          "service": "service_code"}
BREAKDOWN = {"": "jurisdiction_code", "jurisdiction": "department_code",
             "department": "service_code", "service": "status"}
"""For a place's level, which field the per-row breakdown groups by (one level down): the rows of
a place are always within its jurisdiction, so same-code departments of two jurisdictions are
never one row."""

AGE_BUCKETS: tuple[tuple[str, int | None, int | None], ...] = (
    ("0-7", 7, None),
    ("8-14", 14, 7),
    ("15-30", 30, 14),
    ("31-60", 60, 30),
    (">60", None, 60),
)
"""Backlog age buckets in calendar days since submission: (key, from, to) in days before
today (UTC), each bound at the start of that day — what ``now-7d/d`` meant, written as a
date: a body with ``now`` in it is never cached by Elasticsearch's shard request cache, one
with today's date is, all day."""


@dataclass(frozen=True)
class Stats:
    received: int
    completed: int
    open: int
    overdue_open: int
    median_days: float | None
    p90_days: float | None
    sla_share: float | None  # completed within the legal maximum / completed, 0..1
    backlog: tuple[tuple[str, int], ...]
    events: int = 0  # reported events (public timeline entries) of the cases in scope
    late_events: int = 0  # of those, reported later than the tolerance allows
    median_reporting_delay: float | None = None  # working days, median over events

    @property
    def reported_on_time_share(self) -> float | None:
        """Events reported within the tolerance / events, 0..1 (``None`` without events)."""
        return (self.events - self.late_events) / self.events if self.events else None

    def as_dict(self) -> dict[str, Any]:
        return {"received": self.received, "completed": self.completed, "open": self.open,
                "overdue_open": self.overdue_open, "median_working_days": self.median_days,
                "p90_working_days": self.p90_days, "share_within_legal_maximum": self.sla_share,
                "backlog_by_age_days": dict(self.backlog),
                "events_reported": self.events, "events_reported_late": self.late_events,
                "share_reported_within_tolerance": self.reported_on_time_share,
                "median_reporting_delay_working_days": self.median_reporting_delay}


@dataclass(frozen=True)
class StatsRow(BilingualLabel):
    code: str
    label: str
    stats: Stats
    label_en: str | None = None


def _age_range(key: str, low: int | None, high: int | None, today: date) -> dict[str, str]:
    """One backlog bucket: submitted from ``low`` days before today up to ``high``."""
    found = {"key": key}
    for name, days in (("from", low), ("to", high)):
        if days is not None:
            found[name] = (today - timedelta(days=days)).isoformat()
    return found


def _stat_aggs(today: date) -> dict[str, Any]:
    return {
        "completed": {"filter": {"term": {"status": "selesai"}}, "aggs": {
            "days": {"percentiles": {"field": "working_days_elapsed", "percents": [50, 90]}},
            "sla": {"terms": {"field": "sla_met", "size": 2}},
        }},
        "open": {"filter": {"term": {"open": True}}, "aggs": {
            "overdue": {"filter": {"term": {"overdue": True}}},
            "age": {"date_range": {"field": "submitted_at", "keyed": True, "ranges": [
                _age_range(key, low, high, today) for key, low, high in AGE_BUCKETS]}},
        }},
        "events": {"sum": {"field": "entry_count"}},
        "late_events": {"sum": {"field": "late_entry_count"}},
        "reporting_delay": {"percentiles": {"field": "reporting_delays", "percents": [50]}},
    }


def stats_body(place: Place, today: date) -> dict[str, Any]:
    """``_search`` body: totals for the place and one row per entity one level down; the
    backlog's ages counted from ``today`` (UTC)."""
    group = BREAKDOWN[place.level]
    label_field, label_en_field = {
        "jurisdiction_code": ("jurisdiction_name.raw", None),
        "department_code": ("department_name.id.raw", "department_name.en.raw"),
        "service_code": ("service_name.id.raw", "service_name.en.raw")}.get(group, (None, None))
    rows: dict[str, Any] = {"terms": {"field": group, "size": 100}, "aggs": _stat_aggs(today)}
    if label_field:
        rows["aggs"]["label"] = {"terms": {"field": label_field, "size": 1}}
    if label_en_field:
        rows["aggs"]["label_en"] = {"terms": {"field": label_en_field, "size": 1}}
    return {"size": 0, "track_total_hits": True,
            "query": {"bool": {"filter": place.filters()}},
            "aggs": {**_stat_aggs(today), "rows": rows}}


def parse_stats(aggs: dict[str, Any], total: int) -> Stats:
    completed = aggs["completed"]
    values = completed["days"].get("values", {})
    sla = {b.get("key_as_string", str(b["key"])): b["doc_count"]
           for b in completed["sla"]["buckets"]}
    met, missed = sla.get("true", 0), sla.get("false", 0)
    age = aggs["open"]["age"]["buckets"]
    events = int(aggs.get("events", {}).get("value") or 0)
    delay = aggs.get("reporting_delay", {}).get("values", {})
    return Stats(
        received=total, completed=int(completed["doc_count"]), open=int(aggs["open"]["doc_count"]),
        overdue_open=int(aggs["open"]["overdue"]["doc_count"]),
        median_days=_num(values.get("50.0")), p90_days=_num(values.get("90.0")),
        sla_share=(met / (met + missed)) if met + missed else None,
        backlog=tuple((key, int(age.get(key, {}).get("doc_count", 0)))
                      for key, _low, _high in AGE_BUCKETS),
        events=events,
        late_events=min(int(aggs.get("late_events", {}).get("value") or 0), events),
        median_reporting_delay=_num(delay.get("50.0")) if events else None)


def parse_rows(aggs: dict[str, Any]) -> list[StatsRow]:
    rows = []
    for bucket in aggs["rows"]["buckets"]:
        labels = bucket.get("label", {}).get("buckets", [])
        labels_en = bucket.get("label_en", {}).get("buckets", [])
        rows.append(StatsRow(str(bucket["key"]), str(labels[0]["key"]) if labels
                             else str(bucket["key"]), parse_stats(bucket, bucket["doc_count"]),
                             str(labels_en[0]["key"]) if labels_en else None))
    return rows


def _num(value: Any) -> float | None:
    return None if value is None else round(float(value), 1)
