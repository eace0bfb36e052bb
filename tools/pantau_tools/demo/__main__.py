"""Load the demo data into a running Pantau.

    python -m pantau_tools.demo load               # the six demo jurisdictions (scenarios.PROFILES)
    python -m pantau_tools.demo load --jurisdiction kab-bandung [--cases 80]

The demo jurisdictions differ in size and performance so the comparison page (/perbandingan)
ranks something: Kota Bandung (300 cases), Kab. Bogor (200, slow, many overdue), Kota Depok
(100, reports late), Kab. Bandung (80), Kota Cimahi (60, fast) and Kab. Pangandaran (12: too
few to rank). All are loaded together — every history import, then every recent event, then one
wait — so the load takes about as long as the largest jurisdiction, not the sum. Measured on a
fresh system (the development machine): 22 s for the six (752 cases, ~2 600 events); the two
Bandungs alone took 9 s (380 cases).

Two paths, as in a real deployment that starts with a backlog:

* **History import (operator only).** Events whose claimed ``time`` is older than an hour are
  months of history: sent through intake now, every one of them would be stamped as received
  today and shown as reported late. They are imported the way an operator imports a department's
  history: validated against the contracts and the department's receipt prefixes, stamped with
  ``pantaureceived`` = the claimed time plus a simulated reporting delay (see
  ``pantau_tools.demo.scenarios``), and published straight to the ``pantau.accepted`` exchange
  (routing key ``{jurisdiction}.{department}.{type}``, structured CloudEvents JSON,
  ``message_id`` = event id — exactly what intake forwards) through the confirming publisher.
  Only the operator's broker account (``PANTAU_AMQP_URL``; department accounts may write only
  to ``pantau.ingress``) can publish there; this is the documented path for importing history,
  and the received times it sets are the operator's statement, not intake's.
* **Recent events** (claimed within the last hour) go through the real signed intake HTTP API with
  the dev credentials, which stamps its own received time.

Idempotent: event ids, contents and simulated delays are deterministic (seeded, anchored to the
first load's time in ``$PANTAU_STATE_DIR/demo-anchor.txt``), so a second load is absorbed by
intake's and tracking's deduplication. Waits until the portal shows every demo case, then prints
a few receipt numbers to try.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from pantau_client.http_sender import HttpSender, Refused
from pantau_contracts import validate_event
from pantau_contracts.catalogue import Catalogue, load_catalogue
from pantau_contracts.envelope import stamp_received
from pantau_intake.adapters.dev_credentials import dev_department
from pantau_intake.adapters.forwarder import outgoing_for
from pantau_platform.amqp import ConfirmingPublisher, Outgoing, PublishError
from pantau_platform.settings import PantauSettings
from pantau_tools.demo.scenarios import PROFILES, DemoEvent, build

DEFAULT_CASES = {code: profile.cases for code, profile in PROFILES.items()}


def history_message(event: DemoEvent, catalogue: Catalogue) -> Outgoing:
    """The ``pantau.accepted`` message intake would have forwarded, received at ``received``."""
    assert event.received is not None
    validated = validate_event(json.dumps(event.body, ensure_ascii=False).encode(), inbound=True)
    department = catalogue.department(validated.jurisdiction, validated.department)
    receipt = event.body["data"]["receipt_number"]
    if department is None or not department.owns_receipt(receipt):
        raise ValueError(f"{receipt} is not a receipt of {validated.source}")
    return outgoing_for(stamp_received(validated, event.received))


def import_history(events: Sequence[DemoEvent], catalogue: Catalogue, amqp_url: str,
                   batch: int = 200) -> int:
    """Publish history events to ``pantau.accepted`` in time order, every one confirmed."""
    messages = [history_message(e, catalogue) for e in events]
    publisher = ConfirmingPublisher(amqp_url, pool_size=1)
    try:
        for start in range(0, len(messages), batch):
            publisher.publish_many(messages[start:start + batch])
            sys.stdout.write(f"\r  imported {min(start + batch, len(messages))}/{len(messages)}"
                             " history events")
            sys.stdout.flush()
    finally:
        publisher.close()
    sys.stdout.write("\n")
    return len(messages)


def send(events: Sequence[DemoEvent], intake_url: str, batch: int = 100) -> int:
    """Send events through the signed intake HTTP API, per department, in time order."""
    by_source: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for event in events:
        by_source[event.source].append(event.body)
    sent = 0
    for source, bodies in by_source.items():
        creds = dev_department(source.strip("/"))
        sender = HttpSender(intake_url, creds.key_id, creds.secret, timeout=30.0)
        try:
            for start in range(0, len(bodies), batch):
                sent += _send_batch(sender, bodies[start:start + batch])
                sys.stdout.write(f"\r  sent {sent}/{len(events)} recent events through intake")
                sys.stdout.flush()
        finally:
            sender.close()
    sys.stdout.write("\n")
    return sent


def _send_batch(sender: HttpSender, bodies: list[dict[str, Any]]) -> int:
    """Send a batch; if intake answers 409 (an id it already holds with other content — loaded
    by an earlier version of this demo into the same state), send one by one and keep what is
    there: the demo never overwrites what a deployment already accepted."""
    try:
        sender.send_batch(bodies)
        return len(bodies)
    except Refused as exc:
        if exc.problem.get("status") != 409:
            raise
    accepted = 0
    for body in bodies:
        try:
            sender.send(body)
            accepted += 1
        except Refused as exc:
            if exc.problem.get("status") != 409:
                raise
            print(f"\n  {body['subject']} seq {body['sequence']}: already loaded with other "
                  "content by an earlier demo version; kept as it is", file=sys.stderr)
    return accepted


def visible(portal_url: str, jurisdiction: str) -> int:
    """How many cases of ``jurisdiction`` the portal shows (0 while it cannot answer)."""
    try:
        response = httpx.get(f"{portal_url}/api/v1/cases",
                             params={"jurisdiction": jurisdiction, "size": 1}, timeout=5.0)
        return int(response.json().get("total", 0)) if response.status_code == 200 else 0
    except (httpx.HTTPError, ValueError):
        return 0


def wait_visible(portal_url: str, wanted: dict[str, int], timeout: float) -> dict[str, int]:
    """Wait until the portal shows ``wanted[j]`` cases of every jurisdiction ``j``."""
    deadline = time.monotonic() + timeout
    seen = dict.fromkeys(wanted, 0)
    while time.monotonic() < deadline:
        seen = {j: seen[j] if seen[j] >= n else visible(portal_url, j) for j, n in wanted.items()}
        if all(seen[j] >= n for j, n in wanted.items()):
            break
        time.sleep(0.5)
    return seen


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


def load(catalogue: Catalogue, cases: dict[str, int | None], args: argparse.Namespace) -> bool:
    """Load every jurisdiction of ``cases`` (None: its profile's size), then wait for them."""
    now = anchor()
    events = {j: build(catalogue, j, n, now=now) for j, n in cases.items()}
    receipts = {j: sorted({e.body["subject"] for e in found}) for j, found in events.items()}
    for j, found in events.items():
        history = sum(1 for e in found if e.history)
        print(f"Demo data: {len(receipts[j])} cases, {len(found)} events for {j} "
              f"({history} history, {len(found) - history} recent)")
    everything = sorted((e for found in events.values() for e in found),
                        key=lambda e: e.body["time"])
    import_history([e for e in everything if e.history], catalogue, args.amqp_url)
    send([e for e in everything if not e.history], args.intake_url)
    seen = wait_visible(args.portal_url, {j: len(r) for j, r in receipts.items()}, args.timeout)
    ok = True
    for j, numbers in receipts.items():
        if seen[j] < len(numbers):
            print(f"Only {seen[j]} of {len(numbers)} {j} demo cases are visible so far; they may "
                  "still be on their way (see .state/logs/).", file=sys.stderr)
            ok = False
        else:
            print(f"All {len(numbers)} {j} demo cases are searchable. Try: "
                  + ", ".join(numbers[:3]))
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["load"])
    parser.add_argument("--jurisdiction", action="append",
                        help="repeatable; default: " + ", ".join(DEFAULT_CASES))
    parser.add_argument("--cases", type=int, help="cases per jurisdiction (default: "
                        + ", ".join(f"{j} {n}" for j, n in DEFAULT_CASES.items()) + ")")
    parser.add_argument("--intake-url", default=os.environ.get(
        "PANTAU_INTAKE_URL", f"http://127.0.0.1:{os.environ.get('PANTAU_INTAKE_PORT', '8001')}"))
    parser.add_argument("--portal-url", default=os.environ.get(
        "PANTAU_PORTAL_URL", f"http://127.0.0.1:{os.environ.get('PANTAU_PORTAL_PORT', '8000')}"))
    parser.add_argument("--amqp-url", default=PantauSettings().amqp_url,
                        help="the operator's broker URL (PANTAU_AMQP_URL) for the history import")
    parser.add_argument("--timeout", type=float, default=180.0)
    args = parser.parse_args(argv)

    catalogue = load_catalogue()
    jurisdictions = args.jurisdiction or list(DEFAULT_CASES)
    unknown = [j for j in jurisdictions if catalogue.jurisdiction(j) is None]
    if unknown:
        parser.error(f"unknown jurisdiction {', '.join(unknown)}")
    try:
        ok = load(catalogue, {j: args.cases for j in jurisdictions}, args)
    except PublishError as exc:
        print(f"The history import failed: {exc}", file=sys.stderr)
        return 1
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
