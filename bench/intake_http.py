"""Intake HTTP acceptance throughput against the real broker (in-process app, real confirms).

    eval "$(bash infra/stack.sh env)" && .venv/bin/python -m bench.intake_http [--events 300]

Prints one JSON object: single-event requests/s and latency percentiles, batch events/s.
Events are accepted for real (they reach pantau.accepted → tracking.accepted) under receipts
starting with ``BDG-PBG-BENCH-`` (a prefix Kota Bandung DPMPTSP owns).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from pantau_contracts.signing import sign
from pantau_intake.adapters.dev_credentials import dev_department
from pantau_intake.credentials.cli import main as credentials_main
from pantau_intake.http.app import create_app
from pantau_intake.settings import IntakeSettings


def event(receipt: str, seq: int) -> dict[str, Any]:
    data: dict[str, Any] = {"receipt_number": receipt}
    kind = "case.submitted" if seq == 1 else "case.stage_started"
    data.update({"service_code": "pbg"} if seq == 1 else {"stage": "verifikasi-berkas"})
    return {"specversion": "1.0", "id": str(uuid.uuid4()), "source": "/kota-bandung/dpmptsp",
            "type": kind, "time": datetime.now(UTC).isoformat(), "sequence": seq, "data": data}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=300)
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()
    creds = dev_department("kota-bandung/dpmptsp")
    with tempfile.TemporaryDirectory() as state:
        settings = IntakeSettings(state_dir=Path(state), intake_rate_per_second=0)
        with contextlib.redirect_stdout(sys.stderr):  # keep stdout pure JSON
            credentials_main(["bootstrap-dev"], settings=settings)
        with TestClient(create_app(settings)) as client:
            latencies = []
            started = time.perf_counter()
            for _ in range(args.events):
                receipt = f"BDG-PBG-BENCH-{uuid.uuid4().hex[:10].upper()}"
                body = json.dumps(event(receipt, 1)).encode()
                headers = {**sign(creds.secret, body, key_id=creds.key_id),
                           "Content-Type": "application/cloudevents+json"}
                t0 = time.perf_counter()
                response = client.post("/v1/events", content=body, headers=headers)
                latencies.append(time.perf_counter() - t0)
                assert response.status_code == 202, response.text
            single_elapsed = time.perf_counter() - started
            receipt = f"BDG-PBG-BENCH-{uuid.uuid4().hex[:10].upper()}"
            batch = [event(receipt, n) for n in range(1, args.batch + 1)]
            body = json.dumps(batch).encode()
            headers = {**sign(creds.secret, body, key_id=creds.key_id),
                       "Content-Type": "application/cloudevents-batch+json"}
            t0 = time.perf_counter()
            response = client.post("/v1/events", content=body, headers=headers)
            batch_elapsed = time.perf_counter() - t0
            assert response.status_code == 202, response.text
    latencies.sort()
    print(json.dumps({
        "benchmark": "intake_http",
        "single_events": args.events,
        "single_requests_per_second": round(args.events / single_elapsed, 1),
        "single_latency_ms": {
            "p50": round(statistics.median(latencies) * 1000, 2),
            "p95": round(latencies[int(len(latencies) * 0.95) - 1] * 1000, 2),
            "max": round(latencies[-1] * 1000, 2)},
        "batch_events": args.batch,
        "batch_events_per_second": round(args.batch / batch_elapsed, 1),
    }, indent=2))


if __name__ == "__main__":
    main()
