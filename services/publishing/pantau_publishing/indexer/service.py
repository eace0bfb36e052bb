"""The nameko service: one thin entrypoint handing each batch to the ``IndexBatch`` use case."""

from __future__ import annotations

import logging
from typing import Any

from pantau_contracts.routing import PUBLISHING_QUEUE
from pantau_nameko.batching import Delivery, batch_consume
from pantau_publishing.indexer.dependencies import SearchIndexProvider
from pantau_publishing.indexer.poison import PoisonCollector
from pantau_publishing.service.indexing import IndexBatch
from pantau_publishing.service.ports import InboundMessage, SearchIndex

log = logging.getLogger(__name__)


def to_inbound(delivery: Delivery) -> InboundMessage:
    """The service layer's own (framework-free) view of a delivery."""
    return InboundMessage(body=delivery.body, routing_key=delivery.routing_key,
                          exchange=delivery.exchange, headers=dict(delivery.headers),
                          message_id=delivery.message_id)


class IndexerService:
    name = "publishing_indexer"

    search_index: SearchIndex = SearchIndexProvider()

    @batch_consume(PUBLISHING_QUEUE, max_size=100, max_wait_ms=200, prefetch=200,
                   config_prefix="INDEXER")
    def consume_cases(self, deliveries: list[Delivery]) -> dict[int, dict[str, Any]]:
        """Index a batch (one bulk request); returns the messages to dead-letter by index.

        Raises if the bulk request as a whole failed: the extension requeues the batch.
        """
        messages = [to_inbound(delivery) for delivery in deliveries]
        poison = PoisonCollector(messages)
        IndexBatch(self.search_index, poison).handle(messages)
        return poison.by_index
