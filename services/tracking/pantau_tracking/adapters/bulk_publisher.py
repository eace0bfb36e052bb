"""Publishing a whole outbox batch with ONE wait for publisher confirms.

``pantau_platform.amqp.ConfirmingPublisher`` waits for the broker's confirm after every message
(simple, ~1 000 msg/s). The relay publishes hundreds of rows at a time, so this publisher sends
them all on a confirm-mode channel (mandatory, persistent) and then waits until the broker has
confirmed every delivery tag. Any nack, unroutable return, timeout or connection error raises
``PublishError`` and drops the connection; the relay then leaves the rows unsent and retries
(duplicates are absorbed by consumers' idempotency).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

import amqp
from kombu import Connection

from pantau_contracts.routing import FEEDBACK_EXCHANGE
from pantau_platform.amqp import Outgoing, PublishError

log = logging.getLogger(__name__)


class BulkConfirmingPublisher:
    """Not thread-safe: one caller at a time (the relay holds its own lock)."""

    def __init__(self, url: str, *, confirm_timeout: float = 30.0,
                 optional_exchanges: frozenset[str] = frozenset({FEEDBACK_EXCHANGE})) -> None:
        self.url = url
        # Messages to these exchanges are published without ``mandatory``: a department that has
        # no feedback queue must not block the outbox (the refusal stays recorded in
        # processed_events). Everything else must be routed, or the relay retries.
        self.optional_exchanges = optional_exchanges
        self.confirm_timeout = confirm_timeout
        self._connection: Any = None
        self._channel: Any = None
        self._next_tag = 1
        self._outstanding: set[int] = set()
        self._failures: list[str] = []

    def _connect(self) -> None:
        connection = Connection(self.url, heartbeat=0, connect_timeout=5)
        connection.ensure_connection(max_retries=1)
        channel = connection.channel()
        channel.confirm_select()
        channel.events["basic_ack"].add(self._on_ack)
        channel.events["basic_nack"].add(self._on_nack)
        channel.events["basic_return"].add(self._on_return)
        self._connection, self._channel = connection, channel
        self._next_tag = 1
        self._outstanding.clear()

    def _on_ack(self, delivery_tag: int, multiple: bool) -> None:
        if multiple:
            self._outstanding = {t for t in self._outstanding if t > delivery_tag}
        else:
            self._outstanding.discard(delivery_tag)

    def _on_nack(self, delivery_tag: int, multiple: bool) -> None:
        self._failures.append(f"broker nacked delivery {delivery_tag}")
        self._on_ack(delivery_tag, multiple)

    def _on_return(self, exc: Exception, exchange: str, routing_key: str, message: Any) -> None:
        self._failures.append(f"unroutable {exchange}/{routing_key}: {exc}")

    def publish_many(self, items: Sequence[Outgoing]) -> None:
        """Return once the broker confirmed every message, else raise ``PublishError``."""
        if not items:
            return
        self._failures = []
        try:
            if self._channel is None:
                self._connect()
            for item in items:
                message = amqp.Message(
                    item.body, content_type=item.content_type, content_encoding="utf-8",
                    delivery_mode=2, message_id=item.message_id,
                    application_headers=dict(item.headers or {}))
                self._outstanding.add(self._next_tag)
                self._next_tag += 1
                self._channel.basic_publish(
                    message, exchange=item.exchange, routing_key=item.routing_key,
                    mandatory=item.exchange not in self.optional_exchanges)
            deadline = time.monotonic() + self.confirm_timeout
            while self._outstanding:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise PublishError(f"{len(self._outstanding)} message(s) not confirmed "
                                       f"within {self.confirm_timeout}s")
                self._connection.drain_events(timeout=remaining)
        except PublishError:
            self.close()
            raise
        except Exception as exc:
            self.close()
            raise PublishError(f"broker unavailable: {exc}") from exc
        if self._failures:
            failures, self._failures = self._failures, []
            raise PublishError("; ".join(failures[:5]))

    def close(self) -> None:
        connection, self._connection, self._channel = self._connection, None, None
        self._outstanding.clear()
        if connection is not None:
            try:
                connection.release()
            except Exception:  # noqa: BLE001 - closing a broken connection is best effort
                log.debug("closing the relay connection failed", exc_info=True)
