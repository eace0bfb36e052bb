"""End to end: what a citizen sees and does after a department reports (issue 9).

The whole system runs as real subprocesses (tracking on SQLite). Kota Bandung's DPMPTSP reports
over signed HTTP:

* a case it returns (``case.returned`` with a reason): the case page says what happens next with
  that reason shown prominently, and offers the complaint route (SP4N-LAPOR! and a ready text
  naming the receipt and the public URL);
* a case it completes: the status sheet printed while it was open carries the case URL (from
  ``PANTAU_PUBLIC_BASE_URL``) as its QR code and the survey code; once closed, the case takes one
  SKM answer with that code and refuses a second, and the service's dashboard shows the IKM.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from html import unescape
from typing import Any

import httpx
import pytest

from pantau_client.http_sender import HttpSender
from pantau_contracts import make_event
from pantau_intake.adapters.dev_credentials import dev_department
from tests.conftest import wait_for
from tests.e2e.system import System, running_system
from tests.unit.publishing.qr_svg import encodes

pytestmark = pytest.mark.e2e
INTAKE_PORT, PORTAL_PORT = 18701, 18700
INTAKE = f"http://127.0.0.1:{INTAKE_PORT}"
PORTAL = f"http://127.0.0.1:{PORTAL_PORT}"
PUBLIC = "https://pantau.e2e.example"
DPMPTSP = "/kota-bandung/dpmptsp"
REASON = "Gambar struktur belum ditandatangani tenaga ahli; lampirkan ulang"


@pytest.fixture(scope="module")
def system(amqp_url: str, elasticsearch_url: str,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    state = tmp_path_factory.mktemp("citizen-state")
    database = {"PANTAU_DATABASE_URL": f"sqlite:///{state / 'tracking.sqlite3'}",
                "PANTAU_TRANSPARENCY_DATABASE_URL": f"sqlite:///{state / 'tracking.sqlite3'}"}
    portal = {**database, "PANTAU_PUBLIC_BASE_URL": PUBLIC,
              "PANTAU_SURVEY_SECRET": "e2e-survey-secret-0123456789abcdef0123",
              "PANTAU_SURVEY_MIN_RESPONSES": "1",
              "PANTAU_CITIZEN_DATABASE_URL": f"sqlite:///{state / 'citizen.sqlite3'}"}
    per_process = {"pantau_tracking": database, "pantau_publishing.indexer": database,
                   "pantau_publishing.portal": portal}
    with running_system(amqp_url, state, name="citizen", intake_port=INTAKE_PORT,
                        portal_port=PORTAL_PORT, per_process_env=per_process) as running:
        yield running


def send(receipt: str, seq: int, kind: str, **data: Any) -> None:
    creds = dev_department("kota-bandung/dpmptsp")
    sender = HttpSender(INTAKE, creds.key_id, creds.secret)
    try:
        answer = sender.send(make_event(type=kind, source=DPMPTSP, subject=receipt,
                                        sequence=seq, data={"receipt_number": receipt, **data}))
    finally:
        sender.close()
    assert answer["status"] == "accepted", answer


def status_of(receipt: str) -> str | None:
    response = httpx.get(f"{PORTAL}/api/v1/cases/{receipt}", timeout=5)
    return response.json()["status"] if response.status_code == 200 else None


def test_a_returned_case_shows_the_reason_and_the_complaint_route(
        system: System, unique: Callable[[str], str]) -> None:
    receipt = unique("BDG-PBG")
    send(receipt, 1, "case.submitted", service_code="pbg", kecamatan="Coblong")
    send(receipt, 2, "case.returned", reason=REASON)
    wait_for(lambda: status_of(receipt) == "dikembalikan", timeout=30,
             message="returned case in the portal\n" + system.logs())
    page = unescape(httpx.get(f"{PORTAL}/kasus/{receipt}", timeout=10).text)
    assert 'data-situation="returned"' in page
    assert re.search(r'class="reason-text"[^>]*>' + re.escape(REASON) + "<", page)
    assert 'href="https://www.lapor.go.id"' in page
    text = re.search(r'<textarea id="complaint-text" readonly[^>]*>(.*?)</textarea>', page, re.S)
    assert text and receipt in text.group(1) and f"{PUBLIC}/kasus/{receipt}" in text.group(1)
    assert "28 hari kerja" in text.group(1) and "Dikembalikan" in text.group(1)


def test_a_closed_case_takes_one_answer_with_the_sheets_code(
        system: System, unique: Callable[[str], str]) -> None:
    receipt = unique("BDG-PBG")
    send(receipt, 1, "case.submitted", service_code="pbg", kecamatan="Coblong")
    wait_for(lambda: status_of(receipt) == "diterima", timeout=30, message="case in the portal")
    sheet = httpx.get(f"{PORTAL}/kasus/{receipt}/cetak", timeout=10).text  # at the counter
    svg = re.search(r"<svg.*?</svg>", sheet, re.S)
    assert svg and encodes(svg.group(0), f"{PUBLIC}/kasus/{receipt}")
    code = re.search(r'id="survey-code">([A-Z2-7]{5}-[A-Z2-7]{5})<', sheet)
    assert code
    send(receipt, 2, "case.completed", note="PBG terbit")
    wait_for(lambda: status_of(receipt) == "selesai", timeout=30, message="completed case")
    assert 'id="survey-code"' not in httpx.get(f"{PORTAL}/kasus/{receipt}/cetak",
                                               timeout=10).text
    form = {"code": code.group(1), **{f"u{n}": "4" for n in range(1, 10)}, "u3": "2"}
    first = httpx.post(f"{PORTAL}/kasus/{receipt}/survei", data=form, timeout=10)
    assert first.status_code == 200, first.text[-2000:]
    again = httpx.post(f"{PORTAL}/kasus/{receipt}/survei", data=form, timeout=10)
    assert again.status_code == 409
    board = unescape(httpx.get(f"{PORTAL}/dasbor/kota-bandung/dpmptsp/pbg", timeout=10).text)
    value = re.search(r'id="ikm-value"><strong>IKM ([\d,]+) dari 100 — mutu pelayanan ([A-D])',
                      board)
    assert value and value.groups() == ("94,44", "A")  # (8 × 4 + 2) / 9 × 25
