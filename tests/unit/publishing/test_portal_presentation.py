"""What a citizen reads on the portal: Indonesian dates, the service-clock verdict, the service
standard from the catalogue, readable charts, filters named not coded."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from pantau_contracts.payloads.public import PublicCaseV2
from pantau_publishing.domain.formatting import days, long_date, long_time, rupiah
from pantau_publishing.domain.record import case_document, change_documents, clean_case
from pantau_publishing.portal.app import create_app
from pantau_publishing.portal.case_view import (
    ICONS,
    ServiceStandards,
    clock_summary,
    status_icon,
    step_icon,
)
from pantau_publishing.portal.charts import bars
from pantau_publishing.portal.i18n import LANGUAGES, TEXTS
from pantau_publishing.service.records import PublicRecords
from pantau_publishing.settings import PublishingSettings
from tests.unit.publishing.factories import public_case
from tests.unit.publishing.fakes import FakeReader
from tests.unit.publishing.test_portal import STATS_AGGS


def case(**kwargs: object) -> PublicCaseV2:
    return PublicCaseV2.model_validate(public_case(**kwargs))  # type: ignore[arg-type]


# --- formatting ---------------------------------------------------------------------------

def test_dates_read_as_in_indonesia() -> None:
    assert long_date(date(2026, 12, 2), "id") == "2 Desember 2026"
    assert long_date(date(2026, 12, 2), "en") == "2 December 2026"
    moment = datetime(2026, 3, 2, 7, 5, tzinfo=UTC)
    assert long_time(moment, "Asia/Jakarta", "id") == "2 Maret 2026, pukul 14.05 WIB"
    assert long_time(moment, "Asia/Jakarta", "en") == "2 March 2026, 14:05 WIB"
    assert long_time(moment, "Asia/Jayapura", "id") == "2 Maret 2026, pukul 16.05 WIT"
    # late evening UTC is already the next day in Makassar: the date follows the local zone
    assert long_time(datetime(2026, 1, 31, 17, 0, tzinfo=UTC), "Asia/Makassar", "id") == \
        "1 Februari 2026, pukul 01.00 WITA"


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1),
                    timezones=st.just(UTC)),
       st.sampled_from(["Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura"]),
       st.sampled_from(LANGUAGES))
def test_every_time_names_its_zone_and_a_month(moment: datetime, zone: str, lang: str) -> None:
    text = long_time(moment, zone, lang)
    assert text.endswith(("WIB", "WITA", "WIT"))
    assert any(month in text for month in ("Januari", "January", "Februari", "February", "Maret",
                                           "March", "April", "Mei", "May", "Juni", "June",
                                           "Juli", "July", "Agustus", "August", "September",
                                           "Oktober", "October", "November", "Desember",
                                           "December"))


def test_days_and_money() -> None:
    assert days(4.5, "id") == "4,5" and days(4.5, "en") == "4.5" and days(3.0, "id") == "3"
    assert days(None, "id") == "–"
    assert rupiah(0, "id") == "Gratis" and rupiah(150000, "en") == "Rp 150.000"


def test_every_text_exists_in_both_languages() -> None:
    for key, texts in TEXTS.items():
        assert set(texts) == set(LANGUAGES), key
        assert texts["id"] or key == "in_indonesian", key


# --- the verdict on the service clock -------------------------------------------------------

def test_verdicts_have_words_an_icon_and_a_tone() -> None:
    late_done = clock_summary(case(revision=4, elapsed=14), "id")
    assert (late_done.tone, late_done.icon) == ("late", "⚠")
    assert late_done.headline == "Selesai, tetapi terlambat"
    assert "14 hari kerja" in late_done.text and "Terlambat 4 hari kerja" in late_done.text
    on_time = clock_summary(case(revision=4, elapsed=7), "en")
    assert on_time.headline == "Completed on time" and "7 working days" in on_time.text
    overdue = clock_summary(case(revision=3, overdue=True, elapsed=12), "id")
    assert overdue.tone == "late" and "Batas waktu: 16 Maret 2026" in overdue.text
    running = clock_summary(case(revision=2), "id")
    assert running.tone == "open" and "Sisa 8 dari 10 hari kerja" in running.text
    paused = clock_summary(case(revision=3, status="dikembalikan", paused=True), "id")
    assert paused.tone == "paused" and "berhenti sementara" in paused.text
    assert clock_summary(case(revision=3, status="ditolak"), "en").headline == \
        "Application rejected"
    assert clock_summary(case(withdrawn=True), "id").tone == "neutral"
    assert set(ICONS) >= {"ok", "late", "open", "paused", "bad", "neutral"}


def test_icons_never_rely_on_colour_alone() -> None:
    assert step_icon("done", "verifikasi") == "✓"
    assert step_icon("problem", "ditolak") == "✕" and status_icon("dikembalikan") == "↩"
    assert status_icon("nonsense") == "●"


# --- the catalogue as the portal reads it ----------------------------------------------------

def test_service_standards_from_the_catalogue() -> None:
    standards = ServiceStandards.load()
    pbg = standards.service("kota-bandung", "pbg")
    assert pbg is not None and pbg.requirements and pbg.max_working_days == 28
    assert standards.scope_name("jurisdiction", "kota-bandung", "id") == "Kota Bandung"
    assert standards.scope_name("service", "pbg", "en") == "Building Approval (PBG)"
    empty = ServiceStandards(None)
    assert empty.service("kota-bandung", "pbg") is None and empty.scope_name("x", "y", "id") is None


# --- charts -------------------------------------------------------------------------------

def test_bars_are_text_with_series_names() -> None:
    html = str(bars("Diterima dan selesai", ["Dinas <Kesehatan>", "Dinas Perhubungan"],
                    [("Diterima", [40, 0]), ("Selesai", [20, 5])]))
    assert "Dinas &lt;Kesehatan&gt;" in html  # escaped, and never cut short
    assert "40 <span class=\"sname\">diterima</span>" in html
    # widths are classes (no inline style under the CSP): 40 of 40 is w100, 0 is w0, 20 is w50
    assert 'class="fill c0 w100"' in html and 'class="fill c0 w0"' in html
    assert 'class="fill c1 w50"' in html and "style=" not in html
    assert str(bars("x", [], [])) == ""


# --- pages ----------------------------------------------------------------------------------

@pytest.fixture
def client() -> TestClient:
    cases = [clean_case(public_case("BDG-PBG-2026-000001", revision=3, overdue=True, elapsed=12,
                                    note="Berkas lengkap")),
             clean_case(public_case("BDG-PBG-2026-000002", revision=4, elapsed=4))]
    changes = [doc for c in cases for _id, doc in change_documents(c)]
    aggs = {**STATS_AGGS, "rows": {"buckets": [{"key": "diproses", "doc_count": 1,
                                                "label": {"buckets": [{"key": "diproses"}]},
                                                **STATS_AGGS}]},
            "status": {"buckets": [{"key": "diproses", "doc_count": 1}]}}
    reader = FakeReader([case_document(c) for c in cases], changes, aggs)
    return TestClient(create_app(PublishingSettings(), PublicRecords(reader)))


def test_case_page_tells_the_citizen_where_things_stand(client: TestClient) -> None:
    page = client.get("/kasus/BDG-PBG-2026-000001").text
    assert 'id="verdict"' in page and "Terlambat — melewati batas waktu" in page
    assert "16 Maret 2026" in page and "pukul 08.15 WIB" in page  # due date, submitted
    assert "Standar pelayanan" in page and "Persyaratan" in page and "Gratis" in page
    assert "Keterangan Rencana Kota (KRK)" in page  # from catalogue/kota-bandung.yaml
    english = client.get("/kasus/BDG-PBG-2026-000001?lang=en").text
    assert "Late — past the due date" in english and "(in Bahasa Indonesia)" in english
    assert "2 March 2026, 08:15 WIB" in english


def test_completed_case_has_no_current_stage_and_final_step(client: TestClient) -> None:
    page = client.get("/kasus/BDG-PBG-2026-000002").text
    assert "Selesai tepat waktu" in page and "Tahap saat ini" not in page
    assert "tahap akhir" in page and "sedang berjalan" not in page


def test_results_put_cases_first_and_name_active_filters(client: TestClient) -> None:
    page = client.get("/?q=pbg&status=diproses").text
    assert page.index('class="results"') < page.index('class="facets"')
    assert "Status: Diproses" in page and 'href="#facets-title"' in page
    # the active value's own link removes the filter again (and resets paging)
    assert 'aria-current="true" class="on"' in page
    assert 'href="/?q=pbg" aria-current="true"' in page


def test_english_counts_one_working_day() -> None:
    text = clock_summary(case(revision=4, elapsed=1), "en").text
    assert "Completed in 1 working day," in text and "3 working days" not in text


def test_feeds_page_explains_feeds_to_people(client: TestClient) -> None:
    page = client.get("/umpan").text
    assert "Umpan perubahan status" in page and "/feed.atom" in page
    assert 'href="/feeds/jurisdiction/kota-bandung.atom"' in page
    assert 'href="/feeds/service/kota-bandung/pbg.json"' in page
    assert 'href="/dasbor/kota-bandung/dpmptsp/pbg"' in page and 'href="/export/cases.csv"' in page
    assert "Status change feeds" in client.get("/umpan?lang=en").text


def test_service_dashboard_counts_cases_per_status(client: TestClient) -> None:
    page = client.get("/dasbor/kota-bandung/dpmptsp/pbg").text
    assert "Jumlah kasus menurut status saat ini" in page
    assert "Persetujuan Bangunan Gedung (PBG)" in page  # the name, not the code


def test_journalist_can_download_the_filtered_results(client: TestClient) -> None:
    page = client.get("/?q=pbg&status=diproses&page=1").text
    assert 'href="/export/cases.csv?q=pbg&amp;status=diproses"' in page


def test_unknown_receipt_keeps_what_was_typed(client: TestClient) -> None:
    page = client.get("/kasus/BDG-PBG-2026-999999").text
    assert 'value="BDG-PBG-2026-999999"' in page


# --- the service standard the case was opened under ------------------------------------------

def test_standard_is_the_one_the_case_was_opened_under() -> None:
    standards = ServiceStandards.load()
    assert standards.version("kota-bandung") == "2026.2"
    assert standards.standard_for(case(catalogue_version="kota-bandung@2026.2")) is not None
    for other in ("kota-bandung@2026.1", "kab-bandung@2026.2", "2026.2", "kota-bandung@2026.20"):
        assert standards.standard_for(case(catalogue_version=other)) is None, other
    assert ServiceStandards(None).standard_for(case()) is None


def _page(record: dict[str, object], lang: str = "id") -> str:
    reader = FakeReader([case_document(clean_case(record))])
    client = TestClient(create_app(PublishingSettings(), PublicRecords(reader)))
    return client.get(f"/kasus/{record['receipt_number']}", params={"lang": lang}).text


def test_case_page_shows_the_standard_of_its_own_catalogue_version() -> None:
    page = _page(public_case("BDG-PBG-2026-000001", revision=3))
    assert "Standar pelayanan" in page and "Keterangan Rencana Kota (KRK)" in page
    assert "versi 2026.2" in page and "target" in page and 'id="standard-changed"' not in page
    assert "standar pelayanan daerah" in page  # Kota Bandung's own PBG figure


def test_national_figures_say_standar_nasional_with_their_citation() -> None:
    record = public_case("BDG-KE-2026-000001", revision=2, department="disdukcapil",
                         service="ktp-el", max_working_days=1)
    page = _page(record)
    assert "24 jam" in page and "dipantau sebagai 1 hari kerja" in page
    assert page.count("standar nasional") >= 2 and "Permendagri 19/2018 Pasal 3" in page
    english = _page(record, "en")
    assert "24 hours" in english and "national standard" in english
    kia = _page(public_case("BDG-KIA-2026-000001", revision=2, department="disdukcapil",
                            service="kia", max_working_days=5))
    assert "batas bawaan UU 30/2014 Pasal 53" in kia and "5 hari kerja" in kia


def test_case_opened_under_an_older_catalogue_names_it_instead_of_todays_standard() -> None:
    record = public_case("BDG-PBG-2026-000001", revision=3,
                         catalogue_version="kota-bandung@2025.2")
    page = _page(record)
    assert 'id="standard-changed"' in page and "versi 2025.2" in page
    assert "Keterangan Rencana Kota (KRK)" not in page and "Persyaratan" not in page
    assert "target" not in page  # today's stage targets are not this case's either
    english = _page(record, "en")
    assert "version 2025.2" in english and "Requirements" not in english
