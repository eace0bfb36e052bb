"""HTML pages: search (home), case page, dashboards. Work fully without JavaScript."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from pantau_publishing.domain import stats as stats_rules
from pantau_publishing.domain.query import FACETS, SORTS, looks_like_receipt
from pantau_publishing.domain.timeline import is_late, steps
from pantau_publishing.portal.charts import bars
from pantau_publishing.portal.deps import case_query, records, url_with
from pantau_publishing.portal.i18n import translate
from pantau_publishing.portal.rendering import language, render, status_label
from pantau_publishing.service.records import UnknownScope

router = APIRouter(include_in_schema=False)


@router.get("/")
def home(request: Request) -> Response:
    query = case_query(request)
    if query.q and looks_like_receipt(query.q):
        receipt = query.q.strip().upper()
        if records(request).case(receipt) is not None:
            return RedirectResponse(f"/kasus/{receipt}", status_code=303)
    if not query.filters():
        return render(request, "home.html", changes=records(request).changes(limit=8))
    result = records(request).search(query)
    params = query.filters()
    lang = language(request)
    facet_links = {
        name: [{"label": _facet_label(name, b.value, b.label_in(lang), lang), "count": b.count,
                "url": url_with("/", params, **{name: b.value}),
                "active": params.get(name) == b.value} for b in buckets]
        for name, buckets in result.facets.items()}
    pager = {
        "prev": url_with("/", params, page=str(query.page - 1)) if query.page > 1 else None,
        "next": url_with("/", params, page=str(query.page + 1))
        if query.page < result.pages else None,
    }
    active = [{"name": name, "value": params[name], "remove": url_with("/", params, **{name: None})}
              for name in FACETS if name in params]
    return render(request, "results.html", result=result, query=query, params=params,
                  facets=facet_links, pager=pager, active=active, sorts=list(SORTS),
                  late=is_late)


def _facet_label(name: str, value: str, label: str, lang: str) -> str:
    if name == "status":
        return status_label(value, lang)
    if name == "overdue":
        return translate(lang, "yes" if value == "true" else "no")
    return label


@router.get("/kasus/{receipt_number}")
def case_page(request: Request, receipt_number: str) -> Response:
    if receipt_number != receipt_number.upper():
        return RedirectResponse(f"/kasus/{receipt_number.upper()}", status_code=301)
    case = records(request).case(receipt_number)
    if case is None:
        raise HTTPException(404, "unknown receipt number")
    return render(request, "case.html", case=case, steps=steps(case), late=is_late(case))


@router.get("/cases/{receipt_number}")
def case_redirect(receipt_number: str) -> Response:
    return RedirectResponse(f"/kasus/{receipt_number.upper()}", status_code=301)


@router.get("/dasbor")
@router.get("/dasbor/{scope}/{code}")
def dashboard(request: Request, scope: str | None = None, code: str | None = None) -> Response:
    try:
        board = records(request).dashboard(scope, code)
    except UnknownScope:
        raise HTTPException(404, "unknown dashboard scope") from None
    lang = language(request)
    group = stats_rules.BREAKDOWN[scope or ""]
    next_scope = {"jurisdiction_code": "jurisdiction", "department_code": "department",
                  "service_code": "service"}.get(group)
    what = translate(lang, {"jurisdiction_code": "jurisdiction", "department_code": "department",
                            "service_code": "service", "status": "status"}[group]).lower()
    rows = board.rows
    labels = [status_label(r.label, lang) if group == "status" else r.label_in(lang)
              for r in rows]
    chart = bars(translate(lang, "chart_completed", what=what), labels, [
        (translate(lang, "received"), [r.stats.received for r in rows]),
        (translate(lang, "completed"), [r.stats.completed for r in rows])])
    backlog_chart = bars(translate(lang, "backlog"), [k for k, _v in board.totals.backlog], [
        (translate(lang, "open"), [v for _k, v in board.totals.backlog])])
    return render(request, "dashboard.html", board=board, rows=rows, labels=labels,
                  chart=chart, backlog_chart=backlog_chart, next_scope=next_scope,
                  what=what, scope=scope, code=code)
