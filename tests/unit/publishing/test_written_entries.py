"""The indexer sends only the timeline entries it does not remember writing, and still ends up
with exactly what sending every entry every time gives (``service.written_entries``)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pantau_publishing.service.indexing import IndexBatch
from pantau_publishing.service.ports import ReceivedMessage
from pantau_publishing.service.written_entries import WrittenEntries, first_unsent
from tests.unit.publishing.factories import case_updated, public_case
from tests.unit.publishing.fakes import FakeIndex

RECEIPT = "BDG-PBG-2026-000123"


def update(revision: int, receipt: str = RECEIPT) -> ReceivedMessage:
    return ReceivedMessage(body=case_updated(public_case(receipt, revision=revision)),
                           routing_key="case.updated.kota-bandung", exchange="pantau.cases")


def sent_changes(index: FakeIndex) -> list[int]:
    return [a.version for a in index.requests[-1] if a.target == "changes"]


def test_each_update_sends_only_its_new_entries() -> None:
    index, memory = FakeIndex(), WrittenEntries()
    for revision in (1, 2, 3, 4):
        outcome = IndexBatch(index, memory).handle([update(revision)])
        assert outcome.indexed == 1 and not outcome.failures
        assert sent_changes(index) == [revision]
    assert memory.get(RECEIPT) == ("changes-1", 4)
    assert not any(r.conflict for results in index.results for r in results)


def test_a_case_it_does_not_remember_gets_its_whole_timeline() -> None:
    index = FakeIndex()
    IndexBatch(index, WrittenEntries()).handle([update(2)])
    IndexBatch(index, WrittenEntries()).handle([update(3)])  # a restarted indexer
    assert sent_changes(index) == [1, 2, 3]
    assert IndexBatch(index, WrittenEntries(size=0)).handle([update(4)]).indexed == 1
    assert sent_changes(index) == [1, 2, 3, 4]  # memory off: as before


def test_an_update_with_no_new_entry_still_sends_its_newest_one_and_lowers_nothing() -> None:
    """An older revision arriving late, or a redelivery: its newest entry goes anyway (a cheap
    conflict), so the answer names the index behind the alias even then."""
    index, memory = FakeIndex(), WrittenEntries()
    IndexBatch(index, memory).handle([update(3)])
    for revision in (2, 3):
        outcome = IndexBatch(index, memory).handle([update(revision)])
        assert outcome.superseded == 1 and sent_changes(index) == [revision]
        assert all(r.conflict for r in index.results[-1])
    assert memory.get(RECEIPT) == ("changes-1", 3)


def test_after_the_alias_moved_the_whole_timeline_is_written_again_at_once() -> None:
    """A rebuild swapped the alias, and its catch-up missed entry 2 (the race its docs name): the
    next update notices the new index in the answer and repairs the case in the same batch."""
    index, memory = FakeIndex(), WrittenEntries()
    IndexBatch(index, memory).handle([update(2)])
    index.swap(keep=[("cases", RECEIPT), ("changes", f"{RECEIPT}-00001")])
    outcome = IndexBatch(index, memory).handle([update(3)])
    assert outcome.indexed == 1 and not outcome.failures
    assert [a.version for a in index.requests[-2] if a.target == "changes"] == [3]
    assert [a.version for a in index.requests[-1]] == [1, 2, 3]  # the repair: changes only
    assert sorted(k[1] for k in index.docs if k[0] == "changes") == [
        f"{RECEIPT}-00001", f"{RECEIPT}-00002", f"{RECEIPT}-00003"]
    assert memory.get(RECEIPT) == ("changes-2", 3)


def test_a_refused_entry_makes_it_forget_the_case_so_the_next_update_sends_everything() -> None:
    index = FakeIndex(fail_versions=[("changes", f"{RECEIPT}-00002", 2)])
    memory = WrittenEntries()
    IndexBatch(index, memory).handle([update(1)])
    outcome = IndexBatch(index, memory).handle([update(2)])
    assert outcome.failures[0]["reason"] == "index-error"
    assert memory.get(RECEIPT) is None
    index.fail_versions.clear()
    IndexBatch(index, memory).handle([update(3)])
    assert sent_changes(index) == [1, 2, 3]
    assert memory.get(RECEIPT) == ("changes-1", 3)


def test_a_refused_entry_after_a_swap_still_gets_the_case_repaired() -> None:
    """The new index refuses entry 3 for good and lacks entries 1–2: the swap is noticed from
    the refusal's answer all the same, and 1–2 are written again at once."""
    index, memory = FakeIndex(), WrittenEntries()
    IndexBatch(index, memory).handle([update(2)])
    index.swap(keep=[("cases", RECEIPT)])
    index.fail_versions.add(("changes", f"{RECEIPT}-00003", 3))
    outcome = IndexBatch(index, memory).handle([update(3)])
    assert outcome.failures[0]["reason"] == "index-error"  # as when every entry went each time
    assert sorted(k[1][-1] for k in index.docs if k[0] == "changes") == ["1", "2"]
    assert memory.get(RECEIPT) is None  # forgotten: the next update sends everything
    IndexBatch(index, memory).handle([update(4)])
    assert sent_changes(index) == [1, 2, 3, 4]


def test_a_repair_the_index_refuses_fails_the_message_as_before() -> None:
    index, memory = FakeIndex(), WrittenEntries()
    IndexBatch(index, memory).handle([update(2)])
    index.swap(keep=[("cases", RECEIPT)])
    index.fail_versions.add(("changes", f"{RECEIPT}-00001", 1))
    outcome = IndexBatch(index, memory).handle([update(3)])
    assert outcome.failures[0]["reason"] == "index-error" and outcome.indexed == 0
    assert "mapper_parsing_exception" in outcome.failures[0]["detail"]
    assert memory.get(RECEIPT) is None


def test_a_timeline_whose_seqs_do_not_increase_is_sent_whole() -> None:
    assert first_unsent(("changes-1", 5), [1, 2, 3, 6]) == 5
    assert first_unsent(("changes-1", 5), [1, 2, 3]) == 2  # the newest always goes
    assert first_unsent(("changes-1", 5), [1, 3, 2, 6]) == 0
    assert first_unsent(None, [1, 2]) == 0 and first_unsent(("changes-1", 5), []) == 0


def test_a_batch_the_index_cannot_take_now_remembers_nothing() -> None:
    from pantau_publishing.service.ports import SearchUnavailable

    index, memory = FakeIndex(busy_ids=[f"{RECEIPT}-00001"]), WrittenEntries()
    with pytest.raises(SearchUnavailable):
        IndexBatch(index, memory).handle([update(1)])
    assert memory.get(RECEIPT) is None


def test_the_memory_is_bounded_and_forgets_the_least_recently_used() -> None:
    memory = WrittenEntries(size=2)
    memory.record("A", "changes-1", 1)
    memory.record("B", "changes-1", 1)
    assert memory.get("A") == ("changes-1", 1)  # A is now the most recent
    memory.record("C", "changes-1", 1)
    assert memory.get("B") is None and len(memory) == 2
    memory.record("A", "changes-1", 0)  # never lowered in the same index
    assert memory.get("A") == ("changes-1", 1)
    memory.record("A", "changes-2", 1)  # another index: replaced
    assert memory.get("A") == ("changes-2", 1)
    with pytest.raises(ValueError):
        WrittenEntries(size=-1)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2), st.integers(1, 5)), min_size=1, max_size=14),
       st.integers(1, 6), st.integers(0, 3), st.sets(st.integers(0, 13), max_size=2),
       st.sets(st.tuples(st.integers(0, 2), st.integers(1, 4)), max_size=2))
def test_remembering_never_changes_what_the_index_ends_up_with(
        updates: list[tuple[int, int]], size: int, memory_size: int, swaps: set[int],
        refused: set[tuple[int, int]]) -> None:
    """Whatever the revisions and their order, the batch sizes, the memory's size, where the
    alias is swapped to a new index that lost the changes (a catch-up that missed them) and
    which timeline entries the index refuses for good, the index ends with what sending every
    entry every time gives."""
    bodies = [update(revision, f"BDG-PBG-2026-00000{case}") for case, revision in updates]
    fail = [("changes", f"BDG-PBG-2026-00000{case}-{seq:05d}", seq) for case, seq in refused]
    plain, remembering = FakeIndex(fail_versions=fail), FakeIndex(fail_versions=fail)
    memory = WrittenEntries(size=memory_size)
    for start in range(0, len(bodies), size):
        batch = bodies[start:start + size]
        if start in swaps:
            for index in (plain, remembering):
                index.swap(keep=[k for k in index.docs if k[0] == "cases"])
        IndexBatch(plain).handle(batch)
        IndexBatch(remembering, memory).handle(batch)
    assert {k: v[0] for k, v in remembering.docs.items()} == \
        {k: v[0] for k, v in plain.docs.items()}
