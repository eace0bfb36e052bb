"""What the transparency log costs tracking: event throughput with and without it, plus the
sequencer. Prints one JSON line per database.

    eval "$(bash infra/stack.sh env)"
    .venv/bin/python -m bench.transparency_cost [--database sqlite|postgresql|both]
        [--cases 1000] [--rounds 7] [--batch 500]

Runs ``TrackingHandler.handle_batch`` on the real ``SqlStore`` (SQLite in a temporary file;
PostgreSQL in a throw-away schema of ``$PANTAU_TEST_DATABASE_URL`` or ``--database-url``,
dropped at the end; skipped if neither is set) with batches of ``--batch`` events, 4 events per
case (submitted with an applicant, two stages with notes, completed) carrying sequence numbers
and intake's received stamp, cases interleaved as departments send them.

Baseline in the same run: every round processes two fresh sets of cases, batch by batch
alternating (A with the log, B without; the order flips every batch), so both modes see the
same database size, caches and machine noise. "Without" is the shipped code with the log's two
calls in ``pantau_tracking.adapters.store`` (``log_leaf`` and ``queue_entries``) replaced by
no-ops for that batch only — there is no production switch. After each round the sequencer
(``Sequencer.run(0)``: leaf indexes, Merkle nodes, a signed checkpoint) drains that round's
queue and is timed too.

    cost = (handler time with log - handler time without + sequencer time) / time without

on the median round (per batch position, and for the sequencer, the median over the timed
rounds), so a burst of another process's load on a shared machine does not decide the figure;
``cost_percent_totals`` is the same formula on all rounds' sums and ``cost_percent_per_round``
shows the spread. Only ``handle_batch`` is timed (not decoding/validating the message, not the
broker, not the outbox relay), so the cost is relative to the smallest denominator — an upper
bound of its share of the whole pipeline. Round 0 is a warm-up and not counted.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

import pantau_tracking.adapters.store as store_module
from pantau_contracts.catalogue import load_catalogue
from pantau_contracts.envelope import event_to_json, make_event, stamp_received
from pantau_contracts.registry import validate_event
from pantau_tracking.adapters.clock import SystemClock
from pantau_tracking.adapters.database import create_engine, migrate
from pantau_tracking.adapters.schema import case_history
from pantau_tracking.adapters.store import SqlStore
from pantau_tracking.domain.lifecycle import Inbound
from pantau_tracking.service.handler import TrackingHandler, to_inbound
from pantau_transparency.keys import Signer
from pantau_transparency.sql import Sequencer, transparency_leaves, transparency_queue

TARGET_PERCENT = 10.0
APPLICANT = {"name": "Siti Nurhaliza", "nik": "3273012345678901", "phone": "081234567890",
             "email": "siti@example.id", "address": "Jl. Merdeka No. 5, Bandung"}
STEPS: list[tuple[str, dict[str, Any]]] = [
    ("case.submitted", {"service_code": "pbg", "kecamatan": "Coblong", "applicant": APPLICANT}),
    ("case.stage_started", {"stage": "verifikasi-berkas",
                            "note": "Berkas diterima lengkap, diperiksa petugas"}),
    ("case.stage_started", {"stage": "konsultasi-teknis",
                            "note": "Jadwal konsultasi teknis dikirim ke pemohon"}),
    ("case.completed", {}),
]


def case_events(receipt: str, base: datetime) -> list[Inbound]:
    """The 4 accepted events of one case, as tracking gets them (validated, intake-stamped)."""
    out = []
    for seq, (event_type, data) in enumerate(STEPS, start=1):
        claimed = base + timedelta(minutes=10 * seq)
        body = event_to_json(make_event(
            type=event_type, source="/kota-bandung/dpmptsp", subject=receipt, sequence=seq,
            data={"receipt_number": receipt, **data}, time=claimed))
        event = stamp_received(validate_event(body), claimed + timedelta(seconds=30))
        out.append(to_inbound(event, claimed))
    return out


def batches(prefix: str, cases: int, size: int) -> list[list[Inbound]]:
    """``cases`` cases' events, step by step across cases (as in bench.tracking_throughput),
    cut into batches of ``size``."""
    base = datetime.now(UTC) - timedelta(hours=2)
    per_case = [case_events(f"{prefix}-{i:05d}", base) for i in range(cases)]
    events = [per_case[c][s] for s in range(len(STEPS)) for c in range(cases)]
    return [events[i:i + size] for i in range(0, len(events), size)]


@contextmanager
def log_switched_off() -> Iterator[None]:
    """The baseline: the store's two log calls become no-ops (this process, this block only)."""
    saved = store_module.log_leaf, store_module.queue_entries
    store_module.log_leaf = lambda case, entry: None
    store_module.queue_entries = lambda connection, leaves, now=None: 0
    try:
        yield
    finally:
        store_module.log_leaf, store_module.queue_entries = saved


@contextmanager
def database(kind: str, url: str) -> Iterator[str]:
    """A SQLite file in a temporary folder, or a fresh PostgreSQL schema (dropped afterwards;
    the same recipe as tests/conftest.py ``fresh_schema``)."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="pantau-bench-") as folder:
            yield f"sqlite:///{Path(folder) / 'tracking.sqlite3'}"
        return
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg2://", 1))
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield url + ("&" if "?" in url else "?") + f"options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


class CpuClock:
    """CPU seconds of this process plus, on PostgreSQL, of the server backends serving its
    connections (``/proc/<pid>/stat``; only for a server on this machine, as the stack's is)."""

    def __init__(self, engine: sa.Engine) -> None:
        self.pids: set[int] = set()
        self.tick = os.sysconf("SC_CLK_TCK")
        host = engine.url.host or ""
        if engine.dialect.name == "postgresql" and host in ("127.0.0.1", "localhost", "::1"):
            @sa.event.listens_for(engine, "connect")
            def _backend(dbapi_connection: Any, _record: Any) -> None:
                cursor = dbapi_connection.cursor()
                cursor.execute("SELECT pg_backend_pid()")
                pid = int(cursor.fetchone()[0])
                cursor.close()
                if Path(f"/proc/{pid}/comm").is_file() and \
                        Path(f"/proc/{pid}/comm").read_text().strip() == "postgres":
                    self.pids.add(pid)

    def now(self) -> float:
        total = time.process_time()
        for pid in self.pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += (int(fields[11]) + int(fields[12])) / self.tick  # utime + stime
        return total


Timing = tuple[float, float]  # (wall seconds, CPU seconds)


def timed(cpu: CpuClock, work: Callable[[], Any]) -> tuple[Timing, Any]:
    c0, t0 = cpu.now(), time.perf_counter()
    result = work()
    return (time.perf_counter() - t0, cpu.now() - c0), result


def timed_batch(cpu: CpuClock, handler: TrackingHandler, batch: list[Inbound]) -> Timing:
    timing, failures = timed(cpu, lambda: handler.handle_batch(batch))
    if failures:
        raise RuntimeError(f"{len(failures)} event(s) failed: {failures[0].error}")
    return timing


def figures(with_log: list[list[float]], without_log: list[list[float]],
            sequencer: list[float]) -> dict[str, float]:
    """The cost on the median round: per batch position (positions differ in what they hold —
    new cases, stage changes, completions — so each keeps its weight) and for the sequencer the
    median over rounds, which drops the seconds in which another process had the CPU."""
    positions = range(len(with_log[0]))
    on = sum(statistics.median(r[i] for r in with_log) for i in positions)
    off = sum(statistics.median(r[i] for r in without_log) for i in positions)
    seq = statistics.median(sequencer)
    return {"handler_seconds_with_log": on, "handler_seconds_without_log": off,
            "sequencer_seconds": seq,
            "handler_cost_percent": 100 * (on - off) / off,
            "sequencer_cost_percent": 100 * seq / off,
            "cost_percent": 100 * (on - off + seq) / off}


def bench(kind: str, url: str, *, cases: int, rounds: int, batch: int,
          progress: Callable[[str], object]) -> dict[str, Any]:
    engine = create_engine(url)
    cpu = CpuClock(engine)
    try:
        migrate(engine)
        store = SqlStore(engine)
        handler = TrackingHandler(store, load_catalogue(), SystemClock())
        sequencer = Sequencer(engine, Signer(Ed25519PrivateKey.generate()), clock=SystemClock(),
                              lock=store.write_lock if store.is_sqlite else None)
        tag = uuid.uuid4().hex[:6].upper()
        with_log: list[list[Timing]] = []  # [round][batch position], log on
        without_log: list[list[Timing]] = []  # the same, log off
        sequenced: list[Timing] = []  # [round]
        round_events = 0
        for round_no in range(rounds + 1):  # round 0: warm-up
            logged = batches(f"BENCH-{tag}-L{round_no:02d}", cases, batch)
            unlogged = batches(f"BENCH-{tag}-N{round_no:02d}", cases, batch)
            r_with: list[Timing] = []
            r_without: list[Timing] = []
            for i, (a, b) in enumerate(zip(logged, unlogged, strict=True)):
                if i % 2:
                    with log_switched_off():
                        r_without.append(timed_batch(cpu, handler, b))
                    r_with.append(timed_batch(cpu, handler, a))
                else:
                    r_with.append(timed_batch(cpu, handler, a))
                    with log_switched_off():
                        r_without.append(timed_batch(cpu, handler, b))
            r_seq, result = timed(cpu, lambda: sequencer.run(0))
            round_events = sum(len(b) for b in logged)
            if result.appended != round_events or result.checkpoint is None:
                raise RuntimeError(f"sequencer moved {result.appended} of {round_events} leaves")
            progress(f"{kind} round {round_no}: wall/CPU s with log "
                     f"{sum(t[0] for t in r_with):.3f}/{sum(t[1] for t in r_with):.3f}, without "
                     f"{sum(t[0] for t in r_without):.3f}/{sum(t[1] for t in r_without):.3f}, "
                     f"sequencer {r_seq[0]:.3f}/{r_seq[1]:.3f} ({round_events} events each)")
            if round_no:
                with_log.append(r_with)
                without_log.append(r_without)
                sequenced.append(r_seq)
        with engine.connect() as conn:
            # Every step of a logged case is in the log, no step of an unlogged one.
            logged_steps = conn.execute(sa.select(sa.func.count()).select_from(case_history)
                                        .where(case_history.c.receipt_number.like("%-L%"))
                                        ).scalar_one()
            in_log = conn.execute(sa.select(sa.func.count()).select_from(transparency_leaves)
                                  ).scalar_one()
            queued = conn.execute(sa.select(sa.func.count()).select_from(transparency_queue)
                                  ).scalar_one()
        if in_log != logged_steps or queued:
            raise RuntimeError(f"log has {in_log} leaves (+{queued} queued) for "
                               f"{logged_steps} logged steps")
    finally:
        engine.dispose()

    def part(k: int) -> tuple[list[list[float]], list[list[float]], list[float]]:
        return ([[t[k] for t in r] for r in with_log], [[t[k] for t in r] for r in without_log],
                [t[k] for t in sequenced])

    wall, cpu_time = figures(*part(0)), figures(*part(1))
    w_on, w_off, w_seq = part(0)
    totals = 100 * (sum(map(sum, w_on)) - sum(map(sum, w_off)) + sum(w_seq)) / sum(map(sum, w_off))
    return {
        "benchmark": "transparency_cost", "database": kind, "batch_size": batch,
        "rounds": rounds, "events": round_events * rounds, "events_per_round": round_events,
        "events_per_second_with_log": round(round_events / wall["handler_seconds_with_log"], 1),
        "events_per_second_without_log":
            round(round_events / wall["handler_seconds_without_log"], 1),
        "sequencer_leaves_per_second": round(round_events / wall["sequencer_seconds"], 1),
        "handler_cost_percent": round(wall["handler_cost_percent"], 2),
        "sequencer_cost_percent": round(wall["sequencer_cost_percent"], 2),
        "cost_percent": round(wall["cost_percent"], 2),
        "target_percent": TARGET_PERCENT,
        "ok": wall["cost_percent"] <= TARGET_PERCENT,
        # The same formula on all rounds' sums, and per round: how noisy the machine was.
        "cost_percent_totals": round(totals, 2),
        "cost_percent_per_round": [
            round(100 * (sum(on) - sum(off) + q) / sum(off), 1)
            for on, off, q in zip(w_on, w_off, w_seq, strict=True)],
        # CPU seconds instead of wall-clock (this process, plus the PostgreSQL backends when
        # the server is on this machine): what the log costs where CPU is the limit.
        "cpu": {"includes_database_server": bool(cpu.pids),
                **{k: round(cpu_time[k], 2) for k in (
                    "handler_cost_percent", "sequencer_cost_percent", "cost_percent")}},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--database-url", default=os.environ.get("PANTAU_TEST_DATABASE_URL", ""),
                        help="PostgreSQL base URL (default $PANTAU_TEST_DATABASE_URL)")
    parser.add_argument("--cases", type=int, default=1000, help="cases per mode per round")
    parser.add_argument("--rounds", type=int, default=7, help="timed rounds (after a warm-up)")
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args(argv)
    kinds = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    for kind in kinds:
        if kind == "postgresql" and not args.database_url.startswith("postgres"):
            if args.database == "postgresql":
                parser.error("no PostgreSQL URL: set PANTAU_TEST_DATABASE_URL or --database-url")
            sys.stderr.write("postgresql skipped: PANTAU_TEST_DATABASE_URL is not set\n")
            continue
        with database(kind, args.database_url) as url:
            result = bench(kind, url, cases=args.cases, rounds=args.rounds, batch=args.batch,
                           progress=lambda line: sys.stderr.write(line + "\n"))
        print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
