"""Public records rendered once per document version, for long lists read again and again.

An Open311 request list answers up to 1,000 cases, and its clients poll the same recent cases
over and over. Reading them back whole each time — decoding each document, validating and
redacting it again (``clean_case``), then rendering it — was most of the portal's CPU under a
mixed load (``docs/performance.md``, "The portal at a million cases"), and every other request
waited for the interpreter meanwhile.

``RenderedRecords.matching(body)`` asks the search engine for the matching cases' *versions*
only (no document source), renders the versions it does not remember from documents fetched
by id, and remembers each rendering under its version. A version is ``(concrete index,
receipt number, revision)``; the indexer writes with the revision as the external version, so
one version is one document: a case's next revision, or a rebuild into a new index, is a new
version and is read and cleaned again. Nothing is ever served that a version did not produce
through ``clean_case`` in this process, so every rendering is as clean as one made now. A
document refused by ``clean_case`` is remembered as refused (and left out), like any other.

Limits: at most ``max_entries`` renderings, least recently used dropped first; 0 turns the
memory off (one search with the documents, each cleaned and rendered, as before). An index
deleted and created again *under the same name* while the process runs can bring back a
receipt and revision remembered from the old one: restart the portal after doing that by hand
(``docs/operations.md``); a rebuild makes new indices and needs nothing.

Thread-safe (the portal's routes run in a thread pool): one lock around the memory, never held
while the search engine is asked.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar

from pydantic import ValidationError

from pantau_contracts.payloads.public import PublicCaseV2
from pantau_publishing.domain.record import clean_case
from pantau_publishing.service.ports import CaseReader, DocumentVersion

R = TypeVar("R")
_REFUSED: Any = object()  # a version whose document is not a valid public record


class RenderedRecords(Generic[R]):
    def __init__(self, reader: CaseReader, render: Callable[[PublicCaseV2], R],
                 max_entries: int) -> None:
        self._reader = reader
        self._render = render
        self.max_entries = max_entries
        self._lock = threading.Lock()
        self._memory: OrderedDict[DocumentVersion, Any] = OrderedDict()

    def __len__(self) -> int:
        return len(self._memory)

    def matching(self, body: Mapping[str, Any]) -> list[R]:
        """The renderings of the cases a ready-made ``_search`` body finds, in its order;
        documents that are not valid public records are left out."""
        if self.max_entries <= 0:
            answer = self._reader.search_cases(body)
            return [row for row in map(self._rendering, answer.hits) if row is not _REFUSED]
        versions = self._reader.search_cases({**body, "_source": False, "version": True}).versions
        found = self._recall(versions)
        missing = [version[1] for version in versions if version not in found]
        fetched = self._read(missing) if missing else {}
        rows = (found[version] if version in found else fetched.get(version[1], _REFUSED)
                for version in versions)
        return [row for row in rows if row is not _REFUSED]

    def _rendering(self, document: Mapping[str, Any]) -> Any:
        try:
            return self._render(clean_case(document))
        except ValidationError:
            return _REFUSED  # never show a document that is not a valid public record

    def _recall(self, versions: list[DocumentVersion]) -> dict[DocumentVersion, Any]:
        found: dict[DocumentVersion, Any] = {}
        with self._lock:
            for version in versions:
                row = self._memory.get(version, self)
                if row is not self:
                    self._memory.move_to_end(version)
                    found[version] = row
        return found

    def _read(self, receipts: list[str]) -> dict[str, Any]:
        """The renderings of these receipts' documents as they are now, by receipt, each
        remembered under its version. A case updated since the search is rendered at its
        newer version (in the place where the search found it); one deleted since is left
        out."""
        read = [(version, self._rendering(document))
                for version, document in self._reader.get_cases(receipts)]
        with self._lock:
            for version, row in read:
                self._memory[version] = row
                self._memory.move_to_end(version)
            while len(self._memory) > self.max_entries:
                self._memory.popitem(last=False)
        return {version[1]: row for version, row in read}
