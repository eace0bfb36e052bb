"""``service.rendered`` on the real Elasticsearch: versions come from the search without the
documents, the documents by multi-get, and a new revision or a new index behind the alias is
read again."""

from __future__ import annotations

from typing import Any

from pantau_publishing.adapters.search.bootstrap import alias_indices
from pantau_publishing.adapters.search.store import EsCaseReader
from pantau_publishing.domain.open311_query import RequestsQuery, requests_body
from pantau_publishing.service.rendered import RenderedRecords
from tests.integration.publishing.conftest import SearchStack
from tests.integration.publishing.test_search_index import index_records
from tests.unit.publishing.factories import public_case

RECEIPTS = [f"BDG-PBG-2026-{n:06d}" for n in (1, 2, 3)]


class Counting(EsCaseReader):
    """The real reader, noting which receipts it fetched whole."""

    reads: list[list[str]]

    def get_cases(self, receipt_numbers: Any) -> Any:
        self.reads.append(list(receipt_numbers))
        return super().get_cases(receipt_numbers)


def test_each_version_is_fetched_once_and_a_new_index_is_read_again(
        search: SearchStack) -> None:
    index_records(search, *(public_case(r) for r in RECEIPTS))
    reader = Counting(search.es, search.aliases)
    reader.reads = []
    rendered = RenderedRecords(reader, lambda case: (case.receipt_number, case.revision), 100)
    body = requests_body(RequestsQuery("kota-bandung"))

    first = rendered.matching(body)
    assert sorted(first) == [(r, 1) for r in RECEIPTS]
    assert rendered.matching(body) == first and len(reader.reads) == 1

    index_records(search, public_case(RECEIPTS[1], revision=2))
    assert sorted(rendered.matching(body)) == [(RECEIPTS[0], 1), (RECEIPTS[1], 2),
                                               (RECEIPTS[2], 1)]
    assert reader.reads[-1] == [RECEIPTS[1]]

    (old,) = alias_indices(search.es, search.aliases.cases)  # a rebuild's swap, by hand
    moved = f"{old}-moved"
    search.es.indices.create(index=moved, mappings=search.es.indices.get_mapping(
        index=old)[old]["mappings"])
    for hit in search.es.search(index=old, version=True, size=10)["hits"]["hits"]:
        search.es.index(index=moved, id=hit["_id"], document=hit["_source"],
                        version=hit["_version"], version_type="external")
    search.es.indices.refresh(index=moved)
    search.es.indices.update_aliases(actions=[
        {"remove": {"index": old, "alias": search.aliases.cases}},
        {"add": {"index": moved, "alias": search.aliases.cases}}])
    search.es.indices.delete(index=old)  # as a rebuild does
    assert sorted(rendered.matching(body)) == [(RECEIPTS[0], 1), (RECEIPTS[1], 2),
                                               (RECEIPTS[2], 1)]
    assert sorted(reader.reads[-1]) == RECEIPTS
