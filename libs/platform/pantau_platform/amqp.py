# mypy: allow-untyped-calls
# (kombu and py-amqp have no type hints; everything else here is checked strictly)
"""Publishing to RabbitMQ with publisher confirms and mandatory routing (kombu / py-amqp).

``ConfirmingPublisher.publish`` / ``publish_many`` return only once the broker has confirmed
every message — it is then on disk in a quorum queue — and raise ``PublishError`` if the broker
refused one (nack), could not route one anywhere (mandatory return), did not confirm within
``confirm_timeout``, or could not be reached. Callers may acknowledge their own input only
after that; on ``PublishError`` they leave it unacknowledged and retry (duplicates are absorbed
by consumers' (source, id) idempotency).

The batch path: ``publish_many`` sends every message of the list, in order, on one
confirm-mode channel and then waits ONCE until the broker confirmed all of them (delivery tags
tracked from the channel's ack/nack/return events) — the outbox relay publishes hundreds of rows
per wait; a list of one is the single-message case. A channel that failed is closed, never
reused.

Messages to ``optional_exchanges`` are published without ``mandatory``: tracking's feedback to a
department that has no feedback queue must not block its outbox (the refusal stays recorded).

Every message carries the login as ``user_id`` (RabbitMQ checks it), so whoever reads it — the
dead-letter tool above all — knows which Pantau account published it.

Grouped confirms: ``GroupedPublisher`` has the same ``publish_many`` contract for MANY concurrent
callers (an HTTP intake answering each request only after its confirm): one flusher thread
publishes everything the callers queued on one confirm-mode channel, waits once for the group,
and releases each caller when exactly its own messages are confirmed (see the class).

Works in a thread pool (FastAPI: a small pool of connections, one per concurrent caller) and
under eventlet (nameko: green sockets); it imports neither nameko nor eventlet. The URL may list
a cluster's nodes (``amqp://a;amqp://b`` or comma-separated): a new connection tries each node in
turn (kombu's round-robin failover), so losing one node loses no publish.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

import amqp
from kombu.connection import Connection

from pantau_platform.endpoints import first_url, kombu_url, split_urls

log = logging.getLogger(__name__)


class PublishError(RuntimeError):
    """The broker did not take responsibility for the message (nack, unroutable, unreachable)."""


@dataclass(frozen=True)
class Outgoing:
    exchange: str
    routing_key: str
    body: bytes
    headers: Mapping[str, Any] | None = None
    message_id: str | None = None
    content_type: str = "application/cloudevents+json"


COALESCE_BYTES = 256 * 1024
"""A coalesced batch is sent whenever this much is buffered (bounded memory, early bytes)."""


@contextmanager
def coalesced_writes(connection: Connection) -> Iterator[None]:
    """Within the block, py-amqp's frame writes on ``connection`` are collected and sent in
    large ``sendall`` calls instead of one per message.

    Why: py-amqp sends every published message with its own ``sendall`` (a system call, and
    under eventlet a green-socket send loop each); the profile of tracking's relay put 7 % of
    the process's time there (docs/performance.md). Safe because the frames keep their order,
    nothing is read in between that depends on them being sent, and whatever is buffered is
    sent before the block ends — or the connection is unusable anyway (an error propagates and
    the caller discards the channel). The writer is py-amqp's transport ``_write`` (5.x);
    without it this does nothing.
    """
    transport: Any = getattr(getattr(connection, "connection", None), "transport", None)
    write = getattr(transport, "_write", None)
    if transport is None or write is None:
        yield
        return
    pending: list[bytes] = []
    size = 0

    def collect(chunk: Any) -> None:
        nonlocal size
        pending.append(bytes(chunk))  # py-amqp reuses its frame buffer: copy now
        size += len(chunk)
        if size >= COALESCE_BYTES:
            flush()

    def flush() -> None:
        nonlocal size
        if pending:
            data = b"".join(pending)
            pending.clear()
            size = 0
            write(data)

    transport._write = collect  # noqa: SLF001
    try:
        yield
        flush()
    finally:
        transport._write = write  # noqa: SLF001


class _Channel:
    """One connection with one confirm-mode channel; used by one caller at a time."""

    def __init__(self, url: str, connect_timeout: float) -> None:
        self.connection = Connection(kombu_url(url), connect_timeout=connect_timeout, heartbeat=0)
        # one retry per node: a failed attempt switches to the next node of the list
        self.connection.ensure_connection(max_retries=len(split_urls(url)))
        self.channel = self.connection.channel()
        self.channel.confirm_select()
        self.channel.events["basic_ack"].add(self._on_ack)
        self.channel.events["basic_nack"].add(self._on_nack)
        self.channel.events["basic_return"].add(self._on_return)
        self.user_id = unquote(urlsplit(first_url(url)).username or "") or None
        self._next_tag = 1  # the broker numbers a confirm-mode channel's publishes from 1
        self._outstanding: set[int] = set()
        self._failures: list[str] = []

    def _on_ack(self, delivery_tag: int, multiple: bool) -> None:
        if multiple:
            self._outstanding = {tag for tag in self._outstanding if tag > delivery_tag}
        else:
            self._outstanding.discard(delivery_tag)

    def _on_nack(self, delivery_tag: int, multiple: bool) -> None:
        self._failures.append(f"broker nacked delivery {delivery_tag}")
        self._on_ack(delivery_tag, multiple)

    def _on_return(self, exc: Exception, exchange: str, routing_key: str, message: Any) -> None:
        self._failures.append(f"unroutable: {exchange}/{routing_key}: {exc}")

    def publish_batch(self, items: Sequence[Outgoing], *, optional: frozenset[str],
                      confirm_timeout: float) -> None:
        """Send every item, then wait once for all confirms; ``PublishError`` on any failure."""
        self._failures = []
        with coalesced_writes(self.connection):
            for item in items:
                message = amqp.Message(
                    item.body, content_type=item.content_type, content_encoding="utf-8",
                    delivery_mode=2, message_id=item.message_id, user_id=self.user_id,
                    application_headers=dict(item.headers or {}))
                self._outstanding.add(self._next_tag)
                self._next_tag += 1
                self.channel.basic_publish(message, exchange=item.exchange,
                                           routing_key=item.routing_key,
                                           mandatory=item.exchange not in optional)
        deadline = time.monotonic() + confirm_timeout
        while self._outstanding:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise PublishError(f"{len(self._outstanding)} message(s) not confirmed within "
                                   f"{confirm_timeout}s")
            try:
                self.connection.drain_events(timeout=remaining)
            except TimeoutError:
                continue  # the deadline check above decides
        if self._failures:
            raise PublishError("; ".join(self._failures[:5]))

    def close(self) -> None:
        try:
            self.connection.release()
        except Exception:  # noqa: BLE001 - closing a dead connection is best effort
            log.debug("closing AMQP connection failed", exc_info=True)


class ConfirmingPublisher:
    """A pool of confirm-mode channels. ``publish``/``publish_many`` block until the broker
    confirmed (see the module docstring)."""

    def __init__(self, url: str, *, pool_size: int = 4, connect_timeout: float = 5.0,
                 confirm_timeout: float = 30.0,
                 optional_exchanges: frozenset[str] = frozenset()) -> None:
        self._url = url
        self._timeout = connect_timeout
        self._confirm_timeout = confirm_timeout
        self._optional = frozenset(optional_exchanges)
        self._idle: queue.LifoQueue[_Channel] = queue.LifoQueue()
        self._slots = threading.BoundedSemaphore(pool_size)

    @contextmanager
    def _channel(self) -> Iterator[_Channel]:
        with self._slots:
            try:
                channel = self._idle.get_nowait()
            except queue.Empty:
                channel = _Channel(self._url, self._timeout)
            try:
                yield channel
            except Exception:
                channel.close()  # a failed channel is never reused
                raise
            self._idle.put(channel)

    def publish(self, item: Outgoing) -> None:
        self.publish_many([item])

    def publish_many(self, items: Sequence[Outgoing]) -> None:
        """Publish in order on one channel, then wait once: every message confirmed before this
        returns.

        One retry on a fresh connection if the first attempt failed at the connection level;
        duplicates this may cause are absorbed by consumers' (source, id) idempotency.
        """
        if not items:
            return
        for attempt in (1, 2):
            try:
                with self._channel() as channel:
                    channel.publish_batch(items, optional=self._optional,
                                          confirm_timeout=self._confirm_timeout)
                return
            except PublishError:
                raise
            except Exception as exc:  # connection-level failure: retry once, then report
                if attempt == 2:
                    raise PublishError(f"broker unavailable: {exc}") from exc
                log.warning("AMQP publish failed (%s); retrying on a new connection", exc)

    def check(self) -> bool:
        """True if a connection to the broker can be made (readiness probe)."""
        try:
            with self._channel():
                return True
        except Exception:  # noqa: BLE001
            return False

    def close(self) -> None:
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                return


# --- Grouped confirms: many concurrent callers, one channel, one wait per group --------------


class _Waiter:
    """One caller's messages in a group: its future resolves when all of them are settled."""

    def __init__(self, items: Sequence[Outgoing]) -> None:
        self.items = list(items)
        self.future: Future[None] = Future()
        self.unsettled = 0
        self.failures: list[str] = []

    def settle(self, failure: str | None = None) -> None:
        if failure:
            self.failures.append(failure)
        self.unsettled -= 1
        if self.unsettled == 0:
            self.finish()

    def finish(self, failure: str | None = None) -> None:
        if failure:
            self.failures.append(failure)
        if self.future.done():
            return
        if self.failures:
            self.future.set_exception(PublishError("; ".join(self.failures[:5])))
        else:
            self.future.set_result(None)


class ConfirmStream(Protocol):
    """A confirm-mode channel as ``GroupedPublisher`` drives it (``_Stream`` on py-amqp; unit
    tests use a fake). ``send`` returns the delivery tag; ``wait`` processes what the broker
    sent within ``timeout`` seconds (returns on timeout), calling the listener's ``on_confirm``
    / ``on_return``; both raise on a lost connection."""

    def send(self, item: Outgoing, mandatory: bool) -> int: ...

    def wait(self, timeout: float) -> None: ...

    def close(self) -> None: ...


class ConfirmListener(Protocol):
    def on_confirm(self, delivery_tag: int, multiple: bool, ok: bool) -> None: ...

    def on_return(self, exchange: str, routing_key: str, message_id: str | None,
                  reason: str) -> None: ...


class _Stream:
    """``ConfirmStream`` on one kombu/py-amqp connection."""

    def __init__(self, url: str, connect_timeout: float, listener: ConfirmListener) -> None:
        self._inner = _Channel(url, connect_timeout)
        channel = self._inner.channel
        # _Channel's own bookkeeping stays attached but unused; ours decides.
        channel.events["basic_ack"].add(lambda tag, multiple: listener.on_confirm(
            tag, multiple, True))
        channel.events["basic_nack"].add(lambda tag, multiple: listener.on_confirm(
            tag, multiple, False))
        channel.events["basic_return"].add(lambda exc, exchange, key, message: listener.on_return(
            exchange, key, message.properties.get("message_id"), str(exc)))
        self._next_tag = 1

    def send(self, item: Outgoing, mandatory: bool) -> int:
        self._inner.channel.basic_publish(_message(item, self._inner.user_id),
                                          exchange=item.exchange,
                                          routing_key=item.routing_key, mandatory=mandatory)
        tag, self._next_tag = self._next_tag, self._next_tag + 1
        return tag

    def wait(self, timeout: float) -> None:
        try:
            self._inner.connection.drain_events(timeout=timeout)
        except TimeoutError:
            return

    def close(self) -> None:
        self._inner.close()


def _message(item: Outgoing, user_id: str | None) -> amqp.Message:
    return amqp.Message(item.body, content_type=item.content_type, content_encoding="utf-8",
                        delivery_mode=2, message_id=item.message_id, user_id=user_id,
                        application_headers=dict(item.headers or {}))


class GroupedPublisher:
    """Concurrent callers' publishes grouped onto ONE confirm-mode channel.

    ``submit(items)`` queues one caller's messages and returns a ``Future``; ``publish_many``
    (same contract as ``ConfirmingPublisher.publish_many``) waits on it. A single flusher thread
    takes everything queued, publishes it in queue order (each caller's messages contiguous and
    in order), waits ONCE for the group's confirms, and resolves each caller's future when all
    of ITS messages are confirmed. A nack or a mandatory return fails exactly the callers whose
    messages they name (a return names a message by exchange, routing key and message id: every
    caller with such a message fails — never a false success); a confirm timeout or a lost
    connection fails every caller of the group not yet resolved. A lost connection is retried
    once on a fresh one for the unresolved callers (duplicates are absorbed downstream, as for
    ``ConfirmingPublisher``); the stream is never reused after a failure.

    Ordering: callers that submit one after another (the second after the first's future
    resolved) are published in that order, on the same channel. Threads only (FastAPI's pool);
    imports neither nameko nor eventlet. ``stream_factory(listener)`` replaces the broker in
    unit tests.
    """

    def __init__(self, url: str = "", *, connect_timeout: float = 5.0,
                 confirm_timeout: float = 30.0, max_group: int = 2000,
                 optional_exchanges: frozenset[str] = frozenset(),
                 stream_factory: Callable[[ConfirmListener], ConfirmStream] | None = None) -> None:
        self._url = url
        self._connect_timeout = connect_timeout
        self._confirm_timeout = confirm_timeout
        self._max_group = max_group
        self._optional = frozenset(optional_exchanges)
        self._factory = stream_factory or (lambda listener: _Stream(url, connect_timeout,
                                                                    listener))
        self._queue: deque[_Waiter] = deque()
        self._wakeup = threading.Condition()
        self._closed = False
        self._thread: threading.Thread | None = None
        self._stream: ConfirmStream | None = None
        self._tags: dict[int, _Waiter] = {}
        self._group: list[_Waiter] = []

    # -- callers' side --------------------------------------------------------------------

    def submit(self, items: Sequence[Outgoing]) -> Future[None]:
        waiter = _Waiter(items)
        if not waiter.items:
            waiter.finish()
            return waiter.future
        with self._wakeup:
            if self._closed:
                raise PublishError("the publisher is closed")
            self._queue.append(waiter)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="amqp-confirm-groups",
                                                daemon=True)
                self._thread.start()
            self._wakeup.notify()
        return waiter.future

    def publish_many(self, items: Sequence[Outgoing]) -> None:
        """Return once the broker confirmed every message; ``PublishError`` otherwise."""
        self.submit(items).result()

    def publish(self, item: Outgoing) -> None:
        self.publish_many([item])

    def check(self) -> bool:
        """True if a connection to the broker can be made (readiness probe)."""
        try:
            _Channel(self._url, self._connect_timeout).close()
            return True
        except Exception:  # noqa: BLE001
            return False

    def close(self) -> None:
        with self._wakeup:
            self._closed = True
            self._wakeup.notify()
        if self._thread is not None:
            self._thread.join(self._confirm_timeout + self._connect_timeout)

    # -- the flusher thread ---------------------------------------------------------------

    def _run(self) -> None:
        while True:
            group = self._next_group()
            if not group:
                break
            self._flush(group)
        if self._stream is not None:
            self._stream.close()

    def _next_group(self) -> list[_Waiter]:
        with self._wakeup:
            while not self._queue and not self._closed:
                self._wakeup.wait()
            group: list[_Waiter] = []
            size = 0
            while self._queue and (not group or size + len(self._queue[0].items)
                                   <= self._max_group):
                waiter = self._queue.popleft()
                group.append(waiter)
                size += len(waiter.items)
            return group

    def _flush(self, group: list[_Waiter]) -> None:
        for attempt in (1, 2):
            unresolved = [w for w in group if not w.future.done()]
            try:
                self._publish_and_wait(unresolved)
                return
            except Exception as exc:  # noqa: BLE001 - connection-level: fresh stream, once
                self._drop_stream()
                if attempt == 2:
                    for waiter in unresolved:
                        waiter.finish(f"broker unavailable: {exc}")
                    return
                log.warning("AMQP grouped publish failed (%s); retrying on a new connection",
                            exc)

    def _publish_and_wait(self, group: list[_Waiter]) -> None:
        if self._stream is None:
            self._stream = self._factory(self)
        self._tags, self._group = {}, group
        for waiter in group:
            waiter.unsettled, waiter.failures = len(waiter.items), []
            for item in waiter.items:
                tag = self._stream.send(item, item.exchange not in self._optional)
                self._tags[tag] = waiter
        deadline = time.monotonic() + self._confirm_timeout
        while self._tags:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                for waiter in {id(w): w for w in self._tags.values()}.values():
                    waiter.finish(f"not confirmed within {self._confirm_timeout}s")
                self._drop_stream()  # late confirms must not settle the next group
                return
            self._stream.wait(remaining)

    def _drop_stream(self) -> None:
        self._tags = {}
        if self._stream is not None:
            self._stream.close()
            self._stream = None

    # -- ConfirmListener (called from ``wait`` on the flusher thread) ----------------------

    def on_confirm(self, delivery_tag: int, multiple: bool, ok: bool) -> None:
        tags = [t for t in self._tags if t <= delivery_tag] if multiple else [delivery_tag]
        for tag in tags:
            waiter = self._tags.pop(tag, None)
            if waiter is not None:
                waiter.settle(None if ok else f"broker nacked delivery {tag}")

    def on_return(self, exchange: str, routing_key: str, message_id: str | None,
                  reason: str) -> None:
        for waiter in self._group:
            if any(i.exchange == exchange and i.routing_key == routing_key
                   and i.message_id == message_id for i in waiter.items):
                waiter.failures.append(f"unroutable: {exchange}/{routing_key}: {reason}")
