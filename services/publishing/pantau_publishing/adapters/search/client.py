"""Building the Elasticsearch client and naming the indices behind an alias.

``make_client`` takes one URL or a cluster's nodes, comma-separated: the client spreads requests
over them and retries another node when one does not answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from elasticsearch import Elasticsearch

from pantau_platform.endpoints import split_urls
from pantau_publishing.settings import PublishingSettings


@dataclass(frozen=True)
class Aliases:
    """The two public aliases. Concrete indices are ``<alias>-<UTC timestamp>``."""

    cases: str = "pantau-cases"
    changes: str = "pantau-changes"
    replicas: int = 0  # of each new index (PANTAU_INDEX_REPLICAS): 1 on a cluster

    @classmethod
    def from_settings(cls, settings: PublishingSettings) -> Aliases:
        return cls(settings.index_alias, settings.changes_alias, settings.index_replicas)


def make_client(url: str, timeout: float = 10.0) -> Elasticsearch:
    # Short timeouts and a few retries: the portal must answer quickly even when ES is slow.
    # A node that does not answer is marked dead for a while and its request retried on another.
    hosts = split_urls(url)
    return Elasticsearch(hosts, request_timeout=timeout, max_retries=max(2, len(hosts)),
                         retry_on_timeout=True)


def new_index_name(alias: str, now: datetime | None = None) -> str:
    """``<alias>-20260302t081500123456`` — lower case (index names must be), sortable by time."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return f"{alias}-{moment:%Y%m%dt%H%M%S%f}"
