"""Nameko dependency providers, one of each per container: the Elasticsearch ``SearchIndex``
adapter, and the memory of timeline entries already written (``service.written_entries``; it
outlives the per-batch use case, and batches run one at a time).

Dead-lettering is not a dependency any more: the batch entrypoint (``pantau_nameko.batching``)
dead-letters what the method returns, publisher-confirmed, before it acks.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import eventlet
from nameko.extensions import DependencyProvider

from pantau_publishing.adapters.search.bootstrap import bootstrap
from pantau_publishing.adapters.search.client import Aliases, make_client
from pantau_publishing.adapters.search.store import EsSearchIndex
from pantau_publishing.service.written_entries import DEFAULT_SIZE, WrittenEntries

log = logging.getLogger(__name__)


class SearchIndexProvider(DependencyProvider):  # type: ignore[misc]
    """Creates the Elasticsearch client (and bootstraps templates/aliases) once per container."""

    def setup(self) -> None:
        config = self.container.config
        self.es = make_client(config["ELASTICSEARCH_URL"])
        aliases = Aliases(config["INDEX_ALIAS"], config["CHANGES_ALIAS"])
        self._bootstrap(aliases, float(config.get("BOOTSTRAP_TIMEOUT", 120)))
        self.index = EsSearchIndex(self.es, aliases,
                                   refresh_seconds=float(config.get("INDEX_REFRESH_SECONDS", 0.5)))

    def _bootstrap(self, aliases: Aliases, timeout: float) -> None:
        """Templates and aliases must exist before the first bulk; wait for the cluster (it may
        still be starting) instead of crashing, up to ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        pause = 0.5
        while True:
            try:
                bootstrap(self.es, aliases)
                return
            except Exception as exc:  # noqa: BLE001 - unreachable/starting cluster: retry
                if time.monotonic() > deadline:
                    raise
                log.warning("Elasticsearch not ready (%s); retrying in %.1fs", exc, pause)
                eventlet.sleep(pause)
                pause = min(pause * 2, 5.0)

    def stop(self) -> None:
        self.es.close()

    def get_dependency(self, worker_ctx: Any) -> EsSearchIndex:
        return self.index


class WrittenEntriesProvider(DependencyProvider):  # type: ignore[misc]
    """One ``WrittenEntries`` per container (``INDEXER_WRITTEN_CASES`` receipts; 0: off)."""

    def setup(self) -> None:
        self.written = WrittenEntries(int(self.container.config.get("INDEXER_WRITTEN_CASES",
                                                                     DEFAULT_SIZE)))

    def get_dependency(self, worker_ctx: Any) -> WrittenEntries:
        return self.written
