"""A full rebuild of the public indices from tracking, timed on a large store. Prints JSON.

    eval "$(bash infra/stack.sh env)"
    .venv/bin/python -m bench.rebuild_index --quick          # 10,000 stored cases (make bench)
    .venv/bin/python -m bench.rebuild_index                  # 50,000 stored cases
    .venv/bin/python -m bench.rebuild_index --full           # 1,000,000 stored cases
        [--source rpc|database] [--backlog 8000] [--page-size N] [--bulk-size N]
        [--concurrency N] [--keep]

Seeds a throw-away schema of ``$PANTAU_TEST_DATABASE_URL`` with ``bench.seed_cases`` (the rows
tracking writes), starts ``python -m pantau_tracking`` on it, bootstraps throw-away aliases
(``pbench-<id>-cases`` / ``-changes``; the dev aliases are untouched) and runs the real command,
``python -m pantau_tools.rebuild`` (``--source``: tracking's RPC, or a read-only snapshot of its
database). With ``--backlog N`` (default 8,000 = 2,000 cases × 4 events), N events are published
into tracking's work queue (a private one, as in the integration tests) just before the rebuild
starts, so tracking applies a backlog while it serves the rebuild — the condition of issue 13
(32 cases/s). Reports cases/s of the whole
command (start to swapped aliases) and whether tracking drained the backlog meanwhile.
``PANTAU_BENCH_PROFILE=<file>`` runs the rebuild command under cProfile. Drops the schema and
the bench indices at the end unless ``--keep``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

from bench.seed_cases import create_schema, drop_schema, schema_url, seed
from bench.tracking_history import direct
from bench.tracking_throughput import STEPS, Observer, events_for
from pantau_platform.settings import PantauSettings
from pantau_platform.topology import apply
from pantau_publishing.adapters.search.bootstrap import bootstrap, drop
from pantau_publishing.adapters.search.client import Aliases, make_client
from pantau_publishing.settings import PublishingSettings
from pantau_tracking.adapters.relay import relay_publisher
from tests.conftest import work_queues

REPO = Path(__file__).resolve().parents[1]
GOAL = 3000.0  # cases/s


def start_tracking(database_url: str, state: str, queue: str
                   ) -> tuple[subprocess.Popen[bytes], Path]:
    env = {**os.environ, "PANTAU_STATE_DIR": state, "PANTAU_LOG_LEVEL": "WARNING",
           "PANTAU_DATABASE_URL": database_url, "PANTAU_TRACKING_HEALTH_PORT": "0",
           "PANTAU_TRACKING_METRICS_PORT": "0", "PANTAU_TRACKING_QUEUE": queue}
    log_path = Path(state) / "tracking.log"
    with log_path.open("wb") as log_file:
        proc = subprocess.Popen([sys.executable, "-m", "pantau_tracking"], cwd=REPO, env=env,
                                stdout=log_file, stderr=subprocess.STDOUT)
    return proc, log_path


def main() -> int:
    with ExitStack() as stack:
        return run(stack)


def run(stack: ExitStack) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="CI size: 10,000 stored cases")
    size.add_argument("--full", action="store_true", help="1,000,000 stored cases")
    parser.add_argument("--cases", type=int, help="stored cases (overrides --quick/--full)")
    parser.add_argument("--source", choices=("rpc", "database"), default="database")
    parser.add_argument("--backlog", type=int, default=8000,
                        help="events published just before the rebuild (0: tracking idle)")
    parser.add_argument("--page-size", type=int, default=0, help="0: the command's default")
    parser.add_argument("--bulk-size", type=int, default=0, help="0: the command's default")
    parser.add_argument("--concurrency", type=int, default=0, help="0: the command's default")
    parser.add_argument("--database-url", default=os.environ.get("PANTAU_TEST_DATABASE_URL", ""))
    parser.add_argument("--keep", action="store_true", help="keep the schema and indices")
    args = parser.parse_args()
    if not args.database_url.startswith("postgres"):
        raise SystemExit("needs PostgreSQL: --database-url or $PANTAU_TEST_DATABASE_URL")
    stored = args.cases or (1_000_000 if args.full else 10_000 if args.quick else 50_000)
    settings = PantauSettings()
    apply(settings)
    run = uuid.uuid4().hex[:6]
    schema = f"bench_rebuild_{run}"
    aliases = Aliases(f"pbench-{run}-cases", f"pbench-{run}-changes")
    es = make_client(PublishingSettings().elasticsearch_url, timeout=60)
    state = tempfile.mkdtemp(prefix="pantau-bench-")
    database_url = schema_url(args.database_url, schema)
    proc = None
    queues = stack.enter_context(work_queues(settings.amqp_url, "bench.rebuild"))
    try:
        engine = create_schema(args.database_url, schema)
        seeded = seed(engine, "SEED", stored)
        engine.dispose()
        bootstrap(es, aliases)
        proc, log_path = start_tracking(database_url, state, queues.work)
        prefix = f"R{run.upper()}"
        observer = Observer(settings.amqp_url, prefix)
        observer.start()
        publisher = relay_publisher(settings.amqp_url)
        publisher.publish_many(direct(events_for(f"{prefix}-WARM", datetime.now(UTC))[:1],
                                      queues.work))
        deadline = time.monotonic() + 120
        while not observer.seen and time.monotonic() < deadline:
            time.sleep(0.05)
        if not observer.seen:
            raise RuntimeError("tracking did not start; see " + str(log_path))
        observer.seen.clear()
        cases = args.backlog // len(STEPS)
        per_case = [events_for(f"{prefix}-{i:06d}", datetime.now(UTC)) for i in range(cases)]
        backlog = direct([per_case[c][s] for s in range(len(STEPS)) for c in range(cases)],
                         queues.work)
        for i in range(0, len(backlog), 500):
            publisher.publish_many(backlog[i:i + 500])
        publisher.close()
        env = {**os.environ, "PANTAU_INDEX_ALIAS": aliases.cases,
               "PANTAU_CHANGES_ALIAS": aliases.changes, "PANTAU_LOG_LEVEL": "WARNING",
               "PANTAU_TRACKING_DATABASE_URL": database_url}
        profile = os.environ.get("PANTAU_BENCH_PROFILE")
        command = [sys.executable, *(["-m", "cProfile", "-o", profile] if profile else []),
                   "-m", "pantau_tools.rebuild", "--source", args.source,
                   *(["--page-size", str(args.page_size)] if args.page_size else []),
                   *(["--bulk-size", str(args.bulk_size)] if args.bulk_size else []),
                   *(["--concurrency", str(args.concurrency)] if args.concurrency else [])]
        started = time.monotonic()
        result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True,
                                check=False)
        seconds = time.monotonic() - started
        backlog_done = len(observer.seen)
        observer.stop = True
        found = re.search(r"^(\d+) records", result.stdout, re.MULTILINE)
        records = int(found.group(1)) if found else 0
        rate = round(records / seconds, 1)
        print(json.dumps({
            "benchmark": "rebuild_index", "source": args.source, "stored_cases": stored,
            "seed": seeded, "backlog_events": len(backlog),
            "backlog_applied_during_rebuild": backlog_done, "records": records,
            "seconds": round(seconds, 2), "cases_per_second": rate, "goal_cases_per_second": GOAL,
            "meets_goal": result.returncode == 0 and rate >= GOAL,
            "returncode": result.returncode, "summary": result.stdout.strip().splitlines(),
            "stderr_tail": result.stderr[-600:] if result.returncode else "",
            "load_average": os.getloadavg()}))
        return result.returncode
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        if not args.keep:
            drop(es, aliases)
            es.indices.delete(index=f"{aliases.cases}-*,{aliases.changes}-*",
                              ignore_unavailable=True, allow_no_indices=True)
            drop_schema(args.database_url, schema)


if __name__ == "__main__":
    raise SystemExit(main())
