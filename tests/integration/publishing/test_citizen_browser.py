"""Issue 9 in a real headless Chromium against the portal as a real process over the real
Elasticsearch, one test per feature (the pages need no JavaScript):

* a returned case shows the department's reason and the complaint route with its ready text;
* the printable status sheet prints on one page, and its QR code is the case page's public URL
  (``PANTAU_PUBLIC_BASE_URL``), read back from the SVG Chromium rendered;
* a closed case takes one SKM answer (the form posted as the browser would) and refuses a
  second, and the service's dashboard shows the IKM once the minimum count is reached.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from html import unescape
from pathlib import Path
from typing import Any

import httpx
import pytest

from pantau_publishing.domain.survey_code import survey_code
from tests.conftest import wait_for
from tests.integration.publishing.conftest import SearchStack, free_port
from tests.integration.publishing.test_browser import chromium, dump_dom  # noqa: F401
from tests.integration.publishing.test_portal_live import put
from tests.unit.publishing.factories import public_case
from tests.unit.publishing.qr_svg import encodes
from tests.unit.publishing.test_next_steps import with_step

pytestmark = pytest.mark.integration
PUBLIC = "https://pantau.example.go.id"
SECRET = "browser-test-survey-secret-0123456789abcdef"
MINIMUM = 2


@pytest.fixture
def citizen_portal(search: SearchStack, start_service: Callable[..., Any],
                   tmp_path: Path) -> Iterator[str]:
    port = free_port()
    process = start_service("pantau_publishing.portal", PANTAU_PORTAL_PORT=str(port),
                            PANTAU_PORTAL_METRICS_PORT="0", PANTAU_PUBLIC_BASE_URL=PUBLIC,
                            PANTAU_SURVEY_SECRET=SECRET,
                            PANTAU_SURVEY_MIN_RESPONSES=str(MINIMUM),
                            PANTAU_CITIZEN_DATABASE_URL=f"sqlite:///{tmp_path / 'c.sqlite3'}",
                            **search.env)
    base = f"http://127.0.0.1:{port}"
    wait_for(lambda: httpx.get(base + "/", timeout=1).status_code == 200, timeout=20,
             message="portal up\n" + process.log())
    yield base


def test_a_returned_case_shows_the_reason_and_the_complaint_route(
        search: SearchStack, citizen_portal: str, chromium: str) -> None:  # noqa: F811
    reason = "Lampirkan gambar struktur yang ditandatangani tenaga ahli"
    put(search, with_step(public_case("CIT-0001-2026", revision=3), "dikembalikan",
                          reason).model_dump(mode="json"))
    page = unescape(dump_dom(chromium, f"{citizen_portal}/kasus/CIT-0001-2026"))
    assert 'data-situation="returned"' in page
    shown = re.search(r'class="reason-text"[^>]*>([^<]+)<', page)
    assert shown and shown.group(1) == reason
    assert page.index('id="next-steps"') < page.index('id="tl-title"')  # before the history
    assert 'href="https://www.lapor.go.id"' in page
    text = re.search(r'<textarea id="complaint-text" readonly=""[^>]*>(.*?)</textarea>', page,
                     re.S)
    assert text, page[page.index('id="complaint"'):][:2000]
    assert "CIT-0001-2026" in text.group(1) and f"{PUBLIC}/kasus/CIT-0001-2026" in text.group(1)
    assert "Waktu berjalan: 2 hari kerja" in text.group(1)
    english = unescape(dump_dom(chromium, f"{citizen_portal}/kasus/CIT-0001-2026?lang=en"))
    assert "What happens next?" in english and "The reason" in english and reason in english


def pdf_pages(browser: str, url: str, directory: Path) -> int:
    """How many pages Chromium prints ``url`` on (A4, its default paper here)."""
    pdf = directory / "sheet.pdf"
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu",
                        "--no-first-run", "--disable-dev-shm-usage", f"--user-data-dir={profile}",
                        "--no-pdf-header-footer", f"--print-to-pdf={pdf}", url],
                       capture_output=True, timeout=60, check=True)
    return len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf.read_bytes()))


def test_the_status_sheet_prints_on_one_page_with_the_case_url_as_qr(
        search: SearchStack, citizen_portal: str, chromium: str,  # noqa: F811
        tmp_path: Path) -> None:
    put(search, public_case("CIT-0002-2026", revision=2))
    case_page = dump_dom(chromium, f"{citizen_portal}/kasus/CIT-0002-2026")
    assert 'href="/kasus/CIT-0002-2026/cetak"' in case_page
    sheet = dump_dom(chromium, f"{citizen_portal}/kasus/CIT-0002-2026/cetak")
    svg = re.search(r"<svg.*?</svg>", sheet, re.S)
    assert svg and encodes(svg.group(0), f"{PUBLIC}/kasus/CIT-0002-2026")
    assert "127.0.0.1" not in svg.group(0)
    code = re.search(r'id="survey-code">([A-Z2-7]{5}-[A-Z2-7]{5})<', sheet)
    assert code and code.group(1) == survey_code(SECRET.encode(), "CIT-0002-2026")
    assert pdf_pages(chromium, f"{citizen_portal}/kasus/CIT-0002-2026/cetak", tmp_path) == 1


def post_answer(portal: str, receipt: str, code: str, score: str) -> httpx.Response:
    """What submitting the case page's form does (``application/x-www-form-urlencoded``)."""
    form = {"code": code, **{f"u{n}": score for n in range(1, 10)}}
    return httpx.post(f"{portal}/kasus/{receipt}/survei", data=form, timeout=10)


def test_a_closed_case_takes_one_answer_and_the_dashboard_shows_ikm(
        search: SearchStack, citizen_portal: str, chromium: str) -> None:  # noqa: F811
    receipts = ["CIT-0003-2026", "CIT-0004-2026"]
    put(search, *[public_case(r, revision=4, status="selesai") for r in receipts])
    page = dump_dom(chromium, f"{citizen_portal}/kasus/{receipts[0]}")
    form = re.search(r'<form method="post" action="([^"]+)" id="survey-form">(.*?)</form>',
                     page, re.S)
    assert form and form.group(1) == f"/kasus/{receipts[0]}/survei"
    assert len(re.findall(r'type="radio" name="u\d"', form.group(2))) == 36
    codes = {r: survey_code(SECRET.encode(), r) for r in receipts}
    first = post_answer(citizen_portal, receipts[0], codes[receipts[0]], "4")
    assert first.status_code == 200 and "sudah tercatat" in first.text
    second = post_answer(citizen_portal, receipts[0], codes[receipts[0]], "1")
    assert second.status_code == 409 and "sudah dinilai" in second.text
    answered = dump_dom(chromium, f"{citizen_portal}/kasus/{receipts[0]}")
    assert 'id="survey-answered"' in answered and 'id="survey-form"' not in answered

    board_url = f"{citizen_portal}/dasbor/kota-bandung/dpmptsp/pbg"
    board = dump_dom(chromium, board_url)
    assert 'id="ikm-too-few"' in board and 'id="ikm-value"' not in board
    assert post_answer(citizen_portal, receipts[1], codes[receipts[1]], "3").status_code == 200
    board = unescape(dump_dom(chromium, board_url))
    value = re.search(r'id="ikm-value"><strong>IKM ([\d,]+) dari 100 — mutu pelayanan ([A-D])',
                      board)
    assert value and value.groups() == ("87,50", "B")  # (4 + 3) / 2 × 25
    assert "2 jawaban dari 2 kasus yang ditutup (tingkat respons 100%)" in board
