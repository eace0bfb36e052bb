"""The search adapter on the real Elasticsearch: versions, tombstones, search, facets, races,
rebuild of the cases and changes indices with alias swap (and the feed reading the result)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pantau_contracts.catalogue import load_catalogue
from pantau_publishing.adapters.catalogue_names import CatalogueNames
from pantau_publishing.adapters.search.bootstrap import alias_indices, bootstrap, ensure_alias
from pantau_publishing.adapters.search.client import Aliases
from pantau_publishing.adapters.search.rebuild import rebuild
from pantau_publishing.adapters.search.store import EsCaseReader, EsSearchIndex
from pantau_publishing.domain.query import parse_query
from pantau_publishing.portal.app import create_app
from pantau_publishing.service.indexing import IndexBatch, IndexReport
from pantau_publishing.service.ports import ReceivedMessage
from pantau_publishing.service.records import PublicRecords
from pantau_publishing.service.written_entries import WrittenEntries
from pantau_publishing.settings import PublishingSettings
from tests.conftest import wait_for
from tests.integration.publishing.conftest import SearchStack
from tests.unit.publishing.factories import case_updated, public_case


def index_records(search: SearchStack, *records: dict[str, Any]) -> IndexReport:
    outcome = IndexBatch(EsSearchIndex(search.es, search.aliases)).handle(
        [ReceivedMessage(case_updated(r)) for r in records])
    search.refresh()
    return outcome


def records_of(search: SearchStack) -> PublicRecords:
    return PublicRecords(EsCaseReader(search.es, search.aliases),
                         names=CatalogueNames(load_catalogue()))


def test_an_older_revision_never_regresses_the_record(search: SearchStack) -> None:
    index_records(search, public_case(revision=3))
    outcome = index_records(search, public_case(revision=2), public_case(revision=3))
    assert not outcome.failures  # conflicts are expected, not errors
    case = records_of(search).case("BDG-PBG-2026-000123")
    assert case is not None and case.revision == 3 and case.status.value == "diproses"


def test_each_update_writes_only_its_new_feed_entries(search: SearchStack) -> None:
    for revision in (1, 2, 3):
        assert not index_records(search, public_case(revision=revision)).failures
    hits = search.es.search(index=search.aliases.changes, version=True,
                            query={"term": {"receipt_number": "BDG-PBG-2026-000123"}},
                            sort=[{"seq": "asc"}])["hits"]["hits"]
    # external version = the entry's seq: entry 1 was written once, not again by updates 2 and 3
    assert [(hit["_source"]["seq"], hit["_version"]) for hit in hits] == [(1, 1), (2, 2), (3, 3)]


def test_the_indexer_remembers_what_it_wrote_and_notices_a_swapped_alias(
        search: SearchStack) -> None:
    """With the memory (``service.written_entries``) an update sends only its new entry; when
    the alias is moved to a new index that lacks the earlier entries (a rebuild's catch-up that
    missed them), the next update writes the case's whole timeline there."""
    index, memory = EsSearchIndex(search.es, search.aliases), WrittenEntries()
    receipt = "BDG-PBG-2026-000123"
    (first,) = alias_indices(search.es, search.aliases.changes)
    for revision in (1, 2):
        assert not IndexBatch(index, memory).handle(
            [ReceivedMessage(case_updated(public_case(receipt, revision=revision)))]).failures
    assert memory.get(receipt) == (first, 2)
    moved = f"{first}-moved"
    search.es.indices.create(index=moved)
    search.es.indices.update_aliases(actions=[
        {"remove": {"index": first, "alias": search.aliases.changes}},
        {"add": {"index": moved, "alias": search.aliases.changes}}])
    try:
        assert not IndexBatch(index, memory).handle(
            [ReceivedMessage(case_updated(public_case(receipt, revision=3)))]).failures
        search.refresh()
        hits = search.es.search(index=search.aliases.changes,
                                query={"term": {"receipt_number": receipt}},
                                sort=[{"seq": "asc"}])["hits"]["hits"]
        assert [hit["_source"]["seq"] for hit in hits] == [1, 2, 3]
        assert memory.get(receipt) == (moved, 3)
    finally:
        search.es.indices.delete(index=first, ignore_unavailable=True)


def test_withdrawn_case_stays_as_a_tombstone(search: SearchStack) -> None:
    index_records(search, public_case(revision=2))
    index_records(search, public_case(revision=3, steps=2, withdrawn=True))
    case = records_of(search).case("BDG-PBG-2026-000123")
    assert case is not None and case.withdrawn and case.status.value == "dibatalkan"
    found = records_of(search).search(parse_query({"status": "dibatalkan"}))
    assert [c.receipt_number for c in found.cases] == ["BDG-PBG-2026-000123"]


def test_search_facets_paging_and_changes(search: SearchStack) -> None:
    index_records(search, *[
        public_case(f"BDG-PBG-2026-{i:06d}", revision=1 + i % 4, kecamatan=kec,
                    overdue=i % 3 == 0, department=dept, service=svc)
        for i, (kec, dept, svc) in enumerate([("Coblong", "dpmptsp", "pbg"),
                                              ("Coblong", "dpmptsp", "pbg"),
                                              ("Sukajadi", "dpmptsp", "slf"),
                                              ("Sukajadi", "disdukcapil", "ktp"),
                                              ("Cibeunying", "disdukcapil", "kk")], start=1)])
    service = records_of(search)
    everything = service.search(parse_query({"q": "kota bandung"}))
    assert everything.total == 5
    counts = {b.value: b.count for b in everything.facets["kecamatan"]}
    assert counts == {"Coblong": 2, "Sukajadi": 2, "Cibeunying": 1}
    labels = {b.value: b.label for b in everything.facets["department"]}
    # codes repeat across jurisdictions: a facet value names both, the label says where (the
    # catalogue's names, as the portal's; the index's are not aggregated)
    assert labels["kota-bandung/dpmptsp"] == \
        "Dinas Penanaman Modal dan Pelayanan Terpadu Satu Pintu (Kota Bandung)"
    narrowed = service.search(parse_query({"q": "coblong", "department": "dpmptsp"}))
    assert narrowed.total == 2
    page2 = service.search(parse_query({"sort": "nomor", "size": "2", "page": "2",
                                        "jurisdiction": "kota-bandung"}))
    assert [c.receipt_number for c in page2.cases] == ["BDG-PBG-2026-000003",
                                                       "BDG-PBG-2026-000004"]
    assert service.search(parse_query({"q": "BDG-PBG-2026-000005"})).cases[0].service_code == "kk"
    changes = service.changes("case", "BDG-PBG-2026-000003")  # revision 4: four entries
    assert [c["seq"] for c in changes] == [4, 3, 2, 1]
    board = service.dashboard()
    assert board.totals.received == 5 and board.rows[0].code == "kota-bandung"
    assert [c.receipt_number for c in service.export(parse_query({"service": "pbg"}))] == [
        "BDG-PBG-2026-000001", "BDG-PBG-2026-000002"]


def test_concurrent_bootstrap_leaves_one_index_per_alias(search: SearchStack) -> None:
    fresh = Aliases(search.aliases.cases + "-race", search.aliases.changes + "-race")
    errors: list[BaseException] = []

    def run() -> None:
        try:
            ensure_alias(search.es, fresh.cases)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert not errors
        assert len(alias_indices(search.es, fresh.cases)) == 1
    finally:
        for index in search.es.indices.get(index=f"{fresh.cases}-*"):
            search.es.indices.delete(index=index)


def change_ids(search: SearchStack, index: str) -> list[str]:
    search.es.indices.refresh(index=index)
    hits = search.es.search(index=index, size=1000, sort=[{"receipt_number": "asc"},
                                                           {"seq": "asc"}])["hits"]["hits"]
    return [hit["_id"] for hit in hits]


def entry_ids(*records: dict[str, Any]) -> list[str]:
    return sorted(f"{r['receipt_number']}-{e['seq']:05d}" for r in records for e in r["timeline"])


def test_rebuild_swaps_both_aliases_and_keeps_newer_writes(search: SearchStack) -> None:
    index_records(search, public_case("BDG-PBG-2026-000001", revision=2),
                  public_case("BDG-PBG-2026-000002", revision=5, note="tulisan langsung"))
    old_cases = alias_indices(search.es, search.aliases.cases)
    old_changes = alias_indices(search.es, search.aliases.changes)
    live = public_case("BDG-PBG-2026-000003", revision=3)

    def source() -> Iterator[dict[str, Any]]:
        yield public_case("BDG-PBG-2026-000001", revision=3)
        index_records(search, live)  # the indexer writes through the old aliases meanwhile
        # older than what was indexed: one timeline entry fewer (entries are append-only)
        yield public_case("BDG-PBG-2026-000002", revision=4, steps=3)
        yield public_case("BDG-PBG-2026-000003", revision=1)  # older than the live write
        yield {"receipt_number": "broken"}

    report = rebuild(search.es, search.aliases, source())
    cases, changes = report.swap("cases"), report.swap("changes")
    assert report.indexed == 3 and report.skipped == 1
    assert cases.caught_up == 2 and cases.documents == 3  # 000002 rev 5 and 000003 rev 3
    # change documents are versioned by seq: catch-up adds only the entries the fill lacked
    # (000002's 4th, 000003's 2nd and 3rd); the entries the fill already had are conflicts
    assert changes.documents == 3 + 3 + 1 and changes.caught_up == 1 + 2 and not changes.failed
    assert alias_indices(search.es, search.aliases.cases) == [cases.new_index]
    assert alias_indices(search.es, search.aliases.changes) == [changes.new_index]
    assert cases.old_indices == tuple(old_cases) and changes.old_indices == tuple(old_changes)
    for index in old_cases + old_changes:
        assert not search.es.indices.exists(index=index)
    service = records_of(search)
    assert service.revision("BDG-PBG-2026-000001") == 3
    assert service.revision("BDG-PBG-2026-000002") == 5  # the newer live write survived
    assert service.revision("BDG-PBG-2026-000003") == 3
    assert change_ids(search, search.aliases.changes) == entry_ids(
        public_case("BDG-PBG-2026-000001", revision=3), public_case("BDG-PBG-2026-000002",
                                                                   revision=5), live)
    newest = service.changes("case", "BDG-PBG-2026-000002", limit=1)[0]
    assert newest["seq"] == 4 and newest["note"] == "tulisan langsung"  # revision 5's entry
    bootstrap(search.es, search.aliases)  # idempotent after a rebuild
    assert alias_indices(search.es, search.aliases.cases) == [cases.new_index]
    assert alias_indices(search.es, search.aliases.changes) == [changes.new_index]


def test_rebuild_of_a_lost_changes_index_restores_the_feed(search: SearchStack) -> None:
    """The changes index was deleted; the indexer's next write auto-created a dynamically
    mapped index *named like the alias*. ``--only changes`` replaces it atomically."""
    records = [public_case(f"LOST-{i:04d}-2026", revision=i) for i in range(1, 4)]
    index_records(search, *records)
    cases_before = alias_indices(search.es, search.aliases.cases)
    for index in alias_indices(search.es, search.aliases.changes):
        search.es.indices.delete(index=index)
    index_records(search, public_case("LOST-0004-2026", revision=2))
    assert search.es.indices.exists(index=search.aliases.changes)  # a squatter, not an alias
    report = rebuild(search.es, search.aliases, records, targets=("changes",))
    changes = report.swap("changes")
    assert [s.target for s in report.swaps] == ["changes"]
    assert alias_indices(search.es, search.aliases.changes) == [changes.new_index]
    assert alias_indices(search.es, search.aliases.cases) == cases_before  # untouched
    assert changes.documents == 1 + 2 + 3 and changes.caught_up == 2  # LOST-0004 from cases
    assert change_ids(search, search.aliases.changes) == entry_ids(
        *records, public_case("LOST-0004-2026", revision=2))
    mapping = search.es.indices.get_mapping(index=changes.new_index)[changes.new_index]
    assert mapping["mappings"]["dynamic"] == "strict"  # the template's mapping, not dynamic


def test_a_failed_rebuild_leaves_the_aliases_serving_and_no_new_index(
        search: SearchStack) -> None:
    index_records(search, public_case("FAIL-0001-2026", revision=2))
    before = {alias: alias_indices(search.es, alias)
              for alias in (search.aliases.cases, search.aliases.changes)}

    def source() -> Iterator[dict[str, Any]]:
        yield public_case("FAIL-0001-2026", revision=2)
        raise TimeoutError("tracking stopped answering")  # e.g. an RPC timeout mid-way

    with pytest.raises(TimeoutError):
        rebuild(search.es, search.aliases, source(), batch=1)
    for alias, indices in before.items():
        assert alias_indices(search.es, alias) == indices
        assert sorted(search.es.indices.get(index=f"{alias}-*")) == indices  # none left over
    assert records_of(search).changes("case", "FAIL-0001-2026")  # the feed still answers


def test_rebuild_command_pulls_from_tracking_over_rpc(
        search: SearchStack, amqp_url: str, tmp_path: Path,
        start_service: Callable[..., Any]) -> None:
    index_records(search, public_case("RB-0001-2026", revision=1))
    old = alias_indices(search.es, search.aliases.cases)
    old_changes = alias_indices(search.es, search.aliases.changes)
    records = [public_case(f"RB-{i:04d}-2026", revision=2) for i in range(1, 6)]
    (tmp_path / "records.json").write_text(json.dumps(records))
    name = f"ptest_tracking_{uuid.uuid4().hex[:8]}"
    fake = start_service("tests.integration.publishing.fake_tracking", FAKE_TRACKING_NAME=name,
                         FAKE_TRACKING_RECORDS=str(tmp_path / "records.json"))
    wait_for(lambda: "fake tracking ready" in fake.log(), timeout=20, message="fake tracking")
    result = subprocess.run(
        [sys.executable, "-m", "pantau_tools.rebuild", "--service", name,
         "--page-size", "2", "--rpc-timeout", "20"],
        env={**os.environ, "PANTAU_AMQP_URL": amqp_url, **search.env},
        capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "5 records" in result.stdout and "10 timeline entries" in result.stdout
    assert "rebuild" in result.stderr  # the progress bar (tqdm writes to stderr)
    new = alias_indices(search.es, search.aliases.cases)
    assert new != old and len(new) == 1
    service = records_of(search)
    assert [service.revision(f"RB-{i:04d}-2026") for i in range(1, 6)] == [2] * 5
    new_changes = alias_indices(search.es, search.aliases.changes)
    assert len(new_changes) == 1 and new_changes != old_changes
    assert not search.es.indices.exists(index=old_changes[0])
    assert change_ids(search, new_changes[0]) == entry_ids(*records)  # every timeline entry
    with TestClient(create_app(PublishingSettings(), records_of(search))) as client:
        feed = client.get("/feed.json")
    assert feed.status_code == 200
    assert sorted(item["id"] for item in feed.json()["items"]) == sorted(
        f"urn:pantau:case:{r['receipt_number']}:{e['seq']}" for r in records
        for e in r["timeline"])
