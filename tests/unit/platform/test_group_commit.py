"""``GroupCommit``: a lone caller runs inline; callers arriving while a call runs are served by
one call; failures reach exactly the callers of the failing group."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from types import SimpleNamespace

import pytest

from pantau_platform import group_commit
from pantau_platform.group_commit import GroupCommit, GroupInterrupted
from tests.conftest import wait_for


class Gate:
    """Work that records each group and blocks the first one until ``release``."""

    def __init__(self, answer: Callable[[int], object] = lambda item: item * 10) -> None:
        self.groups: list[list[int]] = []
        self.threads: list[int] = []
        self.entered = threading.Event()
        self.open = threading.Event()
        self.answer = answer

    def __call__(self, items: list[int]) -> list[object]:
        self.groups.append(list(items))
        self.threads.append(threading.get_ident())
        self.entered.set()
        assert self.open.wait(10)
        return [self.answer(item) for item in items]


def test_a_lone_caller_runs_the_work_in_its_own_thread() -> None:
    gate = Gate()
    gate.open.set()
    commit: GroupCommit[int, object] = GroupCommit(gate)
    assert commit(1) == 10 and commit(2) == 20
    assert gate.groups == [[1], [2]]
    assert gate.threads == [threading.get_ident()] * 2


def test_callers_arriving_while_a_call_runs_are_served_by_one_call() -> None:
    gate = Gate()
    commit: GroupCommit[int, object] = GroupCommit(gate)
    with ThreadPoolExecutor(8) as pool:
        first = pool.submit(commit, 0)
        assert gate.entered.wait(10)
        rest = [pool.submit(commit, i) for i in range(1, 8)]
        wait_for(lambda: commit.queued == 7, message="seven callers queued")
        gate.open.set()
        assert first.result(10) == 0
        assert [f.result(10) for f in rest] == [i * 10 for i in range(1, 8)]
    assert gate.groups == [[0], list(range(1, 8))]


def test_groups_are_at_most_max_group_and_keep_arrival_order() -> None:
    gate = Gate()
    commit: GroupCommit[int, object] = GroupCommit(gate, max_group=3)
    with ThreadPoolExecutor(8) as pool:
        first = pool.submit(commit, 0)
        assert gate.entered.wait(10)
        rest: list[Future[object]] = []
        for i in range(1, 8):  # one at a time, so the queue order is known
            rest.append(pool.submit(commit, i))
            wait_for(lambda i=i: commit.queued == i, message=f"{i} queued")
        gate.open.set()
        assert [f.result(10) for f in [first, *rest]] == [i * 10 for i in range(8)]
    assert gate.groups == [[0], [1, 2, 3], [4, 5, 6], [7]]


def test_a_failing_group_is_run_again_item_by_item_so_a_fault_fails_only_its_caller() -> None:
    def answer(item: int) -> object:
        if item == 2:
            raise LookupError("item 2 is at fault")
        return item

    gate = Gate(answer)
    commit: GroupCommit[int, object] = GroupCommit(gate)
    with ThreadPoolExecutor(4) as pool:
        first = pool.submit(commit, 0)
        assert gate.entered.wait(10)
        rest = [pool.submit(commit, i) for i in (1, 2, 3)]
        wait_for(lambda: commit.queued == 3, message="three queued")
        gate.open.set()
        assert first.result(10) == 0 and rest[0].result(10) == 1 and rest[2].result(10) == 3
        with pytest.raises(LookupError):
            rest[1].result(10)
    assert gate.groups == [[0], [1, 2, 3], [1], [2], [3]]
    assert commit(4) == 4  # and the next call runs


def test_a_failure_every_item_shares_reaches_each_caller_from_its_own_call() -> None:
    calls: list[list[int]] = []

    def away(items: list[int]) -> list[int]:
        calls.append(items)
        raise ConnectionError("the database is away")

    commit: GroupCommit[int, int] = GroupCommit(away)
    with pytest.raises(ConnectionError):
        commit(1)
    assert calls == [[1]]


class Interrupted(BaseException):
    """Stands for eventlet's GreenletExit or Timeout: not an ``Exception``."""


class Callers:
    """Threads calling ``commit``; what each got back (or raised) by item."""

    def __init__(self, commit: GroupCommit[int, object]) -> None:
        self.commit, self.outcomes, self.threads = commit, dict[int, object](), []

    def start(self, item: int) -> threading.Thread:
        thread = threading.Thread(target=self._call, args=(item,))
        self.threads.append(thread)
        thread.start()
        return thread

    def _call(self, item: int) -> None:
        try:
            self.outcomes[item] = self.commit(item)
        except BaseException as exc:  # noqa: BLE001 - recorded for the assertions
            self.outcomes[item] = exc

    def join(self) -> dict[int, object]:
        for thread in self.threads:
            thread.join(10)
        return self.outcomes


def test_a_caller_interrupted_while_waiting_passes_on_its_turn() -> None:
    class DiesWhenWoken(threading.Event):
        def wait(self, timeout: float | None = None) -> bool:
            super().wait(timeout)
            raise Interrupted

    gate = Gate()
    commit: GroupCommit[int, object] = GroupCommit(gate)
    callers = Callers(commit)
    callers.start(0)
    assert gate.entered.wait(10)
    # only the module's own name is rebound: the next slot it makes gets the dying event
    group_commit.threading = SimpleNamespace(Event=DiesWhenWoken)  # type: ignore[assignment]
    try:
        callers.start(1)
        wait_for(lambda: commit.queued == 1, message="the dying caller queued")
    finally:
        group_commit.threading = threading
    callers.start(2)
    wait_for(lambda: commit.queued == 2, message="two queued")
    gate.open.set()  # 0 ends and hands the turn to 1, which dies: 2 must run all the same
    outcomes = callers.join()
    assert outcomes[0] == 0 and isinstance(outcomes[1], Interrupted) and outcomes[2] == 20
    assert gate.groups == [[0], [2]] and commit.queued == 0
    assert commit(3) == 30


def test_a_runner_interrupted_inside_the_work_fails_the_others_with_group_interrupted() -> None:
    def answer(item: int) -> object:
        if item == 1:
            raise Interrupted
        return item

    gate = Gate(answer)
    commit: GroupCommit[int, object] = GroupCommit(gate)
    callers = Callers(commit)
    callers.start(0)
    assert gate.entered.wait(10)
    for item in (1, 2):
        callers.start(item)
        wait_for(lambda item=item: commit.queued == item, message=f"{item} queued")
    gate.open.set()
    outcomes = callers.join()
    assert outcomes[0] == 0 and isinstance(outcomes[1], Interrupted)
    assert isinstance(outcomes[2], GroupInterrupted)
    assert commit(3) == 3


def test_work_that_answers_the_wrong_number_of_results_fails_its_callers() -> None:
    commit: GroupCommit[int, int] = GroupCommit(lambda items: [])
    with pytest.raises(RuntimeError, match="0 results for 1 items"):
        commit(1)
    with pytest.raises(ValueError):
        GroupCommit(lambda items: items, max_group=0)


def test_many_threads_each_get_their_own_answer() -> None:
    seen: list[int] = []

    def work(items: list[int]) -> list[int]:
        seen.extend(items)
        return [item + 1 for item in items]

    commit: GroupCommit[int, int] = GroupCommit(work, max_group=16)
    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(commit, range(2000)))
    assert answers == [i + 1 for i in range(2000)]
    assert sorted(seen) == list(range(2000))  # each item exactly once
