"""``GroupCommit``: concurrent callers' small writes done as ONE call, without a thread of its own.

    remember = GroupCommit(lambda items: store_all_in_one_transaction(items))
    answer = remember(item)        # from many threads at once

Each caller hands in one item and gets back the result for its item. While no call is running,
a caller runs the work at once, alone, in its own thread (no hand-off, no added latency). While
one is running, callers queue; when it ends, the first of them runs the work once for everything
queued (up to ``max_group`` items), so N concurrent callers cost about one call instead of N —
group commit, as databases do for their own log. The same as ``amqp.GroupedPublisher`` does for
broker confirms, but with the callers' own threads: it works unchanged under eventlet's green
threads (nameko processes), where a call rarely has company and simply runs inline.

Contract of ``work(items) -> results``: one result per item, in order; it must treat items
independently (a caller never sees another's item). If it raises, every caller of that group
gets the exception, so it suits work whose failures are shared (the database is away), not a
per-item refusal: return that as a result instead. Groups run one after another, in arrival
order; a caller whose call returned is ordered before any call made after it.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

I = TypeVar("I")  # noqa: E741 - the item type
R = TypeVar("R")


class _Slot(Generic[I, R]):
    __slots__ = ("done", "error", "item", "lead", "result")

    def __init__(self, item: I) -> None:
        self.item = item
        self.done = threading.Event()
        self.lead = False  # woken to run the next group rather than with a result
        self.result: R | None = None
        self.error: BaseException | None = None


class GroupCommit(Generic[I, R]):
    def __init__(self, work: Callable[[list[I]], Sequence[R]], *, max_group: int = 500) -> None:
        if max_group < 1:
            raise ValueError("max_group must be at least 1")
        self._work = work
        self._max = max_group
        self._lock = threading.Lock()
        self._queue: deque[_Slot[I, R]] = deque()
        self._running = False

    def __call__(self, item: I) -> R:
        slot: _Slot[I, R] = _Slot(item)
        with self._lock:
            self._queue.append(slot)
            lead = not self._running
            self._running = True
        if not lead:
            slot.done.wait()
            if not slot.lead:
                return self._outcome(slot)
            slot.done.clear()
        self._run_group()  # the runner's own item is first in the queue, so in this group
        return self._outcome(slot)

    @property
    def queued(self) -> int:
        """Callers waiting for a group (the one running not counted once it started)."""
        with self._lock:
            return len(self._queue)

    @staticmethod
    def _outcome(slot: _Slot[I, R]) -> R:
        if slot.error is not None:
            raise slot.error
        return slot.result  # type: ignore[return-value]  # set together with done

    def _run_group(self) -> None:
        with self._lock:
            group = [self._queue.popleft() for _ in range(min(self._max, len(self._queue)))]
        try:
            results = self._work([slot.item for slot in group])
            if len(results) != len(group):
                raise RuntimeError(f"group commit: {len(results)} results for {len(group)} items")
        except BaseException as exc:  # noqa: BLE001 - handed to every caller of the group
            for slot in group:
                slot.error = exc
        else:
            for slot, result in zip(group, results, strict=True):
                slot.result = result
        finally:
            self._hand_over()
            for slot in group:
                slot.done.set()

    def _hand_over(self) -> None:
        """The first queued caller runs the next group; with nobody queued, the next caller
        to arrive runs at once."""
        with self._lock:
            if self._queue:
                successor = self._queue[0]
                successor.lead = True
                successor.done.set()
            else:
                self._running = False
