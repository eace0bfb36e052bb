"""A real headless Chromium searches, opens a case and sees its timeline, in both languages.

Needs the Debian package ``chromium`` (skipped locally when missing, a failure under CI). Driven
with ``--dump-dom``: the portal's search and case pages work without JavaScript, so loading the
search form's GET URL is exactly what submitting the form does.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator

import httpx
import pytest
import uvicorn

from tests.conftest import wait_for
from tests.integration.publishing.conftest import SearchStack, free_port
from tests.integration.publishing.test_portal_live import portal, put  # noqa: F401 - fixture
from tests.unit.publishing.factories import public_case

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture
def chromium() -> str:
    if not CHROMIUM:
        message = "chromium is not installed (apt-get install -y chromium)"
        if os.environ.get("PANTAU_TESTS_ALLOW_MISSING_SERVERS") == "1":
            pytest.skip(message)
        pytest.fail(message + " — a missing browser is a failure (infra/test-deps.sh installs it)")
    return CHROMIUM


def load_page(browser: str, url: str, width: int = 1280, *extra: str) -> tuple[str, list[str]]:
    """The DOM after load and what the page wrote to the browser console."""
    with tempfile.TemporaryDirectory() as profile:
        result = subprocess.run(
            [browser, "--headless", "--no-sandbox", "--disable-gpu",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--no-first-run", "--disable-dev-shm-usage", f"--user-data-dir={profile}",
             f"--window-size={width},2400", "--enable-logging=stderr", "--v=0", *extra,
             "--dump-dom", url],
            capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout, [line for line in result.stderr.splitlines() if ":CONSOLE" in line]


def dump_dom(browser: str, url: str, width: int = 1280, *extra: str) -> str:
    """The DOM of a portal page, checked for what Lighthouse flags on every page (Swagger UI
    under ``/docs`` is not a portal page)."""
    page, _console = load_page(browser, url, width, *extra)
    if not url.split("?")[0].endswith("/docs"):
        assert_page_basics(page)
    return page


def assert_page_basics(page: str) -> None:
    """A language, one h1, a meta description, the icon linked, no inline style (the CSP)."""
    assert re.search(r'<html lang="(id|en)"', page), page[:500]
    assert page.count("<h1") == 1, page[:2000]
    description = re.search(r'<meta name="description" content="([^"]{50,})">', page)
    assert description, page[:1000]
    assert '<link rel="icon" href="/favicon.ico"' in page
    assert " style=" not in page


def test_search_open_case_and_timeline_in_both_languages(
        search: SearchStack, portal: str, chromium: str) -> None:  # noqa: F811
    put(search, public_case("BRW-0001-2026", revision=3, kecamatan="Cicendo",
                            note="Menunggu gambar teknis"),
        public_case("BRW-0002-2026", revision=1, kecamatan="Andir"))
    results = dump_dom(chromium, f"{portal}/?q=cicendo")
    assert "1 kasus ditemukan" in results
    link = re.search(r'href="(/kasus/BRW-0001-2026)"', results)
    assert link, results[:2000]
    page = dump_dom(chromium, portal + link.group(1))
    assert "Riwayat proses" in page and "Pemeriksaan teknis" in page
    assert page.count('class="step ') == 3 and 'class="step current s-diproses"' in page
    assert "Menunggu gambar teknis" in page and "WIB" in page
    # dates as read in Indonesia, the verdict on the service clock first, the service standard
    assert "2 Maret 2026, pukul 08.15 WIB" in page and 'id="verdict"' in page
    assert "Sedang berjalan, masih dalam batas waktu" in page
    assert "Standar pelayanan" in page and "Persyaratan" in page
    # the live-update script ran in the browser and revealed its hint
    assert re.search(r'id="live-hint"(?![^>]*hidden)', page)
    english = dump_dom(chromium, f"{portal}/?q=cicendo&lang=en")
    assert "1 case(s) found" in english
    english_case = dump_dom(chromium, portal + link.group(1) + "?lang=en")
    assert "Process history" in english_case and "Technical review" in english_case
    assert "2 March 2026, 08:15 WIB" in english_case and "Requirements" in english_case
    # a receipt number typed into the search box goes straight to the case
    direct = dump_dom(chromium, f"{portal}/?q=brw-0002-2026")
    assert "Kasus BRW-0002-2026" in direct


def test_late_case_and_dashboard_on_a_phone(
        search: SearchStack, portal: str, chromium: str) -> None:  # noqa: F811
    put(search, public_case("BRW-0003-2026", revision=3, kecamatan="Cicendo", overdue=True,
                            elapsed=14))
    page = dump_dom(chromium, f"{portal}/kasus/BRW-0003-2026", width=390)
    # "terlambat" in words and with an icon, not only in red
    assert "Terlambat — melewati batas waktu" in page and "Terlambat 4 hari kerja." in page
    assert re.search(r'class="badge late"[^>]*><span aria-hidden="true">⚠</span> Terlambat',
                     page)
    results = dump_dom(chromium, f"{portal}/?overdue=true", width=390)
    assert "BRW-0003-2026" in results and 'class="card is-late"' in results
    assert results.index('class="results"') < results.index('class="facets"')
    board = dump_dom(chromium, f"{portal}/dasbor?lang=en", width=390)
    assert "Service performance dashboard" in board and 'class="chart"' in board


def test_a_step_reported_late_on_a_phone_in_both_languages(
        search: SearchStack, portal: str, chromium: str) -> None:  # noqa: F811
    put(search, public_case("BRW-0004-2026", revision=4, kecamatan="Cicendo", delays={4: 3}))
    page = dump_dom(chromium, f"{portal}/kasus/BRW-0004-2026", width=390)
    # the notice on top, in words and with an icon, before the verdict on the service clock
    assert page.index('id="late-report-notice"') < page.index('id="verdict"')
    assert "Ada tahap yang dilaporkan terlambat" in page
    # every step with both times; the late one says by how much
    assert page.count("Terjadi (menurut perangkat daerah):") == 4
    assert page.count("Dilaporkan / diterima Pantau:") == 4
    assert re.search(r'<span aria-hidden="true">⚠</span> dilaporkan 3 hari kerja kemudian', page)
    # this portal has no transparency log to read: the page says so, never "verified"
    assert 'id="verified"' in page and "Riwayat terverifikasi" not in page
    assert "/api/v1/cases/BRW-0004-2026/proof" in page
    english = dump_dom(chromium, f"{portal}/kasus/BRW-0004-2026?lang=en", width=390)
    assert "A step was reported late" in english and "reported 3 working days later" in english
    results = dump_dom(chromium, f"{portal}/?late_reported=true", width=390)
    assert "BRW-0004-2026" in results and "Dilaporkan terlambat: Ya" in results


# No host but the loopback resolves: a page that needs a CDN (jsdelivr, tiangolo) stays blank.
OFFLINE = ("--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
           "--virtual-time-budget=20000")  # let Swagger UI fetch the document and render


@pytest.fixture
def intake_docs() -> Iterator[str]:
    """Intake's HTTP app in this process (its docs need no broker or database)."""
    from pantau_intake.http.app import create_app
    from pantau_intake.settings import IntakeSettings

    app = create_app(IntakeSettings(), keys=object(), forwarder=object(), ready=lambda: True)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for(lambda: server.started, timeout=10, message="intake's app up")
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


def test_api_docs_list_their_operations_without_internet(
        portal: str, intake_docs: str, chromium: str) -> None:  # noqa: F811
    """``/api/docs`` (portal) and ``/docs`` (intake) load Swagger UI from Pantau itself and
    start it without inline script, under the portal's Content-Security-Policy."""
    portal_docs = dump_dom(chromium, f"{portal}/api/docs", 1280, *OFFLINE)
    assert 'class="opblock' in portal_docs, portal_docs[:2000]
    for operation in ("/api/v1/cases/{receipt_number}", "/feed.{fmt}", "/open311/v2/"):
        assert operation in portal_docs, operation
    intake = dump_dom(chromium, f"{intake_docs}/docs", 1280, *OFFLINE)
    assert 'class="opblock' in intake and "/v1/events" in intake, intake[:2000]


def test_comparison_and_monthly_charts_on_a_phone(
        search: SearchStack, portal: str, chromium: str) -> None:  # noqa: F811
    put(search, public_case("BRW-0005-2026", revision=4, kecamatan="Cicendo"),
        public_case("BRW-0006-2026", revision=4, jurisdiction="kab-bandung"))
    page = dump_dom(chromium, f"{portal}/perbandingan", width=390)
    assert '<html lang="id">' in page and page.count("<h1") == 1
    assert "Perbandingan kinerja layanan" in page and 'id="cara-menghitung"' in page
    # both jurisdictions listed apart; too few cases for a rank, said in words
    assert "Kota Bandung" in page and "Kab-Bandung" in page
    assert page.count("Kasus terlalu sedikit") == 2 and "belum cukup data" in page
    assert re.search(r'<th scope="col">Peringkat</th>', page)
    assert " style=" not in page  # the CSP allows no inline style
    assert 'content="Perbandingan kinerja layanan antardaerah Jawa Barat' in page
    board = dump_dom(chromium, f"{portal}/dasbor/kota-bandung?lang=en", width=390)
    assert '<html lang="en">' in board and "Statistics by month" in board
    assert '<meta name="description" content="Service performance dashboard for Kota' in board
    assert 'class="chart"' in board and 'id="monthly-table"' in board
    assert 'href="/dasbor/kota-bandung/statistik.csv"' in board
    assert re.search(r'<caption>Monthly statistics table</caption>', board)
    assert 'class="sname">received</span>' in board  # the series named in text, not colour
    assert " style=" not in board


def test_home_page_logs_nothing_and_every_resource_it_names_loads(
        portal: str, chromium: str) -> None:  # noqa: F811
    """Lighthouse's "no browser errors in the console": nothing written to the console, and
    no 404 among the stylesheet, scripts and icons (a 404 — /favicon.ico, which every browser
    asks for — is logged as a console error)."""
    page, console = load_page(chromium, f"{portal}/", 390)
    assert console == [], console
    assert_page_basics(page)
    resources = set(re.findall(r'<(?:link|script)[^>]* (?:href|src)="(/[^"]*)"', page))
    assert {"/favicon.ico", "/static/favicon.svg", "/static/portal.css"} <= resources
    for path in sorted(resources | {"/favicon.ico"}):
        response = httpx.get(portal + path, timeout=10)
        assert response.status_code == 200, (path, response.status_code)
    assert httpx.get(f"{portal}/favicon.ico", timeout=10).headers["content-type"] == \
        "image/x-icon"
