"""Transparency feeds: ``/feed.atom``, ``/feed.json`` and ``/feeds/{scope}/{code}.{atom|json}``
where scope is jurisdiction, department, service or case (code = receipt number). Each entry
gives both clocks in the reader's language and the jurisdiction's zone (``portal.clocks``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Path, Request
from fastapi.responses import JSONResponse, Response

from pantau_publishing.domain.feeds import FEED_SCOPES, FeedInfo, atom, json_feed
from pantau_publishing.portal.clocks import change_clocks
from pantau_publishing.portal.deps import base_url, records
from pantau_publishing.portal.errors import problems
from pantau_publishing.portal.i18n import translate
from pantau_publishing.portal.rendering import language

router = APIRouter(tags=["feeds"], responses=problems(
    404, 422, s404="Unknown format or scope (problem+json)"))
ATOM = "application/atom+xml; charset=utf-8"
JSON_FEED = "application/feed+json"
FEED: dict[int | str, dict[str, Any]] = {200: {"description": "The feed", "content": {
    "application/atom+xml": {"schema": {"type": "string"}},
    JSON_FEED: {"schema": {"type": "object"}}}}}


def _format() -> Any:  # one parameter object per parameter: FastAPI must not share them
    return Path(description="atom or json", json_schema_extra={"enum": ["atom", "json"]})


def _feed(request: Request, fmt: str, scope: str | None, code: str | None) -> Response:
    if fmt not in ("atom", "json"):
        raise HTTPException(404, f"feed format {fmt!r} is not offered (atom or json)")
    if scope is not None and scope not in FEED_SCOPES:
        raise HTTPException(404, f"unknown feed scope {scope!r}")
    base = base_url(request)
    lang = language(request)
    changes = records(request).changes(scope, code.upper() if scope == "case" and code
                                       else code)
    if scope and code:
        standards = getattr(request.app.state, "standards", None)
        named = standards.scope_name(scope, code, lang) if standards is not None else None
        what = named or (code.upper() if scope == "case" else code)
    else:
        what = "semua layanan" if lang == "id" else "all services"
    title = (f"Pantau — perubahan status: {what}" if lang == "id"
             else f"Pantau — status changes: {what}")
    info = FeedInfo(title=title, feed_url=f"{base}{request.url.path}", home_url=f"{base}/",
                    base_url=base, lang=lang, clocks=lambda change: change_clocks(change, lang),
                    late_label=translate(lang, "late_reported_badge").lower())
    if fmt == "atom":
        return Response(atom(info, changes), media_type=ATOM)
    return JSONResponse(json_feed(info, changes), media_type=JSON_FEED)


@router.get("/feed.{fmt}", summary="All public status changes (Atom or JSON Feed 1.1)",
            response_class=Response, responses=FEED)
def overall(request: Request, fmt: str = _format()) -> Response:
    return _feed(request, fmt, None, None)


@router.get("/feeds/{scope}/{code}.{fmt}", summary="Status changes of one jurisdiction, "
            "department, service or case", response_class=Response, responses=FEED)
def scoped(request: Request,
           scope: str = Path(json_schema_extra={"enum": list(FEED_SCOPES)}),
           code: str = Path(max_length=200), fmt: str = _format()) -> Response:
    return _feed(request, fmt, scope, code)
