"""Issue 9 on the portal, over a fake search port and a fake survey store: what happens next on
the case page, the complaint route and its text (nothing but allowlisted public facts), the
printable status sheet and its QR code, the SKM form and its answers, the IKM on a dashboard."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pantau_contracts.catalogue import NATIONAL_APPEALS
from pantau_contracts.payloads.public import PublicCaseV2
from pantau_publishing.domain import skm
from pantau_publishing.domain.complaint import ComplaintFacts, compose
from pantau_publishing.domain.record import case_document, clean_case
from pantau_publishing.domain.survey_code import survey_code
from pantau_publishing.portal.app import create_app
from pantau_publishing.portal.survey import SlidingWindow
from pantau_publishing.service.ports import SurveyResponse
from pantau_publishing.service.records import PublicRecords
from pantau_publishing.settings import PublishingSettings
from tests.unit.publishing.factories import public_case
from tests.unit.publishing.fakes import FakeReader
from tests.unit.publishing.qr_svg import encodes
from tests.unit.publishing.test_next_steps import with_step
from tests.unit.publishing.test_portal import STATS_AGGS

BASE = "https://pantau.example.go.id"
SECRET = "unit-test-survey-secret-0123456789abcdef"
ALL_FOUR = {f"u{n}": "4" for n in range(1, 10)}


class FakeSurveyStore:
    """``SurveyResponses`` in memory, with the store's one-answer-per-receipt rule."""

    def __init__(self) -> None:
        self.rows: dict[str, SurveyResponse] = {}

    def add(self, response: SurveyResponse) -> bool:
        if response.receipt in self.rows:
            return False
        self.rows[response.receipt] = response
        return True

    def has_answered(self, receipt: str) -> bool:
        return receipt in self.rows

    def totals(self, jurisdiction: str, department: str,
               service: str) -> tuple[int, tuple[int, ...]]:
        answers = [r.scores for r in self.rows.values()
                   if (r.jurisdiction, r.department, r.service) ==
                   (jurisdiction, department, service)]
        totals = skm.Totals.of(answers)
        return totals.count, totals.sums


def returned(receipt: str, reason: str | None, **kwargs: Any) -> dict[str, Any]:
    return with_step(public_case(receipt, revision=3, **kwargs), "dikembalikan",
                     reason).model_dump(mode="json")


def rejected(receipt: str, reason: str | None, **kwargs: Any) -> dict[str, Any]:
    return with_step(public_case(receipt, revision=3, **kwargs), "ditolak",
                     reason).model_dump(mode="json")


CASES = [
    returned("BDG-PBG-2026-000011", "Lampirkan gambar struktur yang ditandatangani"),
    rejected("KABBDG-KE-2026-000012", "NIK tidak terdaftar di database kependudukan",
             jurisdiction="kab-bandung", department="disdukcapil", service="ktp-el"),
    public_case("BOGOR-SLF-2026-000013", revision=3, overdue=True, elapsed=9,
                jurisdiction="kota-bogor", service="slf", catalogue_version="kota-bogor@2026.1"),
    public_case("BDG-PBG-2026-000014", revision=2),
    public_case("BDG-PBG-2026-000015", revision=4, status="selesai"),
    public_case("BDG-PBG-2026-000016", revision=4, status="selesai"),
]


@pytest.fixture
def store() -> FakeSurveyStore:
    return FakeSurveyStore()


@pytest.fixture
def client(store: FakeSurveyStore) -> TestClient:
    aggs = {**STATS_AGGS, "rows": {"buckets": []},
            "status": {"buckets": [{"key": "selesai", "doc_count": 2}]}}
    reader = FakeReader([case_document(clean_case(c)) for c in CASES], [], aggs)
    app = create_app(PublishingSettings(public_base_url=BASE, survey_secret=SECRET,
                                        survey_min_responses=2, survey_posts_per_hour=5),
                     PublicRecords(reader))
    app.state.survey_store = store
    return TestClient(app)


def block(page: str, element_id: str) -> str:
    start = page.index(f'id="{element_id}"')
    end = page.index("</section>", start)
    return unescape(page[start:end])


def test_a_returned_case_shows_the_reason_and_the_complaint_route(client: TestClient) -> None:
    page = client.get("/kasus/BDG-PBG-2026-000011").text
    steps = block(page, "next-steps")
    assert 'data-situation="returned"' in steps
    assert re.search(r'class="reason-text"[^>]*>Lampirkan gambar struktur yang ditandatangani<',
                     steps)
    assert "serahkan kembali" in steps and "BDG-PBG-2026-000011" in steps
    complaint = block(page, "complaint")
    assert 'href="https://www.lapor.go.id"' in complaint
    text = re.search(r'<textarea id="complaint-text" readonly[^>]*>(.*?)</textarea>', complaint,
                     re.S)
    assert text, complaint
    for fact in ("BDG-PBG-2026-000011", "Persetujuan PBG", "Kota Bandung", "Dikembalikan",
                 "10 hari kerja", "standar pelayanan daerah", "16 Maret 2026",
                 f"{BASE}/kasus/BDG-PBG-2026-000011"):
        assert fact in text.group(1), fact
    english = client.get("/kasus/BDG-PBG-2026-000011", params={"lang": "en"}).text
    assert "What happens next?" in english and 'id="complaint-text-en" readonly' in english
    assert "Pengaduan pelayanan publik" in english  # the department reads Bahasa Indonesia


def test_a_rejected_case_explains_keberatan_from_the_catalogue(client: TestClient) -> None:
    page = client.get("/kasus/KABBDG-KE-2026-000012").text
    appeal = block(page, "next-steps")
    rule = NATIONAL_APPEALS.keberatan
    assert f"paling lama {rule.file_within_working_days} hari kerja" in appeal
    assert f"dalam {rule.decide_within_working_days} hari kerja" in appeal
    assert "UU 30/2014 Pasal 77" in appeal and "standar nasional" in appeal
    assert "NIK tidak terdaftar" in appeal  # the reason, as published
    complaint = block(page, "complaint")  # the department's own channel from the catalogue
    assert "Disdukcapil Kabupaten Bandung" in complaint and "022-5892126" in complaint


def test_an_overdue_case_names_the_right_and_says_the_figure_is_national(
        client: TestClient) -> None:
    page = client.get("/kasus/BOGOR-SLF-2026-000013").text
    steps = block(page, "next-steps")
    assert 'data-situation="overdue"' in steps and "SP4N-LAPOR!" in steps
    basis = re.search(r'id="next-basis">([^<]+)<', steps)
    assert basis and "batas bawaan UU 30/2014 Pasal 53" in basis.group(1)
    assert 'id="complaint"' in page


def test_an_open_case_on_time_has_no_complaint_route_nor_survey(client: TestClient) -> None:
    page = client.get("/kasus/BDG-PBG-2026-000014").text
    assert 'data-situation="waiting"' in page and 'id="complaint"' not in page
    assert 'id="survey"' not in page and 'href="/kasus/BDG-PBG-2026-000014/cetak"' in page


SENTINEL = st.from_regex(r"zq[a-z]{6}", fullmatch=True)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(note=SENTINEL, kecamatan=SENTINEL, stage=SENTINEL, actor=SENTINEL,
       status=st.sampled_from(["dikembalikan", "ditolak"]), lang=st.sampled_from(["id", "en"]))
def test_nothing_outside_the_allowlisted_facts_enters_the_complaint_text(
        note: str, kecamatan: str, stage: str, actor: str, status: str, lang: str) -> None:
    """Every field a department writes freely (notes, kecamatan, stage names, actor roles) gets
    a unique marker; the complaint text must carry none of them."""
    record = public_case("BDG-PBG-2026-000099", revision=3, note=note,
                         kecamatan=kecamatan.title())
    for entry in record["timeline"]:
        entry["actor_role"] = actor
        if entry["stage_name"]:
            entry["stage_name"] = {"id": stage, "en": stage}
    record["stage_name"] = {"id": stage, "en": stage}
    case = with_step(record, status, note + " " + note)
    reader = FakeReader([case_document(clean_case(case.model_dump(mode="json")))])
    app = create_app(PublishingSettings(public_base_url=BASE), PublicRecords(reader))
    app.state.survey_store = FakeSurveyStore()
    page = TestClient(app).get("/kasus/BDG-PBG-2026-000099", params={"lang": lang}).text
    texts = re.findall(r"<textarea[^>]*>(.*?)</textarea>", page, re.S)
    assert texts and note in page  # the note is on the page (the reason), not in the text
    for text in texts:
        for marker in (note, kecamatan, stage, actor):
            assert marker.lower() not in text.lower()


def test_a_template_cannot_name_a_field_outside_the_facts() -> None:
    facts = ComplaintFacts(*(["x"] * 4), status="s", maximum="m", legal_source="l",
                           elapsed="e", due="d", url="u")
    assert compose("{receipt} {due}", facts) == "x d"
    with pytest.raises(KeyError):
        compose("{note}", facts)
    assert set(ComplaintFacts.__dataclass_fields__) <= set(PublicCaseV2.model_fields) | {
        "receipt", "service", "department", "jurisdiction", "maximum", "legal_source",
        "elapsed", "due", "url"}


def test_the_sheet_links_the_public_url_never_the_host_header(client: TestClient) -> None:
    answer = client.get("/kasus/BDG-PBG-2026-000011/cetak", headers={"Host": "evil.example"})
    assert answer.status_code == 200
    page = answer.text
    svg = re.search(r'<svg.*?</svg>', page, re.S)
    assert svg and encodes(svg.group(0), f"{BASE}/kasus/BDG-PBG-2026-000011")
    assert "evil.example" not in page and "/static/sheet.css" in page
    assert 'id="sheet-submitted">2 Maret 2026, pukul 08.15 WIB' in page
    assert 'id="sheet-due">16 Maret 2026' in page and "standar pelayanan daerah" in page
    code = re.search(r'id="survey-code">([A-Z2-7]{5}-[A-Z2-7]{5})<', page)
    assert code and code.group(1) == survey_code(SECRET.encode(), "BDG-PBG-2026-000011")
    assert " style=" not in page  # the CSP allows no inline style
    closed = client.get("/kasus/BDG-PBG-2026-000015/cetak").text
    assert 'id="survey-code"' not in closed  # printed while open only
    assert client.get("/kasus/bdg-pbg-2026-000011/cetak",
                      follow_redirects=False).headers["location"] == \
        "/kasus/BDG-PBG-2026-000011/cetak"
    assert client.get("/kasus/NOPE-0000-000000/cetak").status_code == 404


def answer(client: TestClient, receipt: str, code: str, **scores: str) -> Any:
    return client.post(f"/kasus/{receipt}/survei", data={"code": code, **ALL_FOUR, **scores})


def test_a_closed_case_takes_one_answer(client: TestClient, store: FakeSurveyStore) -> None:
    receipt = "BDG-PBG-2026-000015"
    page = client.get(f"/kasus/{receipt}").text
    form = block(page, "survey")
    assert f'action="/kasus/{receipt}/survei"' in form and form.count('type="radio"') == 36
    assert "PermenPANRB No. 14 Tahun 2017" in form and "<script" not in form
    code = survey_code(SECRET.encode(), receipt)
    assert answer(client, receipt, "WRONG-CODE0").status_code == 403
    assert answer(client, receipt, code, u3="5").status_code == 422
    first = answer(client, receipt, code.lower().replace("-", " "), u1="2")
    assert first.status_code == 200 and "sudah tercatat" in first.text
    stored = store.rows[receipt]
    assert stored.scores == (2, 4, 4, 4, 4, 4, 4, 4, 4) and re.fullmatch(r"\d{4}-\d{2}",
                                                                           stored.month)
    assert (stored.jurisdiction, stored.department, stored.service) == \
        ("kota-bandung", "dpmptsp", "pbg")
    assert answer(client, receipt, code).status_code == 409
    assert 'id="survey-answered"' in client.get(f"/kasus/{receipt}").text
    open_case = "BDG-PBG-2026-000014"
    assert answer(client, open_case, survey_code(SECRET.encode(), open_case)).status_code == 409
    assert open_case not in store.rows


def test_posts_are_rate_limited_per_client(client: TestClient) -> None:
    statuses = [answer(client, "BDG-PBG-2026-000016", "WRONG-CODE0").status_code
                for _ in range(6)]
    assert statuses == [403] * 5 + [429]


def test_the_sliding_window_forgets_after_an_hour() -> None:
    now = [0.0]
    window = SlidingWindow(2, 3600, clock=lambda: now[0])
    assert window.allow("a") and window.allow("a") and not window.allow("a")
    assert window.allow("b")
    now[0] = 3600.5
    assert window.allow("a")


def test_the_dashboard_shows_ikm_from_the_minimum_count(client: TestClient,
                                                        store: FakeSurveyStore) -> None:
    url = "/dasbor/kota-bandung/dpmptsp/pbg"
    assert 'id="ikm"' not in client.get("/dasbor/kota-bandung/dpmptsp").text
    for n, receipt in enumerate(("BDG-PBG-2026-000015", "BDG-PBG-2026-000016")):
        if n == 1:
            board = client.get(url).text
            assert 'id="ikm-too-few"' in board and "baru 1 jawaban" in board
            assert 'id="ikm-value"' not in board
        assert answer(client, receipt, survey_code(SECRET.encode(), receipt),
                      u1="3").status_code == 200
    board = client.get(url).text
    value = re.search(r'id="ikm-value"><strong>IKM ([\d,]+) dari 100 — mutu pelayanan ([A-D])',
                      board)
    assert value and value.groups() == ("97,22", "A")  # (3 + 8×4) / 9 × 25
    assert "2 jawaban dari" in board
