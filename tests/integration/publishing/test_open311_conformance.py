"""Open311 GeoReport v2 conformance, walked point by point through the spec
(wiki.open311.org/GeoReport_v2 and /Service_Discovery), in JSON and in XML, on a real running
portal (``python -m pantau_publishing.portal``) over a real Elasticsearch index. The index holds
cases of two jurisdictions whose department and service codes repeat (``dpmptsp``/``pbg`` in
Kota and Kab. Bandung), written through the indexer's own code path (``IndexBatch``); the
services come from the repository's catalogue, as the portal loads it. XML is read with a real
parser (``xml.etree``); a third-party client from PyPI (``georeport``) reads both formats too.

Each test's docstring quotes the point of the spec it checks.
"""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import httpx
import pytest
import requests
from georeport import GeoReport

from pantau_contracts.catalogue import load_catalogue
from pantau_publishing.adapters.search.bootstrap import bootstrap, drop
from pantau_publishing.adapters.search.client import Aliases, make_client
from pantau_publishing.adapters.search.store import EsSearchIndex
from pantau_publishing.service.indexing import IndexBatch
from pantau_publishing.service.ports import ReceivedMessage
from tests.conftest import ES_URL, ServiceProcess, wait_for
from tests.integration.publishing.conftest import free_port
from tests.unit.publishing.factories import case_updated, public_case

pytestmark = pytest.mark.integration
PUBLIC = "https://pantau.example"
FORMATS = ["json", "xml"]
KOTA, KAB = "kota-bandung", "kab-bandung"
WIB = timezone(timedelta(hours=7))
NOW = datetime.now(UTC).replace(microsecond=0)


@dataclass(frozen=True)
class Case:
    receipt: str
    jurisdiction: str
    department: str
    service: str
    days_ago: int
    revision: int  # 4: selesai (closed); fewer: open

    @property
    def submitted(self) -> datetime:
        return NOW - timedelta(days=self.days_ago, hours=1, seconds=7)


CASES = {c.receipt: c for c in (
    Case("BDG-PBG-2026-910001", KOTA, "dpmptsp", "pbg", 10, 2),
    Case("BDG-PBG-2026-910002", KOTA, "dpmptsp", "pbg", 20, 4),
    Case("BDG-SLF-2026-910003", KOTA, "dpmptsp", "slf", 30, 3),
    Case("BDG-PBG-2026-910004", KOTA, "dpmptsp", "pbg", 120, 2),  # older than 90 days
    Case("BDG-KTP-2026-910005", KOTA, "disdukcapil", "ktp-el", 5, 1),
    Case("KABBDG-PBG-2026-910001", KAB, "dpmptsp", "pbg", 10, 2),  # same codes, other place
    Case("KABBDG-PBG-2026-910002", KAB, "dpmptsp", "pbg", 15, 4),
)}
RECENT_KOTA = {r for r, c in CASES.items() if c.jurisdiction == KOTA and c.days_ago <= 90}


@pytest.fixture(scope="module")
def portal() -> Iterator[str]:
    """One index with the cases above and one portal process over it, for the whole module."""
    tag = uuid.uuid4().hex[:10]
    aliases = Aliases(f"ptest-{tag}-cases", f"ptest-{tag}-changes")
    es = make_client(ES_URL)
    bootstrap(es, aliases)
    records = [public_case(c.receipt, jurisdiction=c.jurisdiction, department=c.department,
                           service=c.service, revision=c.revision, submitted_at=c.submitted)
               for c in CASES.values()]
    IndexBatch(EsSearchIndex(es, aliases)).handle(
        [ReceivedMessage(case_updated(r)) for r in records])
    es.indices.refresh(index=f"{aliases.cases},{aliases.changes}")
    port = free_port()
    with tempfile.TemporaryDirectory() as state:
        process = ServiceProcess("pantau_publishing.portal", {
            "PANTAU_PORTAL_PORT": str(port), "PANTAU_PUBLIC_BASE_URL": PUBLIC,
            "PANTAU_ELASTICSEARCH_URL": ES_URL, "PANTAU_INDEX_ALIAS": aliases.cases,
            "PANTAU_CHANGES_ALIAS": aliases.changes, "PANTAU_STATE_DIR": state},
            Path(state) / "portal.log")
        base = f"http://127.0.0.1:{port}"
        try:
            wait_for(lambda: _up(base), timeout=30, message=lambda: "portal up\n" + process.log())
            yield base
        finally:
            process.stop()
            drop(es, aliases)
            es.close()


def _up(base: str) -> bool:
    try:
        return httpx.get(base + "/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def get(portal: str, path: str, **params: Any) -> httpx.Response:
    return httpx.get(portal + path, params=params, timeout=10)


def rows(answer: httpx.Response, fmt: str) -> list[dict[str, Any]]:
    """The list an answer holds — JSON as is; XML (read by a real parser) as one dict of
    child texts per item (``None`` for an empty element)."""
    assert answer.status_code == 200, answer.text[:300]
    if fmt == "json":
        document = answer.json()
        assert isinstance(document, list)
        return document
    root = ET.fromstring(answer.content)
    return [{child.tag: child.text for child in item} for item in root]


def ids(answer: httpx.Response, fmt: str) -> list[str]:
    return [str(r["service_request_id"]) for r in rows(answer, fmt)]


def error_of(answer: httpx.Response, fmt: str) -> tuple[int, str]:
    """(code, description) of the one Open311 error in the answer."""
    assert "problem" not in answer.headers["content-type"]
    if fmt == "json":
        [error] = answer.json()
        return int(error["code"]), str(error["description"])
    root = ET.fromstring(answer.content)
    assert root.tag == "errors" and [e.tag for e in root] == ["error"]
    return int(root.findtext("error/code") or 0), root.findtext("error/description") or ""


def w3c(instant: datetime) -> str:
    return instant.isoformat()


# --- Service Discovery ------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", FORMATS)
def test_discovery_lists_the_endpoint_under_the_public_base_url(portal: str, fmt: str) -> None:
    """Service Discovery: "This url must end in /discovery.<format>"; "The discovery file must
    be provided as both XML and JSON"; "All fields are required": changeset, contact,
    key_service, endpoints.endpoint.{specification, url, changeset, type, formats}."""
    for path in (f"/open311/discovery.{fmt}", f"/open311/v2/discovery.{fmt}"):
        answer = get(portal, path)
        assert answer.status_code == 200
        if fmt == "json":
            doc = answer.json()
            endpoint = doc["endpoints"][0]
            formats = endpoint["formats"]
        else:
            root = ET.fromstring(answer.content)
            assert root.tag == "discovery"
            doc = {child.tag: child.text for child in root}
            element = root.find("endpoints/endpoint")
            assert element is not None
            endpoint = {child.tag: child.text for child in element}
            formats = [f.text for f in element.iterfind("formats/format")]
        assert all(doc[k] for k in ("changeset", "contact", "key_service"))
        assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
        assert endpoint["url"] == f"{PUBLIC}/open311/v2"  # PANTAU_PUBLIC_BASE_URL, not Host
        assert endpoint["type"] == "production" and endpoint["changeset"]
        assert set(formats) == {"text/xml", "application/json"}


# --- Internationalization and Encoding, Format Support -----------------------------------------

@pytest.mark.parametrize("fmt", FORMATS)
def test_every_answer_is_utf8_with_the_specs_content_type(portal: str, fmt: str) -> None:
    """"UTF-8 is required everywhere"; "XML: Content-Type: text/xml; charset=utf-8", "JSON:
    Content-Type: application/json; charset=utf-8"; "the root element must be preceded with the
    XML declaration including the encoding="UTF-8" attribute" — errors included."""
    expected = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
    for path, params in ((f"/open311/v2/services.{fmt}", {"jurisdiction_id": KOTA}),
                         (f"/open311/v2/requests.{fmt}", {"jurisdiction_id": KOTA}),
                         (f"/open311/v2/services/pbg.{fmt}", {"jurisdiction_id": KOTA}),
                         (f"/open311/discovery.{fmt}", {}),
                         (f"/open311/v2/requests.{fmt}", {})):  # an error
        answer = get(portal, path, **params)
        assert answer.headers["content-type"] == expected[fmt], path
        answer.content.decode("utf-8")
        if fmt == "xml":
            assert answer.content.lower().startswith(b'<?xml version="1.0" encoding="utf-8"?>')


# --- jurisdiction_id ----------------------------------------------------------------------------

ENDPOINTS = ["services.{fmt}", "services/pbg.{fmt}", "requests.{fmt}",
             "requests/BDG-PBG-2026-910001.{fmt}"]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_jurisdiction_id_is_required_when_several_are_served(portal: str, fmt: str,
                                                             endpoint: str) -> None:
    """jurisdiction_id: "This is only required if the endpoint serves multiple jurisdictions";
    "400 - jurisdiction_id was not provided (specify in error response)"; and "Optional"
    arguments passed empty are the same as not passed — so an empty one is missing too."""
    for params in ({}, {"jurisdiction_id": ""}):
        answer = get(portal, "/open311/v2/" + endpoint.format(fmt=fmt), **params)
        assert answer.status_code == 400
        code, description = error_of(answer, fmt)
        assert code == 400 and "jurisdiction_id" in description


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_an_unknown_jurisdiction_is_404(portal: str, fmt: str, endpoint: str) -> None:
    """"404 - jurisdiction_id provided was not found (specify in error response)" (it used to
    answer 200 with an empty list)."""
    answer = get(portal, "/open311/v2/" + endpoint.format(fmt=fmt), jurisdiction_id="atlantis")
    assert answer.status_code == 404
    code, description = error_of(answer, fmt)
    assert code == 404 and "atlantis" in description


# --- GET Service List ---------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", FORMATS)
def test_service_list_is_the_jurisdictions_own_catalogue(portal: str, fmt: str) -> None:
    """GET Service List: "provide a list of acceptable 311 service request types and their
    associated service codes. These request types can be unique to the city/jurisdiction";
    fields service_code, service_name, description, metadata (true/false), type
    (realtime/batch/blackbox), keywords, group. Listed from the catalogue (services with no
    case yet too), never merged across jurisdictions that share codes."""
    catalogue = load_catalogue()
    for code in (KOTA, KAB):
        listed = rows(get(portal, f"/open311/v2/services.{fmt}", jurisdiction_id=code), fmt)
        expected = [s for d in catalogue.jurisdictions[code].departments.values()
                    for s in d.services.values()]
        assert [r["service_code"] for r in listed] == [s.code for s in expected]
        for row, service in zip(listed, expected, strict=True):
            assert row["service_name"] == service.name.id and row["description"]
            assert str(row["metadata"]).lower() == "false"
            assert row["type"] == "realtime" and row["keywords"] and row["group"]
    kota = rows(get(portal, f"/open311/v2/services.{fmt}", jurisdiction_id=KOTA), fmt)
    assert "andalalin" in [r["service_code"] for r in kota]  # Kota's Dishub: no case indexed
    kab = rows(get(portal, f"/open311/v2/services.{fmt}", jurisdiction_id=KAB), fmt)
    assert "andalalin" not in [r["service_code"] for r in kab]


# --- GET Service Definition ---------------------------------------------------------------------

@pytest.mark.parametrize("fmt", FORMATS)
def test_service_definition(portal: str, fmt: str) -> None:
    """GET Service Definition (services/[service_code].[format]): service_definition with
    "service_code ... the same one submitted for this call" and attributes (none: Pantau asks
    nothing, metadata is false); "404 - service_code or jurisdiction_id provided were not
    found (specify in error response)"."""
    answer = get(portal, f"/open311/v2/services/pbg.{fmt}", jurisdiction_id=KAB)
    assert answer.status_code == 200
    if fmt == "json":
        assert answer.json() == {"service_code": "pbg", "attributes": []}
    else:
        root = ET.fromstring(answer.content)
        assert root.tag == "service_definition" and root.findtext("service_code") == "pbg"
        attributes = root.find("attributes")
        assert attributes is not None and list(attributes) == []
    missing = get(portal, f"/open311/v2/services/andalalin.{fmt}", jurisdiction_id=KAB)
    assert missing.status_code == 404 and error_of(missing, fmt)[0] == 404


# --- GET Service Requests -----------------------------------------------------------------------

@pytest.mark.parametrize("fmt", FORMATS)
def test_requests_default_to_the_last_90_days_of_the_jurisdiction(portal: str,
                                                                  fmt: str) -> None:
    """start_date/end_date: "When not specified, the range defaults to most recent 90 days";
    Response Volume: "Default query limit is a span of 90 days or first 1000 requests
    returned". Only the jurisdiction's own requests, though the codes repeat next door."""
    found = ids(get(portal, f"/open311/v2/requests.{fmt}", jurisdiction_id=KOTA), fmt)
    assert set(found) == RECENT_KOTA
    assert found == sorted(found, key=lambda r: CASES[r].days_ago)  # newest first


@pytest.mark.parametrize("fmt", FORMATS)
def test_request_fields(portal: str, fmt: str) -> None:
    """Response fields: service_request_id, status (open/closed), status_notes, service_name,
    service_code, description, agency_responsible, service_notice, requested_datetime,
    updated_datetime ("For requests with status=closed, this will be the date the request was
    closed"), expected_datetime, address, address_id, zipcode, lat, long, media_url; date-times
    "Returned in w3 format" with "Timezone information ... must be included"."""
    listed = {str(r["service_request_id"]): r for r in
              rows(get(portal, f"/open311/v2/requests.{fmt}", jurisdiction_id=KOTA), fmt)}
    fields = {"service_request_id", "status", "status_notes", "service_name", "service_code",
              "description", "agency_responsible", "service_notice", "requested_datetime",
              "updated_datetime", "expected_datetime", "address", "address_id", "zipcode",
              "lat", "long", "media_url"}
    for receipt, row in listed.items():
        assert set(row) == fields
        case = CASES[receipt]
        assert row["status"] == ("closed" if case.revision == 4 else "open")
        assert row["service_code"] == case.service
        requested = datetime.fromisoformat(str(row["requested_datetime"]))
        assert requested.utcoffset() == timedelta(hours=7) and requested == case.submitted
        assert datetime.fromisoformat(str(row["updated_datetime"])).tzinfo is not None
        assert row["lat"] in (None, "") and row["address"] in (None, "")  # never located
    closed = listed["BDG-PBG-2026-910002"]
    submitted = CASES["BDG-PBG-2026-910002"].submitted
    assert datetime.fromisoformat(str(closed["updated_datetime"])) == submitted + timedelta(days=4)


@pytest.mark.parametrize("fmt", FORMATS)
def test_service_request_id_list_overrides_all_other_arguments(portal: str, fmt: str) -> None:
    """service_request_id: "To call multiple Service Requests at once, multiple
    service_request_id can be declared; comma delimited." — "This overrides all other
    arguments." (It used to be ignored: 50 unrelated requests came back.)"""
    asked = "BDG-PBG-2026-910004,bdg-slf-2026-910003,KABBDG-PBG-2026-910001,NOPE-0000-0000"
    answer = get(portal, f"/open311/v2/requests.{fmt}", jurisdiction_id=KOTA,
                 service_request_id=asked, status="closed", service_code="ktp-el",
                 start_date="not a date")
    # the 120-day-old one too (no default window), in the order asked; Kab.'s is not Kota's
    assert ids(answer, fmt) == ["BDG-PBG-2026-910004", "BDG-SLF-2026-910003"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_service_code_is_a_comma_list(portal: str, fmt: str) -> None:
    """service_code: "This defaults to all service codes when not declared; can be declared
    multiple times, comma delimited"."""
    pbg_slf = {r for r in RECENT_KOTA if CASES[r].service in ("pbg", "slf")}
    path = f"/open311/v2/requests.{fmt}"
    assert set(ids(get(portal, path, jurisdiction_id=KOTA, service_code="pbg,slf"), fmt)) == \
        pbg_slf
    repeated = httpx.get(portal + path, params=[("jurisdiction_id", KOTA),
                                                ("service_code", "pbg"),
                                                ("service_code", "slf")], timeout=10)
    assert set(ids(repeated, fmt)) == pbg_slf
    assert set(ids(get(portal, path, jurisdiction_id=KOTA, service_code="ktp-el"), fmt)) == \
        {"BDG-KTP-2026-910005"}


@pytest.mark.parametrize("fmt", FORMATS)
def test_status_is_a_comma_list(portal: str, fmt: str) -> None:
    """status: "Allows one to search for requests which have a specific status. This defaults
    to all statuses; can be declared multiple times, comma delimited; Options: open, closed"."""
    path = f"/open311/v2/requests.{fmt}"
    opened = {r for r in RECENT_KOTA if CASES[r].revision < 4}
    assert set(ids(get(portal, path, jurisdiction_id=KOTA, status="open"), fmt)) == opened
    assert set(ids(get(portal, path, jurisdiction_id=KOTA, status="closed"), fmt)) == \
        RECENT_KOTA - opened
    assert set(ids(get(portal, path, jurisdiction_id=KOTA, status="open,closed"), fmt)) == \
        RECENT_KOTA


@pytest.mark.parametrize("fmt", FORMATS)
def test_dates_keep_their_time_and_offset(portal: str, fmt: str) -> None:
    """start_date/end_date: "Earliest/Latest datetime to include in search ... Must use w3
    format, eg 2010-01-01T00:00:00Z"; "Timezone information (either Z meaning UTC, or an HH:MM
    offset from UTC) must be included" — the time and the offset count, to the second."""
    path = f"/open311/v2/requests.{fmt}"
    at = CASES["BDG-PBG-2026-910001"].submitted
    for start in (at, at.astimezone(WIB), at.astimezone(timezone(timedelta(hours=-5)))):
        found = ids(get(portal, path, jurisdiction_id=KOTA, start_date=w3c(start)), fmt)
        assert set(found) == {"BDG-PBG-2026-910001", "BDG-KTP-2026-910005"}
    later = ids(get(portal, path, jurisdiction_id=KOTA,
                    start_date=w3c(at + timedelta(seconds=1))), fmt)
    assert set(later) == {"BDG-KTP-2026-910005"}
    zulu = at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    ending = ids(get(portal, path, jurisdiction_id=KOTA, end_date=zulu,
                     start_date=w3c(at - timedelta(days=15))), fmt)
    assert set(ending) == {"BDG-PBG-2026-910001", "BDG-PBG-2026-910002"}


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_range_may_not_span_more_than_90_days(portal: str, fmt: str) -> None:
    """start_date with end_date "allows one to search for requests which have a
    requested_datetime that matches a given range, but may not span more than 90 days";
    errors: "basically 400 for any other error where the request can not be fulfilled"."""
    answer = get(portal, f"/open311/v2/requests.{fmt}", jurisdiction_id=KOTA,
                 start_date="2026-01-01T00:00:00Z", end_date="2026-06-01T00:00:00Z")
    assert answer.status_code == 400 and "90 days" in error_of(answer, fmt)[1]
    old = get(portal, f"/open311/v2/requests.{fmt}", jurisdiction_id=KOTA,
              start_date=w3c(CASES["BDG-PBG-2026-910004"].submitted - timedelta(days=1)))
    assert "BDG-PBG-2026-910004" in ids(old, fmt)  # 90 days from a lone start_date


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("params", [{"status": "pending"}, {"start_date": "yesterday"},
                                    {"start_date": "2026-03-02T08:00:00"}, {"page": "0"},
                                    {"page_size": "abc"}])
def test_bad_arguments_are_400_in_open311_format(portal: str, fmt: str,
                                                 params: dict[str, str]) -> None:
    """Errors: "HTTP error codes should always be 404 for resources that don't exist, 403 for
    errors because of wrong or missing api_key and basically 400 for any other error" — never
    422, never problem+json; the body is errors/error/{code, description}."""
    answer = get(portal, f"/open311/v2/requests.{fmt}", jurisdiction_id=KOTA, **params)
    assert answer.status_code == 400
    code, description = error_of(answer, fmt)
    assert code == 400 and next(iter(params)) in description


@pytest.mark.parametrize("fmt", FORMATS)
def test_empty_optional_arguments_are_not_passed(portal: str, fmt: str) -> None:
    """Optional Arguments: "the response should be the same whether a parameter is passed and
    is empty or is not passed at all"."""
    path = f"/open311/v2/requests.{fmt}"
    plain = ids(get(portal, path, jurisdiction_id=KOTA), fmt)
    empty = ids(get(portal, path, jurisdiction_id=KOTA, service_request_id="",
                    service_code="", status="", start_date="", end_date=""), fmt)
    assert plain == empty


@pytest.mark.parametrize("fmt", FORMATS)
def test_page_size_pages_through_the_first_1000(portal: str, fmt: str) -> None:
    """Response Volume: "first 1000 requests returned" — more through the page/page_size
    extension."""
    path = f"/open311/v2/requests.{fmt}"
    every = ids(get(portal, path, jurisdiction_id=KOTA), fmt)
    pages = [ids(get(portal, path, jurisdiction_id=KOTA, page_size="1", page=str(n)), fmt)
             for n in range(1, len(every) + 2)]
    assert [p[0] for p in pages if p] == every and pages[-1] == []
    too_big = get(portal, path, jurisdiction_id=KOTA, page_size="1001")
    assert too_big.status_code == 400


# --- GET Service Request ------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", FORMATS)
def test_one_request_is_a_list_of_one(portal: str, fmt: str) -> None:
    """GET Service Request (requests/[service_request_id].[format]): the response is
    service_requests/request, like GET Service Requests; 404 for what does not exist — also a
    request of another jurisdiction."""
    answer = get(portal, f"/open311/v2/requests/BDG-PBG-2026-910001.{fmt}",
                 jurisdiction_id=KOTA)
    assert ids(answer, fmt) == ["BDG-PBG-2026-910001"]
    if fmt == "xml":
        assert ET.fromstring(answer.content).tag == "service_requests"
    for receipt, jurisdiction in (("NOPE-0000-0000", KOTA), ("BDG-PBG-2026-910001", KAB)):
        missing = get(portal, f"/open311/v2/requests/{receipt}.{fmt}",
                      jurisdiction_id=jurisdiction)
        assert missing.status_code == 404 and error_of(missing, fmt)[0] == 404


# --- POST Service Request, unknown resources, and /api/v1 untouched -----------------------------

@pytest.mark.parametrize("fmt", FORMATS)
def test_creating_a_request_is_refused_with_403(portal: str, fmt: str) -> None:
    """POST Service Request "Requires API Key: Yes"; "403 - Missing or Invalid API Key
    (specify in error message)". Pantau issues none: requests are made at the department."""
    answer = httpx.post(f"{portal}/open311/v2/requests.{fmt}", timeout=10, data={
        "jurisdiction_id": KOTA, "service_code": "pbg", "address_string": "Jl. Asia Afrika"})
    assert answer.status_code == 403
    code, description = error_of(answer, fmt)
    assert code == 403 and "read-only" in description


@pytest.mark.parametrize("fmt", FORMATS)
def test_what_does_not_exist_is_404_in_open311_format(portal: str, fmt: str) -> None:
    """"The HTTP error codes should always be 404 for resources that don't exist"."""
    answer = get(portal, f"/open311/v2/tokens/123.{fmt}", jurisdiction_id=KOTA)
    assert answer.status_code == 404 and error_of(answer, fmt)[0] == 404
    unknown_format = get(portal, "/open311/v2/requests.csv", jurisdiction_id=KOTA)
    assert unknown_format.status_code == 404 and error_of(unknown_format, "xml")[0] == 404


def test_api_v1_still_speaks_problem_json(portal: str) -> None:
    """Only /open311/ speaks Open311: Pantau's own API keeps RFC 9457 problem+json."""
    answer = get(portal, "/api/v1/cases/NOPE-0000-0000")
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"


# --- a third-party client from PyPI --------------------------------------------------------------

@pytest.mark.parametrize("fmt", FORMATS)
def test_the_georeport_client_reads_both_formats(portal: str, fmt: str) -> None:
    """georeport (PyPI) — requests + xmltodict — as a city's app would use it."""
    client = GeoReport(f"{portal}/open311/v2", jurisdiction=KOTA, output_format=fmt)
    services = client.get_service_list()
    assert "pbg" in [s["service_code"] for s in services]
    definition = client.get_service_definition("pbg")
    assert definition["service_code"] == "pbg"
    one = client.get_service_request("BDG-PBG-2026-910001")
    assert one["service_request_id"] == "BDG-PBG-2026-910001" and one["status"] == "open"
    listed = client.get_service_requests(service_code="pbg,slf", status="open")
    listed = listed if isinstance(listed, list) else [listed]  # xmltodict: one is a dict
    assert {r["service_request_id"] for r in listed} == {"BDG-PBG-2026-910001",
                                                         "BDG-SLF-2026-910003"}
    chosen = client.get_service_requests(
        service_request_id="BDG-PBG-2026-910002,BDG-PBG-2026-910004")
    assert [r["service_request_id"] for r in chosen] == ["BDG-PBG-2026-910002",
                                                         "BDG-PBG-2026-910004"]
    nowhere = GeoReport(f"{portal}/open311/v2", output_format=fmt)  # no jurisdiction
    with pytest.raises(requests.HTTPError) as caught:
        nowhere.get_service_list()
    assert caught.value.response.status_code == 400
