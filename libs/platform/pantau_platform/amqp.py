"""Publishing to RabbitMQ with publisher confirms and mandatory routing (kombu / py-amqp).

``ConfirmingPublisher.publish`` returns only once the broker has confirmed the message — it is then
on disk in a quorum queue — and raises ``PublishError`` if the broker refused it or could not route
it anywhere. Callers may acknowledge their own input only after that. Thread-safe: a small pool of
connections, one per concurrent caller, so a FastAPI threadpool can publish in parallel.
The URL may list a cluster's nodes (``amqp://a;amqp://b`` or comma-separated): a new connection
tries each node in turn (kombu's round-robin failover), so losing one node loses no publish.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from kombu import Connection, Exchange, Producer

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
    def __init__(self, url: str, connect_timeout: float) -> None:
        self.connection = Connection(kombu_url(url), transport_options={"confirm_publish": True},
                                     connect_timeout=connect_timeout, heartbeat=0)
        # one retry per node: a failed attempt switches to the next node of the list
        self.connection.ensure_connection(max_retries=len(split_urls(url)))
        self.producer = Producer(self.connection.channel(), on_return=self._on_return)
        # Every message carries the login as user_id (RabbitMQ checks it): whoever reads it —
        # the dead-letter tool above all — knows which Pantau account published it.
        self.user_id = unquote(urlsplit(first_url(url)).username or "") or None
        self.returned: list[str] = []

    def _on_return(self, exception: Exception, exchange: str, routing_key: str,
                   message: Any) -> None:
        self.returned.append(f"{exchange}/{routing_key}: {exception}")

    def publish(self, item: Outgoing) -> None:
        self.returned.clear()
        self.producer.publish(
            item.body, exchange=Exchange(item.exchange, passive=True), routing_key=item.routing_key,
            headers=dict(item.headers or {}), message_id=item.message_id,
            content_type=item.content_type, content_encoding="utf-8", user_id=self.user_id,
            delivery_mode=2, mandatory=True, retry=False, declare=[])
        if self.returned:
            raise PublishError("unroutable: " + "; ".join(self.returned))

    def close(self) -> None:
        try:
            self.connection.release()
        except Exception:  # noqa: BLE001 - closing a dead connection is best effort
            log.debug("closing AMQP connection failed", exc_info=True)


class ConfirmingPublisher:
    """A pool of confirm-mode channels. ``publish`` blocks until the broker confirmed."""

    def __init__(self, url: str, *, pool_size: int = 4, connect_timeout: float = 5.0) -> None:
        self._url = url
        self._timeout = connect_timeout
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

    def publish_many(self, items: list[Outgoing]) -> None:
        """Publish in order on one channel; every message confirmed before this returns.

        One retry on a fresh connection if the first attempt failed at the connection level;
        duplicates this may cause are absorbed by consumers' (source, id) idempotency.
        """
        for attempt in (1, 2):
            try:
                with self._channel() as channel:
                    for item in items:
                        channel.publish(item)
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
