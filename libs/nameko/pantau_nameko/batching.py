# mypy: allow-untyped-calls
# (kombu has no type hints; everything else here is checked strictly)
"""``batch_consume``: a nameko entrypoint that hands the service method a LIST of ``Delivery``.

    class Service:
        @batch_consume("tracking.accepted", max_size=500, max_wait_ms=50, prefetch=1000,
                       config_prefix="TRACKING")
        def handle(self, deliveries: list[Delivery]) -> Mapping[int, Any] | None:
            ...  # commit, then return {index: reason} for the poison ones

Design: the entrypoint runs its OWN kombu connection and channel (not nameko's shared
``QueueConsumer``, whose prefetch is tied to ``max_workers``) with ``basic_qos(prefetch)`` large
enough for a batch. It collects up to ``max_size`` messages, or waits at most ``max_wait_ms``
after the first one, runs ONE worker for the batch and then settles it (``settlement``):

* returned ``{index: reason}`` / None → the poison messages are copied to ``pantau.dlx`` with
  the reason in ``x-pantau-reason`` and their origin (for replay), publisher-confirmed, and only
  then is the batch acked — after the method returned, i.e. after its commit;
* raised → after a back-off (0.5 s doubling up to 5 s while failures repeat) every message is
  requeued; a message on its last allowed delivery (``x-delivery-count`` ≥ the queue's
  ``x-delivery-limit``) is instead dead-lettered here with ``reason: handler-failed`` and the
  exception text, so the broker never drops it without a reason;
* container killed → nothing is acked; closing the connection returns every message;
* connection lost → unacked messages return to the queue; the entrypoint reconnects.
* dead-lettering refused/unreachable → nothing is acked; the batch is requeued after a back-off.

While a worker runs (or a back-off lasts), the consumer connection keeps sending heartbeats, so a
long batch does not get its connection dropped (and its messages redelivered) by the broker.

Graceful stop finishes the batch in flight (and the partial batch already buffered) before the
container stops the dependencies. One batch at a time per entrypoint: batches are applied in
queue order. The queue is never declared here (``no_declare``): the topology owns its arguments.

Config overrides (``config_prefix="X"``): ``X_QUEUE``, ``X_BATCH_SIZE``, ``X_BATCH_WAIT_MS``,
``X_PREFETCH``, ``X_DELIVERY_LIMIT`` (must match the queue's ``x-delivery-limit``; default 5).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any

import eventlet
from eventlet.event import Event
from kombu.connection import Connection
from kombu.entity import Queue
from kombu.message import Message
from kombu.messaging import Consumer
from nameko.constants import AMQP_URI_CONFIG_KEY
from nameko.exceptions import ContainerBeingKilled
from nameko.extensions import Entrypoint

from pantau_contracts.routing import (
    DEAD_LETTER_EXCHANGE,
    ORIGIN_EXCHANGE_HEADER,
    ORIGIN_ROUTING_KEY_HEADER,
    REASON_HEADER,
)
from pantau_nameko.delivery import Delivery, as_bytes
from pantau_nameko.settlement import (
    DEFAULT_DELIVERY_LIMIT,
    BatchOptions,
    Settlement,
    backoff,
    plan_failure,
    plan_success,
)
from pantau_platform.amqp import ConfirmingPublisher, Outgoing, PublishError

__all__ = ["BatchConsumer", "Delivery", "batch_consume", "to_delivery"]

log = logging.getLogger(__name__)
DEAD_LETTERED_BY_HEADER = "x-pantau-dead-lettered-by"
HEARTBEAT = 60  # seconds, negotiated with the broker
HEARTBEAT_TICK = 10.0  # how often a waiting consumer checks/sends heartbeats


def to_delivery(message: Message) -> Delivery:
    """The kombu message as the service method sees it (body undecoded)."""
    info = message.delivery_info or {}
    properties = message.properties or {}
    return Delivery(body=as_bytes(message.body), routing_key=str(info.get("routing_key") or ""),
                    exchange=str(info.get("exchange") or ""),
                    headers=dict(message.headers or {}),
                    message_id=properties.get("message_id"),
                    redelivered=bool(info.get("redelivered", False)),
                    user_id=properties.get("user_id"),
                    content_type=properties.get("content_type"))


def describe(exc_info: Any) -> str:
    """``ExcType: message`` of a worker's exception (the reason detail; logs are redacted)."""
    exc = exc_info[1] if exc_info else None
    return f"{type(exc).__name__}: {exc}" if exc is not None else "unknown error"


class BatchConsumer(Entrypoint):  # type: ignore[misc]
    def __init__(self, queue: str, *, max_size: int = 100, max_wait_ms: float = 200,
                 prefetch: int = 200, config_prefix: str | None = None,
                 delivery_limit: int = DEFAULT_DELIVERY_LIMIT, **kwargs: Any) -> None:
        self.config_prefix = config_prefix
        # decorator defaults; setup() applies the container config's overrides
        self.options = BatchOptions(queue, max_size, max_wait_ms / 1000.0,
                                    max(prefetch, max_size), delivery_limit)
        self._defaults = self.options
        self._stopping = False
        self._failures = 0  # consecutive failed batches (back-off)
        self._gt: Any = None
        super().__init__(**kwargs)

    # -- lifecycle -------------------------------------------------------------------------------

    def setup(self) -> None:
        config = self.container.config
        d = self._defaults
        self.options = BatchOptions.from_config(
            config, self.config_prefix, queue=d.queue, max_size=d.max_size,
            max_wait_ms=d.max_wait * 1000, prefetch=d.prefetch, delivery_limit=d.delivery_limit)
        self.amqp_uri = config[AMQP_URI_CONFIG_KEY]
        self.dead_letters = ConfirmingPublisher(self.amqp_uri, pool_size=1)

    def start(self) -> None:
        self._stopping = False
        self._gt = self.container.spawn_managed_thread(
            self._run, identifier=f"batch_consume:{self.options.queue}")

    def stop(self) -> None:
        """Graceful: let the loop hand over what it holds and settle it, then return."""
        self._stopping = True
        if self._gt is not None:
            self._gt.wait()
        self.dead_letters.close()

    def kill(self) -> None:
        """No acks after a kill: the connection closes and the broker requeues everything."""
        self._stopping = True
        if self._gt is not None:
            self._gt.kill()

    # -- consuming -------------------------------------------------------------------------------

    def _run(self) -> None:
        pause = 0.5
        while not self._stopping:
            try:
                self._consume()
                pause = 0.5
            except Exception:  # noqa: BLE001 - reconnect; unacked messages return to the queue
                log.warning("batch consumer on %s lost its connection; reconnecting in %.1fs",
                            self.options.queue, pause, exc_info=True)
                eventlet.sleep(pause)
                pause = min(pause * 2, 5.0)

    def _consume(self) -> None:
        options = self.options
        buffer: list[Message] = []
        with Connection(self.amqp_uri, heartbeat=HEARTBEAT) as connection:
            connection.ensure_connection(max_retries=3)
            channel = connection.channel()
            channel.basic_qos(0, options.prefetch, False)
            consumer = Consumer(channel, queues=[Queue(options.queue, no_declare=True)],
                                on_message=buffer.append, no_ack=False, accept=None)
            with consumer:
                log.info("consuming %s in batches of up to %d (%.0f ms, prefetch %d)",
                         options.queue, options.max_size, options.max_wait * 1000,
                         options.prefetch)
                while not self._stopping:
                    self._fill(connection, buffer)
                    while buffer:  # on stop: the partial batch already held is handed over
                        batch = buffer[:options.max_size]
                        del buffer[:options.max_size]
                        self._dispatch(batch, connection)

    def _fill(self, connection: Connection, buffer: list[Message]) -> None:
        """Drain until the batch is full or ``max_wait`` passed since its first message."""
        options = self.options
        first: float | None = time.monotonic() if buffer else None
        while len(buffer) < options.max_size and not self._stopping:
            if first is None:
                timeout = 1.0  # idle: wake up now and then to notice stop() and heartbeats
            else:
                timeout = first + options.max_wait - time.monotonic()
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

    # -- one batch -------------------------------------------------------------------------------

    def _dispatch(self, batch: list[Message], connection: Connection | None = None) -> None:
        done: Event = Event()

        def handle_result(worker_ctx: Any, result: Any = None,
                          exc_info: Any = None) -> tuple[Any, Any]:
            done.send((result, exc_info))
            return result, exc_info

        deliveries = [to_delivery(message) for message in batch]
        try:
            self.container.spawn_worker(self, (deliveries,), {}, handle_result=handle_result)
        except ContainerBeingKilled:
            for message in batch:
                message.requeue()
            return
        result, exc_info = self._wait(done, connection)
        plan: Settlement | None = None
        error = ""
        if exc_info is None:
            try:
                plan = plan_success(len(batch), result)
            except (TypeError, ValueError) as exc:  # the method broke its contract
                error = f"{type(exc).__name__}: {exc}"
        else:
            error = describe(exc_info)
        if plan is None:
            self._failures += 1
            pause = backoff(self._failures)
            log.warning("batch of %d from %s failed (%s); requeueing after %.1fs", len(batch),
                        self.options.queue, error[:300], pause)
            self._pause(pause, connection)  # hold the messages: the back-off really applies
            plan = plan_failure([d.delivery_count for d in deliveries], error,
                                self.options.delivery_limit)
        else:
            self._failures = 0
        self._settle(batch, deliveries, plan)

    @staticmethod
    def _wait(done: Event, connection: Connection | None) -> Any:
        """Wait for the worker, keeping the idle consumer connection's heartbeats going (a long
        batch must not make the broker drop the connection and redeliver the batch)."""
        while True:
            outcome = done.wait(timeout=HEARTBEAT_TICK)
            if outcome is not None:
                return outcome
            if connection is not None:
                connection.heartbeat_check()

    @staticmethod
    def _pause(seconds: float, connection: Connection | None) -> None:
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            eventlet.sleep(min(left, HEARTBEAT_TICK))
            if connection is not None:
                connection.heartbeat_check()

    def _settle(self, batch: list[Message], deliveries: list[Delivery],
                plan: Settlement) -> None:
        if plan.dead_letter:
            # Confirmed by the broker before any ack below: a dead letter is never lost.
            try:
                self.dead_letters.publish_many([self._dead_letter(deliveries[index], reason)
                                                for index, reason in plan.dead_letter.items()])
            except PublishError as exc:
                # Nothing is acked: the whole batch comes back (consumers are idempotent).
                self._failures += 1
                pause = backoff(self._failures)
                log.warning("could not dead-letter %d message(s) from %s (%s); requeueing the "
                            "batch after %.1fs", len(plan.dead_letter), self.options.queue,
                            exc, pause)
                eventlet.sleep(pause)
                for message in batch:
                    message.requeue()
                return
            for index, reason in plan.dead_letter.items():
                log.warning("dead-lettered message %s from %s: %s", deliveries[index].message_id,
                            self.options.queue, json.dumps(reason, default=str)[:300])
        if not plan.requeue and len(plan.ack) == len(batch):
            # One cumulative ack: the batch is every unsettled delivery on this channel up to
            # its last one, in delivery order.
            last = batch[-1]
            last.channel.basic_ack(last.delivery_tag, multiple=True)
            return
        for index in plan.ack:
            batch[index].ack()
        for index in plan.requeue:
            batch[index].requeue()

    def _dead_letter(self, delivery: Delivery, reason: Any) -> Outgoing:
        headers = dict(delivery.headers)
        headers.update({
            REASON_HEADER: json.dumps(reason, default=str),
            ORIGIN_EXCHANGE_HEADER: delivery.exchange,
            ORIGIN_ROUTING_KEY_HEADER: delivery.routing_key,
            DEAD_LETTERED_BY_HEADER: str(self.container.service_name),
        })
        return Outgoing(exchange=DEAD_LETTER_EXCHANGE,
                        routing_key=delivery.routing_key or self.options.queue,
                        body=delivery.body, headers=headers, message_id=delivery.message_id)


def batch_consume(queue: str, *, max_size: int = 100, max_wait_ms: float = 200,
                  prefetch: int = 200, config_prefix: str | None = None,
                  delivery_limit: int = DEFAULT_DELIVERY_LIMIT) -> Callable[..., Any]:
    """Decorate ``def handle(self, deliveries: list[Delivery]) -> Mapping[int, reason] | None``.

    The method must commit its effects before returning; a returned index is dead-lettered with
    its (JSON-serialisable) reason; raising requeues the batch. See the module docstring.
    """
    return BatchConsumer.decorator(  # type: ignore[no-any-return]
        queue, max_size=max_size, max_wait_ms=max_wait_ms, prefetch=prefetch,
        config_prefix=config_prefix, delivery_limit=delivery_limit)
