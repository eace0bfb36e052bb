"""The outbox relay: publishes unsent outbox rows in id order with publisher confirms, then marks
them sent.

* PostgreSQL: rows are claimed with ``SELECT ... FOR UPDATE SKIP LOCKED`` inside a transaction
  that stays open while they are published, so several tracking instances never publish the same
  row concurrently; a crash before commit releases them for a retry.
* SQLite (one instance): rows are read, published, then marked sent in a short write transaction
  (never holding the write lock while waiting on the broker).

Either way a crash between the broker's confirm and the commit re-publishes those rows; that is
the at-least-once side of the outbox and consumers are idempotent ((source, id), and
``case.updated``'s ``sequence`` = revision).

Publishing: ``relay_publisher`` — the shared confirm-mode publisher (``pantau_platform.amqp``),
whose batch path sends a whole batch of rows and waits once for the broker's confirms.

Tracing: each row gets a producer span, child of the trace context stored with the row (the apply
span of the event that caused it). The published event's ``traceparent``/``tracestate`` name that
creating context (CloudEvents distributed tracing); the AMQP headers name the publish span.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

import sqlalchemy as sa

from pantau_contracts.routing import FEEDBACK_EXCHANGE
from pantau_platform import tracing
from pantau_platform.amqp import ConfirmingPublisher, Outgoing
from pantau_tracking.adapters.schema import outbox
from pantau_tracking.adapters.store import SqlStore

log = logging.getLogger(__name__)


def _row_carrier(row: Any) -> dict[str, str]:
    return tracing.carrier_of({tracing.TRACEPARENT: row.traceparent,
                               tracing.TRACESTATE: row.tracestate})


def _receipt_of(message_id: str) -> str:
    """``{receipt}:{revision}:{kind}`` rows name their case; feedback rows name none."""
    return "" if message_id.startswith("rejected:") else message_id.split(":", 1)[0]


def relay_publisher(url: str) -> ConfirmingPublisher:
    """The relay's publisher: one connection (one flush at a time). Feedback is published without
    ``mandatory``: a department that has no feedback queue must not block the outbox (the
    refusal stays recorded in processed_events); every other row must be routed, or the relay
    retries it."""
    return ConfirmingPublisher(url, pool_size=1, optional_exchanges=frozenset({FEEDBACK_EXCHANGE}))


# Not a port of service/ports.py: the relay is itself an adapter, and this is the seam to the
# platform's confirm publisher (its ``Outgoing`` is a platform type the service layer never sees);
# tests hand the relay a fake publisher here.
class BatchPublisher(Protocol):
    def publish_many(self, items: list[Outgoing]) -> None:
        """Return once every message is confirmed by the broker; raise otherwise."""


class OutboxRelay:
    def __init__(self, store: SqlStore, publisher: BatchPublisher, *,
                 batch_size: int = 500) -> None:
        self.store = store
        self.publisher = publisher
        self.batch_size = batch_size
        self._lock = threading.Lock()  # one flush at a time per process

    def flush(self) -> int:
        """Publish everything unsent; returns how many messages were published."""
        total = 0
        with self._lock:
            while True:
                sent = self._flush_once()
                total += sent
                if sent < self.batch_size:
                    return total

    def _flush_once(self) -> int:
        query = (sa.select(outbox.c.id, outbox.c.message_id, outbox.c.exchange,
                           outbox.c.routing_key, outbox.c.body, outbox.c.traceparent,
                           outbox.c.tracestate)
                 .where(outbox.c.sent_at.is_(None)).order_by(outbox.c.id)
                 .limit(self.batch_size))
        if not self.store.is_sqlite:
            with self.store.engine.begin() as connection:
                rows = connection.execute(query.with_for_update(skip_locked=True)).all()
                if rows:
                    self._publish(rows)
                    self._mark_sent(connection, rows)
                return len(rows)
        with self.store.engine.connect() as connection:
            rows = connection.execute(query).all()
        if rows:
            self._publish(rows)
            with self.store.unit_of_work() as uow:
                self._mark_sent(uow.conn, rows)
        return len(rows)

    def _publish(self, rows: Sequence[Any]) -> None:
        spans = [tracing.start_span(f"{r.exchange} publish", [_row_carrier(r)],
                                    kind=tracing.SpanKind.PRODUCER,
                                    attributes={"messaging.message.id": r.message_id,
                                                tracing.RECEIPT: _receipt_of(r.message_id),
                                                "messaging.destination.name": r.exchange})
                 for r in rows]
        try:
            self.publisher.publish_many([
                Outgoing(exchange=r.exchange, routing_key=r.routing_key,
                         body=tracing.with_trace(bytes(r.body), _row_carrier(r)),
                         message_id=r.message_id, headers=tracing.current_carrier(span))
                for r, span in zip(rows, spans, strict=True)])
        except Exception as exc:
            for span in spans:
                tracing.fail(span, str(exc))
            raise
        finally:
            tracing.end_all(spans)

    @staticmethod
    def _mark_sent(connection: sa.Connection, rows: Sequence[Any]) -> None:
        connection.execute(outbox.update().where(outbox.c.id.in_([r.id for r in rows]))
                           .values(sent_at=datetime.now(UTC)))

    def unsent(self) -> int:
        with self.store.engine.connect() as connection:
            return int(connection.execute(sa.select(sa.func.count()).select_from(outbox)
                                          .where(outbox.c.sent_at.is_(None))).scalar_one())
