"""On a real uvicorn intake: who is calling and how big the body claims to be are checked before
the body is read. Observable: a raw socket sends only the request head of a 5 MiB upload and gets
its answer back without having sent a byte of the body."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from pantau_contracts.signing import sign_request
from tests.integration.intake.helpers import dev
from tests.integration.intake.running import start_intake

pytestmark = pytest.mark.integration

FIVE_MIB = 5 * 1024 * 1024
BATCH = "application/cloudevents-batch+json"


@pytest.fixture
def intake_url(start_service: Callable[..., Any], tmp_path: Path, amqp_url: str) -> str:
    return start_intake(start_service, tmp_path / "state")


def head_only(url: str, headers: dict[str, str], timeout: float = 10.0) -> str:
    """Send the head of ``POST /v1/events`` (no body) and return the server's whole answer
    (status line, headers and its problem body); fails if it waits for the body instead (socket
    timeout)."""
    parts = urlsplit(url)
    lines = ["POST /v1/events HTTP/1.1", f"Host: {parts.netloc}",
             *(f"{name}: {value}" for name, value in headers.items())]
    with socket.create_connection((parts.hostname, parts.port), timeout=timeout) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        received = b""
        while not _complete(received):
            chunk = sock.recv(65536)  # raises TimeoutError if intake waits for the body
            if not chunk:
                break
            received += chunk
    return received.decode("latin-1")


def _complete(answer: bytes) -> bool:
    """The head has arrived and as much body as its Content-Length says (the head and the body
    may come in separate packets)."""
    head, separator, body = answer.partition(b"\r\n\r\n")
    if not separator:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value.strip())
    return True


def test_an_unsigned_5_mib_upload_is_refused_before_its_body_is_read(intake_url: str) -> None:
    answer = head_only(intake_url, {"Content-Type": BATCH, "Content-Length": str(FIVE_MIB)})
    assert answer.startswith("HTTP/1.1 401"), answer
    assert "application/problem+json" in answer


def test_an_unknown_key_is_refused_before_the_body_is_read(intake_url: str) -> None:
    headers = {"Content-Type": BATCH, "Content-Length": str(FIVE_MIB)}
    headers.update(sign_request("not-a-secret", b"x" * 10, key_id="no.such.key",
                                headers={"Content-Type": BATCH}))
    answer = head_only(intake_url, headers)
    assert answer.startswith("HTTP/1.1 401"), answer
    assert "unknown or revoked" in answer or "X-Pantau-Key" in answer


def test_a_stale_timestamp_is_refused_before_the_body_is_read(intake_url: str) -> None:
    creds = dev("kota-bandung/dpmptsp")
    headers = {"Content-Type": BATCH, "Content-Length": str(FIVE_MIB)}
    headers.update(sign_request(creds.secret, b"", key_id=creds.key_id, timestamp=time.time() -
                                3600, headers={"Content-Type": BATCH}))
    assert head_only(intake_url, headers).startswith("HTTP/1.1 401")


def test_a_declared_size_over_the_limit_is_413_before_the_body_is_read(intake_url: str) -> None:
    creds = dev("kota-bandung/dpmptsp")
    headers = {"Content-Type": BATCH, "Content-Length": str(FIVE_MIB + 1)}
    headers.update(sign_request(creds.secret, b"", key_id=creds.key_id,
                                headers={"Content-Type": BATCH}))
    assert head_only(intake_url, headers).startswith("HTTP/1.1 413")


def test_a_known_sender_streaming_past_the_limit_is_413(intake_url: str) -> None:
    """No Content-Length (chunked): the limit is enforced while streaming."""
    creds = dev("kota-bandung/dpmptsp")
    structured = "application/cloudevents+json"
    headers = {"Content-Type": structured, "Transfer-Encoding": "chunked"}
    headers.update(sign_request(creds.secret, b"", key_id=creds.key_id,
                                headers={"Content-Type": structured}))
    parts = urlsplit(intake_url)
    head = ["POST /v1/events HTTP/1.1", f"Host: {parts.netloc}",
            *(f"{name}: {value}" for name, value in headers.items())]
    chunk = b"x" * 65536
    received = b""
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        try:
            for _ in range(16):  # 1 MiB, four times the single-event limit
                sock.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            sock.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # intake answered and closed while we were still sending: fine
        while b"\r\n\r\n" not in received:
            data = sock.recv(65536)
            if not data:
                break
            received += data
    assert received.startswith(b"HTTP/1.1 413"), received[:200]


@pytest.mark.parametrize("name", ["X-Pantau-Signature", "X-Pantau-Key", "X-Pantau-Timestamp"])
def test_non_ascii_auth_headers_are_a_401_problem_on_the_wire(intake_url: str, name: str) -> None:
    creds = dev("kota-bandung/dpmptsp")
    headers = {"Content-Type": BATCH, "Content-Length": "2"}
    headers.update(sign_request(creds.secret, b"[]", key_id=creds.key_id,
                                headers={"Content-Type": BATCH}))
    headers[name] += "\u00e9\u00ff"  # sent as raw bytes 0xE9 0xFF
    answer = head_only(intake_url, headers)
    assert answer.startswith("HTTP/1.1 401"), answer
    assert "application/problem+json" in answer
