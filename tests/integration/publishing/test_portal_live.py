"""The portal as a real process (uvicorn) over the real Elasticsearch: search, case page, live
updates over server-sent events, API answers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from pantau_publishing.adapters.search.store import EsSearchIndex
from pantau_publishing.service.indexing import IndexBatch
from pantau_publishing.service.ports import ReceivedMessage
from tests.conftest import wait_for
from tests.integration.publishing.conftest import SearchStack, free_port
from tests.unit.publishing.factories import case_updated, public_case


def put(search: SearchStack, *records: dict[str, Any]) -> None:
    IndexBatch(EsSearchIndex(search.es, search.aliases)).handle(
        [ReceivedMessage(case_updated(r)) for r in records])
    search.refresh()


@pytest.fixture
def portal(search: SearchStack, start_service: Callable[..., Any]) -> Iterator[str]:
    port = free_port()
    process = start_service("pantau_publishing.portal", PANTAU_PORTAL_PORT=str(port),
                            PANTAU_SSE_POLL_SECONDS="0.2", **search.env)
    base = f"http://127.0.0.1:{port}"
    wait_for(lambda: httpx.get(base + "/", timeout=1).status_code == 200, timeout=20,
             message="portal up\n" + process.log())
    yield base


def test_search_case_page_and_live_revision(search: SearchStack, portal: str) -> None:
    put(search, public_case("LIVE-0001-2026", revision=2, kecamatan="Coblong"),
        public_case("LIVE-0002-2026", revision=1, kecamatan="Sukajadi"))
    with httpx.Client(base_url=portal, timeout=10, follow_redirects=True) as client:
        answer = client.get("/", params={"q": "live-0001-2026"})
        assert answer.url.path == "/kasus/LIVE-0001-2026"
        assert "Riwayat proses" in answer.text
        results = client.get("/", params={"q": "sukajadi"}).text
        assert "/kasus/LIVE-0002-2026" in results and "/kasus/LIVE-0001-2026" not in results
        assert client.get("/api/v1/cases/LIVE-0001-2026").json()["revision"] == 2
        assert client.get("/api/v1/cases/NOPE-0000").status_code == 404

        with client.stream("GET", "/kasus/LIVE-0001-2026/events") as stream:
            lines = stream.iter_lines()
            seen: list[str] = []

            def next_revision() -> str:
                for line in lines:
                    seen.append(line)
                    if line.startswith("data:"):
                        return line
                raise AssertionError("stream ended: " + repr(seen))

            assert next_revision() == 'data: {"revision": 2}'
            put(search, public_case("LIVE-0001-2026", revision=3))
            assert next_revision() == 'data: {"revision": 3}'


@pytest.mark.parametrize("receipt", ["A" * 5000, "%20", "a" * 49])
def test_malformed_receipt_numbers_are_404_not_500(search: SearchStack, portal: str,
                                                   receipt: str) -> None:
    """Elasticsearch answers an id of 5000 characters with too_long_http_line and an empty id
    with an error: the portal must say "not found" before asking it."""
    put(search, public_case("LIVE-0003-2026", revision=1))
    with httpx.Client(base_url=portal, timeout=10, follow_redirects=True) as client:
        for url in (f"/api/v1/cases/{receipt}", f"/kasus/{receipt}",
                    f"/kasus/{receipt}/events",
                    f"/open311/v2/requests/{receipt}.json?jurisdiction_id=kota-bandung",
                    f"/open311/v2/requests/{receipt}.xml?jurisdiction_id=kota-bandung"):
            answer = client.get(url)
            assert answer.status_code == 404, (url[:80], answer.status_code, answer.text[:300])
        assert client.get("/api/v1/cases/%20live-0003-2026%20").json()["revision"] == 1
        assert client.get("/open311/v2/requests/live-0003-2026.json",
                          params={"jurisdiction_id": "kota-bandung"}).status_code == 200
