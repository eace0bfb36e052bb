"""Read use cases of the portal, APIs, feeds and exports — all over the ``CaseReader`` port.

Every record read back is passed through ``clean_case`` again before it is shown, so even a
document that somehow got into the index unclean is re-validated and re-redacted on the way out.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from pantau_contracts.payloads.base import RECEIPT_PATTERN
from pantau_contracts.payloads.public import PublicCaseV2
from pantau_publishing.domain import comparison as comparison_rules
from pantau_publishing.domain import monthly as monthly_rules
from pantau_publishing.domain import open311 as georeport
from pantau_publishing.domain import stats as stats_rules
from pantau_publishing.domain.feeds import FEED_SCOPES
from pantau_publishing.domain.places import Place, owners_body, parse_owners
from pantau_publishing.domain.query import (
    CaseQuery,
    FacetBucket,
    facets_body,
    hits_body,
    no_names,
    parse_facets,
    query_clause,
)
from pantau_publishing.domain.record import clean_change, clean_or_none
from pantau_publishing.service.ports import CaseReader, FacetNames
from pantau_publishing.service.rendered import RenderedRecords
from pantau_publishing.service.ttl_cache import TtlCache


@dataclass(frozen=True)
class SearchResult:
    query: CaseQuery
    total: int
    cases: list[PublicCaseV2]
    facets: dict[str, list[FacetBucket]]

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.query.size))


@dataclass(frozen=True)
class Dashboard:
    place: Place
    totals: stats_rules.Stats
    rows: list[stats_rules.StatsRow]
    as_of: datetime | None = field(default=None, compare=False)
    """When these figures were computed (they may be served from a short cache)."""


class UnknownScope(ValueError):
    pass


_RECEIPT = re.compile(RECEIPT_PATTERN)
DEFAULT_RENDERED_CASES = 20_000  # ≈ 0.9 kB each, per process (docs/performance.md, eighth pass)


def normalise_receipt(receipt_number: str) -> str | None:
    """The receipt number as stored (trimmed, upper case), or ``None`` when it cannot be one
    under the contract — then no case has it, and the search engine is not asked (an empty id
    or a 5000-character one is an error there, not a miss)."""
    candidate = receipt_number.strip().upper()
    return candidate if _RECEIPT.fullmatch(candidate) else None


def _clean_change(document: dict[str, Any]) -> dict[str, Any] | None:
    try:
        return clean_change(document)
    except ValidationError:
        return None  # never put a document that is not a valid change into a feed


def _utc_now() -> datetime:
    return datetime.now(UTC)


class PublicRecords:
    """``dashboard_ttl``: seconds a place's dashboard statistics (and monthly figures) are
    served from memory before they are computed again (0: always computed); ``clock`` tells
    the time (tests give a fake one); ``rendered_cases``: how many Open311 renderings of case
    versions are remembered (``service.rendered``; 0: none); ``names``: the facet values'
    display names (``domain.query.FacetNames``; the portal's come from the catalogue)."""

    def __init__(self, reader: CaseReader, *, dashboard_ttl: float = 0.0,
                 clock: Callable[[], datetime] = _utc_now,
                 rendered_cases: int = DEFAULT_RENDERED_CASES,
                 names: FacetNames = no_names) -> None:
        self._reader = reader
        self._names = names
        self._clock = clock
        self._open311 = RenderedRecords(reader, georeport.service_request, rendered_cases)
        self._dashboards: TtlCache[Dashboard] = TtlCache(dashboard_ttl)
        self._monthly: TtlCache[list[monthly_rules.Month]] = TtlCache(dashboard_ttl)

    def _document(self, receipt_number: str) -> dict[str, Any] | None:
        receipt = normalise_receipt(receipt_number)
        return self._reader.get_case(receipt) if receipt is not None else None

    def case(self, receipt_number: str) -> PublicCaseV2 | None:
        """The clean public record, or ``None`` (unknown or malformed receipt number)."""
        document = self._document(receipt_number)
        return clean_or_none(document) if document is not None else None

    def revision(self, receipt_number: str) -> int | None:
        """The case's revision (what live pages poll), normalised like ``case``."""
        document = self._document(receipt_number)
        return int(document["revision"]) if document else None

    def revisions(self, receipt_numbers: Iterable[str]) -> dict[str, int]:
        """The revision of each of these cases (unknown ones left out) in one search — what
        the portal's shared live poll asks every interval for every watched case."""
        wanted = sorted({r for r in map(normalise_receipt, receipt_numbers) if r is not None})
        if not wanted:
            return {}
        answer = self._reader.search_cases({
            "query": {"bool": {"filter": [{"terms": {"receipt_number": wanted}}]}},
            "size": len(wanted), "_source": ["receipt_number", "revision"]})
        found = {str(hit.get("receipt_number")): int(hit["revision"]) for hit in answer.hits
                 if "revision" in hit}
        return {receipt: found[receipt] for receipt in wanted if receipt in found}

    def search(self, query: CaseQuery) -> SearchResult:
        """The page of hits, and the exact total with the facets from a second, hit-less
        request that the search engine's request cache can answer (``domain.query``)."""
        hits = self._reader.search_cases(hits_body(query))
        facets = self._reader.search_cases(facets_body(query))
        cases = [c for c in (clean_or_none(hit) for hit in hits.hits) if c is not None]
        return SearchResult(query, facets.total, cases, parse_facets(facets.aggregations,
                                                                     self._names))

    def open311_requests(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        """The Open311 service requests (``domain.open311.service_request``) of the cases a
        ready-made ``_search`` body finds (``domain.open311_query.requests_body``), in its
        order; each case version is rendered once (``service.rendered``), so the rows are
        shared between answers: read them, never change them."""
        return self._open311.matching(body)

    def export(self, query: CaseQuery) -> Iterator[PublicCaseV2]:
        for document in self._reader.scan_cases(query_clause(query)):
            case = clean_or_none(document)
            if case is not None:
                yield case

    def dashboard(self, place: Place | None = None) -> Dashboard:
        """Totals of the place and one row per entity one level down (within it)."""
        place = place or Place()
        now = self._clock()
        cached = self._dashboards.get(place, now)
        if cached is not None:
            return cached[0]
        answer = self._reader.search_cases(stats_rules.stats_body(place, now.date()))
        board = Dashboard(place, stats_rules.parse_stats(answer.aggregations, answer.total),
                          stats_rules.parse_rows(answer.aggregations), now)
        self._dashboards.put(place, board, now)
        return board

    def owners(self, level: str, code: str) -> list[Place]:
        """The places (jurisdiction, department[, service]) whose cases use this bare
        department or service code — one means the code is unambiguous."""
        answer = self._reader.search_cases(owners_body(level, code))
        return parse_owners(level, code, answer.aggregations)

    def has_cases(self, place: Place) -> bool:
        answer = self._reader.search_cases({"size": 0, "track_total_hits": 1,
                                            "query": {"bool": {"filter": place.filters()}}})
        return answer.total > 0

    def comparison(self, window: comparison_rules.Window, jurisdiction: str | None = None,
                   min_cases: int = comparison_rules.DEFAULT_MIN_CASES
                   ) -> list[comparison_rules.Entry]:
        """Jurisdictions (or the departments of one) ranked; see ``domain.comparison``."""
        answer = self._reader.search_cases(
            comparison_rules.comparison_body(window, jurisdiction))
        return comparison_rules.parse_comparison(answer.aggregations, min_cases)

    def monthly(self, place: Place, shown: list[str], zone: str) -> list[monthly_rules.Month]:
        """Received / completed per month of ``shown`` (``YYYY-MM`` in ``zone``); cached like
        the dashboard."""
        key, now = (place, tuple(shown), zone), self._clock()
        cached = self._monthly.get(key, now)
        if cached is not None:
            return cached[0]
        answer = self._reader.search_cases(monthly_rules.monthly_body(place, shown, zone))
        rows = monthly_rules.parse_monthly(answer.aggregations, shown)
        self._monthly.put(key, rows, now)
        return rows

    def changes(self, scope: str | None = None, code: str | None = None,
                limit: int = 50, jurisdiction: str | None = None) -> list[dict[str, Any]]:
        """Latest public status changes, newest first, optionally for one scope (a department
        or service within ``jurisdiction``); each one
        re-validated and re-redacted (``clean_change``), invalid ones left out.

        Newest by the time Pantau *received* them (then by the claimed time): a step reported
        late is news when it arrives, not buried at the date it claims. (``unmapped_type``: an
        index from before the two clocks has no ``received_at`` yet — it still sorts.)"""
        if scope and scope not in FEED_SCOPES:
            raise UnknownScope(scope)
        filters = [{"term": {FEED_SCOPES[scope]: code}}] if scope and code else []
        if jurisdiction:  # department and service codes repeat across jurisdictions
            filters.append({"term": {"jurisdiction_code": jurisdiction}})
        answer = self._reader.search_changes({
            "query": {"bool": {"filter": filters}}, "size": limit,
            "sort": [{"received_at": {"order": "desc", "unmapped_type": "date"}},
                     {"at": "desc"}, {"receipt_number": "asc"}, {"seq": "desc"}]})
        return [c for c in (_clean_change(hit) for hit in answer.hits) if c is not None]

    def services(self, jurisdiction: str | None = None) -> list[dict[str, str]]:
        """Distinct services with their names and departments (for Open311 ``services``)."""
        filters = [{"term": {"jurisdiction_code": jurisdiction}}] if jurisdiction else []
        answer = self._reader.search_cases({"size": 0, "query": {"bool": {"filter": filters}},
                                            "aggs": {"services": {
            "terms": {"field": "service_code", "size": 500},
            "aggs": {"name": {"terms": {"field": "service_name.id.raw", "size": 1}},
                     "department": {"terms": {"field": "department_name.id.raw", "size": 1}}}}}})
        rows = []
        for bucket in answer.aggregations.get("services", {}).get("buckets", []):
            names = bucket["name"]["buckets"]
            departments = bucket["department"]["buckets"]
            rows.append({"code": str(bucket["key"]),
                         "name": str(names[0]["key"]) if names else str(bucket["key"]),
                         "department": str(departments[0]["key"]) if departments else ""})
        return rows
