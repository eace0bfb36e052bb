"""Backfill throughput: ``pantau-client backfill`` over HTTP batches into a real intake process.

    eval "$(bash infra/stack.sh env)" && .venv/bin/python -m bench.backfill [--quick | --full]
        [--events N] [--lanes 4] [--batch-size 500]

Starts ``python -m pantau_intake.http`` (uvicorn, one process, real broker confirms, SQLite
state in a temporary folder) with Kota Bandung DPMPTSP's rate raised for the backfill
(``credentials rate set … --rate 5000 --burst 10000``; the process capacity stays at its default,
PANTAU_INTAKE_RATE_CAPACITY_PER_SECOND), writes a JSON Lines history (cases × 4 steps, receipts
``BDG-PBG-BENCH-…``), and runs the real CLI in a subprocess twice: as it is by default (intake
checks the contract; the client only JSON) and with ``--local-check`` (the client validates each
event too, as AMQP always does). The baseline, in the same run: the same batches POSTed straight
from memory by ``lanes`` threads (no file, no checkpoint, no per-case lanes) — intake's own
ceiling; ``ratio = backfill / baseline`` is what the CLI keeps of it. Sizes: ``--quick``
20,000 events (CI, < 2 min), default 100,000, ``--full`` 1,000,000 (the issue's goal: ≥ 2,000
events/s). Prints one JSON object: events/s per run (wall time of the CLI, file reading and
checkpointing included), the 429s it waited for, and the load average.

The events reach ``pantau.accepted`` → ``tracking.accepted`` of the vhost in PANTAU_AMQP_URL
(``bench.run`` uses ``pantau_test``); nothing consumes them here.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from pantau_intake.credentials.cli import main as credentials_main
from pantau_intake.settings import IntakeSettings

REPO = Path(__file__).resolve().parent.parent
STEPS = (("case.submitted", {"service_code": "pbg"}),
         ("case.stage_started", {"stage": "verifikasi-berkas"}),
         ("case.stage_started", {"stage": "pemeriksaan-teknis"}),
         ("case.completed", {}))


def write_history(path: Path, events: int) -> None:
    """``events`` / 4 cases × 4 steps, each step across all cases in turn (a real export)."""
    cases = max(1, events // len(STEPS))
    start = datetime(2025, 1, 6, 2, 0, tzinfo=UTC)
    tag = uuid.uuid4().hex[:6].upper()
    with path.open("w") as handle:
        for step, (kind, data) in enumerate(STEPS, start=1):
            moment = (start + timedelta(days=step)).isoformat()
            for case in range(cases):
                handle.write(json.dumps({
                    "specversion": "1.0", "id": str(uuid.uuid4()),
                    "source": "/kota-bandung/dpmptsp", "type": kind, "time": moment,
                    "sequence": step,
                    "data": {"receipt_number": f"BDG-PBG-BENCH-{tag}{case:08d}", **data}}) + "\n")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_intake(state: Path, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    settings = IntakeSettings(state_dir=state)
    with contextlib.redirect_stdout(sys.stderr):  # keep stdout pure JSON
        credentials_main(["bootstrap-dev"], settings=settings)
        credentials_main(["rate", "set", "kota-bandung/dpmptsp", "--rate", "5000", "--burst",
                          "10000", "--until", "+2h"], settings=settings)
    port = free_port()
    env = {**os.environ, "PANTAU_STATE_DIR": str(state), "PANTAU_INTAKE_PORT": str(port),
           "PANTAU_INTAKE_METRICS_PORT": "0", "PANTAU_LOG_LEVEL": "WARNING"}
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "pantau_intake.http"], cwd=REPO,
                                   env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url + "/readyz", timeout=1).status_code == 200:
                return process, url
        if process.poll() is not None:
            break
        time.sleep(0.2)  # a benchmark's start-up poll, not a test
    process.kill()
    raise SystemExit(f"intake did not start: {log.read_text()[-2000:]}")


def backfill(url: str, path: Path, lanes: int, batch: int, *extra: str) -> dict[str, Any]:
    for leftover in (Path(f"{path}.checkpoint"), Path(f"{path}.refused")):
        leftover.unlink(missing_ok=True)
    command = [sys.executable, "-m", "pantau_client", "--dev", "--via", "http", "--http-url",
               url, "--department", "kota-bandung/dpmptsp", "--quiet", "backfill", str(path),
               "--lanes", str(lanes), "--batch-size", str(batch), *extra]
    cpu_before = _children_cpu()
    started = time.perf_counter()
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    client_cpu = _children_cpu() - cpu_before
    if done.returncode != 0:
        raise SystemExit(f"backfill failed: {done.stdout}\n{done.stderr[-2000:]}")
    accepted = int(re.search(r"(\d+) accepted", done.stdout).group(1))  # type: ignore[union-attr]
    throttled = int(re.search(r"(\d+) answer", done.stdout).group(1))  # type: ignore[union-attr]
    return {"events": accepted, "seconds": round(elapsed, 2),
            "events_per_second": round(accepted / elapsed, 1), "throttled_429": throttled,
            "client_cpu_us_per_event": round(client_cpu / max(accepted, 1) * 1e6, 1)}


def _children_cpu() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def direct(url: str, path: Path, lanes: int, batch: int) -> dict[str, Any]:
    """The baseline: the file's batches POSTed by ``lanes`` threads, nothing else."""
    from concurrent.futures import ThreadPoolExecutor

    from pantau_client.http_sender import HttpSender
    from pantau_intake.adapters.dev_credentials import dev_department

    creds = dev_department("kota-bandung/dpmptsp")
    lines = path.read_bytes().splitlines()
    bodies = [b"[" + b",".join(lines[i:i + batch]) + b"]" for i in range(0, len(lines), batch)]
    senders = [HttpSender(url, creds.key_id, creds.secret) for _ in range(lanes)]

    def post(index: int) -> None:
        sender = senders[index % lanes]
        for body in bodies[index::lanes]:
            while (status := sender.post_once(body).status_code) != 202:
                if status not in (429, 503):
                    raise SystemExit(f"baseline refused: {status}")
                time.sleep(1)

    started = time.perf_counter()
    with ThreadPoolExecutor(lanes) as pool:
        list(pool.map(post, range(lanes)))
    elapsed = time.perf_counter() - started
    for sender in senders:
        sender.close()
    return {"events": len(lines), "seconds": round(elapsed, 2),
            "events_per_second": round(len(lines) / elapsed, 1)}


def main() -> None:
    parser = argparse.ArgumentParser()
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="20,000 events (CI)")
    size.add_argument("--full", action="store_true", help="1,000,000 events (the goal)")
    parser.add_argument("--events", type=int)
    parser.add_argument("--lanes", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=500)
    args = parser.parse_args()
    events = args.events or (20_000 if args.quick else 1_000_000 if args.full else 100_000)
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        path = work / "history.jsonl"
        write_history(path, events)
        file_bytes = path.stat().st_size
        intake, url = start_intake(work / "state", work / "intake.log")
        try:
            baseline = direct(url, path, args.lanes, args.batch_size)
            write_history(path, events)  # new ids: intake would answer repeats from memory
            default = backfill(url, path, args.lanes, args.batch_size)
            write_history(path, events)  # new ids: intake would answer repeats from memory
            checked = backfill(url, path, args.lanes, args.batch_size, "--local-check")
        finally:
            intake.terminate()
            intake.wait(timeout=30)
    print(json.dumps({
        "benchmark": "backfill",
        "transport": "http batches",
        "events": events, "lanes": args.lanes, "batch_size": args.batch_size,
        "file_bytes": file_bytes,
        "baseline_direct_batches": baseline,
        "default": default,
        "with_local_check": checked,
        "ratio": round(default["events_per_second"] / baseline["events_per_second"], 2),
        "ratio_with_local_check": round(
            checked["events_per_second"] / baseline["events_per_second"], 2),
        "goal_events_per_second": 2000,
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "cpus": os.cpu_count(),
    }, indent=2))


if __name__ == "__main__":
    main()
