"""Issue 11 on the real Elasticsearch: two jurisdictions whose department and service codes are
the same (``dpmptsp``/``pbg``) are never added together — dashboards, facets, feeds, the API —
and the comparison and the monthly statistics match a hand computation.

The cases (NOW = 2 December 2026, 03:00 UTC = 10:00 WIB; legal maximum 10 working days):

* Kota Bandung, completed in the last 90 days: 2, 4 (one step reported late), 6 and 12 working
  days (12 > 10: not within the maximum) — closed 22, 12, 2 November and 31 October 20:00 UTC
  (= 1 November 03:00 WIB); in the 90 days before: 3 and 15 days (closed in August). One open
  case past its maximum.
* Kab. Bandung, completed in the last 90 days: 1 and 3 days. Two open cases past their maximum,
  one open in time.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pantau_publishing.adapters.search.store import EsCaseReader, EsSearchIndex
from pantau_publishing.domain.comparison import Window
from pantau_publishing.domain.monthly import months
from pantau_publishing.domain.places import Place
from pantau_publishing.portal.app import create_app
from pantau_publishing.portal.case_view import ServiceStandards
from pantau_publishing.service.indexing import IndexBatch
from pantau_publishing.service.ports import ReceivedMessage
from pantau_publishing.service.records import PublicRecords
from pantau_publishing.settings import PublishingSettings
from tests.integration.publishing.conftest import SearchStack
from tests.unit.publishing.factories import case_updated, public_case

NOW = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)


def closed(receipt: str, jurisdiction: str, at: datetime, elapsed: float,
           late: bool = False) -> dict[str, Any]:
    return public_case(receipt, revision=4, jurisdiction=jurisdiction, elapsed=elapsed,
                       submitted_at=at - timedelta(days=5), closed_at=at.isoformat(),
                       delays={2: 3} if late else None)


def open_case(receipt: str, jurisdiction: str, submitted: datetime,
              overdue: bool) -> dict[str, Any]:
    return public_case(receipt, revision=3, jurisdiction=jurisdiction, overdue=overdue,
                       elapsed=14 if overdue else 3, submitted_at=submitted)


def day(month: int, date: int, hour: int = 3) -> datetime:
    return datetime(2026, month, date, hour, 0, tzinfo=UTC)


CASES = [
    closed("BDG-PBG-2026-000001", "kota-bandung", day(11, 22), 2),
    closed("BDG-PBG-2026-000002", "kota-bandung", day(11, 12), 4, late=True),
    closed("BDG-PBG-2026-000003", "kota-bandung", day(11, 2), 6),
    closed("BDG-PBG-2026-000004", "kota-bandung", day(10, 31, 20), 12),
    closed("BDG-PBG-2026-000005", "kota-bandung", day(8, 24), 3),
    closed("BDG-PBG-2026-000006", "kota-bandung", day(8, 4), 15),
    open_case("BDG-PBG-2026-000007", "kota-bandung", day(11, 30, 18), overdue=True),
    closed("KBB-PBG-2026-000001", "kab-bandung", day(11, 27), 1),
    closed("KBB-PBG-2026-000002", "kab-bandung", day(10, 23), 3),
    open_case("KBB-PBG-2026-000003", "kab-bandung", day(10, 1), overdue=True),
    open_case("KBB-PBG-2026-000004", "kab-bandung", day(10, 2), overdue=True),
    open_case("KBB-PBG-2026-000005", "kab-bandung", day(11, 28), overdue=False),
]


@pytest.fixture
def indexed(search: SearchStack) -> PublicRecords:
    outcome = IndexBatch(EsSearchIndex(search.es, search.aliases)).handle(
        [ReceivedMessage(case_updated(r)) for r in CASES])
    assert not outcome.failures, outcome.failures
    search.refresh()
    return PublicRecords(EsCaseReader(search.es, search.aliases))


@pytest.fixture
def client(indexed: PublicRecords) -> TestClient:
    app = create_app(PublishingSettings(comparison_min_cases=2), indexed)
    app.state.standards = ServiceStandards(None)  # the places come from the index alone
    app.state.clock = lambda: NOW
    return TestClient(app)


def test_comparison_matches_the_hand_computation(indexed: PublicRecords) -> None:
    entries = indexed.comparison(Window(NOW, 90), min_cases=2)
    kab, kota = entries
    assert (kab.code, kab.rank, kota.code, kota.rank) == ("kab-bandung", 1, "kota-bandung", 2)
    assert (kota.current.closed, kota.current.completed, kota.current.within) == (4, 4, 3)
    assert kota.current.sla_share == 0.75 and kota.current.median_days == 5.0  # (4 + 6) / 2
    assert 6.0 < (kota.current.p90_days or 0) <= 12.0
    assert kota.current.late_share == 0.25 and kota.overdue_open == 1
    assert (kota.previous.completed, kota.previous.within) == (2, 1)
    assert kota.trend == "up"  # 50 % → 75 %
    assert (kab.current.completed, kab.current.within, kab.current.median_days) == (2, 2, 2.0)
    assert kab.overdue_open == 2 and kab.trend == "unknown"  # nothing closed before
    (department,) = indexed.comparison(Window(NOW, 90), "kota-bandung", min_cases=2)
    assert department.code == "dpmptsp" and department.current.completed == 4  # not 6
    few = indexed.comparison(Window(NOW, 90), min_cases=3)
    assert [(e.code, e.rank, e.enough) for e in few] == [
        ("kota-bandung", 1, True), ("kab-bandung", None, False)]


def test_monthly_statistics_in_the_jurisdictions_zone(indexed: PublicRecords) -> None:
    shown = months(NOW, "Asia/Jakarta")
    rows = {m.month: m for m in indexed.monthly(Place("kota-bandung", "dpmptsp", "pbg"),
                                                shown, "Asia/Jakarta")}
    # closed 31 October 20:00 UTC is 1 November in WIB: four completed in November
    assert (rows["2026-11"].completed, rows["2026-11"].within) == (4, 3)
    assert rows["2026-11"].median_days == 5.0 and rows["2026-10"].completed == 0
    assert (rows["2026-08"].completed, rows["2026-08"].within, rows["2026-08"].median_days) == \
        (2, 1, 9.0)
    # received by the submission month: 26 Oct 20:00 UTC = 27 Oct WIB; 30 Nov 18:00 UTC = 1 Dec
    assert [rows[m].received for m in ("2026-07", "2026-08", "2026-10", "2026-11", "2026-12")] \
        == [1, 1, 2, 2, 1]
    assert sum(m.received for m in rows.values()) == 7  # Kab. Bandung's never counted here
    utc = {m.month: m for m in indexed.monthly(Place("kota-bandung"), shown, "UTC")}
    assert utc["2026-10"].completed == 1 and utc["2026-11"].completed == 3


def test_dashboards_feeds_and_facets_never_merge_same_codes(client: TestClient) -> None:
    shared = client.get("/dasbor/department/dpmptsp", follow_redirects=False)
    assert shared.status_code == 300
    assert 'href="/dasbor/kota-bandung/dpmptsp"' in shared.text
    assert 'href="/dasbor/kab-bandung/dpmptsp"' in shared.text
    page = client.get("/dasbor/kab-bandung/dpmptsp").text
    assert 'href="/dasbor/kab-bandung/dpmptsp/pbg"' in page
    assert '<span class="k">Diterima</span><span class="v">5</span>' in page  # not 12
    api = client.get("/api/v1/stats/department/dpmptsp")
    assert api.status_code == 400 and api.json()["choices"] == ["kab-bandung", "kota-bandung"]
    kota = client.get("/api/v1/stats/department/dpmptsp",
                      params={"jurisdiction": "kota-bandung"}).json()
    assert kota["totals"]["received"] == 7 and kota["totals"]["completed"] == 6
    assert kota["totals"]["overdue_open"] == 1
    facets = client.get("/api/v1/cases", params={"q": "pbg"}).json()["facets"]
    assert {(f["value"], f["count"]) for f in facets["department"]} == {
        ("kota-bandung/dpmptsp", 7), ("kab-bandung/dpmptsp", 5)}
    narrowed = client.get("/api/v1/cases", params={"department": "kab-bandung/dpmptsp"})
    assert narrowed.json()["total"] == 5
    feed = client.get("/feeds/service/kab-bandung/pbg.json").json()
    receipts = {item["url"].rsplit("/", 1)[1] for item in feed["items"]}
    assert receipts and all(r.startswith("KBB-") for r in receipts)
    assert client.get("/feeds/department/dpmptsp.atom", follow_redirects=False
                      ).status_code == 300


def test_comparison_page_api_and_csv(client: TestClient) -> None:
    page = client.get("/perbandingan").text
    assert page.index("Kab-Bandung") < page.index("Kota Bandung")  # ranked 1, then 2
    assert "Cara menghitung" in page and "▲</span> membaik" in page
    api = client.get("/api/v1/comparison").json()
    assert [(e["code"], e["rank"], e["trend"]) for e in api["entries"]] == [
        ("kab-bandung", 1, "unknown"), ("kota-bandung", 2, "up")]
    assert api["entries"][1]["share_within_legal_maximum"] == 0.75
    answer = client.get("/dasbor/kota-bandung/dpmptsp/pbg/statistik.csv")
    assert answer.headers["content-disposition"] == \
        'attachment; filename="pantau-statistik-kota-bandung-dpmptsp-pbg.csv"'
    rows = {r[4]: r[5:] for r in csv.reader(io.StringIO(answer.text))}
    assert rows["2026-11"] == ["2", "4", "3", "0.7500", "5.0"]
    assert rows["2026-08"] == ["1", "2", "1", "0.5000", "9.0"]
