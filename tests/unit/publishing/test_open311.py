"""Open311 GeoReport v2 parameters and answers, without the stack: parsing (date-times with
offsets, comma lists, defaults, jurisdiction rules) with hypothesis where the input space is
large, and the routes over a fake search port and a small catalogue."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any
from xml.etree import ElementTree as ET
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from pantau_contracts.catalogue import Catalogue
from pantau_publishing.domain.open311_query import (
    DEFAULT_LIMIT,
    WINDOW,
    Open311Error,
    comma_list,
    parse_instant,
    parse_requests,
    requests_body,
    resolve_jurisdiction,
    window,
)
from pantau_publishing.domain.record import case_document, clean_case
from pantau_publishing.portal.app import create_app
from pantau_publishing.service.records import PublicRecords
from pantau_publishing.settings import PublishingSettings
from tests.unit.publishing.factories import public_case
from tests.unit.publishing.fakes import FakeReader
from tests.unit.publishing.open311_catalogue import catalogue

JAKARTA = ZoneInfo("Asia/Jakarta")
NOW = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)
TOKEN = st.text(st.characters(codec="utf-8", exclude_characters=",",
                              exclude_categories=("Cs",)), min_size=1, max_size=8).map(
    str.strip).filter(bool)


def client_for(cat: Catalogue, cases: list[dict[str, Any]]) -> tuple[TestClient, FakeReader]:
    reader = FakeReader([case_document(clean_case(c)) for c in cases])
    app = create_app(PublishingSettings(), PublicRecords(reader))
    app.state.open311_catalogue = cat
    return TestClient(app), reader


@pytest.fixture
def two() -> tuple[TestClient, FakeReader]:
    return client_for(catalogue("kota-bandung", "kab-bandung"), [
        public_case("BDG-PBG-2026-000001", revision=3, note="Berkas lengkap"),
        public_case("KABBDG-PBG-2026-000001", jurisdiction="kab-bandung", revision=4)])


# --- parsing ---------------------------------------------------------------------------------

@given(st.lists(st.lists(TOKEN, max_size=4), max_size=3), st.sampled_from(["", " ", "  "]))
def test_comma_lists_split_trim_and_deduplicate_across_repeats(
        groups: list[list[str]], pad: str) -> None:
    """"can be declared multiple times, comma delimited": repeated parameters and commas are
    one list, in order, empty items dropped."""
    values = [f"{pad},".join(f"{pad}{t}{pad}" for t in group) for group in groups]
    expected: list[str] = []
    for item in (t for group in groups for t in group):
        if item not in expected:
            expected.append(item)
    assert comma_list(values) == tuple(expected)


def test_empty_and_missing_are_the_same() -> None:
    """"the response should be the same whether a parameter is passed and is empty or is not
    passed at all"."""
    empty = parse_requests({"status": [""], "service_code": [""], "start_date": [""],
                            "end_date": [""], "service_request_id": [""], "page": [""]},
                           "kota-bandung", JAKARTA, NOW)
    assert empty == parse_requests({}, "kota-bandung", JAKARTA, NOW)


@given(st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1),
                    timezones=st.integers(-14 * 60, 14 * 60).map(
                        lambda m: timezone(timedelta(minutes=m)))),
       st.sampled_from(["seconds", "milliseconds", "microseconds", "minutes"]))
def test_w3c_date_times_keep_their_time_and_offset(instant: datetime, spec: str) -> None:
    """Date-times are W3C (ISO 8601) with "Z" or an HH:MM offset; the time and the offset both
    count (the old code cut them to a date)."""
    text = instant.isoformat(timespec=spec)
    expected = datetime.fromisoformat(text)
    assert parse_instant(text, "start_date", JAKARTA) == expected
    if instant.utcoffset() == timedelta(0):
        assert parse_instant(text.replace("+00:00", "Z"), "start_date", JAKARTA) == expected
    if "+" in text:  # a "+" a client did not percent-encode arrives as a space
        assert parse_instant(text.replace("+", " "), "start_date", JAKARTA) == expected


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)))
def test_a_bare_date_is_that_whole_day_in_the_jurisdictions_zone(day: date) -> None:
    text = day.isoformat()
    assert parse_instant(text, "start_date", JAKARTA) == datetime.combine(day, time.min, JAKARTA)
    assert parse_instant(text, "end_date", JAKARTA, end=True) == datetime.combine(
        day, time.max, JAKARTA)


@pytest.mark.parametrize("text", ["2026-03-02T08:00:00", "yesterday", "2026-13-01",
                                  "2026-03-02T25:00Z", "1" * 100])
def test_date_times_without_zone_or_malformed_are_400(text: str) -> None:
    with pytest.raises(Open311Error) as caught:
        parse_instant(text, "start_date", JAKARTA)
    assert caught.value.status == 400 and "start_date" in caught.value.description


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2090, 1, 1),
                    timezones=st.just(UTC)), st.integers(0, 200 * 24))
def test_the_window_is_90_days_at_most(start: datetime, hours: int) -> None:
    """"may not span more than 90 days"; "When not specified, the range defaults to most
    recent 90 days"."""
    end = start + timedelta(hours=hours)
    if end - start > WINDOW:
        with pytest.raises(Open311Error) as caught:
            window(start, end, NOW)
        assert caught.value.status == 400
    else:
        assert window(start, end, NOW) == (start, end)
    assert window(start, None, NOW) == (start, start + WINDOW)
    assert window(None, end, NOW) == (end - WINDOW, end)
    assert window(None, None, NOW) == (NOW - WINDOW, None)


def test_end_before_start_is_400() -> None:
    with pytest.raises(Open311Error):
        window(NOW, NOW - timedelta(seconds=1), NOW)


def test_defaults_are_the_last_90_days_and_the_first_1000() -> None:
    """"Default query limit is a span of 90 days or first 1000 requests returned"."""
    query = parse_requests({}, "kota-bandung", JAKARTA, NOW)
    assert (query.start, query.end, query.size, query.page) == (NOW - WINDOW, None,
                                                                DEFAULT_LIMIT, 1)
    body = requests_body(query)
    assert body["size"] == 1000 and body["from"] == 0
    assert body["sort"][0] == {"submitted_at": "desc"}
    assert {"range": {"submitted_at": {"gte": (NOW - WINDOW).isoformat(),
                                       "format": "strict_date_optional_time"}}} \
        in body["query"]["bool"]["filter"]


def test_service_request_id_overrides_every_other_argument() -> None:
    """"This overrides all other arguments" — even ones that would be an error."""
    query = parse_requests({"service_request_id": ["bdg-1, BDG-2", "BDG-1"],
                            "status": ["bogus"], "start_date": ["never"]},
                           "kota-bandung", JAKARTA, NOW)
    assert query.ids == ("BDG-1", "BDG-2")
    assert requests_body(query)["query"]["bool"]["filter"] == [
        {"term": {"jurisdiction_code": "kota-bandung"}},
        {"terms": {"receipt_number": ["BDG-1", "BDG-2"]}}]


@pytest.mark.parametrize(("params", "fragment"), [
    ({"status": ["open,pending"]}, "status"), ({"page": ["0"]}, "page"),
    ({"page_size": ["1001"]}, "page_size"), ({"page": ["11"]}, "page × page_size"),
    ({"page": ["9" * 5000]}, "page"), ({"page": ["²"]}, "page")])
def test_bad_arguments_are_400(params: dict[str, list[str]], fragment: str) -> None:
    with pytest.raises(Open311Error) as caught:
        parse_requests(params, "kota-bandung", JAKARTA, NOW)
    assert caught.value.status == 400 and fragment in caught.value.description


def test_status_and_service_code_lists_filter() -> None:
    one = requests_body(parse_requests({"status": ["closed"], "service_code": ["pbg,slf"]},
                                       "kota-bandung", JAKARTA, NOW))["query"]["bool"]["filter"]
    assert {"term": {"open": False}} in one
    assert {"terms": {"service_code": ["pbg", "slf"]}} in one
    both = requests_body(parse_requests({"status": ["open", "closed"]}, "kota-bandung",
                                        JAKARTA, NOW))["query"]["bool"]["filter"]
    assert not any("open" in clause.get("term", {}) for clause in both)


@pytest.mark.parametrize("raw", [None, "", "  "])
def test_jurisdiction_is_required_when_several_are_served(raw: str | None) -> None:
    with pytest.raises(Open311Error) as caught:
        resolve_jurisdiction(raw, ["kota-bandung", "kab-bandung"])
    assert caught.value.status == 400 and "jurisdiction_id" in caught.value.description
    assert resolve_jurisdiction(raw, ["kota-bandung"]) == "kota-bandung"


def test_an_unknown_jurisdiction_is_404() -> None:
    with pytest.raises(Open311Error) as caught:
        resolve_jurisdiction("kota-jakarta", ["kota-bandung", "kab-bandung"])
    assert caught.value.status == 404 and "kota-jakarta" in caught.value.description


# --- the routes over a fake search port -------------------------------------------------------

@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_errors_are_open311_in_the_requested_format(two: tuple[TestClient, FakeReader],
                                                    fmt: str) -> None:
    client, _ = two
    for path, status in ((f"/open311/v2/requests.{fmt}", 400),
                         (f"/open311/v2/services.{fmt}?jurisdiction_id=nope", 404),
                         (f"/open311/v2/requests.{fmt}?jurisdiction_id=kota-bandung&status=x",
                          400),
                         (f"/open311/v2/requests/NOPE-1.{fmt}?jurisdiction_id=kota-bandung", 404),
                         (f"/open311/v2/nothing.{fmt}", 404)):
        answer = client.get(path)
        assert answer.status_code == status, path
        assert "problem" not in answer.headers["content-type"]
        if fmt == "json":
            assert answer.headers["content-type"] == "application/json; charset=utf-8"
            [error] = answer.json()
            assert error["code"] == status and error["description"]
        else:
            assert answer.headers["content-type"] == "text/xml; charset=utf-8"
            root = ET.fromstring(answer.content)
            assert root.tag == "errors" and root.findtext("error/code") == str(status)


def test_fastapi_never_answers_422_under_open311(two: tuple[TestClient, FakeReader]) -> None:
    client, _ = two
    answer = client.get("/open311/v2/requests.json", params={
        "jurisdiction_id": "kota-bandung", "page": "x" * 300, "page_size": "-1"})
    assert answer.status_code == 400 and answer.json()[0]["code"] == 400


def test_creating_a_request_is_403_and_other_writes_405(
        two: tuple[TestClient, FakeReader]) -> None:
    client, _ = two
    created = client.post("/open311/v2/requests.xml", data={"service_code": "pbg"})
    assert created.status_code == 403
    assert "read-only" in (ET.fromstring(created.content).findtext("error/description") or "")
    deleted = client.delete("/open311/v2/requests/BDG-PBG-2026-000001.json")
    assert deleted.status_code == 405 and deleted.headers["allow"] == "GET"


def test_services_come_from_the_catalogue_per_jurisdiction(
        two: tuple[TestClient, FakeReader]) -> None:
    client, _ = two
    rows = client.get("/open311/v2/services.json?jurisdiction_id=kab-bandung").json()
    assert [r["service_code"] for r in rows] == ["pbg", "slf"]  # slf has no case: listed
    assert rows[0]["metadata"] is False and rows[0]["type"] == "realtime"
    assert rows[0]["group"] == "DPMPTSP" and "10 hari kerja" in rows[0]["description"]
    definition = client.get("/open311/v2/services/slf.json?jurisdiction_id=kab-bandung")
    assert definition.json() == {"service_code": "slf", "attributes": []}
    xml = ET.fromstring(client.get("/open311/v2/services/slf.xml",
                                   params={"jurisdiction_id": "kab-bandung"}).content)
    assert xml.tag == "service_definition" and xml.find("attributes") is not None


def test_one_jurisdiction_served_makes_it_optional() -> None:
    client, reader = client_for(catalogue("kota-bandung"),
                                [public_case("BDG-PBG-2026-000001", revision=2)])
    assert client.get("/open311/v2/services.json").status_code == 200
    answer = client.get("/open311/v2/requests.json")
    assert answer.status_code == 200
    assert {"term": {"jurisdiction_code": "kota-bandung"}} in \
        reader.bodies[-1]["query"]["bool"]["filter"]


def test_one_request_is_a_list_of_one_scoped_to_its_jurisdiction(
        two: tuple[TestClient, FakeReader]) -> None:
    client, _ = two
    answer = client.get("/open311/v2/requests/bdg-pbg-2026-000001.json",
                        params={"jurisdiction_id": "kota-bandung"})
    [request] = json.loads(answer.content)
    assert request["service_request_id"] == "BDG-PBG-2026-000001"
    assert request["requested_datetime"] == "2026-03-02T08:15:00+07:00"  # W3C, local offset
    other = client.get("/open311/v2/requests/BDG-PBG-2026-000001.json",
                       params={"jurisdiction_id": "kab-bandung"})
    assert other.status_code == 404


def test_discovery_is_at_the_open311_root_too(two: tuple[TestClient, FakeReader]) -> None:
    client, _ = two
    for path in ("/open311/discovery.json", "/open311/v2/discovery.json"):
        endpoint = client.get(path).json()["endpoints"][0]
        assert endpoint["url"] == "http://127.0.0.1:8000/open311/v2"
        assert endpoint["formats"] == ["application/json", "text/xml"]
