"""Fixtures for publishing's integration tests: unique aliases on the real Elasticsearch (they
never touch the dev alias ``pantau-cases``) and a private quorum queue for the indexer."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from elasticsearch import Elasticsearch

from pantau_publishing.adapters.search.bootstrap import bootstrap, drop
from pantau_publishing.adapters.search.client import Aliases, make_client
from tests.conftest import WorkQueues, work_queues


@dataclass(frozen=True)
class SearchStack:
    es: Elasticsearch
    aliases: Aliases
    url: str

    @property
    def env(self) -> dict[str, str]:
        return {"PANTAU_ELASTICSEARCH_URL": self.url, "PANTAU_INDEX_ALIAS": self.aliases.cases,
                "PANTAU_CHANGES_ALIAS": self.aliases.changes}

    def refresh(self) -> None:
        self.es.indices.refresh(index=f"{self.aliases.cases},{self.aliases.changes}")


@pytest.fixture
def search(elasticsearch_url: str) -> Iterator[SearchStack]:
    tag = uuid.uuid4().hex[:10]
    aliases = Aliases(f"ptest-{tag}-cases", f"ptest-{tag}-changes")
    es = make_client(elasticsearch_url)
    bootstrap(es, aliases)
    yield SearchStack(es, aliases, elasticsearch_url)
    drop(es, aliases)
    es.close()


@pytest.fixture
def queues(amqp_url: str) -> Iterator[WorkQueues]:
    """A private quorum work queue and the dead queue its dead letters land in."""
    with work_queues(amqp_url, "ptest", delivery_limit=5) as names:
        yield names


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
