"""``WrittenEntries``: the indexer's memory of which timeline entries it already wrote.

Every ``case.updated`` carries the whole public record, and each timeline entry is one change
document. Written naively, a case's k-th update re-sends its k − 1 earlier entries, which the
index refuses as version conflicts: O(n²) bulk items over a case's life, and for the end-to-end
benchmark's four-step cases 3,000 conflicts per 7,000 bulk items (43 %). Conflicts are not free:
Elasticsearch parses each document before it compares versions (docs/performance.md, "Seventh
pass").

The memory answers, per receipt number, "every entry up to ``seq`` is in the concrete index
``index``". The indexer then sends only the entries after that. It is a cache, never a source of
truth, and it is safe to lose: a receipt it does not know (a new process, an evicted case) gets
every entry, as before. The concrete index name (what Elasticsearch reports for each bulk item,
behind the alias) is what keeps it honest when the index changes behind the indexer's back: when
a rebuild swaps the alias, an answer names another index, and the caller re-sends that case's
whole timeline at once (``service.indexing``). That keeps the rebuild's promise that a case's
next revision repairs what a catch-up missed.

What it relies on, and where it stops:

* timeline entries are append-only with strictly increasing ``seq`` (tracking appends each step
  as ``len(history) + 1``; a buffered event applied later gets a new, higher seq). A timeline
  whose seqs do not increase is sent whole (``first_unsent``), whatever is remembered;
* a refused entry, or answers naming more than one index, make it forget the case: its next
  update sends the whole timeline again, as before;
* an index that loses documents but keeps its name (a snapshot restored over it, a stale copy
  forced to primary) is not noticed. Restart the indexers (the memory is in process) or rebuild
  — which is what restoring an index calls for anyway (docs/operations.md).

Bounded: least recently used receipts are forgotten past ``size`` (≈ 215 bytes each, measured
with tracemalloc: 11 MB for the default 50,000). Plain Python, used by one thread (one batch at a
time per indexer process).
"""

from __future__ import annotations

import sys
from collections import OrderedDict
from collections.abc import Sequence

DEFAULT_SIZE = 50_000


def first_unsent(known: tuple[str, int] | None, seqs: Sequence[int]) -> int:
    """Send the entries above this ``seq``: those not known written, and always the newest one
    (a cheap conflict when it is not new), whose answer names the index behind the alias — so a
    swap is noticed even by an update that adds no entry."""
    if known is None or not seqs or any(b <= a for a, b in zip(seqs, seqs[1:], strict=False)):
        return 0
    return min(known[1], seqs[-1] - 1)


class WrittenEntries:
    """Per receipt number: ``(concrete index, highest seq)`` known written; see the module."""

    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        if size < 0:
            raise ValueError("size must be 0 or more")
        self._size = size
        self._known: OrderedDict[str, tuple[str, int]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._known)

    def get(self, receipt_number: str) -> tuple[str, int] | None:
        """``(concrete index, highest seq)`` known written for this case, or None."""
        known = self._known.get(receipt_number)
        if known is not None:
            self._known.move_to_end(receipt_number)
        return known

    def record(self, receipt_number: str, index: str, seq: int) -> None:
        """Every entry of the case up to ``seq`` is now in ``index``. A lower ``seq`` for the
        same index never lowers what is known (an older revision arriving late)."""
        if self._size == 0:
            return
        known = self._known.get(receipt_number)
        if known is not None and known[0] == index and known[1] >= seq:
            self._known.move_to_end(receipt_number)
            return
        self._known[receipt_number] = (sys.intern(index), seq)
        self._known.move_to_end(receipt_number)
        while len(self._known) > self._size:
            self._known.popitem(last=False)

    def forget(self, receipt_number: str) -> None:
        self._known.pop(receipt_number, None)

    def settle(self, receipt_number: str, known: tuple[str, int] | None, newest: int,
               answers: Sequence[tuple[str | None, bool]], *, whole: bool = False) -> bool:
        """Take in the answers (index name, ok) to one case's change documents of a bulk
        request; ``known`` is what was remembered when they were planned, ``newest`` the highest
        seq of the case's timeline, ``whole`` that every entry was sent. True: the entries went
        to another index than ``known`` names — send the whole timeline there."""
        if not answers:
            return False  # nothing sent: nothing learnt
        names = {name for name, _ok in answers}
        if len(names) != 1 or None in names:
            self.forget(receipt_number)  # cannot tell where they went
            return False
        (name,) = names
        assert name is not None
        if not whole and known is not None and known[0] != name:
            return True
        if all(ok for _name, ok in answers):
            self.record(receipt_number, name, newest)
        else:
            self.forget(receipt_number)  # a refused entry: the next update sends everything
        return False
