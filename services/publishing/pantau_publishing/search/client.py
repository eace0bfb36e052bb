"""Building the Elasticsearch client and naming the indices behind an alias."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from elasticsearch import Elasticsearch

from pantau_publishing.settings import PublishingSettings


@dataclass(frozen=True)
class Aliases:
    """The two public aliases. Concrete indices are ``<alias>-<UTC timestamp>``."""

    cases: str = "pantau-cases"
    changes: str = "pantau-changes"

    @classmethod
    def from_settings(cls, settings: PublishingSettings) -> Aliases:
        return cls(settings.index_alias, settings.changes_alias)


def make_client(url: str, timeout: float = 10.0) -> Elasticsearch:
    # Short timeouts and a few retries: the portal must answer quickly even when ES is slow.
    return Elasticsearch(url, request_timeout=timeout, max_retries=2, retry_on_timeout=True)


def new_index_name(alias: str, now: datetime | None = None) -> str:
    """``<alias>-20260302t081500123456`` — lower case (index names must be), sortable by time."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return f"{alias}-{moment:%Y%m%dt%H%M%S%f}"
