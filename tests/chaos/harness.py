"""One row of the chaos matrix: load, fault, recovery, convergence, checks.

For a fault held ``duration`` seconds:

1. preflight — every stack server running and every Pantau process alive and ready (anything
   found down is started again and noted as a problem of this row);
2. a fresh load (new receipts) starts; the fault is applied once events are flowing;
3. the fault is held for the duration, then lifted; the harness waits until the system is ready
   again and the department has got more events through, then stops the load (the AMQP spool
   is flushed until empty);
4. with no human step, every case must converge — in the index — to what the department handed
   over (revision and status), the timeline holding each seq once with the statuses sent; the
   run's ``pantau.dead-letter`` queue must not have grown; ``pantau_tools.reconcile`` must
   report the index equal to tracking's record; some cases are read back through the portal API.
"""

from __future__ import annotations

import json
import os
import platform
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.chaos import stack
from tests.chaos.faults import Fault
from tests.chaos.load import Case, Load
from tests.chaos.observe import Observer, diff_size, listed_receipts
from tests.conftest import wait_for
from tests.e2e.system import System

HTTP_RATE = float(os.environ.get("PANTAU_CHAOS_HTTP_RATE", "8"))  # events/s over HTTP
AMQP_RATE = float(os.environ.get("PANTAU_CHAOS_AMQP_RATE", "3"))  # events/s over AMQP
BURST = int(os.environ.get("PANTAU_CHAOS_BURST", "60"))  # events in the batch before the fault
READY_TIMEOUT = 180.0
HOLD = threading.Event()  # never set: HOLD.wait(d) keeps a fault on for d seconds


def durations() -> list[int]:
    raw = os.environ.get("PANTAU_CHAOS_DURATIONS", "10")
    return [int(float(part)) for part in raw.split(",") if part.strip()]


@dataclass
class ChaosRun:
    system: System
    observer: Observer
    database_url: str  # the run's PostgreSQL database (for the connection-refusal fault)
    run: str
    report_path: Path
    rows: list[dict[str, Any]] = field(default_factory=list)
    reconcile_before: dict[str, Any] | None = None
    reconcile_equal_before: bool = True
    started: float = field(default_factory=time.time)

    # -- the report ---------------------------------------------------------------------------
    def record(self, row: dict[str, Any]) -> None:
        self.rows.append(row)
        self.write_report()

    def write_report(self) -> None:
        self.report_path.parent.mkdir(parents=True, exist_ok=True)
        document = {"command": os.environ.get("PANTAU_CHAOS_COMMAND",
                                              "pytest tests/chaos -m chaos"),
                    "durations": durations(), "machine": machine(),
                    "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.started)),
                    "matrix": self.rows}
        text = json.dumps(document, indent=1) + "\n"
        for path in (self.report_path, self.report_path.with_name("matrix.json")):
            tmp = path.with_suffix(".tmp")
            tmp.write_text(text)
            tmp.replace(path)

    # -- keeping the system whole -------------------------------------------------------------
    def ensure_whole(self, problems: list[str]) -> None:
        """Every stack server running and every Pantau process alive; then ready."""
        for service in stack.SERVICES:
            if stack.status(service) is None:
                problems.append(f"{service} was not running; started it")
                stack.up(service)
        for module, process in list(self.system.processes.items()):
            code = process.proc.poll()
            if code is not None:
                problems.append(f"{module} had exited by itself (exit code {code}); started it")
                self.system.crash(module)
                self.system.start(module)
        wait_ready(self)

    def exited(self) -> list[str]:
        """Pantau processes that died by themselves (one the harness killed is not listed in
        ``system.processes`` until it is started again)."""
        return [f"{module} exited by itself (exit code {p.proc.poll()})"
                for module, p in self.system.processes.items() if p.proc.poll() is not None]


def machine() -> dict[str, Any]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    except (OSError, ValueError, IndexError):
        mem_kb = 0
    return {"cores": os.cpu_count(), "cpu": model, "memory_gb": round(mem_kb / 2**20, 1),
            "os": platform.platform()}


def wait_ready(run: ChaosRun, timeout: float = READY_TIMEOUT) -> None:
    last: list[list[str]] = [[]]

    def ready() -> bool:
        last[0] = run.observer.readiness()
        return not last[0]

    try:
        wait_for(ready, timeout=timeout, interval=0.25, message="the system ready again")
    except AssertionError as exc:
        raise AssertionError(f"{exc}: not ready: {last[0]}") from None


def while_sending(load: Load, condition: Callable[[], bool], timeout: float,
                  message: str) -> None:
    """Wait for ``condition``; fails at once if the department's load has failed."""
    wait_for(lambda: load.errors() or condition(), timeout=timeout, interval=0.02,
             message=message)
    if load.errors():
        raise AssertionError(f"the department's load failed: {'; '.join(load.errors())}")


# -- one row ------------------------------------------------------------------------------------

def run_fault(run: ChaosRun, fault: Fault, duration: int, index: int) -> dict[str, Any]:
    began = time.monotonic()
    problems: list[str] = []
    row: dict[str, Any] = {"fault": fault.name, "duration_s": duration, "events": 0,
                           "converge_s": None, "dead_letters": None, "ok": False}
    try:
        run.ensure_whole(problems)
    except AssertionError as exc:
        row["problems"] = [*problems, str(exc)[:1500]]
        return row
    observer = run.observer
    dead_before = observer.dead_letters()
    prefix = f"BDG-PBG-CX-{run.run}-{index:02d}D{duration}"
    load = Load(prefix=prefix, intake_url=observer.intake_url, amqp_url=run.system.amqp_url,
                spool=run.system.state / f"spool-{index:02d}-{duration}.jsonl",
                http_rate=HTTP_RATE, amqp_rate=AMQP_RATE,
                max_events=int((HTTP_RATE + AMQP_RATE) * (duration + 120)),
                max_seconds=duration + 600)
    lifting = None
    load.start()
    try:
        while_sending(load, lambda: load.http.stats.events >= 12
                      and load.amqp.stats.events >= 3, 60, "events flowing before the fault")
        # A department's upload lands just before the fault, so the fault hits the pipeline
        # with work in flight (backlog_at_fault: events accepted but not yet public).
        load.http.request_burst(BURST)
        while_sending(load, lambda: load.http.bursts_sent > 0, 60, "the burst accepted")
        row["backlog_at_fault"] = backlog(run, load.cases)
        before_fault = load.events
        fault.apply(run)
        applied = time.monotonic()
        HOLD.wait(duration)  # the fault is on for its duration (a timed hold, not a poll)
        during_fault = load.events - before_fault
        lifting = time.monotonic()
        fault.lift(run)
        wait_ready(run)
        row["recover_s"] = round(time.monotonic() - lifting, 1)
        at_ready = load.http.stats.events
        while_sending(load, lambda: load.http.stats.events >= at_ready + 8, 120,
                      "events accepted again after the fault")
        row["events_during_fault"] = during_fault
        row["held_s"] = round(lifting - applied, 1)
    except AssertionError as exc:
        problems.append(str(exc).splitlines()[0][:500])
    finally:
        fault.restore(run)
        load.stop()
    load.join(timeout=240)
    problems += load.errors() + load.unfinished()
    if load.unfinished():
        load.abandon()
    cases = {case.receipt: case for case in load.cases}
    row.update(events=load.events, events_http=load.http.stats.events,
               events_amqp=load.amqp.stats.events, spooled_max=load.amqp.spooled_max,
               http_retries=load.http.stats.retries, http_answers=load.http.stats.answers,
               cases=len(cases))
    row.update({k: v for k, v in fault.info.items() if k.endswith("_s") or k in
                ("held", "terminated", "refusal")})

    if lifting is not None:
        outcome, converged_at = converge(run, cases, dead_before, timeout=120 + 2 * duration)
        if converged_at is not None:
            row["converge_s"] = round(converged_at - lifting, 1)
        else:
            problems.append(outcome)
        problems += timeline_problems(run, cases)
    else:
        row["converge_s"] = None

    dead = observer.dead_letters() - dead_before
    row["dead_letters"] = dead
    if dead:
        sample = json.dumps(observer.dead_letter_sample())[:1500]
        problems.append(f"{dead} dead letter(s), e.g. {sample}")
    row["reconcile"] = reconcile(run, set(cases), problems)
    problems += run.exited()
    row["ok"] = not problems
    row["row_s"] = round(time.monotonic() - began, 1)
    row["problems"] = problems
    return row


def backlog(run: ChaosRun, cases: list[Case]) -> int:
    """Events handed over but not yet in the index."""
    docs = run.observer.documents(c.receipt for c in cases)
    return sum(c.sent - int((docs.get(c.receipt) or {}).get("revision") or 0) for c in cases)


def converge(run: ChaosRun, cases: dict[str, Case], dead_before: int, *,
             timeout: float) -> tuple[str, float | None]:
    """Wait until every case's index document shows what was sent. Gives up early when it can
    never happen: a Pantau process died, or dead letters appeared and nothing is left in the work
    queues while no case has converged for a while."""
    waiting = set(cases)
    last_progress = [time.monotonic()]
    verdict: list[str] = []

    def settled() -> bool:
        docs = run.observer.documents(sorted(waiting))
        before = len(waiting)
        for receipt, doc in docs.items():
            case = cases[receipt]
            if doc and doc.get("revision") == case.sent and doc.get("status") == \
                    case.expected_status:
                waiting.discard(receipt)
        now = time.monotonic()
        if len(waiting) < before:
            last_progress[0] = now
        if not waiting:
            return True
        exited = run.exited()
        if exited:
            verdict.append("; ".join(exited))
            return True
        if now - last_progress[0] > 20 and run.observer.dead_letters() > dead_before \
                and run.observer.work_in_queues() == 0:
            verdict.append("dead letters and nothing left to process")
            return True
        return False

    try:
        wait_for(settled, timeout=timeout, interval=0.5, message="every case to converge")
    except AssertionError as exc:
        verdict.append(str(exc).splitlines()[0])
    if not waiting:
        return "converged", time.monotonic()
    sample = {r: run.observer.documents([r])[r] for r in sorted(waiting)[:3]}
    expected = {r: (cases[r].sent, cases[r].expected_status) for r in sample}
    return (f"{len(waiting)} of {len(cases)} cases did not converge ({'; '.join(verdict)}); "
            f"e.g. expected {expected}, index {json.dumps(sample, default=str)[:1200]}"), None


def timeline_problems(run: ChaosRun, cases: dict[str, Case]) -> list[str]:
    """Each case's timeline holds seqs 1..n once, with the statuses sent; a sample of cases
    read through the portal API agrees with the index."""
    problems = []
    docs = run.observer.documents(sorted(cases))
    for receipt, case in sorted(cases.items()):
        doc = docs.get(receipt)
        if doc is None:
            continue  # reported as not converged
        timeline = doc.get("timeline") or []
        seqs = [entry.get("seq") for entry in timeline]
        statuses = [entry.get("status") for entry in timeline]
        if len(seqs) != len(set(seqs)):
            problems.append(f"{receipt}: a timeline entry twice: seqs {seqs}")
        elif doc.get("revision") == case.sent and (
                seqs != list(range(1, case.sent + 1)) or statuses != case.expected_statuses):
            problems.append(f"{receipt}: timeline {list(zip(seqs, statuses, strict=True))}, "
                            f"sent {case.expected_statuses}")
    for receipt in sorted(cases)[:: max(1, len(cases) // 10)]:
        public = run.observer.portal_case(receipt)
        doc = docs.get(receipt)
        if doc is not None and (public is None or public.get("revision") != doc.get("revision")
                                or len(public.get("timeline") or []) != len(doc["timeline"])):
            problems.append(f"{receipt}: the portal API disagrees with the index: "
                            f"{json.dumps(public)[:300]}")
    return problems[:20]


def reconcile(run: ChaosRun, receipts: set[str], problems: list[str]) -> str:
    """``pantau_tools.reconcile`` must report equal. When an earlier row already left the
    index unequal, this row only fails if the difference grew or names one of its receipts."""
    outcome: list[Any] = []

    def equal() -> bool:
        outcome[:] = run.observer.reconcile()
        return outcome[0] == 0 or outcome[1] is None  # no report: an error, not a lag

    try:
        wait_for(equal, timeout=30, interval=1.0, message="reconcile to report equal")
    except AssertionError:
        pass
    code, report, output = outcome
    if code == 0:
        run.reconcile_before, run.reconcile_equal_before = report, True
        return "equal"
    if report is None:
        problems.append(f"reconcile failed (exit {code}): {output[-800:]}")
        return "error"
    ours = listed_receipts(report) & receipts
    grew = (diff_size(report) or 0) > (diff_size(run.reconcile_before) or 0)
    carried = not run.reconcile_equal_before and not ours and not grew
    run.reconcile_before, run.reconcile_equal_before = report, False
    if carried:
        return "unequal (carried over from an earlier row)"
    problems.append(f"reconcile: index differs from tracking: {json.dumps(report)[:800]}")
    return "unequal"
