"""Open data: ``/data.json`` conforms to DCAT-US 1.1 (Project Open Data, the non-federal
profile: no bureau/program codes), lists the exports, feeds, Open311 and statistics CSV of every
jurisdiction and department with absolute URLs from ``PANTAU_PUBLIC_BASE_URL`` that the portal
actually serves; the data dictionaries describe exactly the columns the CSVs have. Also the
favicon and the per-page ``<meta name="description">`` (Lighthouse)."""

from __future__ import annotations

import re
from typing import Any

import jsonschema_rs
import pytest
from fastapi.testclient import TestClient

from pantau_contracts.catalogue import load_catalogue
from pantau_publishing.domain.monthly import CSV_COLUMNS
from pantau_publishing.domain.opendata import LICENSE
from pantau_publishing.domain.record import case_document, change_documents, clean_case
from pantau_publishing.portal.app import create_app
from pantau_publishing.portal.exports import COLUMNS
from pantau_publishing.portal.meta import describe
from pantau_publishing.service.records import PublicRecords
from pantau_publishing.settings import PublishingSettings
from tests.unit.publishing.factories import public_case
from tests.unit.publishing.fakes import FakeReader
from tests.unit.publishing.test_portal import STATS_AGGS

BASE = "https://pantau.jabarprov.example"
ISO_DATE = r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2})?([zZ]|[+-]\d{2}:?\d{2})?)?$"
URI = {"type": "string", "pattern": "^https?://"}
# The required fields and shapes of the DCAT-US 1.1 schema (non-federal profile), restated from
# https://project-open-data.cio.gov/v1.1/schema (catalog.json, dataset.json, distribution.json,
# organization.json, vcard.json): a harvester refuses a catalogue missing any of them.
DCAT_US_1_1: dict[str, Any] = {
    "type": "object", "required": ["conformsTo", "dataset"],
    "properties": {
        "conformsTo": {"enum": ["https://project-open-data.cio.gov/v1.1/schema"]},
        "@type": {"enum": ["dcat:Catalog"]}, "describedBy": URI, "@context": URI,
        "dataset": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/dataset"}}},
    "$defs": {
        "dataset": {
            "type": "object",
            "required": ["title", "description", "keyword", "modified", "publisher",
                         "contactPoint", "identifier", "accessLevel"],
            "properties": {
                "@type": {"enum": ["dcat:Dataset"]},
                "title": {"type": "string", "minLength": 1},
                "description": {"type": "string", "minLength": 1},
                "keyword": {"type": "array", "minItems": 1,
                            "items": {"type": "string", "minLength": 1}},
                "modified": {"type": "string", "pattern": ISO_DATE},
                "publisher": {"type": "object", "required": ["name"], "properties": {
                    "@type": {"enum": ["org:Organization"]},
                    "name": {"type": "string", "minLength": 1}}},
                "contactPoint": {"type": "object", "required": ["fn", "hasEmail"],
                                 "properties": {"@type": {"enum": ["vcard:Contact"]},
                                                "fn": {"type": "string", "minLength": 1},
                                                "hasEmail": {"type": "string",
                                                             "pattern": r"^mailto:[\w.+-]+@"}}},
                "identifier": {"type": "string", "minLength": 1},
                "accessLevel": {"enum": ["public", "restricted public", "non-public"]},
                "license": URI, "describedBy": URI, "landingPage": URI,
                "describedByType": {"type": "string", "pattern": r"^[-\w]+/[-\w.+]+$"},
                "accrualPeriodicity": {"type": "string", "pattern":
                                       r"^(irregular|R\d*/P(\d+[YMWD])*(T(\d+[HMS])+)?)$"},
                "language": {"type": "array", "items": {"type": "string",
                                                        "pattern": "^[a-z]{2,3}(-[A-Z]{2})?$"}},
                "references": {"type": "array", "items": URI},
                "distribution": {"type": "array", "minItems": 1,
                                 "items": {"$ref": "#/$defs/distribution"}}}},
        "distribution": {
            "type": "object",
            "anyOf": [{"required": ["downloadURL", "mediaType"]}, {"required": ["accessURL"]}],
            "properties": {
                "@type": {"enum": ["dcat:Distribution"]}, "downloadURL": URI, "accessURL": URI,
                "mediaType": {"type": "string", "pattern": r"^[-\w]+/[-\w.+]+$"},
                "format": {"type": "string", "minLength": 1},
                "title": {"type": "string", "minLength": 1}, "describedBy": URI,
                "conformsTo": URI}}}}


@pytest.fixture
def client() -> TestClient:
    cases = [clean_case(public_case("BDG-PBG-2026-000001", revision=3, note="Berkas lengkap")),
             clean_case(public_case("KABBDG-PBG-2026-000001", revision=2,
                                    jurisdiction="kab-bandung"))]
    changes = [doc for case in cases for _id, doc in change_documents(case)]
    aggs = {**STATS_AGGS, "rows": {"buckets": [{"key": "kota-bandung", "doc_count": 2,
                                                "label": {"buckets": [{"key": "Kota Bandung"}]},
                                                **STATS_AGGS}]},
            "status": {"buckets": [{"key": "diproses", "doc_count": 1}]}}
    settings = PublishingSettings(public_base_url=BASE + "/")
    return TestClient(create_app(settings, PublicRecords(FakeReader(
        [case_document(c) for c in cases], changes, aggs))))


@pytest.fixture
def data(client: TestClient) -> dict[str, Any]:
    response = client.get("/data.json")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    document: dict[str, Any] = response.json()
    return document


def test_data_json_conforms_to_dcat_us_1_1(data: dict[str, Any]) -> None:
    errors = [f"{e.instance_path}: {e.message}"
              for e in jsonschema_rs.validator_for(DCAT_US_1_1).iter_errors(data)]
    assert not errors, errors[:10]
    identifiers = [d["identifier"] for d in data["dataset"]]
    assert len(identifiers) == len(set(identifiers))
    for dataset in data["dataset"]:
        assert dataset["license"] == LICENSE and dataset["accessLevel"] == "public"
        assert dataset["publisher"]["name"] and dataset["contactPoint"]["hasEmail"]
        assert dataset["accrualPeriodicity"] and dataset["describedBy"].startswith(BASE)


def test_every_jurisdiction_and_department_has_cases_and_statistics(
        data: dict[str, Any]) -> None:
    catalogue = load_catalogue()
    ids = {d["identifier"] for d in data["dataset"]}
    for jurisdiction in catalogue.jurisdictions.values():
        paths = [jurisdiction.code] + [f"{jurisdiction.code}/{d}"
                                       for d in jurisdiction.departments]
        for path in paths:
            assert f"{BASE}/data.json#cases/{path}" in ids
            assert f"{BASE}/data.json#statistics/{path}" in ids
    assert len(catalogue.jurisdictions) == 27
    kota = next(d for d in data["dataset"]
                if d["identifier"] == f"{BASE}/data.json#cases/kota-bandung")
    formats = {x["format"] for x in kota["distribution"]}
    assert {"CSV", "NDJSON", "Atom", "JSON Feed", "API"} <= formats
    assert any("open311/v2/requests.json?jurisdiction_id=kota-bandung" in x.get("accessURL", "")
               for x in kota["distribution"])
    assert kota["spatial"] == "Kota Bandung (32.73)"


def test_every_url_is_absolute_under_the_public_base_and_served(
        client: TestClient, data: dict[str, Any]) -> None:
    """Every link of the two Bandungs (and the dictionaries) answers 200 on this portal."""
    urls = {data["@id"]}
    for dataset in data["dataset"]:
        links = [dataset["identifier"], dataset["describedBy"], dataset["landingPage"],
                 *[x.get("downloadURL") or x["accessURL"] for x in dataset["distribution"]]]
        assert all(u.startswith(BASE + "/") for u in links), links
        if "bandung" in dataset["identifier"] and "barat" not in dataset["identifier"]:
            urls.update(u.split("#")[0] for u in links)
    assert len(urls) > 20
    for url in sorted(urls):
        path = url.removeprefix(BASE)
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 200, (path, response.status_code, response.text[:300])


def test_the_dictionaries_describe_exactly_the_csv_columns(client: TestClient) -> None:
    cases = client.get("/data/dictionary/cases.json").json()
    assert [f["name"] for f in cases["fields"]] == COLUMNS
    assert all(f["description"] and f["type"] for f in cases["fields"])
    header = client.get("/export/cases.csv").text.splitlines()[0].split(",")
    assert header == [f["name"] for f in cases["fields"]]
    statistics = client.get("/data/dictionary/statistics.json").json()
    assert [f["name"] for f in statistics["fields"]] == [
        "jurisdiction", "department", "service", "time_zone", *CSV_COLUMNS]
    assert client.get("/data/dictionary/nope.json").status_code == 404


def test_favicon_is_served_and_linked(client: TestClient) -> None:
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"] == "image/x-icon"
    assert icon.content[:4] == b"\x00\x00\x01\x00"  # an ICO container
    svg = client.get("/static/favicon.svg")
    assert svg.status_code == 200 and svg.text.startswith("<svg")
    page = client.get("/").text
    assert 'rel="icon" href="/favicon.ico"' in page and 'href="/static/favicon.svg"' in page


def description(html: str) -> str:
    found = re.search(r'<meta name="description" content="([^"]+)">', html)
    assert found, html[:800]
    return found.group(1)


@pytest.mark.parametrize("lang", ["id", "en"])
def test_every_page_has_its_own_description_in_its_language(client: TestClient,
                                                             lang: str) -> None:
    pages = ["/", "/?q=coblong", "/kasus/BDG-PBG-2026-000001", "/dasbor",
             "/dasbor/kota-bandung/dpmptsp", "/umpan", "/kasus/XXX-0000-2026"]
    found = {p: description(client.get(p + ("&" if "?" in p else "?") + f"lang={lang}").text)
             for p in pages}
    assert len(set(found.values())) == len(pages) - 1  # only the 404 shares the general one
    assert "BDG-PBG-2026-000001" in found["/kasus/BDG-PBG-2026-000001"]
    assert "Kota Bandung" in found["/dasbor/kota-bandung/dpmptsp"]
    words = {"id": "layanan", "en": "service"}[lang]
    assert all(words in text.lower() or "pantau" in text.lower() for text in found.values())
    if lang == "en":
        assert "Service performance dashboard" in found["/dasbor"]


def test_the_comparison_page_says_what_it_compares() -> None:
    """(The page itself, on real aggregations: the browser test.)"""
    assert "antardaerah Jawa Barat" in describe("comparison.html", "id", {})
    assert "in Kota Bandung" in describe("comparison.html", "en", {"scope_name": "Kota Bandung"})
    assert describe("error.html", "en", {}) == describe("home.html", "en", {})
    assert describe("case.html", "fr", {}).startswith("Posisi berkas")  # unknown: Indonesian
