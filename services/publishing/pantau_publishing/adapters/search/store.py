"""Elasticsearch implementations of the ``SearchIndex`` and ``CaseReader`` ports."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from elasticsearch import Elasticsearch, NotFoundError

from pantau_publishing.adapters.search import failures, metrics
from pantau_publishing.adapters.search.client import Aliases
from pantau_publishing.service.ports import (
    BulkItemResult,
    DocumentVersion,
    IndexAction,
    SearchAnswer,
    SearchUnavailable,
)

CONFLICT = "version_conflict_engine_exception"
# Only what ``bulk`` reads of each item (one per action, in order): Elasticsearch's full answer
# (index, id, version, shards, seq_no … per item) cost the rebuild more to parse than the rest of
# its bulk handling (profile in docs/performance.md, "Rebuild").
BULK_ANSWER = ("items.*._index,items.*.status,items.*.error.type,items.*.error.reason,"
               "items.*.error.caused_by.type")


class EsSearchIndex:
    """Writes through the aliases with external versioning (version = the case's revision).

    Transient failures (``search.failures``) are reported as such: a whole request as
    ``SearchUnavailable``, an item as ``BulkItemResult(transient=True)``. ``ping`` says whether
    the indices behind both aliases can take writes again."""

    def __init__(self, es: Elasticsearch, aliases: Aliases, *, refresh: bool = False,
                 refresh_seconds: float = 0.5) -> None:
        self._es = es
        self._aliases = aliases
        self._refresh = refresh
        self._refresh_seconds = 0.0 if refresh else refresh_seconds  # for freshness

    def _alias(self, action: IndexAction) -> str:
        return self._aliases.cases if action.target == "cases" else self._aliases.changes

    def bulk(self, actions: Sequence[IndexAction]) -> list[BulkItemResult]:
        if not actions:
            return []
        operations: list[Mapping[str, Any]] = []
        for action in actions:
            operations.append({"index": {"_index": self._alias(action), "_id": action.doc_id,
                                         "version": action.version,
                                         "version_type": "external"}})
            operations.append(action.document)
        started = time.monotonic()
        try:
            answer = self._es.bulk(operations=operations, refresh=self._refresh,
                                   filter_path=BULK_ANSWER)
        except Exception as exc:
            metrics.bulk_took(time.monotonic() - started)
            metrics.bulk_failed(failures.is_transient(exc))
            if failures.is_transient(exc):
                raise SearchUnavailable("elasticsearch", _describe(exc)) from exc
            raise
        metrics.bulk_took(time.monotonic() - started)
        results = []
        for item in answer["items"]:
            outcome = item.get("index", {})
            error, name = outcome.get("error"), outcome.get("_index")
            if not error:
                results.append(BulkItemResult(ok=True, index=name))
            elif error.get("type") == CONFLICT:
                results.append(BulkItemResult(ok=True, conflict=True, index=name))
            else:
                results.append(BulkItemResult(
                    ok=False, error=f"{error.get('type')}: {error.get('reason')}",
                    transient=failures.item_transient(outcome.get("status"), error), index=name))
        metrics.bulk_answered(actions, results, self._refresh_seconds)
        return results

    def ping(self) -> bool:
        """True when the cluster answers, the indices behind both aliases are not red, and no
        block stops writes (closed index, disk watermark, write block). Never raises."""
        names = f"{self._aliases.cases},{self._aliases.changes}"
        try:
            health = self._es.cluster.health(index=names, timeout="2s")
            if health.get("status") not in ("green", "yellow") or health.get("timed_out"):
                return False
            blocks = self._es.cluster.state(metric="blocks", index=names)["blocks"]
        except Exception:  # noqa: BLE001 - unreachable, timed out, missing: not back yet
            return False
        groups = [blocks.get("global", {})] + list(blocks.get("indices", {}).values())
        return not any("write" in block.get("levels", ())
                       for group in groups for block in group.values())


def _describe(exc: BaseException) -> str:
    text = str(exc)
    message = getattr(exc, "message", None)  # elastic_transport keeps the cause's text here
    if isinstance(message, str) and message and message not in text:
        text = f"{text} ({message})"
    return f"{type(exc).__name__}: {text}"[:500]


def _item_error(error: Any) -> str:
    if isinstance(error, Mapping):
        return f"{error.get('type', 'error')}: {error.get('reason', '')}"[:300]
    return str(error)[:300]


def _version(hit: Mapping[str, Any]) -> DocumentVersion:
    return (str(hit["_index"]), str(hit["_id"]), int(hit["_version"]), int(hit["_seq_no"]))


class EsCaseReader:
    def __init__(self, es: Elasticsearch, aliases: Aliases) -> None:
        self._es = es
        self._aliases = aliases

    def get_case(self, receipt_number: str) -> dict[str, Any] | None:
        """Real-time GET by ``_id`` (= receipt number): sees a write before the next refresh."""
        try:
            answer = self._es.get(index=self._aliases.cases, id=receipt_number)
        except NotFoundError:
            return None
        return dict(answer["_source"])

    def _search(self, index: str, body: Mapping[str, Any]) -> SearchAnswer:
        try:
            answer = self._es.search(index=index, body=dict(body))
        except NotFoundError:
            return SearchAnswer(0, [], {})
        total = answer["hits"].get("total", {}).get("value", 0)
        hits = answer["hits"]["hits"]
        versions = ([_version(h) for h in hits]
                    if body.get("version") and body.get("seq_no_primary_term") else [])
        return SearchAnswer(int(total), [dict(h.get("_source", {})) for h in hits],
                            dict(answer.get("aggregations", {})), versions)

    def search_cases(self, body: Mapping[str, Any]) -> SearchAnswer:
        return self._search(self._aliases.cases, body)

    def get_cases(self, receipt_numbers: Sequence[str]
                  ) -> list[tuple[DocumentVersion, dict[str, Any]]]:
        """One multi-get through the cases alias, as of the last refresh (``realtime``
        off: the view the search had)."""
        try:
            answer = self._es.mget(index=self._aliases.cases, ids=list(receipt_numbers),
                                   realtime=False)
        except NotFoundError:
            return []
        broken = [doc for doc in answer["docs"] if "error" in doc]
        if broken:
            raise SearchUnavailable("elasticsearch", f"{len(broken)} of {len(answer['docs'])} "
                                    f"documents unreadable: {_item_error(broken[0]['error'])}")
        return [(_version(doc), dict(doc["_source"])) for doc in answer["docs"]
                if doc.get("found")]

    def search_changes(self, body: Mapping[str, Any]) -> SearchAnswer:
        return self._search(self._aliases.changes, body)

    def scan_cases(self, query: Mapping[str, Any], page_size: int = 500
                   ) -> Iterator[dict[str, Any]]:
        """search_after over receipt_number: stable, no scroll context to leak."""
        after: list[Any] | None = None
        while True:
            body: dict[str, Any] = {"query": dict(query), "size": page_size,
                                    "sort": [{"receipt_number": "asc"}]}
            if after is not None:
                body["search_after"] = after
            try:
                hits = self._es.search(index=self._aliases.cases, body=body)["hits"]["hits"]
            except NotFoundError:
                return
            for hit in hits:
                yield dict(hit["_source"])
            if len(hits) < page_size:
                return
            after = hits[-1]["sort"]
