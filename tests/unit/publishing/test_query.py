from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pantau_publishing.domain.query import (
    QueryError,
    build_query,
    looks_like_receipt,
    parse_facets,
    parse_query,
    search_body,
)


def test_filters_become_term_and_range_clauses() -> None:
    query = parse_query({"q": "pbg coblong", "department": "dpmptsp", "status": "diproses",
                         "overdue": "true", "from": "2026-03-01", "to": "2026-03-31",
                         "sort": "tenggat", "page": "2", "size": "10"})
    body = search_body(query)
    filters = body["query"]["bool"]["filter"]
    assert {"term": {"department_code": "dpmptsp"}} in filters
    assert {"term": {"status": "diproses"}} in filters
    assert {"term": {"overdue": True}} in filters
    assert {"range": {"submitted_at": {"gte": "2026-03-01", "lte": "2026-03-31",
                                       "format": "strict_date"}}} in filters
    assert body["from"] == 10 and body["size"] == 10
    assert body["sort"][0] == {"due_date": {"order": "asc", "missing": "_last"}}
    assert set(body["aggs"]) == {"jurisdiction", "department", "service", "status",
                                 "kecamatan", "overdue", "late_reported"}
    assert query.date_from == date(2026, 3, 1)


@pytest.mark.parametrize(("params", "field"), [
    ({"status": "lost"}, "status"), ({"page": "0"}, "page"), ({"size": "1000"}, "size"),
    ({"from": "2026-13-01"}, "from"), ({"from": "2026-03-02", "to": "2026-03-01"}, "to"),
    ({"sort": "random"}, "sort"), ({"overdue": "maybe"}, "overdue"),
    ({"page": "900", "size": "100"}, "page"),
])
def test_bad_parameters_name_the_field_and_what_is_expected(params: dict[str, str],
                                                             field: str) -> None:
    with pytest.raises(QueryError) as info:
        parse_query(params)
    assert info.value.field == field and info.value.expected


@given(st.dictionaries(st.sampled_from(["q", "status", "page", "size", "from", "to", "sort",
                                        "overdue", "kecamatan"]), st.text(max_size=30)))
def test_any_input_is_either_a_query_or_a_clear_error(params: dict[str, str]) -> None:
    try:
        search_body(parse_query(params))
    except QueryError as exc:
        assert exc.field in params


def test_typed_parameters_follow_the_same_rules() -> None:
    """``build_query`` (the API's typed parameters) and ``parse_query`` (text) agree."""
    typed = build_query(q=" pbg ", status="diproses", overdue=True, sort="tenggat", page=2,
                        size=10, date_from=date(2026, 3, 1))
    assert typed == parse_query({"q": "pbg", "status": "diproses", "overdue": "true",
                                 "sort": "tenggat", "page": "2", "size": "10",
                                 "from": "2026-03-01"})
    for bad, field in (({"sort": "acak"}, "sort"), ({"page": 0}, "page"),
                       ({"page": 900, "size": 100}, "page"), ({"status": "hilang"}, "status"),
                       ({"date_from": date(2026, 3, 2), "date_to": date(2026, 3, 1)}, "to")):
        with pytest.raises(QueryError) as info:
            build_query(**bad)  # type: ignore[arg-type]
        assert info.value.field == field


def test_receipt_detection() -> None:
    assert looks_like_receipt("bdg-pbg-2026-000123")
    assert not looks_like_receipt("coblong")
    assert not looks_like_receipt("PBG")


def test_facet_buckets_get_labels() -> None:
    facets = parse_facets({"department": {"buckets": [{
        "key": "kota-bandung", "doc_count": 3,
        "jurisdiction": {"buckets": [{"key": "Kota Bandung"}]}, "codes": {"buckets": [
            {"key": "dpmptsp", "doc_count": 3, "label": {"buckets": [{"key": "DPMPTSP"}]}}]}}]},
        "overdue": {"buckets": [{"key": 1, "key_as_string": "true", "doc_count": 2}]}})
    assert facets["department"][0].label == "DPMPTSP (Kota Bandung)"
    assert facets["department"][0].value == "kota-bandung/dpmptsp"
    assert facets["overdue"][0].value == "true"
    assert facets["status"] == []
