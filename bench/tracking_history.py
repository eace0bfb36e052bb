"""Does tracking's cost grow with history? Apply throughput on an empty PostgreSQL database and on
one holding many stored cases, measured in the same run. Prints JSON.

    eval "$(bash infra/stack.sh env)"
    .venv/bin/python -m bench.tracking_history --quick   # 20,000 stored cases (make bench)
    .venv/bin/python -m bench.tracking_history           # 100,000 stored cases
    .venv/bin/python -m bench.tracking_history --full    # 1,000,000 stored cases

Two throw-away schemas of ``$PANTAU_TEST_DATABASE_URL`` (or ``--database-url``): *empty* (just
migrated) and *history* (seeded by ``bench.seed_cases``: the rows tracking writes, its
transparency log complete). Rounds alternate empty, history, empty, history … so both see the
same machine: each round starts its own ``python -m pantau_tracking`` on that schema (as
``bench.tracking_throughput`` does: the same path — AMQP in, batched apply, outbox relay out —
but on a private work queue, like the integration tests, fed directly),
publishes ``--events`` events of fresh cases (4 per case, interleaved) and times until every
resulting ``case.updated`` is seen. A warm-up event per round is not timed. Reports the median
events/s per schema and ``ratio = history / empty`` (goal: ≥ 0.8). ``--keep`` leaves the
schemas in place (for ``EXPLAIN ANALYZE``); otherwise both are dropped.
``PANTAU_BENCH_PROFILE=<dir>`` runs each tracking process under cProfile into that folder.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from bench.seed_cases import create_schema, drop_schema, schema_url, seed
from bench.tracking_throughput import STEPS, Observer, events_for
from pantau_platform.amqp import Outgoing
from pantau_platform.settings import PantauSettings
from pantau_platform.topology import apply
from pantau_tracking.adapters.relay import relay_publisher
from tests.conftest import work_queues

REPO = Path(__file__).resolve().parents[1]
GOAL_RATIO = 0.8


def round_trip(settings: PantauSettings, database_url: str, events: int, label: str,
               timeout: float) -> dict[str, float | int | bool]:
    """One round: a fresh tracking process on ``database_url``, ``events`` events timed."""
    with work_queues(settings.amqp_url, "bench.history") as queues:
        return _round_trip(settings, database_url, events, label, timeout, queues.work)


def _round_trip(settings: PantauSettings, database_url: str, events: int, label: str,
                timeout: float, queue: str) -> dict[str, float | int | bool]:
    state = tempfile.mkdtemp(prefix="pantau-bench-")
    env = {**os.environ, "PANTAU_STATE_DIR": state, "PANTAU_LOG_LEVEL": "WARNING",
           "PANTAU_DATABASE_URL": database_url, "PANTAU_TRACKING_HEALTH_PORT": "0",
           "PANTAU_TRACKING_METRICS_PORT": "0", "PANTAU_TRACKING_QUEUE": queue}
    profile = os.environ.get("PANTAU_BENCH_PROFILE")
    command = [sys.executable,
               *(["-m", "cProfile", "-o", f"{profile}/{label}-{uuid.uuid4().hex[:4]}.prof"]
                 if profile else []), "-m", "pantau_tracking"]
    log_path = Path(state) / "tracking.log"
    with log_path.open("wb") as log_file:
        proc = subprocess.Popen(command, cwd=REPO, env=env, stdout=log_file,
                                stderr=subprocess.STDOUT)
    prefix = f"H{uuid.uuid4().hex[:6].upper()}"
    observer = Observer(settings.amqp_url, prefix)
    observer.start()
    publisher = relay_publisher(settings.amqp_url)
    try:
        publisher.publish_many(direct(events_for(f"{prefix}-WARM", datetime.now(UTC))[:1],
                                      queue))
        deadline = time.monotonic() + 120
        while not observer.seen and time.monotonic() < deadline:
            time.sleep(0.05)
        if not observer.seen:
            raise RuntimeError("tracking did not answer the warm-up event; see " + str(log_path))
        observer.seen.clear()
        cases = max(1, events // len(STEPS))
        t0 = datetime.now(UTC)
        per_case = [events_for(f"{prefix}-{i:06d}", t0) for i in range(cases)]
        messages = direct([per_case[c][s] for s in range(len(STEPS)) for c in range(cases)],
                          queue)
        start = time.monotonic()
        for i in range(0, len(messages), 500):
            publisher.publish_many(messages[i:i + 500])
        deadline = start + timeout
        while len(observer.seen) < len(messages) and time.monotonic() < deadline:
            time.sleep(0.02)
        complete = len(observer.seen) >= len(messages)
        done = observer.last_at if complete else time.monotonic()
        return {"events": len(messages), "complete": complete,
                "seconds": round(done - start, 3),
                "events_per_second": round(len(observer.seen) / max(done - start, 1e-9), 1)}
    finally:
        observer.stop = True
        publisher.close()
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def direct(messages: list[Outgoing], queue: str) -> list[Outgoing]:
    """Straight into ``queue`` (the default exchange): each round's tracking consumes a private
    work queue, so leftovers in the shared ``tracking.accepted`` cannot slow a round down."""
    return [dataclasses.replace(m, exchange="", routing_key=queue) for m in messages]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true",
                      help="CI size: 20,000 stored cases, 4,000 events, 1 round each")
    size.add_argument("--full", action="store_true", help="1,000,000 stored cases")
    parser.add_argument("--cases", type=int, help="stored cases (overrides --quick/--full)")
    parser.add_argument("--events", type=int, help="events per round (default 8000)")
    parser.add_argument("--rounds", type=int, help="rounds per schema (default 2)")
    parser.add_argument("--database-url", default=os.environ.get("PANTAU_TEST_DATABASE_URL", ""))
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--keep", action="store_true", help="keep the two schemas")
    args = parser.parse_args()
    if not args.database_url.startswith("postgres"):
        raise SystemExit("needs PostgreSQL: --database-url or $PANTAU_TEST_DATABASE_URL")
    stored = args.cases or (1_000_000 if args.full else 20_000 if args.quick else 100_000)
    args.events = args.events or (4000 if args.quick else 8000)
    args.rounds = args.rounds or (1 if args.quick else 2)
    settings = PantauSettings()
    apply(settings)
    run = uuid.uuid4().hex[:6]
    schemas = {"empty": f"bench_hist_empty_{run}", "history": f"bench_hist_{run}"}
    try:
        create_schema(args.database_url, schemas["empty"]).dispose()
        engine = create_schema(args.database_url, schemas["history"])
        seeded = seed(engine, "SEED", stored)
        engine.dispose()
        rounds: dict[str, list[dict[str, float | int | bool]]] = {"empty": [], "history": []}
        for _ in range(args.rounds):
            for label, schema in schemas.items():
                rounds[label].append(round_trip(settings, schema_url(args.database_url, schema),
                                                args.events, label, args.timeout))
                sys.stderr.write(f"{label}: {rounds[label][-1]}\n")
        median = {label: statistics.median(float(r["events_per_second"]) for r in results)
                  for label, results in rounds.items()}
        ratio = median["history"] / median["empty"] if median["empty"] else 0.0
        complete = all(r["complete"] for results in rounds.values() for r in results)
        print(json.dumps({
            "benchmark": "tracking_history", "database": "postgresql",
            "stored_cases": stored, "seed": seeded, "events_per_round": args.events,
            "empty_events_per_second": median["empty"],
            "history_events_per_second": median["history"],
            "ratio": round(ratio, 3), "goal_ratio": GOAL_RATIO,
            "meets_goal": complete and ratio >= GOAL_RATIO, "complete": complete,
            "rounds": rounds, "load_average": os.getloadavg()}))
        return 0 if complete else 1
    finally:
        if not args.keep:
            for schema in schemas.values():
                drop_schema(args.database_url, schema)


if __name__ == "__main__":
    raise SystemExit(main())
