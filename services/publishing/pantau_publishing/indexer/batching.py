"""A nameko entrypoint that delivers messages in batches: up to N messages or T milliseconds.

Built on nameko's shared ``QueueConsumer`` (one AMQP connection per container) with three changes:

* prefetch is ``BATCH_PREFETCH`` (default 2×batch size) instead of ``max_workers``, so a full
  batch can actually be outstanding;
* messages are handed over undecoded (``on_message``): the body is CloudEvents JSON whatever its
  content type, and decoding is the contract layer's job;
* the worker gets a *list* of messages; when it returns, every message is acked; when it raises,
  every message is requeued (after a short pause so a down cluster is not hammered) — quorum
  queues count the redeliveries and dead-letter after ``x-delivery-limit``.

The queue is declared by the topology (quorum, DLX); this entrypoint never re-declares it.
"""

from __future__ import annotations

import logging
import time
from functools import partial
from typing import Any

import eventlet
from eventlet.event import Event
from kombu import Queue
from nameko.extensions import Entrypoint
from nameko.messaging import QueueConsumer

from pantau_publishing.service.ports import InboundMessage

log = logging.getLogger(__name__)


class BatchQueueConsumer(QueueConsumer):  # type: ignore[misc]
    @property
    def prefetch_count(self) -> int:
        return int(self.container.config.get("BATCH_PREFETCH", 200))

    def get_consumers(self, consumer_cls: Any, channel: Any) -> Any:
        for provider in self._providers:
            consumer = consumer_cls(queues=[provider.queue],
                                    on_message=partial(provider.handle_raw))
            consumer.qos(prefetch_count=self.prefetch_count)
            self._consumers[provider] = consumer
        return self._consumers.values()


class BatchConsumer(Entrypoint):  # type: ignore[misc]
    queue_consumer = BatchQueueConsumer()

    def __init__(self, queue: str, max_size: int = 100, max_wait_ms: int = 200,
                 retry_pause: float = 1.0, **kwargs: Any) -> None:
        self.queue = Queue(queue, no_declare=True)
        self.max_size = max_size
        self.max_wait = max_wait_ms / 1000.0
        self.retry_pause = retry_pause
        self._buffer: list[Any] = []
        self._first_at = 0.0
        self._wakeup = Event()
        self._stopping = False
        self._gt: Any = None
        super().__init__(**kwargs)

    def setup(self) -> None:
        config = self.container.config
        # BATCH_QUEUE lets tests (and a second deployment) consume a queue of their own.
        self.queue = Queue(config.get("BATCH_QUEUE", self.queue.name), no_declare=True)
        self.max_size = int(config.get("BATCH_SIZE", self.max_size))
        self.max_wait = int(config.get("BATCH_WAIT_MS", self.max_wait * 1000)) / 1000.0
        self.queue_consumer.register_provider(self)

    def start(self) -> None:
        self._gt = self.container.spawn_managed_thread(self._run, identifier="batch-timer")

    def stop(self) -> None:
        self._stopping = True
        self._flush()  # hand the last partial batch to a worker before the consumer stops
        self.queue_consumer.unregister_provider(self)
        if self._gt is not None:
            self._gt.kill()

    def handle_raw(self, message: Any) -> None:
        """Called in the consumer thread for every delivery: only buffers (cheap)."""
        if not self._buffer:
            self._first_at = time.monotonic()
        self._buffer.append(message)
        if len(self._buffer) >= self.max_size:
            self._flush()
        elif not self._wakeup.ready():
            self._wakeup.send(None)

    def _run(self) -> None:
        while not self._stopping:
            if not self._buffer:
                self._wakeup.wait()
                self._wakeup = Event()
                continue
            remaining = self._first_at + self.max_wait - time.monotonic()
            if remaining > 0:
                eventlet.sleep(remaining)
                continue
            self._flush()

    def _flush(self) -> None:
        if not self._buffer:
            return
        batch, self._buffer = self._buffer, []
        inbound = [InboundMessage(
            body=bytes(m.body) if not isinstance(m.body, str) else m.body.encode(),
            routing_key=m.delivery_info.get("routing_key", ""),
            exchange=m.delivery_info.get("exchange", ""),
            headers=dict(m.headers or {}),
            message_id=m.properties.get("message_id")) for m in batch]
        try:
            self.container.spawn_worker(self, (inbound,), {},
                                        handle_result=partial(self._settle, batch))
        except Exception:  # container being killed: give the messages back
            for message in batch:
                self.queue_consumer.requeue_message(message)

    def _settle(self, batch: list[Any], worker_ctx: Any, result: Any = None,
                exc_info: Any = None) -> tuple[Any, Any]:
        if exc_info is None:
            for message in batch:
                self.queue_consumer.ack_message(message)
        else:
            log.warning("batch of %d failed (%s); requeueing after %.1fs", len(batch),
                        exc_info[1], self.retry_pause)
            eventlet.sleep(self.retry_pause)
            for message in batch:
                self.queue_consumer.requeue_message(message)
        return result, exc_info


batch_consume = BatchConsumer.decorator
