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
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
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
