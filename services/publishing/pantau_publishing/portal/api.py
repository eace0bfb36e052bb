"""JSON API ``/api/v1`` (OpenAPI at ``/api/docs``). Answers are built only from PublicCaseV2:
every timeline step has both clocks (``at`` as the department claims it, ``received_at`` when
Pantau received the report, ``counted_at`` what the service clock counts, ``late_reported``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response

from pantau_contracts.payloads.public import PublicCaseV2
from pantau_publishing.portal.deps import case_query, records
from pantau_publishing.portal.errors import PROBLEM, problem
from pantau_publishing.service.records import UnknownScope

router = APIRouter(prefix="/api/v1", tags=["api"])
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "Unknown receipt number (problem+json)", "content": {PROBLEM: {}}}}


@router.get("/cases/{receipt_number}", response_model=PublicCaseV2, responses=NOT_FOUND,
            summary="One public case record")
def get_case(request: Request, receipt_number: str) -> Response:
    case = records(request).case(receipt_number)
    if case is None:
        return problem(404, "Case not found", f"No public case has receipt number "
                       f"{receipt_number[:60]!r}.", type_="https://pantau.id/problems/unknown-case",
                       instance=request.url.path)
    return JSONResponse(case.model_dump(mode="json"))


@router.get("/cases", summary="Search public cases (results, facets, total)")
def search_cases(
    request: Request,
    q: str | None = Query(None, description="Receipt number or keywords"),
    jurisdiction: str | None = None, department: str | None = None,
    service: str | None = None, status: str | None = None, kecamatan: str | None = None,
    overdue: bool | None = None,
    late_reported: bool | None = Query(
        None, description="Only cases with (true) / without (false) a step reported later "
                          "than the tolerance allows"),
    from_: str | None = Query(None, alias="from", description="Submitted on/after (YYYY-MM-DD)"),
    to: str | None = Query(None, description="Submitted on/before (YYYY-MM-DD)"),
    sort: str | None = Query(None, description="terbaru, terlama, diajukan, tenggat, nomor"),
    page: int | None = None, size: int | None = None,
) -> dict[str, Any]:
    query = case_query(request)
    result = records(request).search(query)
    return {
        "total": result.total, "page": query.page, "size": query.size, "pages": result.pages,
        "results": [c.model_dump(mode="json") for c in result.cases],
        "facets": {name: [{"value": b.value, "label": b.label, "label_en": b.label_en or b.label,
                           "count": b.count}
                          for b in buckets] for name, buckets in result.facets.items()},
    }


@router.get("/stats", summary="Performance statistics for all jurisdictions")
@router.get("/stats/{scope}/{code}",
            summary="Performance statistics for a jurisdiction, department or service")
def stats(request: Request, scope: str | None = None, code: str | None = None) -> Response:
    """Totals and one row per entity one level down. Besides the service clock
    (``median_working_days``, ``share_within_legal_maximum``…) each has how promptly steps were
    reported: ``events_reported``, ``events_reported_late``,
    ``share_reported_within_tolerance`` (0..1) and ``median_reporting_delay_working_days``
    (median over events)."""
    try:
        board = records(request).dashboard(scope, code)
    except UnknownScope:
        return problem(404, "Unknown scope", "scope must be jurisdiction, department or service",
                       instance=request.url.path)
    return JSONResponse({"scope": scope, "code": code, "totals": board.totals.as_dict(),
                         "rows": [{"code": r.code, "label": r.label, **r.stats.as_dict()}
                                  for r in board.rows]})
