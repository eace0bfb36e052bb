"""Rebuild the cases index from a source of public records, then swap the alias — no downtime.

1. create ``<alias>-<now>`` (the template applies) without the alias;
2. fill it from ``records`` (bulk, external versions) — readers still use the old index;
3. atomically move the alias to the new index (one ``_aliases`` call);
4. copy over anything the indexer wrote to the old index meanwhile (external versions: only
   newer revisions win), then delete the old index.

Change documents (``pantau-changes``) are re-upserted in place: their ids are stable, so it is
idempotent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from elasticsearch import Elasticsearch

from pantau_publishing.domain.record import case_document, change_documents, clean_case
from pantau_publishing.search.bootstrap import alias_indices, put_templates
from pantau_publishing.search.client import Aliases, new_index_name
from pantau_publishing.search.store import EsCaseReader, EsSearchIndex
from pantau_publishing.service.ports import IndexAction

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RebuildReport:
    new_index: str
    old_indices: tuple[str, ...]
    indexed: int
    skipped: int
    caught_up: int


class _DirectIndex(EsSearchIndex):
    """Writes cases into one concrete index instead of the alias."""

    def __init__(self, es: Elasticsearch, aliases: Aliases, index: str) -> None:
        super().__init__(es, aliases)
        self._index = index

    def _alias(self, action: IndexAction) -> str:
        return self._index if action.target == "cases" else super()._alias(action)


def rebuild(es: Elasticsearch, aliases: Aliases, records: Iterable[dict[str, Any]], *,
            batch: int = 500, progress: Callable[[int], None] | None = None) -> RebuildReport:
    put_templates(es, aliases)
    old = alias_indices(es, aliases.cases)
    new = new_index_name(aliases.cases)
    es.indices.create(index=new)
    writer = _DirectIndex(es, aliases, new)
    indexed = skipped = 0
    pending: list[IndexAction] = []

    def flush() -> None:
        nonlocal pending
        results = writer.bulk(pending)
        failures = [r.error for r in results if not r.ok]
        if failures:
            raise RuntimeError(f"rebuild bulk failed: {failures[:3]}")
        pending = []

    for record in records:
        try:
            case = clean_case(record)
        except ValueError as exc:  # an invalid record is reported, never published
            log.warning("skipping an invalid public record: %s", exc)
            skipped += 1
            continue
        pending.append(IndexAction("cases", case.receipt_number, case.revision,
                                   case_document(case)))
        pending.extend(IndexAction("changes", doc_id, case.revision, doc)
                       for doc_id, doc in change_documents(case))
        indexed += 1
        if progress:
            progress(1)
        if len(pending) >= batch:
            flush()
    if pending:
        flush()
    es.indices.refresh(index=new)
    actions: list[dict[str, Any]] = [{"add": {"index": new, "alias": aliases.cases}}]
    actions += [{"remove": {"index": index, "alias": aliases.cases}} for index in old]
    es.indices.update_aliases(actions=actions)
    caught_up = 0
    for index in old:
        caught_up += _catch_up(es, aliases, index, writer)
        es.indices.delete(index=index, ignore_unavailable=True)
    log.info("rebuilt %s: %d records (%d skipped), %d caught up; removed %s", new, indexed,
             skipped, caught_up, old)
    return RebuildReport(new, tuple(old), indexed, skipped, caught_up)


def _catch_up(es: Elasticsearch, aliases: Aliases, old_index: str, writer: EsSearchIndex) -> int:
    """Copy the old index's documents into the new one; older revisions conflict and are
    ignored, so only writes that happened during the rebuild actually land."""
    es.indices.refresh(index=old_index)
    reader = EsCaseReader(es, Aliases(old_index, aliases.changes))
    copied = 0
    chunk: list[IndexAction] = []
    for document in reader.scan_cases({"match_all": {}}):
        chunk.append(IndexAction("cases", document["receipt_number"], int(document["revision"]),
                                 document))
        if len(chunk) >= 500:
            copied += sum(1 for r in writer.bulk(chunk) if r.ok and not r.conflict)
            chunk = []
    if chunk:
        copied += sum(1 for r in writer.bulk(chunk) if r.ok and not r.conflict)
    return copied
