"""End to end over AMQP: departments publish → intake-ingress → tracking (PostgreSQL) → indexer →
Elasticsearch, until every case is searchable as finished. Prints JSON, with the raw baseline
(``bench.raw_pipeline``: the same four broker hops in plain pika) run in the same invocation and
``ratio = pantau / raw``.

    eval "$(bash infra/stack.sh env)"
    .venv/bin/python -m bench.e2e --quick          # CI size: 8,000 events, under 2 minutes
    .venv/bin/python -m bench.e2e                  # issue 13's size: 200,000 events
    .venv/bin/python -m bench.e2e --quick --profile .state/profiles   # + py-spy per process
    .venv/bin/python -m bench.e2e --freshness --rate 500 --seconds 60 # latency of every event

The whole system runs as real subprocesses (``tests.e2e.system.running_system``: own vhost,
aliases, state folder, each process as its own broker identity), tracking and intake on fresh
PostgreSQL databases of the stack. ``--departments`` departments (from the dev credentials)
publish at once, each from its own process, as its own AMQP user (``user_id`` set, routing key
``{j}.{d}.{type}``, persistent, confirms with a window of unconfirmed messages — the publisher
must not be the limit). Each case gets four events (submitted, two stages, completed) in
order; cases are interleaved in blocks so a batch holds many cases. Done = the public index
counts every case as ``selesai``. Reported: events/s over the whole run, the raw baseline, the
ratio, the peak RSS of every Pantau process (sampled each second from ``/proc``), and the CPU
time per event of every Pantau process, of the stack's servers (RabbitMQ, PostgreSQL,
Elasticsearch) and of the whole machine (``stack_cpu``).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pika
import sqlalchemy as sa

from bench import raw_pipeline
from pantau_client.dev import dev_amqp_url, dev_credentials
from pantau_client.identity import Department
from pantau_contracts.catalogue import load_catalogue
from pantau_contracts.envelope import event_to_json, make_event
from pantau_contracts.routing import INGRESS_EXCHANGE
from tests.conftest import ES_URL, REPO
from tests.e2e.system import System, running_system

DEV_FILE = REPO / "config" / "dev-departments.yaml"
BLOCK = 50  # cases interleaved per block: step 1 of 50 cases, then step 2, ...


def departments(count: int) -> list[dict[str, Any]]:
    """``count`` departments of the dev file, each with a receipt prefix, a service and two of
    its stages (from the catalogue)."""
    catalogue = load_catalogue()
    chosen = []
    for line in DEV_FILE.read_text().splitlines():
        if not line.strip().startswith("- department:"):
            continue
        jurisdiction, code = line.split(":", 1)[1].strip().split("/")
        department = catalogue.jurisdiction(jurisdiction).departments[code]
        service = next(iter(department.services.values()))
        chosen.append({"jurisdiction": jurisdiction, "department": code,
                       "prefix": department.receipt_prefixes[0], "service": service.code,
                       "stages": [stage.code for stage in service.stages][:2]})
        if len(chosen) == count:
            break
    return chosen


def events(spec: dict[str, Any], cases: int, run: str) -> Iterator[tuple[str, bytes]]:
    """(routing key, body) of every event of ``cases`` cases, blocks interleaved."""
    source = f"/{spec['jurisdiction']}/{spec['department']}"
    steps = [("case.submitted", {"service_code": spec["service"]}),
             *(("case.stage_started", {"stage": stage}) for stage in spec["stages"]),
             ("case.completed", {})]
    t0 = datetime.now(UTC) - timedelta(hours=1)
    for start in range(0, cases, BLOCK):
        block = [f"{spec['prefix']}{run}-{n:07d}" for n in range(start, min(cases, start + BLOCK))]
        for seq, (kind, data) in enumerate(steps, start=1):
            for receipt in block:
                event = make_event(type=kind, source=source, subject=receipt, sequence=seq,
                                   data={"receipt_number": receipt, **data},
                                   time=t0 + timedelta(seconds=seq))
                key = f"{spec['jurisdiction']}.{spec['department']}.{kind}"
                yield key, event_to_json(event)


def publish(url: str, user: str, spec: dict[str, Any], cases: int, run: str,
            window: int = 500, rate: float | None = None, cpu: Any = None) -> None:
    """One department's publisher process: blocking pika in confirm mode would wait per
    message, so this keeps ``window`` unconfirmed messages with the async connection. With
    ``rate`` (events/s), a steady offered load: never ahead of ``rate`` × elapsed. ``cpu`` (a
    shared ``multiprocessing.Value``) receives the process's CPU seconds when it is done: the
    load generator shares the machine, and its cost belongs in the report."""
    began_cpu = time.process_time()  # after start-up and imports: the publishing alone
    stream = events(spec, cases, run)
    state = {"published": 0, "confirmed": 0, "done": False}
    props = pika.BasicProperties(delivery_mode=2, user_id=user,
                                 content_type="application/cloudevents+json")
    began = time.monotonic()

    def allowed() -> bool:
        return rate is None or state["published"] < rate * (time.monotonic() - began)

    def tick(channel: Any) -> None:
        more(channel)
        if not state["done"]:
            connection.ioloop.call_later(0.005, lambda: tick(channel))

    def more(channel: Any) -> None:
        while not state["done"] and state["published"] - state["confirmed"] < window \
                and allowed():
            item = next(stream, None)
            if item is None:
                state["done"] = True
                break
            channel.basic_publish(INGRESS_EXCHANGE, item[0], item[1], props)
            state["published"] += 1

    def confirmed(frame: Any, channel: Any) -> None:
        if not isinstance(frame.method, pika.spec.Basic.Ack):
            raise RuntimeError("the broker refused an event (nack)")
        state["confirmed"] = max(state["confirmed"], frame.method.delivery_tag)
        more(channel)
        if state["done"] and state["confirmed"] >= state["published"]:
            connection.close()

    def opened_channel(channel: Any) -> None:
        channel.confirm_delivery(lambda frame: confirmed(frame, channel))
        tick(channel) if rate is not None else more(channel)

    connection = pika.SelectConnection(
        pika.URLParameters(url),
        on_open_callback=lambda c: c.channel(on_open_callback=opened_channel),
        on_close_callback=lambda c, _reason: c.ioloop.stop())  # closing alone keeps it running
    try:
        connection.ioloop.start()
    finally:
        if cpu is not None:
            cpu.value = time.process_time() - began_cpu


def finished_count(alias: str, run: str) -> int:
    query = {"query": {"bool": {"filter": [{"term": {"status": "selesai"}},
                                           {"wildcard": {"receipt_number": f"*{run}*"}}]}}}
    answer = httpx.post(f"{ES_URL}/{alias}/_count", json=query, timeout=30)
    return int(answer.json().get("count", 0)) if answer.status_code == 200 else 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (``/proc/<pid>/stat``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


STACK = {"beam.smp": "rabbitmq", "java": "elasticsearch", "postgres": "postgresql"}


def stack_cpu() -> dict[str, float]:
    """CPU seconds so far of the stack's servers (by command name: RabbitMQ's ``beam.smp``,
    Elasticsearch's ``java``, every ``postgres`` process plus the time of the backends that
    already exited, which the postmaster's ``cutime``/``cstime`` hold) and of the whole machine
    (``/proc/stat``, every process). Deltas over a run say where the CPU beyond Pantau's own
    processes goes; another stack on the same machine would be counted too."""
    tick = os.sysconf("SC_CLK_TCK")
    used = dict.fromkeys(STACK.values(), 0.0)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        name = text[text.index("(") + 1:text.rindex(")")]
        if name in STACK:
            fields = text.rsplit(")", 1)[1].split()
            own = int(fields[11]) + int(fields[12])
            exited = int(fields[13]) + int(fields[14]) if name == "postgres" else 0
            used[STACK[name]] += (own + exited) / tick
    busy = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    # user nice system idle iowait irq softirq [steal guest guest_nice]: guest time is already in
    # user/nice, steal is the hypervisor's; idle and iowait are not work
    used["machine"] = (sum(busy[:7]) - busy[3] - busy[4]) / tick
    return used


def cpu_totals(cpu: dict[str, float], events: int) -> dict[str, float]:
    """CPU ms per event of all Pantau processes, of the stack's servers, of the load generator
    (the departments' publishers and the benchmark itself) and of the machine:
    the figures that compare across rounds when the events/s scatter with the machine's load."""
    pantau = sum(v for k, v in cpu.items() if k.startswith("pantau"))
    stack = sum(cpu.get(name, 0.0) for name in STACK.values())
    return {name: round(1000 * seconds / events, 3) for name, seconds in (
        ("pantau", pantau), ("stack", stack),
        ("load_generator", cpu.get("load_generator", 0.0)), ("machine", cpu.get("machine", 0.0)))}


class RssSampler(threading.Thread):
    """Peak resident memory of every process of the system, sampled once a second; and each
    process's CPU time over the run (``cpu_start`` / ``cpu_used``)."""

    def __init__(self, system: System) -> None:
        super().__init__(daemon=True)
        self.system, self.peak_mb, self.stopped = system, {}, threading.Event()
        self.cpu_at_start = self._cpu()

    def _cpu(self) -> dict[str, float]:
        used = stack_cpu()
        for module, process in list(self.system.processes.items()):
            try:
                used[module] = cpu_seconds(process.proc.pid)
            except OSError:
                continue
        return used

    def cpu_used(self) -> dict[str, float]:
        """CPU seconds each process spent since the sampler was made."""
        return {module: round(seconds - self.cpu_at_start.get(module, 0.0), 2)
                for module, seconds in self._cpu().items()}

    def run(self) -> None:
        while not self.stopped.wait(1.0):
            for module, process in list(self.system.processes.items()):
                try:
                    status = Path(f"/proc/{process.proc.pid}/status").read_text()
                except OSError:
                    continue
                kb = next(int(line.split()[1]) for line in status.splitlines()
                          if line.startswith("VmRSS:"))
                self.peak_mb[module] = max(self.peak_mb.get(module, 0.0), round(kb / 1024, 1))


@contextmanager
def profiled(system: System, folder: Path | None) -> Iterator[None]:
    """``py-spy record`` (collapsed stacks, ``--nonblocking``) on every Pantau process for the
    block; one ``<module>.txt`` per process in ``folder``. Nothing when ``folder`` is None."""
    if folder is None:
        yield
        return
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    folder.mkdir(parents=True, exist_ok=True)
    recorders = [subprocess.Popen(
        [spy, "record", "--nonblocking", "--format", "raw", "--rate", "50", "--pid",
         str(process.proc.pid), "--output", str(folder / f"{module}.txt")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for module, process in system.processes.items()]
    try:
        yield
    finally:
        for recorder in recorders:
            recorder.send_signal(2)  # SIGINT: py-spy writes its file and exits
        for recorder in recorders:
            recorder.wait(30)


@contextmanager
def fresh_databases(base_url: str) -> Iterator[dict[str, str]]:
    """Fresh PostgreSQL databases for tracking and intake, dropped afterwards."""
    names = {"PANTAU_DATABASE_URL": "pantau_bench_tracking",
             "PANTAU_INTAKE_DATABASE_URL": "pantau_bench_intake"}
    admin = sa.create_engine(base_url.replace("postgresql://", "postgresql+psycopg2://"),
                             isolation_level="AUTOCOMMIT")

    def recreate(drop_only: bool = False) -> None:
        with admin.connect() as connection:
            for name in names.values():
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                if not drop_only:
                    connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    recreate()
    try:
        yield {var: f"{base_url.rsplit('/', 1)[0]}/{name}" for var, name in names.items()}
    finally:
        recreate(drop_only=True)
        admin.dispose()


METRICS_PORTS = {"pantau_tracking": 18791, "pantau_publishing.indexer": 18792}
PER_PROCESS = {"pantau_tracking": {"PANTAU_TRACKING_METRICS_PORT": "18791"},
               "pantau_publishing.indexer": {"PANTAU_INDEXER_METRICS_PORT": "18792"}}


def histogram(module: str, name: str) -> list[tuple[float, float]]:
    """The cumulative buckets ``(le, count)`` of histogram ``name`` on a process's /metrics."""
    text = httpx.get(f"http://127.0.0.1:{METRICS_PORTS[module]}/metrics", timeout=10).text
    buckets = []
    for line in text.splitlines():
        if line.startswith(f"{name}_bucket{{"):
            le = line.split('le="', 1)[1].split('"', 1)[0]
            buckets.append((float("inf") if le == "+Inf" else float(le),
                            float(line.rsplit(" ", 1)[1])))
    return sorted(buckets)


def quantile(buckets: list[tuple[float, float]], q: float) -> float | None:
    """Prometheus' ``histogram_quantile``: linear within the bucket holding the q-th sample."""
    if not buckets or buckets[-1][1] == 0:
        return None
    rank, lower, below = q * buckets[-1][1], 0.0, 0.0
    for le, count in buckets:
        if count >= rank:
            if le == float("inf"):
                return lower
            return round(lower + (le - lower) * (rank - below) / max(count - below, 1e-9), 3)
        lower, below = le, count
    return None


def freshness() -> dict[str, Any]:
    """Received → applied (tracking) and → searchable (indexer), over EVERY event of the run:
    the services' own histograms. ``searchable`` counts the index refresh interval in full (the
    worst case for free-text search); the case page and case API read by id in real time, so
    for them an event is readable one refresh interval sooner (``readable_by_id``)."""
    applied = histogram("pantau_tracking", "pantau_freshness_applied_seconds")
    searchable = histogram("pantau_publishing.indexer", "pantau_freshness_searchable_seconds")
    refresh = float(os.environ.get("PANTAU_INDEX_REFRESH_SECONDS", "0.5"))
    out: dict[str, Any] = {"samples": searchable[-1][1] if searchable else 0,
                           "refresh_seconds": refresh}
    for q in (0.5, 0.99):
        label = f"p{int(q * 100)}"
        out[f"applied_{label}"] = quantile(applied, q)
        value = quantile(searchable, q)
        out[f"searchable_{label}"] = value
        out[f"readable_by_id_{label}"] = None if value is None else round(value - refresh, 3)
    return out


def run_pantau(cases_per_department: int, department_count: int,
               profile: Path | None = None, rate: float | None = None) -> dict[str, Any]:
    specs = departments(department_count)
    amqp_url = os.environ["PANTAU_AMQP_URL"]
    databases = fresh_databases(os.environ.get("PANTAU_DATABASE_URL",
                                               "postgresql://pantau:pantau@127.0.0.1:5432/pantau"))
    with databases as urls, tempfile.TemporaryDirectory(prefix="pantau-bench-") as state:
        os.environ.update(urls)
        with running_system(amqp_url, Path(state), name="bench", intake_port=18301,
                            portal_port=18300, per_process_env=PER_PROCESS) as system:
            run = uuid.uuid4().hex[:6].upper()
            sampler = RssSampler(system)
            sampler.start()
            ctx = multiprocessing.get_context("spawn")
            publishers, publisher_cpu = [], [ctx.Value("d", 0.0) for _spec in specs]
            own_cpu = time.process_time()
            started = time.perf_counter()
            for spec, spent in zip(specs, publisher_cpu, strict=True):
                department = Department(spec["jurisdiction"], spec["department"])
                password = dev_credentials(DEV_FILE, department).amqp_password
                url = dev_amqp_url(system.amqp_url, department, password)
                publishers.append(ctx.Process(target=publish, daemon=True, args=(
                    url, department.amqp_user, spec, cases_per_department, run, 500,
                    rate / len(specs) if rate else None, spent)))
            with profiled(system, profile):
                for process in publishers:
                    process.start()
                done, elapsed = wait_until_finished(system, publishers, run,
                                                    cases_per_department * len(specs), started)
            cpu = sampler.cpu_used()
            for process in publishers:
                process.join(5)
            # the load generator: the publishers, and this process (sampling, polling the index)
            cpu["load_generator"] = round(sum(v.value for v in publisher_cpu)
                                          + time.process_time() - own_cpu, 2)
            sampler.stopped.set()
            total_cases = cases_per_department * len(specs)
            if done < total_cases:
                raise RuntimeError(f"only {done} of {total_cases} cases finished in time\n"
                                   f"{system.logs()}")
            events_total = total_cases * 4
            return {"events": events_total, "cases": total_cases, "departments": len(specs),
                    "seconds": round(elapsed, 2),
                    "events_per_second": round(events_total / elapsed, 1),
                    "peak_rss_mb": sampler.peak_mb, "cpu_seconds": cpu,
                    "cpu_ms_per_event": {module: round(1000 * seconds / events_total, 3)
                                         for module, seconds in cpu.items()},
                    "cpu_ms_per_event_totals": cpu_totals(cpu, events_total),
                    "freshness": freshness()}


def wait_until_finished(system: System, publishers: list[Any], run: str, total_cases: int,
                        started: float) -> tuple[int, float]:
    """Poll the public index until every case counts as finished (or a deadline passes)."""
    alias = system.env["PANTAU_INDEX_ALIAS"]
    deadline = started + max(300.0, total_cases * 4 / 100)
    done = 0
    while time.perf_counter() < deadline:
        if any(p.exitcode not in (None, 0) for p in publishers):
            raise RuntimeError("a publisher failed (its traceback is above)")
        done = finished_count(alias, run)
        if done >= total_cases:
            break
        time.sleep(0.25)  # a benchmark polling the index, not a test
    return done, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="CI size: 8,000 events")
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--departments", type=int, default=4)
    parser.add_argument("--profile", type=Path, default=None,
                        help="a folder: py-spy every process (collapsed stacks) during the run")
    parser.add_argument("--freshness", action="store_true",
                        help="a steady offered load (--rate events/s for --seconds) instead of "
                             "as fast as possible; the latency of every event is the point")
    parser.add_argument("--rate", type=float, default=500.0)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    total = 8_000 if args.quick else args.events
    if args.freshness:
        total = int(args.rate * args.seconds)
    cases = max(1, total // 4 // args.departments)
    pantau = run_pantau(cases, args.departments, args.profile,
                        args.rate if args.freshness else None)
    if args.freshness:
        print(json.dumps({"benchmark": "e2e-freshness", "transport": "amqp",
                          "offered_events_per_second": args.rate, **pantau,
                          "target": {"searchable_p50": 0.3, "searchable_p99": 1.5}}))
        return
    raw = raw_pipeline.run(os.environ["PANTAU_AMQP_URL"],
                           os.environ.get("PANTAU_AMQP_MANAGEMENT_URL",
                                          "http://pantau:pantau@127.0.0.1:15672"),
                           pantau["events"])
    print(json.dumps({"benchmark": "e2e", "transport": "amqp", **pantau,
                      "raw_events_per_second": raw["events_per_second"],
                      "ratio": round(pantau["events_per_second"] / raw["events_per_second"], 3),
                      "target_events_per_second": 2000, "target_ratio": 0.5}))


if __name__ == "__main__":
    main()
