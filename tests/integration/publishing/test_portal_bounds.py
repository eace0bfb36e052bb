"""The portal as a real process (uvicorn) over the real Elasticsearch: bounded public surfaces
(OWASP API4), no trust in the Host header, security headers, and its API checked by
schemathesis against its own OpenAPI document.

* 500 open live streams (server-sent events) do not keep the home page from answering within
  1 s, and with the per-IP cap set to 500 the 501st stream from the same address is a 429
  with Retry-After; closing the streams frees their slots.
* A request with ``Host: evil.example`` or a path ``//evil.example/x`` yields links, feeds and
  redirects on the configured public base URL only.
* schemathesis (every check) against ``/api/v1/openapi.json``: no server error, every status
  code, content type and body as documented, 405 with ``Allow``, schema-valid requests
  accepted — except two transparency operations whose sizes must not exceed the log's current
  tree size, which no schema can state (they answer a documented 400).
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from pantau_tracking.adapters.database import create_engine, migrate
from tests.conftest import REPO, wait_for
from tests.integration.publishing.conftest import SearchStack, free_port
from tests.integration.publishing.test_portal_live import put
from tests.unit.publishing.factories import public_case

BASE = "https://pantau.example.go.id"
STREAMS = 500
ST = Path(sys.executable).with_name("st")


@pytest.fixture
def bounded_portal(search: SearchStack, start_service: Callable[..., Any],
                   tmp_path: Path) -> Iterator[str]:
    """A portal with a per-IP stream cap of 500, a public base URL and a readable (empty)
    transparency log (tracking's schema on SQLite)."""
    log_url = f"sqlite:///{tmp_path / 'log.sqlite3'}"
    engine = create_engine(log_url)
    migrate(engine)
    engine.dispose()
    port = free_port()
    process = start_service("pantau_publishing.portal", PANTAU_PORTAL_PORT=str(port),
                            PANTAU_SSE_POLL_SECONDS="0.5", PANTAU_PUBLIC_BASE_URL=BASE,
                            PANTAU_SSE_MAX_STREAMS_PER_IP=str(STREAMS),
                            PANTAU_SSE_MAX_STREAMS=str(STREAMS + 100),
                            PANTAU_TRANSPARENCY_DATABASE_URL=log_url, **search.env)
    url = f"http://127.0.0.1:{port}"
    wait_for(lambda: httpx.get(url + "/", timeout=1).status_code == 200, timeout=20,
             message="portal up\n" + process.log())
    yield url


def _address(url: str) -> tuple[str, int]:
    host, port = url.removeprefix("http://").split(":")
    return host, int(port)


async def _open_stream(url: str, receipt: str) -> tuple[asyncio.StreamReader,
                                                         asyncio.StreamWriter, bytes]:
    """One raw SSE connection; returns once its first revision event (or refusal) arrived."""
    host, port = _address(url)
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(f"GET /kasus/{receipt}/events HTTP/1.1\r\nHost: {host}:{port}\r\n"
                 "Accept: text/event-stream\r\n\r\n".encode())
    await writer.drain()
    seen = b""
    while b"event: revision" not in seen and b"\r\n\r\n{" not in seen:
        chunk = await asyncio.wait_for(reader.read(4096), 30)
        if not chunk:
            break
        seen += chunk
    return reader, writer, seen


def test_500_open_streams_leave_the_home_page_answering_and_the_501st_is_429(
        search: SearchStack, bounded_portal: str) -> None:
    receipts = [f"SSE-{n:04d}-2026" for n in range(5)]
    put(search, *(public_case(r, revision=1) for r in receipts))

    async def scenario() -> None:
        opened = await asyncio.gather(*(_open_stream(bounded_portal, receipts[i % 5])
                                        for i in range(STREAMS)))
        try:
            assert all(seen.startswith(b"HTTP/1.1 200") and b"event: revision" in seen
                       for _r, _w, seen in opened), [s[:200] for _r, _w, s in opened][:3]
            async with httpx.AsyncClient(base_url=bounded_portal, timeout=5) as client:
                started = time.monotonic()
                home = await client.get("/")
                elapsed = time.monotonic() - started
                assert home.status_code == 200 and 'role="search"' in home.text
                assert elapsed < 1.0, f"home page took {elapsed:.2f} s beside {STREAMS} streams"
                refused = await client.get(f"/kasus/{receipts[0]}/events")
                assert refused.status_code == 429, refused.text[:300]
                assert int(refused.headers["retry-after"]) > 0
                # the streams still get news: one shared poll fans out to every stream
                put(search, public_case(receipts[0], revision=2))
                news = b""
                while b'"revision": 2' not in news:
                    news += await asyncio.wait_for(opened[0][0].read(4096), 15)
        finally:
            for _reader, writer, _seen in opened:
                writer.close()

        def slot_free() -> bool:
            with httpx.stream("GET", f"{bounded_portal}/kasus/{receipts[1]}/events",
                              timeout=5) as answer:
                return answer.status_code == 200
        await asyncio.to_thread(wait_for, slot_free, 20, 0.2, "closed streams free their slots")

    asyncio.run(scenario())


def _raw_get(url: str, target: str, host: str) -> str:
    """A request with exactly this target and Host (clients would normalise ``//x``)."""
    with socket.create_connection(_address(url), timeout=10) as sock:
        sock.sendall(f"GET {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
                     .encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    return data.decode("utf-8", "replace")


def test_links_feeds_and_redirects_use_the_public_base_url(search: SearchStack,
                                                            bounded_portal: str) -> None:
    put(search, public_case("HOST-0001-2026", revision=2))
    evil = {"Host": "evil.example", "X-Forwarded-Host": "evil.example"}
    with httpx.Client(base_url=bounded_portal, timeout=10) as client:
        feed = client.get("/feed.json", headers=evil).json()
        assert feed["feed_url"] == f"{BASE}/feed.json" and feed["home_page_url"] == f"{BASE}/"
        assert any(item["url"] == f"{BASE}/kasus/HOST-0001-2026" for item in feed["items"])
        for path in ("/feed.atom", "/feeds/case/HOST-0001-2026.atom", "/umpan",
                     "/open311/v2/discovery.json", "/open311/v2/discovery.xml"):
            answer = client.get(path, headers=evil)
            assert answer.status_code == 200 and "evil.example" not in answer.text, path
            assert BASE in answer.text, path
        slash = client.get("/dasbor/", headers=evil)
        assert "evil.example" not in slash.headers.get("location", "")
    for target in ("//evil.example/x", "//evil.example/", "//evil.example/kasus/x",
                   "//evil.example/api/v1/x", "/\\evil.example/x"):
        raw = _raw_get(bounded_portal, target, "evil.example")
        head, _, body = raw.partition("\r\n\r\n")
        location = [line for line in head.split("\r\n") if line.lower().startswith("location:")]
        assert not any("//evil.example" in line or ": //" in line for line in location), head
        assert 'href="//' not in body and 'src="//' not in body and 'action="//' not in body
        assert '"instance":"//' not in body, body[:300]


def test_every_answer_carries_the_security_headers(bounded_portal: str) -> None:
    with httpx.Client(base_url=bounded_portal, timeout=10) as client:
        for path in ("/", "/dasbor", "/feed.atom", "/api/v1/cases", "/api/docs",
                     "/static/portal.css", "/nope", "/api/v1/openapi.json"):
            headers = client.get(path).headers
            assert "script-src 'self'" in headers["content-security-policy"], path
            assert "frame-ancestors 'none'" in headers["content-security-policy"], path
            assert headers["x-frame-options"] == "DENY", path
            assert headers["x-content-type-options"] == "nosniff", path
            assert headers["referrer-policy"], path
            assert headers["strict-transport-security"].startswith("max-age="), path  # https
        not_allowed = client.post("/api/v1/cases")
        assert not_allowed.status_code == 405 and "GET" in not_allowed.headers["allow"]


TRANSPARENCY_SIZES = "^/api/v1/transparency/(consistency|leaves)$"


def _schemathesis(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    command = [str(ST), "run", f"{url}/api/v1/openapi.json", "--checks", "all",
               "--max-examples", os.environ.get("PANTAU_SCHEMATHESIS_EXAMPLES", "100"),
               "--workers", "4", "--no-color", *args]
    # a request the HTTP server refuses before the app sees it is not a portal failure
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "tests.integration.publishing.schemathesis_portal"}
    return subprocess.run(command, capture_output=True, text=True, timeout=600, check=False,
                          env=env, cwd=REPO)


def _report(run: subprocess.CompletedProcess[str]) -> str:
    """The end of schemathesis' report with every line cut at 300 characters (a fuzzed URL can
    be megabytes long and push the failing operation's name out of the message)."""
    lines = [line[:300] for line in (run.stdout + run.stderr).splitlines()]
    return "\n".join(lines)[-8000:]


def test_schemathesis_finds_nothing(search: SearchStack, bounded_portal: str) -> None:
    put(search, public_case("API-0001-2026", revision=1), public_case("API-0002-2026"))
    everything = _schemathesis(bounded_portal, "--exclude-path-regex", TRANSPARENCY_SIZES)
    assert everything.returncode == 0, _report(everything)
    assert "Server error" not in everything.stdout
    sizes = _schemathesis(bounded_portal, "--include-path-regex", TRANSPARENCY_SIZES,
                          "--exclude-checks", "positive_data_acceptance")
    assert sizes.returncode == 0, _report(sizes)
