"""Nameko dependency providers: inject the ``IndexBatch`` use case wired to real adapters."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from typing import Any

import eventlet
from nameko.extensions import DependencyProvider

from pantau_contracts.routing import (
    DEAD_LETTER_EXCHANGE,
    ORIGIN_EXCHANGE_HEADER,
    ORIGIN_ROUTING_KEY_HEADER,
    REASON_HEADER,
)
from pantau_platform.amqp import ConfirmingPublisher, Outgoing
from pantau_publishing.search.bootstrap import bootstrap
from pantau_publishing.search.client import Aliases, make_client
from pantau_publishing.search.store import EsSearchIndex
from pantau_publishing.service.indexing import IndexBatch
from pantau_publishing.service.ports import InboundMessage

log = logging.getLogger(__name__)


class AmqpDeadLetters:
    """Parks a message on ``pantau.dlx`` (→ ``pantau.dead-letter``) with a JSON reason header and
    its origin, so it can be replayed to where it came from. Publisher-confirmed."""

    def __init__(self, publisher: ConfirmingPublisher) -> None:
        self._publisher = publisher

    def dead_letter(self, message: InboundMessage, reason: Mapping[str, Any]) -> None:
        log.warning("dead-lettering message %s: %s: %s", message.message_id,
                    reason.get("reason"), reason.get("detail"))
        headers = {**dict(message.headers), REASON_HEADER: json.dumps(dict(reason)),
                   ORIGIN_EXCHANGE_HEADER: message.exchange,
                   ORIGIN_ROUTING_KEY_HEADER: message.routing_key}
        self._publisher.publish(Outgoing(DEAD_LETTER_EXCHANGE, message.routing_key or "unrouted",
                                         message.body, headers, message.message_id))


class IndexBatchProvider(DependencyProvider):  # type: ignore[misc]
    """Creates the Elasticsearch client (and bootstraps templates/aliases) once per container."""

    def setup(self) -> None:
        config = self.container.config
        self.es = make_client(config["ELASTICSEARCH_URL"])
        aliases = Aliases(config["INDEX_ALIAS"], config["CHANGES_ALIAS"])
        self._bootstrap(aliases, float(config.get("BOOTSTRAP_TIMEOUT", 120)))
        self.publisher = ConfirmingPublisher(config["AMQP_URI"])
        self.handler = IndexBatch(EsSearchIndex(self.es, aliases), AmqpDeadLetters(self.publisher))

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
        self.publisher.close()
        self.es.close()

    def get_dependency(self, worker_ctx: Any) -> IndexBatch:
        return self.handler
