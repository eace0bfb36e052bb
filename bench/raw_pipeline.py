"""The raw baseline of the end-to-end benchmark: Pantau's four broker hops with plain pika and no
logic. Prints JSON.

    eval "$(bash infra/stack.sh env)" && .venv/bin/python -m bench.raw_pipeline [--events 200000]

A publisher sends N persistent messages into durable quorum queue 1; three relay processes each
consume queue k and republish to queue k+1 on the same channel in confirm mode; a sink consumes
queue 4. This is the shape of department → ingress → tracking → indexer (four queues, three
republishing hops, each hop its own OS process), with everything Pantau adds removed: no
validation, no database, no Elasticsearch. What it keeps is what a real design must also pay:
persistence, quorum queues, publisher confirms and consumer acks — *batched*: at most ``window``
messages are unconfirmed at once, and a relay acks its input with ``multiple=True`` up to the
last message whose republished copy the broker confirmed (one channel, so confirms arrive in
order). It is the ceiling to compare Pantau against (``ratio = pantau / raw``, ``bench.e2e``).

Queues live in their own vhost (``pantau_bench_raw``), made and deleted by the run.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import time
from collections import deque
from typing import Any
from urllib.parse import urlsplit

import pika
from pika.adapters.select_connection import SelectConnection
from pika.spec import Basic

from pantau_platform.topology import ManagementClient

HOPS = 4  # queues: ingress, accepted, cases, (indexer's) sink
BODY = b'{"specversion":"1.0","type":"case.stage_started","data":{"receipt_number":"X"}}' * 8


def queue(k: int) -> str:
    return f"bench.raw.{k}"


class Hop:
    """One asynchronous pika connection that consumes ``source`` (or nothing: the publisher) and
    publishes to ``target`` (or nothing: the sink), confirms and acks batched as described."""

    def __init__(self, url: str, source: str | None, target: str | None, total: int,
                 window: int, done: Any) -> None:
        self.url, self.source, self.target = url, source, target
        self.total, self.window, self.done = total, window, done
        self.channel: Any = None
        self.published = 0  # publish sequence numbers on this channel, from 1
        self.confirmed = 0
        self.seen = 0
        self.pending: deque[tuple[int, int]] = deque()  # (publish seq, source tag), relays
        self.connection = SelectConnection(pika.URLParameters(url),
                                           on_open_callback=self._opened)

    def run(self) -> None:
        self.connection.ioloop.start()

    def _opened(self, connection: Any) -> None:
        connection.channel(on_open_callback=self._channel)

    def _channel(self, channel: Any) -> None:
        self.channel = channel
        if self.target:
            channel.confirm_delivery(self._confirmed)
        if self.source:
            channel.basic_qos(prefetch_count=self.window,
                              callback=lambda _f: channel.basic_consume(self.source,
                                                                        self._message))
        else:
            self._publish_more()

    def _publish(self, body: bytes, tag: int | None) -> None:
        self.channel.basic_publish("", self.target, body, pika.BasicProperties(delivery_mode=2))
        self.published += 1
        if tag is not None:
            self.pending.append((self.published, tag))

    def _publish_more(self) -> None:  # the publisher: keep `window` unconfirmed
        while self.published < self.total and self.published - self.confirmed < self.window:
            self._publish(BODY, None)

    def _message(self, channel: Any, method: Any, _props: Any, body: bytes) -> None:
        self.seen += 1
        if self.target:
            self._publish(body, method.delivery_tag)
        elif self.seen % 200 == 0 or self.seen == self.total:  # the sink: ack in batches
            channel.basic_ack(method.delivery_tag, multiple=True)
        if not self.target and self.seen >= self.total:
            self._finish()

    def _confirmed(self, frame: Any) -> None:
        method = frame.method
        if not isinstance(method, Basic.Ack):
            raise RuntimeError(f"broker refused a message on {self.target}")
        upto = method.delivery_tag  # with multiple=True: everything up to it
        self.confirmed = max(self.confirmed, upto)
        if self.source:
            last = None
            while self.pending and self.pending[0][0] <= upto:
                last = self.pending.popleft()[1]
            if last is not None:
                self.channel.basic_ack(last, multiple=True)
        else:
            self._publish_more()
            if self.confirmed >= self.total:
                self._finish()

    def _finish(self) -> None:
        self.done.set()
        self.connection.ioloop.add_callback_threadsafe(self.connection.close)


def _run_hop(url: str, source: str | None, target: str | None, total: int, window: int,
             done: Any) -> None:
    hop = Hop(url, source, target, total, window, done)
    try:
        hop.run()
    except Exception:  # noqa: BLE001 - the parent sees the missing `done`
        return


def run(amqp_url: str, management_url: str, events: int, window: int = 500) -> dict[str, Any]:
    """Run the raw pipeline once; its figures."""
    vhost = "pantau_bench_raw"
    management = ManagementClient(management_url, vhost)
    management.delete_vhost()
    management.ensure_vhost(urlsplit(amqp_url).username or "pantau")
    url = f"{amqp_url.rsplit('/', 1)[0]}/{vhost}"
    with pika.BlockingConnection(pika.URLParameters(url)) as connection:
        channel = connection.channel()
        for k in range(1, HOPS + 1):
            channel.queue_declare(queue(k), durable=True, arguments={"x-queue-type": "quorum"})
    ctx = multiprocessing.get_context("spawn")
    flags = [ctx.Event() for _ in range(HOPS + 1)]
    roles = [(None, queue(1))] + [(queue(k), queue(k + 1)) for k in range(1, HOPS)]
    roles.append((queue(HOPS), None))
    processes = [ctx.Process(target=_run_hop, args=(url, src, dst, events, window, flag),
                             daemon=True) for (src, dst), flag in zip(roles, flags, strict=True)]
    for process in processes[1:]:  # consumers first, then the clock starts with the publisher
        process.start()
    time.sleep(1.0)  # a benchmark's warm-up: let the consumers attach (not a test)
    started = time.perf_counter()
    processes[0].start()
    finished = flags[-1].wait(timeout=max(120.0, events / 200))
    elapsed = time.perf_counter() - started
    for process in processes:
        process.terminate()
        process.join(5)
    management.delete_vhost()
    if not finished:
        raise RuntimeError(f"raw pipeline did not deliver {events} messages in time")
    return {"events": events, "seconds": round(elapsed, 2),
            "events_per_second": round(events / elapsed, 1), "hops": HOPS, "window": window}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--window", type=int, default=500)
    args = parser.parse_args()
    url = os.environ.get("PANTAU_AMQP_URL", "amqp://pantau:pantau@127.0.0.1:5672/pantau")
    management = os.environ.get("PANTAU_AMQP_MANAGEMENT_URL", "http://pantau:pantau@127.0.0.1:15672")
    print(json.dumps({"benchmark": "raw_pipeline", **run(url, management, args.events,
                                                          args.window)}))


if __name__ == "__main__":
    main()
