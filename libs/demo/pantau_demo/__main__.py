"""Load the demo data into a running Pantau through the real intake HTTP API.

    python -m pantau_demo load [--cases 300] [--jurisdiction kota-bandung]

Idempotent: event ids and contents are deterministic (anchored to the first load's time), so a
second load is absorbed by intake/tracking deduplication. Waits until the portal shows every demo
case, then prints a few receipt numbers to try.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from pantau_contracts.catalogue import load_catalogue
from pantau_demo.scenarios import DemoEvent, build
from pantau_intake.client.http_sender import HttpSender
from pantau_intake.credentials.dev import dev_department


def send(events: list[DemoEvent], intake_url: str, batch: int = 100) -> int:
    by_source: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for event in events:
        by_source[event.source].append(event.body)  # keeps time order within a department
    sent = 0
    for source, bodies in by_source.items():
        department = source.strip("/")
        creds = dev_department(department)
        sender = HttpSender(intake_url, creds.key_id, creds.secret, timeout=30.0)
        try:
            for start in range(0, len(bodies), batch):
                sender.send_batch(bodies[start:start + batch])
                sent += len(bodies[start:start + batch])
                sys.stdout.write(f"\r  sent {sent}/{len(events)} events")
                sys.stdout.flush()
        finally:
            sender.close()
    sys.stdout.write("\n")
    return sent


def wait_visible(portal_url: str, jurisdiction: str, cases: int, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    total = 0
    while time.monotonic() < deadline:
        try:
            response = httpx.get(f"{portal_url}/api/v1/cases",
                                 params={"jurisdiction": jurisdiction, "size": 1}, timeout=5.0)
            total = int(response.json().get("total", 0)) if response.status_code == 200 else 0
        except (httpx.HTTPError, ValueError):
            total = 0
        if total >= cases:
            return total
        time.sleep(0.5)
    return total


def anchor() -> datetime:
    """The demo's "now", fixed at the first load (in the state folder), so a later load sends
    byte-identical events — absorbed by deduplication — instead of conflicting ones."""
    state = Path(os.environ.get("PANTAU_STATE_DIR", ".state"))
    path = state / "demo-anchor.txt"
    if path.exists():
        return datetime.fromisoformat(path.read_text().strip())
    state.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC).replace(microsecond=0)
    path.write_text(now.isoformat())
    return now


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["load"])
    parser.add_argument("--cases", type=int, default=300)
    parser.add_argument("--jurisdiction", default="kota-bandung")
    parser.add_argument("--intake-url", default=os.environ.get(
        "PANTAU_INTAKE_URL", f"http://127.0.0.1:{os.environ.get('PANTAU_INTAKE_PORT', '8001')}"))
    parser.add_argument("--portal-url", default=os.environ.get(
        "PANTAU_PORTAL_URL", f"http://127.0.0.1:{os.environ.get('PANTAU_PORTAL_PORT', '8000')}"))
    parser.add_argument("--timeout", type=float, default=180.0)
    args = parser.parse_args(argv)

    events = build(load_catalogue(), args.jurisdiction, args.cases, now=anchor())
    receipts = sorted({e.body["subject"] for e in events})
    print(f"Demo data: {len(receipts)} cases, {len(events)} events for {args.jurisdiction}")
    send(events, args.intake_url)
    total = wait_visible(args.portal_url, args.jurisdiction, len(receipts), args.timeout)
    if total < len(receipts):
        print(f"Only {total} of {len(receipts)} demo cases are visible so far; they may still be "
              "on their way (see .state/logs/).", file=sys.stderr)
        return 1
    print(f"All {len(receipts)} demo cases are searchable. Try: " + ", ".join(receipts[:3]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
