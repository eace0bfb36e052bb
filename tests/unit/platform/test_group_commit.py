"""``GroupCommit``: a lone caller runs inline; callers arriving while a call runs are served by
one call; failures reach exactly the callers of the failing group."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

import pytest

from pantau_platform.group_commit import GroupCommit
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
        self.open.wait(10)
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


def test_a_failure_reaches_every_caller_of_its_group_and_no_other() -> None:
    def answer(item: int) -> object:
        if item == 2:
            raise LookupError("the database is away")
        return item

    gate = Gate(answer)
    commit: GroupCommit[int, object] = GroupCommit(gate, max_group=2)
    with ThreadPoolExecutor(4) as pool:
        first = pool.submit(commit, 0)
        assert gate.entered.wait(10)
        second = pool.submit(commit, 1)
        wait_for(lambda: commit.queued == 1, message="one queued")
        third = pool.submit(commit, 2)
        wait_for(lambda: commit.queued == 2, message="two queued")
        fourth = pool.submit(commit, 3)
        wait_for(lambda: commit.queued == 3, message="three queued")
        gate.open.set()
        assert first.result(10) == 0 and fourth.result(10) == 3
        for failed in (second, third):
            with pytest.raises(LookupError):
                failed.result(10)
    assert gate.groups == [[0], [1, 2], [3]]
    assert commit(4) == 4  # and the next call runs


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
