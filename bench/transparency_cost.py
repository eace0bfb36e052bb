"""What the transparency log costs tracking: event throughput with and without it, plus the
sequencer. Prints one JSON line per database.

    eval "$(bash infra/stack.sh env)"
    .venv/bin/python -m bench.transparency_cost [--database sqlite|postgresql|both]
        [--cases 1000] [--rounds 7] [--batch 500] [--profile /tmp/tc]

Runs ``TrackingHandler.handle_batch`` on the real ``SqlStore`` (SQLite in a temporary file;
PostgreSQL in a throw-away schema of ``$PANTAU_TEST_DATABASE_URL`` or ``--database-url``,
dropped at the end; skipped if neither is set) with batches of ``--batch`` events, 4 events per
case (submitted with an applicant, two stages with notes, completed) carrying sequence numbers
and intake's received stamp, cases interleaved as departments send them. The process starts as
``python -m pantau_tracking`` does: eventlet monkey-patched, psycopg2 in green mode (where, for
one, ``COPY`` is refused).

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
shows the spread; ``cpu`` gives the cost in CPU seconds (this process, plus the PostgreSQL
backends when the server runs on this machine), steadier than wall-clock on a busy machine.
``--profile`` writes a cProfile per database (process CPU time). Only ``handle_batch`` is timed
(not decoding/validating the message, not the broker, not the outbox relay), so the cost is
relative to the smallest denominator — an upper bound of its share of the whole pipeline.
Round 0 is a warm-up and not counted.
"""

from __future__ import annotations

# ruff: noqa: E402 - the service's start-up comes first, as in ``python -m pantau_tracking``
import warnings

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")

import eventlet

eventlet.monkey_patch()  # tracking's process: green stdlib, psycopg2 in green mode
from psycogreen.eventlet import patch_psycopg

patch_psycopg()

import argparse
import contextlib
import cProfile
import dataclasses
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
from unittest import mock

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
from pantau_tracking.domain.lifecycle import Accepted, ReceivedEvent, apply_event, open_case
from pantau_tracking.domain.public_record import log_leaf
from pantau_tracking.service.handler import TrackingHandler, as_event
from pantau_transparency import sql as transparency_sql
from pantau_transparency.keys import Signer
from pantau_transparency.leaf import Leaf
from pantau_transparency.sql import (
    Sequencer,
    queue_entries,
    transparency_leaves,
    transparency_queue,
)

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


def case_events(receipt: str, base: datetime) -> list[ReceivedEvent]:
    """The 4 accepted events of one case, as tracking gets them (validated, intake-stamped)."""
    out = []
    for seq, (event_type, data) in enumerate(STEPS, start=1):
        claimed = base + timedelta(minutes=10 * seq)
        body = event_to_json(make_event(
            type=event_type, source="/kota-bandung/dpmptsp", subject=receipt, sequence=seq,
            data={"receipt_number": receipt, **data}, time=claimed))
        event = stamp_received(validate_event(body), claimed + timedelta(seconds=30))
        out.append(as_event(event, claimed))
    return out


def batches(prefix: str, cases: int, size: int) -> list[list[ReceivedEvent]]:
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


def timed_batch(cpu: CpuClock, handler: TrackingHandler, batch: list[ReceivedEvent]) -> Timing:
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


def reference_insert(connection: sa.Connection, table: sa.Table,
                     rows: list[dict[str, Any]]) -> None:
    """The log's inserts before ``_insert_many``: SQLAlchemy's ``executemany``."""
    connection.execute(table.insert(), rows)


def rfc8785_text(leaf: Leaf) -> str:
    """``Leaf.text`` before it used ``json.dumps``: the ``rfc8785`` bytes."""
    return str(leaf.canonical().decode("utf-8"))


def per_leaf(count: int, work: Callable[..., Any], *args: Any) -> float:
    t0 = time.perf_counter()
    work(*args)
    return (time.perf_counter() - t0) / count * 1e6


def parts(kind: str, url: str, *, leaves: int, reps: int) -> dict[str, Any]:
    """Microseconds per leaf of each step of the log, the shipped path against the reference
    it must equal (``rfc8785`` for ``Leaf.text``, SQLAlchemy's ``executemany`` for the queue and
    the sequencer's inserts), interleaved ``reps`` times in this process, which goes first
    alternating (plus one warm-up); medians. ``log_leaf`` has one path, timed once a rep."""
    catalogue = load_catalogue()
    events = case_events("BENCH-PARTS-CASE", datetime.now(UTC) - timedelta(hours=2))
    opened = open_case(events[0], catalogue.definition("kota-bandung", "pbg"), None)
    assert isinstance(opened, Accepted)
    case = opened.case
    for event in events[1:]:
        step = apply_event(case, event)
        assert isinstance(step, Accepted)
        case = step.case
    entries = list(case.history) * (leaves // len(case.history))
    template = [log_leaf(case, h) for h in case.history]
    sample = template * (leaves // len(template))
    tag = uuid.uuid4().hex[:6].upper()
    batches_made = 0

    def fresh() -> list[Leaf]:  # distinct (receipt_number, seq): the log takes each once
        nonlocal batches_made
        batches_made += 1
        return [dataclasses.replace(template[i % len(template)], receipt_number=(
            f"BENCH-{tag}-P{batches_made:04d}-{i // len(template):06d}")) for i in range(leaves)]

    timings: dict[str, list[float]] = {}
    engine = create_engine(url)
    try:
        migrate(engine)
        store = SqlStore(engine)
        sequencer = Sequencer(engine, Signer(Ed25519PrivateKey.generate()), clock=SystemClock(),
                              lock=store.write_lock if store.is_sqlite else None)

        def queue(rows: list[Leaf]) -> None:
            with engine.connect() as connection:
                transaction = connection.begin()
                queue_entries(connection, rows)
                transaction.rollback()  # the insert is timed, not the commit

        def sequence(rows: list[Leaf]) -> float:
            with engine.begin() as connection:
                queue_entries(connection, rows)
            return per_leaf(len(rows), sequencer.run, 0)

        def record(name: str, value: float) -> None:
            timings.setdefault(name, []).append(value)

        paths: list[tuple[str, Callable[[Leaf], str], Any]] = [
            ("shipped", Leaf.text, None), ("reference", rfc8785_text, reference_insert)]
        for rep in range(reps + 1):
            record("log_leaf", per_leaf(len(entries), lambda: [log_leaf(case, h)
                                                               for h in entries]))
            for path, render, insert in paths if rep % 2 else paths[::-1]:  # order alternates
                record(f"leaf_text_{path}",
                       per_leaf(len(sample), lambda r: [r(leaf) for leaf in sample], render))
                with (mock.patch.object(transparency_sql, "_insert_many", insert) if insert
                      else contextlib.nullcontext()):
                    record(f"queue_entries_{path}", per_leaf(leaves, queue, fresh()))
                    record(f"sequencer_{path}", sequence(fresh()))
    finally:
        engine.dispose()
    median = {k: round(statistics.median(v[1:]), 1) for k, v in timings.items()}
    return {"benchmark": "transparency_cost_parts", "database": kind, "leaves": leaves,
            "reps": reps, "us_per_leaf": {
                "log_leaf": median["log_leaf"],
                "leaf_text": {"shipped": median["leaf_text_shipped"],
                              "rfc8785": median["leaf_text_reference"]},
                "queue_entries": {"shipped": median["queue_entries_shipped"],
                                  "sqlalchemy_executemany": median["queue_entries_reference"]},
                "sequencer": {"shipped": median["sequencer_shipped"],
                              "sqlalchemy_executemany": median["sequencer_reference"]}}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--database-url", default=os.environ.get("PANTAU_TEST_DATABASE_URL", ""),
                        help="PostgreSQL base URL (default $PANTAU_TEST_DATABASE_URL)")
    parser.add_argument("--cases", type=int, default=1000, help="cases per mode per round")
    parser.add_argument("--rounds", type=int, default=7, help="timed rounds (after a warm-up)")
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--profile", metavar="FILE",
                        help="cProfile the run (process CPU time) into FILE.<database>.prof")
    parser.add_argument("--parts", action="store_true",
                        help="instead: microseconds per leaf of each step of the log, shipped "
                             "vs reference path (see parts())")
    parser.add_argument("--leaves", type=int, default=4000, help="leaves per step for --parts")
    parser.add_argument("--reps", type=int, default=5, help="repetitions for --parts")
    args = parser.parse_args(argv)
    kinds = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    for kind in kinds:
        if kind == "postgresql" and not args.database_url.startswith("postgres"):
            if args.database == "postgresql":
                parser.error("no PostgreSQL URL: set PANTAU_TEST_DATABASE_URL or --database-url")
            sys.stderr.write("postgresql skipped: PANTAU_TEST_DATABASE_URL is not set\n")
            continue
        profiler = cProfile.Profile(time.process_time) if args.profile else None
        with database(kind, args.database_url) as url:
            if profiler:
                profiler.enable()
            if args.parts:
                result = parts(kind, url, leaves=args.leaves, reps=args.reps)
            else:
                result = bench(kind, url, cases=args.cases, rounds=args.rounds,
                               batch=args.batch,
                               progress=lambda line: sys.stderr.write(line + "\n"))
            if profiler:
                profiler.disable()
                profiler.dump_stats(f"{args.profile}.{kind}.prof")
        print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
