"""Both clocks on the public side: the time a department claims a step happened and the time
Pantau received the report — version-1 records upgraded, the index document's derived facts,
the case page (both times, the late step, the notice), feeds, exports, the facet and the
reporting statistics. Over the hand-written fakes (no Elasticsearch)."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from typing import Any
from xml.etree import ElementTree as ET

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from pantau_contracts.payloads.public import PublicCaseV2
from pantau_publishing.adapters.search.rebuild import _fill
from pantau_publishing.domain import feeds
from pantau_publishing.domain import stats as stats_rules
from pantau_publishing.domain.formatting import percent
from pantau_publishing.domain.places import Place
from pantau_publishing.domain.query import parse_facets, parse_query, search_body
from pantau_publishing.domain.record import (
    DERIVED_FIELDS,
    case_document,
    change_documents,
    clean_case,
    clean_change,
    is_version_1,
)
from pantau_publishing.domain.timeline import late_steps, steps
from pantau_publishing.portal.app import create_app
from pantau_publishing.portal.clocks import change_clocks, late_report_notice, reported_later
from pantau_publishing.portal.i18n import LANGUAGES, TEXTS
from pantau_publishing.service.indexing import IndexBatch
from pantau_publishing.service.ports import ReceivedMessage
from pantau_publishing.service.records import PublicRecords
from pantau_publishing.settings import PublishingSettings
from tests.unit.publishing.factories import case_updated, public_case, public_case_v1
from tests.unit.publishing.fakes import FakeIndex, FakeReader
from tests.unit.publishing.test_portal import STATS_AGGS

LATE = "BDG-PBG-2026-000001"  # completion reported 3 working days after it happened
PROMPT = "BDG-PBG-2026-000002"  # every step reported minutes later


def late_record(**kwargs: Any) -> dict[str, Any]:
    return public_case(LATE, revision=4, delays={2: 1, 4: 3}, **kwargs)


def client_for(*records: dict[str, Any], aggregations: dict[str, Any] | None = None
               ) -> TestClient:
    cases = [clean_case(r) for r in records]
    reader = FakeReader([case_document(c) for c in cases],
                        [doc for case in cases for _id, doc in change_documents(case)],
                        aggregations)
    return TestClient(create_app(PublishingSettings(), PublicRecords(reader)))


@pytest.fixture
def client() -> TestClient:
    return client_for(late_record(), public_case(PROMPT, revision=3))


# --- version 1 records are upgraded, version 2 kept ------------------------------------------

def test_a_version_1_record_is_upgraded_received_equals_claimed_nothing_late() -> None:
    record = public_case_v1(revision=3)
    assert is_version_1(record)
    case = clean_case(record)
    assert isinstance(case, PublicCaseV2) and not case.late_reported
    assert all(e.received_at == e.at == e.counted_at and not e.late_reported
               and e.reporting_delay_days == 0 for e in case.timeline)
    assert case.reporting_tolerance_days == 1  # the contract's default


def test_a_version_1_document_read_back_from_an_old_index_is_upgraded() -> None:
    document = {**public_case_v1(revision=2), "open": True, "sla_met": None}  # old derived facts
    assert clean_case(document).timeline[-1].received_at == clean_case(document).timeline[-1].at


def test_a_half_upgraded_record_is_refused_not_guessed_at() -> None:
    record = public_case(revision=2)
    del record["timeline"][0]["received_at"]  # version-2 fields elsewhere: validated as v2
    assert not is_version_1(record)
    with pytest.raises(ValidationError):
        clean_case(record)
    with pytest.raises(ValidationError):  # the allowlist holds for version 1 as well
        clean_case({**public_case_v1(), "nik": "3273011203850001"})


def test_late_reported_is_true_when_any_step_was_even_if_the_flag_says_no() -> None:
    record = late_record()
    record["late_reported"] = False
    case = clean_case(record)
    assert case.late_reported and [e.seq for e in late_steps(case)] == [4]
    assert [s.late_reported for s in steps(case)] == [False, False, False, True]


def test_the_indexer_accepts_case_updated_version_1_and_version_2() -> None:
    index = FakeIndex()
    outcome = IndexBatch(index).handle([
        ReceivedMessage(case_updated(public_case_v1("BDG-PBG-2026-000010", revision=2))),
        ReceivedMessage(case_updated(public_case("BDG-PBG-2026-000011", revision=4,
                                                 delays={4: 3})))])
    assert outcome.indexed == 2 and not outcome.failures
    old = index.docs[("cases", "BDG-PBG-2026-000010")][1]
    assert old["timeline"][0]["received_at"] == old["timeline"][0]["at"].replace("+00:00", "Z")
    assert old["late_reported"] is False and old["reporting_delays"] == [0, 0]
    new = index.docs[("cases", "BDG-PBG-2026-000011")][1]
    assert new["late_reported"] is True and new["late_entry_count"] == 1
    change = index.docs[("changes", "BDG-PBG-2026-000011-00004")][1]
    assert change["late_reported"] and change["reporting_delay_days"] == 3
    assert change["received_at"] > change["counted_at"] > change["at"]


def test_a_version_2_record_under_a_version_1_dataschema_is_dead_lettered() -> None:
    outcome = IndexBatch(FakeIndex()).handle(
        [ReceivedMessage(case_updated(public_case(), version=1))])
    assert outcome.failures[0]["reason"] == "contract-violation"


def test_the_rebuild_accepts_both_versions_from_tracking() -> None:
    index = FakeIndex()
    indexed, skipped, documents = _fill(
        index, [public_case_v1("BDG-PBG-2026-000020", revision=2),  # type: ignore[arg-type]
                public_case("BDG-PBG-2026-000021", revision=3, delays={3: 2})],
        ("cases", "changes"), 500, None)
    assert (indexed, skipped) == (2, 0) and documents == {"cases": 2, "changes": 5}
    assert index.docs[("cases", "BDG-PBG-2026-000021")][1]["late_reported"] is True


# --- what the index gets: both clocks and the derived facts for aggregations -----------------

def test_the_case_document_has_the_delays_and_counts_for_the_dashboards() -> None:
    document = case_document(clean_case(late_record()))
    assert document["reporting_delays"] == [0, 1, 0, 3]
    assert document["entry_count"] == 4 and document["late_entry_count"] == 1
    assert document["late_reported"] is True and document["reporting_tolerance_days"] == 1
    assert set(DERIVED_FIELDS) <= set(document)
    assert clean_case(document) == clean_case(late_record())  # derived facts dropped again


def test_an_old_change_document_without_received_at_reads_back_with_the_claimed_time() -> None:
    _id, document = change_documents(clean_case(late_record()))[-1]
    assert clean_change(document) == document
    old = {k: v for k, v in document.items()
           if k not in ("received_at", "counted_at", "late_reported", "reporting_delay_days",
                        "reporting_tolerance_days")}
    again = clean_change(old)
    assert again["received_at"] == again["counted_at"] == again["at"]
    assert again["late_reported"] is False


# --- the case page -------------------------------------------------------------------------

def test_every_step_shows_both_times_in_the_jurisdictions_zone(client: TestClient) -> None:
    page = client.get(f"/kasus/{LATE}").text
    assert page.count("Terjadi (menurut perangkat daerah):") == 4
    assert page.count("Dilaporkan / diterima Pantau:") == 4
    assert '<time datetime="2026-03-05T01:15:00+00:00">5 Maret 2026, pukul 08.15 WIB</time>' \
        in page  # claimed completion
    assert '<time datetime="2026-03-08T01:17:00+00:00">8 Maret 2026, pukul 08.17 WIB</time>' \
        in page  # received three days later
    english = client.get(f"/kasus/{LATE}?lang=en").text
    assert english.count("Happened (as the department says):") == 4
    assert "Reported / received by Pantau:" in english and "8 March 2026, 08:17 WIB" in english


def test_a_late_step_has_an_icon_words_and_the_time_the_clock_counts(client: TestClient) -> None:
    page = client.get(f"/kasus/{LATE}").text
    assert ('<strong class="late-text"><span aria-hidden="true">⚠</span> dilaporkan 3 hari kerja '
            "kemudian</strong>") in page
    assert page.count('class="late-report"') == 1  # the step reported 1 day later is in time
    assert "Dihitung jam layanan pada: <time" in page and "7 Maret 2026, pukul 08.17 WIB" in page
    english = client.get(f"/kasus/{LATE}?lang=en").text
    assert "reported 3 working days later" in english
    assert "Counted by the service clock at:" in english


def test_the_notice_on_top_explains_that_the_clock_counts_the_later_time(
        client: TestClient) -> None:
    page = client.get(f"/kasus/{LATE}").text
    notice = page.index('id="late-report-notice"')
    assert page.index('id="late-report-badge"') < notice < page.index('id="verdict"')
    assert "Ada tahap yang dilaporkan terlambat" in page
    assert "waktu yang lebih belakangan" in page and "toleransi 1 hari kerja" in page
    english = client.get(f"/kasus/{LATE}?lang=en").text
    assert "A step was reported late" in english and "the later one" in english
    assert "Dilaporkan terlambat" in page and "Reported late" in english  # the badge, in words
    prompt = client.get(f"/kasus/{PROMPT}?lang=id").text
    assert 'id="late-report-notice"' not in prompt and "late-report" not in prompt
    assert "Dilaporkan / diterima Pantau:" in prompt  # both times still shown


def test_the_notice_counts_steps_and_the_tolerance_in_each_language() -> None:
    case = clean_case(public_case(revision=4, delays={2: 4, 3: 5, 4: 6}, tolerance=2))
    notice = late_report_notice(case, "en")
    assert notice is not None and notice.steps == 3
    assert "3 steps" in notice.text and "2 working days" in notice.text
    assert notice.headline == "Some steps were reported late"
    assert "3 tahap" in (late_report_notice(case, "id") or notice).text
    assert late_report_notice(clean_case(public_case(revision=4)), "id") is None
    assert reported_later(1, "en") == "reported 1 working day later"
    assert reported_later(1, "id") == "dilaporkan 1 hari kerja kemudian"


def test_the_case_page_links_the_verified_history_and_has_no_inline_script(
        client: TestClient) -> None:
    page = client.get(f"/kasus/{LATE}").text
    # No transparency log in this app: the page says it cannot check, never "verified"
    # (the three checked states: tests/unit/publishing/test_transparency_page.py).
    assert "Riwayat belum dapat diperiksa saat ini" in page
    assert f'href="/api/v1/cases/{LATE}/proof"' in page and 'href="/umpan#transparansi"' in page
    assert "cannot be checked right now" in client.get(f"/kasus/{LATE}?lang=en").text
    assert "<script>" not in page and "onclick" not in page and "style=" not in page
    docs = client.get("/umpan").text
    assert 'id="transparansi"' in docs and "/api/v1/transparency/key" in docs


def test_the_api_case_has_both_clocks_on_every_step(client: TestClient) -> None:
    answer = client.get(f"/api/v1/cases/{LATE}").json()
    assert answer["late_reported"] is True and answer["reporting_tolerance_days"] == 1
    last = answer["timeline"][-1]
    assert {"at", "received_at", "counted_at", "late_reported", "reporting_delay_days"} <= set(
        last)
    assert last["late_reported"] is True and last["reporting_delay_days"] == 3
    schema = client.get("/api/v1/openapi.json").json()["components"]["schemas"]
    assert "received_at" in schema["TimelineEntryV2"]["properties"]


def test_the_home_page_shows_both_times_of_the_latest_changes(client: TestClient) -> None:
    page = client.get("/").text
    assert "Terjadi (menurut perangkat daerah):" in page and "Dilaporkan / diterima Pantau:" in page
    assert "dilaporkan 3 hari kerja kemudian" in page
    assert 'href="/?late_reported=true"' in page  # the quick-browse chip


# --- feeds --------------------------------------------------------------------------------

def test_atom_entries_give_both_times_and_mark_a_late_report(client: TestClient) -> None:
    root = ET.fromstring(client.get(f"/feeds/case/{LATE}.atom").content)
    ns = {"a": feeds.ATOM_NS}
    entries = {e.find("a:id", ns).text: e for e in root.findall("a:entry", ns)}  # type: ignore[union-attr]
    late = entries[f"urn:pantau:case:{LATE}:4"]
    summary = late.find("a:summary", ns).text or ""  # type: ignore[union-attr]
    assert "Terjadi (menurut perangkat daerah): 5 Maret 2026, pukul 08.15 WIB" in summary
    assert "Diterima Pantau: 8 Maret 2026, pukul 08.17 WIB" in summary
    assert "dilaporkan 3 hari kerja kemudian" in summary and "7 Maret 2026" in summary
    assert "late-reported" in [c.get("term") for c in late.findall("a:category", ns)]
    assert late.find("a:title", ns).text.endswith("⚠ dilaporkan terlambat")  # type: ignore[union-attr]
    assert late.find("a:updated", ns).text == "2026-03-08T01:17:00+00:00"  # type: ignore[union-attr]
    prompt = entries[f"urn:pantau:case:{LATE}:1"]
    assert "late-reported" not in [c.get("term") for c in prompt.findall("a:category", ns)]
    assert "Diterima Pantau: 2 Maret 2026, pukul 08.17 WIB" in (
        prompt.find("a:summary", ns).text or "")  # type: ignore[union-attr]


def test_json_feed_items_carry_both_clocks_as_text_and_data(client: TestClient) -> None:
    items = {i["id"]: i for i in client.get("/feed.json?lang=en").json()["items"]}
    late = items[f"urn:pantau:case:{LATE}:4"]
    assert "Received by Pantau: 8 March 2026, 08:17 WIB" in late["content_text"]
    assert "reported 3 working days later" in late["content_text"]
    assert "late-reported" in late["tags"] and late["date_published"].startswith("2026-03-08")
    assert late["_pantau"] == {"at": "2026-03-05T01:15:00+00:00",
                               "received_at": "2026-03-08T01:17:00+00:00",
                               "counted_at": "2026-03-07T01:17:00+00:00",
                               "late_reported": True, "reporting_delay_days": 3,
                               "reporting_tolerance_days": 1}
    assert "late-reported" not in items[f"urn:pantau:case:{PROMPT}:1"]["tags"]


def test_feed_clocks_without_the_portal_are_iso_times() -> None:
    _id, change = change_documents(clean_case(late_record()))[-1]
    info = feeds.FeedInfo("t", "http://x/f", "http://x/", "http://x")
    text = feeds.summary(change, info)
    assert "received_at: 2026-03-08T01:17:00+00:00" in text and "late-reported: 3" in text
    assert "WITA" in change_clocks({**change, "timezone": "Asia/Makassar"}, "id")


def test_the_feed_lists_changes_newest_received_first() -> None:
    reader = FakeReader()
    PublicRecords(reader).changes()
    assert reader.bodies[-1]["sort"][0] == {"received_at": {"order": "desc",
                                                            "unmapped_type": "date"}}


# --- exports ------------------------------------------------------------------------------

def test_csv_has_late_reported_and_both_times_per_step(client: TestClient) -> None:
    rows = {r["receipt_number"]: r for r in
            csv.DictReader(io.StringIO(client.get("/export/cases.csv").text))}
    late, prompt = rows[LATE], rows[PROMPT]
    assert late["late_reported"] == "True" and prompt["late_reported"] == "False"
    assert late["steps_reported_late"] == "1" and late["reporting_tolerance_days"] == "1"
    assert late["selesai_at"] == "2026-03-05T01:15:00+00:00"
    assert late["selesai_received_at"] == "2026-03-08T01:17:00+00:00"
    assert prompt["diproses_received_at"] == "2026-03-04T01:17:00+00:00"
    assert prompt["selesai_at"] == prompt["selesai_received_at"] == ""


def test_ndjson_has_both_clocks_on_every_step(client: TestClient) -> None:
    lines = [json.loads(line) for line in client.get("/export/cases.ndjson").text.splitlines()]
    late = next(line for line in lines if line["receipt_number"] == LATE)
    assert late["late_reported"] is True and late["selesai_received_at"]
    assert [e["late_reported"] for e in late["timeline"]] == [False, False, False, True]
    assert all({"at", "received_at", "counted_at", "reporting_delay_days"} <= set(e)
               for e in late["timeline"])


# --- the late_reported facet --------------------------------------------------------------

def test_late_reported_is_a_search_parameter_and_a_facet() -> None:
    query = parse_query({"late_reported": "ya"})
    assert query.late_reported is True and query.filters() == {"late_reported": "true"}
    body = search_body(query)
    assert {"term": {"late_reported": True}} in body["query"]["bool"]["filter"]
    assert body["aggs"]["late_reported"] == {"terms": {"field": "late_reported", "size": 50}}
    assert parse_query({"late_reported": "false"}).late_reported is False
    assert parse_query({}).late_reported is None
    facets = parse_facets({"late_reported": {"buckets": [
        {"key": 0, "key_as_string": "false", "doc_count": 5},
        {"key": 1, "key_as_string": "true", "doc_count": 2}]}})
    assert [(b.value, b.count) for b in facets["late_reported"]] == [("false", 5), ("true", 2)]


def test_the_api_filters_on_late_reported(client: TestClient) -> None:
    answer = client.get("/api/v1/cases", params={"late_reported": "true"}).json()
    assert [c["receipt_number"] for c in answer["results"]] == [LATE]
    answer = client.get("/api/v1/cases", params={"late_reported": "false"}).json()
    assert [c["receipt_number"] for c in answer["results"]] == [PROMPT]
    bad = client.get("/api/v1/cases", params={"late_reported": "mungkin"})
    assert bad.status_code == 422


def test_the_html_filter_is_named_and_removable() -> None:
    aggs = {"late_reported": {"buckets": [{"key": 1, "key_as_string": "true", "doc_count": 1}]}}
    client = client_for(late_record(), public_case(PROMPT, revision=3), aggregations=aggs)
    page = client.get("/?late_reported=true").text
    assert "1 kasus ditemukan" in page and f"/kasus/{LATE}" in page
    assert f"/kasus/{PROMPT}" not in page
    assert "Dilaporkan terlambat: Ya" in page  # the active-filter chip, in words
    assert 'aria-label="Hapus filter: Dilaporkan terlambat Ya"' in page
    assert '<h3>Dilaporkan terlambat</h3>' in page  # the facet list
    assert 'class="badge late-report"' in page  # the card says it too
    assert "Reported late: Yes" in client.get("/?late_reported=true&lang=en").text
    assert client.get("/?late_reported=mungkin").status_code == 400


# --- reporting statistics -----------------------------------------------------------------

REPORTING_AGGS: dict[str, Any] = {
    **STATS_AGGS, "events": {"value": 40.0}, "late_events": {"value": 6.0},
    "reporting_delay": {"values": {"50.0": 0.0}}}


def test_stats_ask_for_event_counts_and_the_median_delay_without_scripts() -> None:
    body = stats_rules.stats_body(Place("kota-bandung", "dpmptsp"), date(2026, 3, 2))
    for aggs in (body["aggs"], body["aggs"]["rows"]["aggs"]):
        assert aggs["events"] == {"sum": {"field": "entry_count"}}
        assert aggs["late_events"] == {"sum": {"field": "late_entry_count"}}
        assert aggs["reporting_delay"] == {"percentiles": {"field": "reporting_delays",
                                                           "percents": [50]}}
    assert "script" not in json.dumps(body)


def test_stats_share_within_tolerance_and_median_delay() -> None:
    totals = stats_rules.parse_stats(REPORTING_AGGS, 10)
    assert totals.events == 40 and totals.late_events == 6
    assert totals.reported_on_time_share == pytest.approx(34 / 40)
    assert totals.median_reporting_delay == 0.0
    data = totals.as_dict()
    assert data["share_reported_within_tolerance"] == pytest.approx(0.85)
    assert data["events_reported"] == 40 and data["events_reported_late"] == 6
    assert data["median_reporting_delay_working_days"] == 0.0
    empty = stats_rules.parse_stats({**STATS_AGGS, "events": {"value": 0.0},
                                     "reporting_delay": {"values": {"50.0": None}}}, 0)
    assert empty.reported_on_time_share is None and empty.median_reporting_delay is None
    assert stats_rules.parse_stats(STATS_AGGS, 1).events == 0  # an answer without them


def test_dashboard_and_stats_api_show_reporting_per_row() -> None:
    row = {"key": "dpmptsp", "doc_count": 10, "label": {"buckets": [{"key": "DPMPTSP"}]},
           **REPORTING_AGGS, "reporting_delay": {"values": {"50.0": 1.5}}}
    client = client_for(late_record(), aggregations={**REPORTING_AGGS,
                                                     "rows": {"buckets": [row]}})
    stats = client.get("/api/v1/stats/jurisdiction/kota-bandung").json()
    assert stats["totals"]["share_reported_within_tolerance"] == pytest.approx(0.85)
    assert stats["rows"][0]["median_reporting_delay_working_days"] == 1.5
    page = client.get("/dasbor/kota-bandung").text
    assert "Laporan dalam toleransi" in page and "Median jeda pelaporan (hari kerja)" in page
    assert ">85%<" in page and "<td>1,5</td>" in page  # Indonesian decimal comma
    assert 'href="/?jurisdiction=kota-bandung&amp;late_reported=true"' in page
    assert 'id="reporting-explain"' in page and "<script" not in page
    english = client.get("/dasbor/kota-bandung?lang=en").text
    assert "Events reported within tolerance" in english and "<td>1.5</td>" in english


def test_a_share_is_never_rounded_to_a_claim_the_data_does_not_support() -> None:
    assert percent(0.996) == ">99%" and percent(0.004) == "<1%"
    assert percent(1.0) == "100%" and percent(0.0) == "0%" and percent(0.85) == "85%"
    assert percent(None) == "–"


def test_every_new_text_exists_in_both_languages() -> None:
    for key, texts in TEXTS.items():
        assert set(LANGUAGES) <= set(texts), key
