"""The index side of reconciliation: one ``Summary`` per case document of the cases alias (a
consistent snapshot, only the fields compared), and the changes alias's document count."""

from __future__ import annotations

from collections.abc import Iterator

from elasticsearch import Elasticsearch, NotFoundError

from pantau_publishing.adapters.search.client import Aliases
from pantau_publishing.adapters.search.rebuild import scan
from pantau_publishing.service.reconcile import Summary

FIELDS = ("receipt_number", "revision", "timeline.seq")


def refresh(es: Elasticsearch, aliases: Aliases) -> None:
    """Make every write so far visible to search (the indexer does not refresh per bulk)."""
    es.indices.refresh(index=f"{aliases.cases},{aliases.changes}", ignore_unavailable=True)


def index_summaries(es: Elasticsearch, aliases: Aliases,
                    page_size: int = 1000) -> Iterator[Summary]:
    for document in scan(es, aliases.cases, page_size, FIELDS):
        yield Summary.of(document)


def change_count(es: Elasticsearch, aliases: Aliases) -> int:
    try:
        return int(es.count(index=aliases.changes)["count"])
    except NotFoundError:
        return 0
