"""Portal routes over a fake search port: routing, rendering, languages, errors."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pantau_publishing.domain.record import case_document, change_documents, clean_case
from pantau_publishing.portal.app import create_app
from pantau_publishing.service.records import PublicRecords
from pantau_publishing.settings import PublishingSettings
from tests.unit.publishing.factories import public_case
from tests.unit.publishing.fakes import FakeReader

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
    bad = client.get("/api/v1/cases", params={"status": "hilang"})
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "status"


def test_api_search_and_stats(client: TestClient) -> None:
    answer = client.get("/api/v1/cases", params={"department": "disdukcapil"}).json()
    assert answer["total"] == 1 and answer["results"][0]["service_code"] == "ktp"
    stats = client.get("/api/v1/stats").json()
    assert stats["totals"]["median_working_days"] == 4.0
    assert stats["rows"][0]["label"] == "Kota Bandung"
    assert "/api/v1/cases/{receipt_number}" in client.get("/api/v1/openapi.json").json()["paths"]


def test_dashboard_renders_html_bars_without_js(client: TestClient) -> None:
    page = client.get("/dasbor").text
    assert 'class="chart"' in page and "Kota Bandung" in page and "100%" in page
    assert "<script" not in page
    assert client.get("/dasbor/planet/x").status_code == 404


def test_open311(client: TestClient) -> None:
    assert client.get("/open311/v2/discovery.json").json()["endpoints"][0]["formats"]
    requests = client.get("/open311/v2/requests.json", params={"service_code": "ktp"}).json()
    assert [r["service_request_id"] for r in requests] == ["BDG-PBG-2026-000002"]
    xml = client.get("/open311/v2/requests/BDG-PBG-2026-000001.xml")
    assert xml.headers["content-type"].startswith("text/xml") and b"<status>open" in xml.content
    assert client.get("/open311/v2/requests/NOPE-0000.json").status_code == 404


def test_feeds(client: TestClient) -> None:
    atom = client.get("/feed.atom")
    assert atom.headers["content-type"].startswith("application/atom+xml")
    assert client.get("/feed.json").json()["version"].endswith("1.1")
    case_feed = client.get("/feeds/case/BDG-PBG-2026-000002.json").json()
    assert case_feed["items"] and all("000002" in i["id"] for i in case_feed["items"])
    assert client.get("/feeds/planet/x.atom").status_code == 404
    named = client.get("/feeds/service/pbg.json").json()["title"]
    assert named.endswith("Persetujuan Bangunan Gedung (PBG)")  # names, not codes
    assert client.get("/feeds/department/dpmptsp.json?lang=en").json()["title"].endswith(
        "Investment and One-Stop Integrated Services Office")


def test_export_csv_and_ndjson(client: TestClient) -> None:
    rows = list(csv.DictReader(io.StringIO(client.get("/export/cases.csv").text)))
    assert [r["receipt_number"] for r in rows] == ["BDG-PBG-2026-000001", "BDG-PBG-2026-000002"]
    assert rows[1]["selesai_at"] and not rows[0]["selesai_at"]
    lines = client.get("/export/cases.ndjson", params={"service": "ktp"}).text.splitlines()
    assert len(lines) == 1


def test_home_lists_latest_changes(client: TestClient) -> None:
    page = client.get("/").text
    assert "Perubahan status terbaru" in page and "/kasus/BDG-PBG-2026-000002" in page


def test_unknown_paths_html_for_people_problem_json_for_machines(client: TestClient) -> None:
    html = client.get("/tidak-ada")
    assert html.status_code == 404 and html.headers["content-type"].startswith("text/html")
    api = client.get("/api/v1/nothing")
    assert api.status_code == 404 and api.headers["content-type"] == "application/problem+json"
    bad = client.get("/api/v1/cases", params={"page": "x"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "page"
    assert client.get("/?from=kemarin").status_code == 400
