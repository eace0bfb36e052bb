import json
from xml.etree import ElementTree as ET

from pantau_contracts.payloads.public import PublicCaseV2
from pantau_publishing.domain import feeds, open311
from pantau_publishing.domain.record import change_documents, clean_case
from pantau_publishing.domain.timeline import is_late, steps, zone_label
from tests.unit.publishing.factories import public_case


def test_zones_are_labelled_as_in_indonesia() -> None:
    # the times themselves: tests/unit/publishing/test_portal_presentation.py (domain.formatting)
    assert [zone_label(z) for z in ("Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura")] == [
        "WIB", "WITA", "WIT"]
    assert zone_label("Europe/Paris") == "Europe/Paris"


def test_timeline_tones_like_bandung() -> None:
    case = PublicCaseV2.model_validate(public_case(revision=3))
    assert [s.tone for s in steps(case)] == ["done", "done", "current"]
    returned = public_case(revision=3)
    returned["timeline"][-1]["status"] = "dikembalikan"
    assert steps(PublicCaseV2.model_validate(returned))[-1].tone == "problem"


def test_late_mark() -> None:
    assert is_late(PublicCaseV2.model_validate(public_case(overdue=True)))
    assert is_late(PublicCaseV2.model_validate(public_case(revision=4, elapsed=11)))
    assert not is_late(PublicCaseV2.model_validate(public_case(revision=4, elapsed=10)))


def changes() -> list[dict[str, object]]:
    return [doc for _id, doc in change_documents(clean_case(public_case(revision=3)))]


def test_atom_feed_is_valid_xml_with_entries() -> None:
    info = feeds.FeedInfo("Pantau", "http://x/feed.atom", "http://x/", "http://x")
    root = ET.fromstring(feeds.atom(info, changes()))
    ns = {"a": feeds.ATOM_NS}
    entries = root.findall("a:entry", ns)
    assert len(entries) == 3
    assert entries[0].find("a:link", ns).get("href") == "http://x/kasus/BDG-PBG-2026-000123"


def test_json_feed_1_1() -> None:
    info = feeds.FeedInfo("Pantau", "http://x/feed.json", "http://x/", "http://x", "en")
    feed = feeds.json_feed(info, changes())
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    assert feed["items"][2]["title"].endswith("In process (Technical review)")
    json.dumps(feed)


def test_open311_request_has_no_location_and_maps_status() -> None:
    request = open311.service_request(PublicCaseV2.model_validate(public_case(revision=4)))
    assert request["status"] == "closed" and request["lat"] is None
    assert request["expected_datetime"].endswith("+07:00")
    xml = ET.fromstring(open311.to_xml("service_requests", "request", [request]))
    assert xml.find("request/service_request_id").text == "BDG-PBG-2026-000123"
