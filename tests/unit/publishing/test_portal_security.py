"""Security headers on every portal answer, absolute URLs only from the configured public base
URL (never the Host header), no protocol-relative link or redirect, 405 with Allow, the offline
API docs, and the export permits."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pantau_publishing.domain.record import case_document, change_documents, clean_case
from pantau_publishing.portal.app import create_app
from pantau_publishing.portal.security import safe_location
from pantau_publishing.service.records import PublicRecords
from pantau_publishing.settings import PublishingSettings
from tests.unit.publishing.factories import public_case
from tests.unit.publishing.fakes import FakeReader
from tests.unit.publishing.test_portal import STATS_AGGS

BASE = "https://pantau.example.go.id"
RECEIPT = "BDG-PBG-2026-000001"


def reader() -> FakeReader:
    case = clean_case(public_case(RECEIPT, revision=3))
    aggs = {**STATS_AGGS, "rows": {"buckets": []}}
    return FakeReader([case_document(case)], [d for _i, d in change_documents(case)], aggs)


def make_client(base: str = BASE, **settings: Any) -> TestClient:
    return TestClient(create_app(PublishingSettings(public_base_url=base, **settings),
                                 PublicRecords(reader())))


@pytest.fixture
def client() -> TestClient:
    return make_client()


PAGES = ["/", f"/kasus/{RECEIPT}", "/dasbor", "/umpan", "/feed.atom", "/feed.json",
         "/open311/v2/discovery.json", "/api/v1/openapi.json", "/api/docs", "/static/portal.css",
         "/nope", "/api/v1/nope", "/export/cases.csv", "/healthz"]


@pytest.mark.parametrize("path", PAGES)
def test_every_answer_has_the_security_headers(client: TestClient, path: str) -> None:
    headers = client.get(path).headers
    csp = headers["content-security-policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp and headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert headers["strict-transport-security"].startswith("max-age=")


def test_no_hsts_when_the_base_url_is_plain_http() -> None:
    answer = make_client("http://127.0.0.1:8000").get("/")
    assert "strict-transport-security" not in answer.headers
    assert "content-security-policy" in answer.headers


@pytest.mark.parametrize("path", ["/", f"/kasus/{RECEIPT}", "/dasbor", "/umpan", "/nope"])
def test_pages_have_no_inline_script_or_style(client: TestClient, path: str) -> None:
    page = client.get(path).text
    assert not re.search(r"<script(?![^>]*\bsrc=)", page), "inline <script>"
    assert not re.search(r"\son[a-z]+\s*=", page), "inline event handler"
    assert "style=" not in page and "<style" not in page


def test_absolute_urls_come_from_the_configured_base_not_the_host_header(
        client: TestClient) -> None:
    evil = {"Host": "evil.example", "X-Forwarded-Host": "evil.example"}
    atom = client.get("/feed.atom", headers=evil).text
    feed = client.get("/feed.json", headers=evil).json()
    discovery = client.get("/open311/v2/discovery.json", headers=evil).json()
    xml = client.get("/open311/v2/discovery.xml", headers=evil).text
    page = client.get("/umpan", headers=evil).text
    for text in (atom, str(feed), str(discovery), xml, page):
        assert "evil.example" not in text
    assert feed["home_page_url"] == BASE + "/" and feed["feed_url"] == BASE + "/feed.json"
    assert all(item["url"].startswith(BASE + "/kasus/") for item in feed["items"])
    assert f'href="{BASE}/feed.atom"' in atom or f"{BASE}/feed.atom" in atom
    assert discovery["endpoints"][0]["url"] == BASE + "/open311/v2"
    assert BASE + "/feed.atom" in page


def test_development_default_base_is_loopback_with_the_portal_port() -> None:
    settings = PublishingSettings(public_base_url="", portal_port=8123)
    assert settings.base_url == "http://127.0.0.1:8123"
    feed = make_client("", portal_port=8123).get("/feed.json",
                                                 headers={"Host": "evil.example"}).json()
    assert feed["home_page_url"] == "http://127.0.0.1:8123/"


@pytest.mark.parametrize("path", ["//evil.example/x", "//evil.example/", "/\\evil.example/x",
                                  "//evil.example/api/v1/x"])
def test_double_slash_paths_never_become_protocol_relative_links(client: TestClient,
                                                                  path: str) -> None:
    # an absolute URL, so that the client sends the path as it is (not resolved against it)
    answer = client.get("http://testserver" + path, headers={"Host": "evil.example"},
                        follow_redirects=False)
    assert answer.status_code in (301, 302, 303, 307, 308, 404), answer.status_code
    location = answer.headers.get("location", "")
    assert not location.startswith("//") and "evil.example" not in location.split("/")[2:3]
    body = answer.text
    assert not re.search(r"""(href|src|action)=["']//""", body), body[:500]
    assert '"instance":"//' not in body.replace(" ", "")


def test_trailing_slash_redirect_uses_the_base_url_not_the_host(client: TestClient) -> None:
    answer = client.get("/dasbor/", headers={"Host": "evil.example"}, follow_redirects=False)
    if answer.status_code in (301, 302, 303, 307, 308):
        assert answer.headers["location"] in ("/dasbor", BASE + "/dasbor")


@pytest.mark.parametrize(("location", "expected"), [
    ("/kasus/X?lang=en", "/kasus/X?lang=en"),
    ("//evil.example/x", BASE + "/x"),
    ("/\\evil.example/x", BASE + "/x"),
    ("http://evil.example/dasbor?a=1", BASE + "/dasbor?a=1"),
    (BASE + "/kasus/X", BASE + "/kasus/X"),
])
def test_safe_location(location: str, expected: str) -> None:
    assert safe_location(location, BASE) == expected


def test_405_names_the_allowed_methods(client: TestClient) -> None:
    for path in ("/api/v1/cases", f"/api/v1/cases/{RECEIPT}", "/feed.json", "/"):
        answer = client.post(path)
        assert answer.status_code == 405, path
        assert "GET" in answer.headers["allow"], path


def test_api_docs_are_served_from_the_portal(client: TestClient) -> None:
    page = client.get("/api/docs").text
    assert "cdn.jsdelivr.net" not in page and "tiangolo" not in page
    assert 'data-openapi="/api/v1/openapi.json"' in page
    for src in re.findall(r'(?:src|href)="([^"]+)"', page):
        assert src.startswith("/api/docs/assets/"), src
        assert client.get(src).status_code == 200, src
    assert not re.search(r"<script(?![^>]*\bsrc=)", page)


def test_exports_past_the_permits_answer_503_with_retry_after() -> None:
    client = make_client(export_max_concurrent=1)
    slots = client.app.state.export_slots  # type: ignore[attr-defined]
    assert slots.take()  # one export running
    try:
        answer = client.get("/export/cases.csv")
        assert answer.status_code == 503 and int(answer.headers["retry-after"]) > 0
    finally:
        slots.give()
    assert client.get("/export/cases.csv").status_code == 200
    assert client.get("/export/cases.ndjson").status_code == 200  # its permit came back


def test_an_export_past_its_deadline_is_cut_off() -> None:
    client = make_client(export_timeout_seconds=-1)
    with pytest.raises(Exception, match="PANTAU_EXPORT_TIMEOUT_SECONDS"):
        client.get("/export/cases.ndjson")
    assert client.app.state.export_slots.take()  # type: ignore[attr-defined]
