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

import pytest

from tests.integration.publishing.conftest import SearchStack
from tests.integration.publishing.test_portal_live import portal, put  # noqa: F401 - fixture
from tests.unit.publishing.factories import public_case

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture
def chromium() -> str:
    if not CHROMIUM:
        message = "chromium is not installed (apt-get install -y chromium)"
        if os.environ.get("CI"):
            pytest.fail(message + " — CI is set: a missing browser is a failure")
        pytest.skip(message)
    return CHROMIUM


def dump_dom(browser: str, url: str) -> str:
    with tempfile.TemporaryDirectory() as profile:
        result = subprocess.run(
            [browser, "--headless", "--no-sandbox", "--disable-gpu",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--no-first-run", "--disable-dev-shm-usage", f"--user-data-dir={profile}",
             "--dump-dom", url],
            capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


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
    assert page.count('class="step ') == 3 and 'class="step current"' in page
    assert "Menunggu gambar teknis" in page and "WIB" in page
    # the live-update script ran in the browser and revealed its hint
    assert re.search(r'id="live-hint"(?![^>]*hidden)', page)
    english = dump_dom(chromium, f"{portal}/?q=cicendo&lang=en")
    assert "1 case(s) found" in english
    english_case = dump_dom(chromium, portal + link.group(1) + "?lang=en")
    assert "Process history" in english_case and "Technical review" in english_case
    # a receipt number typed into the search box goes straight to the case
    direct = dump_dom(chromium, f"{portal}/?q=brw-0002-2026")
    assert "Kasus BRW-0002-2026" in direct
