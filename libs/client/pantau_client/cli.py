"""``pantau-client`` (or ``python -m pantau_client``) — send a department's events to Pantau.

    pantau-client --department kota-bandung/dpmptsp \\
        send --type case.submitted --data '{"receipt_number": "BDG-PBG-2026-000123",
                                            "service_code": "pbg"}'
    pantau-client --department kota-bandung/dpmptsp import backlog.csv
    pantau-client --department kota-bandung/dpmptsp --via http backfill history.jsonl \\
        [--batch-size 500] [--lanes 4] [--window 2] [--checkpoint F] [--refused F]
    pantau-client --department kota-bandung/dpmptsp flush
    pantau-client --department kota-bandung/dpmptsp status EVENT_ID      (over HTTP)
    pantau-client --department kota-bandung/dpmptsp refusals [--after CURSOR] [--follow]

Transport ``--via amqp`` (default: pika, publisher confirms, store-and-forward spool) or
``--via http`` (requests signed with scheme v2 to intake's API). Credentials and addresses come
from the environment (``pantau_client.settings``: PANTAU_CLIENT_DEPARTMENT, _HTTP_URL, _KEY_ID,
_SECRET, _AMQP_URL, _SPOOL) or the flags; ``--dev`` takes them from the checked-in
config/dev-departments.yaml (DEVELOPMENT ONLY, ``PANTAU_CLIENT_DEV_FILE``).

``import`` reads JSON lines (a full CloudEvent per line, or {"type", "data", ...}) or CSV
(columns ``type``, optional ``id``, ``time``, ``subject``, ``sequence``, ``data`` as JSON and/or
``data.<field>`` columns). It is resumable: ``FILE.pos`` records how many rows are done. Rows
without an ``id`` get a deterministic one (UUIDv5 of the department and the row), so importing the
same file twice sends nothing new downstream.

``backfill`` imports a department's whole history fast: JSON Lines of complete CloudEvents, sent
in batches (HTTP) or with confirms (AMQP) over concurrent lanes that keep each case's order,
with a progress bar (rate, ETA), a ``FILE.checkpoint`` to resume after being killed and a
``FILE.refused`` for the lines refused. See ``pantau_client.backfill`` for the file format and
the guarantees. Ask Pantau's operator to raise the department's rate for the backfill window
(``credentials rate set``): the default (50 events/s) is for day-to-day traffic.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from pantau_client.identity import Department
from pantau_client.settings import ClientSettings
from pantau_contracts import ContractViolation


class Sender(Protocol):
    def __call__(self, event: dict[str, Any]) -> str: ...


def build_event(department: Department, row: dict[str, Any], row_key: str) -> dict[str, Any]:
    """A structured event from a minimal row; fills source, id (deterministic), time."""
    if "specversion" in row:
        return row
    event: dict[str, Any] = {
        "specversion": "1.0",
        "id": row.get("id") or str(uuid.uuid5(uuid.NAMESPACE_URL,
                                              f"pantau:{department.source}:{row_key}")),
        "source": department.source, "type": row["type"],
        "time": row.get("time") or datetime.now(UTC).isoformat(),
        "datacontenttype": "application/json", "data": row.get("data") or {}}
    for name in ("subject", "sequence"):
        if row.get(name) not in (None, ""):
            event[name] = int(row[name]) if name == "sequence" else row[name]
    return event


def read_rows(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """(row key, row) for every row of a .jsonl or .csv file."""
    if path.suffix.lower() == ".csv":
        with path.open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                data = json.loads(row.pop("data")) if row.get("data") else {}
                for column in [c for c in row if c and c.startswith("data.")]:
                    value = row.pop(column)
                    if value not in (None, ""):
                        data[column[5:]] = value
                clean = {k: v for k, v in row.items() if k and v not in (None, "")}
                clean["data"] = data
                yield json.dumps(clean, sort_keys=True), clean
    else:
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    yield line.strip(), json.loads(line)


def _count_rows(path: Path) -> int:
    return sum(1 for _ in read_rows(path))


def cmd_import(args: argparse.Namespace, department: Department, send: Sender) -> int:
    from tqdm import tqdm

    path = Path(args.file)
    position_file = Path(args.position_file or f"{path}.pos")
    done = int(position_file.read_text().strip() or 0) if position_file.exists() else 0
    total = _count_rows(path)
    outcomes: dict[str, int] = {}
    invalid = 0
    with tqdm(total=total, initial=done, unit="event", desc=path.name,
              disable=args.quiet) as bar:
        for index, (key, row) in enumerate(read_rows(path)):
            if index < done:
                continue
            try:
                outcome = send(build_event(department, row, key))
                outcomes[outcome] = outcomes.get(outcome, 0) + 1
            except (ContractViolation, KeyError, ValueError) as exc:
                invalid += 1
                tqdm.write(f"row {index + 1}: refused: {exc}", file=sys.stderr)
            position_file.write_text(str(index + 1))
            bar.update(1)
    summary = ", ".join(f"{n} {k}" for k, n in sorted(outcomes.items())) or "nothing new"
    print(f"{path}: {summary}; {invalid} invalid; position {position_file}")
    return 1 if invalid else 0


def _amqp_sender(args: argparse.Namespace, department: Department,
                 settings: ClientSettings) -> tuple[Sender, Any]:
    from pantau_client.department import DepartmentClient

    url = _amqp_url(args, department, settings)
    spool = Path(args.spool or settings.spool or
                 f"pantau-spool-{department.jurisdiction}-{department.department}.jsonl")
    client = DepartmentClient(url, department, spool)
    return client.send, client


def _amqp_url(args: argparse.Namespace, department: Department, settings: ClientSettings) -> str:
    url = settings.amqp_url
    if args.dev:
        from pantau_client.dev import dev_amqp_url, dev_credentials

        creds = dev_credentials(settings.dev_file, department)
        url = dev_amqp_url(settings.dev_amqp_url, department, creds.amqp_password)
    if not url:
        raise SystemExit("set PANTAU_CLIENT_AMQP_URL or use --dev")
    return url


def _new_http_sender(args: argparse.Namespace, department: Department,
                     settings: ClientSettings) -> Any:
    from pantau_client.http_sender import HttpSender

    key_id, secret = settings.key_id, settings.secret
    if args.dev:
        from pantau_client.dev import dev_credentials

        creds = dev_credentials(settings.dev_file, department)
        key_id, secret = creds.key_id, creds.secret
    if not (key_id and secret):
        raise SystemExit("set PANTAU_CLIENT_KEY_ID and PANTAU_CLIENT_SECRET or use --dev")
    return HttpSender(args.http_url or settings.http_url, key_id, secret)


def _http_sender(args: argparse.Namespace, department: Department,
                 settings: ClientSettings) -> tuple[Sender, Any]:
    from pantau_client.http_sender import Refused

    sender = _new_http_sender(args, department, settings)

    def send(event: dict[str, Any]) -> str:
        try:
            sender.send(event)
        except Refused as exc:
            raise ValueError(str(exc)) from exc
        return "sent"

    return send, sender


def _ask(args: argparse.Namespace, department: Department, settings: ClientSettings) -> int:
    """``status`` / ``refusals``: signed GETs to intake (always over HTTP)."""
    from pantau_client.http_sender import Refused

    _send, sender = _http_sender(args, department, settings)
    try:
        if args.command == "status":
            answer = sender.event_status(args.event_id)
            if answer is None:
                print(f"unknown: no event {args.event_id!r} of {department} is known",
                      file=sys.stderr)
                return 1
            print(json.dumps(answer, ensure_ascii=False))
            return 0
        if not args.follow:
            page = sender.refusals(args.after)
            for refusal in page["refusals"]:
                print(json.dumps(refusal, ensure_ascii=False))
            print(f"next: {page['next']}", file=sys.stderr)
            return 0
        for _cursor, refusal in sender.follow_refusals(args.after, interval=args.interval):
            print(json.dumps(refusal, ensure_ascii=False), flush=True)
        return 0
    except Refused as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        sender.close()


def cmd_backfill(args: argparse.Namespace, department: Department,
                 settings: ClientSettings) -> int:
    """Run ``pantau_client.backfill`` with this department's transport; 0 when every line was
    accepted, 1 when some were refused (``FILE.refused``), 2 when it stopped on a failure."""
    import os
    import threading

    from pantau_client import backfill
    from pantau_client.backfill_transports import AmqpTransport, HttpTransport

    path = Path(args.file)
    record_for = None
    if args.via == "http":
        def transport(stop: threading.Event) -> backfill.Transport:
            return HttpTransport(_new_http_sender(args, department, settings), stop)
    else:
        from pantau_client.department import DepartmentClient

        url = _amqp_url(args, department, settings)
        record_for = DepartmentClient(url, department, os.devnull).record_for  # no I/O

        def transport(stop: threading.Event) -> backfill.Transport:
            # os.devnull: the backfill never spools, its checkpoint remembers what is left
            return AmqpTransport(DepartmentClient(url, department, os.devnull), stop)
    options = backfill.Options(batch_size=args.batch_size, batch_bytes=args.batch_bytes,
                               lanes=args.lanes, window=args.window,
                               local_check=args.local_check)
    refused = Path(args.refused or f"{path}.refused")
    try:
        summary = backfill.run(
            path, transport, options, quiet=args.quiet, record_for=record_for,
            checkpoint=Path(args.checkpoint or f"{path}.checkpoint"), refused=refused)
    except backfill.Fatal as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    rate = summary.accepted / summary.elapsed if summary.elapsed else 0.0
    print(f"{path}: {summary.accepted} accepted, {summary.refused} refused"
          f"{f' (see {refused})' if summary.refused else ''}; "
          f"line {summary.position.line} of {summary.total_lines} done; "
          f"{rate:.0f} events/s in {summary.elapsed:.1f} s; {summary.throttled} answer(s) 429 "
          "waited for")
    if summary.error:
        print(f"stopped: {summary.error} (run again to resume from the checkpoint)",
              file=sys.stderr)
        return 2
    return 1 if summary.refused else 0


def main(argv: list[str] | None = None) -> int:
    settings = ClientSettings.from_env()
    parser = argparse.ArgumentParser(prog="pantau-client", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--department", default=settings.department or None)
    parser.add_argument("--via", choices=("amqp", "http"), default="amqp")
    parser.add_argument("--dev", action="store_true", help="use the DEV-ONLY credentials")
    parser.add_argument("--spool")
    parser.add_argument("--http-url")
    parser.add_argument("--quiet", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True)
    send = sub.add_parser("send", help="send one event")
    send.add_argument("--type", required=True)
    send.add_argument("--data", required=True, help="the event's data as JSON")
    send.add_argument("--id")
    send.add_argument("--time")
    send.add_argument("--subject")
    send.add_argument("--sequence", type=int)
    imp = sub.add_parser("import", help="bulk import a .csv or .jsonl backlog (resumable)")
    imp.add_argument("file")
    imp.add_argument("--position-file")
    fill = sub.add_parser("backfill", help="import a department's history: JSON Lines of "
                                           "CloudEvents, fast, resumable (FILE.checkpoint)")
    fill.add_argument("file")
    fill.add_argument("--batch-size", type=int, default=500, help="events per HTTP batch "
                      "(intake takes up to 500)")
    fill.add_argument("--batch-bytes", type=int, default=4 * 1024 * 1024)
    fill.add_argument("--lanes", "--concurrency", dest="lanes", type=int, default=4,
                      help="batches sent concurrently (a case always stays in one lane)")
    fill.add_argument("--window", type=int, default=2, help="batches queued per lane")
    fill.add_argument("--checkpoint", help="default FILE.checkpoint")
    fill.add_argument("--refused", help="default FILE.refused")
    fill.add_argument("--local-check", action="store_true",
                      help="HTTP: check each event against the contract here too, before "
                           "sending (by default only JSON is checked here and intake's "
                           "per-event refusals land in FILE.refused); AMQP always checks")
    sub.add_parser("flush", help="deliver the spool (amqp)")
    status = sub.add_parser("status", help="an event's fate: accepted, applied or refused "
                                           "(HTTP)")
    status.add_argument("event_id")
    refusals = sub.add_parser("refusals", help="your refusals after a cursor, one JSON line "
                                               "each (HTTP)")
    refusals.add_argument("--after", type=int, default=0)
    refusals.add_argument("--follow", action="store_true", help="keep polling")
    refusals.add_argument("--interval", type=float, default=5.0)
    args = parser.parse_args(argv)
    if not args.department:
        parser.error("--department (or PANTAU_CLIENT_DEPARTMENT) is required")
    department = Department.parse(args.department)
    if args.command in ("status", "refusals"):
        return _ask(args, department, settings)
    if args.command == "backfill":
        return cmd_backfill(args, department, settings)
    factory = _http_sender if args.via == "http" else _amqp_sender
    sender, closeable = factory(args, department, settings)
    try:
        if args.command == "send":
            row = {"type": args.type, "data": json.loads(args.data), "id": args.id,
                   "time": args.time, "subject": args.subject, "sequence": args.sequence}
            event = build_event(department, row, str(uuid.uuid4()))
            try:
                outcome = sender(event)
            except (ContractViolation, ValueError) as exc:
                print(f"refused: {exc}", file=sys.stderr)
                return 1
            print(f"{outcome}: {event['id']}")
            return 0
        if args.command == "import":
            return cmd_import(args, department, sender)
        if args.via != "amqp":
            parser.error("flush is for --via amqp")
        delivered = closeable.flush()
        print(f"delivered {delivered} spooled event(s)")
        return 0
    finally:
        closeable.close()
