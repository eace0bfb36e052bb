"""Open311 GeoReport v2, read-only: discovery, services, requests — JSON and XML."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.responses import JSONResponse, Response

from pantau_publishing.domain import open311 as georeport
from pantau_publishing.domain.query import parse_query
from pantau_publishing.portal.deps import base_url, records
from pantau_publishing.portal.errors import problems

router = APIRouter(prefix="/open311/v2", tags=["open311"], responses=problems(
    404, 422, s404="Unknown format or service request"))
FORMATS = {"json", "xml"}
ANSWER: dict[int | str, dict[str, Any]] = {200: {"description": "GeoReport v2 answer", "content": {
    "application/json": {"schema": {}}, "text/xml": {"schema": {"type": "string"}}}}}


# one parameter object per parameter: FastAPI must not share them between parameters
def _format() -> Any:
    return Path(description="json or xml", json_schema_extra={"enum": sorted(FORMATS)})


def _text() -> Any:
    return Query(None, max_length=200)


def _date() -> Any:
    return Query(None, description="ISO 8601 date-time; only its date counts",
                 json_schema_extra={"format": "date-time"})


def _day(value: str | None, name: str) -> str | None:
    """The date of an ISO 8601 date-time (422 when it is not one; empty is not one either)."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value[:10]).isoformat() if len(value) >= 10 else \
            date.fromisoformat(value).isoformat()
    except ValueError:
        raise HTTPException(422, f"{name} is not an ISO 8601 date-time") from None



def _answer(fmt: str, root: str, item: str, rows: Any) -> Response:
    if fmt not in FORMATS:
        raise HTTPException(404, f"format {fmt!r} is not offered (json or xml)")
    if fmt == "json":
        return JSONResponse(rows)
    return Response(georeport.to_xml(root, item, rows if isinstance(rows, list) else [rows]),
                    media_type="text/xml; charset=utf-8")


@router.get("/discovery.{fmt}", summary="GeoReport v2 discovery", response_class=Response,
            responses=ANSWER)
def discovery(request: Request, fmt: str = _format()) -> Response:
    doc = georeport.discovery(base_url(request))
    if fmt == "xml":
        return Response(georeport.discovery_xml(doc), media_type="text/xml; charset=utf-8")
    return _answer(fmt, "discovery", "discovery", doc)


@router.get("/services.{fmt}", summary="GeoReport v2 service list", response_class=Response,
            responses=ANSWER)
def services(request: Request, fmt: str = _format(), jurisdiction_id: str | None = _text()
             ) -> Response:
    rows = [georeport.service(s["code"], s["name"], s["department"])
            for s in records(request).services(jurisdiction_id)]
    return _answer(fmt, "services", "service", rows)


@router.get("/requests.{fmt}", summary="GeoReport v2 service requests", response_class=Response,
            responses={**ANSWER, **problems(400, s400="status is not open or closed")})
def requests_(request: Request, fmt: str = _format(), jurisdiction_id: str | None = _text(),
              service_code: str | None = _text(),
              status: str | None = Query(None, json_schema_extra={"enum": ["open", "closed"]}),
              start_date: str | None = _date(), end_date: str | None = _date(),
              page: int = Query(1, ge=1, le=100),  # × page_size (≤ 100): the index's window
              page_size: int = Query(50, ge=1, description="at most 100 are sent")) -> Response:
    if status not in (None, "open", "closed"):
        raise HTTPException(400, "status must be open or closed")
    start, end = _day(start_date, "start_date"), _day(end_date, "end_date")
    if start and end and start > end:
        return _answer(fmt, "service_requests", "request", [])  # nothing can match
    query = parse_query({"jurisdiction": jurisdiction_id, "service": service_code,
                         "from": start, "to": end, "page": str(page),
                         "size": str(min(page_size, 100)), "sort": "diajukan"})
    if status:
        query = replace(query, extra_filters=(("open", status == "open"),))
    rows = [georeport.service_request(c) for c in records(request).search(query).cases]
    return _answer(fmt, "service_requests", "request", rows)


@router.get("/requests/{request_id}.{fmt}", summary="One GeoReport v2 service request",
            response_class=Response, responses=ANSWER)
def request_one(request: Request, request_id: str, fmt: str = _format()) -> Response:
    case = records(request).case(request_id)
    if case is None:
        raise HTTPException(404, f"no service request {request_id[:60]!r}")
    return _answer(fmt, "service_requests", "request", [georeport.service_request(case)])
