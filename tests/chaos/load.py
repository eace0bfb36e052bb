"""The department during a fault: events sent continuously over HTTP and AMQP, as a real client.

* HTTP: signed batches (``pantau_contracts.signing``) to intake's ``/v1/events``; a 429 or
  503 answer, a connection error or a timeout is retried with capped, jittered back-off
  (``Retry-After`` honoured), the same batch signed anew each time, until it is accepted — like a
  department's client, which has no other place to put the events. Any other answer is a refusal
  and fails the run.
* AMQP: ``pantau_client.department.DepartmentClient`` with its spool — an event the broker
  does not confirm is spooled and delivered first once the broker answers again; at the end the
  spool is flushed until empty.

Each channel keeps a few cases in flight (one event per case per batch, in ``sequence`` order)
and opens new ones as cases finish, so cases straddle the fault. A case's expected public state is
what the department handed over: ``sent`` events (accepted by intake over HTTP, or confirmed or
spooled over AMQP). The load is bounded in events and in time; everything stays on loopback.
"""

from __future__ import annotations

import queue
import random
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from cloudevents.core.v1.event import CloudEvent

from pantau_client.department import DepartmentClient
from pantau_contracts import event_to_json, make_event
from pantau_contracts.signing import sign
from pantau_intake.adapters.dev_credentials import dev_department
from pantau_intake.domain.departments import DepartmentRef
from tests.e2e.workload import PLANS

DEPARTMENT = "kota-bandung/dpmptsp"
SOURCE = "/kota-bandung/dpmptsp"
BATCH = "application/cloudevents-batch+json"



@dataclass
class Case:
    receipt: str
    channel: str  # "http" | "amqp"
    events: list[CloudEvent]
    statuses: list[str]
    sent: int = 0  # events handed over, in order

    @property
    def expected_status(self) -> str:
        return self.statuses[self.sent - 1]

    @property
    def expected_statuses(self) -> list[str]:
        return self.statuses[:self.sent]


class Feed:
    """Cases of one channel: hands out the next event of up to ``k`` different open cases."""

    def __init__(self, prefix: str, channel: str, in_flight: int, seed: int) -> None:
        self.prefix = prefix
        self.channel = channel
        self.in_flight = in_flight
        self.cases: list[Case] = []
        self._open: list[Case] = []
        self._handed: dict[str, int] = {}
        self._rng = random.Random(seed)

    def _new_case(self) -> Case:
        n = len(self.cases)
        receipt = f"{self.prefix}-{self.channel[0].upper()}{n:04d}"
        steps, statuses = PLANS[self._rng.randrange(len(PLANS))]
        events = [make_event(type=kind, source=SOURCE, subject=receipt, sequence=seq,
                             data={"receipt_number": receipt, **data})
                  for seq, (kind, data) in enumerate(steps, start=1)]
        case = Case(receipt, self.channel, events, statuses)
        self.cases.append(case)
        self._open.append(case)
        self._handed[receipt] = 0
        return case

    def take(self, k: int) -> list[tuple[Case, CloudEvent]]:
        """The next event of ``k`` open cases (new cases opened as needed), in sequence order
        per case. Call again only once these are handed over (``Case.sent`` advanced)."""
        while len(self._open) < max(self.in_flight, k):
            self._new_case()
        chosen = self._rng.sample(self._open, min(k, len(self._open)))
        items = []
        for case in chosen:
            index = self._handed[case.receipt]
            items.append((case, case.events[index]))
            self._handed[case.receipt] = index + 1
            if index + 1 == len(case.events):
                self._open.remove(case)
        return items


@dataclass
class ChannelStats:
    events: int = 0
    requests: int = 0
    retries: int = 0
    answers: dict[str, int] = field(default_factory=dict)
    longest_wait_s: float = 0.0  # longest time one batch/event waited to be handed over
    error: str | None = None


class _Channel(threading.Thread):
    def __init__(self, name: str, feed: Feed, rate: float, per_send: int, max_events: int,
                 deadline: float, halt: threading.Event) -> None:
        super().__init__(daemon=True, name=name)
        self.feed = feed
        self.interval = per_send / rate
        self.per_send = per_send
        self.max_events = max_events
        self.deadline = deadline  # monotonic: give up retrying after this (load failure)
        self.halt = halt  # set by the harness to abandon everything (teardown)
        self.stopping = threading.Event()  # no new events after this
        self.bursts: queue.SimpleQueue[int] = queue.SimpleQueue()  # see ``request_burst``
        self.bursts_sent = 0
        self.stats = ChannelStats()
        self._lock = threading.Lock()

    def request_burst(self, size: int) -> None:
        """The next send carries ``size`` events (one per case) — a department's upload."""
        self.bursts.put(size)

    def _note(self, answer: str) -> None:
        self.stats.answers[answer] = self.stats.answers.get(answer, 0) + 1

    def _handed_over(self, items: list[tuple[Case, CloudEvent]]) -> None:
        with self._lock:
            for case, _event in items:
                case.sent += 1
            self.stats.events += len(items)

    def run(self) -> None:
        try:
            next_at = time.monotonic()
            while not self.stopping.is_set() and not self.halt.is_set() \
                    and self.stats.events < self.max_events:
                try:
                    burst = self.bursts.get_nowait()
                except queue.Empty:
                    burst = 0
                items = self.feed.take(burst or self.per_send)
                began = time.monotonic()
                self.deliver(items)
                self.bursts_sent += 1 if burst else 0
                self.stats.longest_wait_s = max(self.stats.longest_wait_s,
                                                time.monotonic() - began)
                next_at = max(next_at + self.interval, time.monotonic())
                self.stopping.wait(max(0.0, next_at - time.monotonic()))
            self.finish()
        except BaseException as exc:  # noqa: BLE001 - reported by the harness
            self.stats.error = f"{type(exc).__name__}: {exc}"
        finally:
            self.close()

    def backoff(self, attempt: int, hint: float | None = None) -> None:
        if time.monotonic() > self.deadline:
            raise TimeoutError(f"{self.name}: still not handed over at the load's deadline")
        delay = hint if hint is not None else min(5.0, 0.25 * 2 ** min(attempt, 5))
        self.stats.retries += 1
        if self.halt.wait(random.uniform(delay / 2, delay)):
            raise InterruptedError("halted")

    def deliver(self, items: list[tuple[Case, CloudEvent]]) -> None:
        raise NotImplementedError

    def finish(self) -> None:
        pass

    def close(self) -> None:
        pass


class HttpChannel(_Channel):
    """Signed batches to intake over HTTP, retried on 429/503/connection errors."""

    def __init__(self, intake_url: str, **kwargs: Any) -> None:
        super().__init__("http-load", **kwargs)
        creds = dev_department(DEPARTMENT)
        self.key_id, self.secret = creds.key_id, creds.secret
        self.url = intake_url.rstrip("/") + "/v1/events"
        self.client = httpx.Client(timeout=httpx.Timeout(10.0, connect=3.0))

    def deliver(self, items: list[tuple[Case, CloudEvent]]) -> None:
        body = b"[" + b",".join(bytes(event_to_json(e)) for _c, e in items) + b"]"
        attempt = 0
        while True:
            attempt += 1
            self.stats.requests += 1
            headers = {**sign(self.secret, body, key_id=self.key_id), "Content-Type": BATCH}
            try:
                response = self.client.post(self.url, content=body, headers=headers)
            except httpx.TransportError as exc:
                self._note(type(exc).__name__)
                self.backoff(attempt)
                continue
            self._note(str(response.status_code))
            if response.status_code == 202:
                answer = response.json()
                if answer.get("count") != len(items):
                    raise AssertionError(f"intake accepted part of a batch: {answer}")
                self._handed_over(items)
                return
            if response.status_code in (429, 503):
                retry_after = response.headers.get("Retry-After", "")
                self.backoff(attempt, float(retry_after) if retry_after.isdigit() else None)
                continue
            raise AssertionError(f"intake refused a batch: {response.status_code} "
                                 f"{response.text[:500]}")

    def close(self) -> None:
        self.client.close()


class AmqpChannel(_Channel):
    """One event at a time through the department's AMQP client (spooled when the broker does
    not take it); the spool is flushed at the end."""

    def __init__(self, amqp_url: str, spool: Path, **kwargs: Any) -> None:
        super().__init__("amqp-load", **kwargs)
        creds = dev_department(DEPARTMENT)
        ref = DepartmentRef.parse(DEPARTMENT)
        user_url = amqp_url.replace("pantau:pantau@", f"{ref.amqp_user}:{creds.amqp_password}@")
        self.client = DepartmentClient(user_url, ref, spool, connect_timeout=3.0)
        self.spooled_max = 0

    def deliver(self, items: list[tuple[Case, CloudEvent]]) -> None:
        for case, event in items:
            self.stats.requests += 1
            answer = self.client.send(event)  # "sent" or "spooled": handed over either way
            self._note(answer)
            self._handed_over([(case, event)])
            if answer == "spooled":
                self.spooled_max = max(self.spooled_max, len(self.client.spool))

    def finish(self) -> None:
        attempt = 0
        while not self.client.flush_quietly():
            attempt += 1
            self.backoff(attempt)

    def spool_pending(self) -> int:
        return len(self.client.spool)

    def close(self) -> None:
        self.client.close()


class Load:
    """Both channels for one fault. ``start()``, then ``stop()`` and ``join()``."""

    def __init__(self, *, prefix: str, intake_url: str, amqp_url: str, spool: Path,
                 http_rate: float, amqp_rate: float, max_events: int, max_seconds: float,
                 seed: int = 10) -> None:
        self.halt = threading.Event()
        deadline = time.monotonic() + max_seconds
        common = {"deadline": deadline, "halt": self.halt}
        self.http = HttpChannel(intake_url, feed=Feed(prefix, "http", 12, seed), rate=http_rate,
                                per_send=4, max_events=max_events * 3 // 4, **common)
        self.amqp = AmqpChannel(amqp_url, spool, feed=Feed(prefix, "amqp", 6, seed + 1),
                                rate=amqp_rate, per_send=1, max_events=max_events // 4, **common)
        self.channels: list[_Channel] = [self.http, self.amqp]

    def start(self) -> None:
        for channel in self.channels:
            channel.start()

    def stop(self) -> None:
        for channel in self.channels:
            channel.stopping.set()

    def join(self, timeout: float) -> None:
        end = time.monotonic() + timeout
        for channel in self.channels:
            channel.join(max(0.1, end - time.monotonic()))

    def abandon(self) -> None:
        self.stop()
        self.halt.set()
        self.join(15)

    @property
    def events(self) -> int:
        return sum(c.stats.events for c in self.channels)

    @property
    def cases(self) -> list[Case]:
        return [case for c in self.channels for case in c.feed.cases if case.sent]

    def errors(self) -> list[str]:
        return [f"{c.name}: {c.stats.error}" for c in self.channels if c.stats.error]

    def unfinished(self) -> list[str]:
        return [f"{c.name}: still sending at the end" for c in self.channels if c.is_alive()]
