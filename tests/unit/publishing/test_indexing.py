import json
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pantau_publishing.service.indexing import IndexBatch
from pantau_publishing.service.ports import (
    BulkItemResult,
    IndexAction,
    ReceivedMessage,
    SearchUnavailable,
)
from tests.unit.publishing.factories import case_updated, public_case
from tests.unit.publishing.fakes import FakeIndex


def message(body: bytes) -> ReceivedMessage:
    return ReceivedMessage(body=body, routing_key="case.updated.kota-bandung",
                           exchange="pantau.cases", message_id="m-1")


def test_a_batch_is_one_bulk_request_with_external_versions() -> None:
    index = FakeIndex()
    batch = [message(case_updated(public_case(f"BDG-PBG-2026-00000{i}", revision=2)))
             for i in range(3)]
    outcome = IndexBatch(index).handle(batch)
    assert outcome.indexed == 3 and outcome.dead_lettered == 0
    assert len(index.requests) == 1
    case_actions = [a for a in index.requests[0] if a.target == "cases"]
    assert [a.version for a in case_actions] == [2, 2, 2]
    assert len([a for a in index.requests[0] if a.target == "changes"]) == 6


def test_older_revision_never_regresses_and_counts_as_superseded() -> None:
    index = FakeIndex()
    handler = IndexBatch(index)
    handler.handle([message(case_updated(public_case(revision=3)))])
    outcome = handler.handle([message(case_updated(public_case(revision=2)))])
    assert outcome.superseded == 1 and not outcome.failures
    assert index.docs[("cases", "BDG-PBG-2026-000123")][0] == 3


def test_invalid_event_is_dead_lettered_with_field_errors() -> None:
    index = FakeIndex()
    record = public_case()
    record["nik"] = "3273011203850001"  # not in the allowlist
    outcome = IndexBatch(index).handle([message(case_updated(record)), message(b"not json")])
    assert outcome.dead_lettered == 2 and sorted(outcome.failures) == [0, 1]
    assert not index.requests
    reason = outcome.failures[0]
    assert reason["reason"] == "contract-violation"
    assert any(e["field"] == "data.case.nik" for e in reason["errors"])
    assert "3273011203850001" not in json.dumps(reason["errors"][0]["expected"])


def test_sequence_must_match_the_revision() -> None:
    outcome = IndexBatch(FakeIndex()).handle([message(case_updated(public_case(revision=2),
                                                                       sequence=5))])
    assert outcome.failures[0]["errors"][0]["field"] == "sequence"


def test_item_errors_dead_letter_only_that_message() -> None:
    index = FakeIndex(fail_ids=["BDG-PBG-2026-000002"])
    outcome = IndexBatch(index).handle([
        message(case_updated(public_case("BDG-PBG-2026-000001"))),
        message(case_updated(public_case("BDG-PBG-2026-000002")))])
    assert outcome.indexed == 1 and outcome.dead_lettered == 1
    assert list(outcome.failures) == [1] and outcome.failures[1]["reason"] == "index-error"


def test_failures_are_reported_by_position_even_for_equal_messages() -> None:
    same = message(b"{not json")
    outcome = IndexBatch(FakeIndex()).handle([message(case_updated(public_case())), same, same])
    assert sorted(outcome.failures) == [1, 2]
    assert outcome.failures[1]["reason"] == "contract-violation"


def test_notes_reach_the_index_redacted() -> None:
    index = FakeIndex()
    IndexBatch(index).handle([message(case_updated(public_case(
        revision=2, note="telp 081234567890")))])
    stored = json.dumps([doc for _v, doc in index.docs.values()])
    assert "081234567890" not in stored


def test_case_overdue_is_acknowledged_without_a_write() -> None:
    from datetime import UTC, datetime

    from pantau_contracts.envelope import event_to_json, make_event

    overdue = event_to_json(make_event(
        type="case.overdue", source="/kota-bandung/tracking", sequence=4,
        data={"receipt_number": "BDG-PBG-2026-000123", "jurisdiction_code": "kota-bandung",
              "department_code": "dpmptsp", "service_code": "pbg", "due_date": "2026-03-16",
              "detected_at": datetime(2026, 3, 17, tzinfo=UTC).isoformat()}))
    index = FakeIndex()
    outcome = IndexBatch(index).handle([message(overdue)])
    assert outcome.ignored == 1 and not outcome.failures and not index.requests



def test_change_documents_are_versioned_by_their_seq_so_repeats_are_cheap_conflicts() -> None:
    index = FakeIndex()
    handler = IndexBatch(index)
    handler.handle([message(case_updated(public_case(revision=2)))])
    assert [(a.doc_id, a.version) for a in index.requests[-1] if a.target == "changes"] == [
        ("BDG-PBG-2026-000123-00001", 1), ("BDG-PBG-2026-000123-00002", 2)]
    outcome = handler.handle([message(case_updated(public_case(revision=3)))])
    assert outcome.indexed == 1 and outcome.superseded == 0
    changes = [(a.doc_id, r.conflict) for a, r in zip(index.requests[-1], index.results[-1],
                                                       strict=True) if a.target == "changes"]
    # the third update writes only its new entry; the earlier two are not rewritten
    assert changes == [("BDG-PBG-2026-000123-00001", True), ("BDG-PBG-2026-000123-00002", True),
                       ("BDG-PBG-2026-000123-00003", False)]


def test_a_transient_item_error_holds_the_whole_batch_and_dead_letters_nothing() -> None:
    index = FakeIndex(fail_ids=["BDG-PBG-2026-000002"], busy_ids=["BDG-PBG-2026-000003"])
    batch = [message(case_updated(public_case(f"BDG-PBG-2026-00000{i}"))) for i in (1, 2, 3)]
    batch.append(message(b"not json"))
    with pytest.raises(SearchUnavailable) as caught:  # no outcome: nothing is dead-lettered
        IndexBatch(index).handle(batch)
    assert caught.value.dependency == "elasticsearch"
    assert "es_rejected_execution_exception" in caught.value.detail
    index.busy_ids.clear()  # the cluster takes writes again: the same batch goes through
    outcome = IndexBatch(index).handle(batch)
    assert outcome.superseded == 1 and outcome.indexed == 1 and outcome.dead_lettered == 2
    assert {i: r["reason"] for i, r in outcome.failures.items()} == {
        1: "index-error", 3: "contract-violation"}


def test_the_whole_request_failing_transiently_propagates() -> None:
    class Away(FakeIndex):
        def bulk(self, actions: Sequence[IndexAction]) -> list[BulkItemResult]:
            raise SearchUnavailable("elasticsearch", "ConnectionError: refused")

    with pytest.raises(SearchUnavailable):  # no outcome: nothing is dead-lettered
        IndexBatch(Away()).handle([message(case_updated(public_case())), message(b"not json")])


def test_a_case_updated_several_times_in_one_batch_is_written_once() -> None:
    index = FakeIndex()
    batch = [message(case_updated(public_case("BDG-PBG-2026-000001", revision=r)))
             for r in (1, 3, 2)] + [message(case_updated(public_case("BDG-PBG-2026-000002")))]
    outcome = IndexBatch(index).handle(batch)
    assert (outcome.indexed, outcome.superseded, outcome.failures) == (2, 2, {})
    (request,) = index.requests
    cases = [(a.doc_id, a.version) for a in request if a.target == "cases"]
    assert cases == [("BDG-PBG-2026-000001", 3), ("BDG-PBG-2026-000002", 1)]
    changes = [(a.doc_id, a.version) for a in request if a.target == "changes"]
    assert len(changes) == len(set(changes))  # each timeline entry once


def test_when_the_newest_revision_is_refused_the_older_ones_of_the_batch_still_land() -> None:
    receipt = "BDG-PBG-2026-000001"
    index = FakeIndex(fail_versions=[("cases", receipt, 3)])
    outcome = IndexBatch(index).handle([message(case_updated(public_case(receipt, revision=r)))
                                        for r in (1, 2, 3)])
    assert sorted(outcome.failures) == [2] and outcome.failures[2]["reason"] == "index-error"
    assert index.docs[("cases", receipt)][0] == 2  # as one by one: revision 2 is shown
    assert (outcome.indexed, outcome.superseded) == (2, 0)  # both written, in order


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2), st.integers(1, 5)), min_size=1, max_size=12),
       st.integers(1, 6), st.sets(st.tuples(st.integers(0, 2), st.integers(1, 5)), max_size=3))
def test_batching_never_changes_what_the_index_ends_up_with(
        updates: list[tuple[int, int]], size: int, refused: set[tuple[int, int]]) -> None:
    """Whatever the revisions, however they are cut into batches and whichever case versions
    the index refuses for good, the index holds what one-message-at-a-time indexing gives."""
    bodies = [case_updated(public_case(f"BDG-PBG-2026-00000{case}", revision=revision))
              for case, revision in updates]
    fail = [("cases", f"BDG-PBG-2026-00000{case}", revision) for case, revision in refused]
    one_by_one, batched = FakeIndex(fail_versions=fail), FakeIndex(fail_versions=fail)
    for body in bodies:
        IndexBatch(one_by_one).handle([message(body)])
    for start in range(0, len(bodies), size):
        IndexBatch(batched).handle([message(b) for b in bodies[start:start + size]])
    assert {k: v[0] for k, v in batched.docs.items()} == \
        {k: v[0] for k, v in one_by_one.docs.items()}
