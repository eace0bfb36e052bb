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
independently (a caller never sees another's item), and a call that raises must have changed
nothing (one transaction). When a group's call raises, each of its items is run again alone, so
a fault of one item fails only its caller; a failure every item shares (the database is away)
reaches each caller from its own call. A per-item refusal is better returned as a result.
Groups run one after another, in arrival order; a caller whose call returned is ordered before
any call made after it.

Interruptions (eventlet's ``GreenletExit`` or ``Timeout``, ``KeyboardInterrupt``): a caller
interrupted while it waits leaves the queue (and passes on its turn to run the next group, if it
had just been given it); a runner interrupted inside ``work`` raises that to its own caller, and
every other caller of its group gets ``GroupInterrupted`` — whether their items were written is
then unknown, as after any failed call.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

I = TypeVar("I")  # noqa: E741 - the item type
R = TypeVar("R")


class GroupInterrupted(RuntimeError):
    """The call serving this caller's item was interrupted before it answered."""


_NOTHING: object = object()


class _Slot(Generic[I, R]):
    __slots__ = ("done", "error", "item", "lead", "result")

    def __init__(self, item: I) -> None:
        self.item = item
        self.done = threading.Event()
        self.lead = False  # woken to run the next group rather than with a result
        self.result: object = _NOTHING
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
            try:
                slot.done.wait()
            except BaseException:
                self._abandon(slot)
                raise
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
            self._settle(group)
        finally:
            for slot in group:
                if slot.error is None and slot.result is _NOTHING:
                    slot.error = GroupInterrupted("the call serving this item was interrupted")
            with self._lock:
                self._hand_over()
            for slot in group:
                slot.done.set()

    def _settle(self, group: list[_Slot[I, R]]) -> None:
        try:
            results = self._call([slot.item for slot in group])
        except Exception as exc:  # noqa: BLE001 - given to the callers, never lost
            if len(group) == 1:
                group[0].error = exc
                return
            for slot in group:  # each alone: one item's fault fails only its caller
                try:
                    (slot.result,) = self._call([slot.item])
                except Exception as alone:  # noqa: BLE001 - given to its caller
                    slot.error = alone
            return
        for slot, result in zip(group, results, strict=True):
            slot.result = result

    def _call(self, items: list[I]) -> Sequence[R]:
        results = self._work(items)
        if len(results) != len(items):
            raise RuntimeError(f"group commit: {len(results)} results for {len(items)} items")
        return results

    def _abandon(self, slot: _Slot[I, R]) -> None:
        """A waiting caller was interrupted: leave the queue; pass on its turn if it had it."""
        with self._lock:
            if slot in self._queue:
                self._queue.remove(slot)
                if slot.lead:
                    self._hand_over()

    def _hand_over(self) -> None:
        """(Lock held.) The first queued caller runs the next group; with nobody queued, the
        next caller to arrive runs at once."""
        if self._queue:
            successor = self._queue[0]
            successor.lead = True
            successor.done.set()
        else:
            self._running = False
