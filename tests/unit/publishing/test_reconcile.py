"""Reconciliation of tracking's record with the index, on summaries (no servers)."""

from __future__ import annotations

from pantau_publishing.domain.record import case_document, clean_case
from pantau_publishing.service.reconcile import Summary, reconcile
from tests.unit.publishing.factories import public_case


def summary(receipt: str, revision: int = 1, entries: int | None = None) -> Summary:
    return Summary(receipt, revision, tuple(range(1, (revision if entries is None else entries)
                                                  + 1)))


def test_equal_sides() -> None:
    cases = [summary(f"BDG-{i:04d}", revision=i % 3 + 1) for i in range(10)]
    report = reconcile(cases, list(reversed(cases)), index_changes=sum(len(c.seqs)
                                                                        for c in cases))
    assert report.equal
    assert report.as_dict() == {
        "equal": True, "tracking": 10, "index": 10, "missing": [], "extra": [], "stale": [],
        "counts": {"missing": 0, "extra": 0, "stale": 0},
        "changes": {"tracking": 19, "index": 19}, "limit": 100}


def test_missing_extra_and_stale_are_named_and_counted() -> None:
    tracking = [summary("A-0001", 2), summary("A-0002"), summary("A-0003", 3), summary("A-0004")]
    index = [summary("A-0001", 2), summary("A-0003", 2), summary("A-0004", 1, entries=2),
             summary("Z-0009")]
    report = reconcile(tracking, index, index_changes=7)
    assert not report.equal
    assert report.missing == ["A-0002"] and report.extra == ["Z-0009"]
    assert report.stale == [
        {"receipt_number": "A-0003", "tracking_revision": 3, "index_revision": 2,
         "tracking_entries": 3, "index_entries": 2},
        {"receipt_number": "A-0004", "tracking_revision": 1, "index_revision": 1,
         "tracking_entries": 1, "index_entries": 2}]  # a duplicated timeline entry
    assert (report.tracking, report.index) == (4, 4)


def test_lists_are_capped_counts_are_not() -> None:
    tracking = [summary(f"M-{i:04d}") for i in range(250)]
    report = reconcile(tracking, [], limit=5)
    assert report.missing == [f"M-{i:04d}" for i in range(5)]
    assert report.missing_count == 250 and not report.equal


def test_a_changes_count_that_differs_is_not_equal() -> None:
    cases = [summary("C-0001", 3)]
    assert not reconcile(cases, cases, index_changes=2).equal
    assert reconcile(cases, cases, index_changes=None).equal  # not counted: not compared


def test_summaries_of_a_record_and_of_its_index_document_agree() -> None:
    record = public_case("BDG-PBG-2026-000777", revision=3)
    assert Summary.of(record) == Summary.of(case_document(clean_case(record)))
    assert Summary.of(record) == Summary("BDG-PBG-2026-000777", 3, (1, 2, 3))
