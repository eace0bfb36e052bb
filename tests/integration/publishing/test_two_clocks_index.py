"""Both clocks on the real Elasticsearch: the mapping of the templates, the ``late_reported``
facet and filter, the reporting statistics (share within the tolerance, median delay over
steps), the feed ordered by the time Pantau received a step, an index from before the two
clocks brought up to date in place, and the indexer process taking case.updated v1 and v2."""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pantau_publishing.adapters.search.bootstrap import (
    TEMPLATES,
    alias_indices,
    bootstrap,
    drop,
    load_template,
)
from pantau_publishing.adapters.search.client import Aliases
from pantau_publishing.adapters.search.rebuild import rebuild
from pantau_publishing.adapters.search.store import EsCaseReader, EsSearchIndex
from pantau_publishing.domain.places import Place
from pantau_publishing.domain.query import parse_query
from pantau_publishing.portal.app import create_app
from pantau_publishing.service.indexing import IndexBatch
from pantau_publishing.service.ports import ReceivedMessage
from pantau_publishing.service.records import PublicRecords
from pantau_publishing.settings import PublishingSettings
from tests.conftest import WorkQueues, wait_for
from tests.integration.publishing.conftest import SearchStack
from tests.integration.publishing.test_indexer import get_source, publish
from tests.unit.publishing.factories import (
    BASE_TIME,
    case_updated,
    public_case,
    public_case_v1,
)


def index_records(search: SearchStack, *records: dict[str, Any]) -> None:
    outcome = IndexBatch(EsSearchIndex(search.es, search.aliases)).handle(
        [ReceivedMessage(case_updated(r)) for r in records])
    assert not outcome.failures, outcome.failures
    search.refresh()


def records_of(search: SearchStack) -> PublicRecords:
    return PublicRecords(EsCaseReader(search.es, search.aliases))


def mapping_of(search: SearchStack, alias: str) -> dict[str, Any]:
    (index,) = alias_indices(search.es, alias)
    properties: dict[str, Any] = search.es.indices.get_mapping(index=index)[index][
        "mappings"]["properties"]
    return properties


# Dashboard data. Tolerance 1 working day: a delay of 2 or more is late.
#   dpmptsp:     A [2, 2, 2, 4] (all late), B [1, 3, 0] (one late)  → 7 events, 5 late,
#                sorted [0, 1, 2, 2, 2, 3, 4]: median 2 (its neighbours are 2 as well)
#   disdukcapil: C, a version-1 record, [0, 0] (nothing late: v1 knew no better)
CASE_A = public_case("TWO-0001-2026", revision=4, delays={1: 2, 2: 2, 3: 2, 4: 4})
CASE_B = public_case("TWO-0002-2026", revision=3, delays={1: 1, 2: 3})
CASE_C = public_case_v1("TWO-0003-2026", revision=2, department="disdukcapil", service="ktp")


def test_templates_map_both_clocks_and_the_derived_facts(search: SearchStack) -> None:
    cases = mapping_of(search, search.aliases.cases)
    timeline = cases["timeline"]["properties"]
    assert {name: timeline[name]["type"] for name in (
        "at", "received_at", "counted_at", "late_reported", "reporting_delay_days")} == {
        "at": "date", "received_at": "date", "counted_at": "date", "late_reported": "boolean",
        "reporting_delay_days": "integer"}
    assert cases["late_reported"]["type"] == "boolean"
    assert cases["reporting_tolerance_days"]["type"] == "integer"
    assert {cases[n]["type"] for n in ("reporting_delays", "entry_count",
                                       "late_entry_count")} == {"integer"}
    changes = mapping_of(search, search.aliases.changes)
    assert changes["received_at"]["type"] == changes["counted_at"]["type"] == "date"
    assert changes["late_reported"]["type"] == "boolean"
    assert "script" not in json.dumps(load_template(TEMPLATES["cases"], "x"))
    analyzers = {f.get("analyzer") for f in cases.values() if isinstance(f, dict)} - {None}
    assert analyzers <= {"standard"}  # the integ-test-zip has no analysis-common


def test_the_clocks_of_the_steps_are_searchable(search: SearchStack) -> None:
    index_records(search, CASE_A, CASE_B, CASE_C)
    late_steps = search.es.count(index=search.aliases.cases,
                                 query={"term": {"timeline.late_reported": True}})["count"]
    assert late_steps == 2  # A and B have late steps (per case: an object array, not nested)
    received_late = search.es.count(index=search.aliases.cases, query={"range": {
        "timeline.received_at": {"gte": "2026-03-07T00:00:00Z"}}})["count"]
    assert received_late == 1  # only A's completion arrived that late (9 March, claimed 5th)
    changes = search.es.count(index=search.aliases.changes,
                              query={"term": {"late_reported": True}})["count"]
    assert changes == 5


def test_late_reported_facet_and_filter(search: SearchStack) -> None:
    index_records(search, CASE_A, CASE_B, CASE_C,
                  public_case("TWO-0004-2026", revision=2, delays={2: 1}))  # at the tolerance
    service = records_of(search)
    everything = service.search(parse_query({"jurisdiction": "kota-bandung"}))
    assert {b.value: b.count for b in everything.facets["late_reported"]} == {
        "true": 2, "false": 2}
    late = service.search(parse_query({"late_reported": "true", "sort": "nomor"}))
    assert [c.receipt_number for c in late.cases] == ["TWO-0001-2026", "TWO-0002-2026"]
    prompt = service.search(parse_query({"late_reported": "false", "sort": "nomor"}))
    assert [c.receipt_number for c in prompt.cases] == ["TWO-0003-2026", "TWO-0004-2026"]
    exported = [c.receipt_number for c in service.export(parse_query({"late_reported": "ya"}))]
    assert exported == ["TWO-0001-2026", "TWO-0002-2026"]
    with TestClient(create_app(PublishingSettings(), service)) as client:
        page = client.get("/", params={"late_reported": "true"}).text
        assert "2 kasus ditemukan" in page and "Dilaporkan terlambat: Ya" in page
        assert "<h3>Dilaporkan terlambat</h3>" in page and "TWO-0003-2026" not in page
        api = client.get("/api/v1/cases", params={"late_reported": "false"}).json()
        assert api["total"] == 2
        assert {b["value"]: b["count"] for b in api["facets"]["late_reported"]} == {"false": 2}


def test_reporting_share_and_median_per_department(search: SearchStack) -> None:
    index_records(search, CASE_A, CASE_B, CASE_C)
    board = records_of(search).dashboard(Place("kota-bandung"))
    assert (board.totals.events, board.totals.late_events) == (9, 5)
    assert board.totals.reported_on_time_share == pytest.approx(4 / 9)
    rows = {row.code: row.stats for row in board.rows}
    assert (rows["dpmptsp"].events, rows["dpmptsp"].late_events) == (7, 5)
    assert rows["dpmptsp"].reported_on_time_share == pytest.approx(2 / 7)
    assert rows["dpmptsp"].median_reporting_delay == 2.0
    assert rows["disdukcapil"].reported_on_time_share == 1.0
    assert rows["disdukcapil"].median_reporting_delay == 0.0
    service_board = records_of(search).dashboard(Place("kota-bandung", "dpmptsp", "pbg"))
    assert service_board.totals.events == 7
    with TestClient(create_app(PublishingSettings(), records_of(search))) as client:
        stats = client.get("/api/v1/stats/department/dpmptsp",  # every jurisdiction has one
                           params={"jurisdiction": "kota-bandung"}).json()["totals"]
        assert stats["events_reported"] == 7 and stats["events_reported_late"] == 5
        assert stats["median_reporting_delay_working_days"] == 2.0
        page = client.get("/dasbor/jurisdiction/kota-bandung").text
        assert "Laporan dalam toleransi" in page and ">44%<" in page  # 4 of 9
        assert "<td>29%</td>" in page and "<td>100%</td>" in page  # per department


def test_the_feed_puts_a_late_report_on_top_when_it_arrives(search: SearchStack) -> None:
    # its completion claims 23 February, older than every step of B (2-4 March), but Pantau
    # received it on 7 March, after all of them (B's latest arrived on 6 March)
    backdated = public_case("TWO-0005-2026", revision=4, delays={4: 12},
                            submitted_at=BASE_TIME - timedelta(days=10))
    index_records(search, CASE_B, backdated)
    changes = records_of(search).changes(limit=3)
    assert [(c["receipt_number"], c["seq"]) for c in changes] == [
        ("TWO-0005-2026", 4), ("TWO-0002-2026", 2), ("TWO-0002-2026", 3)]
    assert changes[0]["late_reported"] is True and changes[0]["reporting_delay_days"] == 12
    with TestClient(create_app(PublishingSettings(), records_of(search))) as client:
        item = client.get("/feed.json").json()["items"][0]
        assert item["id"] == "urn:pantau:case:TWO-0005-2026:4"
        assert "late-reported" in item["tags"]
        assert "dilaporkan 12 hari kerja kemudian" in item["content_text"]
        assert item["_pantau"]["at"].startswith("2026-02-23")


# --- an index from before the two clocks ---------------------------------------------------

def old_template(kind: str, alias: str) -> dict[str, Any]:
    """The template as it was before the two clocks: no new fields, timeline not indexed."""
    body = copy.deepcopy(load_template(TEMPLATES[kind], alias))
    properties = body["template"]["mappings"]["properties"]
    for name in ("reporting_tolerance_days", "late_reported", "reporting_delays",
                 "entry_count", "late_entry_count", "received_at", "counted_at",
                 "reporting_delay_days"):
        properties.pop(name, None)
    if "timeline" in properties:
        properties["timeline"] = {"type": "object", "enabled": False}
    return body


@pytest.fixture
def old_aliases(search: SearchStack) -> Iterator[Aliases]:
    tag = uuid.uuid4().hex[:10]
    aliases = Aliases(f"ptest-{tag}-cases", f"ptest-{tag}-changes")
    for kind, alias in (("cases", aliases.cases), ("changes", aliases.changes)):
        body = old_template(kind, alias)  # an index named outside the template's pattern
        search.es.indices.create(index=f"{alias}_v1", aliases={alias: {}},
                                 settings=body["template"]["settings"],
                                 mappings=body["template"]["mappings"])
    yield aliases
    for alias in (aliases.cases, aliases.changes):
        search.es.indices.delete(index=f"{alias}_v1", ignore_unavailable=True)
    drop(search.es, aliases)


def test_an_index_from_before_the_two_clocks_gets_the_new_fields_in_place(
        search: SearchStack, old_aliases: Aliases) -> None:
    old = SearchStack(search.es, old_aliases, search.url)
    old_writer = EsSearchIndex(search.es, old_aliases)
    # what the old indexer wrote: a version-1 document without any new field
    search.es.index(index=old_aliases.cases, id="OLD-0001-2026",
                    document=public_case_v1("OLD-0001-2026", revision=2), refresh=True)
    outcome = IndexBatch(old_writer).handle([ReceivedMessage(case_updated(CASE_A))])
    assert "strict_dynamic_mapping" in outcome.failures[0]["detail"]  # before

    bootstrap(search.es, old_aliases)  # what the indexer and portal do at start
    assert alias_indices(search.es, old_aliases.cases) == [f"{old_aliases.cases}_v1"]
    assert mapping_of(old, old_aliases.cases)["late_reported"]["type"] == "boolean"
    assert "received_at" in mapping_of(old, old_aliases.changes)
    index_records(old, CASE_A)  # now it fits
    service = records_of(old)
    assert service.case("OLD-0001-2026") is not None  # the old document reads back upgraded
    facet = service.search(parse_query({"q": "kota bandung"})).facets["late_reported"]
    assert {b.value: b.count for b in facet} == {"true": 1}  # the old one has no value yet

    # the rebuild applies the whole current mapping (the timeline too) and fills every value
    report = rebuild(search.es, old_aliases, [public_case_v1("OLD-0001-2026", revision=2),
                                              CASE_A])
    assert report.indexed == 2
    timeline = mapping_of(old, old_aliases.cases)["timeline"]
    assert timeline["properties"]["received_at"]["type"] == "date"
    facet = records_of(old).search(parse_query({"q": "kota bandung"})).facets["late_reported"]
    assert {b.value: b.count for b in facet} == {"true": 1, "false": 1}


# --- the indexer process ------------------------------------------------------------------

def test_the_indexer_process_takes_case_updated_v1_and_v2(
        amqp_url: str, search: SearchStack, queues: WorkQueues,
        start_service: Callable[..., Any]) -> None:
    indexer = start_service("pantau_publishing.indexer", PANTAU_PUBLISHING_QUEUE=queues.work,
                            PANTAU_BATCH_SIZE="10", PANTAU_BATCH_WAIT_MS="100", **search.env)
    publish(amqp_url, queues.work, [
        case_updated(public_case_v1("MIX-0001-2026", revision=2)),  # still queued from before
        case_updated(public_case("MIX-0002-2026", revision=4, delays={4: 3})),
        case_updated(public_case_v1("MIX-0002-2026", revision=3))])  # older: superseded

    def indexed() -> bool:
        return all(get_source(search, f"MIX-000{i}-2026") for i in (1, 2))

    wait_for(indexed, timeout=30, message=lambda: "both versions indexed\n" + indexer.log())
    old, new = get_source(search, "MIX-0001-2026"), get_source(search, "MIX-0002-2026")
    assert old is not None and new is not None
    assert old["late_reported"] is False and old["reporting_delays"] == [0, 0]
    assert new["revision"] == 4 and new["late_reported"] is True
    assert new["timeline"][-1]["reporting_delay_days"] == 3
