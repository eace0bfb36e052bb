"""Transparency feeds: ``/feed.atom``, ``/feed.json``, ``/feeds/jurisdiction/{code}.{fmt}``,
``/feeds/case/{receipt}.{fmt}`` and, since department and service codes repeat across
jurisdictions, ``/feeds/{department|service}/{jurisdiction}/{code}.{fmt}``. The old bare-code
URL ``/feeds/department/{code}.{fmt}`` redirects (301) when one jurisdiction has the code and
answers 300 with the choices (problem+json) when several do — a feed never merges them. Each
entry gives both clocks in the reader's language and the jurisdiction's zone
(``portal.clocks``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Path, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from pantau_publishing.domain.feeds import FEED_SCOPES, FeedInfo, atom, json_feed
from pantau_publishing.domain.places import Place
from pantau_publishing.portal import places
from pantau_publishing.portal.clocks import change_clocks
from pantau_publishing.portal.deps import base_url, records
from pantau_publishing.portal.errors import problem, problems
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


def _feed(request: Request, fmt: str, scope: str | None, code: str | None,
          jurisdiction: str | None = None) -> Response:
    if fmt not in ("atom", "json"):
        raise HTTPException(404, f"feed format {fmt!r} is not offered (atom or json)")
    if scope is not None and scope not in FEED_SCOPES:
        raise HTTPException(404, f"unknown feed scope {scope!r}")
    base = base_url(request)
    lang = language(request)
    changes = records(request).changes(scope, code.upper() if scope == "case" and code
                                       else code, jurisdiction=jurisdiction)
    if scope and code:
        what = (code.upper() if scope == "case" else
                _place_name(request, scope, code, jurisdiction, lang))
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


def _place_name(request: Request, scope: str, code: str, jurisdiction: str | None,
                lang: str) -> str:
    if scope == "jurisdiction":
        return places.place_name(request, Place(code), lang)
    owners = places.resolve(request, scope, code, jurisdiction) if jurisdiction else []
    return places.place_name(request, owners[0], lang) if owners else \
        " — ".join(p for p in (code, jurisdiction) if p)


BARE: dict[int | str, dict[str, Any]] = {
    **FEED,
    301: {"description": "One jurisdiction has this department/service code: its feed"},
    300: {"description": "Several jurisdictions share the code: the choices (problem+json, "
                         "``choices``: their feed URLs)",
          "content": {"application/problem+json": {"schema": {"type": "object"}}}}}


@router.get("/feeds/{scope}/{code}.{fmt}", summary="Status changes of one jurisdiction or case "
            "(a bare department/service code: see the jurisdiction-qualified URL)",
            response_class=Response, responses=BARE)
def scoped(request: Request,
           scope: str = Path(json_schema_extra={"enum": list(FEED_SCOPES)}),
           code: str = Path(max_length=200), fmt: str = _format()) -> Response:
    if scope in ("department", "service") and fmt in ("atom", "json"):
        owners = places.resolve(request, scope, code)
        if len(owners) == 1:
            return RedirectResponse(places.feed_url(owners[0], fmt), 301)
        if len(owners) > 1:
            choices = [places.feed_url(p, fmt) for p in owners]
            return problem(300, "Ambiguous code", f"Several jurisdictions use the {scope} code "
                           f"{code!r}; choose one of their feeds.",
                           type_="https://pantau.id/problems/ambiguous-code",
                           instance=request.url.path, parameter="jurisdiction", choices=choices)
    return _feed(request, fmt, scope, code)


@router.get("/feeds/{scope}/{jurisdiction}/{code}.{fmt}",
            summary="Status changes of one department or service of a jurisdiction",
            response_class=Response, responses=FEED)
def qualified(request: Request,
              scope: str = Path(json_schema_extra={"enum": ["department", "service"]}),
              jurisdiction: str = Path(max_length=200), code: str = Path(max_length=200),
              fmt: str = _format()) -> Response:
    if scope not in ("department", "service"):
        raise HTTPException(404, f"unknown feed scope {scope!r}")
    return _feed(request, fmt, scope, code, jurisdiction)
