"""What keeps the portal fast over a million cases (issue 13), without changing its answers:
the search's hits and its exact total + facets are two requests (the second cacheable by
Elasticsearch), no body carries ``now``, and dashboard figures are served from a short cache
that the page and the API date ("as of")."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from pantau_publishing.domain import stats as stats_rules
from pantau_publishing.domain.places import Place
from pantau_publishing.domain.query import facets_body, hits_body, parse_query
from pantau_publishing.domain.record import case_document, clean_case
from pantau_publishing.portal.app import create_app
from pantau_publishing.service.records import PublicRecords
from pantau_publishing.service.ttl_cache import TtlCache
from pantau_publishing.settings import PublishingSettings
from tests.unit.publishing.factories import public_case
from tests.unit.publishing.fakes import FakeReader
from tests.unit.publishing.test_portal import STATS_AGGS

T0 = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)


class FakeClock:
    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def reader_with(count: int) -> FakeReader:
    cases = [case_document(clean_case(public_case(f"BDG-PBG-2026-{i:06d}")))
             for i in range(count)]
    return FakeReader(cases, [], {**STATS_AGGS, "rows": {"buckets": []}})


def test_hits_count_no_total_and_the_facets_count_every_match() -> None:
    query = parse_query({"q": "pbg", "status": "diproses", "page": "2", "size": "10"})
    hits, facets = hits_body(query), facets_body(query)
    assert hits["track_total_hits"] is False and "aggs" not in hits
    assert (hits["from"], hits["size"]) == (10, 10)
    assert facets["size"] == 0 and facets["track_total_hits"] is True
    assert "sort" not in facets and "from" not in facets
    assert facets["query"] == hits["query"]  # the same matches are counted and listed
    # every page and sort order of one search shares the (cacheable) facets request
    other_page = parse_query({"q": "pbg", "status": "diproses", "page": "3", "sort": "nomor"})
    assert facets_body(other_page) == facets


def test_the_search_shows_the_exact_total_beyond_one_page() -> None:
    reader = reader_with(25)
    result = PublicRecords(reader).search(parse_query({"q": "pbg"}))
    assert result.total == 25 and len(result.cases) == 20 and result.pages == 2
    assert [body.get("size") for body in reader.bodies] == [20, 0]


def test_no_dashboard_body_says_now_so_the_request_cache_can_keep_it() -> None:
    body = stats_rules.stats_body(Place("kota-bandung"), date(2026, 3, 2))
    assert "now" not in json.dumps(body)
    ranges = {r["key"]: r for r in body["aggs"]["open"]["aggs"]["age"]["date_range"]["ranges"]}
    assert ranges["0-7"] == {"key": "0-7", "from": "2026-02-23"}  # was now-7d/d
    assert ranges["8-14"] == {"key": "8-14", "from": "2026-02-16", "to": "2026-02-23"}
    assert ranges[">60"] == {"key": ">60", "to": "2026-01-01"}


def test_dashboard_figures_are_cached_for_the_ttl_then_computed_again() -> None:
    reader, clock = reader_with(3), FakeClock()
    records = PublicRecords(reader, dashboard_ttl=30, clock=clock)
    first = records.dashboard(Place("kota-bandung"))
    assert first.as_of == T0 and len(reader.bodies) == 1
    clock.advance(29.9)
    assert records.dashboard(Place("kota-bandung")) is first and len(reader.bodies) == 1
    records.dashboard(Place("kota-bekasi"))  # another place: its own entry
    assert len(reader.bodies) == 2
    clock.advance(0.1)
    again = records.dashboard(Place("kota-bandung"))
    assert again is not first and again.as_of == T0 + timedelta(seconds=30)
    assert len(reader.bodies) == 3


def test_monthly_figures_share_the_dashboard_ttl() -> None:
    reader, clock = reader_with(1), FakeClock()
    records = PublicRecords(reader, dashboard_ttl=10, clock=clock)
    records.monthly(Place("kota-bandung"), ["2026-02", "2026-03"], "Asia/Jakarta")
    records.monthly(Place("kota-bandung"), ["2026-02", "2026-03"], "Asia/Jakarta")
    assert len(reader.bodies) == 1
    clock.advance(10)
    records.monthly(Place("kota-bandung"), ["2026-02", "2026-03"], "Asia/Jakarta")
    assert len(reader.bodies) == 2


def test_without_a_ttl_every_view_computes_its_figures() -> None:
    reader = reader_with(1)
    records = PublicRecords(reader)
    records.dashboard()
    records.dashboard()
    assert len(reader.bodies) == 2


def test_the_cache_recomputes_when_the_clock_goes_back_and_keeps_few_entries() -> None:
    cache: TtlCache[str] = TtlCache(60, max_entries=2)
    cache.put("a", "A", T0)
    assert cache.get("a", T0 - timedelta(seconds=1)) is None
    for key in ("a", "b", "c"):
        cache.put(key, key.upper(), T0)
    assert cache.get("a", T0) is None and cache.get("c", T0) == ("C", T0)
    nothing: TtlCache[str] = TtlCache(0)
    nothing.put("a", "A", T0)
    assert nothing.get("a", T0) is None


def client_with(ttl: float, clock: FakeClock) -> TestClient:
    settings = PublishingSettings(dashboard_cache_seconds=ttl)
    records = PublicRecords(reader_with(2), dashboard_ttl=ttl, clock=clock)
    return TestClient(create_app(settings, records))


def test_the_dashboard_says_as_of_when_its_figures_were_computed_in_both_languages() -> None:
    client = client_with(30, FakeClock())
    page = client.get("/dasbor").text
    assert 'id="as-of"' in page
    assert "Angka per 2 Maret 2026, pukul 10.00 WIB" in page and "30 detik" in page
    english = client.get("/dasbor", params={"lang": "en"}).text
    assert "Figures as of 2 March 2026, 10:00 WIB" in english and "30 seconds" in english
    stats: dict[str, Any] = client.get("/api/v1/stats").json()
    assert stats["as_of"] == T0.isoformat()


def test_without_the_cache_the_dashboard_claims_no_as_of() -> None:
    page = client_with(0, FakeClock()).get("/dasbor").text
    assert 'id="as-of"' not in page
