"""``batch_consume``: a nameko entrypoint that hands the service method a LIST of message bodies.

It runs its own kombu consumer (not nameko's shared ``QueueConsumer``, whose prefetch is tied to
``max_workers``) with ``basic_qos(prefetch)`` large enough for batches. It collects up to
``max_size`` messages or waits at most ``max_wait`` seconds after the first one, runs ONE worker
for the batch, and then:

* the method returned ``{index: reason}`` for poison messages → each is copied to the dead-letter
  exchange with the reason in ``x-pantau-reason`` (plus origin exchange/routing key for replay),
  confirmed, then acked;
* every message is then acked (one cumulative ack) — only after the method returned, i.e. after
  the commit;
* the method raised → every message is requeued (the quorum queue's ``x-delivery-limit``
  dead-letters a message that keeps failing), after a short back-off.

The queue is never declared here (``no_declare``): the topology owns its arguments.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any

import eventlet
from eventlet.event import Event
from kombu import Connection, Consumer, Queue
from kombu.message import Message
from nameko.constants import AMQP_URI_CONFIG_KEY
from nameko.exceptions import ContainerBeingKilled
from nameko.extensions import Entrypoint

from pantau_contracts.routing import (
    DEAD_LETTER_EXCHANGE,
    ORIGIN_EXCHANGE_HEADER,
    ORIGIN_ROUTING_KEY_HEADER,
    REASON_HEADER,
)
from pantau_platform.amqp import ConfirmingPublisher, Outgoing

log = logging.getLogger(__name__)


class BatchConsumer(Entrypoint):
    def __init__(self, queue: str, *, max_size: int = 200, max_wait: float = 0.05,
                 prefetch: int = 600, config_prefix: str | None = None, **kwargs: Any) -> None:
        self.queue_name = queue
        self.max_size = max_size
        self.max_wait = max_wait
        self.prefetch = prefetch
        self.config_prefix = config_prefix
        self._stopping = False
        self._gt: Any = None
        super().__init__(**kwargs)

    def setup(self) -> None:
        config = self.container.config
        if self.config_prefix:
            self.max_size = int(config.get(f"{self.config_prefix}_BATCH_SIZE", self.max_size))
            self.max_wait = float(config.get(f"{self.config_prefix}_BATCH_WAIT_MS",
                                             self.max_wait * 1000)) / 1000
            self.prefetch = int(config.get(f"{self.config_prefix}_PREFETCH", self.prefetch))
        self.prefetch = max(self.prefetch, self.max_size)
        self.amqp_uri = config[AMQP_URI_CONFIG_KEY]
        self.dead_letters = ConfirmingPublisher(self.amqp_uri, pool_size=1)

    def start(self) -> None:
        self._stopping = False
        self._gt = self.container.spawn_managed_thread(self._run, identifier="batch_consume")

    def stop(self) -> None:
        self._stopping = True
        if self._gt is not None:
            self._gt.wait()
        self.dead_letters.close()

    def kill(self) -> None:
        self._stopping = True
        if self._gt is not None:
            self._gt.kill()

    # -- consuming -------------------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stopping:
            try:
                self._consume()
            except Exception:  # noqa: BLE001 - reconnect; unacked messages return to the queue
                log.warning("batch consumer on %s lost its connection; reconnecting",
                            self.queue_name, exc_info=True)
                eventlet.sleep(1.0)

    def _consume(self) -> None:
        buffer: list[Message] = []
        with Connection(self.amqp_uri, heartbeat=60) as connection:
            connection.ensure_connection(max_retries=3)
            channel = connection.channel()
            channel.basic_qos(0, self.prefetch, False)
            consumer = Consumer(channel, queues=[Queue(self.queue_name, no_declare=True)],
                                on_message=buffer.append, no_ack=False)
            with consumer:
                log.info("consuming %s in batches of up to %d (%.0f ms, prefetch %d)",
                         self.queue_name, self.max_size, self.max_wait * 1000, self.prefetch)
                while not self._stopping:
                    self._fill(connection, buffer)
                    if buffer:
                        batch = buffer[:]
                        buffer.clear()
                        self._dispatch(batch)

    def _fill(self, connection: Connection, buffer: list[Message]) -> None:
        first: float | None = time.monotonic() if buffer else None
        while len(buffer) < self.max_size and not self._stopping:
            if first is None:
                timeout = 1.0
            else:
                timeout = first + self.max_wait - time.monotonic()
                if timeout <= 0:
                    return
            try:
                connection.drain_events(timeout=timeout)
            except TimeoutError:
                connection.heartbeat_check()
                if buffer:
                    return
                continue
            if buffer and first is None:
                first = time.monotonic()

    def _dispatch(self, batch: list[Message]) -> None:
        done: Event = Event()

        def handle_result(worker_ctx: Any, result: Any = None,
                          exc_info: Any = None) -> tuple[Any, Any]:
            done.send((result, exc_info))
            return result, exc_info

        try:
            self.container.spawn_worker(self, ([m.body for m in batch],), {},
                                        handle_result=handle_result)
        except ContainerBeingKilled:
            for message in batch:
                message.requeue()
            return
        result, exc_info = done.wait()
        if exc_info is not None:
            for message in batch:
                message.requeue()
            eventlet.sleep(0.5)  # back off; the broker redelivers (delivery-limit applies)
            return
        poison: dict[int, Any] = dict(result or {})
        for index, reason in sorted(poison.items()):
            self._dead_letter(batch[index], reason)  # confirmed before the ack below
        # One cumulative ack: the batch is every delivery since the previous batch, in order.
        last = batch[-1]
        last.channel.basic_ack(last.delivery_tag, multiple=True)

    def _dead_letter(self, message: Message, reason: Any) -> None:
        info = message.delivery_info
        headers = dict(message.headers or {})
        headers.update({
            REASON_HEADER: json.dumps(reason, default=str),
            ORIGIN_EXCHANGE_HEADER: info.get("exchange", ""),
            ORIGIN_ROUTING_KEY_HEADER: info.get("routing_key", ""),
            "x-pantau-dead-lettered-by": "tracking",
        })
        self.dead_letters.publish(Outgoing(
            exchange=DEAD_LETTER_EXCHANGE, routing_key=str(info.get("routing_key") or "tracking"),
            body=message.body, headers=headers,
            message_id=message.properties.get("message_id"),
            content_type=message.content_type or "application/cloudevents+json"))
        log.warning("dead-lettered a message from %s: %s", self.queue_name,
                    json.dumps(reason, default=str)[:300])


def batch_consume(queue: str, **kwargs: Any) -> Callable[..., Any]:
    """Decorate a service method ``def handle(self, bodies: list[bytes]) -> dict[int, reason]``."""
    return BatchConsumer.decorator(queue, **kwargs)  # type: ignore[no-any-return]
