# mypy: allow-untyped-calls
# (kombu has no type hints; everything else here is checked strictly)
"""``batch_consume``: a nameko entrypoint that hands the service method a LIST of ``Delivery``.

    class Service:
        @batch_consume("tracking.accepted", max_size=500, max_wait_ms=50, prefetch=1000,
                       config_prefix="TRACKING")
        def handle(self, deliveries: list[Delivery]) -> Mapping[int, Any] | None:
            try:
                ...  # commit, then return {index: reason} for the poison ones
            except OperationalError as exc:  # the database is away: not the messages' fault
                raise DependencyUnavailable("database", str(exc), probe=store.ping) from exc

Design: the entrypoint runs its OWN kombu connection and channel (not nameko's shared
``QueueConsumer``, whose prefetch is tied to ``max_workers``) with ``basic_qos(prefetch)`` large
enough for a batch. It collects up to ``max_size`` messages, or waits at most ``max_wait_ms``
after the first one, runs ONE worker for the batch and then settles it (``settlement``).

Dead letters are for messages that are WRONG; a dependency that is briefly away never settles a
message. What the method does decides:

* returned ``{index: reason}`` / None / ``Failures`` → the poison messages are copied to
  ``pantau.dlx`` with the reason in ``x-pantau-reason``, their origin (for replay) and their
  content type, publisher-confirmed; then ``Failures.then`` runs (what may only follow a
  confirmed dead letter, e.g. telling the sender), and only then is the batch acked — after
  the method returned, i.e. after its commit;
* raised ``DependencyUnavailable(dependency, detail, probe)`` (``pantau_nameko.failures``) → the
  batch is HELD: no ack, no requeue, no nack, so a quorum queue's delivery count is not used up
  by an outage, however long. The process is marked degraded ("waiting for <dependency>",
  ``pantau_nameko.health``), the consumer backs off with full jitter (a uniform pause in
  [0, 0.5 s · 2^n], capped at 15 s), calls ``probe()`` after each pause until it answers True
  (an exception or a probe running over 10 s is a "no"; without a probe the batch is simply
  retried after each pause), then hands the SAME batch to the method again. It takes no new
  batch meanwhile (messages the broker already pushed wait in memory, in order). It logs when
  the outage starts, every ~30 s while it lasts and when the batch went through — never per
  attempt (nameko's per-worker traceback is filtered for this exception); health is marked
  recovered then;
* raised anything else (unknown) → the batch is retried in-process up to ``X_UNKNOWN_RETRIES``
  times (default 3, so at most 4 runs per delivery) with the same jittered back-off; then the
  failure path: after a back-off (0.5 s doubling up to 5 s while failures repeat) every message
  is requeued; a message on its last allowed delivery (``x-delivery-count`` ≥ the queue's
  ``x-delivery-limit``) is instead dead-lettered here with ``reason: handler-failed`` and the
  exception text, so the broker never drops it without a reason. An unknown failure is thus
  bounded: at most (``X_UNKNOWN_RETRIES`` + 1) × (``x-delivery-limit`` + 1) runs before it is
  dead-lettered. A method that breaks its return contract counts as unknown;
* container killed → nothing is acked; closing the connection returns every message;
* connection lost (also while holding, e.g. a broker restart or ``consumer_timeout``) → unacked
  messages return to the queue; the entrypoint reconnects;
* dead-lettering refused/unreachable → nothing is acked; the batch is requeued after a back-off.

While a worker runs, a back-off lasts or a batch is held, the consumer connection keeps reading
and sending heartbeats, so neither a long batch nor a long outage gets its connection dropped
(and its messages redelivered) by the broker.

Graceful stop finishes the batch in flight (and the partial batch already buffered) before the
container stops the dependencies — except a HELD batch: stopping while a dependency is away
settles nothing, and the broker returns the messages when the connection closes. One batch at a
time per entrypoint: batches are applied in queue order. The queue is never declared here
(``no_declare``): the topology owns its arguments.

Several queues (``extra_queues`` / ``X_EXTRA_QUEUES``, e.g. intake's one ingress queue per
department): one consumer per queue on the same channel, so ``prefetch`` applies to each queue
(RabbitMQ's per-consumer QoS). Deliveries enter the one buffer in the order they arrive, so each
queue's messages stay in that queue's order (a batch may mix queues; order ACROSS queues is not
defined — per-queue order is what a caller may rely on). An extra queue that does not exist is
logged and skipped (the topology was not applied for it yet; it is consumed after the next
reconnect or restart); the first queue missing is an error, as with one queue.

Config overrides (``config_prefix="X"``): ``X_QUEUE``, ``X_BATCH_SIZE``, ``X_BATCH_WAIT_MS``,
``X_PREFETCH``, ``X_DELIVERY_LIMIT`` (must match the queue's ``x-delivery-limit``; default 5),
``X_UNKNOWN_RETRIES`` (default 3; 0 = today's requeue at the first failure).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from contextlib import ExitStack, suppress
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import eventlet
from amqp.exceptions import NotFound
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
    DEAD_LETTERED_AT_HEADER,
    DEAD_LETTERED_BY_HEADER,
    ORIGIN_EXCHANGE_HEADER,
    ORIGIN_QUEUE_HEADER,
    ORIGIN_ROUTING_KEY_HEADER,
    ORIGIN_USER_HEADER,
    REASON_HEADER,
    dead_letter_headers,
)
from pantau_nameko import health
from pantau_nameko.delivery import Delivery, as_bytes
from pantau_nameko.failures import DependencyUnavailable, probe_answers
from pantau_nameko.settlement import (
    DEFAULT_DELIVERY_LIMIT,
    DEFAULT_UNKNOWN_RETRIES,
    HOLD,
    RETRY,
    BatchOptions,
    Failures,
    RetryPolicy,
    Settlement,
    backoff,
    classify,
    plan_failure,
    plan_success,
)
from pantau_platform import metrics
from pantau_platform.amqp import ConfirmingPublisher, Outgoing, PublishError

__all__ = ["DEAD_LETTERED_BY_HEADER", "BatchConsumer", "Delivery", "DependencyUnavailable",
           "Failures", "batch_consume", "to_delivery"]

log = logging.getLogger(__name__)
HEARTBEAT = 60  # seconds, negotiated with the broker
HEARTBEAT_TICK = 10.0  # how often a waiting consumer checks/sends heartbeats
PAUSE_TICK = 1.0  # a back-off or hold reads the connection in steps of this (and notices stop)
PROBE_TIMEOUT = 10.0  # a probe running longer is a "no" (green I/O only)
REMIND_EVERY = 30.0  # seconds between "still waiting" log lines during an outage
QUEUE_INFO = "pantau_queue"  # delivery_info key: the queue a message was consumed from


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
                    content_type=properties.get("content_type"),
                    queue=str(info.get(QUEUE_INFO) or ""))


def _receiver(queue: str, buffer: list[Message]) -> Callable[[Message], None]:
    """Appends a message to the one buffer (arrival order), noting the queue it came from."""

    def receive(message: Message) -> None:
        message.delivery_info[QUEUE_INFO] = queue
        buffer.append(message)

    return receive


def describe(exc_info: Any) -> str:
    """``ExcType: message`` of a worker's exception (the reason detail; logs are redacted)."""
    exc = exc_info[1] if exc_info else None
    return f"{type(exc).__name__}: {exc}" if exc is not None else "unknown error"


class _QuietHolds(logging.Filter):
    """Drops nameko's per-worker log line (with traceback) for ``DependencyUnavailable``: an
    outage is logged by the consumer once per state change and every ~30 s instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, DependencyUnavailable)


_QUIET_HOLDS = _QuietHolds()


def quiet_holds_in_nameko_log() -> None:
    """Install the filter on nameko's container logger (idempotent)."""
    logger = logging.getLogger("nameko.containers")
    if _QUIET_HOLDS not in logger.filters:
        logger.addFilter(_QUIET_HOLDS)


@dataclass
class Outage:
    """One held batch's outage: what it waits for, since when, how many pauses so far."""

    dependency: str
    detail: str
    size: int
    started: float = field(default_factory=time.monotonic)
    attempts: int = 0
    last_note: float = field(default_factory=time.monotonic)

    def due(self, now: float, every: float = REMIND_EVERY) -> bool:
        """True (and remembers it) when the last log line is at least ``every`` seconds old."""
        if now - self.last_note < every:
            return False
        self.last_note = now
        return True


class BatchConsumer(Entrypoint):  # type: ignore[misc]
    def __init__(self, queue: str, *, max_size: int = 100, max_wait_ms: float = 200,
                 prefetch: int = 200, config_prefix: str | None = None,
                 delivery_limit: int = DEFAULT_DELIVERY_LIMIT,
                 unknown_retries: int = DEFAULT_UNKNOWN_RETRIES,
                 extra_queues: tuple[str, ...] = (), **kwargs: Any) -> None:
        self.config_prefix = config_prefix
        # decorator defaults; setup() applies the container config's overrides
        self.options = BatchOptions(queue, max_size, max_wait_ms / 1000.0,
                                    max(prefetch, max_size), delivery_limit, unknown_retries,
                                    tuple(extra_queues))
        self._defaults = self.options
        self.policy = RetryPolicy(unknown_retries)
        self._stopping = False
        self._failures = 0  # consecutive failed batches (back-off)
        self._gt: Any = None
        # an outage is expected, not a bug in the worker (nameko logs it as a warning)
        kwargs.setdefault("expected_exceptions", (DependencyUnavailable,))
        super().__init__(**kwargs)

    @property
    def holder(self) -> str:
        """Who waits, in the health registry."""
        return f"batch_consume:{self.options.queue}"

    # -- lifecycle -------------------------------------------------------------------------------

    def setup(self) -> None:
        config = self.container.config
        d = self._defaults
        self.options = BatchOptions.from_config(
            config, self.config_prefix, queue=d.queue, max_size=d.max_size,
            max_wait_ms=d.max_wait * 1000, prefetch=d.prefetch, delivery_limit=d.delivery_limit,
            unknown_retries=d.unknown_retries, extra_queues=d.extra_queues)
        self.policy = RetryPolicy(self.options.unknown_retries)
        quiet_holds_in_nameko_log()
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
            names = self._existing(connection)
            channel = connection.channel()
            channel.basic_qos(0, options.prefetch, False)
            consumers = [Consumer(channel, queues=[Queue(name, no_declare=True)],
                                  on_message=_receiver(name, buffer), no_ack=False, accept=None)
                         for name in names]
            with ExitStack() as stack:
                for consumer in consumers:
                    stack.enter_context(consumer)
                log.info("consuming %s in batches of up to %d (%.0f ms, prefetch %d)",
                         ", ".join(names), options.max_size, options.max_wait * 1000,
                         options.prefetch)
                while not self._stopping:
                    self._fill(connection, buffer)
                    while buffer:  # on stop: the partial batch already held is handed over
                        batch = buffer[:options.max_size]
                        del buffer[:options.max_size]
                        if not self._dispatch(batch, connection):
                            # stopped while holding: settle nothing more; closing the
                            # connection returns every unacked message, in order
                            buffer.clear()
                            return

    def _existing(self, connection: Connection) -> list[str]:
        """The first queue, and the extra queues that exist (a passive declare each, on its own
        channel: a missing queue closes the channel it was asked on)."""
        first, *extra = self.options.queues
        names = [first]
        for name in extra:
            channel = connection.channel()
            try:
                channel.queue_declare(name, passive=True)
                names.append(name)
            except NotFound:
                log.error("queue %s does not exist (is the topology applied?); not consuming it",
                          name)
            finally:
                with suppress(Exception):  # already closed by the broker's 404
                    channel.close()
        return names

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

    def _dispatch(self, batch: list[Message], connection: Connection | None = None) -> bool:
        """Run the method on ``batch`` until it can be settled, and settle it.

        Returns False only when the container stopped while the batch was held for an outage:
        then nothing was settled (the caller lets the broker return the messages)."""
        deliveries = [to_delivery(message) for message in batch]
        metrics.BATCH_SIZE.labels(queue=self.options.queue).observe(len(batch))
        with metrics.BATCH_DURATION.labels(queue=self.options.queue).time():
            return self._dispatch_timed(batch, deliveries, connection)

    def _dispatch_timed(self, batch: list[Message], deliveries: list[Delivery],
                        connection: Connection | None) -> bool:
        outage: Outage | None = None
        unknown = 0  # unknown failures of this batch so far
        try:
            while True:
                outcome = self._run_worker(deliveries, connection)
                if outcome is None:  # the container is being killed
                    for message in batch:
                        message.requeue()
                    return True
                result, exc_info = outcome
                plan, error = self._plan(len(batch), result, exc_info)
                exc = exc_info[1] if exc_info else None
                decision = None
                if plan is None:
                    kind = classify(exc)
                    unknown += kind == "unknown"
                    decision = self.policy.decide(kind, unknown)
                if decision == HOLD and isinstance(exc, DependencyUnavailable):
                    outage = self._outage(outage, exc, len(batch))
                    if not self._hold(exc, outage, connection):
                        log.warning("stopping while a batch of %d from %s waits for %s: nothing "
                                    "is settled; the broker returns it", len(batch),
                                    self.options.queue, outage.dependency)
                        return False
                    continue
                if outage is not None:
                    self._end_outage(outage, ok=plan is not None)
                    outage = None
                if plan is not None:
                    self._failures = 0
                    self._settle(batch, deliveries, plan)
                    return True
                if decision == RETRY and not self._stopping:
                    pause = self.policy.delay(unknown)
                    log.warning("batch of %d from %s failed (%s); retry %d of %d in-process "
                                "after %.1fs", len(batch), self.options.queue, error[:300],
                                unknown, self.policy.unknown_retries, pause)
                    self._pause(pause, connection)
                    continue
                self._fail(batch, deliveries, error, connection)
                return True
        finally:
            if outage is not None:
                health.recovered(outage.dependency, self.holder)

    def _run_worker(self, deliveries: list[Delivery],
                    connection: Connection | None) -> tuple[Any, Any] | None:
        """One worker on the batch: ``(result, exc_info)``, or None if the container is being
        killed."""
        done: Event = Event()

        def handle_result(worker_ctx: Any, result: Any = None,
                          exc_info: Any = None) -> tuple[Any, Any]:
            done.send((result, exc_info))
            return result, exc_info

        try:
            self.container.spawn_worker(self, (deliveries,), {}, handle_result=handle_result)
        except ContainerBeingKilled:
            return None
        return self._wait(done, connection)  # type: ignore[no-any-return]

    @staticmethod
    def _plan(size: int, result: Any, exc_info: Any) -> tuple[Settlement | None, str]:
        """The settlement of a method that returned, or None and the error text."""
        if exc_info is not None:
            return None, describe(exc_info)
        try:
            return plan_success(size, result), ""
        except (TypeError, ValueError) as exc:  # the method broke its contract
            return None, f"{type(exc).__name__}: {exc}"

    def _fail(self, batch: list[Message], deliveries: list[Delivery], error: str,
              connection: Connection | None) -> None:
        """Today's failure path: back off, requeue (dead-letter on the last delivery)."""
        self._failures += 1
        pause = backoff(self._failures)
        log.warning("batch of %d from %s failed (%s); requeueing after %.1fs", len(batch),
                    self.options.queue, error[:300], pause)
        self._pause(pause, connection)  # hold the messages: the back-off really applies
        self._settle(batch, deliveries, plan_failure([d.delivery_count for d in deliveries],
                                                     error, self.options.delivery_limit))

    # -- outages ---------------------------------------------------------------------------------

    def _outage(self, outage: Outage | None, exc: DependencyUnavailable, size: int) -> Outage:
        """Start (or continue) the outage of the held batch; logs only on a change."""
        if outage is not None and outage.dependency == exc.dependency:
            outage.detail = exc.detail
            return outage
        if outage is not None:  # another dependency now: a state change
            health.recovered(outage.dependency, self.holder)
            log.warning("%s answers, but now %s is unavailable (%s); still holding the batch of "
                        "%d from %s", outage.dependency, exc.dependency, exc.detail[:300], size,
                        self.options.queue)
            new = Outage(exc.dependency, exc.detail, size, started=outage.started,
                         attempts=outage.attempts)
        else:
            log.warning("%s unavailable (%s): holding a batch of %d from %s unsettled; probing "
                        "with back-off until it answers", exc.dependency, exc.detail[:300], size,
                        self.options.queue)
            new = Outage(exc.dependency, exc.detail, size)
        health.degraded(new.dependency, self.holder)
        return new

    def _hold(self, exc: DependencyUnavailable, outage: Outage,
              connection: Connection | None) -> bool:
        """Back off and probe until the dependency answers (True) or the container stops
        (False). Nothing is settled meanwhile."""
        while not self._stopping:
            outage.attempts += 1
            self._pause(self.policy.delay(outage.attempts), connection)
            if self._stopping:
                break
            answered = False
            with eventlet.Timeout(PROBE_TIMEOUT, False):
                answered = probe_answers(exc.probe)
            if answered:
                log.debug("%s answers; re-dispatching the held batch from %s", outage.dependency,
                          self.options.queue)
                return True
            if outage.due(time.monotonic()):
                log.warning("still waiting for %s after %.0fs (%d attempts; %s); a batch of %d "
                            "from %s held", outage.dependency,
                            time.monotonic() - outage.started, outage.attempts,
                            outage.detail[:300], outage.size, self.options.queue)
        return False

    def _end_outage(self, outage: Outage, *, ok: bool) -> None:
        health.recovered(outage.dependency, self.holder)
        log.warning("%s is back after %.1fs (%d attempts): the held batch of %d from %s %s",
                    outage.dependency, time.monotonic() - outage.started, outage.attempts,
                    outage.size, self.options.queue,
                    "went through" if ok else "now fails otherwise")

    # -- waiting ---------------------------------------------------------------------------------

    @staticmethod
    def _keepalive(connection: Connection, timeout: float) -> None:
        """Read what the broker sent (its heartbeats; deliveries go to the buffer, in order) for
        up to ``timeout`` seconds, and send ours when due."""
        try:
            connection.drain_events(timeout=timeout)
        except TimeoutError:
            pass
        connection.heartbeat_check()

    @classmethod
    def _wait(cls, done: Event, connection: Connection | None) -> Any:
        """Wait for the worker, keeping the idle consumer connection's heartbeats going (a long
        batch must not make the broker drop the connection and redeliver the batch)."""
        while True:
            outcome = done.wait(timeout=HEARTBEAT_TICK)
            if outcome is not None:
                return outcome
            if connection is not None:
                cls._keepalive(connection, 0.05)

    def _pause(self, seconds: float, connection: Connection | None) -> None:
        """Sleep ``seconds`` (cut short by stop), keeping the connection alive."""
        deadline = time.monotonic() + seconds
        while not self._stopping and (left := deadline - time.monotonic()) > 0:
            if connection is None:
                eventlet.sleep(min(left, PAUSE_TICK))
            else:
                self._keepalive(connection, min(left, PAUSE_TICK))

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
                metrics.record_dead_letter(deliveries[index].queue or self.options.queue,
                                           deliveries[index].routing_key, reason)
                log.warning("dead-lettered message %s from %s: %s", deliveries[index].message_id,
                            self.options.queue, json.dumps(reason, default=str)[:300])
        if plan.then is not None:
            try:
                plan.then()
            except Exception:  # noqa: BLE001 - the dead letters are out: settle all the same
                log.exception("after dead-lettering from %s: the follow-up failed",
                              self.options.queue)
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
        # Inbound x-pantau-* and x-death headers are dropped: whoever published the message
        # could have set them, and the dead-letter tool trusts ours (this letter's user_id is
        # the service's). The letter is ours: no x-death, so the queue is named here.
        headers = dead_letter_headers(delivery.headers)
        headers.update({
            REASON_HEADER: json.dumps(reason, default=str),
            ORIGIN_EXCHANGE_HEADER: delivery.exchange,
            ORIGIN_ROUTING_KEY_HEADER: delivery.routing_key,
            ORIGIN_QUEUE_HEADER: delivery.queue or self.options.queue,
            DEAD_LETTERED_BY_HEADER: str(self.container.service_name),
            DEAD_LETTERED_AT_HEADER: datetime.now(UTC).isoformat(),
        })
        if delivery.user_id:
            headers[ORIGIN_USER_HEADER] = delivery.user_id
        letter = Outgoing(exchange=DEAD_LETTER_EXCHANGE,
                          routing_key=delivery.routing_key or self.options.queue,
                          body=delivery.body, headers=headers, message_id=delivery.message_id)
        # the content type as sent: a replay through intake's ingress is checked against it
        return replace(letter, content_type=delivery.content_type) if delivery.content_type \
            else letter


def batch_consume(queue: str, *, max_size: int = 100, max_wait_ms: float = 200,
                  prefetch: int = 200, config_prefix: str | None = None,
                  delivery_limit: int = DEFAULT_DELIVERY_LIMIT,
                  unknown_retries: int = DEFAULT_UNKNOWN_RETRIES,
                  extra_queues: tuple[str, ...] = ()) -> Callable[..., Any]:
    """Decorate ``def handle(self, deliveries: list[Delivery]) -> Mapping[int, reason] | None``
    (or ``Failures``: the same mapping plus what runs after its dead letters are confirmed).

    The method must commit its effects before returning; a returned index is dead-lettered with
    its (JSON-serialisable) reason; raising ``DependencyUnavailable`` holds the batch until the
    dependency answers; raising anything else retries it in-process, then requeues it. See the
    module docstring.
    """
    return BatchConsumer.decorator(  # type: ignore[no-any-return]
        queue, max_size=max_size, max_wait_ms=max_wait_ms, prefetch=prefetch,
        config_prefix=config_prefix, delivery_limit=delivery_limit,
        unknown_retries=unknown_retries, extra_queues=extra_queues)
