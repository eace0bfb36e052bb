"""Seed a tracking database with many stored cases, fast, for the history and rebuild benchmarks.

    eval "$(bash infra/stack.sh env)"
    .venv/bin/python -m bench.seed_cases --cases 100000 [--database-url URL] [--schema NAME]

Contract: the rows are the rows tracking itself writes. A template of ``--template`` cases
(default 1,000; 2 to 4 events each: submitted with its own applicant, stages with notes, completed —
80 % are completed) goes through the real write path (``TrackingHandler.handle_batch`` on
``SqlStore``); the template's outbox rows are marked sent. Then PostgreSQL copies the template
with ``INSERT … SELECT`` until ``--cases`` cases exist, changing only what must be unique: the
receipt number (fixed width, so ordering and the log leaves' canonical form hold), the event ids
(``<id>.<copy>``) in ``case_history`` and ``processed_events``, and the outbox message ids. The
copies' log entries (the template's leaves with the receipt replaced) are queued and the real
``Sequencer`` gives them leaf indexes and Merkle nodes, so the transparency log is complete and
``backfill_log`` finds nothing to do when tracking starts. Sent outbox rows are copied for the
last ``--outbox-cases`` cases only (default 100,000): retention purges older ones after 24 h.

PostgreSQL only (the goal is measured there). Used as a library by ``bench.tracking_history``
and ``bench.rebuild_index`` (``seed``); run alone it seeds into ``--schema`` and keeps it.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from pantau_contracts.catalogue import load_catalogue
from pantau_contracts.envelope import event_to_json, make_event, stamp_received
from pantau_contracts.registry import validate_event
from pantau_tracking.adapters.clock import SystemClock
from pantau_tracking.adapters.database import create_engine, migrate
from pantau_tracking.adapters.schema import (
    applicants,
    case_history,
    cases,
    outbox,
    processed_events,
)
from pantau_tracking.adapters.store import SqlStore
from pantau_tracking.service.handler import TrackingHandler, as_event
from pantau_transparency.keys import Signer
from pantau_transparency.sql import Sequencer

WIDTH = 7  # digits of the case number in a receipt: PREFIX-0000042
APPLICANT = {"name": "Siti Nurhaliza", "nik": "3273012345678901", "phone": "081234567890",
             "email": "siti@example.id", "address": "Jl. Merdeka No. 5, Bandung"}
STEPS: list[tuple[str, dict[str, Any]]] = [
    ("case.submitted", {"service_code": "pbg", "kecamatan": "Coblong"}),
    ("case.stage_started", {"stage": "verifikasi-berkas",
                            "note": "Berkas diterima lengkap, diperiksa petugas"}),
    ("case.stage_started", {"stage": "konsultasi-teknis",
                            "note": "Jadwal konsultasi teknis dikirim ke pemohon"}),
    ("case.completed", {}),
]


def receipt(prefix: str, number: int) -> str:
    return f"{prefix}-{number:0{WIDTH}d}"


def applicant(number: int) -> dict[str, str]:
    """Each case its own applicant: redaction (and its cache) works per case, as in real life."""
    return {**APPLICANT, "nik": f"3273{number:012d}", "phone": f"0812{number:08d}",
            "email": f"warga{number}@example.id"}


def case_events(receipt_number: str, steps: int, base: datetime, number: int = 0) -> list[Any]:
    """The first ``steps`` accepted events of one case, as tracking gets them."""
    out = []
    for seq, (event_type, step) in enumerate(STEPS[:steps], start=1):
        data = {**step, "applicant": applicant(number)} if seq == 1 else step
        claimed = base + timedelta(minutes=10 * seq)
        body = event_to_json(make_event(
            type=event_type, source="/kota-bandung/dpmptsp", subject=receipt_number,
            sequence=seq, data={"receipt_number": receipt_number, **data}, time=claimed))
        event = stamp_received(validate_event(body), claimed + timedelta(seconds=30))
        out.append(as_event(event, claimed))
    return out


def steps(number: int) -> int:
    """Most stored cases are finished: 80 % completed (4 events), 20 % open (2 or 3)."""
    return {0: 2, 1: 3}.get(number % 10, 4)


def write_template(engine: sa.Engine, prefix: str, count: int) -> None:
    """``count`` cases through the real write path, steps interleaved across cases."""
    handler = TrackingHandler(SqlStore(engine), load_catalogue(), SystemClock())
    base = datetime.now(UTC) - timedelta(days=2)
    per_case = [case_events(receipt(prefix, i), steps(i), base, i) for i in range(count)]
    events = [c[s] for s in range(len(STEPS)) for c in per_case if s < len(c)]
    for i in range(0, len(events), 500):
        failures = handler.handle_batch(events[i:i + 500])
        if failures:
            raise RuntimeError(f"template events failed: {failures[:3]}")
    with engine.begin() as connection:
        connection.execute(outbox.update().values(sent_at=datetime.now(UTC)))


def _copy(connection: sa.Connection, table: sa.Table, changed: dict[str, str], *,
          where: str = "", params: dict[str, Any]) -> None:
    """INSERT INTO table SELECT … FROM table t, generate_series(:first, :last) g over the
    template rows, with ``changed`` columns computed (SQL expressions over t, g, :p, :t)."""
    names = [c.name for c in table.columns if not (c.primary_key and c.autoincrement is True
                                                   and c.name == "id")]
    select = ", ".join(changed.get(n, f't."{n}"') for n in names)
    columns = ", ".join(f'"{n}"' for n in names)
    connection.execute(sa.text(
        f'INSERT INTO {table.name} ({columns}) SELECT {select} FROM {table.name} t '  # noqa: S608
        f"CROSS JOIN generate_series(:first, :last) g WHERE t.receipt_number LIKE :like "
        f"AND t.receipt_number < :upper {where}"
        " ORDER BY g, t.receipt_number"), params)


NEW_RECEIPT = (f":p || '-' || lpad((g * :t + right(t.receipt_number, {WIDTH})::int)::text, "
               f"{WIDTH}, '0')")


def copy_template(engine: sa.Engine, prefix: str, template: int, total: int, *,
                  outbox_cases: int, progress: Callable[[int], None]) -> None:
    """Copies 1 … of the template until ``total`` cases exist (whole copies; the last may be
    cut short by ``right(receipt) < :rest``)."""
    copies = -(-total // template)
    step = max(1, 20_000 // template)
    for first in range(1, copies, step):
        last = min(copies - 1, first + step - 1)
        params = {"p": prefix, "t": template, "first": first, "last": last,
                  "like": f"{prefix}-%", "upper": receipt(prefix, template)}  # the template only
        cut = f"AND g * :t + right(t.receipt_number, {WIDTH})::int < {total}"
        with engine.begin() as connection:
            _copy(connection, cases, {"receipt_number": NEW_RECEIPT}, where=cut, params=params)
            for table in (case_history, processed_events):
                _copy(connection, table, {"receipt_number": NEW_RECEIPT,
                                          "event_id": "t.event_id || '.' || g"},
                      where=cut, params=params)
            # Every copy has its own applicant (as real cases do): redaction works per case.
            _copy(connection, applicants, {
                "receipt_number": NEW_RECEIPT, "nik": "left(t.nik, 7) || lpad(g::text, 9, '0')",
                "phone": "left(t.phone, 4) || lpad(g::text, 8, '0')",
                "email": "'warga' || g || '.' || t.email"}, where=cut, params=params)
            connection.execute(sa.text(
                "INSERT INTO transparency_queue (receipt_number, seq, leaf, created_at) "
                f"SELECT {NEW_RECEIPT}, t.seq, replace(t.leaf, t.receipt_number, {NEW_RECEIPT}), "
                "now() FROM transparency_leaves t CROSS JOIN generate_series(:first, :last) g "
                f"WHERE t.receipt_number LIKE :like AND t.receipt_number < :upper "
                f"AND g * :t + right(t.receipt_number, "
                f"{WIDTH})::int < {total} ORDER BY g, t.receipt_number, t.seq"), params)
            if (last + 1) * template > total - outbox_cases:
                _copy(connection, outbox, {"receipt_number": NEW_RECEIPT,
                                           "message_id": "t.message_id || '.' || g"},
                      where=cut, params=params)
        progress(min(total, (last + 1) * template) - first * template)


def seed(engine: sa.Engine, prefix: str, total: int, *, template: int = 1000,
         outbox_cases: int = 100_000, log: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Seed ``total`` cases named ``PREFIX-0000000`` … into a migrated, empty PostgreSQL
    database; returns timings."""
    say = log or (lambda message: sys.stderr.write(message + "\n"))
    if engine.dialect.name != "postgresql":
        raise SystemExit("bench.seed_cases seeds PostgreSQL only")
    template = min(template, total)
    started = time.monotonic()
    write_template(engine, prefix, template)
    sequencer = Sequencer(engine, Signer(Ed25519PrivateKey.generate()), clock=SystemClock(),
                          max_batches=10**6)
    sequencer.run(0)
    templated = time.monotonic()
    done = template

    def progress(count: int) -> None:
        nonlocal done
        done += count
        say(f"seeded {done} cases ({time.monotonic() - started:.0f} s)")

    copy_template(engine, prefix, template, total, outbox_cases=outbox_cases, progress=progress)
    copied = time.monotonic()
    say("sequencing the copies' log entries …")
    sequencer.run(0)
    sequenced = time.monotonic()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(sa.text("VACUUM ANALYZE"))
    return {"cases": total, "template_cases": template,
            "template_seconds": round(templated - started, 1),
            "copy_seconds": round(copied - templated, 1),
            "sequencer_seconds": round(sequenced - copied, 1),
            "seed_seconds": round(time.monotonic() - started, 1)}


def schema_url(url: str, schema: str) -> str:
    return url + ("&" if "?" in url else "?") + f"options=-csearch_path%3D{schema}"


def create_schema(url: str, schema: str) -> sa.Engine:
    admin = create_engine(url)
    with admin.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    admin.dispose()
    engine = create_engine(schema_url(url, schema))
    migrate(engine)
    return engine


def drop_schema(url: str, schema: str) -> None:
    admin = create_engine(url)
    with admin.begin() as connection:
        connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


def main() -> int:
    import os

    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--template", type=int, default=1000)
    parser.add_argument("--database-url", default=os.environ.get("PANTAU_TEST_DATABASE_URL", ""))
    parser.add_argument("--schema", default="bench_seeded")
    parser.add_argument("--prefix", default="SEED")
    args = parser.parse_args()
    engine = create_schema(args.database_url, args.schema)
    result = seed(engine, args.prefix, args.cases, template=args.template)
    engine.dispose()
    print(json.dumps({"benchmark": "seed_cases", "schema": args.schema, **result}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
