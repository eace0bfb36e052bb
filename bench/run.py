"""Run every benchmark in ``bench/`` and collect their JSON into one report.

    make bench            # or: python -m bench.run [--only tracking_throughput]

Each benchmark is a module printing one JSON object as its last line (or one JSON line per
setup, e.g. ``transparency_cost`` per database: the report then holds the list). Benchmarks run
against the real local stack in the ``pantau_test`` vhost; the report is printed and written to
``bench/results/<UTC time>.json`` (git-ignored). Performance targets are checked here, never in
timed unit tests.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent


# raw_pipeline is the e2e benchmark's baseline (it runs inside it); e2e runs at its CI size
# (--quick, under 2 minutes) unless `make bench FULL=1` (python -m bench.run --full); so does
# portal_million (50,000 cases; full: 1,000,000), tracking_history (20,000 stored cases) and
# rebuild_index (10,000), backfill (20,000 events; full: 1,000,000), intake_http (1,000 single
# requests and 4 batches of 500; full: 5,000 and 20); seed_cases is their seeding library.
COMPONENTS = ("__init__", "run", "raw_pipeline", "seed_cases")
SIZED = ("e2e", "portal_million", "tracking_history", "rebuild_index", "backfill", "intake_http")


def modules() -> list[str]:
    return sorted(p.stem for p in BENCH.glob("*.py") if p.stem not in COMPONENTS)


def last_json(stdout: str) -> object | None:
    """The last JSON object printed (one line or indented over several)."""
    lines = stdout.splitlines()
    for start in range(len(lines) - 1, -1, -1):
        if lines[start].startswith("{"):
            try:
                return json.loads("\n".join(lines[start:]))
            except json.JSONDecodeError:
                continue
    return None


def reported(stdout: str) -> object | None:
    """All one-line JSON objects printed if there are several, else ``last_json``."""
    objects = []
    for line in stdout.splitlines():
        if line.startswith("{"):
            try:
                objects.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return objects if len(objects) > 1 else last_json(stdout)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", action="append", help="run just this benchmark (repeatable)")
    parser.add_argument("--full", action="store_true", help="the end-to-end benchmark at full size")
    args = parser.parse_args(argv)
    env = dict(os.environ)
    url = env.get("PANTAU_AMQP_URL", "amqp://pantau:pantau@127.0.0.1:5672/pantau")
    env["PANTAU_AMQP_URL"] = url.rsplit("/", 1)[0] + "/pantau_test"
    report: dict[str, object] = {"started_at": datetime.now(UTC).isoformat(), "results": {}}
    results: dict[str, object] = {}
    failed = False
    for name in args.only or modules():
        sys.stderr.write(f"== bench.{name}\n")
        size = [] if args.full or name not in SIZED else ["--quick"]
        proc = subprocess.run([sys.executable, "-m", f"bench.{name}", *size], cwd=BENCH.parent,
                              env=env,
                              capture_output=True, text=True, check=False)
        report_json = reported(proc.stdout)
        if proc.returncode != 0 or report_json is None:
            failed = True
            results[name] = {"error": proc.stderr[-2000:] or "no JSON output"}
            continue
        results[name] = report_json
    report["results"] = results
    out = BENCH / "results"
    out.mkdir(exist_ok=True)
    path = out / (datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + ".json")
    path.write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
