"""Whatever the index holds, every XML answer is well-formed: the Atom feeds and Open311's XML
drop what XML 1.0 forbids (``domain.xml.document``). Documents here bypass the contract, as text
stored before it refused controls does; a real XML parser and a real feed reader read them."""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree as ET

import feedparser
import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from pantau_contracts.text import XML_FORBIDDEN
from pantau_publishing.domain.feeds import FeedInfo, atom
from pantau_publishing.domain.open311 import to_xml
from pantau_publishing.domain.record import case_document, change_documents, clean_case
from pantau_publishing.portal.app import create_app
from pantau_publishing.service.records import PublicRecords
from pantau_publishing.settings import PublishingSettings
from tests.unit.publishing.factories import public_case
from tests.unit.publishing.fakes import FakeReader

RECEIPT = "BDG-PBG-2026-000777"
BAD = "\x00\x01\x08\x0b\x0c\x1b\x1f\x7f\x85\ufdd0\ufffe\uffff\U0001fffe"
LONE_SURROGATE = "\ud800"  # no index answer holds one (pydantic refuses it); the writer copes
INFO = FeedInfo(title="Pantau", feed_url="https://pantau.example/feed.atom",
                home_url="https://pantau.example/", base_url="https://pantau.example")


def well_formed(body: bytes) -> ET.Element:
    """Parse with a real XML parser (raises on an ill-formed document)."""
    return ET.fromstring(body)


def read_feed(body: bytes) -> Any:
    parsed = feedparser.parse(body)
    assert not parsed.bozo, parsed.get("bozo_exception")
    return parsed


def raw_change(note: str, name: str = "Persetujuan PBG") -> dict[str, Any]:
    """A ``pantau-changes`` document as it might sit in the index: never through the contract."""
    case = clean_case(public_case(RECEIPT, revision=2))
    _id, document = change_documents(case)[-1]
    document["note"] = note
    document["service_name"] = {"id": name, "en": name}
    return document


@settings(max_examples=200)
@given(note=st.text(max_size=60), name=st.text(min_size=1, max_size=30))
def test_atom_is_well_formed_whatever_the_text(note: str, name: str) -> None:
    body = atom(INFO, [raw_change(note, name)])
    summary = well_formed(body).find("{http://www.w3.org/2005/Atom}entry/"
                                     "{http://www.w3.org/2005/Atom}summary")
    assert summary is not None and not XML_FORBIDDEN.search(summary.text or "")
    read_feed(body)


@settings(max_examples=200)
@given(st.dictionaries(st.sampled_from(["status_notes", "service_name", "description"]),
                       st.text(max_size=40) | st.none(), min_size=1))
def test_open311_xml_is_well_formed_whatever_the_text(row: dict[str, Any]) -> None:
    well_formed(to_xml("service_requests", "request", [row]))


def test_forbidden_characters_are_dropped_and_the_rest_kept() -> None:
    body = atom(INFO, [raw_change(f"Berkas{BAD}{LONE_SURROGATE} lengkap\r\n<ok> & \"fine\"")])
    entry = read_feed(body).entries[0]
    assert entry.summary.startswith("Berkas lengkap\n<ok> & \"fine\"")


@pytest.fixture
def client() -> TestClient:
    """The portal over documents indexed as they are (a note and names full of controls)."""
    record = public_case(RECEIPT, revision=2, note=f"Berkas{BAD} lengkap")
    record["service_name"] = {"id": f"Persetujuan{BAD} PBG", "en": "PBG permit"}
    record["department_name"] = {"id": f"DPMPTSP{BAD}", "en": "One-stop office"}
    document = case_document(clean_case(public_case(RECEIPT, revision=2)))
    document.update({key: record[key] for key in ("service_name", "department_name")})
    document["timeline"][-1]["note"] = record["timeline"][-1]["note"]
    reader = FakeReader([document], [raw_change(f"Berkas{BAD} lengkap",
                                                f"Persetujuan{BAD} PBG")])
    return TestClient(create_app(PublishingSettings(), PublicRecords(reader)))


@pytest.mark.parametrize("path", ["/feed.atom", f"/feeds/case/{RECEIPT}.atom",
                                  "/feeds/jurisdiction/kota-bandung.atom"])
def test_the_portals_feeds_stay_well_formed(client: TestClient, path: str) -> None:
    answer = client.get(path)
    assert answer.status_code == 200
    feed = read_feed(answer.content)
    assert [e.summary.split("\n")[0] for e in feed.entries] == ["Berkas lengkap"]
    assert "Persetujuan PBG" in feed.entries[0].title


@pytest.mark.parametrize("path", ["/open311/v2/requests.xml?jurisdiction_id=kota-bandung",
                                  f"/open311/v2/requests/{RECEIPT}.xml?jurisdiction_id=kota-bandung"])
def test_open311_xml_stays_well_formed(client: TestClient, path: str) -> None:
    answer = client.get(path)
    assert answer.status_code == 200
    request = well_formed(answer.content).find("request")
    assert request is not None
    assert request.findtext("status_notes") == "Berkas lengkap"
    assert request.findtext("agency_responsible") == "DPMPTSP"
