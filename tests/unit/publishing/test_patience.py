"""The rebuild waits out outages: a bulk Elasticsearch cannot take and a page tracking does not
answer are retried with back-off until they work or the patience runs out (no real sleeping)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import pytest
from nameko.exceptions import RemoteError, RpcTimeout

from pantau_publishing.adapters.search.rebuild import bulk_patiently
from pantau_publishing.adapters.search.store import EsSearchIndex
from pantau_publishing.service.ports import BulkItemResult, IndexAction, SearchUnavailable
from pantau_tools.rpc import patiently, transient

ACTIONS = [IndexAction("cases", "BDG-1", 1, {"receipt_number": "BDG-1"})]


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.pauses: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.pauses.append(seconds)
        self.now += seconds

    def __call__(self) -> float:
        return self.now


class Writer:
    """Answers from a script: an exception to raise or the results to return."""

    def __init__(self, *script: Any) -> None:
        self.script = list(script)
        self.calls = 0

    def bulk(self, actions: Sequence[IndexAction]) -> list[BulkItemResult]:
        self.calls += 1
        step = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        if isinstance(step, BaseException):
            raise step
        return list(step)


OK = [BulkItemResult(ok=True)]
BUSY = [BulkItemResult(ok=False, transient=True, error="es_rejected_execution_exception: x")]
BROKEN = [BulkItemResult(ok=False, error="document_parsing_exception: x")]


def test_a_bulk_is_retried_until_elasticsearch_takes_it() -> None:
    clock = Clock()
    writer = Writer(SearchUnavailable("elasticsearch", "refused"), BUSY, BUSY, OK)
    results = bulk_patiently(cast(EsSearchIndex, writer), ACTIONS, sleep=clock.sleep,
                             clock=clock)
    assert results == OK and writer.calls == 4
    assert clock.pauses == [0.5, 1.0, 2.0]


def test_a_bulk_gives_up_after_the_patience_and_never_retries_poison() -> None:
    clock = Clock()
    writer = Writer(SearchUnavailable("elasticsearch", "refused"))
    with pytest.raises(SearchUnavailable, match="gave up"):
        bulk_patiently(cast(EsSearchIndex, writer), ACTIONS, patience=60, sleep=clock.sleep,
                       clock=clock)
    assert clock.now <= 60 and max(clock.pauses) == 15.0
    poison = Writer(BROKEN)
    assert bulk_patiently(cast(EsSearchIndex, poison), ACTIONS, sleep=clock.sleep,
                          clock=clock) == BROKEN
    assert poison.calls == 1


def test_a_page_is_asked_for_again_while_tracking_is_away() -> None:
    clock = Clock()
    answers: list[Any] = [RpcTimeout(), RemoteError("OperationalError", "server closed the "
                                                    "connection unexpectedly"), [{"r": 1}]]
    asked: list[tuple[str | None, int]] = []

    def fetch(after: str | None, limit: int) -> list[dict[str, Any]]:
        asked.append((after, limit))
        answer = answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return list(answer)

    assert patiently(fetch, sleep=clock.sleep, clock=clock)("A-1", 500) == [{"r": 1}]
    assert asked == [("A-1", 500)] * 3 and clock.pauses == [0.5, 1.0]


def test_a_page_error_that_is_not_an_outage_is_raised_at_once() -> None:
    def fetch(after: str | None, limit: int) -> list[dict[str, Any]]:
        raise RemoteError("ValueError", "bad limit")

    with pytest.raises(RemoteError):
        patiently(fetch, sleep=pytest.fail)(None, 500)  # type: ignore[arg-type]
    assert transient(RpcTimeout()) and not transient(ValueError())
