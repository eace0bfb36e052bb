"""Reconciliation: does the public index say what tracking's record says? — plain Python.

Each side is reduced to one ``Summary`` per case: its receipt number, its revision and the
``seq`` of every public timeline entry. ``reconcile`` compares them:

* ``missing`` — in tracking's record, not in the index;
* ``extra`` — in the index, not in tracking's record;
* ``stale`` — in both, but with another revision or other timeline entries (a lost update, a
  duplicate or missing entry);
* ``changes`` — one change document per timeline entry: tracking's entry total against the
  changes index's document count (a count only; the cases index above names the cases).

Counts are complete, the lists are capped at ``limit`` (sorted by receipt number). Tracking's
side is held in memory as one small tuple per case while the index is streamed past it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Summary:
    """What reconciliation compares of one case."""

    receipt_number: str
    revision: int
    seqs: tuple[int, ...]

    @classmethod
    def of(cls, record: Mapping[str, Any]) -> Summary:
        """From a public record or a case document (``receipt_number``, ``revision``,
        ``timeline[].seq``)."""
        timeline = record.get("timeline") or ()
        return cls(str(record["receipt_number"]), int(record.get("revision") or 0),
                   tuple(int(entry.get("seq") or 0) for entry in timeline))


@dataclass
class Report:
    tracking: int = 0
    index: int = 0
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    stale: list[dict[str, Any]] = field(default_factory=list)
    missing_count: int = 0
    extra_count: int = 0
    stale_count: int = 0
    tracking_entries: int = 0
    index_changes: int | None = None  # None: the changes index was not counted
    limit: int = 100

    @property
    def equal(self) -> bool:
        changes_agree = self.index_changes is None or self.index_changes == self.tracking_entries
        return not (self.missing_count or self.extra_count or self.stale_count) and changes_agree

    def as_dict(self) -> dict[str, Any]:
        return {"equal": self.equal, "tracking": self.tracking, "index": self.index,
                "missing": self.missing, "extra": self.extra, "stale": self.stale,
                "counts": {"missing": self.missing_count, "extra": self.extra_count,
                           "stale": self.stale_count},
                "changes": {"tracking": self.tracking_entries, "index": self.index_changes},
                "limit": self.limit}


def reconcile(tracking: Iterable[Summary], index: Iterable[Summary], *,
              index_changes: int | None = None, limit: int = 100) -> Report:
    """Compare tracking's record with the index (see the module docstring)."""
    report = Report(limit=limit, index_changes=index_changes)
    expected: dict[str, tuple[int, tuple[int, ...]]] = {}
    for summary in tracking:
        report.tracking += 1
        report.tracking_entries += len(summary.seqs)
        expected[summary.receipt_number] = (summary.revision, summary.seqs)
    stale: list[dict[str, Any]] = []
    extra: list[str] = []
    for summary in index:
        report.index += 1
        wanted = expected.pop(summary.receipt_number, None)
        if wanted is None:
            report.extra_count += 1
            extra.append(summary.receipt_number)
            continue
        revision, seqs = wanted
        if revision != summary.revision or seqs != summary.seqs:
            report.stale_count += 1
            stale.append({"receipt_number": summary.receipt_number,
                          "tracking_revision": revision, "index_revision": summary.revision,
                          "tracking_entries": len(seqs), "index_entries": len(summary.seqs)})
    report.missing_count = len(expected)
    report.missing = sorted(expected)[:limit]
    report.extra = sorted(extra)[:limit]
    report.stale = sorted(stale, key=lambda s: str(s["receipt_number"]))[:limit]
    return report
