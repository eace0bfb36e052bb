"""``pantau-client backfill FILE`` — import a department's history fast, resumably, in order.

Input: **JSON Lines**, UTF-8, one complete structured-mode CloudEvent per line (exactly what
``POST /v1/events`` takes, with the department's ``source`` and its own ``id``); blank lines
are skipped. Events of one case must appear in the order they happened. E.g.::

    {"specversion": "1.0", "id": "7c0e…", "source": "/kota-bandung/dpmptsp",
     "type": "case.submitted", "time": "2025-01-06T09:12:00+07:00", "sequence": 1,
     "data": {"receipt_number": "BDG-PBG-2025-000001", "service_code": "pbg"}}

How it runs: the file is read once, each line checked (JSON; the event contract too with
``local_check``, always for AMQP — over HTTP intake checks every event anyway and answers each
refusal with its reason, so checking here as well would do the same work twice) and assigned
to one of ``lanes`` by its case (``data.receipt_number``, else ``subject``, else ``id``). Each
lane sends its batches one after another (HTTP batches of up to ``batch_size``
events / ``batch_bytes``, or AMQP publishes with confirms), so the events of one case keep their
order while the lanes run concurrently; at most ``window`` batches wait per lane (memory stays
bounded for any file size).

Resuming: ``FILE.checkpoint`` records the byte offset and line number of the end of the longest
*contiguous* run of lines from the start that are done — accepted (HTTP 202, or the broker's
confirm) or refused — written atomically (temp file, fsync, rename). Killed at any moment, the
next run starts from there. Lines after it that had already been accepted are sent again, which
is harmless: intake is idempotent on (source, id) and tracking drops a duplicate — nothing is
recorded twice, and the order of each case holds (a case's accepted events are always a prefix
of its events in the file). A finished file's checkpoint sits at its end: running again sends
nothing.

Refusals never stop the run: a line that is not JSON or breaks the contract (here, or in
intake's per-event answer to a batch) is written with its line number and the reason to
``FILE.refused`` (JSON Lines, fsynced before the checkpoint passes it; after a resume a refusal
may appear twice) and reported on stderr; the rest of its batch is sent again. Intake's 429
(its rate limit: ``Retry-After``), 503 and lost connections are retried until they pass — an
event is never dropped. Only a failure that no retry can fix (a wrong key: 401/403 without
per-event results; the broker refusing the department's user) stops the run, leaving the
checkpoint for a rerun once fixed.
"""

from __future__ import annotations

import json
import os
import queue
import sys
import threading
import time
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from pantau_contracts import ContractViolation, validate_event


@dataclass(frozen=True)
class Line:
    """One event line of the file: its number (1-based), the byte offset just after it, its
    bytes (stripped) and the case it belongs to (its lane key)."""

    number: int
    end: int
    body: bytes
    case: str = ""
    record: dict[str, Any] | None = None  # the AMQP publish record, when checked locally


@dataclass(frozen=True)
class Refusal:
    line: Line
    reason: str
    errors: Sequence[Any] = ()


class Fatal(RuntimeError):
    """A failure no retry can fix: the backfill stops, its checkpoint stays."""


class Stopped(RuntimeError):
    """The backfill is stopping (another lane failed, or Ctrl-C): a transport gives up its
    retries; what it had not delivered stays after the checkpoint."""


class Transport(Protocol):
    def send(self, batch: list[Line]) -> list[Refusal]:
        """Deliver ``batch`` in order; return the lines that were refused (the rest are
        accepted). Retries until it can answer; raises ``Fatal`` when it never could."""

    def close(self) -> None: ...


@dataclass(frozen=True)
class Position:
    line: int = 0
    offset: int = 0


class Checkpoint:
    """``path`` holds ``{"line": n, "offset": bytes}``: everything before is done."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> Position:
        try:
            saved = json.loads(self.path.read_text())
        except FileNotFoundError:
            return Position()
        return Position(int(saved["line"]), int(saved["offset"]))

    def save(self, position: Position) -> None:
        tmp = self.path.with_name(self.path.name + ".tmp")
        with tmp.open("w") as handle:
            json.dump({"line": position.line, "offset": position.offset}, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.path)  # atomic: a reader sees the old or the new, never half


class RefusedLog:
    """``FILE.refused``: one JSON line per refused line (appended; fsynced by ``sync``)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle: Any = None
        self.count = 0

    def write(self, refusal: Refusal) -> None:
        if self._handle is None:
            self._handle = self.path.open("a", encoding="utf-8")
        entry = {"line": refusal.line.number, "reason": refusal.reason,
                 "errors": list(refusal.errors),
                 "event": refusal.line.body.decode("utf-8", "replace")}
        self._handle.write(json.dumps(entry, ensure_ascii=False) + "\n")
        self.count += 1

    def sync(self) -> None:
        if self._handle is not None:
            self._handle.flush()
            os.fsync(self._handle.fileno())

    def close(self) -> None:
        if self._handle is not None:
            self.sync()
            self._handle.close()
            self._handle = None


class Ledger:
    """Which lines are done, and the checkpoint: the end of the contiguous done prefix.

    Thread-safe (lanes report from their threads). The refusals file is synced before a
    checkpoint that passes its lines is saved.
    """

    def __init__(self, checkpoint: Checkpoint, start: Position, refused: RefusedLog,
                 progress: Callable[[int], None], *, save_every: float = 0.2,
                 report: Callable[[str], None] = lambda _message: None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.position = start
        self.accepted = 0
        self._checkpoint, self._refused, self._progress = checkpoint, refused, progress
        self._report = report
        self._done: dict[int, int] = {}
        self._save_every, self._clock = save_every, clock
        self._saved_at = clock()
        self._lock = threading.Lock()

    def accepted_lines(self, lines: Sequence[Line]) -> None:
        self._finish(lines, accepted=len(lines))

    def refused_lines(self, refusals: Sequence[Refusal]) -> None:
        with self._lock:
            for refusal in refusals:
                self._refused.write(refusal)
                self._report(f"line {refusal.line.number}: refused: {refusal.reason}")
        self._finish([r.line for r in refusals], accepted=0)

    def skipped(self, line: Line) -> None:
        """A blank line: done as soon as it is read."""
        self._finish([line], accepted=0)

    def save(self) -> None:
        with self._lock:
            self._save()

    def _finish(self, lines: Sequence[Line], accepted: int) -> None:
        with self._lock:
            self.accepted += accepted
            for line in lines:
                self._done[line.number] = line.end
            advanced = False
            while self.position.line + 1 in self._done:
                number = self.position.line + 1
                self.position = Position(number, self._done.pop(number))
                advanced = True
            self._progress(len(lines))
            if advanced and self._clock() - self._saved_at >= self._save_every:
                self._save()

    def _save(self) -> None:
        self._refused.sync()
        self._checkpoint.save(self.position)
        self._saved_at = self._clock()


def read_lines(path: Path, start: Position) -> Iterator[tuple[int, int, bytes]]:
    """(line number, offset after it, stripped bytes) of every line after ``start``."""
    with path.open("rb") as handle:
        handle.seek(start.offset)
        number, offset = start.line, start.offset
        for raw in handle:
            number += 1
            offset += len(raw)
            yield number, offset, raw.strip()


def count_lines(path: Path) -> int:
    """Lines in the file (the progress bar's total): newlines, plus a last unterminated one."""
    count, last = 0, b"\n"
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            count += chunk.count(b"\n")
            last = chunk[-1:]
    return count + (last != b"\n")


def check_line(number: int, end: int, body: bytes, *, local_check: bool,
               record_for: Callable[[bytes], dict[str, Any]] | None = None
               ) -> Line | Refusal:
    """The line ready to send, or its refusal (not JSON, or — when ``local_check`` — against
    the event contract). ``record_for`` builds the AMQP publish record (and validates)."""
    line = Line(number, end, body)
    try:
        if record_for is not None:
            record = record_for(body)
            return Line(number, end, body, _case(json.loads(body)), record)
        if local_check:
            event = validate_event(body, inbound=True)
            return Line(number, end, body, _case_of_payload(event.payload, event.subject,
                                                            event.id))
        raw = json.loads(body)
    except ContractViolation as exc:
        return Refusal(line, f"invalid-event: {exc}", [p.as_dict() for p in exc.problems])
    except (UnicodeDecodeError, ValueError) as exc:
        return Refusal(line, f"not JSON: {exc}")
    if not isinstance(raw, dict):
        return Refusal(line, "not a JSON object")
    return Line(number, end, body, _case(raw))


def _case(raw: dict[str, Any]) -> str:
    data = raw.get("data")
    receipt = data.get("receipt_number") if isinstance(data, dict) else None
    return str(receipt or raw.get("subject") or raw.get("id") or "")


def _case_of_payload(payload: Any, subject: str | None, event_id: str) -> str:
    return str(getattr(payload, "receipt_number", None) or subject or event_id)


def lane_of(case: str, lanes: int) -> int:
    """A stable lane per case (crc32: the same in every run and process)."""
    return zlib.crc32(case.encode("utf-8")) % lanes


@dataclass
class Options:
    batch_size: int = 500
    batch_bytes: int = 4 * 1024 * 1024
    lanes: int = 4
    window: int = 2
    local_check: bool = False


@dataclass
class Summary:
    accepted: int
    refused: int
    position: Position
    total_lines: int
    error: str = ""
    elapsed: float = 0.0
    throttled: int = 0
    """Answers 429 (intake's rate limit) waited for."""


class _Lane:
    """One lane: a thread sending its batches in order over its own transport."""

    def __init__(self, transport: Transport, ledger: Ledger, window: int,
                 stop: threading.Event, errors: list[str]) -> None:
        self.transport, self._transport, self._ledger = transport, transport, ledger
        self._queue: queue.Queue[list[Line] | None] = queue.Queue(maxsize=max(1, window))
        self._stop, self._errors = stop, errors
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def put(self, batch: list[Line] | None) -> None:
        while not self._stop.is_set():
            try:
                self._queue.put(batch, timeout=0.2)
                return
            except queue.Full:
                continue

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                try:
                    batch = self._queue.get(timeout=0.2)
                except queue.Empty:
                    continue
                if batch is None:
                    return
                refused = self._transport.send(batch)
                if refused:
                    self._ledger.refused_lines(refused)
                    numbers = {r.line.number for r in refused}
                    batch = [line for line in batch if line.number not in numbers]
                self._ledger.accepted_lines(batch)
        except Stopped:
            pass
        except Exception as exc:  # noqa: BLE001 - stop every lane, report it
            self._errors.append(f"{type(exc).__name__}: {exc}")
            self._stop.set()
        finally:
            self._transport.close()


def run(path: Path, transports: Callable[[threading.Event], Transport], options: Options, *,
        checkpoint: Path, refused: Path, quiet: bool = False,
        record_for: Callable[[bytes], dict[str, Any]] | None = None) -> Summary:
    """Backfill ``path`` from its checkpoint; ``transports(stop)`` makes one transport per
    lane (it gives up retrying, raising ``Stopped``, once ``stop`` is set)."""
    from tqdm import tqdm

    started = time.monotonic()
    marker = Checkpoint(checkpoint)
    start = marker.load()
    size = path.stat().st_size
    if start.offset > size:
        raise Fatal(f"{checkpoint} is past the end of {path}: the file changed (remove the "
                    "checkpoint to start over)")
    total = count_lines(path)
    log = RefusedLog(refused)
    stop, errors = threading.Event(), list[str]()
    with tqdm(total=total, initial=start.line, unit="event", desc=path.name, disable=quiet,
              smoothing=0.05, mininterval=0.5, dynamic_ncols=True) as bar:
        ledger = Ledger(marker, start, log, bar.update,
                        report=lambda message: tqdm.write(message, file=sys.stderr))
        lanes = [_Lane(transports(stop), ledger, options.window, stop, errors)
                 for _ in range(max(1, options.lanes))]
        try:
            _feed(path, start, lanes, ledger, options, stop, record_for)
        except BaseException:  # Ctrl-C: the lanes stop where they are
            stop.set()
            raise
        finally:
            for lane in lanes:
                lane.put(None)
            for lane in lanes:
                lane.thread.join()
            ledger.save()
            log.close()
    throttled = sum(int(getattr(lane.transport, "throttled", 0)) for lane in lanes)
    return Summary(ledger.accepted, log.count, ledger.position, total,
                   "; ".join(errors), time.monotonic() - started, throttled)


def _feed(path: Path, start: Position, lanes: list[_Lane], ledger: Ledger, options: Options,
          stop: threading.Event,
          record_for: Callable[[bytes], dict[str, Any]] | None) -> None:
    """Read, check and batch the lines into their lanes (the calling thread)."""
    pending: list[list[Line]] = [[] for _ in lanes]
    sizes = [0] * len(lanes)
    for number, end, body in read_lines(path, start):
        if stop.is_set():
            return
        if not body:
            ledger.skipped(Line(number, end, body))
            continue
        checked = check_line(number, end, body, local_check=options.local_check,
                             record_for=record_for)
        if isinstance(checked, Refusal):
            ledger.refused_lines([checked])
            continue
        index = lane_of(checked.case, len(lanes))
        if pending[index] and (len(pending[index]) >= options.batch_size
                               or sizes[index] + len(body) + 1 > options.batch_bytes):
            lanes[index].put(pending[index])
            pending[index], sizes[index] = [], 0
        pending[index].append(checked)
        sizes[index] += len(body) + 1
    for index, batch in enumerate(pending):
        if batch:
            lanes[index].put(batch)
