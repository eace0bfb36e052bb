"""The nameko service: one thin entrypoint handing each batch to the ``IndexBatch`` use case and
returning its failures by position (the shared consumer dead-letters those, then acks).

Elasticsearch away, overloaded or refusing writes (``SearchUnavailable``, see
``adapters.search.failures``) holds the batch — ``DependencyUnavailable("elasticsearch",
probe=index.ping)`` — instead of dead-lettering anything; contract violations and mapping errors
are dead-lettered with their reason.
"""

from __future__ import annotations

import logging
from typing import Any

from pantau_contracts.routing import PUBLISHING_QUEUE
from pantau_nameko.batching import Delivery, batch_consume
from pantau_nameko.failures import DependencyUnavailable
from pantau_nameko.health import Health, HealthServer
from pantau_nameko.metrics import MetricsServer
from pantau_platform import tracing
from pantau_publishing.adapters.search.store import EsSearchIndex
from pantau_publishing.indexer.dependencies import SearchIndexProvider, WrittenEntriesProvider
from pantau_publishing.service.indexing import IndexBatch
from pantau_publishing.service.ports import ReceivedMessage, SearchUnavailable
from pantau_publishing.service.written_entries import WrittenEntries

log = logging.getLogger(__name__)


def as_message(delivery: Delivery) -> ReceivedMessage:
    """The received message as the (framework-free) use case takes it."""
    return ReceivedMessage(body=delivery.body, routing_key=delivery.routing_key,
                           exchange=delivery.exchange, headers=dict(delivery.headers),
                           message_id=delivery.message_id)


def bulk_span(deliveries: list[Delivery]) -> Any:
    """The batch's span: child of the first message's context (the relay's publish span), linked
    to every other message's — a span has one parent, a bulk request serves many traces."""
    return tracing.batch_span(
        f"{PUBLISHING_QUEUE} bulk", [tracing.delivery_carrier(d.headers, d.body)
                                     for d in deliveries],
        attributes={"messaging.batch.message_count": len(deliveries),
                    "messaging.destination.name": PUBLISHING_QUEUE})


class IndexerService:
    name = "publishing_indexer"

    search_index: EsSearchIndex = SearchIndexProvider()
    written: WrittenEntries = WrittenEntriesProvider()  # timeline entries already in the index
    health: Health = HealthServer()  # GET /healthz, /readyz on HEALTH_PORT (settings: 8102)
    metrics = MetricsServer()  # GET /metrics on METRICS_PORT (settings: 9102)

    # batch size, wait, prefetch …: PublishingSettings, through the container config (``__main__``)
    @batch_consume(PUBLISHING_QUEUE, config_prefix="INDEXER")
    def consume_cases(self, deliveries: list[Delivery]) -> dict[int, dict[str, Any]]:
        """Index a batch (one bulk request); returns the messages to dead-letter by index.

        Raises ``DependencyUnavailable`` while Elasticsearch cannot take the batch (the
        extension holds it and retries when ``ping`` answers); raises anything else if the
        bulk request failed otherwise (the extension retries, then requeues).
        """
        try:
            with bulk_span(deliveries):
                outcome = IndexBatch(self.search_index, self.written).handle(
                    [as_message(delivery) for delivery in deliveries])
        except SearchUnavailable as exc:
            raise DependencyUnavailable(exc.dependency, exc.detail,
                                        probe=self.search_index.ping) from exc
        return outcome.failures
