"""JSON API ``/api/v1`` (OpenAPI at ``/api/docs``). Answers are built only from PublicCaseV2:
every timeline step has both clocks (``at`` as the department claims it, ``received_at`` when
Pantau received the report, ``counted_at`` what the service clock counts, ``late_reported``)."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BeforeValidator

from pantau_contracts.payloads.public import PublicCaseV2
from pantau_contracts.vocabulary import PublicStatus
from pantau_publishing.domain import comparison as comparison_rules
from pantau_publishing.domain.monthly import months
from pantau_publishing.domain.places import Place, split_qualified
from pantau_publishing.domain.query import MAX_PAGE_SIZE, MAX_RESULT_WINDOW, SORTS, build_query
from pantau_publishing.domain.stats import SCOPES
from pantau_publishing.portal import places
from pantau_publishing.portal.deps import records
from pantau_publishing.portal.errors import problem, problems
from pantau_publishing.portal.pages import comparison_window

router = APIRouter(prefix="/api/v1", tags=["api"], responses=problems(422))
NOT_FOUND = problems(404, s404="Unknown receipt number")
STATS_SCOPE = Path(description="jurisdiction, department or service",
                   json_schema_extra={"enum": list(SCOPES)})
# Every request that matches the schema is answered 200: constraints the schema can say are in
# it (ranges, enums, dates); a page past what the index can show, or "from" after "to", is an
# empty page, not an error (the HTML pages explain those instead).
TEXT = 200
_FULL_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _full_date(value: object) -> object:
    """Only what the schema says (``format: date``, ``YYYY-MM-DD``): pydantic alone would also
    read ``0`` or ``1700000000`` as a Unix time (a 422 then, like any value off the schema)."""
    if isinstance(value, str) and not _FULL_DATE.fullmatch(value):
        raise ValueError("expected a date YYYY-MM-DD")
    return value


FullDate = Annotated[date, BeforeValidator(_full_date)]
QUALIFIED_CODE = ("A code (`dpmptsp`) or, since codes repeat across jurisdictions, "
                  "`{jurisdiction}/{code}`; a bare code several jurisdictions share needs "
                  "`jurisdiction` (400 otherwise)")


@router.get("/cases/{receipt_number}", response_model=PublicCaseV2, responses=NOT_FOUND,
            summary="One public case record")
def get_case(request: Request, receipt_number: str) -> Response:
    case = records(request).case(receipt_number)
    if case is None:
        return problem(404, "Case not found", f"No public case has receipt number "
                       f"{receipt_number[:60]!r}.", type_="https://pantau.id/problems/unknown-case",
                       instance=request.url.path)
    return JSONResponse(case.model_dump(mode="json"))


# An empty ``sort=`` is refused like any other value outside the enum (422), instead of being
# read as "no sort", so the API answers what its schema says.
SORT_PATTERN = "^(" + "|".join(re.escape(name) for name in SORTS) + ")$"


@router.get("/cases", summary="Search public cases (results, facets, total)",
            responses=problems(400, s400="A filter the schema cannot express was refused, or a "
                                         "bare department/service code several jurisdictions "
                                         "share was given without `jurisdiction`"))
def search_cases(
    request: Request,
    q: str | None = Query(None, max_length=TEXT, description="Receipt number or keywords"),
    jurisdiction: str | None = Query(None, max_length=TEXT),
    department: str | None = Query(None, max_length=TEXT, description=QUALIFIED_CODE),
    service: str | None = Query(None, max_length=TEXT, description=QUALIFIED_CODE),
    status: PublicStatus | None = None,
    kecamatan: str | None = Query(None, max_length=TEXT),
    overdue: bool | None = None,
    late_reported: bool | None = Query(
        None, description="Only cases with (true) / without (false) a step reported later "
                          "than the tolerance allows"),
    from_: FullDate | None = Query(None, alias="from", description="Submitted on/after"),
    to: FullDate | None = Query(None, description="Submitted on/before"),
    sort: str | None = Query(None, description="Sort order", pattern=SORT_PATTERN,
                             json_schema_extra={"enum": list(SORTS)}),
    page: int | None = Query(None, ge=1, le=10_000,
                             description="page × size beyond 10,000 is an empty page"),
    size: int | None = Query(None, ge=1, le=MAX_PAGE_SIZE),
) -> dict[str, Any]:
    for level, code in (("department", department), ("service", service)):
        refused = _ambiguous(request, level, code, jurisdiction)
        if refused is not None:
            return refused  # type: ignore[return-value]  # documented 400 problem
    page, size = page or 1, size or 20
    if from_ is not None and to is not None and from_ > to:  # nothing can match
        return {"total": 0, "page": page, "size": size, "pages": 1, "results": [],
                "facets": {}}
    beyond = page * size > MAX_RESULT_WINDOW  # past the last page the index can show
    query = build_query(q=q, jurisdiction=jurisdiction, department=department, service=service,
                        status=status.value if status else None, kecamatan=kecamatan,
                        overdue=overdue, late_reported=late_reported, date_from=from_,
                        date_to=to, sort=sort, page=None if beyond else page, size=size)
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
    return _stats(request, Place())


@router.get("/stats/{scope}/{code}", responses=problems(
    400, 404, s400="The bare code is used by several jurisdictions: give `jurisdiction`",
    s404="Unknown scope"),
    summary="Performance statistics for a jurisdiction, department or service")
def stats(request: Request, scope: str = STATS_SCOPE,
          code: str = Path(max_length=TEXT),
          jurisdiction: str | None = Query(
              None, max_length=TEXT, description="The jurisdiction of a department or service "
              "code (codes repeat across jurisdictions; required when the code is shared)")
          ) -> Response:
    """Totals and one row per entity one level down. Besides the service clock
    (``median_working_days``, ``share_within_legal_maximum``…) each has how promptly steps were
    reported: ``events_reported``, ``events_reported_late``,
    ``share_reported_within_tolerance`` (0..1) and ``median_reporting_delay_working_days``
    (median over events)."""
    if scope not in SCOPES:
        return problem(404, "Unknown scope", "scope must be jurisdiction, department or service",
                       instance=request.url.path)
    if scope == "jurisdiction":
        return _stats(request, Place(code))
    found = _place(request, scope, code, jurisdiction)
    return found if isinstance(found, Response) else _stats(request, found)


def _ambiguous(request: Request, level: str, code: str | None,
               jurisdiction: str | None) -> Response | None:
    """400 naming ``jurisdiction`` when a bare code is shared and no jurisdiction is given."""
    if not code or jurisdiction or split_qualified(code)[0]:
        return None
    owners = places.resolve(request, level, code)
    if len(owners) < 2:
        return None
    return problem(400, "Ambiguous code", f"Several jurisdictions use the {level} code "
                   f"{code!r}; say which with the 'jurisdiction' parameter.",
                   type_="https://pantau.id/problems/ambiguous-code",
                   instance=request.url.path, parameter="jurisdiction",
                   choices=sorted({p.jurisdiction for p in owners if p.jurisdiction}))


def _place(request: Request, level: str, code: str,
           jurisdiction: str | None) -> Place | Response:
    """The place a (possibly bare) department/service code names, or the 400 problem."""
    refused = _ambiguous(request, level, code, jurisdiction)
    if refused is not None:
        return refused
    owners = places.resolve(request, level, code, jurisdiction)
    if owners:
        return owners[0]
    # unknown: its figures are zero; still never more than the named jurisdiction
    return Place(jurisdiction, code) if level == "department" else \
        Place(jurisdiction, None, code)


def _stats(request: Request, place: Place) -> Response:
    board = records(request).dashboard(place)
    scope = place.level or None
    code = {"jurisdiction": place.jurisdiction, "department": place.department,
            "service": place.service}.get(place.level)
    return JSONResponse({"scope": scope, "code": code, "jurisdiction": place.jurisdiction,
                         "department": place.department, "service": place.service,
                         "as_of": board.as_of.isoformat() if board.as_of else None,
                         "totals": board.totals.as_dict(),
                         "rows": [{"code": r.code, "label": r.label, **r.stats.as_dict()}
                                  for r in board.rows]})


@router.get("/comparison", summary="Jurisdictions (or the departments of one) ranked",
            responses=problems(404, s404="Unknown jurisdiction"))
def comparison(
    request: Request,
    jurisdiction: str | None = Query(None, max_length=TEXT,
                                     description="Rank the departments of this jurisdiction"),
) -> Response:
    """Per entry: ``rank`` (``null`` with ``enough_cases: false``: fewer than ``min_cases``
    completed in the period), ``share_within_legal_maximum``, ``median_working_days``,
    ``p90_working_days`` (completed in the period), ``open_overdue`` (now),
    ``late_reported_share`` (closed in the period) and ``trend`` (up/down/flat/unknown: the
    share within the legal maximum against the previous period, ±2 percentage points).
    The rules are in ``method``."""
    if jurisdiction is not None and not places.known(request, Place(jurisdiction)):
        return problem(404, "Unknown jurisdiction", f"No jurisdiction {jurisdiction!r}.",
                       instance=request.url.path)
    window, min_cases = comparison_window(request)
    entries = records(request).comparison(window, jurisdiction, min_cases)
    (start, end), (before, _) = window.current, window.previous
    return JSONResponse({
        "jurisdiction": jurisdiction, "grouped_by": "department" if jurisdiction
        else "jurisdiction",
        "period": {"from": start.isoformat(), "to": end.isoformat(), "days": window.days},
        "previous_period": {"from": before.isoformat(), "to": start.isoformat()},
        "min_cases": min_cases, "method": comparison_rules.__doc__,
        "entries": [e.as_dict() for e in entries]})


@router.get("/statistics/monthly", summary="Monthly received/completed figures of a place",
            responses=problems(400, s400="A shared department/service code without "
                                         "`jurisdiction`"))
def monthly(
    request: Request,
    jurisdiction: str | None = Query(None, max_length=TEXT),
    department: str | None = Query(None, max_length=TEXT),
    service: str | None = Query(None, max_length=TEXT),
) -> Response:
    """The last 12 months in the jurisdiction's zone: ``received`` by ``submitted_at``,
    ``completed`` (and within the legal maximum, median working days) by ``closed_at``.
    The same as the dashboards' ``statistik.csv``."""
    place = Place(jurisdiction)
    if service or department:
        level, code = ("service", service) if service else ("department", department)
        found = _place(request, level, str(code), jurisdiction)
        if isinstance(found, Response):
            return found
        place = found
    zone = places.zone(request, place.jurisdiction)
    rows = records(request).monthly(place, months(places.now(request), zone), zone)
    return JSONResponse({"jurisdiction": place.jurisdiction, "department": place.department,
                         "service": place.service, "time_zone": zone,
                         "months": [r.as_dict() for r in rows]})
