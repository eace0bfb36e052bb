"""What the transparency log costs the PIPELINE: end-to-end throughput with and without it.

    eval "$(bash infra/stack.sh env)" && .venv/bin/python -m bench.pipeline_log_cost \
        [--events 2000] [--rounds 2]

Runs the real processes on a private vhost and unique aliases — tracking (SQLite in a temporary
state folder) and the indexer — publishes N events to ``pantau.accepted`` (the hops the log
touches: tracking → outbox → indexer → search) and times them from the first publish until every
case is searchable in its final revision
(Elasticsearch count, refreshed). Tracking alternates between the shipped module
(``python -m pantau_tracking``, the log on) and ``python -m bench.tracking_without_log`` (the
same process with the log's two store calls switched off — in the benchmark only; there is no
production switch). Rounds alternate modes so a noisy neighbour hits both. Prints one JSON line:
events/s per mode (median round), ``cost_percent`` = 1 − with/without, target 10.
Intake is left out: it is the pipeline's slowest stage today and would only dilute the figure.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from pantau_contracts.envelope import event_to_json, make_event
from pantau_contracts.routing import ACCEPTED_EXCHANGE
from pantau_platform.amqp import ConfirmingPublisher, Outgoing
from pantau_platform.settings import PantauSettings
from pantau_platform.topology import ManagementClient, apply

REPO = Path(__file__).resolve().parents[1]
TARGET = 10.0
STEPS = [("case.submitted", {"service_code": "pbg"}),
         ("case.stage_started", {"stage": "verifikasi-berkas"}),
         ("case.stage_started", {"stage": "konsultasi-teknis"}),
         ("case.completed", {"note": "PBG terbit."})]


def messages(prefix: str, cases: int) -> list[Outgoing]:
    """Every case's events, interleaved across cases as departments send them."""
    t0 = datetime.now(UTC) - timedelta(minutes=10)
    out: list[list[Outgoing]] = []
    for n in range(cases):
        receipt = f"{prefix}-{n:06d}"
        out.append([Outgoing(exchange=ACCEPTED_EXCHANGE,
                             routing_key=f"kota-bandung.dpmptsp.{kind}",
                             body=event_to_json(make_event(
                                 type=kind, source="/kota-bandung/dpmptsp", subject=receipt,
                                 sequence=seq, time=t0 + timedelta(minutes=seq),
                                 data={"receipt_number": receipt, **data})),
                             content_type="application/cloudevents+json")
                    for seq, (kind, data) in enumerate(STEPS, start=1)])
    return [out[c][s] for s in range(len(STEPS)) for c in range(cases)]


def searchable(es: str, alias: str, prefix: str) -> int:
    httpx.post(f"{es}/{alias}/_refresh", timeout=10)
    answer = httpx.post(f"{es}/{alias}/_count", timeout=10, json={"query": {"bool": {"filter": [
        {"prefix": {"receipt_number": prefix}}, {"term": {"revision": len(STEPS)}}]}}})
    return int(answer.json().get("count", 0)) if answer.status_code == 200 else 0


class Pipeline:
    """The processes of one run; ``tracking(mode)`` swaps tracking between log on/off."""

    def __init__(self, env: dict[str, str], state: Path) -> None:
        self.env, self.state = env, state
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.start("indexer", "pantau_publishing.indexer")

    def start(self, name: str, module: str, **extra: str) -> None:
        log = (self.state / f"{name}.log").open("ab")
        self.procs[name] = subprocess.Popen([sys.executable, "-m", module], cwd=REPO,
                                            env={**self.env, **extra}, stdout=log,
                                            stderr=subprocess.STDOUT)

    def tracking(self, with_log: bool) -> None:
        self.stop("tracking")
        mode = "on" if with_log else "off"
        self.start("tracking", "pantau_tracking" if with_log else "bench.tracking_without_log",
                   PANTAU_DATABASE_URL=f"sqlite:///{self.state / f'tracking-{mode}.sqlite3'}")

    def stop(self, name: str) -> None:
        proc = self.procs.pop(name, None)
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()

    def close(self) -> None:
        for name in list(self.procs):
            self.stop(name)


def one_round(publisher: ConfirmingPublisher, es: str, alias: str, cases: int,
              timeout: float) -> float:
    """Events/s from the first publish until every case is searchable in its last revision."""
    prefix = f"BDG-PBG-PL{uuid.uuid4().hex[:6].upper()}"
    batch = messages(prefix, cases)
    start = time.monotonic()
    for i in range(0, len(batch), 500):
        publisher.publish_many(batch[i:i + 500])
    deadline = start + timeout
    while searchable(es, alias, prefix) < cases:
        if time.monotonic() > deadline:
            raise RuntimeError(f"not all {cases} cases became searchable within {timeout} s")
        time.sleep(0.2)  # a benchmark polls; tests wait on events
    return len(batch) / (time.monotonic() - start)


def warm_up(publisher: ConfirmingPublisher, es: str, alias: str) -> None:
    one_round(publisher, es, alias, 5, timeout=120)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=2, help="timed rounds per mode")
    parser.add_argument("--timeout", type=float, default=300)
    args = parser.parse_args()
    base = PantauSettings()
    run = uuid.uuid4().hex[:8]
    vhost = f"pantau_bench_{run}"
    amqp_url = f"{base.amqp_url.rsplit('/', 1)[0]}/{vhost}"
    settings = PantauSettings(amqp_url=amqp_url, amqp_management_url=base.amqp_management_url)
    apply(settings)
    state = Path(tempfile.mkdtemp(prefix="pantau-bench-pipeline-"))
    es = os.environ.get("PANTAU_ELASTICSEARCH_URL", "http://127.0.0.1:9200")
    alias = f"pantau-bench-{run}-cases"
    env = {**os.environ, "PANTAU_AMQP_URL": amqp_url, "PANTAU_STATE_DIR": str(state),
           "PANTAU_LOG_LEVEL": "WARNING", "PANTAU_INDEX_ALIAS": alias,
           "PANTAU_CHANGES_ALIAS": f"pantau-bench-{run}-changes",
           "PANTAU_TRACKING_HEALTH_PORT": "0", "PANTAU_INDEXER_HEALTH_PORT": "0",
           "PANTAU_INGRESS_HEALTH_PORT": "0"}
    pipeline = Pipeline(env, state)
    publisher = ConfirmingPublisher(amqp_url)
    rates: dict[str, list[float]] = {"with_log": [], "without_log": []}
    cases = max(1, args.events // len(STEPS))
    try:
        for _ in range(args.rounds):
            for with_log in (True, False):
                pipeline.tracking(with_log)
                warm_up(publisher, es, alias)
                rates["with_log" if with_log else "without_log"].append(
                    one_round(publisher, es, alias, cases, args.timeout))
    finally:
        publisher.close()
        pipeline.close()
        for index in httpx.get(f"{es}/_alias/pantau-bench-{run}-*", timeout=10).json():
            httpx.delete(f"{es}/{index}", timeout=10)
        ManagementClient(base.amqp_management_url, vhost).delete_vhost()
    with_log = statistics.median(rates["with_log"])
    without_log = statistics.median(rates["without_log"])
    cost = round(100 * (1 - with_log / without_log), 2)
    print(json.dumps({
        "benchmark": "pipeline_log_cost", "path": "pantau.accepted → searchable",
        "events_per_round": cases * 4,
        "rounds_per_mode": args.rounds, "events_per_second_with_log": round(with_log, 1),
        "events_per_second_without_log": round(without_log, 1),
        "rounds": {k: [round(v, 1) for v in values] for k, values in rates.items()},
        "cost_percent": cost, "target_percent": TARGET, "ok": cost <= TARGET}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
