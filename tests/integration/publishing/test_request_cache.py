"""On the real Elasticsearch: the portal's aggregation requests are answered from the shard
request cache when repeated (issue 13) — the search's facets, whatever the page, and the
dashboard (whose body once said ``now`` and was never cached) — and the answers stay exact."""

from __future__ import annotations

from pantau_publishing.adapters.search.store import EsCaseReader, EsSearchIndex
from pantau_publishing.domain.places import Place
from pantau_publishing.domain.query import parse_query
from pantau_publishing.service.indexing import IndexBatch
from pantau_publishing.service.ports import ReceivedMessage
from pantau_publishing.service.records import PublicRecords
from tests.integration.publishing.conftest import SearchStack
from tests.unit.publishing.factories import case_updated, public_case


def cache_hits(search: SearchStack) -> int:
    stats = search.es.indices.stats(index=search.aliases.cases, metric="request_cache")
    return int(stats["_all"]["total"]["request_cache"]["hit_count"])


def test_repeated_facets_and_dashboards_come_from_the_request_cache(
        search: SearchStack) -> None:
    records = [public_case(f"BDG-PBG-2026-{i:06d}", revision=1 + i % 4) for i in range(25)]
    outcome = IndexBatch(EsSearchIndex(search.es, search.aliases)).handle(
        [ReceivedMessage(case_updated(r)) for r in records])
    assert not outcome.failures
    search.refresh()
    public = PublicRecords(EsCaseReader(search.es, search.aliases))  # no portal-side cache

    first = public.search(parse_query({"q": "pbg"}))
    assert first.total == 25 and len(first.cases) == 20  # exact, beyond the page
    before = cache_hits(search)
    second = public.search(parse_query({"q": "pbg", "page": "2"}))
    assert second.total == 25 and len(second.cases) == 5
    assert second.facets == first.facets
    assert cache_hits(search) == before + 1  # page 2 reused page 1's facets

    board = public.dashboard(Place("kota-bandung"))
    before = cache_hits(search)
    assert public.dashboard(Place("kota-bandung")).totals == board.totals
    assert cache_hits(search) == before + 1
    assert board.totals.received == 25 and sum(n for _k, n in board.totals.backlog) == \
        board.totals.open
