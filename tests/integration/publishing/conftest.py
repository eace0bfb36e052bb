"""Fixtures for publishing's integration tests: unique aliases on the real Elasticsearch (they
never touch the dev alias ``pantau-cases``) and a private quorum queue for the indexer."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from elasticsearch import Elasticsearch
from kombu import Connection, Queue

from pantau_contracts.routing import DEAD_LETTER_EXCHANGE
from pantau_publishing.search.bootstrap import bootstrap, drop
from pantau_publishing.search.client import Aliases, make_client


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


@dataclass(frozen=True)
class QueueNames:
    work: str  # what the indexer consumes (quorum, DLX pantau.dlx, delivery limit)
    dead: str  # bound to pantau.dlx with the work queue's name: this test's dead letters


@pytest.fixture
def queues(amqp_url: str, topology: None) -> Iterator[QueueNames]:
    tag = uuid.uuid4().hex[:10]
    names = QueueNames(f"ptest.{tag}.cases", f"ptest.{tag}.dead")
    work = Queue(names.work, queue_arguments={"x-queue-type": "quorum",
                                              "x-dead-letter-exchange": DEAD_LETTER_EXCHANGE,
                                              "x-delivery-limit": 5}, durable=True)
    dead = Queue(names.dead, exchange=None, queue_arguments={"x-queue-type": "quorum"},
                 durable=True)
    with Connection(amqp_url) as conn:
        channel = conn.channel()
        work(channel).declare()
        dead(channel).declare()
        channel.queue_bind(names.dead, DEAD_LETTER_EXCHANGE, routing_key=names.work)
    yield names
    with Connection(amqp_url) as conn:
        channel = conn.channel()
        for name in (names.work, names.dead):
            channel.queue_delete(name)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
