"""Issue 11: places name jurisdiction + code; comparison across jurisdictions; statistics over
time — the domain rules with canned Elasticsearch answers, and the portal over a fake port."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pantau_publishing.domain import comparison as cmp
from pantau_publishing.domain.monthly import Month, monthly_body, months, parse_monthly
from pantau_publishing.domain.places import Place, owners_body, parse_owners, split_qualified
from pantau_publishing.domain.query import filter_clauses, parse_query
from pantau_publishing.domain.record import case_document, change_documents, clean_case
from pantau_publishing.portal.app import create_app
from pantau_publishing.portal.case_view import ServiceStandards
from pantau_publishing.service.ports import SearchAnswer
from pantau_publishing.service.records import PublicRecords
from pantau_publishing.settings import PublishingSettings
from tests.unit.publishing.factories import public_case
from tests.unit.publishing.fakes import FakeReader

NOW = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)
STATS: dict[str, Any] = {
    "completed": {"doc_count": 1, "days": {"values": {"50.0": 4.0, "90.0": 9.5}},
                  "sla": {"buckets": [{"key": 1, "key_as_string": "true", "doc_count": 1}]}},
    "open": {"doc_count": 1, "overdue": {"doc_count": 0}, "age": {"buckets": {}}},
    "rows": {"buckets": []}}


# --- places ----------------------------------------------------------------------------------

def test_a_place_always_filters_on_its_jurisdiction() -> None:
    place = Place("kab-bandung", "dpmptsp", "pbg")
    assert place.level == "service" and place.path == "kab-bandung/dpmptsp/pbg"
    assert place.filters() == [{"term": {"jurisdiction_code": "kab-bandung"}},
                               {"term": {"department_code": "dpmptsp"}},
                               {"term": {"service_code": "pbg"}}]
    assert Place().level == "" and Place().filters() == [] and Place().path == ""
    assert split_qualified("kota-bandung/dpmptsp") == ("kota-bandung", "dpmptsp")
    assert split_qualified("dpmptsp") == (None, "dpmptsp")


def test_a_qualified_facet_value_filters_on_both() -> None:
    clauses = filter_clauses(parse_query({"department": "kab-bandung/dpmptsp"}))
    assert {"term": {"jurisdiction_code": "kab-bandung"}} in clauses
    assert {"term": {"department_code": "dpmptsp"}} in clauses


def owners_answer(*pairs: tuple[str, str]) -> dict[str, Any]:
    by: dict[str, list[str]] = {}
    for jurisdiction, department in pairs:
        by.setdefault(jurisdiction, []).append(department)
    return {"owners": {"buckets": [
        {"key": j, "doc_count": 1, "departments": {"buckets": [
            {"key": d, "doc_count": 1} for d in ds]}} for j, ds in by.items()]}}


def test_owners_of_a_bare_code() -> None:
    body = owners_body("service", "pbg")
    assert body["query"]["bool"]["filter"] == [{"term": {"service_code": "pbg"}}]
    found = parse_owners("service", "pbg", owners_answer(("kota-bandung", "dpmptsp"),
                                                         ("kab-bandung", "dpmptsp")))
    assert found == [Place("kab-bandung", "dpmptsp", "pbg"), Place("kota-bandung", "dpmptsp",
                                                                   "pbg")]
    with pytest.raises(ValueError):
        owners_body("jurisdiction", "kota-bandung")


# --- comparison ------------------------------------------------------------------------------

def period(closed: int, completed: int, within: int, median: float | None = None,
           p90: float | None = None, late: int = 0) -> dict[str, Any]:
    return {"doc_count": closed, "late": {"doc_count": late}, "completed": {
        "doc_count": completed, "within": {"doc_count": within},
        "days": {"values": {"50.0": median, "90.0": p90}}}}


def row(code: str, label: str, current: dict[str, Any], previous: dict[str, Any],
        overdue: int = 0) -> dict[str, Any]:
    return {"key": code, "doc_count": 99, "label": {"buckets": [{"key": label}]},
            "current": current, "previous": previous, "overdue_open": {"doc_count": overdue}}


COMPARISON = {"rows": {"buckets": [
    row("kota-bandung", "Kota Bandung", period(30, 25, 20, 5.0, 12.0, 3),
        period(30, 25, 15, 6.0, 14.0), overdue=4),
    row("kab-bandung", "Kab. Bandung", period(22, 20, 18, 4.0, 9.0), period(25, 20, 18, 4.0)),
    row("kota-cimahi", "Kota Cimahi", period(25, 20, 18, 4.0, 9.0), period(5, 5, 5, 2.0)),
    row("kab-garut", "Kab. Garut", period(10, 8, 8, 2.0, 3.0), period(0, 0, 0)),
]}}


def test_comparison_asks_elasticsearch_for_periods_by_closing_time() -> None:
    window = cmp.Window(NOW, 90)
    body = cmp.comparison_body(window)
    assert body["size"] == 0 and body["aggs"]["rows"]["terms"]["field"] == "jurisdiction_code"
    aggs = body["aggs"]["rows"]["aggs"]
    assert aggs["current"]["filter"]["range"]["closed_at"] == {
        "gte": "2026-09-03T03:00:00+00:00", "lt": "2026-12-02T03:00:00+00:00"}
    assert aggs["previous"]["filter"]["range"]["closed_at"]["lt"] == "2026-09-03T03:00:00+00:00"
    assert aggs["current"]["aggs"]["completed"]["aggs"]["days"]["percentiles"]["percents"] == \
        [50, 90]
    assert "script" not in json.dumps(body)
    inner = cmp.comparison_body(window, "kota-bandung")
    assert inner["aggs"]["rows"]["terms"]["field"] == "department_code"
    assert inner["query"]["bool"]["filter"] == [{"term": {"jurisdiction_code": "kota-bandung"}}]


def test_comparison_ranks_fairly_and_marks_too_few() -> None:
    entries = cmp.parse_comparison(COMPARISON, min_cases=20)
    assert [(e.code, e.rank) for e in entries] == [
        ("kab-bandung", 1), ("kota-cimahi", 1), ("kota-bandung", 3), ("kab-garut", None)]
    garut = entries[-1]
    assert not garut.enough and garut.trend == "unknown"  # 8 completed < 20
    bandung = entries[2]
    assert bandung.current.sla_share == pytest.approx(0.8)
    assert bandung.current.late_share == pytest.approx(0.1)
    assert bandung.trend == "up" and bandung.overdue_open == 4  # 60 % → 80 %
    assert entries[0].trend == "flat"  # 90 % → 90 %
    assert entries[1].trend == "unknown"  # the previous period had 5 completed
    data = bandung.as_dict()
    assert data["rank"] == 3 and data["median_working_days"] == 5.0 and data["trend"] == "up"


@pytest.mark.parametrize(("now", "before", "expected"), [
    ((100, 81), (100, 80), "flat"), ((100, 79), (100, 80), "flat"), ((50, 40), (50, 40), "flat"),
    ((100, 82), (100, 80), "up"), ((100, 78), (100, 80), "down"), ((20, 20), (19, 19), "unknown"),
    ((19, 10), (20, 20), "unknown")])
def test_trend_rule(now: tuple[int, int], before: tuple[int, int], expected: str) -> None:
    assert cmp.trend(cmp.Period(now[0], now[0], now[1]), cmp.Period(before[0], before[0],
                                                                    before[1]), 20) == expected


# --- statistics over time --------------------------------------------------------------------

def test_months_are_counted_in_the_jurisdictions_zone() -> None:
    late_evening = datetime(2026, 12, 31, 18, 0, tzinfo=UTC)  # 1 January 2027, 01:00 WIB
    assert months(late_evening, "Asia/Jakarta", 3) == ["2026-11", "2026-12", "2027-01"]
    assert months(late_evening, "UTC", 2) == ["2026-11", "2026-12"]


def test_monthly_body_uses_the_right_time_fields() -> None:
    shown = months(NOW, "Asia/Jakarta")
    body = monthly_body(Place("kota-bandung", "dpmptsp"), shown, "Asia/Jakarta")
    received = body["aggs"]["received"]["aggs"]["months"]["date_histogram"]
    completed = body["aggs"]["completed"]["aggs"]["months"]["date_histogram"]
    assert received["field"] == "submitted_at" and completed["field"] == "closed_at"
    assert received["time_zone"] == "Asia/Jakarta" and received["calendar_interval"] == "month"
    assert received["extended_bounds"] == {"min": "2026-01", "max": "2026-12"}
    assert {"term": {"status": "selesai"}} in \
        body["aggs"]["completed"]["filter"]["bool"]["filter"]
    assert {"term": {"jurisdiction_code": "kota-bandung"}} in body["query"]["bool"]["filter"]


MONTHLY = {"received": {"months": {"buckets": [
    {"key_as_string": "2026-11", "key": 1, "doc_count": 7},
    {"key_as_string": "2026-12", "key": 2, "doc_count": 3}]}},
    "completed": {"months": {"buckets": [
        {"key_as_string": "2026-11", "key": 1, "doc_count": 4, "within": {"doc_count": 3},
         "days": {"values": {"50.0": 6.25}}}]}}}


def test_monthly_rows_fill_empty_months_and_write_plain_numbers() -> None:
    rows = parse_monthly(MONTHLY, ["2026-10", "2026-11", "2026-12"])
    assert rows[0] == Month("2026-10")
    assert rows[1] == Month("2026-11", 7, 4, 3, 6.2) or rows[1].median_days == 6.3
    assert rows[1].sla_share == pytest.approx(0.75) and rows[2].sla_share is None
    assert rows[1].csv_row()[:5] == ["2026-11", "7", "4", "3", "0.7500"]
    assert rows[2].csv_row() == ["2026-12", "3", "0", "0", "", ""]


# --- the portal over a fake port -------------------------------------------------------------

class AnsweringReader(FakeReader):
    """``FakeReader`` whose aggregation answers depend on what the body asks for."""

    def __init__(self, *args: Any, owners: dict[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.owners = owners or {}

    def search_cases(self, body: Mapping[str, Any]) -> SearchAnswer:
        answer = super().search_cases(body)
        aggs = body.get("aggs", {})
        canned = (self.owners if "owners" in aggs else COMPARISON
                  if "current" in aggs.get("rows", {}).get("aggs", {})
                  else MONTHLY if "received" in aggs else answer.aggregations)
        return SearchAnswer(answer.total, answer.hits, canned)


def portal(*owners: tuple[str, str]) -> tuple[TestClient, AnsweringReader]:
    cases = [clean_case(public_case("BDG-PBG-2026-000001", revision=4)),
             clean_case(public_case("KBB-PBG-2026-000001", revision=4,
                                    jurisdiction="kab-bandung"))]
    reader = AnsweringReader([case_document(c) for c in cases],
                             [d for c in cases for _id, d in change_documents(c)],
                             aggregations=STATS, owners=owners_answer(*owners))
    app = create_app(PublishingSettings(), PublicRecords(reader))
    app.state.standards = ServiceStandards(None)  # codes resolved from the index alone here
    app.state.clock = lambda: NOW
    return TestClient(app), reader


def test_a_shared_bare_code_is_never_summed_on_the_dashboard() -> None:
    client, reader = portal(("kota-bandung", "dpmptsp"), ("kab-bandung", "dpmptsp"))
    answer = client.get("/dasbor/department/dpmptsp", follow_redirects=False)
    assert answer.status_code == 300  # Multiple Choices: a page to choose from
    assert 'href="/dasbor/kota-bandung/dpmptsp"' in answer.text
    assert 'href="/dasbor/kab-bandung/dpmptsp"' in answer.text
    assert not any("completed" in b.get("aggs", {}) for b in reader.bodies)  # no figures summed
    page = client.get("/dasbor/kab-bandung/dpmptsp")
    assert page.status_code == 200 and 'href="/dasbor/kab-bandung"' in page.text
    filters = reader.bodies[-2]["query"]["bool"]["filter"]  # the stats body, then monthly
    assert {"term": {"jurisdiction_code": "kab-bandung"}} in filters
    assert client.get("/dasbor/kab-cianjur/dpmptsp").status_code == 404


def test_an_unambiguous_bare_code_redirects_permanently() -> None:
    client, _reader = portal(("kota-bandung", "dpmptsp"))
    answer = client.get("/dasbor/department/dpmptsp?lang=en", follow_redirects=False)
    assert answer.status_code == 301
    assert answer.headers["location"] == "/dasbor/kota-bandung/dpmptsp?lang=en"
    old = client.get("/dasbor/jurisdiction/kota-bandung", follow_redirects=False)
    assert old.status_code == 301 and old.headers["location"] == "/dasbor/kota-bandung"
    feed = client.get("/feeds/department/dpmptsp.atom", follow_redirects=False)
    assert feed.headers["location"] == "/feeds/department/kota-bandung/dpmptsp.atom"


def test_feeds_and_api_ask_which_jurisdiction() -> None:
    client, reader = portal(("kota-bandung", "dpmptsp"), ("kab-bandung", "dpmptsp"))
    feed = client.get("/feeds/department/dpmptsp.json", follow_redirects=False)
    assert feed.status_code == 300 and feed.json()["choices"] == [
        "/feeds/department/kab-bandung/dpmptsp.json",
        "/feeds/department/kota-bandung/dpmptsp.json"]
    one = client.get("/feeds/department/kab-bandung/dpmptsp.json").json()
    assert [i["url"].rsplit("/", 1)[1] for i in one["items"]] == ["KBB-PBG-2026-000001"] * 4
    stats = client.get("/api/v1/stats/department/dpmptsp")
    assert stats.status_code == 400 and stats.json()["parameter"] == "jurisdiction"
    assert stats.headers["content-type"].startswith("application/problem+json")
    named = client.get("/api/v1/stats/department/dpmptsp", params={"jurisdiction": "kab-bandung"})
    assert named.status_code == 200 and named.json()["jurisdiction"] == "kab-bandung"
    assert {"term": {"jurisdiction_code": "kab-bandung"}} in \
        reader.bodies[-1]["query"]["bool"]["filter"]
    assert client.get("/api/v1/statistics/monthly",
                      params={"department": "dpmptsp"}).status_code == 400


def test_feeds_page_lists_each_jurisdictions_department_once() -> None:
    from tests.unit.publishing.open311_catalogue import catalogue
    client, _reader = portal()
    client.app.state.standards = ServiceStandards(  # type: ignore[attr-defined]
        catalogue("kota-bandung", "kab-bandung"))
    page = client.get("/umpan").text
    links = re.findall(r'href="(/feeds/department/[^"]+\.atom)"', page)
    assert links and len(links) == len(set(links))
    assert all(link.count("/") == 4 for link in links)  # /feeds/department/{j}/{d}.atom


def test_comparison_page_ranks_explains_and_marks_too_few() -> None:
    client, _reader = portal()
    page = client.get("/perbandingan").text
    assert "Perbandingan kinerja layanan" in page and 'id="cara-menghitung"' in page
    assert "Cara menghitung" in page and "Kasus terlalu sedikit" in page
    assert '<span aria-hidden="true">▲</span> membaik' in page  # arrow AND words
    assert page.index("Kab. Bandung") < page.index("Kota Bandung") < page.index("Kab. Garut")
    assert "style=" not in page and "<script" not in page
    english = client.get("/perbandingan?lang=en").text
    assert "How it is computed" in english and "Too few cases" in english
    api = client.get("/api/v1/comparison").json()
    assert api["min_cases"] == 20 and api["period"]["days"] == 90
    assert [e["rank"] for e in api["entries"]] == [1, 1, 3, None]
    assert 'href="/perbandingan"' in client.get("/").text


def test_dashboard_shows_monthly_charts_table_and_csv() -> None:
    client, _reader = portal(("kota-bandung", "dpmptsp"))
    page = client.get("/dasbor/kota-bandung").text
    assert "Statistik per bulan" in page and 'id="monthly-table"' in page
    assert "<th scope=\"row\">Nov 2026</th><td>7</td><td>4</td><td>75%</td>" in page
    assert 'href="/dasbor/kota-bandung/statistik.csv"' in page and "style=" not in page
    assert 'href="/perbandingan/kota-bandung"' in page
    answer = client.get("/dasbor/kota-bandung/statistik.csv")
    assert answer.headers["content-type"].startswith("text/csv")
    assert answer.headers["content-disposition"] == \
        'attachment; filename="pantau-statistik-kota-bandung.csv"'
    rows = list(csv.reader(io.StringIO(answer.text)))
    assert rows[0][:4] == ["jurisdiction", "department", "service", "time_zone"]
    assert len(rows) == 13 and rows[-2][4:9] == ["2026-11", "7", "4", "3", "0.7500"]
    assert client.get("/dasbor/department/dpmptsp/statistik.csv",
                      follow_redirects=False).headers["location"] == \
        "/dasbor/kota-bandung/dpmptsp/statistik.csv"
