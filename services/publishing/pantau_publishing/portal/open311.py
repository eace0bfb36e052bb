"""Open311 GeoReport v2, read-only: discovery, services, requests — JSON and XML."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse, Response

from pantau_publishing.domain import open311 as georeport
from pantau_publishing.domain.query import parse_query
from pantau_publishing.portal.deps import base_url, records

router = APIRouter(prefix="/open311/v2", tags=["open311"])
FORMATS = {"json", "xml"}


def _answer(fmt: str, root: str, item: str, rows: Any) -> Response:
    if fmt not in FORMATS:
        raise HTTPException(404, f"format {fmt!r} is not offered (json or xml)")
    if fmt == "json":
        return JSONResponse(rows)
    return Response(georeport.to_xml(root, item, rows if isinstance(rows, list) else [rows]),
                    media_type="text/xml; charset=utf-8")


@router.get("/discovery.{fmt}", summary="GeoReport v2 discovery")
def discovery(request: Request, fmt: str) -> Response:
    doc = georeport.discovery(base_url(request))
    if fmt == "xml":
        return Response(georeport.discovery_xml(doc), media_type="text/xml; charset=utf-8")
    return _answer(fmt, "discovery", "discovery", doc)


@router.get("/services.{fmt}", summary="GeoReport v2 service list")
def services(request: Request, fmt: str, jurisdiction_id: str | None = None) -> Response:
    rows = [georeport.service(s["code"], s["name"], s["department"])
            for s in records(request).services(jurisdiction_id)]
    return _answer(fmt, "services", "service", rows)


@router.get("/requests.{fmt}", summary="GeoReport v2 service requests")
def requests_(request: Request, fmt: str, jurisdiction_id: str | None = None,
              service_code: str | None = None, status: str | None = None,
              start_date: str | None = None, end_date: str | None = None,
              page: int = 1, page_size: int = 50) -> Response:
    if status not in (None, "open", "closed"):
        raise HTTPException(400, "status must be open or closed")
    query = parse_query({"jurisdiction": jurisdiction_id, "service": service_code,
                         "from": (start_date or "")[:10] or None,
                         "to": (end_date or "")[:10] or None, "page": str(page),
                         "size": str(min(page_size, 100)), "sort": "diajukan"})
    if status:
        query = replace(query, extra_filters=(("open", status == "open"),))
    rows = [georeport.service_request(c) for c in records(request).search(query).cases]
    return _answer(fmt, "service_requests", "request", rows)


@router.get("/requests/{request_id}.{fmt}", summary="One GeoReport v2 service request")
def request_one(request: Request, request_id: str, fmt: str) -> Response:
    case = records(request).case(request_id)
    if case is None:
        raise HTTPException(404, f"no service request {request_id[:60]!r}")
    return _answer(fmt, "service_requests", "request", [georeport.service_request(case)])
