"""Portal routes over a fake search port: routing, rendering, languages, errors."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pantau_contracts.payloads.base import RECEIPT_PATTERN
from pantau_publishing.domain.record import case_document, change_documents, clean_case
from pantau_publishing.portal.app import create_app
from pantau_publishing.portal.exports import spreadsheet_safe
from pantau_publishing.service.records import PublicRecords
from pantau_publishing.settings import PublishingSettings
from tests.unit.publishing.factories import public_case
from tests.unit.publishing.fakes import FakeReader
from tests.unit.publishing.open311_catalogue import catalogue

STATS_AGGS: dict[str, Any] = {
    "completed": {"doc_count": 1, "days": {"values": {"50.0": 4.0, "90.0": 9.5}},
                  "sla": {"buckets": [{"key": 1, "key_as_string": "true", "doc_count": 1}]}},
    "open": {"doc_count": 1, "overdue": {"doc_count": 1},
             "age": {"buckets": {"0-7": {"doc_count": 1}}}},
}


@pytest.fixture
def reader() -> FakeReader:
    cases = [clean_case(public_case("BDG-PBG-2026-000001", revision=3, overdue=True,
                                    note="Berkas lengkap")),
             clean_case(public_case("BDG-PBG-2026-000002", revision=4, department="disdukcapil",
                                    service="ktp"))]
    changes = [doc for case in cases for _id, doc in change_documents(case)]
    aggs = {**STATS_AGGS, "rows": {"buckets": [{"key": "kota-bandung", "doc_count": 2,
                                                "label": {"buckets": [{"key": "Kota Bandung"}]},
                                                **STATS_AGGS}]},
            "status": {"buckets": [{"key": "diproses", "doc_count": 1}]}}
    return FakeReader([case_document(c) for c in cases], changes, aggs)


@pytest.fixture
def client(reader: FakeReader) -> TestClient:
    return TestClient(create_app(PublishingSettings(), PublicRecords(reader)))


def test_home_has_one_labelled_search_box(client: TestClient) -> None:
    page = client.get("/").text
    assert '<label for="q">Nomor tanda terima atau kata kunci</label>' in page
    assert '<html lang="id">' in page and 'role="search"' in page


def test_receipt_number_redirects_to_the_case(client: TestClient) -> None:
    answer = client.get("/", params={"q": "bdg-pbg-2026-000001"}, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/kasus/BDG-PBG-2026-000001"


def test_keywords_show_results_with_facets(client: TestClient) -> None:
    page = client.get("/", params={"q": "pbg"}).text
    assert "2 kasus ditemukan" in page and "/kasus/BDG-PBG-2026-000002" in page
    assert "Diproses" in page and "status=diproses" in page


def test_case_page_in_both_languages(client: TestClient) -> None:
    page = client.get("/kasus/BDG-PBG-2026-000001").text
    assert "Riwayat proses" in page and "WIB" in page and "Terlambat" in page
    assert 'class="step current s-diproses"' in page and "Berkas lengkap" in page
    answer = client.get("/kasus/BDG-PBG-2026-000001", params={"lang": "en"})
    assert "Process history" in answer.text and "Late" in answer.text
    assert answer.cookies.get("lang") == "en"
    assert "Process history" in client.get("/kasus/BDG-PBG-2026-000001").text  # cookie kept


def test_unknown_case_is_a_friendly_404(client: TestClient) -> None:
    answer = client.get("/kasus/BDG-XXX-0000-000000")
    assert answer.status_code == 404 and "Nomor tanda terima tidak ditemukan" in answer.text
    assert "BDG-XXX-0000-000000" in answer.text and 'role="search"' in answer.text
    assert client.get("/tidak-ada").status_code == 404
    assert "Halaman tidak ditemukan" in client.get("/tidak-ada").text
    assert client.get("/cases/bdg-pbg-2026-000001", follow_redirects=False).headers[
        "location"] == "/kasus/BDG-PBG-2026-000001"


def test_api_case_and_problem_json(client: TestClient) -> None:
    assert client.get("/api/v1/cases/BDG-PBG-2026-000001").json()["revision"] == 3
    missing = client.get("/api/v1/cases/BDG-XXX-0000-000000")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert missing.json()["title"] == "Case not found"
    bad = client.get("/api/v1/cases", params={"status": "hilang"})  # not in the schema's enum
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "status"
    assert bad.headers["content-type"] == "application/problem+json"
    empty = client.get("/api/v1/cases", params={"sort": ""})  # outside the enum too (found
    assert empty.status_code == 422 and empty.json()["errors"][0]["field"] == "sort"  # by st)
    assert client.get("/api/v1/cases", params={"sort": "tenggat"}).status_code == 200


def test_api_search_and_stats(client: TestClient) -> None:
    answer = client.get("/api/v1/cases", params={"department": "disdukcapil",
                                                 "jurisdiction": "kota-bandung"}).json()
    assert answer["total"] == 1 and answer["results"][0]["service_code"] == "ktp"
    qualified = client.get("/api/v1/cases", params={"department": "kota-bandung/disdukcapil"})
    assert qualified.json()["total"] == 1
    # every jurisdiction of the catalogue has a Disdukcapil: a bare code alone is refused,
    # naming the parameter that settles it (it used to add them all together)
    shared = client.get("/api/v1/cases", params={"department": "disdukcapil"})
    assert shared.status_code == 400 and shared.json()["parameter"] == "jurisdiction"
    assert "kab-bandung" in shared.json()["choices"]
    stats = client.get("/api/v1/stats").json()
    assert stats["totals"]["median_working_days"] == 4.0
    assert stats["rows"][0]["label"] == "Kota Bandung"
    assert "/api/v1/cases/{receipt_number}" in client.get("/api/v1/openapi.json").json()["paths"]


def test_dashboard_renders_html_bars_without_js(client: TestClient) -> None:
    page = client.get("/dasbor").text
    assert 'class="chart"' in page and "Kota Bandung" in page and "100%" in page
    assert "<script" not in page
    assert client.get("/dasbor/planet/x").status_code == 404


def test_open311(client: TestClient, reader: FakeReader) -> None:
    client.app.state.open311_catalogue = catalogue("kota-bandung", "kab-bandung")
    assert client.get("/open311/v2/discovery.json").json()["endpoints"][0]["formats"]
    answer = client.get("/open311/v2/requests.json",
                        params={"jurisdiction_id": "kota-bandung", "service_code": "ktp"})
    assert answer.status_code == 200 and answer.json()
    assert {"terms": {"service_code": ["ktp"]}} in reader.bodies[-1]["query"]["bool"]["filter"]
    xml = client.get("/open311/v2/requests/BDG-PBG-2026-000001.xml?jurisdiction_id=kota-bandung")
    assert xml.headers["content-type"].startswith("text/xml") and b"<status>open" in xml.content
    assert client.get("/open311/v2/requests/NOPE-0000.json?jurisdiction_id=kota-bandung"
                      ).status_code == 404


def test_feeds(client: TestClient) -> None:
    atom = client.get("/feed.atom")
    assert atom.headers["content-type"].startswith("application/atom+xml")
    assert client.get("/feed.json").json()["version"].endswith("1.1")
    case_feed = client.get("/feeds/case/BDG-PBG-2026-000002.json").json()
    assert case_feed["items"] and all("000002" in i["id"] for i in case_feed["items"])
    assert client.get("/feeds/planet/x.atom").status_code == 404
    # department and service codes repeat across jurisdictions: their feeds name both
    named = client.get("/feeds/service/kota-bandung/pbg.json").json()["title"]
    assert "Persetujuan Bangunan Gedung (PBG)" in named and "Kota Bandung" in named
    assert "Investment and One-Stop Integrated Services Office" in client.get(
        "/feeds/department/kota-bandung/dpmptsp.json?lang=en").json()["title"]


def test_export_csv_and_ndjson(client: TestClient) -> None:
    rows = list(csv.DictReader(io.StringIO(client.get("/export/cases.csv").text)))
    assert [r["receipt_number"] for r in rows] == ["BDG-PBG-2026-000001", "BDG-PBG-2026-000002"]
    assert rows[1]["selesai_at"] and not rows[0]["selesai_at"]
    lines = client.get("/export/cases.ndjson", params={"service": "ktp"}).text.splitlines()
    assert len(lines) == 1


def test_home_lists_latest_changes(client: TestClient) -> None:
    page = client.get("/").text
    assert "Perubahan status terbaru" in page and "/kasus/BDG-PBG-2026-000002" in page


def test_api_search_uses_its_declared_parameters(client: TestClient) -> None:
    """The handler searches with the values FastAPI validated and converted, not the raw query
    string read again: ``overdue=yes`` is a boolean to the declared parameter, so it filters
    (it was refused 400 when the raw text went through the HTML pages' parser)."""
    overdue = client.get("/api/v1/cases", params={"overdue": "yes"})
    assert overdue.status_code == 200
    assert [c["receipt_number"] for c in overdue.json()["results"]] == ["BDG-PBG-2026-000001"]
    narrowed = client.get("/api/v1/cases", params={"overdue": "off", "sort": "nomor",
                                                   "from": "2000-01-01", "size": "1"})
    assert narrowed.json()["results"][0]["receipt_number"] == "BDG-PBG-2026-000002"
    for stamp in ("0", "1700000000", "20260302"):  # not a full-date, though pydantic reads some
        off_schema = client.get("/api/v1/cases", params={"to": stamp})
        assert off_schema.status_code == 422 and off_schema.json()["errors"][0]["field"] == "to"
    unknown = client.get("/api/v1/cases", params={"sort": "acak"})  # outside the schema's enum
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "sort"
    assert unknown.headers["content-type"] == "application/problem+json"


def test_unknown_paths_html_for_people_problem_json_for_machines(client: TestClient) -> None:
    html = client.get("/tidak-ada")
    assert html.status_code == 404 and html.headers["content-type"].startswith("text/html")
    api = client.get("/api/v1/nothing")
    assert api.status_code == 404 and api.headers["content-type"] == "application/problem+json"
    bad = client.get("/api/v1/cases", params={"page": "x"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "page"
    assert client.get("/?from=kemarin").status_code == 400


# --- malformed receipt numbers: a 404, and the search engine is never asked ------------------

class GuardedReader(FakeReader):
    """Fails the test if a receipt number that cannot exist reaches the search port."""

    def get_case(self, receipt_number: str) -> dict[str, Any] | None:
        assert re.fullmatch(RECEIPT_PATTERN, receipt_number), receipt_number
        return super().get_case(receipt_number)


@pytest.fixture
def guarded(reader: FakeReader) -> TestClient:
    strict = GuardedReader(list(reader.cases.values()), reader.changes, reader.aggregations)
    return TestClient(create_app(PublishingSettings(), PublicRecords(strict)))


MALFORMED = ["A" * 5000, "%20", "%20%20", "BDG_PBG", "-BDG-PBG-2026", "ABC", "BDG%20PBG-2026",
             "BDG-PBG-2026-%C3%A9"]


@pytest.mark.parametrize("receipt", MALFORMED)
def test_malformed_receipt_numbers_are_not_found_everywhere(guarded: TestClient,
                                                            receipt: str) -> None:
    api = guarded.get(f"/api/v1/cases/{receipt}")
    assert api.status_code == 404 and api.headers["content-type"] == "application/problem+json"
    assert len(api.json()["detail"]) < 200  # what was typed is echoed, not a page-long paste
    page = guarded.get(f"/kasus/{receipt}")
    assert page.status_code == 404 and "Nomor tanda terima tidak ditemukan" in page.text
    assert guarded.get(f"/kasus/{receipt}/events").status_code == 404
    guarded.app.state.open311_catalogue = catalogue("kota-bandung")
    assert guarded.get(f"/open311/v2/requests/{receipt}.json").status_code == 404


def test_receipt_numbers_are_normalised_once_for_case_and_live_revision(
        guarded: TestClient) -> None:
    records = guarded.app.state.records
    assert records.case(" bdg-pbg-2026-000001 ").receipt_number == "BDG-PBG-2026-000001"
    assert records.revision(" bdg-pbg-2026-000001 ") == 3
    assert records.case("  ") is None and records.revision("") is None
    assert guarded.get("/api/v1/cases/bdg-pbg-2026-000001%20").json()["revision"] == 3


# --- spreadsheet formula injection ------------------------------------------------------------

@pytest.mark.parametrize("value", ["=HYPERLINK(\"http://x\")", "+1+1", "-2+3", "@SUM(A1)",
                                   "\tx", "\rx"])
def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised(value: str) -> None:
    assert spreadsheet_safe(value) == "'" + value
    assert spreadsheet_safe("Coblong") == "Coblong" and spreadsheet_safe(-1.5) == -1.5


def test_csv_export_neutralises_formulas_in_text_cells() -> None:
    record = public_case("BDG-PBG-2026-000001", channel="=cmd|' /C calc'!A0",
                         jurisdiction_name="@Kota Bandung")
    reader = FakeReader([case_document(clean_case(record))])
    client = TestClient(create_app(PublishingSettings(), PublicRecords(reader)))
    row = next(csv.DictReader(io.StringIO(client.get("/export/cases.csv").text)))
    assert row["channel"] == "'=cmd|' /C calc'!A0"
    assert row["jurisdiction_name"] == "'@Kota Bandung"
    assert row["receipt_number"] == "BDG-PBG-2026-000001"  # ordinary cells untouched
    ndjson = client.get("/export/cases.ndjson").text  # data for programs: left as it is
    assert '"channel": "=cmd' in ndjson


# --- feeds re-check what they read --------------------------------------------------------

def test_feeds_recheck_change_documents() -> None:
    case = clean_case(public_case("BDG-PBG-2026-000001", revision=2))
    changes = [doc for _id, doc in change_documents(case)]
    changes[-1] = {**changes[-1], "note": "hubungi 0812-3456-7890 / budi@example.com"}
    changes.append({**changes[0], "seq": 9, "applicant_name": "Budi Santoso"})
    reader = FakeReader([case_document(case)], changes)
    client = TestClient(create_app(PublishingSettings(), PublicRecords(reader)))
    for url in ("/feed.atom", "/feed.json", "/feeds/case/BDG-PBG-2026-000001.json", "/"):
        text = client.get(url).text
        assert "0812" not in text and "budi@example.com" not in text and "Budi" not in text
        assert "BDG-PBG-2026-000001" in text
    items = client.get("/feed.json").json()["items"]
    assert len(items) == 2  # the invalid document is left out, not shown
