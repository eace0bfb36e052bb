"""JSON API ``/api/v1`` (OpenAPI at ``/api/docs``). Answers are built only from PublicCaseV2:
every timeline step has both clocks (``at`` as the department claims it, ``received_at`` when
Pantau received the report, ``counted_at`` what the service clock counts, ``late_reported``)."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse, Response

from pantau_contracts.payloads.public import PublicCaseV2
from pantau_contracts.vocabulary import PublicStatus
from pantau_publishing.domain.query import MAX_PAGE_SIZE, MAX_RESULT_WINDOW, SORTS, parse_query
from pantau_publishing.domain.stats import SCOPES
from pantau_publishing.portal.deps import QUERY_PARAMS, records
from pantau_publishing.portal.errors import problem, problems
from pantau_publishing.service.records import UnknownScope

router = APIRouter(prefix="/api/v1", tags=["api"], responses=problems(422))
NOT_FOUND = problems(404, s404="Unknown receipt number")
STATS_SCOPE = Path(description="jurisdiction, department or service",
                   json_schema_extra={"enum": list(SCOPES)})
# Every request that matches the schema is answered 200: constraints the schema can say are in
# it (ranges, enums, dates); a page past what the index can show, or "from" after "to", is an
# empty page, not an error (the HTML pages explain those instead).
TEXT = 200


@router.get("/cases/{receipt_number}", response_model=PublicCaseV2, responses=NOT_FOUND,
            summary="One public case record")
def get_case(request: Request, receipt_number: str) -> Response:
    case = records(request).case(receipt_number)
    if case is None:
        return problem(404, "Case not found", f"No public case has receipt number "
                       f"{receipt_number[:60]!r}.", type_="https://pantau.id/problems/unknown-case",
                       instance=request.url.path)
    return JSONResponse(case.model_dump(mode="json"))


@router.get("/cases", summary="Search public cases (results, facets, total)",
            responses=problems(400, s400="A filter the schema cannot express was refused"))
def search_cases(
    request: Request,
    q: str | None = Query(None, max_length=TEXT, description="Receipt number or keywords"),
    jurisdiction: str | None = Query(None, max_length=TEXT),
    department: str | None = Query(None, max_length=TEXT),
    service: str | None = Query(None, max_length=TEXT),
    status: PublicStatus | None = None,
    kecamatan: str | None = Query(None, max_length=TEXT),
    overdue: bool | None = None,
    late_reported: bool | None = Query(
        None, description="Only cases with (true) / without (false) a step reported later "
                          "than the tolerance allows"),
    from_: date | None = Query(None, alias="from", description="Submitted on/after"),
    to: date | None = Query(None, description="Submitted on/before"),
    sort: str | None = Query(None, description="Sort order",
                             json_schema_extra={"enum": list(SORTS)}),
    page: int | None = Query(None, ge=1, le=10_000,
                             description="page × size beyond 10,000 is an empty page"),
    size: int | None = Query(None, ge=1, le=MAX_PAGE_SIZE),
) -> dict[str, Any]:
    raw = {name: request.query_params.get(name) for name in QUERY_PARAMS}
    page, size = page or 1, size or 20
    if from_ is not None and to is not None and from_ > to:  # nothing can match
        return {"total": 0, "page": page, "size": size, "pages": 1, "results": [],
                "facets": {}}
    beyond = page * size > MAX_RESULT_WINDOW  # past the last page the index can show
    query = parse_query({**raw, "page": None} if beyond else raw)
    result = records(request).search(query)
    return {
        "total": result.total, "page": page, "size": size,
        "pages": max(1, -(-result.total // size)),
        "results": [] if beyond else [c.model_dump(mode="json") for c in result.cases],
        "facets": {name: [{"value": b.value, "label": b.label, "label_en": b.label_en or b.label,
                           "count": b.count}
                          for b in buckets] for name, buckets in result.facets.items()},
    }


@router.get("/stats", summary="Performance statistics for all jurisdictions")
def all_stats(request: Request) -> Response:
    """Totals and one row per jurisdiction (see ``/stats/{scope}/{code}``)."""
    return _stats(request, None, None)


@router.get("/stats/{scope}/{code}", responses=problems(404, s404="Unknown scope"),
            summary="Performance statistics for a jurisdiction, department or service")
def stats(request: Request, scope: str = STATS_SCOPE,
          code: str = Path(max_length=TEXT)) -> Response:
    """Totals and one row per entity one level down. Besides the service clock
    (``median_working_days``, ``share_within_legal_maximum``…) each has how promptly steps were
    reported: ``events_reported``, ``events_reported_late``,
    ``share_reported_within_tolerance`` (0..1) and ``median_reporting_delay_working_days``
    (median over events)."""
    return _stats(request, scope, code)


def _stats(request: Request, scope: str | None, code: str | None) -> Response:
    try:
        board = records(request).dashboard(scope, code)
    except UnknownScope:
        return problem(404, "Unknown scope", "scope must be jurisdiction, department or service",
                       instance=request.url.path)
    return JSONResponse({"scope": scope, "code": code, "totals": board.totals.as_dict(),
                         "rows": [{"code": r.code, "label": r.label, **r.stats.as_dict()}
                                  for r in board.rows]})
