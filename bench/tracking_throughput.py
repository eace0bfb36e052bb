"""Tracking throughput, end to end: publish N department events to ``pantau.accepted`` and time
until every resulting ``case.updated`` is observed on ``pantau.cases``. Prints JSON.

    eval "$(bash infra/stack.sh env)"
    .venv/bin/python -m bench.tracking_throughput [--events 8000] [--database-url URL]

Starts its own ``python -m pantau_tracking`` (SQLite in a temporary state folder unless
``--database-url`` is given; the PostgreSQL URL of ``infra/stack.sh env`` works) and stops it at
the end. Each case gets 4 events (submitted, 2 stages, completed) with sequence numbers. Events
are published with confirms in bulk (500 per confirm wait) so the publisher is not the limit.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from kombu import Connection, Exchange, Queue

from pantau_contracts.envelope import event_to_json, make_event
from pantau_contracts.routing import ACCEPTED_EXCHANGE, CASES_EXCHANGE
from pantau_platform.amqp import Outgoing
from pantau_platform.settings import PantauSettings
from pantau_platform.topology import apply
from pantau_tracking.adapters.relay import relay_publisher

REPO = Path(__file__).resolve().parents[1]
TARGET = 500.0  # events/s: the naive one-message-per-transaction design
STEPS = [("case.submitted", {"service_code": "pbg"}),
         ("case.stage_started", {"stage": "verifikasi-berkas"}),
         ("case.stage_started", {"stage": "konsultasi-teknis"}),
         ("case.completed", {})]


def events_for(receipt: str, t0: datetime) -> list[Outgoing]:
    out = []
    for seq, (event_type, data) in enumerate(STEPS, start=1):
        event = make_event(type=event_type, source="/kota-bandung/dpmptsp",
                           data={"receipt_number": receipt, **data}, subject=receipt,
                           sequence=seq, time=t0 + timedelta(minutes=seq))
        out.append(Outgoing(exchange=ACCEPTED_EXCHANGE,
                            routing_key=f"kota-bandung.dpmptsp.{event_type}",
                            body=event_to_json(event)))
    return out


class Observer(threading.Thread):
    """Counts case.updated messages for our receipts on an exclusive queue."""

    def __init__(self, url: str, prefix: str) -> None:
        super().__init__(daemon=True)
        self.connection = Connection(url)
        self.channel = self.connection.channel()
        self.queue = Queue(f"bench-tracking-{uuid.uuid4().hex[:8]}", exclusive=True,
                           auto_delete=True, channel=self.channel)
        self.queue.declare()
        self.queue.bind_to(Exchange(CASES_EXCHANGE, passive=True),
                           routing_key="case.updated.kota-bandung")
        self.prefix = prefix
        self.seen: set[str] = set()
        self.last_at = 0.0
        self.stop = False

    def run(self) -> None:
        def on_message(message: object) -> None:
            body = json.loads(message.body)  # type: ignore[attr-defined]
            if str(body.get("subject", "")).startswith(self.prefix):
                self.seen.add(body["id"])
                self.last_at = time.monotonic()
            message.ack()  # type: ignore[attr-defined]

        with self.channel.Consumer([self.queue], on_message=on_message):
            while not self.stop:
                try:
                    self.connection.drain_events(timeout=0.5)
                except TimeoutError:
                    pass


def bench_database(url: str) -> tuple[str, Callable[[], None]]:
    """SQLite in the temp state folder (empty URL), or a throw-away schema in PostgreSQL."""
    if not url.startswith("postgres"):
        return url, lambda: None
    import sqlalchemy as sa

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg2://", 1))
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))

    def drop() -> None:
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()

    return url + ("&" if "?" in url else "?") + f"options=-csearch_path%3D{schema}", drop


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=8000)
    parser.add_argument("--database-url", default="",
                        help="PostgreSQL URL (a temporary schema is used); default SQLite")
    parser.add_argument("--timeout", type=float, default=300)
    args = parser.parse_args()
    settings = PantauSettings()
    apply(settings)
    cases = max(1, args.events // len(STEPS))
    prefix = f"BENCH-{uuid.uuid4().hex[:6].upper()}"
    state = tempfile.mkdtemp(prefix="pantau-bench-")
    database_url, drop_schema = bench_database(args.database_url)
    env = {**os.environ, "PANTAU_STATE_DIR": state, "PANTAU_LOG_LEVEL": "WARNING",
           "PANTAU_DATABASE_URL": database_url}
    log_path = Path(state) / "tracking.log"
    with log_path.open("wb") as log_file:
        profile = os.environ.get("PANTAU_BENCH_PROFILE")  # a path: cProfile the service
        command = [sys.executable, *(["-m", "cProfile", "-o", profile] if profile else []),
                   "-m", "pantau_tracking"]
        proc = subprocess.Popen(command, cwd=REPO, env=env,
                                stdout=log_file, stderr=subprocess.STDOUT)
    observer = Observer(settings.amqp_url, prefix)
    observer.start()
    publisher = relay_publisher(settings.amqp_url)
    try:
        # Warm-up: one case through, so start-up and migrations are not timed.
        publisher.publish_many(events_for(f"{prefix}-WARM", datetime.now(UTC))[:1])
        deadline = time.monotonic() + 60
        while not observer.seen and time.monotonic() < deadline:
            time.sleep(0.05)
        if not observer.seen:
            raise RuntimeError("tracking did not answer the warm-up event; see " + str(log_path))
        observer.seen.clear()
        # All events of case i, interleaved across cases as departments would send them.
        t0 = datetime.now(UTC)
        per_case = [events_for(f"{prefix}-{i:06d}", t0) for i in range(cases)]
        messages = [per_case[c][s] for s in range(len(STEPS)) for c in range(cases)]
        expected = len(messages)
        start = time.monotonic()
        for i in range(0, len(messages), 500):
            publisher.publish_many(messages[i:i + 500])
        published = time.monotonic()
        deadline = start + args.timeout
        while len(observer.seen) < expected and time.monotonic() < deadline:
            time.sleep(0.02)
        done = observer.last_at if len(observer.seen) >= expected else time.monotonic()
        result = {
            "benchmark": "tracking_throughput",
            "database": (args.database_url.split(":", 1)[0] if args.database_url else "sqlite"),
            "events": expected, "cases": cases,
            "observed_case_updated": len(observer.seen),
            "complete": len(observer.seen) >= expected,
            "publish_seconds": round(published - start, 3),
            "publish_events_per_second": round(expected / max(published - start, 1e-9), 1),
            "end_to_end_seconds": round(done - start, 3),
            "events_per_second": round(len(observer.seen) / max(done - start, 1e-9), 1),
            "batch_size": int(os.environ.get("PANTAU_TRACKING_BATCH_SIZE", 500)),
            "batch_wait_ms": int(os.environ.get("PANTAU_TRACKING_BATCH_WAIT_MS", 50)),
        }
        result["target_events_per_second"] = TARGET
        result["meets_target"] = bool(result["complete"]) and \
            float(result["events_per_second"]) > TARGET  # type: ignore[arg-type]
        print(json.dumps(result))  # one line: bench.run reads the last JSON line
        return 0 if result["complete"] else 1
    finally:
        observer.stop = True
        publisher.close()
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        drop_schema()


if __name__ == "__main__":
    raise SystemExit(main())
