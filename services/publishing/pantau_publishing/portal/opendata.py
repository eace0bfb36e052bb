"""Open data and icons: ``/data.json`` (DCAT-US 1.1 catalogue of the exports, feeds, Open311
and statistics), ``/data/dictionary/{cases,statistics}.json`` (Table Schema of their fields) and
``/favicon.ico`` (browsers ask for it on every site; a 404 logs an error in the console).

The catalogue is built from the service catalogue this process loaded (``domain.opendata``);
absolute URLs come from ``PANTAU_PUBLIC_BASE_URL``, never the request's Host. ``modified`` is the
time of the newest public change (one small query), or now when there is none yet.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path as FilePath

from fastapi import APIRouter, Path, Request
from fastapi.responses import FileResponse, JSONResponse

from pantau_publishing.domain.opendata import Publisher, catalog, dictionary
from pantau_publishing.portal import places
from pantau_publishing.portal.deps import base_url, records
from pantau_publishing.portal.errors import problem, problems

router = APIRouter(tags=["open data"])
ICON = FilePath(__file__).parent / "static" / "favicon.ico"
CACHE = {"Cache-Control": "public, max-age=300"}


def publisher(request: Request) -> Publisher:
    settings = request.app.state.settings
    return Publisher(name=str(getattr(settings, "open_data_publisher", "Pantau")),
                     contact_name=str(getattr(settings, "open_data_contact_name", "Pantau")),
                     contact_email=str(getattr(settings, "open_data_contact_email",
                                               "data@pantau.id")))


def modified(request: Request) -> datetime:
    """When the public record last changed (received time of the newest change)."""
    latest = records(request).changes(limit=1)
    stamp = (latest[0].get("received_at") or latest[0].get("at")) if latest else None
    try:
        return datetime.fromisoformat(str(stamp)) if stamp else places.now(request)
    except ValueError:
        return places.now(request)


@router.get("/data.json", summary="Open-data catalogue (DCAT-US 1.1 / Project Open Data)",
            responses=problems(503))
def data_json(request: Request) -> JSONResponse:
    document = catalog(places.standards(request).catalogue, base_url(request),
                       modified(request).astimezone(UTC), publisher(request))
    return JSONResponse(document, headers=CACHE)


@router.get("/data/dictionary/{kind}.json",
            summary="Field descriptions (Table Schema) of the case export or the statistics CSV",
            responses=problems(404, s404="No such data dictionary (cases or statistics)"))
def data_dictionary(request: Request, kind: str = Path(
        json_schema_extra={"enum": ["cases", "statistics"]})) -> JSONResponse:
    try:
        return JSONResponse(dictionary(kind, base_url(request)), headers=CACHE)
    except KeyError:  # a JSON resource answers problem+json, not the HTML 404 page
        return problem(404, "Not Found", f"no data dictionary {kind!r} (cases or statistics)",
                       instance=request.url.path)


@router.get("/favicon.ico", include_in_schema=False)
def favicon() -> FileResponse:
    return FileResponse(ICON, media_type="image/x-icon",
                        headers={"Cache-Control": "public, max-age=86400"})
