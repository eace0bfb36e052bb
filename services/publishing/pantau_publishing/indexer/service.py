"""The nameko service: one thin entrypoint handing each batch to the ``IndexBatch`` use case."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from pantau_contracts.routing import PUBLISHING_QUEUE
from pantau_publishing.indexer.batching import batch_consume
from pantau_publishing.indexer.dependencies import IndexBatchProvider
from pantau_publishing.service.indexing import IndexBatch
from pantau_publishing.service.ports import InboundMessage


class IndexerService:
    name = "publishing_indexer"

    index_batch: IndexBatch = IndexBatchProvider()

    @batch_consume(PUBLISHING_QUEUE)
    def consume_cases(self, messages: list[InboundMessage]) -> dict[str, Any]:
        outcome = self.index_batch.handle(messages)
        return asdict(outcome)
