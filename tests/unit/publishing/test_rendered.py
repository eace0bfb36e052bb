"""``service.rendered``: each case version rendered once, the answers unchanged."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from pantau_contracts.payloads.public import PublicCaseV2
from pantau_publishing.domain.record import case_document, clean_case
from pantau_publishing.service.rendered import RenderedRecords
from tests.unit.publishing.factories import public_case
from tests.unit.publishing.fakes import FakeReader

BODY: dict[str, Any] = {"query": {"bool": {"filter": []}}, "size": 1000}


def document(n: int, revision: int = 1, **changes: Any) -> dict[str, Any]:
    record = public_case(f"BDG-PBG-2026-{n:06d}", revision=revision)
    return {**case_document(clean_case(record)), **changes}


class Counting:
    """A render function that notes which receipt/revision it rendered."""

    def __init__(self) -> None:
        self.rendered: list[tuple[str, int]] = []

    def __call__(self, case: PublicCaseV2) -> dict[str, Any]:
        self.rendered.append((case.receipt_number, case.revision))
        return {"id": case.receipt_number, "revision": case.revision}


def setup(docs: list[dict[str, Any]], entries: int = 100
          ) -> tuple[FakeReader, Counting, RenderedRecords[dict[str, Any]]]:
    reader, render = FakeReader(docs), Counting()
    return reader, render, RenderedRecords(reader, render, entries)


def test_a_version_is_rendered_once_and_read_without_its_document_after() -> None:
    reader, render, rendered = setup([document(1), document(2)])
    first = rendered.matching(BODY)
    second = rendered.matching(BODY)
    assert first == second == [{"id": "BDG-PBG-2026-000001", "revision": 1},
                                {"id": "BDG-PBG-2026-000002", "revision": 1}]
    assert len(render.rendered) == 2
    assert reader.reads == [["BDG-PBG-2026-000001", "BDG-PBG-2026-000002"]]
    assert all(body.get("_source") is False and body.get("version")
               and body.get("seq_no_primary_term") for body in reader.bodies)


def test_a_new_revision_is_read_and_rendered_again() -> None:
    reader, render, rendered = setup([document(1), document(2)])
    rendered.matching(BODY)
    reader.cases["BDG-PBG-2026-000002"] = document(2, revision=2)
    assert [row["revision"] for row in rendered.matching(BODY)] == [1, 2]
    assert reader.reads[-1] == ["BDG-PBG-2026-000002"]
    assert render.rendered[-1] == ("BDG-PBG-2026-000002", 2)


def test_an_invalid_document_is_left_out_and_not_read_again() -> None:
    bad = document(2, kecamatan={"not": "text"})
    reader, render, rendered = setup([document(1), bad])
    assert [row["id"] for row in rendered.matching(BODY)] == ["BDG-PBG-2026-000001"]
    assert [row["id"] for row in rendered.matching(BODY)] == ["BDG-PBG-2026-000001"]
    assert len(reader.reads) == 1 and len(render.rendered) == 1


def test_a_case_updated_between_search_and_read_shows_in_its_place_at_its_new_revision() -> None:
    class Racing(FakeReader):
        def get_cases(self, receipt_numbers: Any) -> Any:
            self.cases["BDG-PBG-2026-000001"] = document(1, revision=5)
            return super().get_cases(receipt_numbers)

    racing = Racing([document(1), document(2)])
    rendered = RenderedRecords(racing, Counting(), 100)
    assert rendered.matching(BODY) == [{"id": "BDG-PBG-2026-000001", "revision": 5},
                                       {"id": "BDG-PBG-2026-000002", "revision": 1}]


def test_a_case_that_no_longer_matches_when_read_is_left_out() -> None:
    class Closing(FakeReader):
        def get_cases(self, receipt_numbers: Any) -> Any:
            self.cases["BDG-PBG-2026-000001"] = document(1, revision=5, status="selesai")
            return super().get_cases(receipt_numbers)

    reader = Closing([document(1), document(2)])
    still = reader.cases["BDG-PBG-2026-000002"]["status"]
    body = {"query": {"bool": {"filter": [{"term": {"status": still}}]}}, "size": 10}
    rendered = RenderedRecords(reader, Counting(), 100)
    assert [row["id"] for row in rendered.matching(body)] == ["BDG-PBG-2026-000002"]
    assert reader.bodies[-1]["query"]["bool"]["filter"][1] == {
        "ids": {"values": ["BDG-PBG-2026-000001"]}}


def test_a_case_deleted_between_search_and_read_is_left_out() -> None:
    class Deleting(FakeReader):
        def get_cases(self, receipt_numbers: Any) -> Any:
            self.cases.pop("BDG-PBG-2026-000001")
            return super().get_cases(receipt_numbers)

    rendered = RenderedRecords(Deleting([document(1), document(2)]), Counting(), 100)
    assert [row["id"] for row in rendered.matching(BODY)] == ["BDG-PBG-2026-000002"]


def test_the_memory_keeps_the_most_recently_used() -> None:
    reader, render, rendered = setup([document(n) for n in range(1, 6)], entries=3)
    rendered.matching(BODY)
    assert len(rendered) == 3
    rendered.matching({**BODY, "size": 2})  # 1 and 2 were dropped: read again
    assert reader.reads[-1] == ["BDG-PBG-2026-000001", "BDG-PBG-2026-000002"]


def test_no_memory_reads_every_document_with_the_search() -> None:
    reader, render, rendered = setup([document(1), document(2, kecamatan=7)], entries=0)
    assert [row["id"] for row in rendered.matching(BODY)] == ["BDG-PBG-2026-000001"]
    rendered.matching(BODY)
    assert reader.reads == [] and len(render.rendered) == 2
    assert all("_source" not in body for body in reader.bodies)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 6), st.integers(1, 4)), max_size=12),
       st.integers(0, 4))
def test_answers_are_what_reading_every_document_gives(
        updates: list[tuple[int, int]], entries: int) -> None:
    """Whatever the updates and the memory's size, every answer equals a fresh render of
    the documents as they are."""
    reader, _, remembered = setup([document(n) for n in range(1, 7)], entries=entries)
    for n, revision in updates:
        reader.cases[f"BDG-PBG-2026-{n:06d}"] = document(n, revision=revision)
        fresh = RenderedRecords(FakeReader(list(reader.cases.values())), Counting(), 0)
        assert remembered.matching(BODY) == fresh.matching(BODY)
