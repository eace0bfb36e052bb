"""What a rebuild writes per chosen index (no Elasticsearch: the planning part only)."""

from __future__ import annotations

from typing import Any, cast

import pytest
from elasticsearch import Elasticsearch

from pantau_publishing.adapters.search.client import Aliases
from pantau_publishing.adapters.search.rebuild import _newer, plan, rebuild
from pantau_publishing.domain.record import clean_case
from pantau_publishing.service.indexing import index_actions
from tests.unit.publishing.factories import public_case


def test_both_targets_get_the_case_and_one_change_per_timeline_entry() -> None:
    case = clean_case(public_case("BDG-PBG-2026-000007", revision=3, note="lihat 0812-3456-7890"))
    actions = index_actions(case, ("cases", "changes"))
    assert [(a.target, a.doc_id) for a in actions] == [
        ("cases", "BDG-PBG-2026-000007"), ("changes", "BDG-PBG-2026-000007-00001"),
        ("changes", "BDG-PBG-2026-000007-00002"), ("changes", "BDG-PBG-2026-000007-00003")]
    # external versions as the indexer writes them: the case's revision, each entry's seq
    assert [a.version for a in actions] == [3, 1, 2, 3]
    assert "0812" not in str(actions[-1].document["note"])  # re-redacted on the way in


def test_one_target_only() -> None:
    case = clean_case(public_case(revision=2))
    assert {a.target for a in index_actions(case, ("changes",))} == {"changes"}
    assert [a.target for a in index_actions(case, ("cases",))] == ["cases"]


@pytest.mark.parametrize("targets", [(), ("feeds",), ("cases", "cases", "everything")])
def test_unknown_targets_are_refused_before_touching_the_cluster(targets: Any) -> None:
    untouchable = cast(Elasticsearch, object())  # any call on it would raise AttributeError
    with pytest.raises(ValueError, match="targets"):
        rebuild(untouchable, Aliases(), [], targets=targets)


def test_catch_up_reads_only_cases_newer_than_the_fill_or_missing_from_it() -> None:
    old = [("A-0001", 3), ("A-0002", 2), ("A-0003", 5), ("A-0005", 1), ("A-0009", 1)]
    new = [("A-0001", 3), ("A-0002", 1), ("A-0003", 6), ("A-0004", 1), ("A-0009", 1)]
    # A-0002: a newer revision written meanwhile; A-0005: opened after the snapshot
    assert list(_newer(old, new)) == ["A-0002", "A-0005"]
    assert list(_newer(old, [])) == [r for r, _ in old]
    assert list(_newer([], new)) == []


def test_plan_is_the_allowlist_builder_and_skips_invalid_records() -> None:
    record = public_case("BDG-PBG-2026-000007", revision=2)
    planned = plan(record, ("cases", "changes"))
    assert planned.actions == tuple(index_actions(clean_case(record), ("cases", "changes")))
    assert plan({**record, "receipt_number": "not a receipt"}, ("cases",)).actions is None
