from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pantau_client.spool import Spool


def test_append_then_drain_in_order(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "s.jsonl")
    for i in range(5):
        spool.append({"n": i})
    delivered: list[Any] = []
    assert spool.drain(lambda r: delivered.append(r["n"])) == 5
    assert delivered == [0, 1, 2, 3, 4]
    assert spool.pending() == []
    assert spool.path.stat().st_size == 0  # compacted


def test_failure_stops_and_resumes_without_loss_or_duplicates(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "s.jsonl")
    for i in range(4):
        spool.append({"n": i})
    delivered: list[int] = []

    def flaky(record: dict[str, Any]) -> None:
        if record["n"] == 2 and not getattr(flaky, "recovered", False):
            raise ConnectionError("down")
        delivered.append(record["n"])

    with pytest.raises(ConnectionError):
        spool.drain(flaky)
    assert delivered == [0, 1]
    spool.append({"n": 4})  # appended while down: after the older ones
    flaky.recovered = True  # type: ignore[attr-defined]
    # a new Spool object (e.g. after a restart) resumes from the position file
    assert Spool(tmp_path / "s.jsonl").drain(flaky) == 3
    assert delivered == [0, 1, 2, 3, 4]


def test_torn_last_line_is_ignored(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "s.jsonl")
    spool.append({"n": 1})
    with spool.path.open("a") as handle:
        handle.write('{"n": 2')  # crash mid-append: never acknowledged to the caller
    assert spool.pending() == [{"n": 1}]


@settings(max_examples=30, deadline=None)
@given(st.lists(st.lists(st.integers(0, 10**6), max_size=6), max_size=5),
       st.lists(st.integers(0, 8), max_size=5))
def test_any_interleaving_delivers_everything_once_in_order(tmp_path_factory: Any,
                                                             batches: list[list[int]],
                                                             failures: list[int]) -> None:
    spool = Spool(tmp_path_factory.mktemp("spool") / "s.jsonl")
    expected: list[int] = []
    delivered: list[int] = []
    budget = list(failures)
    for batch in batches:
        for value in batch:
            spool.append({"v": value})
            expected.append(value)
        state = {"n": 0, "allowed": budget.pop(0) if budget else 10**9}

        def deliver(record: dict[str, Any], state: dict[str, int] = state) -> None:
            if state["n"] >= state["allowed"]:
                raise ConnectionError
            state["n"] += 1
            delivered.append(record["v"])

        try:
            spool.drain(deliver)
        except ConnectionError:
            pass
    spool.drain(lambda r: delivered.append(r["v"]))
    assert delivered == expected
