"""Search requests: what a citizen may ask for, and the Elasticsearch query DSL for it.

The DSL is built as plain dicts here (no client import) so it can be unit-tested; only core
query types and aggregations are used (no scripts, no analysis-common).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from pantau_contracts.payloads.base import RECEIPT_PATTERN
from pantau_contracts.vocabulary import PublicStatus
from pantau_publishing.domain.labels import BilingualLabel
from pantau_publishing.domain.places import qualified, split_qualified

MAX_PAGE_SIZE = 100
MAX_RESULT_WINDOW = 10_000  # Elasticsearch's default index.max_result_window

SORTS: dict[str, list[dict[str, Any]]] = {
    "terbaru": [{"updated_at": "desc"}, {"receipt_number": "asc"}],
    "terlama": [{"updated_at": "asc"}, {"receipt_number": "asc"}],
    "diajukan": [{"submitted_at": "desc"}, {"receipt_number": "asc"}],
    "tenggat": [{"due_date": {"order": "asc", "missing": "_last"}}, {"receipt_number": "asc"}],
    "nomor": [{"receipt_number": "asc"}],
}
"""Sort keys (Indonesian words, used in URLs) → Elasticsearch sort clauses."""

FACETS: dict[str, str] = {
    "jurisdiction": "jurisdiction_code",
    "department": "department_code",
    "service": "service_code",
    "status": "status",
    "kecamatan": "kecamatan",
    "overdue": "overdue",
    "late_reported": "late_reported",
}
"""Facet name → keyword field. Display names are not aggregated: a terms sub-aggregation per
bucket for each name tripled the cost of a facet request at a million cases (558 against
176 ms, ``docs/performance.md``); they come from the catalogue (``FacetNames``)."""
NAMED = ("jurisdiction", "department", "service")
"""Facets whose values have display names (``FacetNames``)."""
QUALIFIED = ("department", "service")
"""Facets whose codes repeat across jurisdictions: their values are ``{jurisdiction}/{code}``
(grouped under the jurisdiction first), and a filter may name a place that way."""


class FacetNames(Protocol):
    """Display names of facet values (the port ``service.ports`` re-exports; adapter:
    ``adapters.catalogue_names``)."""

    def __call__(self, facet: str, jurisdiction: str | None,
                 code: str) -> tuple[str, str | None] | None:
        """(Indonesian name, English name or None) of ``code`` in ``facet`` — within
        ``jurisdiction`` for departments and services, None for the jurisdiction facet — or
        None when unknown (the code is shown)."""
        ...


_RECEIPT = re.compile(RECEIPT_PATTERN)


class QueryError(ValueError):
    """A search parameter is not acceptable: ``field`` names it, ``expected`` says what is."""

    def __init__(self, field: str, problem: str, expected: str) -> None:
        self.field, self.problem, self.expected = field, problem, expected
        super().__init__(f"{field}: {problem}")


@dataclass(frozen=True)
class CaseQuery:
    """A validated search request over public cases."""

    q: str = ""
    jurisdiction: str | None = None
    department: str | None = None
    service: str | None = None
    status: str | None = None
    kecamatan: str | None = None
    overdue: bool | None = None
    late_reported: bool | None = None  # some step reported later than the tolerance allows
    date_from: date | None = None
    date_to: date | None = None
    sort: str = "terbaru"
    page: int = 1
    size: int = 20
    extra_filters: tuple[tuple[str, Any], ...] = field(default=())

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.size

    def filters(self) -> dict[str, str]:
        """The active filters as URL parameters (for links that keep them)."""
        values: dict[str, Any] = {
            "q": self.q, "jurisdiction": self.jurisdiction, "department": self.department,
            "service": self.service, "status": self.status, "kecamatan": self.kecamatan,
            "overdue": None if self.overdue is None else str(self.overdue).lower(),
            "late_reported": None if self.late_reported is None
            else str(self.late_reported).lower(),
            "from": self.date_from.isoformat() if self.date_from else None,
            "to": self.date_to.isoformat() if self.date_to else None,
            "sort": None if self.sort == "terbaru" else self.sort,
        }
        return {k: str(v) for k, v in values.items() if v not in (None, "")}


def parse_query(params: dict[str, str | None]) -> CaseQuery:
    """Validate raw request parameters (text, as the HTML pages and feeds get them) into a
    ``CaseQuery`` or raise ``QueryError``: each is converted from text, then ``build_query``
    applies the rules."""
    def text(name: str) -> str | None:
        return (params.get(name) or "").strip() or None

    return build_query(
        q=params.get("q"), jurisdiction=params.get("jurisdiction"),
        department=params.get("department"), service=params.get("service"),
        status=params.get("status"), kecamatan=params.get("kecamatan"),
        overdue=_yes_no(text("overdue"), "overdue"),
        late_reported=_yes_no(text("late_reported"), "late_reported"),
        date_from=_date(params.get("from"), "from"), date_to=_date(params.get("to"), "to"),
        sort=params.get("sort"), page=_int(params.get("page"), "page", 1, 10_000),
        size=_int(params.get("size"), "size", 1, MAX_PAGE_SIZE))


def build_query(*, q: str | None = None, jurisdiction: str | None = None,
                department: str | None = None, service: str | None = None,
                status: str | None = None, kecamatan: str | None = None,
                overdue: bool | None = None, late_reported: bool | None = None,
                date_from: date | None = None, date_to: date | None = None,
                sort: str | None = None, page: int | None = None,
                size: int | None = None) -> CaseQuery:
    """The search rules over typed parameters (the API's, as FastAPI converted them; or
    ``parse_query``'s): text is trimmed and at most 200 characters, ``status`` a public status,
    ``sort`` a known order, ``page`` 1..10,000 and ``size`` 1..``MAX_PAGE_SIZE`` (defaults 1
    and 20) within the result window, ``date_from`` not after ``date_to``. ``QueryError``
    otherwise."""
    def text(name: str, value: str | None, limit: int = 200) -> str | None:
        value = (value or "").strip()
        if len(value) > limit:
            raise QueryError(name, f"is longer than {limit} characters", f"at most {limit}")
        return value or None

    status = text("status", status)
    if status is not None and status not in {s.value for s in PublicStatus}:
        raise QueryError("status", f"{status!r} is not a public status",
                         "one of " + ", ".join(s.value for s in PublicStatus))
    sort = text("sort", sort) or "terbaru"
    if sort not in SORTS:
        raise QueryError("sort", f"{sort!r} is not a sort order", "one of " + ", ".join(SORTS))
    page = _in_range(page, "page", 1, 1, 10_000)
    size = _in_range(size, "size", 20, 1, MAX_PAGE_SIZE)
    if page * size > MAX_RESULT_WINDOW:
        raise QueryError("page", "is beyond the last page that can be shown",
                         f"page × size at most {MAX_RESULT_WINDOW}; use the export for more")
    if date_from and date_to and date_from > date_to:
        raise QueryError("to", "is before 'from'", "a date on or after 'from'")
    return CaseQuery(q=text("q", q) or "", jurisdiction=text("jurisdiction", jurisdiction),
                     department=text("department", department),
                     service=text("service", service), status=status,
                     kecamatan=text("kecamatan", kecamatan), overdue=overdue,
                     late_reported=late_reported, date_from=date_from,
                     date_to=date_to, sort=sort, page=page, size=size)


def looks_like_receipt(text: str) -> bool:
    """True if the search text could be a receipt number (then try an exact lookup first)."""
    candidate = text.strip().upper()
    return bool(_RECEIPT.fullmatch(candidate)) and any(c.isdigit() for c in candidate) \
        and "-" in candidate


def filter_clauses(query: CaseQuery) -> list[dict[str, Any]]:
    clauses: list[dict[str, Any]] = []
    for name, value in (("jurisdiction_code", query.jurisdiction),
                        ("status", query.status), ("kecamatan", query.kecamatan)):
        if value is not None:
            clauses.append({"term": {name: value}})
    for name, value in (("department_code", query.department), ("service_code", query.service)):
        if value is not None:  # "kota-bandung/dpmptsp": that jurisdiction's department
            jurisdiction, code = split_qualified(value)
            if jurisdiction is not None:
                clauses.append({"term": {"jurisdiction_code": jurisdiction}})
            clauses.append({"term": {name: code}})
    if query.overdue is not None:
        clauses.append({"term": {"overdue": query.overdue}})
    if query.late_reported is not None:
        clauses.append({"term": {"late_reported": query.late_reported}})
    if query.date_from or query.date_to:
        bounds: dict[str, str] = {}
        if query.date_from:
            bounds["gte"] = query.date_from.isoformat()
        if query.date_to:
            bounds["lte"] = query.date_to.isoformat()
        clauses.append({"range": {"submitted_at": {**bounds, "format": "strict_date"}}})
    for name, value in query.extra_filters:
        clauses.append({"term": {name: value}})
    return clauses


def query_clause(query: CaseQuery) -> dict[str, Any]:
    must: list[dict[str, Any]] = []
    if query.q:
        must.append({"bool": {"should": [
            {"match": {"search_text": {"query": query.q, "operator": "and"}}},
            {"term": {"receipt_number": {"value": query.q.strip().upper(), "boost": 10}}},
        ], "minimum_should_match": 1}})
    return {"bool": {"must": must or [{"match_all": {}}], "filter": filter_clauses(query)}}


def hits_body(query: CaseQuery) -> dict[str, Any]:
    """The ``_search`` body for the page of hits alone. It counts no total
    (``facets_body`` does, exactly and at no extra cost), so Elasticsearch may skip documents
    that cannot reach the page in sort order instead of visiting every match."""
    return {"query": query_clause(query), "sort": SORTS[query.sort], "from": query.offset,
            "size": query.size, "track_total_hits": False}


def facets_body(query: CaseQuery) -> dict[str, Any]:
    """The ``_search`` body for the exact total and the facets, without hits: ``size`` 0
    and no ``now`` in it, so Elasticsearch's shard request cache answers a repeated one
    (keyed on the exact body; invalidated when the index changes). Every page and sort
    order of one search shares it. The aggregations visit every match anyway: counting
    them all is free here."""
    return {"size": 0, "query": query_clause(query), "track_total_hits": True,
            "aggs": facet_aggregations()}


def search_body(query: CaseQuery, *, facets: bool = True) -> dict[str, Any]:
    """Both in one ``_search`` body: hits for the page, total, and one terms aggregation per
    facet (``PublicRecords.search`` sends ``hits_body`` and ``facets_body`` instead)."""
    sort: list[Any] = SORTS[query.sort]
    body: dict[str, Any] = {
        "query": query_clause(query), "sort": sort, "from": query.offset, "size": query.size,
        "track_total_hits": True,
    }
    if facets:
        body["aggs"] = facet_aggregations()
    return body


def facet_aggregations() -> dict[str, Any]:
    aggs: dict[str, Any] = {}
    for name, field_name in FACETS.items():
        agg: dict[str, Any] = {"terms": {"field": field_name, "size": 50}}
        if name in QUALIFIED:  # one bucket per (jurisdiction, code), never a merged code
            agg = {"terms": {"field": "jurisdiction_code", "size": 50},
                   "aggs": {"codes": agg}}
        aggs[name] = agg
    return aggs


def no_names(facet: str, jurisdiction: str | None, code: str) -> None:
    """``FacetNames`` that knows no name: every facet value is shown as its code."""
    return None


@dataclass(frozen=True)
class FacetBucket(BilingualLabel):
    value: str
    label: str
    count: int
    label_en: str | None = None


def parse_facets(aggregations: dict[str, Any],
                 names: FacetNames = no_names) -> dict[str, list[FacetBucket]]:
    """Turn the aggregation answer into facet buckets labelled by ``names``."""
    result: dict[str, list[FacetBucket]] = {}
    for name in FACETS:
        if name in QUALIFIED:
            result[name] = _qualified_buckets(name, aggregations.get(name, {}), names)
            continue
        buckets = []
        for bucket in aggregations.get(name, {}).get("buckets", []):
            value = bucket.get("key_as_string", bucket["key"])
            value = str(value).lower() if isinstance(value, bool) else str(value)
            named = names(name, None, value) if name in NAMED else None
            buckets.append(FacetBucket(value, named[0] if named else value,
                                       int(bucket["doc_count"]), named[1] if named else None))
        result[name] = buckets
    return result


def _qualified_buckets(facet: str, aggregation: dict[str, Any],
                       names: FacetNames) -> list[FacetBucket]:
    """``kota-bandung/dpmptsp`` buckets labelled "DPMPTSP (Kota Bandung)", largest first."""
    found = []
    for outer in aggregation.get("buckets", []):
        jurisdiction = str(outer["key"])
        place = names("jurisdiction", None, jurisdiction)
        where = place[0] if place else jurisdiction
        for bucket in outer.get("codes", {}).get("buckets", []):
            code = str(bucket["key"])
            named = names(facet, jurisdiction, code)
            found.append(FacetBucket(
                qualified(jurisdiction, code), f"{named[0] if named else code} ({where})",
                int(bucket["doc_count"]),
                f"{named[1]} ({where})" if named and named[1] else None))
    return sorted(found, key=lambda b: (-b.count, b.value))


def _yes_no(raw: str | None, name: str) -> bool | None:
    if raw is None:
        return None
    if raw.lower() not in ("true", "false", "1", "0", "ya", "tidak"):
        raise QueryError(name, f"{raw!r} is not a yes/no value", "true or false")
    return raw.lower() in ("true", "1", "ya")


def _int(raw: str | None, name: str, low: int, high: int) -> int | None:
    if raw in (None, ""):
        return None
    try:
        return int(str(raw))
    except ValueError:
        raise QueryError(name, f"{raw!r} is not a whole number",
                         f"a number from {low} to {high}") from None


def _in_range(value: int | None, name: str, default: int, low: int, high: int) -> int:
    if value is None:
        return default
    if not low <= value <= high:
        raise QueryError(name, f"{value} is out of range", f"a number from {low} to {high}")
    return value


def _date(raw: str | None, name: str) -> date | None:
    if raw in (None, ""):
        return None
    try:
        return date.fromisoformat(str(raw))
    except ValueError:
        raise QueryError(name, f"{raw!r} is not a date", "YYYY-MM-DD, e.g. 2026-03-02") from None
