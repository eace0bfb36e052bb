"""Hand-written fakes at the publishing ports (no Elasticsearch, no broker)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from pantau_publishing.service.ports import (
    BulkItemResult,
    IndexAction,
    SearchAnswer,
)


class FakeIndex:
    """Keeps documents with external versioning semantics like Elasticsearch. Each answer
    names the concrete index behind the alias (``cases-1``, ``changes-1``); ``swap`` puts a new
    one behind it, as a rebuild does."""

    def __init__(self, fail_ids: Sequence[str] = (), busy_ids: Sequence[str] = (),
                 fail_versions: Sequence[tuple[str, str, int]] = ()) -> None:
        self.docs: dict[tuple[str, str], tuple[int, dict[str, Any]]] = {}
        self.requests: list[list[IndexAction]] = []
        self.results: list[list[BulkItemResult]] = []  # per request, in action order
        self.fail_ids = set(fail_ids)
        self.busy_ids = set(busy_ids)  # answered 429 (rejected execution) for now
        self.fail_versions = set(fail_versions)  # (target, doc_id, version) refused for good
        self.generation = 1

    def swap(self, keep: Sequence[tuple[str, str]] = ()) -> None:
        """A new concrete index behind both aliases, holding only the ``keep`` documents."""
        self.generation += 1
        self.docs = {key: value for key, value in self.docs.items() if key in set(keep)}

    def bulk(self, actions: Sequence[IndexAction]) -> list[BulkItemResult]:
        self.requests.append(list(actions))
        results = []
        for action in actions:
            key = (action.target, action.doc_id)
            name = f"{action.target}-{self.generation}"
            if action.doc_id in self.fail_ids or \
                    (action.target, action.doc_id, action.version) in self.fail_versions:
                results.append(BulkItemResult(ok=False, error="mapper_parsing_exception: boom",
                                              index=name))
            elif action.doc_id in self.busy_ids:
                results.append(BulkItemResult(ok=False, transient=True, index=name,
                                              error="es_rejected_execution_exception: busy"))
            elif key in self.docs and self.docs[key][0] >= action.version:
                results.append(BulkItemResult(ok=True, conflict=True, index=name))
            else:
                self.docs[key] = (action.version, dict(action.document))
                results.append(BulkItemResult(ok=True, index=name))
        self.results.append(results)
        return results


class FakeReader:
    """Answers from a list of case documents; understands ``term`` filters on top-level fields
    (enough for the portal's routing logic); aggregations are canned."""

    def __init__(self, cases: Sequence[dict[str, Any]] = (),
                 changes: Sequence[dict[str, Any]] = (),
                 aggregations: dict[str, Any] | None = None) -> None:
        self.cases = {c["receipt_number"]: c for c in cases}
        self.changes = list(changes)
        self.aggregations = aggregations or {}
        self.bodies: list[Mapping[str, Any]] = []
        self.reads: list[list[str]] = []  # get_cases calls

    def get_case(self, receipt_number: str) -> dict[str, Any] | None:
        return self.cases.get(receipt_number)

    @classmethod
    def _matches(cls, document: dict[str, Any], body: Mapping[str, Any]) -> bool:
        return cls._clause(document, body.get("query", {}))

    @classmethod
    def _clause(cls, document: dict[str, Any], clause: Mapping[str, Any]) -> bool:
        """``term`` on top-level fields, ``ids``, and ``bool`` filters of those."""
        if "ids" in clause:
            return document.get("receipt_number") in clause["ids"]["values"]
        if any(document.get(field) != value for field, value in clause.get("term", {}).items()):
            return False
        return all(cls._clause(document, inner)
                   for inner in clause.get("bool", {}).get("filter", []))

    @staticmethod
    def version(document: dict[str, Any]) -> tuple[str, str, int, int]:
        revision = int(document.get("revision", 1))
        return ("cases-1", document["receipt_number"], revision, revision)

    def search_cases(self, body: Mapping[str, Any]) -> SearchAnswer:
        self.bodies.append(body)
        hits = [c for c in self.cases.values() if self._matches(c, body)]
        size = body.get("size", 20)
        start = body.get("from", 0)
        page = hits[start:start + size]
        versions = [self.version(c) for c in page] if body.get("version") else []
        if body.get("_source") is False:
            page = [{} for _ in page]
        return SearchAnswer(len(hits), page, self.aggregations, versions)

    def get_cases(self, receipt_numbers: Sequence[str]
                  ) -> list[tuple[tuple[str, str, int, int], dict[str, Any]]]:
        self.reads.append(list(receipt_numbers))
        return [(self.version(self.cases[r]), self.cases[r]) for r in receipt_numbers
                if r in self.cases]

    def search_changes(self, body: Mapping[str, Any]) -> SearchAnswer:
        self.bodies.append(body)
        hits = [c for c in self.changes if self._matches(c, body)]
        return SearchAnswer(len(hits), hits[: body.get("size", 50)], {})

    def scan_cases(self, query: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
        for receipt in sorted(self.cases):
            if self._matches(self.cases[receipt], {"query": query}):
                yield self.cases[receipt]
