"""Intake HTTP acceptance throughput: a real uvicorn process, concurrent clients, real confirms.

    eval "$(bash infra/stack.sh env)" && .venv/bin/python -m bench.intake_http [--quick]
        [--requests 5000] [--concurrency 32] [--batches 20] [--batch 500]
        [--database postgresql] [--profile out.txt] [--floor]

Starts ``python -m pantau_intake.http`` as a subprocess (rate limit off, dev credentials in a
temporary state dir; ``--database postgresql`` puts the replay/idempotency memories in a fresh
PostgreSQL schema instead of SQLite), then drives it from this process with ``--concurrency``
asyncio workers on keep-alive connections (a minimal HTTP/1.1 client: httpx cost more CPU per
request than the server), every request signed and serialised beforehand (not timed):

* single: one structured-mode event per request, each a new case; requests/s and latency
  p50/p99 (every request must be 202 — answered only after the broker's confirm);
* batch: ``--batches`` batches of ``--batch`` events, 4 in flight; events/s.

Raw baseline in the same run, same messages, same exchange and queue (``pantau.accepted`` →
``tracking.accepted``), no Pantau logic, with py-amqp (the client library under
``pantau_platform.amqp``): ``confirm_each`` publishes one message and waits for its confirm
before the next (what one request used to cost), ``confirm_grouped`` publishes groups of
``--concurrency`` messages and waits for each group's confirms together. Ratios are printed
against the grouped baseline. ``--profile`` runs py-spy on the server during the single phase and
writes its flat (top functions) report. ``--floor`` also serves ``bench.http_floor``'s apps (bare
uvicorn, bare FastAPI, FastAPI as intake builds it with no Pantau logic) to the same requests and
client: the framework's own CPU per request, beside the real server's.

Events are accepted for real under receipts ``BDG-PBG-BENCH-…`` (a prefix Kota Bandung DPMPTSP
owns); ``tracking.accepted`` in the test vhost is purged at the end (run it under the tests' lock:
``flock /tmp/pantau-tests.lock``). Prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import json
import os
import random
import signal
import socket
import string
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import amqp
import httpx  # readiness probe only

from bench import http_floor
from pantau_contracts.routing import ACCEPTED_EXCHANGE, department_key
from pantau_contracts.signing import sign
from pantau_intake.adapters.dev_credentials import dev_department
from pantau_intake.credentials.cli import main as credentials_main
from pantau_intake.settings import IntakeSettings
from pantau_platform.endpoints import first_url

SINGLE = "application/cloudevents+json"
BATCH = "application/cloudevents-batch+json"
BATCH_IN_FLIGHT = 4


def event(receipt: str, seq: int) -> dict[str, Any]:
    data: dict[str, Any] = {"receipt_number": receipt}
    kind = "case.submitted" if seq == 1 else "case.stage_started"
    data.update({"service_code": "pbg"} if seq == 1 else {"stage": "verifikasi-berkas"})
    return {"specversion": "1.0", "id": str(uuid.uuid4()), "source": "/kota-bandung/dpmptsp",
            "type": kind, "time": datetime.now(UTC).isoformat(), "sequence": seq, "data": data}


def new_receipt() -> str:
    # letters only: a long run of digits would look like a phone number (refused as personal data)
    return "BDG-PBG-BENCH-" + "".join(random.choices(string.ascii_uppercase, k=10))


def signed(payload: Any, content_type: str) -> tuple[bytes, dict[str, str]]:
    """The body and its headers, signed (scheme v2 over POST /v1/events)."""
    creds = dev_department("kota-bandung/dpmptsp")
    body = json.dumps(payload).encode()
    return body, {**sign(creds.secret, body, key_id=creds.key_id), "Content-Type": content_type}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def intake_server(state: Path, database_url: str) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    settings = IntakeSettings(state_dir=state, intake_database_url=database_url)
    with contextlib.redirect_stdout(sys.stderr):  # keep stdout pure JSON
        credentials_main(["bootstrap-dev"], settings=settings)
    port = free_port()
    env = {**os.environ, "PANTAU_STATE_DIR": str(state), "PANTAU_INTAKE_PORT": str(port),
           "PANTAU_INTAKE_METRICS_PORT": str(free_port()), "PANTAU_INTAKE_RATE_PER_SECOND": "0",
           "PANTAU_INTAKE_DATABASE_URL": database_url, "PANTAU_LOG_LEVEL": "WARNING"}
    server = subprocess.Popen([sys.executable, "-m", "pantau_intake.http"], env=env,
                              stdout=sys.stderr, stderr=sys.stderr)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(lambda: httpx.get(base + "/readyz", timeout=2).status_code == 200, server,
                   "the intake server")
        yield port, server
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()


def floor(requests: list[tuple[bytes, dict[str, str]]], concurrency: int) -> dict[str, Any]:
    """Requests/s and server CPU per request of each ``bench.http_floor`` app."""
    found: dict[str, Any] = {}
    for kind in http_floor.APPS:
        port = free_port()
        env = {**os.environ, "PANTAU_BENCH_FLOOR": kind, "PANTAU_LOG_LEVEL": "WARNING"}
        server = subprocess.Popen([sys.executable, "-m", "uvicorn", "bench.http_floor:app",
                                   "--port", str(port), "--http", "httptools",
                                   "--log-level", "warning", "--no-access-log"], env=env,
                                  stdout=sys.stderr, stderr=sys.stderr)
        try:
            wait_ready(functools.partial(answers, f"http://127.0.0.1:{port}/v1/events"), server,
                       f"the {kind} floor app")
            raw = [request_bytes(port, body, headers) for body, headers in requests]
            asyncio.run(drive(port, raw[:50], concurrency))
            before = cpu_seconds(server.pid)
            elapsed, _ = asyncio.run(drive(port, raw[50:], concurrency))
            found[kind] = {"requests_per_second": round((len(raw) - 50) / elapsed, 1),
                           "server_cpu_ms_per_request": round(
                               1000 * (cpu_seconds(server.pid) - before) / (len(raw) - 50), 3)}
        finally:
            server.send_signal(signal.SIGINT)
            server.wait(10)
    return found


def answers(url: str) -> bool:
    return httpx.post(url, content=b"{}", timeout=2).is_success


def wait_ready(probe: Callable[[], bool], server: subprocess.Popen[bytes], what: str) -> None:
    """Until ``probe()`` is true (an HTTP error is a no); exit if ``server`` dies or 60 s pass."""
    deadline = time.monotonic() + 60
    while True:
        with contextlib.suppress(httpx.HTTPError):
            if probe():
                return
        if server.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"{what} did not become ready")
        time.sleep(0.2)


@contextlib.contextmanager
def database(kind: str) -> Iterator[str]:
    """"" (SQLite in the state dir) or a fresh PostgreSQL schema, dropped afterwards."""
    if kind == "sqlite":
        yield ""
        return
    import sqlalchemy as sa

    base = os.environ["PANTAU_TEST_DATABASE_URL"]
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(base.replace("postgresql://", "postgresql+psycopg2://"))
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield base + ("&" if "?" in base else "?") + f"options=-csearch_path%3D{schema}"
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


def request_bytes(port: int, body: bytes, headers: dict[str, str]) -> bytes:
    lines = ["POST /v1/events HTTP/1.1", f"Host: 127.0.0.1:{port}",
             f"Content-Length: {len(body)}", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


async def drive(port: int, requests: list[bytes], concurrency: int) -> tuple[float, list[float]]:
    """Send every request with ``concurrency`` keep-alive connections; (elapsed s, latencies).

    A minimal HTTP/1.1 client on asyncio streams, requests serialised beforehand: httpx's
    AsyncClient cost 6.5 ms of CPU per request here, more than the server, on the same 2 cores.
    """
    latencies: list[float] = []
    pending = iter(requests)

    async def worker() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for raw in pending:
                t0 = time.perf_counter()
                writer.write(raw)
                status, body = await read_response(reader)
                latencies.append(time.perf_counter() - t0)
                assert status == 202, body
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - started, latencies


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return status, await reader.readexactly(length)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * fraction))] * 1000, 2)


@contextlib.contextmanager
def profiling(pid: int, out: str | None) -> Iterator[None]:
    if not out:
        yield
        return
    spy = subprocess.Popen([str(Path(sys.executable).with_name("py-spy")), "record", "-p",
                            str(pid), "-r", "200", "--gil", "-f", "raw", "-o", out + ".raw"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1)  # py-spy attaches
    try:
        yield
    finally:
        spy.send_signal(signal.SIGINT)
        spy.wait(30)
        write_flat_profile(out + ".raw", out)


def write_flat_profile(raw: str, out: str) -> None:
    """Self and total share of samples per function (from py-spy's collapsed stacks)."""
    self_time: dict[str, int] = {}
    total: dict[str, int] = {}
    samples = 0
    for line in Path(raw).read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        count = int(count_text)
        samples += count
        frames = stack.split(";")
        self_time[frames[-1]] = self_time.get(frames[-1], 0) + count
        for frame in set(frames):
            total[frame] = total.get(frame, 0) + count
    lines = [f"samples {samples}", "-- total (inclusive) --"]
    lines += [f"{100 * n / samples:5.1f}% {f}" for f, n in
              sorted(total.items(), key=lambda kv: -kv[1])[:60]]
    lines += ["-- self --"]
    lines += [f"{100 * n / samples:5.1f}% {f}" for f, n in
              sorted(self_time.items(), key=lambda kv: -kv[1])[:40]]
    Path(out).write_text("\n".join(lines) + "\n")


class RawPublisher:
    """Plain py-amqp on one confirm-mode channel: no Pantau logic."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(first_url(url))
        self.connection = amqp.Connection(
            host=f"{parts.hostname}:{parts.port or 5672}", userid=unquote(parts.username or ""),
            password=unquote(parts.password or ""),
            virtual_host=unquote(parts.path.lstrip("/")) or "/")
        self.connection.connect()
        self.channel = self.connection.channel()
        self.channel.confirm_select()
        self.outstanding = 0
        self.channel.events["basic_ack"].add(self._acked)

    def _acked(self, delivery_tag: int, multiple: bool) -> None:
        self.outstanding = 0 if multiple else self.outstanding - 1

    def publish(self, bodies: list[bytes], group: int) -> float:
        started = time.perf_counter()
        key = department_key("kota-bandung", "dpmptsp", "case.submitted")
        for start in range(0, len(bodies), group):
            for body in bodies[start:start + group]:
                self.outstanding += 1
                self.channel.basic_publish(amqp.Message(body, delivery_mode=2),
                                           exchange=ACCEPTED_EXCHANGE, routing_key=key,
                                           mandatory=True)
            while self.outstanding > 0:
                self.connection.drain_events(timeout=30)
        return time.perf_counter() - started

    def purge(self, queue: str) -> None:
        self.channel.queue_purge(queue)

    def close(self) -> None:
        self.connection.close()


def raw_baseline(url: str, bodies: list[bytes], group: int) -> dict[str, float]:
    raw = RawPublisher(url)
    try:
        each = raw.publish(bodies, 1)
        grouped = raw.publish(bodies, group)
    finally:
        raw.close()
    return {"confirm_each_per_second": round(len(bodies) / each, 1),
            "confirm_grouped_per_second": round(len(bodies) / grouped, 1)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="CI size (about 30 s)")
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite",
                        help="where the replay/idempotency memories live (postgresql: a fresh "
                             "schema in PANTAU_TEST_DATABASE_URL, dropped afterwards)")
    parser.add_argument("--profile", help="py-spy the server during the single phase → file")
    parser.add_argument("--floor", action="store_true",
                        help="also measure the framework's floor (bench.http_floor)")
    args = parser.parse_args()
    if args.quick:
        args.requests, args.batches = 1000, 4
    amqp_url = IntakeSettings().amqp_url
    singles = [signed(event(new_receipt(), 1), SINGLE) for _ in range(args.requests)]
    batches = []
    for _ in range(args.batches):
        receipt = new_receipt()
        batches.append(signed([event(receipt, n) for n in range(1, args.batch + 1)], BATCH))
    raw = raw_baseline(amqp_url, [body for body, _ in singles], args.concurrency)
    with tempfile.TemporaryDirectory() as state, database(args.database) as database_url, \
            intake_server(Path(state), database_url) as (port, server):
        singles_raw = [request_bytes(port, body, headers) for body, headers in singles]
        batches_raw = [request_bytes(port, body, headers) for body, headers in batches]
        asyncio.run(drive(port, singles_raw[:50], args.concurrency))  # warm up: connections, caches
        cpu_before, client_before = cpu_seconds(server.pid), time.process_time()
        with profiling(server.pid, args.profile):
            single_elapsed, latencies = asyncio.run(drive(port, singles_raw[50:],
                                                            args.concurrency))
        single_cpu = cpu_seconds(server.pid) - cpu_before
        client_cpu = time.process_time() - client_before
        batch_elapsed, _ = asyncio.run(drive(port, batches_raw, BATCH_IN_FLIGHT))
    framework = floor(singles, args.concurrency) if args.floor else None
    purger = RawPublisher(amqp_url)
    purger.purge("tracking.accepted")
    purger.close()
    timed = len(singles) - 50
    single_rate = round(timed / single_elapsed, 1)
    print(json.dumps({
        "benchmark": "intake_http",
        "database": args.database,
        "concurrency": args.concurrency,
        "single_requests": timed,
        "single_requests_per_second": single_rate,
        "single_latency_ms": {"p50": percentile(latencies, 0.5),
                              "p99": percentile(latencies, 0.99),
                              "max": percentile(latencies, 1.0)},
        "server_cpu_ms_per_single_request": round(1000 * single_cpu / (len(singles) - 50), 3),
        "client_cpu_ms_per_single_request": round(1000 * client_cpu / (len(singles) - 50), 3),
        "batch_events": args.batches * args.batch,
        "batch_events_per_second": round(args.batches * args.batch / batch_elapsed, 1),
        "raw": raw,
        "ratio_single_vs_raw_grouped": round(single_rate / raw["confirm_grouped_per_second"], 3),
        **({"framework_floor": framework} if framework else {}),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }, indent=2))


if __name__ == "__main__":
    main()
