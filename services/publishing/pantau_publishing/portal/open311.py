"""Open311 GeoReport v2, read-only, in JSON and XML — and only Open311 here: every answer under
``/open311/``, errors included, is in the spec's own format (``[{code, description}]`` or
``<errors>``; 404 for what does not exist, 403 for creating requests, 405 for other methods,
503 while the catalogue or the search index cannot be read, 400 for anything else), never
problem+json (that is ``/api/v1``'s). HEAD is not routed here (FastAPI's 405).

* ``/open311/discovery.{fmt}`` (also under ``/open311/v2/``): the endpoint, from
  ``PANTAU_PUBLIC_BASE_URL``.
* ``/open311/v2/services.{fmt}``, ``services/{code}.{fmt}``: a jurisdiction's catalogue.
* ``/open311/v2/requests.{fmt}``, ``requests/{id}.{fmt}``: its public case records.
* ``POST requests.{fmt}``: 403 — Pantau issues no API key; requests are made at the department.

``jurisdiction_id`` is required unless the catalogue has exactly one jurisdiction. Parameters
are taken as text and validated by ``domain.open311_query`` (so a bad one is a 400 in Open311's
format, not FastAPI's 422). The format of an error follows the path's extension; without a known
one, XML (the format the spec requires of every server).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from pantau_contracts.catalogue import Catalogue, CatalogueError, Jurisdiction, load_catalogue
from pantau_publishing.adapters.search.failures import is_transient
from pantau_publishing.domain import open311 as georeport
from pantau_publishing.domain.open311_query import (
    DEFAULT_LIMIT,
    MAX_PARAM,
    MAX_RESULT_WINDOW,
    Open311Error,
    parse_requests,
    requests_body,
    resolve_jurisdiction,
)
from pantau_publishing.portal.deps import base_url, records

router = APIRouter(prefix="/open311", tags=["open311"])
FORMATS = ("json", "xml")
STATUS_PATTERN = r"^ *(open|closed)? *(, *(open|closed)? *)*$"
_REQUESTS = re.compile(r"v2/requests\.[^/]*")
ERRORS_SCHEMA: dict[str, Any] = {"type": "array", "items": {
    "type": "object", "required": ["code", "description"],
    "properties": {"code": {"type": "integer"}, "description": {"type": "string"}}}}
ANSWER: dict[int | str, dict[str, Any]] = {
    200: {"description": "GeoReport v2 answer", "content": {
        "application/json": {"schema": {}}, "text/xml": {"schema": {"type": "string"}}}},
    **{status: {"description": text + " (Open311 errors: [{code, description}] / <errors>)",
                "content": {"application/json": {"schema": ERRORS_SCHEMA},
                            "text/xml": {"schema": {"type": "string"}}}}
       for status, text in ((400, "Missing or invalid parameter"),
                            (404, "Unknown jurisdiction, service, request or format"),
                            (503, "Catalogue or search index unavailable; see Retry-After"))}}


# one parameter object per parameter: FastAPI must not share them between parameters
def _format() -> Any:
    return Path(description="json or xml", json_schema_extra={"enum": list(FORMATS)})


# Query parameters are read from the request as text (repeats included) and validated by
# domain.open311_query, so they are described to OpenAPI here rather than declared to FastAPI
# (which would answer a bad one with its own 422).
def _query(name: str, description: str, schema: dict[str, Any] | None = None,
           required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "description": description,
            "schema": schema or {"type": "string", "maxLength": 200}}


JURISDICTION = _query(
    "jurisdiction_id", "A catalogue code such as kota-bandung; required because this endpoint "
    "serves several jurisdictions (a deployment with exactly one may leave it out)",
    {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]{0,63}$"}, required=True)
REQUESTS_PARAMS = [
    JURISDICTION,
    _query("service_request_id", "Comma-separated ids; overrides every other argument",
           {"type": "string", "maxLength": MAX_PARAM}),
    _query("service_code", "Comma-separated service codes (or repeated)"),
    _query("start_date", "W3C date-time with its offset, e.g. 2026-03-01T00:00:00+07:00 (a bare "
           "YYYY-MM-DD is that day in the jurisdiction's time zone); default: 90 days ago",
           {"type": "string", "format": "date-time"}),
    _query("end_date", "W3C date-time; at most 90 days after start_date",
           {"type": "string", "format": "date-time"}),
    _query("status", "open, closed, or both comma-separated",
           {"type": "string", "pattern": STATUS_PATTERN}),
    _query("page", "Extension: the page of page_size requests", {
        "type": "integer", "minimum": 1, "maximum": MAX_RESULT_WINDOW, "default": 1}),
    _query("page_size", "Extension: requests per answer", {
        "type": "integer", "minimum": 1, "maximum": DEFAULT_LIMIT, "default": DEFAULT_LIMIT}),
]


def _error(fmt: str, status: int, description: str,
           headers: dict[str, str] | None = None) -> Response:
    document = georeport.error(status, description)
    if fmt == "json":
        return Response(georeport.to_json(document), status, headers,
                        media_type=georeport.JSON_TYPE)
    return Response(georeport.to_xml("errors", "error", document), status, headers,
                    media_type=georeport.XML_TYPE)


def _answer(fmt: str, build: Callable[[], Response]) -> Response:
    """``build()``, or the Open311 error it raised; an unknown format is a 404 (in XML)."""
    if fmt not in FORMATS:
        return _error("xml", 404, f"format {fmt[:20]!r} is not offered: use .json or .xml")
    try:
        return build()
    except Open311Error as exc:
        return _error(fmt, exc.status, exc.description)
    except Exception as exc:  # the search index away: say so, in the client's format
        if not is_transient(exc):
            raise
        return _error(fmt, 503, "the search index is temporarily unavailable; retry later",
                      {"Retry-After": "30"})


def _list(fmt: str, root: str, item: str, rows: list[dict[str, Any]]) -> Response:
    if fmt == "json":
        return Response(georeport.to_json(rows), media_type=georeport.JSON_TYPE)
    return Response(georeport.to_xml(root, item, rows), media_type=georeport.XML_TYPE)


def _catalogue(request: Request) -> Catalogue:
    """The service catalogue, loaded once per app (``PANTAU_CATALOGUE_DIR`` or the repo's)."""
    found: Catalogue | None = getattr(request.app.state, "open311_catalogue", None)
    if found is None:
        try:
            found = load_catalogue()
        except (CatalogueError, OSError):
            raise Open311Error(503, "the service catalogue cannot be read; retry later, and "
                                    "tell the operator if it persists") from None
        request.app.state.open311_catalogue = found
    return found


def _jurisdiction(request: Request) -> Jurisdiction:
    catalogue = _catalogue(request)
    code = resolve_jurisdiction(request.query_params.get("jurisdiction_id"),
                                catalogue.jurisdictions.keys())
    return catalogue.jurisdictions[code]


@router.get("/discovery.{fmt}", summary="Open311 service discovery", response_class=Response,
            responses=ANSWER)
@router.get("/v2/discovery.{fmt}", summary="Open311 service discovery (under v2 as well)",
            response_class=Response, responses=ANSWER)
def discovery(request: Request, fmt: str = _format()) -> Response:
    def build() -> Response:
        doc = georeport.discovery(base_url(request))
        if fmt == "json":
            return Response(georeport.to_json(doc), media_type=georeport.JSON_TYPE)
        return Response(georeport.discovery_xml(doc), media_type=georeport.XML_TYPE)
    return _answer(fmt, build)


@router.get("/v2/services.{fmt}", summary="GeoReport v2 service list", response_class=Response,
            responses=ANSWER, openapi_extra={"parameters": [JURISDICTION]})
def services(request: Request, fmt: str = _format()) -> Response:
    return _answer(fmt, lambda: _list(fmt, "services", "service",
                                      georeport.services(_jurisdiction(request))))


@router.get("/v2/services/{service_code}.{fmt}", summary="GeoReport v2 service definition",
            response_class=Response, responses=ANSWER,
            openapi_extra={"parameters": [JURISDICTION]})
def service_definition(request: Request, service_code: str, fmt: str = _format()) -> Response:
    def build() -> Response:
        jurisdiction = _jurisdiction(request)
        service = jurisdiction.service(service_code)
        if service is None:
            raise Open311Error(404, f"service_code {service_code[:60]!r} was not found in "
                                    f"jurisdiction {jurisdiction.code!r}")
        document = georeport.service_definition(service)
        if fmt == "json":
            return Response(georeport.to_json(document), media_type=georeport.JSON_TYPE)
        return Response(georeport.definition_xml(document), media_type=georeport.XML_TYPE)
    return _answer(fmt, build)


@router.get("/v2/requests.{fmt}", summary="GeoReport v2 service requests",
            response_class=Response, responses=ANSWER,
            openapi_extra={"parameters": REQUESTS_PARAMS})
def requests_(request: Request, fmt: str = _format()) -> Response:
    def build() -> Response:
        jurisdiction = _jurisdiction(request)
        params = {name: request.query_params.getlist(name) for name in request.query_params}
        query = parse_requests(params, jurisdiction.code, ZoneInfo(jurisdiction.timezone),
                               datetime.now(UTC))
        rows = records(request).open311_requests(requests_body(query))
        if query.ids:  # in the order asked for
            order = {receipt: index for index, receipt in enumerate(query.ids)}
            rows.sort(key=lambda row: order.get(row["service_request_id"], len(order)))
        return _list(fmt, "service_requests", "request", rows)
    return _answer(fmt, build)


@router.post("/v2/requests.{fmt}", summary="Creating service requests is not offered",
             response_class=Response, responses={
                 403: {"description": "Read-only endpoint: no API key is issued (Open311 "
                                      "errors)", "content": ANSWER[404]["content"]},
                 404: ANSWER[404]})
def create_request(fmt: str = _format()) -> Response:
    """GeoReport answers 403 for a missing or invalid API key: this endpoint issues none."""
    return _answer(fmt, lambda: _error(
        fmt, 403, "This Open311 endpoint is read-only: no API key is issued and service "
                  "requests cannot be created here. Apply at the department (DPMPTSP, "
                  "Disdukcapil, ...); its receipt number can then be followed here."))


@router.get("/v2/requests/{service_request_id}.{fmt}", summary="One GeoReport v2 service "
            "request", response_class=Response, responses=ANSWER,
            openapi_extra={"parameters": [JURISDICTION]})
def request_one(request: Request, service_request_id: str, fmt: str = _format()) -> Response:
    def build() -> Response:
        jurisdiction = _jurisdiction(request)
        case = records(request).case(service_request_id)
        if case is None or case.jurisdiction_code != jurisdiction.code:
            raise Open311Error(404, f"service_request_id {service_request_id[:60]!r} was not "
                                    f"found in jurisdiction {jurisdiction.code!r}")
        return _list(fmt, "service_requests", "request", [georeport.service_request(case)])
    return _answer(fmt, build)


@router.api_route("/{rest:path}", include_in_schema=False,
                  methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"])
def elsewhere(request: Request, rest: str) -> Response:
    """Anything else under /open311/: 404, or 405 for another method (``Allow`` names POST
    where it is answered, with its 403), in Open311's format."""
    fmt = "json" if rest.endswith(".json") else "xml"
    if request.method != "GET":
        allow = "GET, POST" if _REQUESTS.fullmatch(rest) else "GET"
        return _error(fmt, 405, "This Open311 endpoint is read-only: only GET is offered",
                      {"Allow": allow})
    return _error(fmt, 404, f"/open311/{rest[:80]} does not exist; see "
                            "/open311/discovery.json")
