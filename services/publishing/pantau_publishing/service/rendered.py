"""Public records rendered once per document version, for long lists read again and again.

An Open311 request list answers up to 1,000 cases, and its clients poll the same recent cases
over and over. Reading them back whole each time — decoding each document, validating and
redacting it again (``clean_case``), then rendering it — was most of the portal's CPU under a
mixed load (``docs/performance.md``, "The portal at a million cases"), and every other request
waited for the interpreter meanwhile.

``RenderedRecords.matching(body)`` asks the search engine for the matching cases' *versions*
only (no document source), renders the versions it does not remember from documents fetched
by id, and remembers each rendering under its version. A version is ``(concrete index,
receipt number, revision, sequence number)``; the indexer writes with the revision as the
external version, and Elasticsearch numbers every write of an index, so one version is one
document: a case's next revision, a document written again, or a rebuild into a new index is a
new version and is read and cleaned again. The documents are fetched as of the search's
refresh; a case that changed between the two reads is searched again with the query narrowed
to it, so a list never shows a case its query does not match. Nothing is ever served that a
version did not produce through ``clean_case`` in this process, so every rendering is as clean
as one made now. A document refused by ``clean_case`` is remembered as refused (and left out),
like any other.

Limits: at most ``max_entries`` renderings, least recently used dropped first; 0 turns the
memory off (one search with the documents, each cleaned and rendered, as before). An index
deleted and created again *under the same name* while the process runs could bring back a
version remembered from the old one (same receipt, revision and sequence number): restart the
portal after doing that by hand (``docs/operations.md``); a rebuild makes new indices.

Thread-safe (the portal's routes run in a thread pool): one lock around the memory, never held
while the search engine is asked.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Generic, TypeVar

from pantau_contracts.payloads.public import PublicCaseV2
from pantau_publishing.domain.record import clean_or_none
from pantau_publishing.service.ports import CaseReader, DocumentVersion

R = TypeVar("R")
_REFUSED: Any = object()  # a version whose document is not a valid public record
_MISSING: Any = object()  # not remembered
VERSIONS = {"version": True, "seq_no_primary_term": True}  # what a version is made of


def only(body: Mapping[str, Any], receipts: list[str]) -> dict[str, Any]:
    """``body``'s query narrowed to these receipts, all of them in one page, with versions."""
    query = {"bool": {"filter": [body.get("query", {"match_all": {}}),
                                 {"ids": {"values": receipts}}]}}
    return {"query": query, "size": len(receipts), "track_total_hits": False, **VERSIONS}


class RenderedRecords(Generic[R]):
    """``render`` applied to the clean record of every case a search finds, each version's
    rendering remembered (at most ``max_entries``; 0: none). See the module docstring."""

    def __init__(self, reader: CaseReader, render: Callable[[PublicCaseV2], R],
                 max_entries: int) -> None:
        self._reader = reader
        self._render = render
        self.max_entries = max_entries
        self._lock = threading.Lock()
        self._memory: OrderedDict[DocumentVersion, R] = OrderedDict()

    def __len__(self) -> int:
        return len(self._memory)

    def matching(self, body: Mapping[str, Any]) -> list[R]:
        """The renderings of the cases a ready-made ``_search`` body finds, in its order;
        documents that are not valid public records are left out."""
        if self.max_entries <= 0:
            answer = self._reader.search_cases(body)
            return [row for row in map(self._rendering, answer.hits) if row is not _REFUSED]
        versions = self._reader.search_cases({**body, "_source": False, **VERSIONS}).versions
        found = self._recall(versions)
        missing = [version for version in versions if version not in found]
        by_receipt = self._read(missing, body) if missing else {}
        rows = (found[version] if version in found else by_receipt.get(version[1], _REFUSED)
                for version in versions)
        return [row for row in rows if row is not _REFUSED]

    def _rendering(self, document: Mapping[str, Any]) -> Any:
        case = clean_or_none(document)
        return _REFUSED if case is None else self._render(case)

    def _recall(self, versions: list[DocumentVersion]) -> dict[DocumentVersion, R]:
        found: dict[DocumentVersion, R] = {}
        with self._lock:
            for version in versions:
                row = self._memory.get(version, _MISSING)
                if row is not _MISSING:
                    self._memory.move_to_end(version)
                    found[version] = row
        return found

    def _read(self, missing: list[DocumentVersion], body: Mapping[str, Any]) -> dict[str, Any]:
        """The renderings of these versions, by receipt: fetched by id as of the same refresh
        as the search. A case whose document changed between the two reads is searched again
        with ``body`` narrowed to it, so what is shown still matches the query (at its newer
        version, in the place the first search found it); one deleted or no longer matching
        is left out."""
        wanted = set(missing)
        got = self._remember(self._reader.get_cases([version[1] for version in missing]))
        rows = {version[1]: row for version, row in got.items() if version in wanted}
        changed = [version[1] for version in missing if version not in got]
        if changed:
            again = self._reader.search_cases(only(body, changed))
            rows.update((version[1], row) for version, row in
                        self._remember(zip(again.versions, again.hits, strict=True)).items())
        return rows

    def _remember(self, documents: Iterable[tuple[DocumentVersion, Mapping[str, Any]]]
                  ) -> dict[DocumentVersion, Any]:
        read = {version: self._rendering(document) for version, document in documents}
        with self._lock:
            for version, row in read.items():
                self._memory[version] = row
                self._memory.move_to_end(version)
            while len(self._memory) > self.max_entries:
                self._memory.popitem(last=False)
        return read
