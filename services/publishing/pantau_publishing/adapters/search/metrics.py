"""What the indexer's bulk writes report (``pantau_platform.metrics``).

* ``pantau_es_bulk_duration_seconds``: each bulk request, successful or not;
* ``pantau_es_bulk_errors_total{kind}``: ``request`` (the whole request failed), ``transient``
  (of those, the ones the indexer holds and retries), ``item`` (a document refused);
* ``pantau_freshness_searchable_seconds``: for every change document (one timeline entry) the
  bulk request *created* — not a version conflict, i.e. the entry is new to the index, so a
  re-published or re-indexed case never counts its old steps again — the time from intake's
  ``received_at`` to the bulk answer plus the index refresh interval (``refresh_seconds``):
  the latest moment that entry became searchable. Entries without ``received_at`` (documents
  from before the two clocks) are not observed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from pantau_platform import metrics
from pantau_publishing.service.ports import BulkItemResult, IndexAction


def bulk_took(seconds: float) -> None:
    metrics.ES_BULK_SECONDS.observe(seconds)


def bulk_failed(transient: bool) -> None:
    metrics.ES_BULK_ERRORS.labels("request").inc()
    if transient:
        metrics.ES_BULK_ERRORS.labels("transient").inc()


def bulk_answered(actions: Sequence[IndexAction], results: Sequence[BulkItemResult],
                  refresh_seconds: float, now: datetime | None = None) -> None:
    at = now or datetime.now(UTC)
    for action, result in zip(actions, results, strict=False):
        if not result.ok:
            metrics.ES_BULK_ERRORS.labels("item").inc()
        elif not result.conflict and action.target == "changes":
            received = _when(action.document.get("received_at"))
            if received is not None:
                metrics.FRESHNESS_SEARCHABLE.observe(
                    max((at - received).total_seconds() + refresh_seconds, 0.0))


def _when(value: Any) -> datetime | None:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    if not isinstance(value, datetime):
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
