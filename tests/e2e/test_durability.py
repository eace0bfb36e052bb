"""End to end: nothing accepted is lost — or applied twice — when processes crash mid-stream.

The whole system runs as real subprocesses (intake-http, intake-ingress, tracking, indexer,
portal) in a private RabbitMQ vhost, with the environment's database and unique Elasticsearch
aliases (like ``test_pipeline``, on other ports so both modules can run in one session). A
background thread sends ~150 cases' events through intake HTTP in batches while the test SIGKILLs
tracking and, at another moment, the indexer (crashes, not graceful stops) and restarts them on
the same state. Then every case must reach the portal API with its expected final status, its
revision equal to the number of its events and exactly one timeline entry per event; neither the
dead-letter queue nor the department's feedback queue (refusals) may hold anything for them.
Each process is frozen (SIGSTOP) until messages wait on its queue (its prefetch window full), then
killed, and the test asserts the broker redelivered some: a kill that hit an idle process would
prove nothing.

Some cases send their events in REVERSE order (highest ``sequence`` first), so tracking buffers
them (``pending_events``) across the crash and must apply them in order once the gap fills.
"""

from __future__ import annotations

import json
import random
import signal
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
import pika
import pytest
from cloudevents.core.v1.event import CloudEvent

from pantau_client.http_sender import HttpSender
from pantau_contracts import make_event, routing
from pantau_intake.adapters.dev_credentials import dev_department
from pantau_platform.topology import ManagementClient
from tests.conftest import MGMT_URL, consumer_count, wait_for
from tests.e2e.system import System, running_system
from tests.e2e.workload import PLANS

pytestmark = pytest.mark.e2e
INTAKE_PORT, PORTAL_PORT = 18101, 18100
INTAKE = f"http://127.0.0.1:{INTAKE_PORT}"
PORTAL = f"http://127.0.0.1:{PORTAL_PORT}"
SOURCE = "/kota-bandung/dpmptsp"
TRACKING, INDEXER = "pantau_tracking", "pantau_publishing.indexer"
# Small batches: many short transactions / bulk requests, so a kill lands among them. Intake's
# own rate limit (429 + Retry-After, honoured by HttpSender) spreads the sending over ~8 s, so
# events are still flowing when each process is killed.
# Small prefetch windows too, so that a frozen process's window fills while events flow and
# messages then wait on its queue (``crash_and_restart``).
PER_PROCESS_ENV = {TRACKING: {"PANTAU_TRACKING_BATCH_SIZE": "20",
                              "PANTAU_TRACKING_PREFETCH": "40"},
                   "pantau_intake.http": {"PANTAU_INTAKE_RATE_PER_SECOND": "60",
                                          "PANTAU_INTAKE_RATE_BURST": "60"},
                   INDEXER: {"PANTAU_BATCH_SIZE": "20", "PANTAU_BATCH_WAIT_MS": "50"}}
CASES, EVENTS_PER_BATCH = 150, 15


# -- the system ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def system(amqp_url: str, elasticsearch_url: str,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    with running_system(amqp_url, tmp_path_factory.mktemp("durability-state"), name="dur",
                        intake_port=INTAKE_PORT, portal_port=PORTAL_PORT,
                        per_process_env=PER_PROCESS_ENV) as running:
        yield running


# -- the workload ----------------------------------------------------------------------------



@dataclass(frozen=True)
class CaseScript:
    receipt: str
    events: list[CloudEvent]
    statuses: list[str]
    reversed_order: bool


def scripts(run: str) -> list[CaseScript]:
    result = []
    for n in range(CASES):
        receipt = f"BDG-PBG-DUR-{run}-{n:04d}"
        steps, statuses = PLANS[n % len(PLANS)]
        events = [make_event(type=kind, source=SOURCE, subject=receipt, sequence=seq,
                             data={"receipt_number": receipt, **data})
                  for seq, (kind, data) in enumerate(steps, start=1)]
        result.append(CaseScript(receipt, events, statuses, reversed_order=n % 5 == 0))
    return result


def stream(cases: list[CaseScript]) -> list[list[CloudEvent]]:
    """Batches in "waves": wave k holds every case's k-th event to send, so each case is in
    flight for the whole run. Every fifth case sends highest sequence first (a gap to buffer)."""
    waves: list[list[CloudEvent]] = []
    for case in cases:
        order = case.events[::-1] if case.reversed_order else case.events
        for k, event in enumerate(order):
            if len(waves) <= k:
                waves.append([])
            waves[k].append(event)
    rng = random.Random(7)
    flat = []
    for wave in waves:
        rng.shuffle(wave)
        flat.extend(wave)
    return [flat[i:i + EVENTS_PER_BATCH] for i in range(0, len(flat), EVENTS_PER_BATCH)]


class Sender(threading.Thread):
    """Sends the batches one after another; ``sent`` counts accepted batches."""

    def __init__(self, batches: list[list[CloudEvent]]) -> None:
        super().__init__(daemon=True)
        self.batches = batches
        self.sent = 0
        self.finished_at = 0.0
        self.error: BaseException | None = None
        creds = dev_department("kota-bandung/dpmptsp")
        self.sender = HttpSender(INTAKE, creds.key_id, creds.secret, attempts=10)

    def run(self) -> None:
        try:
            for batch in self.batches:
                answer = self.sender.send_batch(batch)
                assert answer["status"] == "accepted" and answer["count"] == len(batch), answer
                self.sent += 1
        except BaseException as exc:  # noqa: BLE001 - reported by the test thread
            self.error = exc
        finally:
            self.finished_at = time.monotonic()
            self.sender.close()


# -- observations ----------------------------------------------------------------------------

def consumers(system: System, queue: str) -> int:
    return consumer_count(system.env["PANTAU_AMQP_URL"], queue)


def peek(system: System, queue: str) -> list[dict[str, Any]]:
    """Every message on ``queue`` in the test's vhost (peeked: requeued afterwards; on a quorum
    queue each peek counts as a delivery, so peek sparingly)."""
    vhost = urlsplit(system.env["PANTAU_AMQP_URL"]).path.lstrip("/")
    parts = urlsplit(MGMT_URL)
    url = (f"{parts.scheme}://{parts.hostname}:{parts.port or 15672}/api/queues/"
           f"{quote(vhost, safe='')}/{quote(queue, safe='')}/get")
    response = httpx.post(url, auth=(parts.username or "guest", parts.password or "guest"),
                          json={"count": 10_000, "ackmode": "reject_requeue_true",
                                "encoding": "auto"}, timeout=30)
    response.raise_for_status()
    messages: list[dict[str, Any]] = response.json()
    return messages


def public_case(client: httpx.Client, receipt: str) -> dict[str, Any] | None:
    response = client.get(f"{PORTAL}/api/v1/cases/{receipt}")
    return response.json() if response.status_code == 200 else None


def converged(case: dict[str, Any] | None, script: CaseScript) -> bool:
    return (case is not None and case["revision"] == len(script.events)
            and case["status"] == script.statuses[-1])


def ready(system: System, queue: str) -> int:
    """Messages ready on the queue right now (a passive declare: exact, not a statistic)."""
    connection = pika.BlockingConnection(pika.URLParameters(system.env["PANTAU_AMQP_URL"]))
    try:
        return int(connection.channel().queue_declare(queue, passive=True).method.message_count)
    finally:
        connection.close()


def management(system: System) -> ManagementClient:
    return ManagementClient(MGMT_URL, urlsplit(system.env["PANTAU_AMQP_URL"]).path.lstrip("/"))


def crash_and_restart(system: System, module: str, queue: str) -> dict[str, int]:
    """SIGKILL ``module`` while messages are in its hands, wait until the broker has dropped its
    consumer, start it again on the same state and wait until it consumes again.

    A process keeping up with the stream holds nothing for long, so a kill at a random moment
    would often hit an idle process and prove nothing: the process is first frozen (SIGSTOP,
    wherever it is — mid-batch, mid-transaction) until messages stay *ready* on its queue. That
    is an exact count (a passive declare), and with the one consumer frozen it means the broker
    has already filled its prefetch window: the frozen process holds unacknowledged messages.
    (The management API's unacknowledged count is a statistic, seconds behind: a stale figure
    once let a kill hit an idle process.) Returns what was in flight at the kill and what was
    ready on the queue once the consumer was gone (its unacked messages are back)."""
    seen: dict[str, int] = {"ready": 0, "unacked": 0}
    streak = [0]

    def window_full() -> bool:
        seen["ready"] = ready(system, queue)
        streak[0] = streak[0] + 1 if seen["ready"] > 0 else 0
        return streak[0] >= 3  # still waiting after ~0.2 s: not a message on its way to it

    process = system.processes[module].proc
    process.send_signal(signal.SIGSTOP)
    try:
        wait_for(window_full, timeout=30, interval=0.1,
                 message=f"messages waiting on {queue} behind the frozen {module}")
    except AssertionError:
        process.send_signal(signal.SIGCONT)  # the test fails; the process may stop cleanly
        raise
    seen["unacked"] = int(management(system).queue_info(queue)
                          .get("messages_unacknowledged") or 0)  # for the report only
    t0 = time.monotonic()
    system.crash(module)  # SIGKILL ends a stopped process too
    wait_for(lambda: consumers(system, queue) == 0, timeout=30,
             message=f"the broker to notice {module} died")
    t1 = time.monotonic()
    left = ready(system, queue)
    system.start(module)
    wait_for(lambda: consumers(system, queue) > 0, timeout=60,
             message=f"{module} consuming {queue} again")
    print(f"{module}: in flight {seen}, consumer gone {t1 - t0:.1f}s, ready then {left}, back "
          f"{time.monotonic() - t1:.1f}s")
    return {**seen, "ready_after_kill": left}


# -- the test --------------------------------------------------------------------------------

def test_no_event_lost_or_doubled_when_tracking_and_indexer_crash(system: System) -> None:
    cases = scripts(uuid.uuid4().hex[:6].upper())
    batches = stream(cases)
    total_events = sum(len(c.events) for c in cases)
    started = time.monotonic()
    sender = Sender(batches)
    sender.start()
    client = httpx.Client(timeout=10)
    try:
        report = run_scenario(system, client, cases, batches, sender, started)
    except AssertionError as exc:
        pytest.fail(f"{exc}\n{system.logs()}")
    finally:
        client.close()
        sender.join(timeout=30)
    print(f"\ndurability: {json.dumps({'cases': CASES, 'events': total_events, **report})}")


def run_scenario(system: System, client: httpx.Client, cases: list[CaseScript],
                 batches: list[list[CloudEvent]], sender: Sender,
                 started: float) -> dict[str, Any]:
    by_receipt = {c.receipt: c for c in cases}
    # Tracking dies once a third of the batches are accepted and it has applied some of them.
    wait_for(lambda: sender.error or (
        sender.sent >= len(batches) // 3
        and public_case(client, cases[1].receipt) is not None),
        timeout=60, message="a third of the events sent and the first cases public")
    killed_tracking_at = sender.sent, round(time.monotonic() - started, 1)
    at_tracking_kill = crash_and_restart(system, TRACKING, routing.TRACKING_QUEUE)
    tracking_back = round(time.monotonic() - started, 1)
    # The indexer dies later, while tracking works off its backlog and events still arrive.
    wait_for(lambda: sender.error or sender.sent >= 2 * len(batches) // 3, timeout=60,
             message="two thirds of the events sent")
    killed_indexer_at = sender.sent, round(time.monotonic() - started, 1)
    at_indexer_kill = crash_and_restart(system, INDEXER, routing.PUBLISHING_QUEUE)
    indexer_back = round(time.monotonic() - started, 1)
    wait_for(lambda: not sender.is_alive(), timeout=60, message="every batch sent")
    assert sender.error is None, f"sending failed: {sender.error!r}"
    sent_done = sender.finished_at - started

    waiting = set(by_receipt)

    def all_converged() -> bool:
        for receipt in sorted(waiting):
            if converged(public_case(client, receipt), by_receipt[receipt]):
                waiting.discard(receipt)
        return not waiting

    try:
        wait_for(all_converged, timeout=60, interval=0.2,
                 message="every case's final status and revision in the portal API")
    except AssertionError:
        stuck = {r: public_case(client, r) for r in sorted(waiting)[:3]}
        raise AssertionError(f"{len(waiting)} of {len(cases)} cases did not converge; e.g. "
                             f"{json.dumps(stuck, default=str)[:3000]}") from None
    converge_time = time.monotonic() - started

    # A full pass: nothing missing, no timeline entry twice, statuses right.
    problems = []
    for script in cases:
        case = public_case(client, script.receipt)
        assert case is not None, f"{script.receipt} missing from the portal"
        timeline = case["timeline"]
        seqs = [entry["seq"] for entry in timeline]
        statuses = [entry["status"] for entry in timeline]
        if (len(timeline) != len(script.events) or seqs != list(range(1, len(seqs) + 1))
                or statuses != script.statuses or case["revision"] != len(script.events)):
            problems.append(f"{script.receipt}: revision {case['revision']}, timeline "
                            f"{list(zip(seqs, statuses, strict=True))}, expected "
                            f"{script.statuses}")
    assert not problems, "\n".join(problems)

    def about_these_cases(queue: str) -> list[dict[str, Any]]:
        return [m for m in peek(system, queue)
                if any(r in json.dumps(m, default=str) for r in by_receipt)]

    dead = about_these_cases(routing.DEAD_LETTER_QUEUE)
    assert not dead, f"{len(dead)} dead letter(s) for these cases: {dead[:3]}"
    # A redelivered event applied again would be refused (duplicate-receipt, stage-order, ...)
    # and reported back to the department: there must be no such report either. A control
    # event tracking must refuse (a stage for a receipt never submitted, without sequence)
    # shows that such a report would be seen.
    feedback = "feedback.kota-bandung.dpmptsp"
    control = f"{cases[0].receipt}-X"
    creds = dev_department("kota-bandung/dpmptsp")
    HttpSender(INTAKE, creds.key_id, creds.secret).send(make_event(
        type="case.stage_started", source=SOURCE, subject=control,
        data={"receipt_number": control, "stage": "verifikasi-berkas"}))
    wait_for(lambda: any(control in json.dumps(m) for m in peek(system, feedback)), timeout=20,
             message="the control event's refusal on the feedback queue")
    refused = [m for m in about_these_cases(feedback) if control not in json.dumps(m)]
    assert not refused, f"{len(refused)} event(s) refused for these cases: {refused[:3]}"
    # The kills must have hit messages in flight, or the test proved nothing. Each process was
    # killed with its prefetch window full (``crash_and_restart``), and — the private vhost has
    # no other consumer and nothing else requeues — the broker must then have redelivered some
    # of them (statistics: wait for them to catch up).
    kills = {routing.TRACKING_QUEUE: at_tracking_kill, routing.PUBLISHING_QUEUE: at_indexer_kill}
    redelivered: dict[str, int] = {}

    def redeliveries() -> bool:
        for queue in kills:
            stats = management(system).queue_info(queue).get("message_stats", {})
            redelivered[queue] = int(stats.get("redeliver", 0))
        return all(redelivered.values())

    wait_for(redeliveries, timeout=20, interval=0.5,
             message=f"redeliveries after the kills on both queues (so far {redelivered}): a "
                     f"kill that hit no unacknowledged message tests nothing ({kills})")
    return {"batches": len(batches),
            "in_flight_at_kill": kills,
            "redelivered_per_management_stats": redelivered,
            "tracking_killed_after_batches_s": killed_tracking_at,
            "tracking_consuming_again_s": tracking_back,
            "indexer_killed_after_batches_s": killed_indexer_at,
            "indexer_consuming_again_s": indexer_back,
            "seconds_to_send": round(sent_done, 1),
            "seconds_to_converge": round(converge_time, 1)}
